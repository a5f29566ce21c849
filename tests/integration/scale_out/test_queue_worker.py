"""Crawls as jobs on the queue: `crawl --queue` prints a job id per source and a `worker` process runs them into
the shared catalog; a source is never crawled by two workers at once; without DATABASE_URL both commands
refuse in one line."""

from __future__ import annotations

import os
import signal
import socket
import time

import psutil
import pytest

from sample_site import truth
from tests.integration.scale_out.queue_helpers import (
    Proc,
    cli,
    count_programs,
    env_settings,
    jobs,
    queue_env,
    queued_ids,
    runs,
    stored_programs,
    wait_for,
)

pytestmark = [pytest.mark.timeout(600)]

LINK_FIELDS = {"institution_unitid", "link_status", "link_confidence"}
PROGRAM_PAGES = "/cahiim/program-directory/program/"


def directory_truth(site) -> dict[str, dict]:
    return {k: v for k, v in truth.expected_items(1, base_urls=site.base_urls)["program"].items()
            if v["source"] == "directory"}


def assert_matches_truth(url: str, site) -> None:
    """The catalog's directory programs are the sample site's, field by field (linkage has its own tests)."""
    expected, stored = directory_truth(site), stored_programs(url)
    assert stored.keys() == expected.keys()
    wrong = [f"{k}.{f}" for k, fields in expected.items() for f, v in fields.items()
             if f not in LINK_FIELDS and stored[k].get(f) != v]
    assert not wrong, wrong[:20]


def test_queued_crawl_runs_on_a_worker(queue_url, fresh_sample_site, tmp_path, procs):
    site = fresh_sample_site(faults=False)
    env = queue_env(tmp_path / "data", queue_url, SAMPLE_SITE_URL=site.base_url)
    job_id = queued_ids(cli(env, "crawl", "directory", "--queue"))["directory"]
    again = cli(env, "crawl", "directory", "--queue")
    assert again.returncode == 0 and again.stdout.strip() == f"directory: already queued as job {job_id}"
    [job] = jobs(env)
    assert (job.id, job.status, job.task_kwargs) == (job_id, "todo", {"source": "directory", "trigger": "manual"})
    assert runs(queue_url) == []  # nothing ran here

    worker = Proc(tmp_path, env, "worker", "--sync-index", name="worker")
    procs.append(worker)
    worker.wait_stdout("started: 1 crawl(s) at a time from queue 'crawls'")
    wait_for(lambda: jobs(env)[0].status == "succeeded", 300, "the queued crawl")
    [run] = runs(queue_url, "directory")
    assert run.status == "ok" and run.complete and run.trigger == "manual", (run.status, run.error)
    assert_matches_truth(queue_url, site)
    # Asked to (--sync-index), the worker synced its index, as after a scheduled crawl, and recorded that on the run.
    assert run.index_sync["status"] == "ok", run.index_sync
    assert worker.stop() == 0
    assert "worker stopped" in worker.stdout


def test_a_job_whose_source_is_busy_tries_again_later(queue_url, tmp_path, procs):
    from ops.locks import hold

    env = queue_env(tmp_path / "data", queue_url, SAMPLE_SITE_URL="http://127.0.0.1:9")
    with hold(env_settings(env), "crawl-directory", purpose="crawl (manual)"):  # a person's crawl, say
        first = queued_ids(cli(env, "crawl", "directory", "--queue"))["directory"]
        worker = Proc(tmp_path, env, "worker", name="worker")
        procs.append(worker)
        done, later = wait_for(lambda: [j for j in jobs(env) if j.status != "doing"][:2] if len(jobs(env)) == 2
                               else None, 60, "the busy job handed on")
        assert (done.id, done.status, later.status) == (first, "succeeded", "todo")
        assert later.task_kwargs == {"source": "directory", "trigger": "manual"}
        assert later.scheduled_at is not None
        assert f"directory is busy (crawl-directory is already running by pid {os.getpid()}" in worker.log
        assert f"tried again as job {later.id}" in worker.log
        assert runs(queue_url) == []
    assert worker.stop() == 0


