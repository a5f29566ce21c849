"""What changed between crawls: ``/changes`` as a page, ``/changes.json`` and an Atom feed ``/changes.atom``.

Each change-log entry becomes a sentence people read over coffee ("Probation: Health Information
Technology at Ohio Valley Community College (was Accredited)"), with a category (new program,
status change, closed program, new review, college added or removed, pay change...), grouped by
crawl run and day. Filters: ``kind``, ``state``, ``op``, ``what`` (new, status, removed,
pay, reviews; closed programs show under status and removed), ``run_id``, ``since``, ``before`` (paging), ``limit``,
and what one follows: ``career``, ``institution``, ``program`` or a search (``webapp.follow``). The admin shows
the same feed (``webapp.admin_crawl``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from catalog.store import Catalog, Change
from collegesearch.config import DNS_NAME
from indexer.results import SearchError, detail_url
from model.items import KINDS, US_STATES
from model.sources import source_label
from webapp.db import get_catalog
from webapp.follow import follow_scope
from webapp.http_cache import cacheable
from webapp.templating import degree_label, money

bp = Blueprint("changes", __name__)

OPS = ("new", "changed", "deleted", "revived")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Field changes worth a line in the feed; the rest are summarised as "details updated".
NOTABLE_FIELDS = ("accreditation_status", "accreditor", "degree_level", "delivery", "rating", "median_pay_annual",
                  "outlook_pct", "next_review", "name", "title")
PAY_FIELDS = ("median_pay_annual", "median_pay_hourly", "pay_p10", "pay_p90")
STATUS_FIELD = "accreditation_status"
# Statuses that mean a program (or school) is effectively gone.
CLOSING_STATUSES = frozenset({"closed", "withdrawn"})

# Short status words for headlines ("Probation: ..."); the badges use the longer labels.
STATUS_WORDS: dict[str, str] = {
    "accredited": "Accredited", "preaccredited": "Pre-accredited", "candidate": "Candidate",
    "probation": "Probation", "warning": "Warning", "show_cause": "Show cause", "monitoring": "Monitoring",
    "withdrawn": "Withdrawn", "closed": "Closed", "no_longer_recognized": "Accreditor no longer recognized",
}

# ``what=`` presets: what the people running the site ask for each morning.
WHAT: dict[str, dict[str, Any]] = {
    "new": {"label": "New records", "ops": ("new", "revived")},
    "status": {"label": "Accreditation status changes", "ops": ("changed", "revived"), "fields": (STATUS_FIELD,)},
    "removed": {"label": "No longer listed", "ops": ("deleted",)},
    "pay": {"label": "Pay changes", "kinds": ("career",), "ops": ("changed",), "fields": PAY_FIELDS},
    "reviews": {"label": "New reviews", "kinds": ("review",), "ops": ("new",)},
}

CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    # category: (singular, plural)
    "new_program": ("new program", "new programs"),
    "status_change": ("status change", "status changes"),
    "closed_program": ("closed program", "closed programs"),
    "program_back": ("program listed again", "programs listed again"),
    "program_updated": ("program updated", "programs updated"),
    "institution_added": ("college added", "colleges added"),
    "institution_removed": ("college removed", "colleges removed"),
    "institution_updated": ("college updated", "colleges updated"),
    "new_review": ("new review", "new reviews"),
    "review_updated": ("review updated", "reviews updated"),
    "review_removed": ("review removed", "reviews removed"),
    "pay_change": ("pay change", "pay changes"),
    "new_career": ("new career", "new careers"),
    "career_updated": ("career updated", "careers updated"),
    "career_removed": ("career removed", "careers removed"),
}


def _feed_args() -> dict[str, Any]:
    kinds = [k for k in request.args.getlist("kind") if k]
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise SearchError(f"kind must be one of {', '.join(KINDS)}, got {bad[0][:40]!r}", param="kind")
    ops = [o for o in request.args.getlist("op") if o]
    bad = [o for o in ops if o not in OPS]
    if bad:
        raise SearchError(f"op must be one of {', '.join(OPS)}, got {bad[0][:40]!r}", param="op")
    what = (request.args.get("what") or "").strip() or None
    if what and what not in WHAT:
        raise SearchError(f"what must be one of {', '.join(WHAT)}, got {what[:40]!r}", param="what")
    state = (request.args.get("state") or "").strip().upper() or None
    if state and state not in US_STATES:
        raise SearchError(f"state must be a two-letter state code, got {state[:40]!r}", param="state")
    try:
        limit = int(request.args.get("limit") or DEFAULT_LIMIT)
        before = int(request.args["before"]) if request.args.get("before") else None
        run_id = int(request.args["run_id"]) if request.args.get("run_id") else None
    except ValueError:
        raise SearchError("limit, before and run_id must be whole numbers", param="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"limit must be from 1 to {MAX_LIMIT}", param="limit")
    since = (request.args.get("since") or "").strip() or None
    return {"kinds": kinds, "ops": ops, "state": state, "limit": limit, "before_seq": before, "since": since,
            "run_id": run_id, "what": what, "follow": follow_scope(request.args, get_catalog())}


def catalog_filters(args: dict[str, Any]) -> dict[str, Any]:
    """The ``Catalog.change_feed`` arguments for the feed's filters (``what`` narrows kind and op)."""
    preset = WHAT.get(args.get("what") or "", {})
    kinds = list(args.get("kinds") or [])
    ops = list(args.get("ops") or [])
    if preset.get("kinds"):
        kinds = [k for k in kinds if k in preset["kinds"]] if kinds else list(preset["kinds"])
        kinds = kinds or ["-none-"]  # asked for a kind the preset excludes: nothing matches
    if preset.get("ops"):
        ops = [o for o in ops if o in preset["ops"]] if ops else list(preset["ops"])
        ops = ops or ["-none-"]
    return {"kinds": kinds, "ops": ops, "state": args.get("state"), "limit": args["limit"],
            "before_seq": args.get("before_seq"), "since": args.get("since"), "run_id": args.get("run_id"),
            "fields": list(preset.get("fields", ())),
            "follow": args["follow"].followed if args.get("follow") is not None else None}


