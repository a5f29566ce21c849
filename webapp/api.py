"""The JSON API: the same search and the same detail data as the HTML pages (see README, "JSON API")."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from webapp import openapi, records
from webapp.compare_data import CompareError, compare_data
from webapp.db import get_catalog
from webapp.errors import error_response
from webapp.http_cache import cacheable
from webapp.index import get_search_service
from webapp.page_data import career_page_data, check_id, institution_page_data, program_page_data, search_response
from webapp.params import SUGGEST_LIMIT_DEFAULT, SUGGEST_LIMIT_MAX, SUGGEST_MAX_CHARS

bp = Blueprint("api", __name__)


@bp.get("/search")
@cacheable("search")
def search() -> Response:
    """Full-text faceted search: ``SearchResult.to_dict()``, or 400 with ``{"error", "message"}`` for bad parameters."""
    return search_response()


@bp.get("/suggest")
@cacheable("search")
def suggest() -> Response:
    """Autocomplete: ``{"query", "suggestions": [{"text", "kind", "url"}]}``."""
    q = request.args.get("q", "")
    if len(q) > SUGGEST_MAX_CHARS:
        return error_response(400, f"q must be at most {SUGGEST_MAX_CHARS} characters for suggestions",
                              "bad_parameter")
    try:
        limit = int(request.args.get("limit", str(SUGGEST_LIMIT_DEFAULT)))
    except ValueError:
        return error_response(400, "limit must be a whole number", "bad_parameter")
    if not 1 <= limit <= SUGGEST_LIMIT_MAX:
        return error_response(400, f"limit must be from 1 to {SUGGEST_LIMIT_MAX}", "bad_parameter")
    return jsonify({"query": q, "suggestions": get_search_service().suggest(q, limit=limit)})


@bp.get("/careers/<soc_code>")
@cacheable("detail")
def career(soc_code: str) -> Response:
    """A career with its pay, outlook, accreditors and the programs that lead to it (``state``, ``degree_level``,
    ``online``, ``page`` filter the programs as on the page)."""
    return jsonify(career_page_data(soc_code))


@bp.get("/institutions/<unitid>")
@cacheable("detail")
def institution(unitid: str) -> Response:
    """An institution with accreditation, programs, rating histogram and a page of reviews."""
    return jsonify(institution_page_data(unitid))


@bp.get("/programs/<program_id>")
@cacheable("detail")
def program(program_id: str) -> Response:
    """A program with its institution and accreditation status history."""
    return jsonify(program_page_data(program_id, "api.program"))


@bp.get("/reviews/<review_id>")
@cacheable("detail")
def review(review_id: str) -> Response:
    """One review with its institution."""
    data = records.review_detail(get_catalog(), check_id(review_id))
    if data is None:
        abort(404, description=f"no review with id {review_id!r}")
    return jsonify(data)


@bp.get("/compare")
@cacheable("detail")
def compare() -> Response:
    """Up to four schools or programs side by side: ``{kind, columns, rows: [{field, label, values, differs}]}``."""
    try:
        return jsonify(compare_data(request.args))
    except CompareError as exc:
        return error_response(400, str(exc), "bad_parameter")


@bp.get("/status")
def status() -> Response:
    """What the index holds and how fresh it is, with each source's page freshness (as ``collegesearch status``)."""
    from ops.status import source_freshness

    cat = get_catalog()
    body: dict[str, Any] = {
        "counts": cat.fused.counts_by_kind(),
        "last_updated": cat.fused.last_updated(),
        "catalog_change_seq": cat.fused.max_change_seq(),
        "index": get_search_service().status(cat.fused.max_change_seq()),
        "freshness": source_freshness(cat, tz=current_app.config["SETTINGS"].SCHEDULE_TIMEZONE),
    }
    return jsonify(body)


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of every ``/api/*`` endpoint (``webapp.openapi``)."""
    return jsonify(_openapi_document())


@bp.get("")
def docs() -> str:
    """The API's docs page for people: every endpoint and parameter, read from the same description."""
    return render_template("api/docs.html", doc=_openapi_document())


def _openapi_document() -> dict[str, Any]:
    # Built once per app: it only depends on code constants and MAX_PER_PAGE.
    cached = current_app.extensions.get("collegesearch_openapi")
    if cached is None:
        cached = current_app.extensions["collegesearch_openapi"] = openapi.build_document(
            current_app.config["MAX_PER_PAGE"])
    return cached