def test_without_database_url_worker_and_queue_refuse_in_one_line(tmp_path):
    env = queue_env(tmp_path / "data", "")
    for args in (("worker",), ("crawl", "directory", "--queue")):
        done = cli(env, *args)
        assert done.returncode == 1 and done.stdout == "", (args, done.stdout)
        [line] = done.stderr.splitlines()
        assert line.startswith("error: ") and "needs COLLEGESEARCH_DATABASE_URL" in line, line


def test_queue_refuses_unknown_sources_and_local_options(queue_url, tmp_path):
    env = queue_env(tmp_path / "data", queue_url)
    done = cli(env, "crawl", "directory", "nowhere", "--queue")
    assert done.returncode == 1
    assert done.stderr.startswith("error: unknown source 'nowhere'; valid sources: bls_ooh, collegenavigator, ")
    done = cli(env, "crawl", "directory", "--queue", "--base-url", "http://127.0.0.1:1")
    assert done.returncode == 1 and done.stderr.startswith("error: --base-url does not go with --queue")
    assert jobs(env) == []


def test_two_workers_never_crawl_one_source_at_once(queue_url, fresh_sample_site, tmp_path, procs):
    site = fresh_sample_site(faults=False, gate=True)
    site.gate.hold(PROGRAM_PAGES, allow=30)  # the first crawl waits half-way until the test opens the gate
    # SYNC_AFTER_CRAWL is the one-machine scheduler's: a worker without --sync-index leaves indexing to the followers.
    env = queue_env(tmp_path / "data", queue_url, SAMPLE_SITE_URL=site.base_url, SYNC_AFTER_CRAWL="true")
    procs.extend([Proc(tmp_path, env, "worker", "--concurrency", "2", name="w1"), Proc(tmp_path, env, "worker", name="w2")])
    for worker in procs:
        worker.wait_stdout("started")
    first = queued_ids(cli(env, "crawl", "directory", "--queue"))["directory"]
    running = wait_for(lambda: next((r for r in runs(queue_url, "directory") if r.status == "running"), None), 120,
                       "the first crawl under way")
    second = queued_ids(cli(env, "crawl", "directory", "--queue"))["directory"]  # the first is no longer waiting
    assert second != first
    # A person's crawl of the source is refused as well, naming the crawl that holds the source's lock.
    manual = cli(env, "crawl", "directory")
    assert manual.returncode == 1
    assert manual.stderr.startswith(f"error: cannot crawl directory: crawl-directory is already running by pid "
                                    f"{running.pid} on {socket.gethostname()} since "), manual.stderr
    time.sleep(3)  # six polls of each free worker slot: none takes the second job while the first runs
    assert [(j.id, j.status) for j in jobs(env)] == [(first, "doing"), (second, "todo")]
    assert [r.id for r in runs(queue_url, "directory") if r.status == "running"] == [running.id]
    site.gate.open()
    wait_for(lambda: [j.status for j in jobs(env)] == ["succeeded", "succeeded"], 300, "both crawls")
    one, two = runs(queue_url, "directory")
    assert one.status == two.status == "ok" and one.complete and two.complete, (one.error, two.error)
    assert two.started_at >= one.finished_at  # one after the other, never side by side
    assert one.index_sync is None and two.index_sync is None
    assert_matches_truth(queue_url, site)
    assert [w.stop() for w in procs] == [0, 0]


