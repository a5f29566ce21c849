"""Crawls as jobs on the queue: `crawl --queue` prints a job id per source and a `worker` process runs them into
the shared catalog; a source is never crawled by two workers at once; without DATABASE_URL both commands
refuse in one line."""

from __future__ import annotations

import pytest

from sample_site import truth
from tests.integration.scale_out.queue_helpers import (
    Proc,
    cli,
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

    worker = Proc(tmp_path, env, "worker", name="worker")
    procs.append(worker)
    worker.wait_stdout("started: 1 crawl(s) at a time from queue 'crawls'")
    wait_for(lambda: jobs(env)[0].status == "succeeded", 300, "the queued crawl")
    [run] = runs(queue_url, "directory")
    assert run.status == "ok" and run.complete and run.trigger == "manual", (run.status, run.error)
    assert_matches_truth(queue_url, site)
    assert worker.stop() == 0
    assert "worker stopped" in worker.stdout


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
