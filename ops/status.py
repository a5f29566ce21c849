"""What ``collegesearch status`` prints and the admin shows: the schedule with next runs, the last runs,
how fresh each source's pages are, failing sources, held locks (crawls, the scheduler, the index writer)
and the index state.

Only reads: a status never creates the catalog or the index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from collegesearch.config import Settings
from model.sources import BUILTIN_SOURCES
from ops.cron import iso, local_time, next_fire, parse_time
from ops.jobs import ScheduleError, known_sources, scheduled_jobs
from ops.locks import SCHEDULER_LOCK, crawl_lock_name, make_lock
from ops.policy import SourceHealth, source_health

if TYPE_CHECKING:
    from catalog import Catalog, Run


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


def _span(seconds: int) -> str:
    """A duration as people say it, rounded down: 45 s, 12 min, 5 h, 1 day, 3 days."""
    for size, one, many in ((86400, "day", "days"), (3600, "h", "h"), (60, "min", "min")):
        if seconds >= size:
            count = seconds // size
            return f"{count:,} {one if count == 1 else many}"
    return f"{seconds} s"


def _share_text(fresh: int, pages: int) -> str:
    # Rounded down, so a source with a page due never reads 100%.
    return f"{int(fresh * 1000 / pages) / 10:.1f}%" if pages else "-"


def source_freshness(cat: Catalog, now: datetime | None = None, tz: str | tzinfo = "UTC") -> list[dict[str, Any]]:
    """Per source: the share of pages fetched within their revisit interval, pages due, the oldest page, the next due.

    The one reading behind ``collegesearch status``, the admin pages, ``/api/status`` and the metrics. Pages never
    scheduled (fetched before the revisit schedule existed) count as due; ``unscheduled`` says how many they are
    and ``fresh_text`` says "not scheduled yet" rather than 0% when no page of the source has a schedule.
    """
    moment = now or datetime.now(UTC)
    # The catalog's own timestamp form (microseconds, Z), so string comparison in SQL orders them right.
    at = moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    rows: list[dict[str, Any]] = []
    for f in cat.freshness_by_source(now=at):
        never = f.unscheduled
        oldest, due_at = parse_time(f.oldest_fetch), parse_time(f.next_due)
        age = max(0, int((moment - oldest).total_seconds())) if oldest else None
        scheduled = never < f.pages
        due_text = f"{f.due:,} due now" + (f" ({never:,} never scheduled)" if never else "")
        if not scheduled:
            note = (f"{f.source}: none of its {f.pages:,} page(s) has a revisit schedule yet (fetched before the "
                    "schedule existed); all count as due and the next crawl fetches them")
        elif never:
            note = f"{f.source}: {never:,} of {f.pages:,} page(s) have no revisit schedule yet and count as due"
        else:
            note = None
        rows.append({
            "source": f.source, "pages": f.pages, "fresh": f.fresh, "due": f.due, "unscheduled": never,
            "scheduled": scheduled, "fresh_share": round(f.fresh_share, 4),
            "fresh_text": _share_text(f.fresh, f.pages) if scheduled else "not scheduled yet", "due_text": due_text,
            "oldest_url": f.oldest_url, "oldest_fetch": f.oldest_fetch, "oldest_age_s": age,
            "oldest_age": _span(age) if age is not None else None, "next_due": f.next_due,
            "next_due_local": local_time(due_at, tz) if due_at else None, "note": note,
        })
    return rows


@dataclass
class StatusReport:
    """What ``collegesearch status`` and the admin show: schedule, runs, page freshness, failures, locks, index."""

    generated_at: str
    timezone: str
    schedule: list[dict[str, Any]] = field(default_factory=list)
    scheduler: dict[str, Any] | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    freshness: list[dict[str, Any]] = field(default_factory=list)
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
                "events": self.events, "problems": self.problems, "freshness": self.freshness}

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
        out += self._format_freshness()
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
        if self.index.get("lag_text"):
            out.append("  " + self.index["lag_text"])
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

    def _format_freshness(self) -> list[str]:
        """The page freshness section: per source, share fresh, due now, next due, oldest page."""
        out = ["Page freshness (pages fetched within their revisit interval)"]
        if not self.freshness:
            out.append("  no page has been fetched yet")
            return out
        out += _table(["source", "pages", "fresh", "due now", "next due", "oldest page"],
                      [[f["source"], f"{f['pages']:,}", f["fresh_text"], f"{f['due']:,}",
                        f["next_due_local"] or "-",
                        f"{f['oldest_age']} ago: {f['oldest_url']}" if f["oldest_url"] else "-"]
                       for f in self.freshness], right={1, 3})
        out += [f"  {f['note']}" for f in self.freshness if f["note"]]
        return out


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
    """Who holds the index writer lock now, as a lock entry of the report (None when free)."""
    from indexer.engine import writer_lock_holder

    info = writer_lock_holder(settings.index_dir)
    if info is None:
        return None
    return {"name": "index", "pid": info.get("pid"), "host": info.get("host"), "started": info.get("since"),
            "purpose": info.get("operation")}


def status_report(settings: Settings, *, runs_limit: int = 15, now: datetime | None = None) -> StatusReport:
    """The schedule with next runs (in SCHEDULE_TIMEZONE), last runs, failing sources, held locks, index state."""
    from catalog import Catalog, CatalogError

    moment = now or datetime.now(UTC)
    tz = ZoneInfo(settings.SCHEDULE_TIMEZONE)
    report = StatusReport(generated_at=iso(moment) or "", timezone=settings.SCHEDULE_TIMEZONE)
    try:
        jobs = scheduled_jobs(settings)
        sources = known_sources(settings)
    except ScheduleError as exc:
        report.problems.append(str(exc))
        jobs, sources = [], list(BUILTIN_SOURCES)
    cat: Catalog | None = None
    if settings.catalog_exists:
        try:
            cat = Catalog(settings.catalog_location, readonly=True)
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
            entry["next_retry_local"] = local_time(h.retry_due, tz) if h.retry_due else None
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
                "next_run_local": local_time(fire, tz) if fire else None, "state": h.state,
                "consecutive_failures": h.consecutive_failures, "last_run_id": h.last_run_id,
                "next_retry_at": h.next_retry_at, "next_retry_attempt": h.next_retry_attempt,
                "next_retry_local": local_time(h.retry_due, tz) if h.retry_due else None,
            })
        if cat is not None:
            report.runs = [run_row(r) for r in cat.list_runs(limit=runs_limit)]
            report.events = [e.to_dict() for e in cat.list_schedule_events(limit=20)]
            try:
                report.freshness = source_freshness(cat, moment, tz)
            except Exception as exc:  # noqa: BLE001 - e.g. a catalog not upgraded yet: say so, show the rest
                report.problems.append(f"cannot read page freshness: {str(exc).splitlines()[0]}")
        for name in [SCHEDULER_LOCK] + [crawl_lock_name(s) for s in sources]:
            try:
                owner = make_lock(settings, name).owner()
            except Exception as exc:  # noqa: BLE001 - e.g. Redis unreachable: say so, keep the rest
                report.problems.append(f"cannot read lock {name}: {exc}")
                continue
            if owner is not None and owner.get("error"):  # a PostgreSQL lock that cannot be asked about
                report.problems.append(f"cannot read lock {name}: {owner['error']}")
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
    seq = cat.fused.max_change_seq() if cat is not None else 0
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
    _add_lag(settings, cat, state)
    return state


def index_lag(settings: Settings, cat: Catalog | None) -> dict[str, Any]:
    """This node's index against the catalog: ``changes_behind``, ``last_sync``, ``follower``, ``lag_text``."""
    from indexer.build import index_status

    try:
        state = dict(index_status(settings))
    except Exception as exc:  # noqa: BLE001 - a status line must not take its page down
        state = {"state": "unreadable", "message": str(exc)}
    _add_lag(settings, cat, state)
    return {k: state.get(k) for k in ("changes_behind", "last_sync", "follower", "lag_text")}


