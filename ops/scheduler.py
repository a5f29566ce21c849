"""Crawls on a schedule: ``collegesearch schedule`` (the scheduler) and ``collegesearch status``.

The scheduler is its own long-running process, never part of the web server (each gunicorn
worker would start its own copy): an APScheduler 3.x ``BlockingScheduler`` with one cron job per
source (``SCHEDULE_<SOURCE>`` in config, or a site profile's ``schedule``) in
``SCHEDULE_TIMEZONE``, at most one running instance per job, missed runs coalesced and still
started up to ``SCHEDULE_MISFIRE_GRACE`` seconds late.

Each crawl runs in a child process (``collegesearch crawl SOURCE --trigger schedule``), because
Twisted's reactor cannot be restarted in one process. The scheduler watches it: past
``CRAWL_TIME_LIMIT`` (plus a margin, since the crawler stops itself at the limit) it sends
SIGTERM, then SIGKILL after a grace period, and records the run as failed ("time limit"); a
child that died leaves its run ``running``, which the scheduler closes as interrupted with the
reason. Then the scheduler syncs the search index itself, so it stays the only scheduled index
writer, and stores the sync result on the run.

A failed run is retried after ``RETRY_BACKOFF`` seconds, doubling each time, up to ``RETRY_MAX``
retries; after that the source is reported as failing (ERROR in the log, ``collegesearch
status``, a badge in the admin) until a run succeeds. A failure never deletes anything: the
crawler only tombstones after complete crawls. Retry state lives in the catalog's run history,
so a restarted scheduler (or the next ``--once``) picks it up where it was.

Overlap: crawls of one source hold its crawl lock (``ops.locks``); a trigger that finds the
source busy is logged and recorded as a ``skipped`` schedule event, never run twice.

No Scrapy import here (the web app imports this module for status and "crawl now").
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from collegesearch.config import ENV_PREFIX, SETTINGS, Settings, cron_fields

if TYPE_CHECKING:
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    from catalog import Catalog, Run

log = logging.getLogger(__name__)
child_log = logging.getLogger("ops.schedule.child")

ROOT = Path(__file__).resolve().parents[1]

TRIGGERS: tuple[str, ...] = ("schedule", "manual", "admin", "retry", "demo")
"""Who started a run: the scheduler's cron, a person at the CLI, an admin's "crawl now", a retry, `collegesearch demo`."""
SCHEDULER_LOCK = "scheduler"
FAILED_STATUSES = frozenset({"failed", "interrupted"})
RETRYING_TRIGGERS = frozenset({"schedule", "retry"})
"""Failures of these runs are retried by the scheduler (a person's failed crawl is theirs to repeat)."""

TIME_LIMIT_MARGIN = 60.0
"""Seconds past CRAWL_TIME_LIMIT before the scheduler stops a child: the crawler stops itself at the
limit (Scrapy's CLOSESPIDER_TIMEOUT) and records its stats; this is for a child that hangs."""
TERM_GRACE = 45.0
"""Seconds a child has after SIGTERM to finish its in-flight requests before SIGKILL."""
SYNC_LOCK_TIMEOUT = 300.0
"""Seconds the scheduler waits for another index writer (an admin's sync, `index rebuild`)."""
MAX_RETRY_DELAY = 7 * 86400
EVENT_RETENTION = timedelta(days=180)
OUTPUT_TAIL = 60


class ScheduleError(RuntimeError):
    """The scheduler cannot start or a status cannot be read; the message says what to fix."""


# -- jobs and cron ------------------------------------------------------------------------------

def parse_cron(expr: str, timezone: str | tzinfo) -> CronTrigger:
    """A cron trigger from 5 fields (minute hour day month weekday) or 6 (seconds first), in a time zone.

    Weekdays follow crontab (0 or 7 is Sunday). Raises ScheduleError with the reason.
    """
    from apscheduler.triggers.cron import CronTrigger

    tz = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    fields = (expr or "").split()
    if len(fields) not in (5, 6):
        raise ScheduleError(f"{expr!r} is not a cron expression: give five fields (minute hour day month "
                            "weekday) or six with seconds first")
    try:
        return CronTrigger(**cron_fields(expr), timezone=tz)
    except ValueError as exc:
        raise ScheduleError(f"{expr!r} is not a valid cron expression: {exc}") from None


@dataclass(frozen=True)
class Job:
    """One source's schedule."""

    source: str
    cron: str
    origin: str
    """Where the schedule is configured (the setting's environment variable, or the sites file)."""

    def trigger(self, timezone: str | tzinfo) -> CronTrigger:
        """The cron trigger in a time zone (ScheduleError names the setting when the cron is bad)."""
        try:
            return parse_cron(self.cron, timezone)
        except ScheduleError as exc:
            raise ScheduleError(f"{self.origin}: {exc}") from None


def builtin_sources() -> tuple[str, ...]:
    """The built-in sources (without importing Scrapy)."""
    from model.sources import BUILTIN_SOURCES

    return BUILTIN_SOURCES


def user_profiles(settings: Settings) -> dict[str, Any]:
    """Site profiles from SITES_FILE (ScheduleError when the file is broken)."""
    from crawler.profiles import ProfileError, load_site_profiles

    try:
        return dict(load_site_profiles(settings))
    except ProfileError as exc:
        raise ScheduleError(str(exc)) from None


def known_sources(settings: Settings) -> list[str]:
    """Every source a crawl may name: built-ins, then the user's site profiles."""
    names = list(builtin_sources())
    names += [n for n in user_profiles(settings) if n not in names]
    return names


def scheduled_jobs(settings: Settings) -> list[Job]:
    """The jobs: built-in sources enabled in SOURCES with a SCHEDULE_<SOURCE>, and profiles with a schedule."""
    jobs: list[Job] = []
    for source in builtin_sources():
        cron = settings.schedule_for(source)
        if cron and source in settings.SOURCES:
            jobs.append(Job(source, cron, f"{ENV_PREFIX}SCHEDULE_{source.upper()}"))
    for name, profile in user_profiles(settings).items():
        if getattr(profile, "schedule", None):
            jobs.append(Job(name, profile.schedule, f"site {name!r} in {settings.SITES_FILE}"))
    return jobs


def next_fire(trigger: CronTrigger, after: datetime) -> datetime | None:
    """The first fire time at or after ``after`` (None when the trigger never fires again)."""
    fire: datetime | None = trigger.get_next_fire_time(None, after)
    return fire


def previous_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest fire time at or before ``now`` within five years (None if there is none)."""
    # APScheduler only looks forward: find a window that holds a fire time, then bisect to
    # the last one (fire times are whole seconds), so even per-second crons take ~40 steps.
    for span in (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1), timedelta(days=32),
                 timedelta(days=367), timedelta(days=5 * 366)):
        lo = now - span
        first = next_fire(trigger, lo)
        if first is None or first > now:
            continue
        hi = now
        while hi - lo > timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            candidate = next_fire(trigger, mid)
            if candidate is not None and candidate <= now:
                lo = mid
            else:
                hi = mid
        best = next_fire(trigger, lo)
        assert best is not None
        following = next_fire(trigger, best + timedelta(seconds=1))
        while following is not None and following <= now:
            best = following
            following = next_fire(trigger, best + timedelta(seconds=1))
        return best
    return None


# -- retries and health ---------------------------------------------------------------------------


def retry_delay(settings: Settings, attempt: int) -> float | None:
    """Seconds to wait before retry number ``attempt`` (1-based): RETRY_BACKOFF doubled each time.

    None once RETRY_MAX retries are used up. Capped at a week, whatever the settings.
    """
    if attempt < 1 or attempt > settings.RETRY_MAX:
        return None
    return float(min(settings.RETRY_BACKOFF * 2 ** (attempt - 1), MAX_RETRY_DELAY))


def parse_time(text: str | None) -> datetime | None:
    """An ISO timestamp from the catalog as an aware UTC datetime (None when missing or unreadable)."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    """A datetime as ISO 8601 in UTC with a Z (None stays None)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


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
        return "schedule", f"never crawled; scheduled {_local(prev, tz)}"
    return "schedule", f"scheduled {_local(prev, tz)}" + (f", {late:.0f} s late" if late >= 1 else "")


def _local(moment: datetime | None, tz: str | tzinfo) -> str:
    if moment is None:
        return "never"
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return moment.astimezone(zone).strftime("%a %Y-%m-%d %H:%M:%S %Z")


# -- child processes -----------------------------------------------------------------------------


def settings_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment that gives a child process exactly these settings (and finds this project)."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith(ENV_PREFIX)}
    for setting in SETTINGS:
        value = getattr(settings, setting.name)
        if value is None:
            text = ""
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, tuple):
            text = ",".join(value)
        else:
            text = str(value)
        env[setting.env] = text
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def crawl_command(source: str, trigger: str, *, sync: bool = False) -> list[str]:
    """The command line of a crawl child: ``collegesearch crawl SOURCE --trigger T`` run by this Python."""
    argv = [sys.executable, "-m", "collegesearch", "crawl", source, "--trigger", trigger]
    return argv + (["--sync"] if sync else [])


