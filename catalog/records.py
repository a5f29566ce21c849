"""The items table: storing items with content hashes, tombstones, the change-log entries they write, and reading them."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from catalog.connection import to_json
from catalog.database import Sql
from catalog.record_reads import RecordReads
from model.items import Item

UpsertOutcome = str  # "new" | "changed" | "unchanged" | "revived"


def content_hash(data: dict[str, Any]) -> str:
    """A stable hash of an item's fields (keys sorted, so field order does not matter)."""
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def record_parent(data: dict[str, Any]) -> str | None:
    """The institution a program or review belongs to (the ``parent_id`` column)."""
    if data.get("kind") in ("program", "review"):
        value = data.get("institution_unitid")
        return str(value) if value else None
    return None


def record_title(data: dict[str, Any]) -> str | None:
    """A record's title for listings and the change log."""
    for key in ("title", "name", "institution_name"):
        if data.get(key):
            return str(data[key])
    return None


def record_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """Field -> [old, new] for every field that differs."""
    return {k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}


# The item statements, shared by ``ItemRecords.upsert_data`` and ``RecordBatches.upsert_batch``
# (catalog/record_batches.py), which must store exactly alike; ``item_row`` gives their parameters.
INSERT_ITEM = (
    "INSERT INTO items (kind, item_id, source, url, page_url, parent_id, title, state, data,"
    " content_hash, first_seen, last_seen, last_changed, last_run_id)"
    " VALUES (:kind, :item_id, :source, :url, :page_url, :parent_id, :title, :state, :data,"
    " :content_hash, :now, :now, :now, :run_id) ON CONFLICT (kind, item_id) DO NOTHING"
)
MARK_ITEM_SEEN = (
    "UPDATE items SET last_seen = :now, last_run_id = :run_id, missing_runs = 0,"
    " page_url = COALESCE(:page_url, page_url) WHERE kind = :kind AND item_id = :item_id"
)
REWRITE_ITEM = (
    "UPDATE items SET source = :source, url = :url, page_url = :page_url, parent_id = :parent_id,"
    " title = :title, state = :state, data = :data, content_hash = :content_hash, last_seen = :now,"
    " last_changed = :now, last_run_id = :run_id, missing_runs = 0,"
    " deleted_at = NULL, deleted_reason = NULL WHERE kind = :kind AND item_id = :item_id"
)


def item_row(data: dict[str, Any], item_id: str, *, page_url: str | None, digest: str, now: str,
             run_id: int | None) -> dict[str, Any]:
    """The parameters of ``INSERT_ITEM`` and ``REWRITE_ITEM`` for one item."""
    return {"kind": data["kind"], "item_id": item_id, "source": data.get("source") or "", "url": data["url"],
            "page_url": page_url or data["url"], "parent_id": record_parent(data), "title": record_title(data),
            "state": record_state(data), "data": to_json(data), "content_hash": digest, "now": now,
            "run_id": run_id}


def record_state(data: dict[str, Any]) -> str | None:
    """A record's state for the ``state`` columns (a program's or review's is its school's)."""
    return data.get("state") or data.get("institution_state")


