"""Storing many items at once: what ``ItemRecords.upsert_data`` does item by item, in a few statements.

A crawl stores about four items per page. Item by item that is one SELECT, one INSERT or UPDATE and
one change-log INSERT each, and in SQLite the statement overhead (SQLAlchemy's and the driver's), not
the work, is most of the cost. ``upsert_batch`` reads the stored hashes of a whole batch in one SELECT
per kind, decides each item exactly as ``upsert_data`` does (new, changed, unchanged, revived, with
the same change-log entries in the same order), then writes each kind of statement once with
``executemany``. PostgreSQL keeps the item-by-item path: there two crawls may store the same item at
once, and ``upsert_data``'s row locks and conflict handling are what keep that right.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from catalog.record_reads import in_list
from catalog.records import (
    INSERT_ITEM,
    MARK_ITEM_SEEN,
    REWRITE_ITEM,
    ItemRecords,
    UpsertOutcome,
    change_row,
    content_hash,
    item_row,
    log_changes,
    record_diff,
)

BatchEntry = tuple[dict[str, Any], str, str | None]
"""One item to store: its ``to_dict()`` output, its id and the URL of the page it came from."""

_CHUNK = 500
"""Ids per SELECT (well under SQLite's limit of bound parameters)."""


class RecordBatches(ItemRecords):
    """``upsert_batch``: many items in one transaction, with ``upsert_data``'s outcomes and change log."""

    def upsert_batch(self, entries: Sequence[BatchEntry], *, run_id: int | None = None) -> list[UpsertOutcome]:
        """Store items given as ``(to_dict() output, item_id, page_url)``; their outcomes, in order.

        The same as calling ``upsert_data`` for each entry in order (an item listed twice is stored
        twice, the second time against the first), in one transaction.
        """
        outcomes: list[UpsertOutcome] = []
        with self.transaction():
            if self.conn.postgres:
                return [self.upsert_data(data, item_id, run_id=run_id, page_url=page_url)
                        for data, item_id, page_url in entries]
            start = 0
            while start < len(entries):
                # A run of entries with no key twice: each is decided against the row as stored before it.
                end, keys = start, set()
                while end < len(entries) and (entries[end][0]["kind"], entries[end][1]) not in keys:
                    keys.add((entries[end][0]["kind"], entries[end][1]))
                    end += 1
                outcomes.extend(self._upsert_distinct(entries[start:end], run_id))
                start = end
        return outcomes

    def _stored_rows(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """(kind, item_id) -> the stored row's hash, tombstone and data, for those that exist."""
        by_kind: dict[str, list[str]] = {}
        for kind, item_id in keys:
            by_kind.setdefault(kind, []).append(item_id)
        found: dict[tuple[str, str], Any] = {}
        for kind, ids in by_kind.items():
            for first in range(0, len(ids), _CHUNK):
                marks, args = in_list("id", ids[first:first + _CHUNK])
                rows = self.conn.execute(
                    f"SELECT item_id, content_hash, deleted_at, data FROM items WHERE kind = :kind AND item_id IN ({marks})",  # noqa: S608 - in_list() placeholders only
                    {"kind": kind, **args},
                ).fetchall()
                for row in rows:
                    found[(kind, row["item_id"])] = row
        return found

    def _upsert_distinct(self, entries: Sequence[BatchEntry], run_id: int | None) -> list[UpsertOutcome]:
        """Entries whose keys all differ: one read, then each kind of write once."""
        stored = self._stored_rows([(data["kind"], item_id) for data, item_id, _ in entries])
        outcomes: list[UpsertOutcome] = []
        inserts: list[dict[str, Any]] = []
        seen: list[dict[str, Any]] = []
        rewrites: list[dict[str, Any]] = []
        logs: list[dict[str, Any]] = []
        for data, item_id, page_url in entries:
            kind = data["kind"]
            digest = content_hash(data)
            now = self.clock()
            row = stored.get((kind, item_id))
            if row is not None and row["content_hash"] == digest and row["deleted_at"] is None:
                seen.append({"now": now, "run_id": run_id, "page_url": page_url, "kind": kind, "item_id": item_id})
                outcomes.append("unchanged")
                continue
            values = item_row(data, item_id, page_url=page_url, digest=digest, now=now, run_id=run_id)
            if row is None:
                inserts.append(values)
                op, diff = "new", None
            else:
                rewrites.append(values)
                old = json.loads(row["data"])
                if row["deleted_at"] is not None:
                    op, diff = "revived", record_diff(old, data) or None
                else:
                    op, diff = "changed", record_diff(old, data)
            outcomes.append(op)
            logs.append(change_row(kind, item_id, op, now, run_id, data.get("source"), data, diff))
        if inserts:
            added = self.conn.execute(INSERT_ITEM, inserts).rowcount
            if added != len(inserts):  # SQLite's write lock is held since BEGIN IMMEDIATE: nobody else inserts
                raise RuntimeError(f"stored {added} of {len(inserts)} new items: the items table changed under the batch")
        if seen:
            self.conn.execute(MARK_ITEM_SEEN, seen)
        if rewrites:
            self.conn.execute(REWRITE_ITEM, rewrites)
        if logs:
            log_changes(self.conn, "changes", logs)
        return outcomes