@dataclass
class ChildOutcome:
    """How a supervised child process ended."""

    pid: int
    returncode: int | None
    seconds: float
    timed_out: bool = False
    stopped: bool = False
    """The scheduler was shutting down and asked the child to stop."""
    killed: bool = False
    """The child did not stop after SIGTERM and was killed."""
    output: list[str] = field(default_factory=list)

    @property
    def signal_name(self) -> str | None:
        """The signal that ended the child, if one did."""
        if self.returncode is not None and self.returncode < 0:
            try:
                return signal.Signals(-self.returncode).name
            except ValueError:
                return f"signal {-self.returncode}"
        return None

    @property
    def error_line(self) -> str | None:
        """The child's last ``error:`` line (what the CLI says went wrong)."""
        for line in reversed(self.output):
            if line.startswith("error: "):
                return line[len("error: "):]
        return None


def _signal_group(proc: subprocess.Popen[Any], sig: int) -> None:
    # The child leads its own session: signal the group, so anything it started stops too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            proc.send_signal(sig)


def supervise(
    proc: subprocess.Popen[Any],
    *,
    time_limit: float,
    term_grace: float,
    stop: threading.Event | None = None,
    force: threading.Event | None = None,
    poll: float = 0.2,
) -> ChildOutcome:
    """Wait for a child: SIGTERM past ``time_limit`` or on ``stop``, SIGKILL ``term_grace`` s later or on ``force``."""
    started = time.monotonic()
    deadline = started + time_limit
    outcome = ChildOutcome(pid=proc.pid, returncode=None, seconds=0.0)
    term_sent: float | None = None
    while True:
        try:
            proc.wait(timeout=poll)
            break
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if term_sent is None and (now >= deadline or (stop is not None and stop.is_set())):
            outcome.timed_out = now >= deadline
            outcome.stopped = not outcome.timed_out
            log.warning("crawl process %s: %s; sending SIGTERM (it has %.0f s to finish its requests)", proc.pid,
                        f"time limit of {time_limit:.0f} s reached" if outcome.timed_out else "scheduler stopping",
                        term_grace)
            _signal_group(proc, signal.SIGTERM)
            term_sent = now
        elif term_sent is not None and (now >= term_sent + term_grace or (force is not None and force.is_set())):
            if not outcome.killed:
                log.error("crawl process %s did not stop after SIGTERM; killing it", proc.pid)
                _signal_group(proc, signal.SIGKILL)
                outcome.killed = True
    outcome.returncode = proc.returncode
    outcome.seconds = time.monotonic() - started
    return outcome


