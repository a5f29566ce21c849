"""The catalog: SQLite (WAL) system of record for items, pages, runs and user reviews.

``Catalog`` is one connection to the file, composed of one part per table group (each in its own module):
opening and transactions (``connection``), items and their tombstones (``records``), the change log
(``changes``), the page cache (``pages``), crawl runs and scheduler events (``runs``), user reviews and
their moderation (``reviews``), record-linkage decisions (``links``) and small named values (``meta``).
"""

from __future__ import annotations

from catalog.changes import Change, ChangeLog
from catalog.connection import CatalogError, utcnow
from catalog.links import EntityLink, EntityLinks
from catalog.meta import Meta
from catalog.pages import PageCache, PageRecord
from catalog.records import ItemRecords, StoredItem, UpsertOutcome, content_hash
from catalog.reviews import UserReview, UserReviews
from catalog.runs import Run, RunLog, ScheduleEvent

__all__ = [
    "Catalog",
    "CatalogError",
    "Change",
    "EntityLink",
    "PageRecord",
    "Run",
    "ScheduleEvent",
    "StoredItem",
    "UpsertOutcome",
    "UserReview",
    "content_hash",
    "utcnow",
]


class Catalog(PageCache, UserReviews, ItemRecords, ChangeLog, RunLog, EntityLinks, Meta):
    """A connection to the catalog file; open one per thread or process."""
