"""Search parameters read from a query string, shared by the results page and ``/api/search``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from indexer.results import SearchError
from indexer.schema import FACETS, FILTERS

# Facets the sidebar shows, in order (``kind`` is shown as tabs instead), and every filter accepted.
FILTER_PARAMS: tuple[str, ...] = FACETS
ALL_FILTERS: tuple[str, ...] = FILTERS
OTHER_PARAMS: tuple[str, ...] = ("q", "near", "radius", "sort", "page", "per_page")
KNOWN_PARAMS: frozenset[str] = frozenset(ALL_FILTERS + OTHER_PARAMS)

MAX_PAGE = 10_000
MAX_QUERY_CHARS = 10_000
DEFAULT_PER_PAGE = 20

# /api/suggest's limits (checked in webapp.api, described in webapp.openapi).
SUGGEST_MAX_CHARS = 200
SUGGEST_LIMIT_DEFAULT = 8
SUGGEST_LIMIT_MAX = 20


@dataclass
class SearchParams:
    """Everything that decides one page of results; ``to_args()`` gives the URL back."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    near: str | None = None
    radius: str | None = None

    @property
    def is_empty(self) -> bool:
        """No query text, no filter and no location: the results page shows a prompt instead."""
        return not self.q.strip() and not any(self.filters.values()) and not self.near

    def to_args(self) -> dict[str, Any]:
        """The query-string form (lists for repeated filters)."""
        args: dict[str, Any] = {"q": self.q} if self.q else {}
        args.update({k: v for k, v in self.filters.items() if v})
        for name in ("near", "radius", "sort"):
            value = getattr(self, name)
            if value not in (None, ""):
                args[name] = value
        if self.page != 1:
            args["page"] = self.page
        return args


def _int(args: MultiDict[str, str], name: str, default: int, lo: int, hi: int | None) -> int:
    raw = args.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SearchError(f"{name} must be a whole number, got {raw[:40]!r}", param=name) from None
    if value < lo or (hi is not None and value > hi):
        limit = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
        raise SearchError(f"{name} must be {limit}, got {value}", param=name)
    return value


def parse_search_args(args: MultiDict[str, str], *, max_per_page: int, strict: bool = True) -> SearchParams:
    """Read and check the parameters; ``SearchError`` (a 400) for anything malformed or unknown.

    ``per_page`` above ``max_per_page`` is capped rather than refused, so clients asking for "all" still
    get a page. Unknown parameter names are refused when ``strict`` (the API), except ones starting
    with an underscore (cache busters).
    """
    if strict:
        unknown = sorted(k for k in args.keys() if k not in KNOWN_PARAMS and not k.startswith("_"))
        if unknown:
            raise SearchError(
                f"unknown parameter {unknown[0]!r}; known parameters are {', '.join(sorted(KNOWN_PARAMS))}",
                code="unknown_parameter", param=unknown[0],
            )
    q = args.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        q = q[:MAX_QUERY_CHARS]
    filters: dict[str, list[str]] = {}
    for name in ALL_FILTERS:
        values = [v.strip() for v in args.getlist(name) if v.strip()]
        if values:
            # Repeated values mean OR within one facet; duplicates add nothing.
            filters[name] = list(dict.fromkeys(values))
    # The indexer checks radius and near (it knows the limits and the place names).
    radius = args.get("radius", "").strip()[:40] or None
    sort = args.get("sort", "").strip() or None
    near = args.get("near", "").strip() or None
    page = _int(args, "page", 1, 1, MAX_PAGE)
    per_page = min(_int(args, "per_page", min(DEFAULT_PER_PAGE, max_per_page), 1, None), max_per_page)
    return SearchParams(q=q, filters=filters, sort=sort, page=page, per_page=per_page, near=near, radius=radius)
