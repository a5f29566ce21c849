"""The data behind the public pages, read from the request: the HTML pages and the JSON API call the same functions.

``views`` renders these dicts as HTML and ``api`` returns them as JSON; both import this module and
neither imports the other, so a page and its JSON twin cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, jsonify, redirect, request, url_for

from indexer.results import SearchResult
from webapp import records
from webapp.db import get_catalog
from webapp.index import get_search_service
from webapp.params import SearchParams, parse_search_args

ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")
PROGRAMS_PER_PAGE = 25


def check_id(value: str) -> str:
    """Ids use only ``[A-Za-z0-9._:-]``; anything else cannot exist, so it is a 404 without a lookup."""
    if not value or len(value) > 200 or not set(value) <= ID_CHARS:
        abort(404, description="no record has that id (ids use only letters, digits and . _ : -)")
    return value


def int_arg(name: str, default: int = 1, hi: int = 10_000) -> int:
    """A small positive integer from the query string; a bad value falls back to the default on pages."""
    raw = request.args.get(name, "")
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if 1 <= value <= hi else default


def run_search(params: SearchParams) -> SearchResult:
    """The one search call behind the results page and ``/api/search``."""
    return get_search_service().search(params)


def search_response() -> Response:
    """``SearchResult.to_dict()`` for the query string; 400 with ``{"error", "message"}`` for bad parameters.

    The body of ``/api/search`` and of the results page's ``/search.json`` twin.
    """
    params = parse_search_args(request.args, max_per_page=current_app.config["MAX_PER_PAGE"], strict=True)
    return jsonify(run_search(params).to_dict())


def career_page_data(soc_code: str) -> dict[str, Any]:
    """A career, its pay and outlook, and the accredited programs that lead to it (filtered by the query string)."""
    found = records.career_record(get_catalog(), check_id(soc_code))
    if found is None:
        abort(404, description=f"no career with SOC code {soc_code!r}")
    career, meta = found
    state = (request.args.get("state") or "").strip().upper() or None
    degree = (request.args.get("degree_level") or "").strip().lower() or None
    online = (request.args.get("online") or "").strip().lower() in ("1", "true", "yes", "on")
    programs = get_search_service().programs_for_career(
        career, state=state, degree_level=degree, online=online, page=int_arg("page"), per_page=PROGRAMS_PER_PAGE,
    )
    cat = get_catalog()
    unitids = {str(p.get("institution_unitid")) for p in programs["items"] if p.get("institution_unitid")}
    ratings: dict[str, Any] = {}
    for unitid in unitids:
        ratings.update(cat.fused.rating_stats(unitid))
    for program in programs["items"]:
        stats = ratings.get(str(program.get("institution_unitid")))
        program["school_rating"] = {"count": stats["count"], "average": stats["average"]} if stats else None
    return {
        "career": career,
        "meta": meta,
        "accreditors": list(career.get("accreditors") or []),
        "programs": programs,
        "filters": {"state": state, "degree_level": degree, "online": online},
        "credits": {"bls": True, "onet": records.uses_onet(career, meta)},
    }


def program_page_data(program_id: str, endpoint: str) -> dict[str, Any]:
    """A program page's data; an old id (a source's own, or a program merged into another) redirects (301)."""
    cat = get_catalog()
    data = records.program_detail(cat, check_id(program_id))
    if data is not None:
        return data
    current = records.current_program_id(cat, program_id)
    if current is not None and current != program_id:
        target = url_for(endpoint, program_id=current)
        query = request.query_string.decode("latin-1")
        abort(redirect(f"{target}?{query}" if query else target, 301))
    abort(404, description=f"no program with id {program_id!r}")


def institution_page_data(unitid: str) -> dict[str, Any]:
    """An institution page's data (category filter and review page from the query string)."""
    category = (request.args.get("category") or "").strip() or None
    data = records.institution_detail(get_catalog(), check_id(unitid), category=category, page=int_arg("page"))
    if data is None:
        abort(404, description=f"no institution with IPEDS id {unitid!r}")
    return data