class _OutputPump(threading.Thread):
    """Copies a child's output into the scheduler's log, keeping the last lines for error reasons."""

    def __init__(self, stream: Any, prefix: str) -> None:
        super().__init__(name=f"output-{prefix}", daemon=True)
        self.stream = stream
        self.prefix = prefix
        self.tail: deque[str] = deque(maxlen=OUTPUT_TAIL)

    def run(self) -> None:
        for raw in self.stream:
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            self.tail.append(line)
            child_log.info("[%s] %s", self.prefix, line)
        self.stream.close()


# -- the scheduler ---------------------------------------------------------------------------------


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

    # -- catalog helpers --

    def catalog(self) -> Catalog:
        """A fresh writable catalog connection (one per thread and use)."""
        from catalog import Catalog, CatalogError

        try:
            return Catalog(self.settings.catalog_path)
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
        from ops.locks import crawl_lock_name, make_lock

        closed: list[int] = []
        with self.catalog() as cat:
            for run in cat.running_runs():
                if make_lock(self.settings, crawl_lock_name(run.source)).owner() is not None:
                    continue  # its crawl is still going (another process holds the source's lock)
                if run.host and run.host != _hostname() and not self.settings.REDIS_URL:
                    continue  # another machine's run: its lock is not visible from here
                cat.mark_interrupted(run.id, f"process {run.pid} on {run.host} stopped without finishing "
                                             "(killed or crashed); the next run resumes it")
                log.warning("%s: run %s was left running by dead process %s; marked interrupted",
                            run.source, run.id, run.pid)
                closed.append(run.id)
        return closed

    # -- one crawl --

    def run_source(self, source: str, trigger: str = "schedule") -> JobResult:
        """Crawl one source now in a child process (unless it is busy), sync the index, plan a retry."""
        with self._active_changed:
            self._active += 1
        try:
            return self._run_source(source, trigger)
        finally:
            with self._active_changed:
                self._active -= 1
                self._active_changed.notify_all()

    def _run_source(self, source: str, trigger: str) -> JobResult:
        from ops.locks import LockBusy, crawl_lock_name, make_lock

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
        log.info("%s: starting crawl (%s): %s", source, trigger, " ".join(argv[1:]))
        proc = subprocess.Popen(argv, env=settings_env(self.settings), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                                start_new_session=True)
        self._children[source] = proc
        pump = _OutputPump(proc.stdout, source)
        pump.start()
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
        how = _how_it_ended(outcome, self.term_grace)
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
        from indexer.build import IndexError_, sync

        with self._sync_lock:
            started = datetime.now(UTC)
            try:
                result = sync(self.settings, lock_timeout=SYNC_LOCK_TIMEOUT,
                              progress=lambda msg: log.info("index: %s", msg))
                info: dict[str, Any] = {"status": "ok", **result.to_dict(), "summary": result.summary()}
                log.info("%s", result.summary())
            except IndexError_ as exc:
                info = {"status": "failed", "error": str(exc)}
                log.error("index sync after the crawl failed: %s", exc)
            except Exception as exc:  # noqa: BLE001 - a broken sync must not stop the scheduler
                log.exception("index sync after the crawl failed")
                info = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            info["at"] = iso(started)
        with self.catalog() as cat:
            for run_id in run_ids:
                cat.set_run_index_sync(run_id, info)
        return info

    def _after(self, result: JobResult) -> None:
        """Log the outcome; plan a retry with backoff, or report the source as failing."""
        if result.outcome == "ok":
            log.info("%s: run %s ok", result.source, ", ".join(map(str, result.runs)))
            return
        if result.outcome == "skipped" or self.stopping.is_set():
            return
        health = source_health(self.settings, result.source, self.runs_of(result.source))
        if health.state == "failing":
            message = (f"{result.source} keeps failing: {health.consecutive_failures} failed runs in a row since "
                       f"{health.failing_since}, retries used up (RETRY_MAX {self.settings.RETRY_MAX}); "
                       f"last error: {health.last_error}. Its data so far stays searchable; the next scheduled "
                       f"run tries again.")
            log.error("%s", message)
            self.event("failing", result.source, message, run_id=health.last_run_id)
            return
        if health.next_retry_at is None:
            return
        due = parse_time(health.next_retry_at) or datetime.now(UTC)
        backoff = retry_delay(self.settings, health.next_retry_attempt or 1) or 0.0
        detail = (f"retry {health.next_retry_attempt} of {self.settings.RETRY_MAX} at {_local(due, self.tz)} "
                  f"({backoff:g} s backoff) after: {health.last_error}")
        log.warning("%s failed (run %s): %s", result.source, health.last_run_id, detail)
        self.event("retry", result.source, detail, run_id=health.last_run_id)
        self._plan_retry(result.source, due)

    def _plan_retry(self, source: str, due: datetime) -> None:
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
            self.echo(f"{job.source}: {why}; crawling")
            result = self.run_source(job.source, trigger)
            self.echo(result.line())
            results.append(result)
        if not results:
            self.echo("nothing is due; next runs: " + "; ".join(
                f"{job.source} {_local(next_fire(self.triggers[job.source], datetime.now(UTC)), self.tz)}"
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
                self.echo(f"{job.source}: retry {health.next_retry_attempt} planned at {_local(health.retry_due, self.tz)}")
                self._plan_retry(job.source, health.retry_due)
            elif health.state == "failing":
                log.error("%s keeps failing: %s failed runs in a row; last error: %s", job.source,
                          health.consecutive_failures, health.last_error)
        for job in self.jobs:
            self.echo(f"{job.source}: {job.cron} ({self.settings.SCHEDULE_TIMEZONE}); next run "
                      f"{_local(next_fire(self.triggers[job.source], now), self.tz)}")
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


def _how_it_ended(outcome: ChildOutcome, term_grace: float) -> str:
    if outcome.killed:
        return f"was killed (SIGKILL) {term_grace:.0f} s after SIGTERM"
    if outcome.signal_name:
        return f"was killed by {outcome.signal_name}"
    if outcome.returncode:
        return f"exited with code {outcome.returncode}"
    return "exited"


def _hostname() -> str:
    import socket

    return socket.gethostname()


def _setup_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=getattr(logging, level, logging.INFO), stream=sys.stderr,
                            format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    else:
        root.setLevel(getattr(logging, level, logging.INFO))


def run_scheduler(settings: Settings, once: bool = False, echo: Callable[[str], Any] | None = None) -> list[JobResult]:
    """``collegesearch schedule``: run the scheduler (``once``: every due job, then return).

    Raises ScheduleError when nothing is scheduled, a schedule is invalid, another scheduler
    runs, or (``once``) some crawl failed.
    """
    from ops.locks import LockBusy, make_lock

    say = echo or (lambda line: print(line, flush=True))
    _setup_logging(settings.LOG_LEVEL)
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
        scheduler.close_stale_runs()
        with scheduler.catalog() as cat:
            cat.prune_schedule_events(iso(datetime.now(UTC) - EVENT_RETENTION) or "")
        mode = "once" if once else "forever"
        scheduler.event("started", detail=f"pid {os.getpid()} on {_hostname()} ({mode}); jobs: "
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
        lock.release()
    if not once:
        say("scheduler stopped")
    failed = [r for r in results if r.outcome in FAILED_STATUSES]
    if failed:
        raise ScheduleError(f"{len(failed)} of {len(results)} crawl(s) failed: "
                            + "; ".join(f"{r.source} ({r.reason})" for r in failed))
    return results


# -- index sync for the crawl command (--sync) -----------------------------------------------------


def sync_after_runs(settings: Settings, run_ids: Sequence[int], lock_timeout: float = SYNC_LOCK_TIMEOUT) -> dict[str, Any]:
    """Sync the index after a crawl and store the result on its runs (``collegesearch crawl --sync``)."""
    from catalog import Catalog
    from indexer.build import IndexError_, sync

    started = datetime.now(UTC)
    try:
        result = sync(settings, lock_timeout=lock_timeout)
        info: dict[str, Any] = {"status": "ok", **result.to_dict(), "summary": result.summary()}
    except IndexError_ as exc:
        info = {"status": "failed", "error": str(exc), "summary": f"index sync failed: {exc}"}
    info["at"] = iso(started)
    with Catalog(settings.catalog_path) as cat:
        for run_id in run_ids:
            cat.set_run_index_sync(run_id, info)
    return info


def record_failed_start(settings: Settings, sources: Sequence[str], trigger: str, reason: str) -> list[int]:
    """Record a crawl that could not start (no site, broken profile) as failed runs of the known sources.

    A refusal because the source is already being crawled is not a run and is not recorded.
    """
    from catalog import Catalog, CatalogError

    if "already running" in reason:
        return []
    try:
        known = set(known_sources(settings))
    except ScheduleError:
        known = set(builtin_sources())
    ids = []
    try:
        with Catalog(settings.catalog_path) as cat:
            for source in dict.fromkeys(s for s in sources if s in known):
                run_id = cat.start_run(source, trigger)
                cat.finish_run(run_id, status="failed", stats={}, complete=False, error=reason)
                ids.append(run_id)
    except CatalogError:
        log.exception("could not record the failed start of %s", ", ".join(sources))
    return ids


# -- "crawl now" from the admin --------------------------------------------------------------------


@dataclass
class Spawned:
    """A detached crawl started for someone."""

    source: str
    pid: int
    log_path: str


STARTING_WINDOW = 600.0
"""Seconds a just-spawned crawl counts as "starting" while it has not taken its lock yet."""


def _starting_marker(settings: Settings, source: str) -> Path:
    return settings.data_dir / "locks" / f"crawl-{source}.starting"


def _starting_owner(settings: Settings, source: str) -> dict[str, Any] | None:
    """The crawl of a source an admin just started, while it has not taken its lock yet (None otherwise)."""
    import json

    import psutil

    marker = _starting_marker(settings, source)
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    started = parse_time(info.get("started"))
    if started is None or (datetime.now(UTC) - started).total_seconds() > STARTING_WINDOW:
        return None
    try:
        proc = psutil.Process(pid)
        alive = proc.status() != psutil.STATUS_ZOMBIE and source in proc.cmdline()
    except (psutil.Error, OSError):
        alive = False
    return dict(info) if alive else None


def crawl_now(settings: Settings, source: str, trigger: str = "admin") -> Spawned:
    """Start ``collegesearch crawl SOURCE --trigger admin --sync`` detached; LockBusy when the source is busy.

    The caller (a web worker) never runs Scrapy itself; the child outlives the request, writes its
    output to ``DATA_DIR/logs/crawl-<source>.log`` and syncs the index when it is done. A crawl
    started here a moment ago that has not taken its lock yet (it is still importing Scrapy)
    counts as busy too, so a double click starts one crawl, not two.
    """
    import json

    from ops.locks import LockBusy, crawl_lock_name, hold, make_lock

    if source not in known_sources(settings):
        raise ScheduleError(f"unknown source {source!r}")
    name = crawl_lock_name(source)
    # Two admins (or two gunicorn workers) clicking at once: one checks and spawns at a time.
    with hold(settings, f"spawn-{source}", purpose="crawl now", timeout=10):
        owner = make_lock(settings, name).owner() or _starting_owner(settings, source)
        if owner is not None:
            raise LockBusy(name, owner)
        logs = settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"crawl-{source}.log"
        with open(log_path, "ab") as out:
            out.write(f"--- {iso(datetime.now(UTC))} crawl {source} ({trigger})\n".encode())
            out.flush()
            proc = subprocess.Popen(crawl_command(source, trigger, sync=True), env=settings_env(settings),
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, close_fds=True)
        marker = {"pid": proc.pid, "host": _hostname(), "started": iso(datetime.now(UTC)),
                  "purpose": f"crawl ({trigger}), starting"}
        _starting_marker(settings, source).write_text(json.dumps(marker), encoding="utf-8")
    # Reap it when it ends, so a long-lived web worker collects no zombies.
    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()
    return Spawned(source=source, pid=proc.pid, log_path=str(log_path))


# -- status -------------------------------------------------------------------------------------


def run_items(stats: dict[str, Any]) -> dict[str, int]:
    """new / changed / unchanged / removed of a run's stats (new counts revived, unchanged counts 304s)."""
    items = stats.get("items")
    if isinstance(items, dict):
        def get(key: str) -> int:
            return int(items.get(key) or 0)

        return {"new": get("new") + get("revived"), "changed": get("changed"),
                "unchanged": get("unchanged") + get("touched"), "removed": get("removed")}

    def flat(key: str) -> int:
        value = stats.get(f"items_{key}", stats.get(key, 0))
        return int(value) if isinstance(value, (int, float)) else 0

    return {k: flat(k) for k in ("new", "changed", "unchanged", "removed")}


def run_row(run: Run) -> dict[str, Any]:
    """One run in status form."""
    stats = run.stats or {}
    started, finished = parse_time(run.started_at), parse_time(run.finished_at)
    raw_dropped = stats.get("dropped")
    dropped: dict[str, int] = raw_dropped if isinstance(raw_dropped, dict) else {}
    sync = run.index_sync or None
    return {
        "id": run.id, "source": run.source, "trigger": run.trigger, "status": run.status, "complete": run.complete,
        "started_at": run.started_at, "finished_at": run.finished_at,
        "duration_s": round((finished - started).total_seconds(), 1) if started and finished else None,
        "pages": int(stats.get("pages") or 0), "items": run_items(stats),
        "dropped": sum(int(v) for v in dropped.values()), "dropped_by_reason": dict(dropped),
        "http_status": dict(stats.get("http_status") or {}), "error": run.error,
        "index_sync": None if sync is None else {"status": sync.get("status", "ok"), "at": sync.get("at"),
                                                  "summary": sync.get("summary") or sync.get("error")},
    }


@dataclass
class StatusReport:
    """What ``collegesearch status`` and the admin show: schedule, last runs, failing sources, locks, index."""

    generated_at: str
    timezone: str
    schedule: list[dict[str, Any]] = field(default_factory=list)
    scheduler: dict[str, Any] | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)
    locks: list[dict[str, Any]] = field(default_factory=list)
    index: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def failing(self) -> list[dict[str, Any]]:
        """Sources whose retries are used up."""
        return [h for h in self.health if h["state"] == "failing"]

    @property
    def troubled(self) -> list[dict[str, Any]]:
        """Sources failing or being retried."""
        return [h for h in self.health if h["state"] in ("failing", "retrying", "failed")]

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``collegesearch status --json``)."""
        return {"generated_at": self.generated_at, "timezone": self.timezone, "scheduler": self.scheduler,
                "schedule": self.schedule, "runs": self.runs, "health": self.health,
                "failing": [h["source"] for h in self.failing], "locks": self.locks, "index": self.index,
                "events": self.events, "problems": self.problems}

    def format(self) -> str:
        """Plain-text tables for the terminal."""
        out: list[str] = []
        who = self.scheduler
        running = (f"running, pid {who.get('pid')} on {who.get('host')} since {who.get('started')}" if who
                   else "not running (start it with `collegesearch schedule`)")
        out.append(f"Schedule ({self.timezone}); scheduler {running}")
        if self.schedule:
            out += _table(["source", "cron", "next run", "state"], [
                [s["source"], s["cron"], s["next_run_local"] or "never", _state_text(s)] for s in self.schedule])
        else:
            out.append("  nothing is scheduled (set COLLEGESEARCH_SCHEDULE_<SOURCE>)")
        out.append("")
        out.append("Last runs")
        if self.runs:
            out += _table(["run", "source", "trigger", "status", "started (UTC)", "secs", "pages", "new", "changed",
                           "same", "removed", "dropped", "index sync"],
                          [[f"#{r['id']}", r["source"], r["trigger"], r["status"] + ("" if r["status"] != "ok" or
                            r["complete"] else "*"), (r["started_at"] or "")[:19].replace("T", " "),
                            "" if r["duration_s"] is None else f"{r['duration_s']:.0f}", r["pages"],
                            r["items"]["new"], r["items"]["changed"], r["items"]["unchanged"], r["items"]["removed"],
                            r["dropped"], (r["index_sync"] or {}).get("status", "-")] for r in self.runs],
                          right={5, 6, 7, 8, 9, 10, 11})
            errors = [r for r in self.runs if r["error"]]
            for r in errors[:5]:
                out.append(f"  #{r['id']} {r['source']}: {r['error']}")
        else:
            out.append("  no crawl has run yet")
        out.append("")
        troubled = self.troubled
        out.append("Failing sources" + ("" if troubled else ": none"))
        for h in troubled:
            line = (f"  {h['source']}: {h['state'].upper()}, {h['consecutive_failures']} failed run(s) in a row "
                    f"since {h['failing_since']}; last error: {h['last_error']}")
            if h.get("next_retry_at"):
                line += f"; retry {h['next_retry_attempt']} at {h['next_retry_local']}"
            elif h["state"] == "failing":
                line += "; retries used up until a run succeeds"
            out.append(line)
        out.append("")
        out.append("Locks held" + ("" if self.locks else ": none"))
        for lock in self.locks:
            out.append(f"  {lock['name']}: pid {lock.get('pid')} on {lock.get('host')} since {lock.get('started')}"
                       + (f" ({lock['purpose']})" if lock.get("purpose") else ""))
        out.append("")
        out.append("Index")
        out.append("  " + self.index.get("text", ""))
        skipped = [e for e in self.events if e["event"] == "skipped"][:5]
        if skipped:
            out.append("")
            out.append("Recently skipped triggers")
            for e in skipped:
                out.append(f"  {e['at'][:19].replace('T', ' ')} {e['source']}: {e['detail']}")
        if self.problems:
            out.append("")
            out.extend(f"problem: {p}" for p in self.problems)
        return "\n".join(out)


def _state_text(entry: dict[str, Any]) -> str:
    state = entry.get("state") or "never"
    if state == "ok":
        return f"ok (last run #{entry.get('last_run_id')})"
    if state == "never":
        return "never crawled"
    text = f"{state.upper()}: {entry.get('consecutive_failures')} failed run(s) in a row"
    if entry.get("next_retry_local"):
        text += f", retry {entry.get('next_retry_attempt')} at {entry['next_retry_local']}"
    return text


def _table(headers: list[str], rows: list[list[Any]], right: set[int] | None = None) -> list[str]:
    right = right or set()
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  " + "  ".join(v.rjust(w) if i in right else v.ljust(w)
                                for i, (v, w) in enumerate(zip(values, widths, strict=True))).rstrip()

    return [line(headers), "  " + "  ".join("-" * w for w in widths)] + [line(r) for r in cells]


def index_writer_holder(settings: Settings) -> dict[str, Any] | None:
    """Who holds the index writer lock now (None when free)."""
    import fcntl
    import json as _json

    from indexer.engine import LOCK, OWNER

    path = settings.index_dir / LOCK
    if not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                info = _json.loads((settings.index_dir / OWNER).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                info = {}
            return {"name": "index", "pid": info.get("pid"), "host": info.get("host"), "started": info.get("since"),
                    "purpose": info.get("operation")}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def status_report(settings: Settings, *, runs_limit: int = 15, now: datetime | None = None) -> StatusReport:
    """The schedule with next runs (in SCHEDULE_TIMEZONE), last runs, failing sources, held locks, index state."""
    from catalog import Catalog, CatalogError
    from ops.locks import crawl_lock_name, make_lock

    moment = now or datetime.now(UTC)
    tz = ZoneInfo(settings.SCHEDULE_TIMEZONE)
    report = StatusReport(generated_at=iso(moment) or "", timezone=settings.SCHEDULE_TIMEZONE)
    try:
        jobs = scheduled_jobs(settings)
        sources = known_sources(settings)
    except ScheduleError as exc:
        report.problems.append(str(exc))
        jobs, sources = [], list(builtin_sources())
    cat: Catalog | None = None
    if settings.catalog_path.exists():
        try:
            cat = Catalog(settings.catalog_path, readonly=True)
            if cat.schema_version() == 0:  # created this instant and not migrated yet: nothing in it
                cat.close()
                cat = None
        except CatalogError as exc:
            report.problems.append(str(exc))
    try:
        runs_by_source: dict[str, list[Run]] = {}
        for source in sources:
            runs_by_source[source] = cat.list_runs(source, limit=settings.RETRY_MAX + 20) if cat else []
        health = {s: source_health(settings, s, runs_by_source[s]) for s in sources}
        for h in health.values():
            entry = h.to_dict()
            entry["next_retry_local"] = _local(h.retry_due, tz) if h.retry_due else None
            if h.state != "never" or any(j.source == h.source for j in jobs):
                report.health.append(entry)
        for job in jobs:
            try:
                fire = next_fire(job.trigger(tz), moment)
            except ScheduleError as exc:
                report.problems.append(str(exc))
                fire = None
            h = health.get(job.source) or SourceHealth(job.source, "never")
            report.schedule.append({
                "source": job.source, "cron": job.cron, "origin": job.origin, "next_run": iso(fire),
                "next_run_local": _local(fire, tz) if fire else None, "state": h.state,
                "consecutive_failures": h.consecutive_failures, "last_run_id": h.last_run_id,
                "next_retry_at": h.next_retry_at, "next_retry_attempt": h.next_retry_attempt,
                "next_retry_local": _local(h.retry_due, tz) if h.retry_due else None,
            })
        if cat is not None:
            report.runs = [run_row(r) for r in cat.list_runs(limit=runs_limit)]
            report.events = [e.to_dict() for e in cat.list_schedule_events(limit=20)]
        for name in [SCHEDULER_LOCK] + [crawl_lock_name(s) for s in sources]:
            try:
                owner = make_lock(settings, name).owner()
            except Exception as exc:  # noqa: BLE001 - e.g. Redis unreachable: say so, keep the rest
                report.problems.append(f"cannot read lock {name}: {exc}")
                continue
            if owner is not None:
                report.locks.append({"name": name, **{k: v for k, v in owner.items() if k != "name"}})
                if name == SCHEDULER_LOCK:
                    report.scheduler = dict(owner)
        writer = index_writer_holder(settings)
        if writer is not None:
            report.locks.append(writer)
        report.index = _index_state(settings, cat)
    finally:
        if cat is not None:
            cat.close()
    return report


def _index_state(settings: Settings, cat: Catalog | None) -> dict[str, Any]:
    from indexer.build import index_status

    try:
        state = dict(index_status(settings))
    except Exception as exc:  # noqa: BLE001 - a status page must show the rest
        state = {"state": "unreadable", "message": str(exc)}
    seq = cat.max_change_seq() if cat is not None else 0
    state["catalog_change_seq"] = seq
    last_sync = None
    if cat is not None:
        for run in cat.list_runs(limit=50):
            if run.index_sync:
                last_sync = {"run_id": run.id, "source": run.source, **{k: run.index_sync.get(k) for k in
                                                                         ("status", "at", "summary", "error")}}
                break
    state["last_sync_after_run"] = last_sync
    if state.get("state") == "ok":
        lag = max(0, seq - int(state.get("watermark") or 0))
        state["lag"] = lag
        text = (f"{state.get('doc_count', 0):,} documents, generation {state.get('generation')}; synced to catalog "
                f"change {state.get('watermark')} of {seq} " + ("(up to date)" if lag == 0 else f"({lag} behind)")
                + f"; last written {state.get('updated_at')}")
    else:
        text = f"{state.get('state')}: {state.get('message')}"
    if last_sync:
        text += (f"; last sync after a crawl: {last_sync['status']} at {last_sync.get('at')} (run #{last_sync['run_id']}"
                 f" {last_sync['source']})")
    state["text"] = text
    return state