# -- sentences -----------------------------------------------------------------------------------


def _status_word(value: Any) -> str:
    if not value:
        return "Unknown status"
    return STATUS_WORDS.get(str(value), str(value).replace("_", " ").capitalize())


def _place(data: dict[str, Any], prefix: str = "") -> str:
    city, state = data.get(prefix + "city"), data.get(prefix + "state")
    return ", ".join(str(p) for p in (city, state) if p)


def _pay_text(value: Any) -> str:
    return money(value) if isinstance(value, (int, float)) else "not given"


def describe(change: Change, data: dict[str, Any] | None, current: bool = True) -> dict[str, str]:
    """The category, headline and sentence of one change.

    ``data`` is the item as stored now, if any; ``current`` says it has not changed since this change,
    so its status may be quoted as the status of that moment (names and places are quoted anyway).
    """
    item = data or {}
    diff = change.diff or {}
    title = change.title or item.get("title") or item.get("name") or change.item_id
    kind, op = change.kind, change.op
    if kind == "program":
        school = item.get("institution_name")
        at = f"{title} at {school}" if school else str(title)
        where = _place(item)
        if op == "new":
            degree = degree_label(item.get("degree_level"))
            extra = [p for p in (degree, where) if p]
            accreditor = item.get("accreditor")
            status = item.get(STATUS_FIELD) if current else None
            by = f"; {_status_word(status).lower()} by {accreditor}" if accreditor and status else (
                f"; {accreditor}" if accreditor else "")
            return {"category": "new_program", "headline": "New program",
                    "sentence": f"New program: {at}" + (f" ({', '.join(extra)})" if extra else "") + by}
        if op == "deleted":
            return {"category": "closed_program", "headline": "Program removed",
                    "sentence": f"Program removed: {at} is no longer listed"}
        if STATUS_FIELD in diff:
            old, new = diff[STATUS_FIELD]
            category = "closed_program" if new in CLOSING_STATUSES else "status_change"
            return {"category": category, "headline": _status_word(new),
                    "sentence": f"{_status_word(new)}: {at} (was {_status_word(old)})"}
        if op == "revived":
            return {"category": "program_back", "headline": "Listed again", "sentence": f"Listed again: {at}"}
        return {"category": "program_updated", "headline": "Updated",
                "sentence": f"Updated: {at}: {_fields_text(diff)}"}
    if kind == "institution":
        where = _place(item)
        name = f"{title}, {where}" if where else str(title)
        if op in ("new", "revived"):
            return {"category": "institution_added", "headline": "New college", "sentence": f"New college: {name}"}
        if op == "deleted":
            return {"category": "institution_removed", "headline": "College removed",
                    "sentence": f"College removed: {name} is no longer listed"}
        if STATUS_FIELD in diff:
            old, new = diff[STATUS_FIELD]
            return {"category": "status_change", "headline": _status_word(new),
                    "sentence": f"{_status_word(new)}: {name}, institutional accreditation (was {_status_word(old)})"}
        return {"category": "institution_updated", "headline": "Updated",
                "sentence": f"Updated: {name}: {_fields_text(diff)}"}
    if kind == "review":
        school = item.get("institution_name") or "a college"
        rating = item.get("rating")
        stars = f" rated {rating} out of 5" if isinstance(rating, int) else ""
        quote = f": \u201c{item['title']}\u201d" if item.get("title") else ""
        if op in ("new", "revived"):
            return {"category": "new_review", "headline": "New review",
                    "sentence": f"New review of {school}{stars}{quote}"}
        if op == "deleted":
            return {"category": "review_removed", "headline": "Review removed",
                    "sentence": f"Review of {school} removed"}
        return {"category": "review_updated", "headline": "Review updated",
                "sentence": f"Review of {school} updated: {_fields_text(diff)}"}
    # careers
    if op in ("new", "revived"):
        return {"category": "new_career", "headline": "New career", "sentence": f"New career: {title}"}
    if op == "deleted":
        return {"category": "career_removed", "headline": "Career removed", "sentence": f"Career removed: {title}"}
    pay = [f for f in PAY_FIELDS if f in diff]
    if pay:
        field = "median_pay_annual" if "median_pay_annual" in diff else pay[0]
        old, new = diff[field]
        change_text = ""
        if isinstance(old, (int, float)) and isinstance(new, (int, float)) and old:
            change_text = f" ({(new - old) / old * 100:+.1f}%)"
        what = {"median_pay_annual": "median pay", "median_pay_hourly": "median hourly pay",
                "pay_p10": "pay of the lowest 10%", "pay_p90": "pay of the highest 10%"}[field]
        return {"category": "pay_change", "headline": "Pay",
                "sentence": f"Pay: {title} {what} {_pay_text(old)} \u2192 {_pay_text(new)}{change_text}"}
    return {"category": "career_updated", "headline": "Updated", "sentence": f"Updated: {title}: {_fields_text(diff)}"}


