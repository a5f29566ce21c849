"""`collegesearch schedule` with DATABASE_URL: due crawls go on the queue instead of running in the scheduler,
and one scheduler runs per deployment (an advisory lock; a second one is refused, naming the first)."""

from __future__ import annotations

import socket

import pytest

from tests.integration.scale_out.queue_helpers import Proc, cli, events, jobs, queue_env, runs, wait_for
from tests.integration.schedule.schedule_helpers import free_port_url, soon

pytestmark = [pytest.mark.timeout(300)]


def test_schedule_queues_due_crawls_and_a_second_scheduler_is_refused(queue_url, tmp_path, procs):
    # No worker runs and no site answers: whatever the scheduler does, it crawls nothing itself.
    env = queue_env(tmp_path / "data", queue_url, SCHEDULE_DIRECTORY=soon(3), SAMPLE_SITE_URL=free_port_url())
    scheduler = Proc(tmp_path, env, "schedule", name="scheduler")
    procs.append(scheduler)
    scheduler.wait_stdout("scheduler started: 1 job(s)")

    second = cli(env, "schedule")
    assert second.returncode == 1
    [line] = second.stderr.splitlines()
    assert line.startswith(f"error: another scheduler is running: scheduler is already running by pid {scheduler.pid} "
                           f"on {socket.gethostname()} since "), line
    assert line.endswith("(schedule); wait for it to finish"), line

    [job] = wait_for(lambda: jobs(env), 30, "the due crawl queued")
    assert (job.status, job.task_kwargs) == ("todo", {"source": "directory", "trigger": "schedule"})
    assert job.lock == job.queueing_lock == "crawl-directory"
    [queued] = wait_for(lambda: events(queue_url, "directory", "queued"), 10, "the queued event")
    assert queued.detail == f"schedule: job {job.id}"
    assert scheduler.stop() == 0 and "scheduler stopped" in scheduler.stdout
    assert runs(queue_url) == []

    # The lock went with the scheduler: `schedule --once` may run now. The never-crawled source is due, but its
    # crawl already waits in the queue, so nothing is added.
    once = cli(env, "schedule", "--once")
    assert once.returncode == 0, once.stderr[-3000:]
    assert "directory: never crawled; scheduled " in once.stdout and "; queueing" in once.stdout
    assert f"directory: skipped (schedule): already queued as job {job.id}" in once.stdout
    assert [j.id for j in jobs(env)] == [job.id] and runs(queue_url) == []
