"""Putting crawls on the queue: one waiting job per source, and a retry planned for later gives way to a crawl
asked for now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collegesearch.config import load_settings
from ops.queue import CrawlQueue, Queued


def test_one_job_waits_per_source_and_a_later_retry_gives_way(queue_url, tmp_path):
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(tmp_path), "DATABASE_URL": queue_url})
    with CrawlQueue(settings) as queue:
        later = datetime.now(UTC) + timedelta(hours=1)
        retry = queue.defer("directory", "retry", at=later)
        assert not retry.already and retry.line() == f"directory: queued as job {retry.job_id}"
        # Another retry, or the same crawl again, finds the waiting job.
        again = queue.defer("directory", "retry", at=later + timedelta(hours=1))
        assert again == Queued("directory", retry.job_id, already=True)
        other = queue.defer("reviews", "schedule")  # other sources queue side by side
        # A scheduled crawl due now replaces the retry planned for later.
        now = queue.defer("directory", "schedule")
        assert not now.already and now.job_id not in (retry.job_id, other.job_id)
        assert queue.defer("directory", "manual").line() == f"directory: already queued as job {now.job_id}"
        states = {job.id: (job.status, job.task_kwargs["trigger"]) for job in queue.jobs()}
        assert states == {retry.job_id: ("cancelled", "retry"), other.job_id: ("todo", "schedule"),
                          now.job_id: ("todo", "schedule")}
        assert [j.id for j in queue.jobs("directory")] == [retry.job_id, now.job_id]
        assert queue.waiting("directory").id == now.job_id and queue.waiting("bls_ooh") is None
