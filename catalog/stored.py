"""A stored record (an observation in ``items`` or a fused entity in ``entities``): its data and bookkeeping."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from catalog.database import Row
from model.items import Item, item_from_dict


@dataclass
class StoredItem:
    """An item row: the item's data plus the catalog's bookkeeping."""

    kind: str
    item_id: str
    source: str
    url: str
    data: dict[str, Any]
    content_hash: str
    first_seen: str
    last_seen: str
    last_changed: str
    deleted_at: str | None = None
    deleted_reason: str | None = None
    page_url: str | None = None
    last_run_id: int | None = None

    @property
    def item(self) -> Item:
        """The item as its dataclass."""
        return item_from_dict(self.data)


def stored_from_row(row: Row) -> StoredItem:
    """A row of ``items`` or ``entities`` as a StoredItem."""
    return StoredItem(
        kind=row["kind"], item_id=row["item_id"], source=row["source"], url=row["url"], data=json.loads(row["data"]),
        content_hash=row["content_hash"], first_seen=row["first_seen"], last_seen=row["last_seen"],
        last_changed=row["last_changed"], deleted_at=row["deleted_at"], deleted_reason=row["deleted_reason"],
        page_url=row["page_url"], last_run_id=row["last_run_id"],
    )
