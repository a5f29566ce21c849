"""The items table: storing items with content hashes, tombstones, the change-log entries they write, and reading them."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from catalog.connection import CatalogConnection, to_json
from model.items import Item, item_from_dict

UpsertOutcome = str  # "new" | "changed" | "unchanged" | "revived"


def content_hash(data: dict[str, Any]) -> str:
    """A stable hash of an item's fields (keys sorted, so field order does not matter)."""
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _parent_id(data: dict[str, Any]) -> str | None:
    if data.get("kind") in ("program", "review"):
        value = data.get("institution_unitid")
        return str(value) if value else None
    return None


def _title(data: dict[str, Any]) -> str | None:
    for key in ("title", "name", "institution_name"):
        if data.get(key):
            return str(data[key])
    return None


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}


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


class ItemRecords(CatalogConnection):
    """Items by kind and id: upsert, tombstones, sweeps after complete crawls, lookups, counts and rating stats."""

    # -- writing ---------------------------------------------------------------------

    def upsert(self, item: Item, *, run_id: int | None = None, page_url: str | None = None) -> UpsertOutcome:
        """Store an item; the content hash decides whether it is new, changed or unchanged."""
        return self.upsert_data(item.to_dict(), item.item_id, run_id=run_id, page_url=page_url)

    def upsert_data(
        self, data: dict[str, Any], item_id: str, *, run_id: int | None = None, page_url: str | None = None
    ) -> UpsertOutcome:
        """Store an item given as ``to_dict()`` output (see ``upsert``)."""
        kind = data["kind"]
        digest = content_hash(data)
        now = self.clock()
        with self.transaction():
            row = self.conn.execute(
                "SELECT content_hash, deleted_at, data FROM items WHERE kind = ? AND item_id = ?", (kind, item_id)
            ).fetchone()
            title, state, parent = _title(data), data.get("state") or data.get("institution_state"), _parent_id(data)
            if row is None:
                self.conn.execute(
                    "INSERT INTO items (kind, item_id, source, url, page_url, parent_id, title, state, data,"
                    " content_hash, first_seen, last_seen, last_changed, last_run_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (kind, item_id, data.get("source") or "", data["url"], page_url or data["url"], parent, title,
                     state, to_json(data), digest, now, now, now, run_id),
                )
                self._log(kind, item_id, "new", now, run_id, data, None)
                return "new"
            if row["content_hash"] == digest and row["deleted_at"] is None:
                self.conn.execute(
                    "UPDATE items SET last_seen = ?, last_run_id = ?, missing_runs = 0,"
                    " page_url = COALESCE(?, page_url) WHERE kind = ? AND item_id = ?",
                    (now, run_id, page_url, kind, item_id),
                )
                return "unchanged"
            old = json.loads(row["data"])
            self.conn.execute(
                "UPDATE items SET source = ?, url = ?, page_url = ?, parent_id = ?, title = ?, state = ?, data = ?,"
                " content_hash = ?, last_seen = ?, last_changed = ?, last_run_id = ?, missing_runs = 0,"
                " deleted_at = NULL, deleted_reason = NULL WHERE kind = ? AND item_id = ?",
                (data.get("source") or "", data["url"], page_url or data["url"], parent, title, state, to_json(data),
                 digest, now, now, run_id, kind, item_id),
            )
            if row["deleted_at"] is not None:
                self._log(kind, item_id, "revived", now, run_id, data, _diff(old, data) or None)
                return "revived"
            self._log(kind, item_id, "changed", now, run_id, data, _diff(old, data))
            return "changed"

    def upsert_many(
        self, items: Iterable[Item], *, run_id: int | None = None, page_url: str | None = None
    ) -> Counter[str]:
        """Store several items in one transaction; returns counts per outcome."""
        outcomes: Counter[str] = Counter()
        with self.transaction():
            for item in items:
                outcomes[self.upsert(item, run_id=run_id, page_url=page_url)] += 1
        return outcomes

    def _log(
        self, kind: str, item_id: str, op: str, at: str, run_id: int | None, data: dict[str, Any],
        diff: dict[str, list[Any]] | None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO changes (kind, item_id, op, at, run_id, source, state, title, diff)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, item_id, op, at, run_id, data.get("source"), data.get("state") or data.get("institution_state"),
             _title(data), to_json(diff) if diff else None),
        )

    # -- presence and tombstones -------------------------------------------------------

    def touch_page_items(self, page_url: str, run_id: int | None) -> int:
        """Mark every live item of a page as seen (the page answered 304 Not Modified)."""
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE items SET last_seen = ?, last_run_id = ?, missing_runs = 0"
                " WHERE page_url = ? AND deleted_at IS NULL",
                (self.clock(), run_id, page_url),
            )
        return cur.rowcount

    def protect_page_items(self, page_url: str, run_id: int | None) -> int:
        """Count a page's items as present in this run without calling them seen (the fetch failed)."""
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE items SET last_run_id = ? WHERE page_url = ? AND deleted_at IS NULL", (run_id, page_url)
            )
        return cur.rowcount

    def tombstone(self, kind: str, item_id: str, *, reason: str, run_id: int | None = None) -> bool:
        """Mark an item as gone (kept, but hidden and removed from the index); False if already gone."""
        now = self.clock()
        with self.transaction():
            row = self.conn.execute(
                "SELECT data FROM items WHERE kind = ? AND item_id = ? AND deleted_at IS NULL", (kind, item_id)
            ).fetchone()
            if row is None:
                return False
            self.conn.execute(
                "UPDATE items SET deleted_at = ?, deleted_reason = ? WHERE kind = ? AND item_id = ?",
                (now, reason, kind, item_id),
            )
            self._log(kind, item_id, "deleted", now, run_id, json.loads(row["data"]), None)
        return True

    def tombstone_page_items(self, page_url: str, *, reason: str, run_id: int | None = None) -> int:
        """Tombstone every live item extracted from a page (the page answered 404 or 410)."""
        with self.transaction():
            rows = self.conn.execute(
                "SELECT kind, item_id FROM items WHERE page_url = ? AND deleted_at IS NULL", (page_url,)
            ).fetchall()
            for row in rows:
                self.tombstone(row["kind"], row["item_id"], reason=reason, run_id=run_id)
        return len(rows)

    def sweep_missing(self, source: str, run_id: int, *, threshold: int = 2) -> int:
        """After a complete crawl: count items the run did not see; tombstone those missing ``threshold`` times."""
        with self.transaction():
            self.conn.execute(
                "UPDATE items SET missing_runs = missing_runs + 1 WHERE source = ? AND deleted_at IS NULL"
                " AND (last_run_id IS NULL OR last_run_id != ?)",
                (source, run_id),
            )
            rows = self.conn.execute(
                "SELECT kind, item_id, missing_runs FROM items WHERE source = ? AND deleted_at IS NULL"
                " AND missing_runs >= ?",
                (source, threshold),
            ).fetchall()
            for row in rows:
                self.tombstone(
                    row["kind"], row["item_id"],
                    reason=f"missing from {row['missing_runs']} consecutive complete crawls", run_id=run_id,
                )
            self.conn.execute(
                "UPDATE pages SET missing_runs = missing_runs + 1 WHERE source = ? AND gone_at IS NULL"
                " AND (last_run_id IS NULL OR last_run_id != ?)",
                (source, run_id),
            )
            self.conn.execute(
                "UPDATE pages SET gone_at = ? WHERE source = ? AND gone_at IS NULL AND missing_runs >= ?",
                (self.clock(), source, threshold),
            )
        return len(rows)

    # -- reading ---------------------------------------------------------------------

    def get(self, kind: str, item_id: str, *, include_deleted: bool = False) -> StoredItem | None:
        """One stored item, or None."""
        sql = "SELECT * FROM items WHERE kind = ? AND item_id = ?"
        if not include_deleted:
            sql += " AND deleted_at IS NULL"
        row = self.conn.execute(sql, (kind, item_id)).fetchone()
        return _stored(row) if row else None

    def get_many(self, kind: str, item_ids: Sequence[str], *, include_deleted: bool = False) -> dict[str, StoredItem]:
        """Several live items of one kind by id (tombstoned ones too with ``include_deleted``)."""
        found: dict[str, StoredItem] = {}
        ids = list(dict.fromkeys(item_ids))
        live = "" if include_deleted else " AND deleted_at IS NULL"
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT * FROM items WHERE kind = ? AND item_id IN ({marks}){live}", (kind, *chunk)  # noqa: S608 - only ? placeholders and fixed clauses are joined in
            ):
                found[row["item_id"]] = _stored(row)
        return found

    def iter_items(
        self,
        kind: str | None = None,
        *,
        source: str | None = None,
        parent_id: str | None = None,
        include_deleted: bool = False,
        batch: int = 1000,
    ) -> Iterator[StoredItem]:
        """Stream stored items, optionally of one kind, source or parent institution."""
        where, args = [], []
        if kind:
            where.append("kind = ?")
            args.append(kind)
        if source:
            where.append("source = ?")
            args.append(source)
        if parent_id:
            where.append("parent_id = ?")
            args.append(parent_id)
        if not include_deleted:
            where.append("deleted_at IS NULL")
        sql = "SELECT * FROM items" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY kind, item_id"  # noqa: S608 - only ? placeholders and fixed clauses are joined in
        cur = self.conn.execute(sql, args)
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            for row in rows:
                yield _stored(row)

    def count(self, kind: str | None = None, *, source: str | None = None, include_deleted: bool = False) -> int:
        """Number of stored items."""
        where, args = [], []
        if kind:
            where.append("kind = ?")
            args.append(kind)
        if source:
            where.append("source = ?")
            args.append(source)
        if not include_deleted:
            where.append("deleted_at IS NULL")
        sql = "SELECT COUNT(*) FROM items" + (" WHERE " + " AND ".join(where) if where else "")  # noqa: S608 - only ? placeholders and fixed clauses are joined in
        return int(self.conn.execute(sql, args).fetchone()[0])

    def counts_by_kind(self) -> dict[str, int]:
        """Live items per kind."""
        return {
            r[0]: r[1]
            for r in self.conn.execute("SELECT kind, COUNT(*) FROM items WHERE deleted_at IS NULL GROUP BY kind")
        }

    def children(
        self, parent_id: str, kind: str, *, limit: int | None = None, offset: int = 0,
        where_json: dict[str, Any] | None = None, order: str = "item_id",
    ) -> list[StoredItem]:
        """Live programs or reviews of one institution, with optional equality filters on item fields."""
        sql = "SELECT * FROM items WHERE parent_id = ? AND kind = ? AND deleted_at IS NULL"
        args: list[Any] = [parent_id, kind]
        for key, value in (where_json or {}).items():
            if not key.isidentifier():
                raise ValueError(f"bad field name {key!r}")
            sql += f" AND json_extract(data, '$.{key}') = ?"
            args.append(value)
        orders = {
            "item_id": "item_id",
            "newest": "json_extract(data, '$.date') DESC, item_id",
            "title": "title COLLATE NOCASE, item_id",
        }
        sql += " ORDER BY " + orders.get(order, "item_id")
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        return [_stored(r) for r in self.conn.execute(sql, args)]

    def count_children(self, parent_id: str, kind: str, where_json: dict[str, Any] | None = None) -> int:
        """Number of live programs or reviews of one institution."""
        sql = "SELECT COUNT(*) FROM items WHERE parent_id = ? AND kind = ? AND deleted_at IS NULL"
        args: list[Any] = [parent_id, kind]
        for key, value in (where_json or {}).items():
            if not key.isidentifier():
                raise ValueError(f"bad field name {key!r}")
            sql += f" AND json_extract(data, '$.{key}') = ?"
            args.append(value)
        return int(self.conn.execute(sql, args).fetchone()[0])

    def rating_stats(self, parent_id: str | None = None) -> dict[str, dict[str, Any]]:
        """Review count, average and 1-5 histogram per institution (or for one)."""
        sql = (
            "SELECT parent_id, CAST(json_extract(data, '$.rating') AS INTEGER) AS r, COUNT(*) FROM items"
            " WHERE kind = 'review' AND deleted_at IS NULL AND parent_id IS NOT NULL"
        )
        args: list[Any] = []
        if parent_id is not None:
            sql += " AND parent_id = ?"
            args.append(parent_id)
        sql += " GROUP BY parent_id, r"
        stats: dict[str, dict[str, Any]] = {}
        for pid, rating, n in self.conn.execute(sql, args):
            entry = stats.setdefault(pid, {"count": 0, "sum": 0, "histogram": {i: 0 for i in range(1, 6)}})
            if rating in entry["histogram"]:
                entry["histogram"][rating] += n
                entry["count"] += n
                entry["sum"] += rating * n
        for entry in stats.values():
            entry["average"] = round(entry["sum"] / entry["count"], 2) if entry["count"] else None
            del entry["sum"]
        return stats


def _stored(row: sqlite3.Row) -> StoredItem:
    return StoredItem(
        kind=row["kind"], item_id=row["item_id"], source=row["source"], url=row["url"], data=json.loads(row["data"]),
        content_hash=row["content_hash"], first_seen=row["first_seen"], last_seen=row["last_seen"],
        last_changed=row["last_changed"], deleted_at=row["deleted_at"], deleted_reason=row["deleted_reason"],
        page_url=row["page_url"], last_run_id=row["last_run_id"],
    )
