"""Admin pages for scheduled crawls: the schedule and its health, "crawl now", items per run, what changed.

Its routes are added to the admin blueprint (``webapp.admin.bp``, so ``require_admin`` protects them) when
``webapp.create_app`` imports this module; ``webapp.admin`` lists them in its menu and never imports this module.
``/admin/schedule`` shows what ``collegesearch status`` prints; ``POST /admin/crawl/<source>``
starts ``collegesearch crawl SOURCE --trigger admin --sync`` as a detached child process (the web
worker never runs Scrapy, and the crawl outlives the request), or says who holds the source's lock;
``/admin/changes`` is the change feed with a digest of the last day. The crawl-runs page and the
overview get the chart, the buttons and the health badges through their template blocks.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from model.sources import BUILTIN_SOURCES
from ops.cron import parse_time
from ops.jobs import ScheduleError, known_sources
from ops.locks import LockBusy, crawl_lock_name
from ops.status import run_items, status_report
from webapp.admin import bp
from webapp.changes import (
    CLOSING_STATUSES,
    KINDS,
    OPS,
    PAY_FIELDS,
    WHAT,
    _feed_args,
    count_text,
    feed_entries,
    group_entries,
)
from webapp.db import get_catalog, get_writer
from webapp.forms import ActionForm
from webapp.index import get_search_service

log = logging.getLogger(__name__)

CHART_RUNS = 200
# One colour per source in the chart (SVG attributes: the CSP allows no inline style); the legend
# repeats each colour with the source's name, so colour is never the only cue.
SERIES_COLOURS = ("#1f5fa8", "#b35900", "#2e7d32", "#8e24aa", "#00838f", "#6d4c41", "#c2185b", "#455a64")
MARKERS = ("circle", "square", "diamond", "triangle")


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _status() -> Any:
    return status_report(_settings(), runs_limit=10)


def _sources() -> list[str]:
    try:
        return known_sources(_settings())
    except ScheduleError as exc:
        flash(f"The sites file cannot be read: {exc}", "error")
        return list(BUILTIN_SOURCES)


def crawl_buttons(report: Any) -> list[dict[str, Any]]:
    """One "crawl now" entry per source: its lock holder (if busy), schedule and health."""
    held = {lock["name"]: lock for lock in report.locks}
    scheduled = {s["source"]: s for s in report.schedule}
    health = {h["source"]: h for h in report.health}
    return [{"source": source, "busy": held.get(crawl_lock_name(source)), "schedule": scheduled.get(source),
             "health": health.get(source)} for source in _sources()]


# -- the chart -------------------------------------------------------------------------------------


def _nice_step(top: float) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about four ticks up to ``top``."""
    if top <= 0:
        return 1.0
    raw = top / 4
    power = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def items_chart(runs: list[Any], *, width: int = 720, height: int = 260) -> dict[str, Any] | None:
    """Geometry of the "items per run over time" chart: one line per source, failed runs marked (SVG units)."""
    points = []
    for run in runs:
        started = parse_time(run.started_at)
        if run.status == "running" or started is None:
            continue
        items = run_items(run.stats or {})
        seen = items["new"] + items["changed"] + items["unchanged"]
        points.append({"run": run, "at": started, "seen": seen, "items": items})
    if not points:
        return None
    points.sort(key=lambda p: p["at"])
    left, right, top_pad, bottom = 64.0, 16.0, 16.0, 40.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    t0, t1 = points[0]["at"], points[-1]["at"]
    span = (t1 - t0).total_seconds()
    biggest = max(p["seen"] for p in points)
    step = _nice_step(biggest * 1.1 or 1)
    y_top = step * max(1, -(-biggest * 1.1 // step))

    def x(moment: datetime) -> float:
        if span <= 0:
            return round(left + plot_w / 2, 1)
        return round(left + plot_w * (moment - t0).total_seconds() / span, 1)

    def y(value: float) -> float:
        return round(top_pad + plot_h * (1 - value / y_top), 1)

    series: dict[str, dict[str, Any]] = {}
    for p in points:
        run = p["run"]
        s = series.setdefault(run.source, {"source": run.source, "points": []})
        label = (f"Run #{run.id} {run.source} ({run.trigger}), {p['at']:%Y-%m-%d %H:%M} UTC: {run.status}; "
                 f"{p['seen']:,} items seen, {p['items']['new']:,} new, {p['items']['changed']:,} changed, "
                 f"{p['items']['removed']:,} removed")
        s["points"].append({"x": x(p["at"]), "y": y(p["seen"]), "failed": run.status != "ok", "label": label,
                            "run_id": run.id})
    for i, s in enumerate(series.values()):
        s["colour"] = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        s["marker"] = MARKERS[i % len(MARKERS)]
        s["polyline"] = " ".join(f"{pt['x']},{pt['y']}" for pt in s["points"])
        s["failed"] = sum(1 for pt in s["points"] if pt["failed"])
    y_ticks = []
    value = 0.0
    while value <= y_top + 1e-9:
        y_ticks.append({"y": y(value), "label": f"{value:,.0f}"})
        value += step
    x_ticks = []
    if span <= 0:
        x_ticks.append({"x": x(t0), "label": f"{t0:%b %d %H:%M}"})
    else:
        fmt = "%H:%M:%S" if span < 3600 else ("%b %d %H:%M" if span < 5 * 86400 else "%b %d")
        for i in range(5):
            moment = t0 + timedelta(seconds=span * i / 4)
            label = moment.strftime(fmt)
            if x_ticks and x_ticks[-1]["label"] == label:
                continue  # runs seconds apart: one label per distinct time
            x_ticks.append({"x": x(moment), "label": label,
                            "anchor": "start" if i == 0 else ("end" if i == 4 else "middle")})
    return {"width": width, "height": height, "left": left, "right": width - right, "top": top_pad,
            "bottom": height - bottom, "series": list(series.values()), "y_ticks": y_ticks, "x_ticks": x_ticks,
            "runs": len(points), "first": points[0]["at"], "last": points[-1]["at"], "max": biggest}


def _chart_for(source: str | None) -> dict[str, Any] | None:
    runs = get_catalog().list_runs(source, limit=CHART_RUNS)
    return items_chart(runs)


# -- pages -----------------------------------------------------------------------------------------


@bp.get("/schedule")
def schedule() -> str:
    """When each source crawls next, which sources fail, who holds locks, the index, and "crawl now"."""
    report = _status()
    return render_template("admin/schedule.html", report=report, buttons=crawl_buttons(report),
                           chart=_chart_for(None))


@bp.post("/crawl/<source>")
def crawl_now(source: str) -> Response:
    """Start a crawl of one source now in a detached process, unless it is already being crawled."""
    from ops.crawl_now import crawl_now as spawn

    if not ActionForm().validate():
        abort(400)
    if source not in _sources():
        abort(404)
    back = _safe_back()
    if _settings().multi_node:
        return _queue_crawl(source, back)
    try:
        started = spawn(_settings(), source, trigger="admin")
    except LockBusy as exc:
        owner = exc.owner
        since = f" since {owner['started']}" if owner.get("started") else ""
        why = f" ({owner['purpose']})" if owner.get("purpose") else ""
        flash(f"{source} is already being crawled (pid {owner.get('pid')}{since}{why}); "
              "wait for that run to finish.", "warning")
        return redirect(back)
    except (ScheduleError, OSError) as exc:
        flash(f"Could not start a crawl of {source}: {exc}", "error")
        return redirect(back)
    try:
        get_writer().add_schedule_event("requested", source=source,
                                        detail=f"admin: crawl now (pid {started.pid}, log {started.log_path})")
    except Exception:  # noqa: BLE001 - the crawl runs anyway; the event is only a note
        log.exception("could not record the admin's crawl request")
    flash(f"Crawl of {source} started (process {started.pid}); it shows under Crawl runs as it goes, "
          "and the search index is synced when it ends.", "success")
    return redirect(back)


def _queue_crawl(source: str, back: str) -> Response:
    """Multi-node mode: a web node never crawls; the crawl goes on the queue for the workers."""
    from ops.queue import QueueError, queue_crawls

    try:
        [queued] = queue_crawls(_settings(), [source], trigger="admin")
    except QueueError as exc:
        flash(f"Could not queue a crawl of {source}: {exc}", "error")
        return redirect(back)
    try:
        get_writer().add_schedule_event("requested", source=source, detail=f"admin: crawl now ({queued.line()})")
    except Exception:  # noqa: BLE001 - the crawl is queued anyway; the event is only a note
        log.exception("could not record the admin's crawl request")
    flash(f"Crawl of {source} {'was already queued' if queued.already else 'queued'} as job {queued.job_id}; "
          "a crawl worker runs it and it shows under Crawl runs as it goes.", "success")
    return redirect(back)


def _safe_back() -> str:
    target = request.form.get("next") or ""
    if target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("admin.schedule")


@bp.get("/changes")
def admin_changes() -> str:
    """The change feed for the people running the site: a digest of the last day, then every change."""
    args = _feed_args()
    cat = get_catalog()
    entries = feed_entries(cat, args)
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds").replace("+00:00", "Z")
    digest = _digest(since)
    next_before = entries[-1]["seq"] if len(entries) == args["limit"] else None
    return render_template("admin/changes.html", entries=entries, groups=group_entries(cat, entries), args=args,
                           kinds=KINDS, ops=OPS, what_choices=WHAT, next_before=next_before, digest=digest,
                           since=since)


def _digest(since: str) -> dict[str, Any]:
    """What changed since a time, counted in the feed's categories (``webapp.changes.describe``), with its runs."""
    rows = get_catalog().change_summary(since=since, closing_statuses=sorted(CLOSING_STATUSES),
                                        field_groups={"pay": PAY_FIELDS})
    counts: Counter[str] = Counter()
    runs: set[int] = set()
    for row in rows:
        kind, op, n = row["kind"], row["op"], row["count"]
        if row["run_id"] is not None:
            runs.add(row["run_id"])
        if kind in ("program", "institution") and op == "changed":
            # describe(): a status change to closed/withdrawn is a closed program; other status changes count
            # as such; the rest of the changes are updates.
            closings = row["closings"] if kind == "program" else 0
            counts["closed_program"] += closings
            counts["status_change"] += row["status_changes"] - closings
            n -= row["status_changes"]
        elif kind == "career" and op == "changed":
            counts["pay_change"] += row["field_counts"]["pay"]
            n -= row["field_counts"]["pay"]
        if n > 0:
            counts[DIGEST_CATEGORIES.get((kind, op), f"{kind}_{op}")] += n
    counts = Counter({k: v for k, v in counts.items() if v})
    return {"counts": dict(counts), "text": count_text(dict(counts)), "runs": sorted(runs, reverse=True),
            "total": sum(counts.values())}


DIGEST_CATEGORIES: dict[tuple[str, str], str] = {
    ("program", "new"): "new_program", ("program", "deleted"): "closed_program",
    ("program", "revived"): "program_back", ("program", "changed"): "program_updated",
    ("institution", "new"): "institution_added", ("institution", "revived"): "institution_added",
    ("institution", "deleted"): "institution_removed", ("institution", "changed"): "institution_updated",
    ("review", "new"): "new_review", ("review", "revived"): "new_review",
    ("review", "deleted"): "review_removed", ("review", "changed"): "review_updated",
    ("career", "new"): "new_career", ("career", "revived"): "new_career",
    ("career", "deleted"): "career_removed", ("career", "changed"): "career_updated",
}


# -- the existing pages, with their blocks filled --------------------------------------------------


def _fill(endpoint: str) -> Any:
    """Serve an admin page (``admin.<endpoint>``) with this module's view, which fills its template blocks."""

    def decorator(view: Any) -> Any:
        bp.record_once(lambda state: state.app.view_functions.__setitem__(f"admin.{endpoint}", view))
        return view

    return decorator


@_fill("runs")
def runs_with_chart() -> str:
    """Crawl runs, newest first, with "crawl now" buttons and the items-per-run chart."""
    cat = get_catalog()
    source = request.args.get("source") or None
    report = _status()
    return render_template("admin/crawl_runs.html", runs=cat.list_runs(source, limit=100), source=source,
                           buttons=crawl_buttons(report), report=report, chart=_chart_for(source))


@_fill("dashboard")
def dashboard_with_health() -> str:
    """The overview plus crawl health (failing sources, next runs) and what changed in the last day."""
    cat = get_catalog()
    report = _status()
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds").replace("+00:00", "Z")
    return render_template(
        "admin/crawl_dashboard.html", runs=cat.list_runs(limit=5), counts=cat.fused.counts_by_kind(),
        index_status=get_search_service().status(cat.fused.max_change_seq()), catalog_seq=cat.fused.max_change_seq(),
        last_updated=cat.fused.last_updated(), report=report, digest=_digest(since),
    )
