"""What changed between crawls: ``/changes`` as a page, ``/changes.json`` and an Atom feed ``/changes.atom``.

A basic feed over ``Catalog.change_feed``; the scheduler part may extend it (e.g. per-run summaries).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from catalog.store import Change
from crawler.items import KINDS, US_STATES
from indexer.results import SearchError, detail_url
from webapp.db import get_catalog

bp = Blueprint("changes", __name__)

OPS = ("new", "changed", "deleted", "revived")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Field changes worth a line in the feed; the rest are summarised as "details updated".
NOTABLE_FIELDS = ("accreditation_status", "accreditor", "degree_level", "delivery", "rating", "median_pay_annual",
                  "outlook_pct", "next_review", "name", "title")


def _feed_args() -> dict[str, Any]:
    kinds = [k for k in request.args.getlist("kind") if k]
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise SearchError(f"kind must be one of {', '.join(KINDS)}, got {bad[0][:40]!r}", param="kind")
    ops = [o for o in request.args.getlist("op") if o]
    bad = [o for o in ops if o not in OPS]
    if bad:
        raise SearchError(f"op must be one of {', '.join(OPS)}, got {bad[0][:40]!r}", param="op")
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
            "run_id": run_id}


def change_to_dict(change: Change) -> dict[str, Any]:
    """One feed entry in JSON form, with a link to the record's page unless it was removed."""
    notable = {k: v for k, v in (change.diff or {}).items() if k in NOTABLE_FIELDS}
    return {
        "seq": change.seq, "kind": change.kind, "id": change.item_id, "op": change.op, "at": change.at,
        "title": change.title, "state": change.state, "source": change.source, "run_id": change.run_id,
        "changes": {k: {"from": v[0], "to": v[1]} for k, v in notable.items()},
        "fields_changed": sorted((change.diff or {}).keys()),
        "detail_url": detail_url(change.kind, change.item_id) if change.op != "deleted" else None,
    }


def _entries() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    args = _feed_args()
    entries = [change_to_dict(c) for c in get_catalog().change_feed(**args)]
    return entries, args


@bp.get("/changes")
def page() -> str:
    """New programs, status changes, closures and new reviews, newest first."""
    entries, args = _entries()
    next_before = entries[-1]["seq"] if len(entries) == args["limit"] else None
    return render_template("changes/index.html", entries=entries, args=args, kinds=KINDS, ops=OPS,
                           next_before=next_before)


@bp.get("/changes.json")
def as_json() -> Response:
    """The feed as JSON: ``{"changes": [...], "next_before"}``."""
    entries, args = _entries()
    next_before = entries[-1]["seq"] if len(entries) == args["limit"] else None
    return jsonify({"changes": entries, "next_before": next_before})


@bp.get("/changes.atom")
def as_atom() -> Response:
    """The feed as Atom for feed readers."""
    entries, _ = _entries()
    body = render_template("changes/feed.xml", entries=entries,
                           updated=entries[0]["at"] if entries else "1970-01-01T00:00:00Z")
    return Response(body, mimetype="application/atom+xml")