def _add_lag(settings: Settings, cat: Catalog | None, state: dict[str, Any]) -> None:
    """How far this node's index trails the catalog's change log, and its follower (``index follow``)."""
    from catalog.changes import ChangeCursor
    from ops.follow import follower_state

    behind: int | None = None
    if cat is not None and state.get("state") in ("ok", "missing"):
        # A missing index has every change still to read.
        cursor = ChangeCursor.from_json(state.get("cursor"), int(state.get("watermark") or 0))
        try:
            behind = cat.fused.changes_behind(cursor)
        except Exception as exc:  # noqa: BLE001 - a status page must show the rest
            state["changes_behind_error"] = str(exc)
    state["changes_behind"] = behind
    follower = follower_state(settings)
    state["follower"] = follower
    lag = "unknown" if behind is None else "up to date" if behind == 0 else f"{behind:,} changes behind"
    if follower["running"]:
        who = (f"running, pid {follower['pid']} on {follower['host']} ({follower.get('mode') or 'starting'}"
               + (f", last check {follower['last_check']}" if follower.get("last_check") else "") + ")")
        if follower.get("last_error"):
            who += f", last error: {follower['last_error']}"
    else:
        who = "not running"
    state["lag_text"] = f"lag: {lag} (last sync {state.get('last_sync') or 'never'}); follower {who}"
