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

from catalog.connection import to_json
from catalog.record_reads import in_list
from catalog.records import ItemRecords, UpsertOutcome, content_hash, record_diff, record_parent, record_title

BatchEntry = tuple[dict[str, Any], str, str | None]
"""One item to store: its ``to_dict()`` output, its id and the URL of the page it came from."""

_INSERT = (
    "INSERT INTO items (kind, item_id, source, url, page_url, parent_id, title, state, data,"
    " content_hash, first_seen, last_seen, last_changed, last_run_id)"
    " VALUES (:kind, :item_id, :source, :url, :page_url, :parent_id, :title, :state, :data,"
    " :content_hash, :now, :now, :now, :run_id) ON CONFLICT (kind, item_id) DO NOTHING"
)
_SEEN = (
    "UPDATE items SET last_seen = :now, last_run_id = :run_id, missing_runs = 0,"
    " page_url = COALESCE(:page_url, page_url) WHERE kind = :kind AND item_id = :item_id"
)
_REWRITE = (
    "UPDATE items SET source = :source, url = :url, page_url = :page_url, parent_id = :parent_id,"
    " title = :title, state = :state, data = :data, content_hash = :content_hash, last_seen = :now,"
    " last_changed = :now, last_run_id = :run_id, missing_runs = 0,"
    " deleted_at = NULL, deleted_reason = NULL WHERE kind = :kind AND item_id = :item_id"
)
_LOG = (
    "INSERT INTO changes (kind, item_id, op, at, run_id, source, state, title, diff)"
    " VALUES (:kind, :item_id, :op, :at, :run_id, :source, :state, :title, :diff)"
)
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
            title, state, parent = record_title(data), data.get("state") or data.get("institution_state"), record_parent(data)
            values = {"kind": kind, "item_id": item_id, "source": data.get("source") or "", "url": data["url"],
                      "page_url": page_url or data["url"], "parent_id": parent, "title": title, "state": state,
                      "data": to_json(data), "content_hash": digest, "now": now, "run_id": run_id}
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
            logs.append({"kind": kind, "item_id": item_id, "op": op, "at": now, "run_id": run_id,
                         "source": data.get("source"), "state": state, "title": title,
                         "diff": to_json(diff) if diff else None})
        if inserts:
            added = self.conn.execute(_INSERT, inserts).rowcount
            if added != len(inserts):  # SQLite's write lock is held since BEGIN IMMEDIATE: nobody else inserts
                raise RuntimeError(f"stored {added} of {len(inserts)} new items: the items table changed under the batch")
        if seen:
            self.conn.execute(_SEEN, seen)
        if rewrites:
            self.conn.execute(_REWRITE, rewrites)
        if logs:
            self.conn.execute(_LOG, logs)
        return outcomes
