"""Opening the catalog file: SQLite in WAL mode, its pragmas, migrations on start, and transactions."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from sqlalchemy import exc as sa_exc

from catalog.database import Sql, display_location, driver_error, engine_for, is_postgres
from catalog.migrations import MIGRATIONS, SCHEMA_VERSION
from catalog.schema_migrations import SchemaNotCurrent, check_current, upgrade_sqlite


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
    """A connection to the catalog (an SQLite file, or PostgreSQL when given a URL); open one per thread or process."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readonly: bool = False,
        timeout: float = 30.0,
        clock: Callable[[], str] = utcnow,
        check_schema: bool = True,
    ) -> None:
        self.location = path
        self.postgres = is_postgres(path)
        # For SQLite the file; for PostgreSQL the URL without its password (what messages name).
        self.path: Any = display_location(path) if self.postgres else Path(path)
        self.readonly = readonly
        self.clock = clock
        self._local_tx = threading.local()
        if self.postgres:
            self._open_postgres(timeout, check_schema)
            return
        file = Path(path)
        try:
            if readonly:
                if not file.exists():
                    raise CatalogError(f"catalog {file} does not exist yet; run `collegesearch crawl` first")
            else:
                file.parent.mkdir(parents=True, exist_ok=True)
            raw = engine_for(file, readonly=readonly, timeout=timeout).connect()
        except PermissionError as exc:
            raise CatalogError(f"cannot create the catalog in {file.parent}: permission denied") from exc
        except OSError as exc:  # a read-only file system, a full disk, a file where the folder should be
            raise CatalogError(f"cannot create the catalog in {file.parent}: {exc.strerror or exc}; "
                               "make DATA_DIR writable or point COLLEGESEARCH_DATA_DIR elsewhere") from exc
        except sa_exc.DBAPIError as exc:
            raise CatalogError(f"cannot open catalog {file}: {exc.orig}") from exc
        self.conn = Sql(raw.execution_options(isolation_level="AUTOCOMMIT"), postgres=False)
        not_a_database: tuple[type[BaseException], ...] = (sa_exc.DBAPIError, *driver_error("DatabaseError"))
        try:
            if not readonly:
                mode = self.conn.execute("PRAGMA journal_mode = WAL").scalar()
                if str(mode).lower() != "wal":
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
        except not_a_database as exc:
            self.conn.close()
            raise CatalogError(f"catalog {self.path} is not a usable SQLite database: "
                               f"{getattr(exc, 'orig', None) or exc}") from exc
        except BaseException:
            self.conn.close()
            raise

    def _open_postgres(self, timeout: float, check_schema: bool) -> None:
        try:
            raw = engine_for(self.location, readonly=self.readonly, timeout=timeout).connect()
        except sa_exc.DBAPIError as exc:
            raise CatalogError(f"cannot connect to the catalog database {self.path}: "
                               f"{str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else exc}") from exc
        self.conn = Sql(raw.execution_options(isolation_level="AUTOCOMMIT"), postgres=True)
        if not check_schema:  # `collegesearch db upgrade` opens the database to bring it up to date
            return
        try:
            check_current(self)
        except SchemaNotCurrent as exc:
            self.conn.close()
            raise CatalogError(str(exc)) from None
        except BaseException:
            self.conn.close()
            raise

    # -- lifecycle -----------------------------------------------------------------

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        """The schema version of the open SQLite file (its legacy migrations, before Alembic's); PostgreSQL starts past them."""
        if self.postgres:
            return SCHEMA_VERSION
        return int(self.conn.execute("PRAGMA user_version").scalar())

    def migrate(self) -> int:
        """Bring an SQLite file up to date: its own numbered steps, then Alembic's; returns the step number."""
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"catalog {self.path} has schema version {version}, newer than this program ({SCHEMA_VERSION})"
            )
        while version < SCHEMA_VERSION:
            script = MIGRATIONS[version]
            # the whole step runs in one explicit transaction
            self.conn.begin()
            try:
                if self.schema_version() != version:  # another process migrated meanwhile
                    self.conn.rollback()
                    version = self.schema_version()
                    continue
                for statement in _split_sql(script):
                    self.conn.driver_sql(statement)
                self.conn.execute(f"PRAGMA user_version = {version + 1}")
                self.conn.commit()
            except BaseException:
                self.conn.rollback()
                raise
            version += 1
            self._checkpoint()
        if upgrade_sqlite(self):
            self._checkpoint()
        return version

    def _checkpoint(self) -> None:
        # Fold the WAL into the file after each schema step: a new catalog would otherwise need room
        # for its schema twice (file and WAL) before the first automatic checkpoint.
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes in one transaction (nested calls join the outer one)."""
        depth = getattr(self._local_tx, "depth", 0)
        if depth == 0:
            self.conn.begin()
        self._local_tx.depth = depth + 1
        try:
            yield
        except BaseException:
            self._local_tx.depth = depth
            # SQLite may already have rolled back on its own (SQLITE_FULL, SQLITE_IOERR): a second
            # ROLLBACK would fail and hide the real error.
            if depth == 0:
                self.conn.rollback()
            raise
        else:
            self._local_tx.depth = depth
            if depth == 0:
                try:
                    self.conn.commit()
                except BaseException:
                    # A COMMIT refused (disk full, I/O error) must not leave the connection inside a
                    # half-written transaction that the next BEGIN would trip over.
                    self.conn.rollback()
                    raise

    def integrity_check(self) -> list[str]:
        """Problems SQLite finds in the file; an empty list means it is sound (PostgreSQL checks itself)."""
        if self.postgres:
            return []
        rows = [r[0] for r in self.conn.execute("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows
