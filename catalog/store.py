"""The catalog: SQLite (WAL) system of record for items, pages, runs and user reviews."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.migrations import MIGRATIONS, SCHEMA_VERSION
from model.items import Item, item_from_dict


class CatalogError(RuntimeError):
    """The catalog cannot be opened or written; the message says why."""


def utcnow() -> str:
    """The current UTC time as an ISO 8601 string with a Z suffix (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


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


@dataclass
class Change:
    """One entry of the change log."""

    seq: int
    kind: str
    item_id: str
    op: str
    at: str
    run_id: int | None
    source: str | None
    state: str | None
    title: str | None
    diff: dict[str, list[Any]] | None


@dataclass
class PageRecord:
    """What the catalog remembers of a fetched page (for conditional requests and resume)."""

    url: str
    source: str
    status: int | None
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    content_type: str | None
    encoding: str | None
    body: bytes | None
    first_seen: str
    last_fetched: str | None
    last_run_id: int | None
    gone_at: str | None


@dataclass
class Run:
    """One crawl run and its stats."""

    id: int
    source: str
    trigger: str
    status: str
    started_at: str
    finished_at: str | None
    pid: int | None
    host: str | None
    complete: bool
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    index_sync: dict[str, Any] | None = None


@dataclass
class ScheduleEvent:
    """Something the crawl scheduler decided that is not a run (a skipped trigger, a planned retry...)."""

    id: int
    at: str
    source: str | None
    event: str
    detail: str | None
    run_id: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"id": self.id, "at": self.at, "source": self.source, "event": self.event, "detail": self.detail,
                "run_id": self.run_id}


@dataclass
class UserReview:
    """A review written on this site, with its moderation state."""

    id: int
    institution_unitid: str
    institution_name: str | None
    rating: int
    category: str | None
    author_role: str | None
    title: str | None
    body: str
    status: str
    submitted_at: str
    client_hash: str | None
    moderated_at: str | None
    moderated_by: str | None
    moderation_note: str | None


@dataclass
class EntityLink:
    """A record-linkage decision: a source's entity tied (or not) to an IPEDS institution."""

    source: str
    entity_id: str
    name: str | None
    city: str | None
    state: str | None
    unitid: str | None
    confidence: float | None
    status: str
    candidates: list[dict[str, Any]]
    updated_at: str


UpsertOutcome = str  # "new" | "changed" | "unchanged" | "revived"


