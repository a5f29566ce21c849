"""The catalog: SQLite system of record. Only this package speaks SQL."""

from catalog.store import (
    Catalog,
    CatalogError,
    Change,
    EntityLink,
    PageRecord,
    Run,
    ScheduleEvent,
    SourceFreshness,
    StoredItem,
    UserReview,
    content_hash,
    utcnow,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "Change",
    "EntityLink",
    "PageRecord",
    "Run",
    "ScheduleEvent",
    "SourceFreshness",
    "StoredItem",
    "UserReview",
    "content_hash",
    "utcnow",
]