def test_killed_worker_job_is_retried_by_another_and_resumes(queue_url, fresh_sample_site, tmp_path, procs):
    site = fresh_sample_site(faults=False, gate=True)
    site.gate.hold(PROGRAM_PAGES, allow=40)
    env = queue_env(tmp_path / "data", queue_url, SAMPLE_SITE_URL=site.base_url)
    doomed = Proc(tmp_path, env, "worker", name="doomed")
    procs.append(doomed)
    doomed.wait_stdout("started")
    job_id = queued_ids(cli(env, "crawl", "directory", "--queue"))["directory"]
    killed = wait_for(lambda: count_programs(queue_url) >= 25 and next(
        (r for r in runs(queue_url, "directory") if r.status == "running"), None), 120, "the crawl half-way")
    rescuer = Proc(tmp_path, env, "worker", name="rescuer")
    procs.append(rescuer)
    rescuer.wait_stdout("started")

    os.kill(doomed.pid, signal.SIGKILL)  # the worker dies outright: no goodbye to the queue, no run recorded
    doomed.proc.wait(10)
    # Its crawl process died with it, and with that process its advisory lock.
    wait_for(lambda: not psutil.pid_exists(killed.pid), 10, "the crawl process gone")
    stored_at_kill = count_programs(queue_url)
    assert 25 <= stored_at_kill < len(directory_truth(site))
    site.gate.open()

    done = wait_for(lambda: next((r for r in runs(queue_url, "directory") if r.id > killed.id and r.status != "running"),
                                 None), 240, "the retried crawl")
    assert done.status == "ok" and done.complete, (done.status, done.error)
    assert killed.id in done.stats["resumed_from"] and done.stats["pages_resumed"] >= 25
    old = next(r for r in runs(queue_url, "directory") if r.id == killed.id)
    assert old.status == "interrupted" and "killed or crashed" in old.error, (old.status, old.error)
    [job] = wait_for(lambda: [j for j in jobs(env) if j.status != "doing"], 30, "the job done")
    assert (job.id, job.status, job.attempts) == (job_id, "succeeded", 2)  # the same job: the killed try, the retry
    assert f"job {job_id} (crawl directory) was left by a worker silent for over 3 s" in rescuer.log
    assert_matches_truth(queue_url, site)
    assert rescuer.stop() == 0


def test_stopped_worker_puts_its_crawl_back_for_the_next_one(queue_url, fresh_sample_site, tmp_path, procs):
    site = fresh_sample_site(faults=False, gate=True)
    site.gate.hold(PROGRAM_PAGES, allow=40)
    env = queue_env(tmp_path / "data", queue_url, SAMPLE_SITE_URL=site.base_url)
    first = Proc(tmp_path, env, "worker", name="first")
    procs.append(first)
    job_id = queued_ids(cli(env, "crawl", "directory", "--queue"))["directory"]
    stopped = wait_for(lambda: count_programs(queue_url) >= 25 and next(
        (r for r in runs(queue_url, "directory") if r.status == "running"), None), 120, "the crawl half-way")
    first.terminate()
    first.wait_stdout("stopping: running crawls finish their in-flight requests and go back on the queue")
    site.gate.refuse()  # requests waiting at the gate end at once (503) and no more program pages are served
    assert first.stop() == 0 and "worker stopped" in first.stdout
    stopped = next(r for r in runs(queue_url, "directory") if r.id == stopped.id)
    assert stopped.status == "interrupted" and "stopped by a signal" in stopped.error, (stopped.status, stopped.error)
    aborted, follow = jobs(env)
    assert (aborted.id, aborted.status) == (job_id, "aborted")
    assert (follow.status, follow.task_kwargs) == ("todo", {"source": "directory", "trigger": "manual"})
    assert f"the worker stopped, the crawl continues as job {follow.id}" in first.log

    site.gate.open()
    second = Proc(tmp_path, env, "worker", name="second")
    procs.append(second)
    wait_for(lambda: jobs(env)[-1].status == "succeeded", 240, "the crawl continued")
    done = runs(queue_url, "directory")[-1]
    assert done.status == "ok" and done.complete and stopped.id in done.stats["resumed_from"], (done.status, done.error)
    assert_matches_truth(queue_url, site)
    assert second.stop() == 0


def test_worker_needs_the_queue_tables(pg_catalog_url, tmp_path):
    done = cli(queue_env(tmp_path / "data", pg_catalog_url), "worker")
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("error: the crawl queue's tables are not in postgresql://") and line.endswith(
        "yet: run `collegesearch db upgrade` once"), line