class Catalog:
    """A connection to the catalog file; open one per thread or process."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readonly: bool = False,
        timeout: float = 30.0,
        clock: Callable[[], str] = utcnow,
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.clock = clock
        self._local_tx = threading.local()
        try:
            if readonly:
                if not self.path.exists():
                    raise CatalogError(f"catalog {self.path} does not exist yet; run `collegesearch crawl` first")
                uri = f"file:{self.path.resolve()}?mode=ro"
                self.conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except PermissionError as exc:
            raise CatalogError(f"cannot create the catalog in {self.path.parent}: permission denied") from exc
        except OSError as exc:  # a read-only file system, a full disk, a file where the folder should be
            raise CatalogError(f"cannot create the catalog in {self.path.parent}: {exc.strerror or exc}; "
                               "make DATA_DIR writable or point COLLEGESEARCH_DATA_DIR elsewhere") from exc
        except sqlite3.Error as exc:
            raise CatalogError(f"cannot open catalog {self.path}: {exc}") from exc
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if not readonly:
                mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise CatalogError(f"catalog {self.path}: could not switch to WAL mode (got {mode})")
                # NORMAL is durable in WAL mode except for the last commits on power loss, never corrupt.
                self.conn.execute("PRAGMA synchronous = NORMAL")
                self.conn.execute("PRAGMA foreign_keys = ON")
                self.migrate()
            else:
                version = self.schema_version()
                if version > SCHEMA_VERSION:
                    raise CatalogError(
                        f"catalog {self.path} has schema version {version}, newer than this program "
                        f"({SCHEMA_VERSION}); upgrade collegesearch"
                    )
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise CatalogError(f"catalog {self.path} is not a usable SQLite database: {exc}") from exc

    # -- lifecycle -----------------------------------------------------------------

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        """The schema version of the open file."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> int:
        """Apply pending migrations in one transaction each; returns the new version."""
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"catalog {self.path} has schema version {version}, newer than this program ({SCHEMA_VERSION})"
            )
        while version < SCHEMA_VERSION:
            script = MIGRATIONS[version]
            # executescript commits first, so the whole step runs in our own explicit transaction.
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if self.schema_version() != version:  # another process migrated meanwhile
                    self.conn.execute("ROLLBACK")
                    version = self.schema_version()
                    continue
                for statement in _split_sql(script):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {version + 1}")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            version += 1
        return version

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes in one transaction (nested calls join the outer one)."""
        depth = getattr(self._local_tx, "depth", 0)
        if depth == 0:
            self.conn.execute("BEGIN IMMEDIATE")
        self._local_tx.depth = depth + 1
        try:
            yield
        except BaseException:
            self._local_tx.depth = depth
            # SQLite may already have rolled back on its own (SQLITE_FULL, SQLITE_IOERR): a second
            # ROLLBACK would fail and hide the real error.
            if depth == 0 and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            self._local_tx.depth = depth
            if depth == 0:
                try:
                    self.conn.execute("COMMIT")
                except BaseException:
                    # A COMMIT refused (disk full, I/O error) must not leave the connection inside a
                    # half-written transaction that the next BEGIN would trip over.
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise

    def integrity_check(self) -> list[str]:
        """Problems SQLite finds in the file; an empty list means it is sound."""
        rows = [r[0] for r in self.conn.execute("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows

    # -- items ---------------------------------------------------------------------

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
                     state, _dumps(data), digest, now, now, now, run_id),
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
                (data.get("source") or "", data["url"], page_url or data["url"], parent, title, state, _dumps(data),
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
             _title(data), _dumps(diff) if diff else None),
        )

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

    # -- change log ----------------------------------------------------------------

    def max_change_seq(self) -> int:
        """The newest change-log sequence number (0 when empty)."""
        return int(self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])

    def changes_since(self, seq: int, *, limit: int = 1000) -> list[Change]:
        """Change-log entries after ``seq``, oldest first."""
        rows = self.conn.execute("SELECT * FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
        return [_change(r) for r in rows]

    def change_feed(
        self,
        *,
        kinds: Sequence[str] = (),
        state: str | None = None,
        ops: Sequence[str] = (),
        since: str | None = None,
        before_seq: int | None = None,
        run_id: int | None = None,
        fields: Sequence[str] = (),
        limit: int = 100,
    ) -> list[Change]:
        """Newest-first changes for people to read, filtered by kind, state, operation, time, run and changed field.

        ``fields`` keeps changes whose diff touches at least one of the named item fields
        (e.g. ``accreditation_status`` for status changes, ``median_pay_annual`` for pay changes).
        """
        sql = "SELECT * FROM changes WHERE 1 = 1"
        args: list[Any] = []
        if fields:
            sql += " AND (" + " OR ".join("json_type(diff, ?) IS NOT NULL" for _ in fields) + ")"
            args += [_json_path(f) for f in fields]
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += list(kinds)
        if ops:
            sql += f" AND op IN ({','.join('?' * len(ops))})"
            args += list(ops)
        if state:
            sql += " AND state = ?"
            args.append(state)
        if since:
            sql += " AND at >= ?"
            args.append(since)
        if before_seq is not None:
            sql += " AND seq < ?"
            args.append(before_seq)
        if run_id is not None:
            sql += " AND run_id = ?"
            args.append(run_id)
        sql += " ORDER BY seq DESC LIMIT ?"
        args.append(limit)
        return [_change(r) for r in self.conn.execute(sql, args)]

    def change_summary(
        self, *, run_ids: Sequence[int] = (), since: str | None = None, status_field: str = "accreditation_status",
        closing_statuses: Sequence[str] = (), field_groups: Mapping[str, Sequence[str]] | None = None,
    ) -> list[dict[str, Any]]:
        """Counts of changes per run, kind and operation, newest run first (optionally some runs, or since a time).

        Rows ``{"run_id", "kind", "op", "count", "status_changes", "closings", "field_counts", "first_at",
        "last_at"}``: ``status_changes`` touched ``status_field``, ``closings`` set it to one of
        ``closing_statuses``, ``field_counts[g]`` touched at least one field of ``field_groups[g]``.
        """
        status_path = _json_path(status_field)
        closing = list(closing_statuses) or ["-none-"]
        columns = ["SUM(json_type(diff, ?) IS NOT NULL) AS status_changes",
                   f"SUM(json_extract(diff, ? || '[1]') IN ({','.join('?' * len(closing))})) AS closings"]
        args: list[Any] = [status_path, status_path, *closing]
        groups = list((field_groups or {}).items())
        for i, (_name, members) in enumerate(groups):
            either = " OR ".join("json_type(diff, ?) IS NOT NULL" for _ in members) or "0"
            columns.append(f"SUM({either}) AS f{i}")
            args += [_json_path(m) for m in members]
        # Only fixed fragments and placeholders go into the SQL; field names and values are parameters.
        sql = "SELECT run_id, kind, op, COUNT(*) AS count"
        for column in columns:
            sql += ", " + column
        sql += ", MIN(at) AS first_at, MAX(at) AS last_at FROM changes WHERE 1 = 1"
        if run_ids:
            sql += f" AND run_id IN ({','.join('?' * len(run_ids))})"
            args += list(run_ids)
        if since:
            sql += " AND at >= ?"
            args.append(since)
        sql += " GROUP BY run_id, kind, op ORDER BY MAX(seq) DESC"
        return [{"run_id": r["run_id"], "kind": r["kind"], "op": r["op"], "count": int(r["count"]),
                 "status_changes": int(r["status_changes"] or 0), "closings": int(r["closings"] or 0),
                 "field_counts": {name: int(r[f"f{i}"] or 0) for i, (name, _m) in enumerate(groups)},
                 "first_at": r["first_at"], "last_at": r["last_at"]}
                for r in self.conn.execute(sql, args)]

    def item_history(self, kind: str, item_id: str) -> list[Change]:
        """Every change-log entry of one item, oldest first (e.g. a program's status history)."""
        rows = self.conn.execute(
            "SELECT * FROM changes WHERE kind = ? AND item_id = ? ORDER BY seq", (kind, item_id)
        )
        return [_change(r) for r in rows]

    # -- pages (HTTP cache for conditional requests and resume) -------------------------

    def get_page(self, url: str) -> PageRecord | None:
        """What was stored for a URL the last time it was fetched."""
        row = self.conn.execute("SELECT * FROM pages WHERE url = ?", (url,)).fetchone()
        if row is None:
            return None
        body = zlib.decompress(row["body"]) if row["body"] is not None else None
        return PageRecord(
            url=row["url"], source=row["source"], status=row["status"], etag=row["etag"],
            last_modified=row["last_modified"], content_hash=row["content_hash"],
            content_type=row["content_type"], encoding=row["encoding"], body=body, first_seen=row["first_seen"],
            last_fetched=row["last_fetched"], last_run_id=row["last_run_id"], gone_at=row["gone_at"],
        )

    def get_page_validators(self, url: str) -> tuple[str | None, str | None] | None:
        """The ETag and Last-Modified stored for a URL (None when never fetched or gone)."""
        row = self.conn.execute(
            "SELECT etag, last_modified FROM pages WHERE url = ? AND gone_at IS NULL AND body IS NOT NULL", (url,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def record_page(
        self,
        url: str,
        *,
        source: str,
        status: int,
        run_id: int | None,
        etag: str | None = None,
        last_modified: str | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        encoding: str | None = None,
    ) -> bool:
        """Remember a page fetched with a full body; returns True when its content changed."""
        now = self.clock()
        digest = hashlib.sha256(body).hexdigest() if body is not None else None
        packed = zlib.compress(body, 6) if body is not None else None
        with self.transaction():
            row = self.conn.execute("SELECT content_hash FROM pages WHERE url = ?", (url,)).fetchone()
            changed = row is None or row["content_hash"] != digest
            self.conn.execute(
                "INSERT INTO pages (url, source, status, etag, last_modified, content_hash, content_type, encoding,"
                " body, first_seen, last_fetched, last_seen, last_changed, last_run_id, missing_runs, gone_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL)"
                " ON CONFLICT(url) DO UPDATE SET source = excluded.source, status = excluded.status,"
                " etag = excluded.etag, last_modified = excluded.last_modified,"
                " content_hash = excluded.content_hash, content_type = excluded.content_type,"
                " encoding = excluded.encoding, body = excluded.body, last_fetched = excluded.last_fetched,"
                " last_seen = excluded.last_seen,"
                " last_changed = CASE WHEN pages.content_hash IS excluded.content_hash THEN pages.last_changed"
                " ELSE excluded.last_changed END,"
                " last_run_id = excluded.last_run_id, missing_runs = 0, gone_at = NULL",
                (url, source, status, etag, last_modified, digest, content_type, encoding, packed, now, now, now, now,
                 run_id),
            )
        return changed

    def touch_page(self, url: str, run_id: int | None) -> None:
        """Record that a page answered 304 Not Modified in this run."""
        with self.transaction():
            self.conn.execute(
                "UPDATE pages SET last_seen = ?, last_run_id = ?, missing_runs = 0 WHERE url = ?",
                (self.clock(), run_id, url),
            )

    def mark_page_gone(self, url: str, *, source: str, status: int, run_id: int | None) -> int:
        """A page answered 404/410: forget its body and tombstone its items; returns items tombstoned."""
        now = self.clock()
        with self.transaction():
            self.conn.execute(
                "INSERT INTO pages (url, source, status, first_seen, last_fetched, last_run_id, gone_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET status = excluded.status,"
                " last_fetched = excluded.last_fetched, last_run_id = excluded.last_run_id, body = NULL,"
                " etag = NULL, last_modified = NULL, gone_at = COALESCE(pages.gone_at, excluded.gone_at)",
                (url, source, status, now, now, run_id, now),
            )
            return self.tombstone_page_items(url, reason=f"page answered {status}", run_id=run_id)

    def pages_fetched_since(self, source: str, since: str) -> int:
        """How many pages of a source were fetched after a time (for resume reporting)."""
        return int(self.conn.execute(
            "SELECT COUNT(*) FROM pages WHERE source = ? AND last_fetched >= ?", (source, since)
        ).fetchone()[0])

    # -- crawl runs ----------------------------------------------------------------

    def start_run(self, source: str, trigger: str = "manual") -> int:
        """Record the start of a crawl run and return its id."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO runs (source, trigger, status, started_at, pid, host) VALUES (?, ?, 'running', ?, ?, ?)",
                (source, trigger, self.clock(), os.getpid(), socket.gethostname()),
            )
        return int(cur.lastrowid or 0)

    def finish_run(
        self, run_id: int, *, status: str, stats: dict[str, Any], complete: bool = False, error: str | None = None
    ) -> None:
        """Record how a run ended and its stats."""
        with self.transaction():
            self.conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, stats = ?, complete = ?, error = ? WHERE id = ?",
                (status, self.clock(), _dumps(stats), int(complete), error, run_id),
            )

    def update_run_stats(self, run_id: int, stats: dict[str, Any]) -> None:
        """Store a run's stats so far (a killed run keeps what it reached)."""
        with self.transaction():
            self.conn.execute("UPDATE runs SET stats = ? WHERE id = ?", (_dumps(stats), run_id))

    def set_run_index_sync(self, run_id: int, result: dict[str, Any]) -> None:
        """Attach the result of the index sync that followed a run."""
        with self.transaction():
            self.conn.execute("UPDATE runs SET index_sync = ? WHERE id = ?", (_dumps(result), run_id))

    def get_run(self, run_id: int) -> Run | None:
        """One run by id."""
        row = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run(row) if row else None

    def list_runs(self, source: str | None = None, *, limit: int = 50, status: str | None = None) -> list[Run]:
        """Newest runs first."""
        sql = "SELECT * FROM runs WHERE 1 = 1"
        args: list[str | int] = []
        if source:
            sql += " AND source = ?"
            args.append(source)
        if status:
            sql += " AND status = ?"
            args.append(status)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [_run(r) for r in self.conn.execute(sql, args)]

    def running_runs(self, source: str | None = None) -> list[Run]:
        """Runs still marked running (possibly left by a killed process)."""
        return self.list_runs(source, status="running", limit=1000)

    def mark_interrupted(self, run_id: int, reason: str) -> None:
        """Close a run whose process died without finishing it."""
        with self.transaction():
            self.conn.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = COALESCE(finished_at, ?), error = ?"
                " WHERE id = ? AND status = 'running'",
                (self.clock(), reason, run_id),
            )

    # -- scheduler events ----------------------------------------------------------

    def add_schedule_event(
        self, event: str, *, source: str | None = None, detail: str | None = None, run_id: int | None = None
    ) -> int:
        """Record a scheduler decision that is not a run (``skipped``, ``retry``, ``failing``, ``started``...)."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO schedule_events (at, source, event, detail, run_id) VALUES (?, ?, ?, ?, ?)",
                (self.clock(), source, event, detail, run_id),
            )
        return int(cur.lastrowid or 0)

    def list_schedule_events(
        self, source: str | None = None, *, events: Sequence[str] = (), since: str | None = None, limit: int = 50
    ) -> list[ScheduleEvent]:
        """Scheduler events, newest first (none in a read-only file from before they existed)."""
        if self.schema_version() < 2:
            return []
        sql = "SELECT * FROM schedule_events WHERE 1 = 1"
        args: list[Any] = []
        if source:
            sql += " AND source = ?"
            args.append(source)
        if events:
            sql += f" AND event IN ({','.join('?' * len(events))})"
            args += list(events)
        if since:
            sql += " AND at >= ?"
            args.append(since)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [ScheduleEvent(id=r["id"], at=r["at"], source=r["source"], event=r["event"], detail=r["detail"],
                              run_id=r["run_id"]) for r in self.conn.execute(sql, args)]

    def prune_schedule_events(self, before: str) -> int:
        """Forget scheduler events older than ``before`` (an ISO time); returns how many."""
        with self.transaction():
            cur = self.conn.execute("DELETE FROM schedule_events WHERE at < ?", (before,))
        return cur.rowcount

    # -- user reviews --------------------------------------------------------------

    def add_user_review(
        self,
        *,
        institution_unitid: str,
        institution_name: str | None,
        rating: int,
        body: str,
        category: str | None = None,
        author_role: str | None = None,
        title: str | None = None,
        client_hash: str | None = None,
    ) -> int:
        """Store a review a student wrote here, pending moderation; returns its id."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO user_reviews (institution_unitid, institution_name, rating, category, author_role, title,"
                " body, submitted_at, client_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (institution_unitid, institution_name, rating, category, author_role, title, body, self.clock(),
                 client_hash),
            )
        return int(cur.lastrowid or 0)

    def get_user_review(self, review_id: int) -> UserReview | None:
        """One user review by id."""
        row = self.conn.execute("SELECT * FROM user_reviews WHERE id = ?", (review_id,)).fetchone()
        return UserReview(**dict(row)) if row else None

    def list_user_reviews(self, status: str | None = "pending", *, limit: int = 100, offset: int = 0) -> list[UserReview]:
        """User reviews in a moderation state, oldest first."""
        if status:
            rows = self.conn.execute(
                "SELECT * FROM user_reviews WHERE status = ? ORDER BY id LIMIT ? OFFSET ?", (status, limit, offset)
            )
        else:
            rows = self.conn.execute("SELECT * FROM user_reviews ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset))
        return [UserReview(**dict(r)) for r in rows]

    def count_user_reviews(self, status: str | None = "pending") -> int:
        """How many user reviews are in a moderation state."""
        if status:
            return int(self.conn.execute("SELECT COUNT(*) FROM user_reviews WHERE status = ?", (status,)).fetchone()[0])
        return int(self.conn.execute("SELECT COUNT(*) FROM user_reviews").fetchone()[0])

    def recent_submissions(self, client_hash: str, since: str) -> int:
        """How many reviews one client submitted since a time (spam limit)."""
        return int(self.conn.execute(
            "SELECT COUNT(*) FROM user_reviews WHERE client_hash = ? AND submitted_at >= ?", (client_hash, since)
        ).fetchone()[0])

    def moderate_user_review(self, review_id: int, *, approve: bool, moderator: str, note: str | None = None) -> bool:
        """Approve (publishing it as a review item) or reject a pending review; False if not pending."""
        now = self.clock()
        with self.transaction():
            row = self.conn.execute(
                "SELECT * FROM user_reviews WHERE id = ? AND status = 'pending'", (review_id,)
            ).fetchone()
            if row is None:
                return False
            status = "approved" if approve else "rejected"
            self.conn.execute(
                "UPDATE user_reviews SET status = ?, moderated_at = ?, moderated_by = ?, moderation_note = ?"
                " WHERE id = ?",
                (status, now, moderator, note, review_id),
            )
            if approve:
                from model.items import Review

                review = Review(
                    url=f"/reviews/user/{review_id}",
                    source="user",
                    review_id=f"user:{review_id}",
                    institution_unitid=row["institution_unitid"],
                    institution_name=row["institution_name"],
                    rating=row["rating"],
                    title=row["title"],
                    body=row["body"],
                    author_role=row["author_role"],
                    category=row["category"],
                    date=row["submitted_at"][:10],
                    origin="user",
                    link_status="matched",
                    link_confidence=100.0,
                )
                self.upsert(review)
        return True

    # -- record linkage ------------------------------------------------------------

    def save_link(
        self,
        *,
        source: str,
        entity_id: str,
        name: str | None,
        city: str | None,
        state: str | None,
        unitid: str | None,
        confidence: float | None,
        status: str,
        candidates: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Remember how a source's entity was linked to an institution."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO entity_links (source, entity_id, name, city, state, unitid, confidence, status,"
                " candidates, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(source, entity_id) DO UPDATE SET name = excluded.name, city = excluded.city,"
                " state = excluded.state, unitid = excluded.unitid, confidence = excluded.confidence,"
                " status = excluded.status, candidates = excluded.candidates, updated_at = excluded.updated_at",
                (source, entity_id, name, city, state, unitid, confidence, status, _dumps(list(candidates)),
                 self.clock()),
            )

    def get_link(self, source: str, entity_id: str) -> EntityLink | None:
        """The stored linkage decision for one entity."""
        row = self.conn.execute(
            "SELECT * FROM entity_links WHERE source = ? AND entity_id = ?", (source, entity_id)
        ).fetchone()
        return _link(row) if row else None

    def list_links(self, source: str | None = None, status: str | None = None) -> list[EntityLink]:
        """Linkage decisions, optionally of one source or status."""
        sql, args = "SELECT * FROM entity_links WHERE 1 = 1", []  # type: ignore[var-annotated]
        if source:
            sql += " AND source = ?"
            args.append(source)
        if status:
            sql += " AND status = ?"
            args.append(status)
        return [_link(r) for r in self.conn.execute(sql + " ORDER BY source, entity_id", args)]

    # -- meta ------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A small stored value (e.g. a watermark)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str | None) -> None:
        """Store a small value."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def last_updated(self) -> str | None:
        """When any item last changed (for "last updated" on the home page)."""
        row = self.conn.execute("SELECT MAX(at) FROM changes").fetchone()
        return row[0] if row else None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _json_path(field_name: str) -> str:
    """The JSON path of a top-level key (quoted, so any field name is safe)."""
    return '$."' + field_name.replace('"', "") + '"'


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _stored(row: sqlite3.Row) -> StoredItem:
    return StoredItem(
        kind=row["kind"], item_id=row["item_id"], source=row["source"], url=row["url"], data=json.loads(row["data"]),
        content_hash=row["content_hash"], first_seen=row["first_seen"], last_seen=row["last_seen"],
        last_changed=row["last_changed"], deleted_at=row["deleted_at"], deleted_reason=row["deleted_reason"],
        page_url=row["page_url"], last_run_id=row["last_run_id"],
    )


def _change(row: sqlite3.Row) -> Change:
    return Change(
        seq=row["seq"], kind=row["kind"], item_id=row["item_id"], op=row["op"], at=row["at"], run_id=row["run_id"],
        source=row["source"], state=row["state"], title=row["title"],
        diff=json.loads(row["diff"]) if row["diff"] else None,
    )


def _run(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"], source=row["source"], trigger=row["trigger"], status=row["status"],
        started_at=row["started_at"], finished_at=row["finished_at"], pid=row["pid"], host=row["host"],
        complete=bool(row["complete"]), stats=json.loads(row["stats"]) if row["stats"] else {},
        error=row["error"], index_sync=json.loads(row["index_sync"]) if row["index_sync"] else None,
    )


def _link(row: sqlite3.Row) -> EntityLink:
    return EntityLink(
        source=row["source"], entity_id=row["entity_id"], name=row["name"], city=row["city"], state=row["state"],
        unitid=row["unitid"], confidence=row["confidence"], status=row["status"],
        candidates=json.loads(row["candidates"]) if row["candidates"] else [], updated_at=row["updated_at"],
    )