def _fields_text(diff: dict[str, Any]) -> str:
    notable = [k for k in diff if k in NOTABLE_FIELDS]
    if not notable:
        return "details updated"
    parts = []
    for key in notable[:3]:
        old, new = diff[key]
        parts.append(f"{key.replace('_', ' ')} {_short(old)} \u2192 {_short(new)}")
    return "; ".join(parts)


def _short(value: Any) -> str:
    if value is None or value == "":
        return "\u2014"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "\u2026"


def change_to_dict(change: Change, data: dict[str, Any] | None = None, current: bool = True) -> dict[str, Any]:
    """One feed entry in JSON form, with its sentence and a link to the record's page unless it was removed."""
    notable = {k: v for k, v in (change.diff or {}).items() if k in NOTABLE_FIELDS}
    return {
        "seq": change.seq, "kind": change.kind, "id": change.item_id, "op": change.op, "at": change.at,
        "day": (change.at or "")[:10],
        "title": change.title, "state": change.state, "source": change.source, "run_id": change.run_id,
        "source_label": source_label(change.source) if change.source else None,
        **describe(change, data, current),
        "changes": {k: {"from": v[0], "to": v[1]} for k, v in notable.items()},
        "fields_changed": sorted((change.diff or {}).keys()),
        "detail_url": detail_url(change.kind, change.item_id) if change.op != "deleted" else None,
    }


