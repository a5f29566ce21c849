"""What ``indexer.search.search()`` returns: the contract between the indexer and the web app.

The HTML pages and the JSON API both render a ``SearchResult``; ``to_dict()`` is exactly the
``/api/search`` body (see README, "JSON API").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SearchError(ValueError):
    """A search parameter is invalid (unknown facet or sort, bad page, bad location).

    The web app answers 400 with ``{"error": code, "message": str(exc)}``. Query *text* never
    raises: any string gives a result or a message in ``SearchResult.messages``.
    """

    def __init__(self, message: str, *, code: str = "bad_parameter", param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.param = param


# Where each kind's detail page lives in the web app (the indexer fills ``Hit.detail_url``).
DETAIL_URL_PATTERNS: dict[str, str] = {
    "career": "/careers/{id}",
    "institution": "/institutions/{id}",
    "program": "/programs/{id}",
    "review": "/reviews/{id}",
}


def detail_url(kind: str, item_id: str) -> str:
    """The web app path of one record's detail page."""
    from urllib.parse import quote

    return DETAIL_URL_PATTERNS[kind].format(id=quote(str(item_id), safe=":"))


@dataclass
class FacetValue:
    """One value of a facet with its count among the current results."""

    value: str
    count: int
    selected: bool = False
    label: str | None = None
    """Human label when it differs from the value (e.g. "Georgia" for GA, "4+ stars" for 4)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form: value, count, selected (label when set)."""
        data: dict[str, Any] = {"value": self.value, "count": self.count, "selected": self.selected}
        if self.label is not None:
            data["label"] = self.label
        return data


@dataclass
class Hit:
    """One search result."""

    id: str
    """Stable document id, ``<kind>:<item_id>``."""
    kind: str
    title: str
    url: str
    """The source page the record came from."""
    detail_url: str
    """This app's detail page for the record."""
    snippet: str
    """HTML-safe excerpt: the text is escaped, only ``<mark>`` highlight tags are added."""
    score: float
    fields: dict[str, Any] = field(default_factory=dict)
    """The item model's fields (plus derived ones such as rating_avg, review_count)."""
    distance_miles: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form of one result."""
        data: dict[str, Any] = {
            "id": self.id, "kind": self.kind, "title": self.title, "url": self.url,
            "detail_url": self.detail_url, "snippet": self.snippet, "score": round(self.score, 4),
            "fields": self.fields,
        }
        if self.distance_miles is not None:
            data["distance_miles"] = round(self.distance_miles, 1)
        return data


@dataclass
class SearchResult:
    """A page of results with facet counts, a spelling suggestion and timing."""

    query: str
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    suggestion: str | None = None
    """A corrected query ("did you mean") when the query looks misspelled."""
    took_ms: float = 0.0
    filters: dict[str, list[str]] = field(default_factory=dict)
    """Active filters after merging query-language filters (``state:OH``) and parameters."""
    sort: str = "relevance"
    kind_counts: dict[str, int] = field(default_factory=dict)
    """Matches per kind ignoring the kind filter, for the result tabs."""
    messages: list[str] = field(default_factory=list)
    """Notes for the user, e.g. "No exact matches; showing results for similar spellings"."""
    near: dict[str, Any] | None = None
    """The resolved location of a near-me search: label, lat, lon, radius_miles."""
    understood: dict[str, Any] | None = None
    """What the search read from the query's words beyond words: ``{"place": ...}`` (``indexer.places``)."""

    @property
    def pages(self) -> int:
        """Number of result pages."""
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1

    def to_dict(self) -> dict[str, Any]:
        """The ``/api/search`` response body."""
        data: dict[str, Any] = {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "results": [h.to_dict() for h in self.hits],
            "facets": {name: [v.to_dict() for v in values] for name, values in self.facets.items()},
            "suggestion": self.suggestion,
            "took_ms": round(self.took_ms, 2),
            "filters": self.filters,
            "sort": self.sort,
            "kind_counts": self.kind_counts,
            "messages": self.messages,
        }
        if self.near is not None:
            data["near"] = self.near
        if self.understood is not None:
            data["understood"] = self.understood
        return data
