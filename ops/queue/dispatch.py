"""Putting crawls on the queue: ``collegesearch crawl --queue``, the scheduler in multi-node mode, planned retries.

At most one job of a source waits at a time (procrastinate's queueing lock): asking again while
one waits names that job instead of adding another. A retry planned for later gives way to a
crawl asked for now, which takes its place.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from collegesearch.config import Settings
from ops.jobs import known_sources
from ops.locks import crawl_lock_name
from ops.queue.app import QUEUE, TASK, QueueError, check_queue, database_url, queue_app

if TYPE_CHECKING:
    from procrastinate import App
    from procrastinate.jobs import Job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Queued:
    """A crawl on the queue: its job id, and whether it was already waiting there."""

    source: str
    job_id: int
    already: bool = False

    def line(self) -> str:
        """One line for people: ``directory: queued as job 12``."""
        return f"{self.source}: {'already queued' if self.already else 'queued'} as job {self.job_id}"


class CrawlQueue:
    """The crawl queue as those who add to it see it (one sync connection pool; ``close()`` when done)."""

    def __init__(self, settings: Settings, what: str = "the crawl queue") -> None:
        from procrastinate import exceptions

        check_queue(settings, what)
        self.settings = settings
        self.app: App = queue_app(settings, pool_size=2, name="collegesearch queue client")
        try:
            self.app.open()
        except exceptions.ConnectorException as exc:
            raise QueueError(f"cannot open the crawl queue: {_first_line(exc)}") from None

    def close(self) -> None:
        """Close the connection pool."""
        self.app.close()

    def __enter__(self) -> CrawlQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def defer(self, source: str, trigger: str, at: datetime | None = None) -> Queued:
        """Queue a crawl of ``source`` (at ``at``, or as soon as a worker is free); QueueError if the database refuses."""
        from procrastinate import exceptions

        try:
            try:
                return Queued(source, self._defer(source, trigger, at))
            except exceptions.AlreadyEnqueued:
                pass
            waiting = self.waiting(source)
            if waiting is not None and self._gives_way(waiting, trigger, at):
                assert waiting.id is not None
                if self.app.job_manager.cancel_job_by_id(waiting.id):
                    log.info("%s: the retry planned as job %s gives way to a %s crawl now", source, waiting.id, trigger)
                    return Queued(source, self._defer(source, trigger, at))
            return Queued(source, (waiting.id or 0) if waiting is not None else 0, already=True)
        except exceptions.AlreadyEnqueued:  # another process queued one in between
            waiting = self.waiting(source)
            return Queued(source, (waiting.id or 0) if waiting is not None else 0, already=True)
        except exceptions.ConnectorException as exc:
            raise QueueError(f"cannot queue a crawl of {source}: {_first_line(exc)}") from None

    def _defer(self, source: str, trigger: str, at: datetime | None) -> int:
        lock = crawl_lock_name(source)
        deferrer = self.app.configure_task(TASK, queue=QUEUE, lock=lock, queueing_lock=lock, schedule_at=at)
        return int(deferrer.defer(source=source, trigger=trigger))

    @staticmethod
    def _gives_way(waiting: Job, trigger: str, at: datetime | None) -> bool:
        """A retry waiting for a later time gives way to a crawl that is not a retry and wants to run sooner."""
        planned = waiting.scheduled_at
        now = datetime.now(UTC)
        return (trigger != "retry" and waiting.task_kwargs.get("trigger") == "retry" and planned is not None
                and planned > now and (at is None or at < planned))

    def waiting(self, source: str) -> Job | None:
        """The job of ``source`` waiting in the queue, if one is."""
        jobs = self.app.job_manager.list_jobs(queue=QUEUE, queueing_lock=crawl_lock_name(source), status="todo")
        return jobs[0] if jobs else None

    def jobs(self, source: str | None = None) -> list[Job]:
        """Every crawl job (of one source), oldest first: waiting, running, and done ones still in the table."""
        lock = crawl_lock_name(source) if source else None
        found = self.app.job_manager.list_jobs(queue=QUEUE, task=TASK, lock=lock)
        return sorted(found, key=lambda job: job.id or 0)


def queue_crawls(settings: Settings, sources: Sequence[str], trigger: str = "manual", *,
                 base_url: str | None = None, sync: bool = False) -> list[Queued]:
    """``collegesearch crawl SOURCE... --queue``: one job per source (QueueError for anything amiss)."""
    database_url(settings, "crawl --queue")
    if base_url:
        raise QueueError("--base-url does not go with --queue: workers crawl the site at their own "
                         "COLLEGESEARCH_SAMPLE_SITE_URL")
    if sync:
        raise QueueError("--sync does not go with --queue: each web node's `index follow` indexes what the "
                         "workers crawl (or start the worker with --sync-index)")
    known = known_sources(settings)
    unknown = [s for s in sources if s not in known]
    if unknown:
        raise QueueError(f"unknown source{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                         f"valid sources: {', '.join(known)}")
    with CrawlQueue(settings, "crawl --queue") as queue:
        return [queue.defer(source, trigger) for source in dict.fromkeys(sources)]


def _first_line(exc: Any) -> str:
    cause = exc.__cause__ or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]
