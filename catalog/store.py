"""The catalog: SQLite (WAL) system of record for items, pages, runs and user reviews.

``Catalog`` is one connection to the file, composed of one part per table group (each in its own module):
opening and transactions (``connection``), items and their tombstones (``records``; many at once: ``record_batches``), the change log
(``changes``), the page cache (``pages``), crawl runs and scheduler events (``runs``), user reviews and
their moderation (``reviews``), record-linkage decisions (``links``), the fused entities (``entities`` writes them, ``fused`` reads them,
``fusion`` decides them) and small named values (``meta``).
"""

from __future__ import annotations

from typing import Any

from catalog.changes import Change, ChangeLog
from catalog.connection import CatalogError, utcnow
from catalog.entities import EntityStore, FusionResult
from catalog.fused import FusedView
from catalog.links import EntityLink, EntityLinks
from catalog.meta import Meta
from catalog.pages import PageCache, PageRecord, SourceFreshness
from catalog.record_batches import RecordBatches
from catalog.records import ItemRecords, UpsertOutcome, content_hash
from catalog.reviews import UserReview, UserReviews
from catalog.runs import Run, RunLog, ScheduleEvent
from catalog.stored import StoredItem
from catalog.web_state import WebState

__all__ = [
    "Catalog",
    "CatalogError",
    "Change",
    "EntityLink",
    "FusedView",
    "FusionResult",
    "PageRecord",
    "SourceFreshness",
    "Run",
    "ScheduleEvent",
    "StoredItem",
    "UpsertOutcome",
    "UserReview",
    "content_hash",
    "utcnow",
]


class Catalog(PageCache, UserReviews, RecordBatches, ItemRecords, ChangeLog, RunLog, EntityLinks, EntityStore, WebState, Meta):
    """A connection to the catalog file; open one per thread or process.

    Its item reads (``get``, ``iter_items``...) are the observations, what each source said; ``fused``
    has the same reads over the fused records users see.
    """

    @property
    def fused(self) -> FusedView:
        """The fused records (one per program, institution, career, review), on this connection."""
        view = self.__dict__.get("_fused_view")
        if view is None:
            view = self.__dict__["_fused_view"] = FusedView(self)
        return view

    def finish_run(
        self, run_id: int, *, status: str, stats: dict[str, Any], complete: bool = False, error: str | None = None,
        fuse: bool = True,
    ) -> None:
        """Record how a run ended, after fusing what it stored: a finished run's records are what users see.

        ``fuse=False`` when the caller fused already or cannot (a crawl closing on a full disk).
        """
        if fuse:
            self.fuse_pending()
        super().finish_run(run_id, status=status, stats=stats, complete=complete, error=error)
