"""Retry policy and source health, read from the catalog's run history.

A failed run is retried after ``RETRY_BACKOFF`` seconds, doubling each time, up to ``RETRY_MAX``
retries; after that the source is reported as failing (ERROR in the log, ``collegesearch
status``, a badge in the admin) until a run succeeds. A failure never deletes anything: the
crawler only tombstones after complete crawls. Retry state lives in the run history, so a
restarted scheduler (or the next ``--once``) picks it up where it was.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from collegesearch.config import Settings
from model.sources import BUILTIN_SOURCES
from ops.cron import iso, local_time, parse_time, previous_fire
from ops.jobs import Job, ScheduleError, known_sources

if TYPE_CHECKING:
    from catalog import Run

log = logging.getLogger(__name__)

TRIGGERS: tuple[str, ...] = ("schedule", "manual", "admin", "retry", "demo")
"""Who started a run: the scheduler's cron, a person at the CLI, an admin's "crawl now", a retry, `collegesearch demo`."""
FAILED_STATUSES = frozenset({"failed", "interrupted"})
RETRYING_TRIGGERS = frozenset({"schedule", "retry"})
"""Failures of these runs are retried by the scheduler (a person's failed crawl is theirs to repeat)."""
MAX_RETRY_DELAY = 7 * 86400


def retry_delay(settings: Settings, attempt: int) -> float | None:
    """Seconds to wait before retry number ``attempt`` (1-based): RETRY_BACKOFF doubled each time.

    None once RETRY_MAX retries are used up. Capped at a week, whatever the settings.
    """
    if attempt < 1 or attempt > settings.RETRY_MAX:
        return None
    return float(min(settings.RETRY_BACKOFF * 2 ** (attempt - 1), MAX_RETRY_DELAY))


@dataclass
class SourceHealth:
    """How a source's recent runs went.

    ``state``: ``never`` ran, ``ok``, ``retrying`` (its last scheduled run failed; a retry is planned),
    ``failed`` (a person's run failed; the scheduler does not retry those) or ``failing`` (RETRY_MAX
    retries failed too).
    """

    source: str
    state: str
    consecutive_failures: int = 0
    last_run_id: int | None = None
    last_status: str | None = None
    last_trigger: str | None = None
    last_error: str | None = None
    last_finished: str | None = None
    last_ok_at: str | None = None
    failing_since: str | None = None
    running_run_id: int | None = None
    next_retry_at: str | None = None
    next_retry_attempt: int | None = None

    @property
    def retry_due(self) -> datetime | None:
        """When the planned retry may start."""
        return parse_time(self.next_retry_at)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return dict(self.__dict__)


def source_health(settings: Settings, source: str, runs: Sequence[Run]) -> SourceHealth:
    """The source's health from its runs (newest first): the failure streak and the retry it calls for."""
    health = SourceHealth(source=source, state="never")
    streak: list[Run] = []
    for run in runs:
        if run.status == "running":
            if health.running_run_id is None and not streak and health.last_run_id is None:
                health.running_run_id = run.id
            continue
        if health.last_run_id is None:
            health.last_run_id, health.last_status, health.last_trigger = run.id, run.status, run.trigger
            health.last_error, health.last_finished = run.error, run.finished_at or run.started_at
        if run.status in FAILED_STATUSES:
            if health.last_ok_at is None:
                streak.append(run)
            continue
        health.last_ok_at = run.finished_at or run.started_at
        break
    if health.last_run_id is None:
        return health
    health.consecutive_failures = len(streak)
    if not streak:
        health.state = "ok"
        return health
    health.failing_since = streak[-1].started_at
    delay = retry_delay(settings, len(streak))
    if delay is None:
        health.state = "failing"
        return health
    if streak[0].trigger not in RETRYING_TRIGGERS:
        health.state = "failed"
        return health
    health.state = "retrying"
    finished = parse_time(streak[0].finished_at or streak[0].started_at) or datetime.now(UTC)
    due = finished + timedelta(seconds=delay)
    if due.microsecond:  # whole seconds, rounded up: a retry never comes before its backoff is over
        due += timedelta(microseconds=1_000_000 - due.microsecond)
    health.next_retry_at = iso(due)
    health.next_retry_attempt = len(streak)
    return health


def due_trigger(
    settings: Settings, job: Job, runs: Sequence[Run], now: datetime, *, grace: float | None, tz: str | tzinfo,
) -> tuple[str, str] | None:
    """Whether a job should run now, as ``(trigger, why)``: a due retry, or a fire time missed since its last run.

    ``grace`` limits how late a missed fire time may still run (None: any time since the last run).
    """
    if any(run.status == "running" for run in runs[:1]):
        return None
    health = source_health(settings, job.source, runs)
    due = health.retry_due
    if due is not None and due <= now:
        return "retry", (f"retry {health.next_retry_attempt} of {settings.RETRY_MAX} after "
                         f"{health.consecutive_failures} failed run(s)")
    prev = previous_fire(job.trigger(tz), now)
    if prev is None:
        return None
    last_start = parse_time(runs[0].started_at) if runs else None
    if last_start is not None and last_start >= prev:
        return None
    late = (now - prev).total_seconds()
    if grace is not None and late > grace:
        return None
    if last_start is None:
        return "schedule", f"never crawled; scheduled {local_time(prev, tz)}"
    return "schedule", f"scheduled {local_time(prev, tz)}" + (f", {late:.0f} s late" if late >= 1 else "")


def record_failed_start(settings: Settings, sources: Sequence[str], trigger: str, reason: str) -> list[int]:
    """Record a crawl that could not start (no site, broken profile) as failed runs of the known sources.

    So the failure is seen, retried and counted like any other. A refusal because the source is
    already being crawled is not a run and is not recorded.
    """
    from catalog import Catalog, CatalogError

    if "already running" in reason:
        return []
    try:
        known = set(known_sources(settings))
    except ScheduleError:
        known = set(BUILTIN_SOURCES)
    ids = []
    try:
        with Catalog(settings.catalog_location) as cat:
            for source in dict.fromkeys(s for s in sources if s in known):
                run_id = cat.start_run(source, trigger)
                cat.finish_run(run_id, status="failed", stats={}, complete=False, error=reason)
                ids.append(run_id)
    except CatalogError:
        log.exception("could not record the failed start of %s", ", ".join(sources))
    return ids
