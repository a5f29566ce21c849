"""The process's one search service: a shared searcher over the index, refreshed when the index changes.

Opening a Whoosh index costs far more than a query, so each worker process keeps one open and
only reopens it when a sync or rebuild published a new generation (the indexer's change token).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app

from indexer.results import SearchError, SearchResult

if TYPE_CHECKING:
    from config import Settings
    from webapp.params import SearchParams

log = logging.getLogger(__name__)

SYNC_LOCK_TIMEOUT = 10.0


@dataclass
class SyncOutcome:
    """How an index sync requested by the web app went."""

    ok: bool
    message: str


class SearchService:
    """Searches, suggestions and career programs over one shared, refreshed searcher."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()

    def search(self, params: SearchParams) -> SearchResult:
        """Run one search (``SearchError`` for bad parameters)."""
        raise SearchError("search is not wired yet", code="unavailable")

    def suggest(self, q: str, *, limit: int = 8) -> list[dict[str, Any]]:
        """Autocomplete suggestions: ``[{"text", "kind", "url"}]``."""
        return []

    def programs_for_career(self, career: dict[str, Any], *, state: str | None, degree_level: str | None,
                            online: bool, page: int, per_page: int) -> dict[str, Any]:
        """Accredited programs that lead to a career, filtered, with counts per state and degree."""
        return {"total": 0, "page": 1, "pages": 1, "items": [], "states": {}, "degree_levels": {}, "fields": []}

    def sort_options(self) -> list[tuple[str, str]]:
        """(value, label) of each sort order the results page offers."""
        return [("relevance", "Best match")]

    def status(self) -> dict[str, Any]:
        """What the index holds: available, doc_count, generation, watermark, kinds, message."""
        return {"available": False, "message": "search is not wired yet"}

    def sync_index(self, settings: Settings) -> SyncOutcome:
        """Apply the catalog's new changes to the index now (after a review is approved)."""
        from indexer.build import IndexError_, sync

        try:
            result = sync(settings, lock_timeout=SYNC_LOCK_TIMEOUT)
        except IndexError_ as exc:
            log.warning("index sync from the web app failed: %s", exc)
            return SyncOutcome(False, str(exc))
        return SyncOutcome(True, result.summary())


def get_search_service() -> SearchService:
    """The app's shared search service."""
    service: SearchService = current_app.extensions["collegesearch_search"]
    return service
