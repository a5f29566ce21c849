"""A search's parameters, checked, with the filters typed in the query merged in (``parse_request``).

Invalid *parameters* (unknown filter, bad sort, page < 1, unknown location, bad radius) raise
``SearchError``; the query *text* never does (``indexer.parse``): a bad ``state:ZZ`` typed in
the query becomes a message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from indexer import geo
from indexer.filters import normalize_filters, normalize_value
from indexer.parse import DEFAULT_RELEVANCE, ParsedQuery, Relevance, parse_query
from indexer.results import SearchError, SearchResult
from indexer.schema import FILTERS

SORTS: tuple[str, ...] = ("relevance", "rating", "pay", "name", "date", "distance")
MAX_PAGE = 10_000


@dataclass
class Request:
    """One search, understood: the parsed query, the page asked for, the filters and the location."""

    parsed: ParsedQuery
    page: int
    per_page: int
    sort: str
    active: dict[str, list[str]]
    """Filter name -> values a result must have one of (parameters and query language)."""
    negative: dict[str, list[str]] = field(default_factory=dict)
    """Filter name -> values a result must not have (``-state:GA`` typed in the query)."""
    location: geo.Location | None = None
    miles: float | None = None
    messages: list[str] = field(default_factory=list)

    def result(self) -> SearchResult:
        """An empty result for this request (the search fills it in)."""
        result = SearchResult(query=self.parsed.text, total=0, page=self.page, per_page=self.per_page, hits=[],
                              facets={}, filters=self.active, sort=self.sort, messages=self.messages)
        if self.location is not None:
            result.near = self.location.to_dict(self.miles or geo.DEFAULT_RADIUS_MILES)
        return result


def parse_request(query: str | None, filters: Mapping[str, str | Sequence[str]] | None, sort: Any, page: Any,
                  per_page: Any, near: Any, radius: Any, max_per_page: int,
                  relevance: Relevance = DEFAULT_RELEVANCE) -> Request:
    """Check the parameters, parse the query, and merge the filters and place typed in it."""
    page, per_page = check_paging(page, per_page, max_per_page)
    sort = check_sort(sort)
    active = normalize_filters(filters)
    location, miles = check_near(near, radius)
    parsed = parse_query(query, relevance)
    messages = list(parsed.messages)
    negative: dict[str, list[str]] = {}
    for name, raw, negated in parsed.filters:
        if name == "near":
            if location is None:
                try:
                    location, miles = geo.resolve(raw), miles or geo.DEFAULT_RADIUS_MILES
                except geo.LocationError as exc:
                    messages.append(f"Ignored near:{raw} ({exc}).")
            continue
        for fname, value in _query_filter(name, raw, messages):
            bucket = (negative if negated else active).setdefault(fname, [])
            if value not in bucket:
                bucket.append(value)
    if sort == "distance" and location is None:
        raise SearchError("sort=distance needs a location: pass near (a ZIP code, a city or lat,lon)", param="sort")
    return Request(parsed, page, per_page, sort, active, negative, location, miles, messages)


def check_paging(page: Any, per_page: Any, max_per_page: int) -> tuple[int, int]:
    """Page and page size as whole numbers (the size capped at ``max_per_page``)."""
    try:
        if isinstance(page, bool) or isinstance(per_page, bool):
            raise ValueError
        page_n, per_n = int(page), int(per_page)
    except (TypeError, ValueError):
        raise SearchError("page and per_page must be whole numbers", param="page") from None
    if page_n < 1:
        raise SearchError("page must be 1 or more", param="page")
    if page_n > MAX_PAGE:
        raise SearchError(f"page must be at most {MAX_PAGE}", param="page")
    if per_n < 1:
        raise SearchError("per_page must be 1 or more", param="per_page")
    return page_n, min(per_n, max_per_page)


def check_sort(sort: Any) -> str:
    """One of ``SORTS`` ("relevance" when not given)."""
    text = (str(sort).strip().lower() if sort is not None else "") or "relevance"
    if text not in SORTS:
        raise SearchError(f"sort must be one of {', '.join(SORTS)}, got {str(sort)[:40]!r}", param="sort")
    return text


def check_near(near: Any, radius: Any) -> tuple[geo.Location | None, float | None]:
    """The location and radius of a near-me search, or (None, None) without a place."""
    if near is None or (isinstance(near, str) and not near.strip()):
        return None, None  # a radius without a place is ignored (forms send both fields)
    if not isinstance(near, str):
        raise SearchError("near must be a ZIP code, a city such as “Atlanta, GA”, or “lat,lon”", param="near")
    try:
        return geo.resolve(near), geo.parse_radius(radius)
    except geo.LocationError as exc:
        raise SearchError(str(exc), code="bad_location", param="near" if "radius" not in str(exc) else "radius") from None


def _query_filter(name: str, raw: str, messages: list[str]) -> list[tuple[str, str]]:
    """Filters typed in the query (``online:yes`` becomes delivery=online); bad values become messages."""
    if name == "online":
        flag = None
        with contextlib.suppress(ValueError):
            flag = normalize_value("military_friendly", raw)
        if flag is None:
            messages.append(f"Ignored online:{raw} (use online:yes).")
            return []
        return [("delivery", "online")] if flag == "yes" else [("delivery", "campus")]
    if name not in FILTERS:
        return []
    values = [v for v in raw.split(",") if v.strip()] if name in ("state", "kind", "degree_level") else [raw]
    out: list[tuple[str, str]] = []
    for value in values:
        try:
            out.append((name, normalize_value(name, value)))
        except ValueError as exc:
            messages.append(f"Ignored {name}:{value} ({exc}).")
    return out
