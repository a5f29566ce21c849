"""Crawls on a schedule: ``collegesearch schedule``, the scheduler's long-running loop.

The scheduler is its own process, never part of the web server (each gunicorn worker would start
its own copy): an APScheduler 3.x ``BlockingScheduler`` with one cron job per source
(``ops.jobs``) in ``SCHEDULE_TIMEZONE``, at most one running instance per job, missed runs
coalesced and still started up to ``SCHEDULE_MISFIRE_GRACE`` seconds late.

Each crawl runs in a child process (``ops.child``). The scheduler watches it: past
``CRAWL_TIME_LIMIT`` (plus a margin, since the crawler stops itself at the limit) it sends
SIGTERM, then SIGKILL after a grace period, and records the run as failed ("time limit"); a
child that died leaves its run ``running``, which the scheduler closes as interrupted with the
reason. Then the scheduler syncs the search index itself (``ops.index_sync``), so it stays the
only scheduled index writer, and stores the sync result on the run. A failed run is retried with
backoff (``ops.policy``). SIGTERM or SIGINT stops it gracefully; a second one kills the crawls.

Overlap: crawls of one source hold its crawl lock (``ops.locks``); a trigger that finds the
source busy is logged and recorded as a ``skipped`` schedule event, never run twice.

Multi-node mode (DATABASE_URL): the timing stays, but a due crawl is put on the crawl queue
(``ops.queue``, a ``queued`` event) for ``collegesearch worker`` processes, which run it through
this same class (``ops.queue.worker.CrawlRunner``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from collegesearch.config import Settings
from ops.child import TERM_GRACE, TIME_LIMIT_MARGIN, ChildOutcome, crawl_command, start_child, supervise
from ops.cron import iso, local_time, next_fire, parse_time
from ops.index_sync import store_on_runs, sync_for_scheduler
from ops.jobs import Job, ScheduleError, scheduled_jobs
from ops.locks import SCHEDULER_LOCK, LockBusy, crawl_lock_name, locks_shared, make_lock
from ops.log_setup import setup_logging
from ops.policy import FAILED_STATUSES, due_trigger, retry_delay, source_health

if TYPE_CHECKING:
    from apscheduler.schedulers.blocking import BlockingScheduler

    from catalog import Catalog, Run
    from ops.queue.dispatch import CrawlQueue

log = logging.getLogger(__name__)

EVENT_RETENTION = timedelta(days=180)


@dataclass
class JobResult:
    """What one triggered crawl came to."""

    source: str
    trigger: str
    outcome: str
    """``ok``, ``failed``, ``interrupted`` or ``skipped``."""
    runs: list[int] = field(default_factory=list)
    reason: str | None = None
    index_sync: dict[str, Any] | None = None

    def line(self) -> str:
        """One line for people."""
        runs = ", ".join(f"#{r}" for r in self.runs)
        text = f"{self.source}: {self.outcome}" + (f" (run {runs}, {self.trigger})" if runs else f" ({self.trigger})")
        if self.reason:
            text += f": {self.reason}"
        if self.index_sync:
            text += "; " + (self.index_sync.get("summary") or f"index sync {self.index_sync.get('status')}")
        return text


class Scheduler:
    """Runs scheduled crawls as supervised child processes, syncs the index after each, retries failures."""

    def __init__(
        self,
        settings: Settings,
        *,
        echo: Callable[[str], Any] | None = None,
        command: Callable[[str, str], list[str]] | None = None,
        time_limit_margin: float = TIME_LIMIT_MARGIN,
        term_grace: float = TERM_GRACE,
    ) -> None:
        self.settings = settings
        self.echo = echo or (lambda _line: None)
        self.command = command or crawl_command
        self.time_limit = settings.CRAWL_TIME_LIMIT + time_limit_margin
        self.term_grace = term_grace
        self.tz = ZoneInfo(settings.SCHEDULE_TIMEZONE)
        self.jobs = scheduled_jobs(settings)
        self.triggers = {job.source: job.trigger(self.tz) for job in self.jobs}
        self.stopping = threading.Event()
        self.force = threading.Event()
        self._busy: dict[str, threading.Lock] = {job.source: threading.Lock() for job in self.jobs}
        self._busy_guard = threading.Lock()
        self._sync_lock = threading.Lock()
        self._children: dict[str, subprocess.Popen[Any]] = {}
        self._active = 0
        self._active_changed = threading.Condition()
        self._starting = False
        self.aps: BlockingScheduler | None = None
        self.children_die_with_me = False
        """Crawl children are killed when this process dies (a queue worker's, so a retried job never meets them)."""
        self.queue: CrawlQueue | None = None
        """Multi-node mode: due crawls go to the crawl queue (``ops.queue``) instead of running here."""

    # -- catalog helpers --

    def catalog(self) -> Catalog:
        """A fresh writable catalog connection (one per thread and use)."""
        from catalog import Catalog, CatalogError

        try:
            return Catalog(self.settings.catalog_location)
        except CatalogError as exc:
            raise ScheduleError(str(exc)) from None

    def event(self, event: str, source: str | None = None, detail: str | None = None, run_id: int | None = None) -> None:
        """Record a schedule event (never lets a catalog problem stop the scheduler)."""
        try:
            with self.catalog() as cat:
                cat.add_schedule_event(event, source=source, detail=detail, run_id=run_id)
        except Exception:  # noqa: BLE001 - the log line below is the record of last resort
            log.exception("could not record schedule event %s for %s", event, source)

    def runs_of(self, source: str, limit: int | None = None) -> list[Run]:
        """A source's latest runs, newest first (enough to see the whole retry streak)."""
        with self.catalog() as cat:
            return cat.list_runs(source, limit=limit or self.settings.RETRY_MAX + 20)

    def close_stale_runs(self) -> list[int]:
        """Runs left ``running`` by a process that died (its crawl lock is free): mark them interrupted."""
        closed: list[int] = []
        with self.catalog() as cat:
            for run in cat.running_runs():
                if make_lock(self.settings, crawl_lock_name(run.source)).owner() is not None:
                    continue  # its crawl is still going (another process holds the source's lock)
                if run.host and run.host != socket.gethostname() and not locks_shared(self.settings):
                    continue  # another machine's run: its lock is not visible from here
                cat.mark_interrupted(run.id, f"process {run.pid} on {run.host} stopped without finishing "
                                             "(killed or crashed); the next run resumes it")
                log.warning("%s: run %s was left running by dead process %s; marked interrupted",
                            run.source, run.id, run.pid, extra={"source": run.source, "run_id": run.id})
                closed.append(run.id)
        return closed

    # -- one crawl --

    def run_source(self, source: str, trigger: str = "schedule") -> JobResult:
        """Crawl one source now in a child process (unless it is busy), sync the index, plan a retry.

        In multi-node mode (``self.queue``) the crawl is queued for a worker instead.
        """
        if self.queue is not None:
            return self._queue_source(source, trigger)
        with self._active_changed:
            self._active += 1
        try:
            return self._run_source(source, trigger)
        finally:
            with self._active_changed:
                self._active -= 1
                self._active_changed.notify_all()

    def _queue_source(self, source: str, trigger: str) -> JobResult:
        """Put one source's crawl on the queue (a source already waiting there is not queued twice)."""
        assert self.queue is not None
        try:
            queued = self.queue.defer(source, trigger)
        except ScheduleError as exc:
            log.error("%s: %s trigger not queued: %s", source, trigger, exc)
            self.event("skipped", source, f"{trigger}: not queued: {exc}")
            return JobResult(source, trigger, "skipped", reason=str(exc))
        if queued.already:
            reason = f"already queued as job {queued.job_id}"
            log.info("%s: %s trigger skipped: %s", source, trigger, reason)
            self.event("skipped", source, f"{trigger}: {reason}")
            return JobResult(source, trigger, "skipped", reason=reason)
        log.info("%s: %s crawl queued as job %s", source, trigger, queued.job_id)
        self.event("queued", source, f"{trigger}: job {queued.job_id}")
        return JobResult(source, trigger, "queued", reason=f"job {queued.job_id}")

    def _run_source(self, source: str, trigger: str) -> JobResult:
        with self._busy_guard:
            busy = self._busy.setdefault(source, threading.Lock())
        if not busy.acquire(blocking=False):
            reason = "the previous run of this source is still going in this scheduler"
            log.info("%s: %s trigger skipped: %s", source, trigger, reason)
            self.event("skipped", source, f"{trigger}: {reason}")
            return JobResult(source, trigger, "skipped", reason=reason)
        try:
            if self.stopping.is_set():
                self.event("skipped", source, f"{trigger}: the scheduler is stopping")
                return JobResult(source, trigger, "skipped", reason="the scheduler is stopping")
            owner = make_lock(self.settings, crawl_lock_name(source)).owner()
            if owner is not None:
                reason = str(LockBusy(crawl_lock_name(source), owner))
                log.warning("%s: %s trigger skipped: %s", source, trigger, reason)
                self.event("skipped", source, f"{trigger}: {reason}")
                return JobResult(source, trigger, "skipped", reason=reason)
            if trigger != "retry":
                self._cancel_retry(source)
            result = self._crawl(source, trigger)
            if result.runs and self.settings.SYNC_AFTER_CRAWL:
                result.index_sync = self.sync_index(result.runs)
            self._after(result)
            return result
        finally:
            busy.release()

    def _crawl(self, source: str, trigger: str) -> JobResult:
        with self.catalog() as cat:
            newest = cat.list_runs(limit=1)
        before = newest[0].id if newest else 0
        argv = self.command(source, trigger)
        log.info("%s: starting crawl (%s): %s", source, trigger, " ".join(argv[1:]), extra={"source": source})
        proc, pump = start_child(argv, self.settings, source, die_with_parent=self.children_die_with_me)
        self._children[source] = proc
        try:
            outcome = supervise(proc, time_limit=self.time_limit, term_grace=self.term_grace, stop=self.stopping,
                                force=self.force)
        finally:
            self._children.pop(source, None)
        pump.join(10)
        outcome.output = list(pump.tail)
        return self._record(source, trigger, before, outcome)

    def _record(self, source: str, trigger: str, before: int, outcome: ChildOutcome) -> JobResult:
        """Close what the child left open and turn its exit into a run outcome."""
        how = outcome.how_it_ended(self.term_grace)
        with self.catalog() as cat:
            runs = [r for r in cat.list_runs(source, limit=50) if r.id > before and r.pid == outcome.pid]
            runs.sort(key=lambda r: r.id)
            for run in runs:
                if outcome.timed_out:
                    stats = dict(run.stats)
                    stats["resumable"] = True  # the next run picks up where this one was stopped
                    reason = (f"time limit: stopped after {outcome.seconds:.0f} s (CRAWL_TIME_LIMIT "
                              f"{self.settings.CRAWL_TIME_LIMIT} s){' and killed' if outcome.killed else ''}; "
                              "the next run resumes it")
                    if run.status != "ok":
                        cat.finish_run(run.id, status="failed", stats=stats, complete=False, error=reason)
                elif run.status == "running":
                    cat.mark_interrupted(run.id, f"crawl process {outcome.pid} {how} before the run finished; "
                                                 "the next run resumes it")
            runs = [cat.get_run(r.id) or r for r in runs]
            if not runs:
                reason = outcome.error_line or (f"crawl process {how}" + (
                    f": {outcome.output[-1]}" if outcome.output else ""))
                if outcome.error_line and "already running" in outcome.error_line:
                    log.warning("%s: %s trigger skipped: %s", source, trigger, reason)
                    cat.add_schedule_event("skipped", source=source, detail=f"{trigger}: {reason}")
                    return JobResult(source, trigger, "skipped", reason=reason)
                if outcome.stopped:
                    # Stopped with the scheduler before the crawl even began: nothing ran, nothing failed.
                    detail = f"{trigger}: the scheduler stopped before the crawl began"
                    cat.add_schedule_event("skipped", source=source, detail=detail)
                    return JobResult(source, trigger, "skipped", reason=detail)
                if outcome.returncode == 0:
                    reason = "the crawl process exited without recording a run"
                # The crawl failed before it could record a run (no site, bad profile...): record it here,
                # so the failure is seen, retried and counted like any other.
                run_id = cat.start_run(source, trigger)
                cat.finish_run(run_id, status="failed", stats={}, complete=False, error=reason)
                runs = [r for r in [cat.get_run(run_id)] if r is not None]
        last = runs[-1]
        status = "failed" if any(r.status == "failed" for r in runs) else last.status
        return JobResult(source, trigger, status, runs=[r.id for r in runs],
                         reason=next((r.error for r in reversed(runs) if r.error), None))

    def sync_index(self, run_ids: Iterable[int]) -> dict[str, Any]:
        """Sync the index (one writer at a time) and store the result on the runs."""
        with self._sync_lock:
            info = sync_for_scheduler(self.settings)
        store_on_runs(self.catalog, run_ids, info)
        return info

    def _after(self, result: JobResult) -> None:
        """Log the outcome; plan a retry with backoff, or report the source as failing."""
        if result.outcome == "ok":
            # source and run_id are fields of the JSON log line (LOG_FORMAT=json).
            log.info("%s: run %s ok", result.source, ", ".join(map(str, result.runs)),
                     extra={"source": result.source, "run_id": result.runs[-1] if result.runs else None})
            return
        if result.outcome == "skipped" or self.stopping.is_set():
            return
        health = source_health(self.settings, result.source, self.runs_of(result.source))
        if health.state == "failing":
            message = (f"{result.source} keeps failing: {health.consecutive_failures} failed runs in a row since "
                       f"{health.failing_since}, retries used up (RETRY_MAX {self.settings.RETRY_MAX}); "
                       f"last error: {health.last_error}. Its data so far stays searchable; the next scheduled "
                       f"run tries again.")
            log.error("%s", message, extra={"source": result.source, "run_id": health.last_run_id})
            self.event("failing", result.source, message, run_id=health.last_run_id)
            return
        if health.next_retry_at is None:
            return
        due = parse_time(health.next_retry_at) or datetime.now(UTC)
        backoff = retry_delay(self.settings, health.next_retry_attempt or 1) or 0.0
        detail = (f"retry {health.next_retry_attempt} of {self.settings.RETRY_MAX} at {local_time(due, self.tz)} "
                  f"({backoff:g} s backoff) after: {health.last_error}")
        log.warning("%s failed (run %s): %s", result.source, health.last_run_id, detail,
                    extra={"source": result.source, "run_id": health.last_run_id})
        self.event("retry", result.source, detail, run_id=health.last_run_id)
        self._plan_retry(result.source, due)

    def _plan_retry(self, source: str, due: datetime) -> None:
        if self.queue is not None:  # multi-node mode: the retry waits in the queue (once, whoever planned it)
            try:
                self.queue.defer(source, "retry", at=due)
            except ScheduleError as exc:
                log.error("%s: the retry could not be queued: %s", source, exc)
            return
        if self.aps is not None:
            from apscheduler.triggers.date import DateTrigger

            self.aps.add_job(self.run_source, DateTrigger(run_date=due, timezone=self.tz), args=[source, "retry"],
                             id=f"retry:{source}", name=f"retry {source}", replace_existing=True,
                             misfire_grace_time=None)

    def _cancel_retry(self, source: str) -> None:
        if self.aps is not None:
            from apscheduler.jobstores.base import JobLookupError

            with contextlib.suppress(JobLookupError):
                self.aps.remove_job(f"retry:{source}")

    # -- the two ways to run --

    def due_jobs(self, now: datetime, grace: float | None) -> list[tuple[Job, str, str]]:
        """Jobs that should run now: ``(job, trigger, why)``."""
        due = []
        for job in self.jobs:
            found = due_trigger(self.settings, job, self.runs_of(job.source), now, grace=grace, tz=self.tz)
            if found is not None:
                due.append((job, *found))
        return due

    def run_once(self) -> list[JobResult]:
        """Run every due job one after another (a never-crawled source is due), then return."""
        results = []
        for job, trigger, why in self.due_jobs(datetime.now(UTC), grace=None):
            if self.stopping.is_set():
                break
            self.echo(f"{job.source}: {why}; {'queueing' if self.queue is not None else 'crawling'}")
            result = self.run_source(job.source, trigger)
            self.echo(result.line())
            results.append(result)
        if not results:
            self.echo("nothing is due; next runs: " + "; ".join(
                f"{job.source} {local_time(next_fire(self.triggers[job.source], datetime.now(UTC)), self.tz)}"
                for job in self.jobs))
        return results

    def run_forever(self) -> None:
        """Run the BlockingScheduler until SIGTERM/SIGINT; then stop children gracefully and return."""
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.blocking import BlockingScheduler

        grace = self.settings.SCHEDULE_MISFIRE_GRACE
        self.aps = BlockingScheduler(
            timezone=self.tz,
            executors={"default": ThreadPoolExecutor(max(4, len(self.jobs) * 2))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
        )
        self.aps.add_listener(self._on_aps_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        now = datetime.now(UTC)
        for job in self.jobs:
            self.aps.add_job(self.run_source, self.triggers[job.source], args=[job.source, "schedule"],
                             id=f"crawl:{job.source}", name=f"crawl {job.source} ({job.cron})")
        # What happened while no scheduler ran: a fire time missed within the grace, or a retry due.
        for job in self.jobs:
            runs = self.runs_of(job.source)
            found = due_trigger(self.settings, job, runs, now, grace=grace, tz=self.tz)
            health = source_health(self.settings, job.source, runs)
            if found is not None:
                trigger, why = found
                self.echo(f"{job.source}: {why}; starting now")
                self.aps.add_job(self.run_source, "date", run_date=now, args=[job.source, trigger],
                                 id=f"catchup:{job.source}", name=f"catch up {job.source}", misfire_grace_time=None)
            elif health.next_retry_at is not None and health.retry_due is not None:
                self.echo(f"{job.source}: retry {health.next_retry_attempt} planned at {local_time(health.retry_due, self.tz)}")
                self._plan_retry(job.source, health.retry_due)
            elif health.state == "failing":
                log.error("%s keeps failing: %s failed runs in a row; last error: %s", job.source,
                          health.consecutive_failures, health.last_error)
        for job in self.jobs:
            self.echo(f"{job.source}: {job.cron} ({self.settings.SCHEDULE_TIMEZONE}); next run "
                      f"{local_time(next_fire(self.triggers[job.source], now), self.tz)}")
        with self._signals(on_first=self._shutdown_soon):
            try:
                self._starting = True  # before the check: a signal from here on waits for start() to stop it
                if not self.stopping.is_set():
                    self.aps.start()  # returns once _shutdown_soon() has shut the scheduler down
            finally:
                self.stopping.set()
                if self.aps.running:
                    self.aps.shutdown(wait=False)
                if self._active:
                    self.echo("stopping: waiting for running crawls to finish their in-flight requests")
                # The job threads' children got SIGTERM from supervise(); wait for them to be recorded.
                with self._active_changed:
                    self._active_changed.wait_for(lambda: self._active == 0)

    def _shutdown_soon(self) -> None:
        # Called from the signal handler: shut APScheduler down from another thread, so nothing runs
        # inside the handler while the main thread may hold the scheduler's locks. (Raising out of
        # the handler does not work: APScheduler swallows exceptions raised in its listeners.)
        from apscheduler.schedulers import SchedulerNotRunningError

        assert self.aps is not None
        aps = self.aps

        def stop() -> None:
            for _ in range(600):  # a signal during start-up: wait until there is something to shut down
                try:
                    aps.shutdown(wait=False)
                    return
                except SchedulerNotRunningError:
                    if not self._starting:
                        return
                    time.sleep(0.05)

        threading.Thread(target=stop, name="scheduler-shutdown", daemon=True).start()

    def _on_aps_event(self, event: Any) -> None:
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES

        source = str(event.job_id).split(":", 1)[-1]
        if event.code == EVENT_JOB_MAX_INSTANCES:
            detail = "schedule: the previous run is still going (max_instances=1)"
        else:
            detail = f"schedule: missed the fire time {event.scheduled_run_time} by more than SCHEDULE_MISFIRE_GRACE"
        log.warning("%s: trigger skipped: %s", source, detail)
        self.event("skipped", source, detail)

    @contextlib.contextmanager
    def _signals(self, *, on_first: Callable[[], None] | None = None) -> Any:
        """SIGTERM/SIGINT: first stop gracefully (children get SIGTERM), a second one kills the children."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, _frame: Any) -> None:
            if self.stopping.is_set():
                log.warning("second %s: killing running crawls", signal.Signals(signum).name)
                self.force.set()
                return
            log.info("%s received: stopping after the running crawls stop", signal.Signals(signum).name)
            self.stopping.set()
            if on_first is not None:
                on_first()

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    def once_with_signals(self) -> list[JobResult]:
        """``run_once`` with graceful SIGTERM/SIGINT handling."""
        with self._signals():
            return self.run_once()


def run_scheduler(settings: Settings, once: bool = False, echo: Callable[[str], Any] | None = None) -> list[JobResult]:
    """``collegesearch schedule``: run the scheduler (``once``: every due job, then return).

    Raises ScheduleError when nothing is scheduled, a schedule is invalid, another scheduler
    runs, or (``once``) some crawl failed.
    """
    say = echo or (lambda line: print(line, flush=True))
    setup_logging(settings.LOG_LEVEL, settings.LOG_FORMAT)
    scheduler = Scheduler(settings, echo=say)
    if not scheduler.jobs:
        raise ScheduleError("nothing is scheduled: set COLLEGESEARCH_SCHEDULE_<SOURCE> for a source listed in "
                            "COLLEGESEARCH_SOURCES, or give a site profile a 'schedule'")
    lock = make_lock(settings, SCHEDULER_LOCK)
    try:
        lock.acquire(purpose="schedule --once" if once else "schedule")
    except LockBusy as exc:
        raise ScheduleError(f"another scheduler is running: {exc}") from None
    try:
        if settings.DATABASE_URL:
            from ops.queue.dispatch import CrawlQueue

            scheduler.queue = CrawlQueue(settings)  # due crawls go to the workers
        scheduler.close_stale_runs()
        with scheduler.catalog() as cat:
            cat.prune_schedule_events(iso(datetime.now(UTC) - EVENT_RETENTION) or "")
        mode = "once" if once else "forever"
        scheduler.event("started", detail=f"pid {os.getpid()} on {socket.gethostname()} ({mode}); jobs: "
                        + ", ".join(f"{j.source} '{j.cron}'" for j in scheduler.jobs))
        say(f"scheduler {'(once)' if once else 'started'}: {len(scheduler.jobs)} job(s), time zone "
            f"{settings.SCHEDULE_TIMEZONE}")
        if once:
            results = scheduler.once_with_signals()
        else:
            scheduler.run_forever()
            results = []
        scheduler.event("stopped", detail=f"pid {os.getpid()}" + (" (signal)" if scheduler.stopping.is_set() else ""))
    finally:
        if scheduler.queue is not None:
            scheduler.queue.close()
        lock.release()
    if not once:
        say("scheduler stopped")
    failed = [r for r in results if r.outcome in FAILED_STATUSES]
    if failed:
        raise ScheduleError(f"{len(failed)} of {len(results)} crawl(s) failed: "
                            + "; ".join(f"{r.source} ({r.reason})" for r in failed))
    return results