def feed_entries(catalog: Catalog, args: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries for the filters, with the items they concern looked up once per kind."""
    changes = catalog.fused.change_feed(**catalog_filters(args))
    ids: dict[str, list[str]] = {}
    for change in changes:
        ids.setdefault(change.kind, []).append(change.item_id)
    items = {kind: catalog.fused.get_many(kind, wanted, include_deleted=True) for kind, wanted in ids.items()}
    entries = []
    for change in changes:
        stored = items.get(change.kind, {}).get(change.item_id)
        current = stored is not None and stored.last_changed <= change.at
        entries.append(change_to_dict(change, stored.data if stored is not None else None, current))
    return entries


def count_text(counts: dict[str, int]) -> str:
    """``{"status_change": 3, "new_program": 1}`` as "3 status changes, 1 new program"."""
    parts = []
    for category, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        one, many = CATEGORY_LABELS.get(category, (category.replace("_", " "), category.replace("_", " ")))
        parts.append(f"{n:,} {one if n == 1 else many}")
    return ", ".join(parts)


def group_entries(catalog: Catalog, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries grouped by day and run (newest first), each group with its run and counts per category."""
    groups: list[dict[str, Any]] = []
    index: dict[tuple[str, int | None], dict[str, Any]] = {}
    for entry in entries:
        key = (entry["day"], entry["run_id"])
        group = index.get(key)
        if group is None:
            group = {"day": entry["day"], "run_id": entry["run_id"], "run": None, "counts": Counter(), "entries": []}
            index[key] = group
            groups.append(group)
        group["counts"][entry["category"]] += 1
        group["entries"].append(entry)
    runs = {}
    for run_id in {g["run_id"] for g in groups if g["run_id"] is not None}:
        run = catalog.get_run(run_id)
        if run is not None:
            runs[run_id] = {"id": run.id, "source": run.source, "trigger": run.trigger, "status": run.status,
                            "started_at": run.started_at, "finished_at": run.finished_at}
    for group in groups:
        group["run"] = runs.get(group["run_id"])
        group["counts"] = dict(group["counts"])
        group["summary"] = count_text(group["counts"])
    return groups


def _entries() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    args = _feed_args()
    return feed_entries(get_catalog(), args), args


@bp.get("/changes")
@cacheable("feed")
def page() -> str:
    """New programs, status changes, closures and new reviews, newest first, grouped by day and run."""
    entries, args = _entries()
    next_before = entries[-1]["seq"] if len(entries) == args["limit"] else None
    return render_template("changes/index.html", entries=entries, groups=group_entries(get_catalog(), entries),
                           args=args, kinds=KINDS, ops=OPS, what_choices=WHAT, next_before=next_before)


@bp.get("/changes.json")
@cacheable("feed")
def as_json() -> Response:
    """The feed as JSON: ``{"changes": [...], "groups": [...], "next_before"}``."""
    entries, args = _entries()
    next_before = entries[-1]["seq"] if len(entries) == args["limit"] else None
    groups = [{k: v for k, v in g.items() if k != "entries"} | {"seqs": [e["seq"] for e in g["entries"]]}
              for g in group_entries(get_catalog(), entries)]
    return jsonify({"changes": entries, "groups": groups, "next_before": next_before})


def tag_authority() -> str:
    """The domain name in the Atom ids: FEED_TAG_HOST, else the request's host without its port."""
    configured = current_app.config["SETTINGS"].FEED_TAG_HOST
    if configured:
        return str(configured)
    host = request.host.rsplit(":", 1)[0].lower() if not request.host.startswith("[") else ""
    # An IPv6 literal or an odd Host header is no DNS name; RFC 4151 then leaves nothing to name us by.
    return host if DNS_NAME.fullmatch(host) else "localhost"


def entry_tag(authority: str, entry: dict[str, Any]) -> str:
    """An Atom entry id, ``tag:HOST,YYYY-MM-DD:change/N`` (RFC 4151), the same for a change forever.

    The date is the day the change was recorded: RFC 4151 wants a day on which the tagging entity
    held the name, and the site that recorded the change held its name that day. Unlike "today" it
    never moves, and unlike a configured date it needs no setting that an operator could change.
    """
    return f"tag:{authority},{entry['day']}:change/{entry['seq']}"


@bp.get("/changes.atom")
@cacheable("feed", vary=("Sec-Fetch-Dest",))
def as_atom() -> Response:
    """The feed as Atom for feed readers (entry ids are tag URIs, see ``entry_tag``)."""
    entries, args = _entries()
    authority = tag_authority()
    for entry in entries:
        entry["tag"] = entry_tag(authority, entry)
    scope = args.get("follow")
    body = render_template("changes/feed.xml", entries=entries, scope=scope,
                           updated=entries[0]["at"] if entries else "1970-01-01T00:00:00Z")
    # Someone who took a Follow link in a browser (a navigation: Fetch Metadata's Sec-Fetch-Dest "document") gets
    # the same bytes as application/xml, which browsers lay out with the feed's stylesheet (static/css/feed.css);
    # Chromium shows application/atom+xml as plain text. Feed readers send no Sec-Fetch-* header: Atom's own type.
    # (``cacheable`` sends Vary: Sec-Fetch-Dest, on a 304 too.)
    navigated = request.headers.get("Sec-Fetch-Dest") == "document"
    return Response(body, mimetype="application/xml" if navigated else "application/atom+xml")