class ItemRecords(RecordReads):
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
            row = self._locked_row(kind, item_id)
            if row is None:
                # ON CONFLICT DO NOTHING: in PostgreSQL two crawls (two sources listing the same id, on two
                # workers) can both find no row; the loser waits for the winner's commit, inserts nothing,
                # and then stores its copy as a change of the winner's row instead of failing the page.
                values = item_row(data, item_id, page_url=page_url, digest=digest, now=now, run_id=run_id)
                if self.conn.execute(INSERT_ITEM, values).rowcount:
                    self._log(kind, item_id, "new", now, run_id, data, None)
                    return "new"
                row = self._locked_row(kind, item_id)
                if row is None:  # deleted between the two statements: nothing else deletes items rows
                    raise RuntimeError(f"{kind} {item_id!r} vanished while it was being stored")
            if row["content_hash"] == digest and row["deleted_at"] is None:
                self.conn.execute(MARK_ITEM_SEEN, {"now": now, "run_id": run_id, "page_url": page_url, "kind": kind,
                                                   "item_id": item_id})
                return "unchanged"
            old = json.loads(row["data"])
            self.conn.execute(REWRITE_ITEM, item_row(data, item_id, page_url=page_url, digest=digest, now=now,
                                                     run_id=run_id))
            if row["deleted_at"] is not None:
                self._log(kind, item_id, "revived", now, run_id, data, record_diff(old, data) or None)
                return "revived"
            self._log(kind, item_id, "changed", now, run_id, data, record_diff(old, data))
            return "changed"

    def _locked_row(self, kind: str, item_id: str) -> Any:
        """An item's stored hash, tombstone and data; in PostgreSQL the row stays locked until commit."""
        # FOR UPDATE: two writers of one item take turns, so each diff in the change log is against the
        # row as the other left it. SQLite needs no row lock: its write transaction already holds the file.
        lock = " FOR UPDATE" if self.conn.postgres else ""
        return self.conn.execute(
            "SELECT content_hash, deleted_at, data FROM items WHERE kind = :kind AND item_id = :item_id" + lock,  # noqa: S608 - one of two constants
            {"kind": kind, "item_id": item_id},
        ).fetchone()

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
        log_change(self.conn, "changes", kind, item_id, op, at, run_id, data.get("source"), data, diff)

    # -- presence and tombstones -------------------------------------------------------

    def touch_page_items(self, page_url: str, run_id: int | None) -> int:
        """Mark every live item of a page as seen (the page answered 304 Not Modified)."""
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE items SET last_seen = :now, last_run_id = :run_id, missing_runs = 0"
                " WHERE page_url = :page_url AND deleted_at IS NULL",
                {"now": self.clock(), "run_id": run_id, "page_url": page_url},
            )
        return cur.rowcount

    def protect_page_items(self, page_url: str, run_id: int | None) -> int:
        """Count a page's items as present in this run without calling them seen (the fetch failed)."""
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE items SET last_run_id = :run_id WHERE page_url = :page_url AND deleted_at IS NULL",
                {"run_id": run_id, "page_url": page_url},
            )
        return cur.rowcount

    def tombstone(self, kind: str, item_id: str, *, reason: str, run_id: int | None = None) -> bool:
        """Mark an item as gone (kept, but hidden and removed from the index); False if already gone."""
        now = self.clock()
        with self.transaction():
            row = self.conn.execute(
                "SELECT data FROM items WHERE kind = :kind AND item_id = :item_id AND deleted_at IS NULL",
                {"kind": kind, "item_id": item_id},
            ).fetchone()
            if row is None:
                return False
            self.conn.execute(
                "UPDATE items SET deleted_at = :now, deleted_reason = :reason WHERE kind = :kind AND item_id = :item_id",
                {"now": now, "reason": reason, "kind": kind, "item_id": item_id},
            )
            self._log(kind, item_id, "deleted", now, run_id, json.loads(row["data"]), None)
        return True

    def tombstone_page_items(self, page_url: str, *, reason: str, run_id: int | None = None) -> int:
        """Tombstone every live item extracted from a page (the page answered 404 or 410)."""
        with self.transaction():
            rows = self.conn.execute(
                "SELECT kind, item_id FROM items WHERE page_url = :page_url AND deleted_at IS NULL",
                {"page_url": page_url},
            ).fetchall()
            for row in rows:
                self.tombstone(row["kind"], row["item_id"], reason=reason, run_id=run_id)
        return len(rows)

    def sweep_missing(self, source: str, run_id: int, *, threshold: int = 2) -> int:
        """After a complete crawl: count items the run did not see; tombstone those missing ``threshold`` times."""
        with self.transaction():
            self.conn.execute(
                "UPDATE items SET missing_runs = missing_runs + 1 WHERE source = :source AND deleted_at IS NULL"
                " AND (last_run_id IS NULL OR last_run_id != :run_id)",
                {"source": source, "run_id": run_id},
            )
            rows = self.conn.execute(
                "SELECT kind, item_id, missing_runs FROM items WHERE source = :source AND deleted_at IS NULL"
                " AND missing_runs >= :threshold",
                {"source": source, "threshold": threshold},
            ).fetchall()
            for row in rows:
                self.tombstone(
                    row["kind"], row["item_id"],
                    reason=f"missing from {row['missing_runs']} consecutive complete crawls", run_id=run_id,
                )
            self.conn.execute(
                "UPDATE pages SET missing_runs = missing_runs + 1 WHERE source = :source AND gone_at IS NULL"
                " AND (last_run_id IS NULL OR last_run_id != :run_id)",
                {"source": source, "run_id": run_id},
            )
            self.conn.execute(
                "UPDATE pages SET gone_at = :now WHERE source = :source AND gone_at IS NULL"
                " AND missing_runs >= :threshold",
                {"now": self.clock(), "source": source, "threshold": threshold},
            )
        return len(rows)


CHANGE_LOGS = ("changes", "entity_changes")
"""The two change logs of one shape: observations' and fused records'."""


def change_row(
    kind: str, item_id: str, op: str, at: str, run_id: int | None, source: str | None, data: dict[str, Any],
    diff: dict[str, list[Any]] | None,
) -> dict[str, Any]:
    """The parameters of one change-log entry (see ``log_changes``)."""
    return {"kind": kind, "item_id": item_id, "op": op, "at": at, "run_id": run_id, "source": source,
            "state": record_state(data), "title": record_title(data), "diff": to_json(diff) if diff else None}


def log_change(
    conn: Sql, table: str, kind: str, item_id: str, op: str, at: str, run_id: int | None,
    source: str | None, data: dict[str, Any], diff: dict[str, list[Any]] | None,
) -> None:
    """Append one entry to a change log (``table`` is one of ``CHANGE_LOGS``)."""
    log_changes(conn, table, [change_row(kind, item_id, op, at, run_id, source, data, diff)])


def log_changes(conn: Sql, table: str, rows: list[dict[str, Any]]) -> None:
    """Append entries made by ``change_row`` to a change log (``table`` is one of ``CHANGE_LOGS``)."""
    if table not in CHANGE_LOGS:
        raise ValueError(f"not a change log: {table!r}")
    conn.execute(
        f"INSERT INTO {table} (kind, item_id, op, at, run_id, source, state, title, diff)"  # noqa: S608 - checked against CHANGE_LOGS
        " VALUES (:kind, :item_id, :op, :at, :run_id, :source, :state, :title, :diff)",
        rows,
    )
