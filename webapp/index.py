"""The process's one search service: a shared searcher over the index, refreshed when the index changes.

Opening a Whoosh index costs far more than a query, so each worker process keeps one open and
only reopens it when a sync or rebuild published a new generation (the indexer's change token).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app

from indexer.results import SearchError, SearchResult

if TYPE_CHECKING:
    from collegesearch.config import Settings
    from indexer.search import Searcher
    from webapp.params import SearchParams

log = logging.getLogger(__name__)

SYNC_LOCK_TIMEOUT = 10.0


@dataclass
class SyncOutcome:
    """How an index sync requested by the web app went."""

    ok: bool
    message: str


SORT_LABELS: dict[str, str] = {
    "relevance": "Best match", "rating": "Highest rated", "pay": "Highest pay", "name": "Name (A to Z)",
    "date": "Newest", "distance": "Nearest",
}


class SearchService:
    """Searches, suggestions and career programs over one shared ``indexer.search.Searcher`` per process.

    The Searcher itself checks the index's change token on every call and reopens the index when a
    sync committed or a rebuild was published; it is thread-safe. It is created lazily, in the
    process that first searches, and again after a fork, so a gunicorn master that preloads the app
    never hands open index files to its workers.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._pid = 0

    @property
    def searcher(self) -> Searcher:
        """This process's Searcher."""
        pid = os.getpid()
        if self._searcher is None or self._pid != pid:
            with self._lock:
                if self._searcher is None or self._pid != pid:
                    from indexer.search import Searcher

                    self._searcher = Searcher(self.settings)
                    self._pid = pid
        return self._searcher

    def close(self) -> None:
        """Release the open index (tests, shutdown)."""
        with self._lock:
            if self._searcher is not None and self._pid == os.getpid():
                self._searcher.close()
            self._searcher = None

    def search(self, params: SearchParams) -> SearchResult:
        """Run one search (``SearchError`` for bad parameters); the same call for pages and the API."""
        from webapp.instruments import observe_search

        searcher = self.searcher
        started = time.perf_counter()
        result = searcher.search(
            params.q, params.filters, sort=params.sort or "relevance", page=params.page, per_page=params.per_page,
            near=params.near, radius=params.radius,
        )
        observe_search(time.perf_counter() - started, searcher.budget)
        return result

    def suggest(self, q: str, *, limit: int = 8) -> list[dict[str, Any]]:
        """Autocomplete entries: ``[{"text", "kind", "url", "id", "matched_alias"}]``."""
        return [
            {"text": s.get("title") or "", "kind": s.get("kind"), "url": s.get("detail_url"), "id": s.get("id"),
             "matched_alias": s.get("matched_alias")}
            for s in self.searcher.suggest(q, limit)
        ]

    def programs_for_career(self, career: dict[str, Any], *, state: str | None, degree_level: str | None,
                            online: bool, page: int, per_page: int) -> dict[str, Any]:
        """Accredited programs that lead to a career, filtered, with counts per state and degree level."""
        filters: dict[str, str] = {}
        if state:
            filters["state"] = state
        if degree_level:
            filters["degree_level"] = degree_level
        if online:
            filters["online"] = "yes"
        soc = str(career.get("soc_code") or career.get("id") or "")
        try:
            result = self.searcher.programs_for_career(soc, filters, page=page, per_page=per_page)
        except SearchError as exc:
            # A bad filter value from the query string: show every program and say why.
            result = self.searcher.programs_for_career(soc, {}, page=1, per_page=per_page)
            result.messages.insert(0, f"Filter ignored: {exc}")
        links = self.searcher.career_links(soc) or {}
        items = []
        for hit in result.hits:
            item = dict(hit.fields)
            item["id"] = item.get("program_id") or hit.id.split(":", 1)[-1]
            item["detail_url"] = hit.detail_url
            items.append(item)
        return {
            "total": result.total, "page": result.page, "pages": result.pages, "per_page": result.per_page,
            "items": items,
            "states": {v.value: v.count for v in result.facets.get("state", []) if v.count},
            "degree_levels": {v.value: v.count for v in result.facets.get("degree_level", []) if v.count},
            "fields": list(links.get("fields_of_study") or []),
            "accreditors": list(links.get("accreditors") or []),
            "messages": result.messages,
        }

    def sort_options(self) -> list[tuple[str, str]]:
        """(value, label) of each sort order the search offers."""
        from indexer.search import SORTS

        return [(s, SORT_LABELS.get(s, s.capitalize())) for s in SORTS]

    def status(self, catalog_seq: int | None = None) -> dict[str, Any]:
        """What the index holds: available, doc_count, generation, watermark, kinds, lag, message."""
        try:
            raw = self.searcher.status()
        except Exception:  # a status box must never take the page down with it
            log.exception("could not read the index status")
            raw = {"state": "unavailable", "message": "the index status could not be read (see the server log)"}
        available = raw.get("state") in ("ok", "stale")
        watermark = raw.get("watermark")
        lag = (catalog_seq - int(watermark)) if available and catalog_seq is not None and watermark is not None else None
        return {
            "available": available, "state": raw.get("state"), "message": raw.get("message"),
            "doc_count": raw.get("doc_count"), "generation": raw.get("generation"), "watermark": watermark,
            "kinds": raw.get("by_kind") or {}, "updated_at": raw.get("updated_at"),
            "lag": max(lag, 0) if lag is not None else None,
            "segments": raw.get("segments"), "cache": raw.get("cache") or {},
        }

    def sync_index(self, settings: Settings) -> SyncOutcome:
        """Apply the catalog's new changes to the index now (after a review is approved)."""
        from indexer.build import IndexError_, sync

        try:
            result = sync(settings, lock_timeout=SYNC_LOCK_TIMEOUT)
        except IndexError_ as exc:
            log.warning("index sync from the web app failed: %s", exc)
            return SyncOutcome(False, str(exc))
        self.searcher.refresh()
        return SyncOutcome(True, result.summary())


def get_search_service() -> SearchService:
    """The app's shared search service."""
    service: SearchService = current_app.extensions["collegesearch_search"]
    return service
