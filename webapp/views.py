"""Public HTML pages: home, results, detail pages, A-Z and listing pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request

from indexer.results import SearchError, SearchResult
from webapp import records
from webapp.compare_data import CompareError, compare_data
from webapp.db import get_catalog
from webapp.facet_view import facet_groups
from webapp.http_cache import cacheable
from webapp.index import get_search_service
from webapp.page_data import (
    career_page_data,
    check_id,
    institution_page_data,
    int_arg,
    program_page_data,
    run_search,
    search_response,
)
from webapp.params import FILTER_PARAMS, SearchParams, parse_search_args
from webapp.templating import FilterToggles

bp = Blueprint("views", __name__)

# -- home and search ----------------------------------------------------------------------


@bp.get("/")
def home() -> str:
    """One search box, quick links, and what the index holds."""
    cat = get_catalog()
    counts = cat.fused.counts_by_kind()
    return render_template(
        "views/home.html", counts=counts, last_updated=cat.fused.last_updated(),
        index_status=get_search_service().status(cat.fused.max_change_seq()),
    )


@bp.get("/search")
@cacheable("search")
def search() -> tuple[str, int] | str:
    """Results with kind tabs, facets, sorting and pagination; the URL holds the whole state."""
    max_per_page = current_app.config["MAX_PER_PAGE"]
    error: SearchError | None = None
    result: SearchResult | None = None
    try:
        params = parse_search_args(request.args, max_per_page=max_per_page, strict=False)
        if not params.is_empty:
            result = run_search(params)
    except SearchError as exc:
        error = exc
        params = SearchParams(q=request.args.get("q", "")[:10_000], near=request.args.get("near") or None)
    status = 400 if error else 200
    toggles = FilterToggles(request.path, request.args)
    page = render_template(
        "views/search.html", params=params, result=result, error=error, toggles=toggles,
        facets=facet_groups(result.facets, FILTER_PARAMS, toggles) if result else [],
        sorts=get_search_service().sort_options(), radii=(10, 25, 50, 100, 250),
    )
    return (page, status) if status != 200 else page


@bp.get("/search.json")
@cacheable("search")
def search_json() -> Any:
    """The results page's data as JSON (the ``/api/search`` body), datasette style."""
    return search_response()


# -- careers ---------------------------------------------------------------------------------


@bp.get("/careers/")
@cacheable("detail")
def careers_az() -> str:
    """Every career, A to Z."""
    letter = _letter_arg()
    listing = records.Listings.for_app().page(get_catalog(), "career", letter=letter, page=int_arg("page"))
    return render_template("views/careers_az.html", listing=listing)


@bp.get("/careers/<soc_code>")
@cacheable("detail")
def career(soc_code: str) -> str:
    """What they do, pay, outlook, education and the programs that lead to it."""
    return render_template("views/career.html", **career_page_data(soc_code))


# -- institutions, programs, reviews ------------------------------------------------------------


@bp.get("/institutions/<unitid>")
@cacheable("detail")
def institution(unitid: str) -> str:
    """Address, accreditation, programs, rating histogram and reviews."""
    return render_template("views/institution.html", **institution_page_data(unitid))


@bp.get("/programs/<program_id>")
@cacheable("detail")
def program(program_id: str) -> str:
    """A program with its accreditation status history."""
    return render_template("views/program.html", **program_page_data(program_id, "views.program"))


@bp.get("/reviews/<review_id>")
@cacheable("detail")
def review(review_id: str) -> str:
    """One review."""
    data = records.review_detail(get_catalog(), check_id(review_id))
    if data is None:
        abort(404)
    return render_template("views/review.html", **data)


# -- compare ---------------------------------------------------------------------------------


@bp.get("/compare")
@cacheable("detail")
def compare() -> tuple[str, int] | str:
    """Up to four schools or programs side by side; the URL holds the selection (``/api/compare`` is its twin)."""
    if not request.args:
        return render_template("views/compare.html", data=None, error=None)
    try:
        data = compare_data(request.args)
    except CompareError as exc:
        return render_template("views/compare.html", data=None, error=str(exc)), 400
    return render_template("views/compare.html", data=data, error=None)


# -- listings --------------------------------------------------------------------------------


def _letter_arg() -> str | None:
    letter = (request.args.get("letter") or "").strip().upper()
    return letter if letter == "#" or (len(letter) == 1 and "A" <= letter <= "Z") else None


def _state_arg() -> str | None:
    state = (request.args.get("state") or "").strip().upper()
    return state if len(state) == 2 and state.isalpha() else None


@bp.get("/colleges/")
@cacheable("detail")
def colleges_az() -> str:
    """Every college, A to Z, optionally in one state."""
    listing = records.Listings.for_app().page(
        get_catalog(), "institution", letter=_letter_arg(), state=_state_arg(), page=int_arg("page"),
    )
    return render_template("views/colleges_az.html", listing=listing)


@bp.get("/military-friendly")
@cacheable("detail")
def military_friendly() -> str:
    """Colleges marked military friendly."""
    listing = records.Listings.for_app().page(
        get_catalog(), "institution", where={"military_friendly": True}, letter=_letter_arg(), state=_state_arg(),
        page=int_arg("page"),
    )
    return render_template("views/military_friendly.html", listing=listing)


@bp.get("/online-programs")
@cacheable("detail")
def online_programs() -> str:
    """Accredited programs offered fully online."""
    listing = records.Listings.for_app().page(
        get_catalog(), "program", where={"delivery": "online"}, letter=_letter_arg(), state=_state_arg(),
        page=int_arg("page"),
    )
    return render_template("views/online_programs.html", listing=listing)
