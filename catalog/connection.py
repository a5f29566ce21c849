"""Opening the catalog file: SQLite in WAL mode, its pragmas, migrations on start, and transactions."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from catalog.migrations import MIGRATIONS, SCHEMA_VERSION


class CatalogError(RuntimeError):
    """The catalog cannot be opened or written; the message says why."""


def utcnow() -> str:
    """The current UTC time as an ISO 8601 string with a Z suffix (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def to_json(value: Any) -> str:
    """How the catalog writes a JSON column (sorted keys, so equal values store as equal text)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


class CatalogConnection:
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

    def __enter__(self) -> Self:
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
