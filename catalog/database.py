"""Where the catalog lives, SQLite file or PostgreSQL server, behind one SQLAlchemy Core code path.

Every catalog statement is written once, as SQL that both databases accept, with named parameters
(``:name``), and run through ``Sql.execute``. What differs between the two stays here: how a
connection is opened (SQLite's pragmas, read-only files), how a write transaction starts (SQLite's
``BEGIN IMMEDIATE`` takes the write lock up front, so two writers never deadlock on an upgrade),
and the PostgreSQL-only reads of transaction ids that keep the change log safe under concurrent
writers (``changes.py``).

Statements run in autocommit mode, and ``CatalogConnection.transaction`` opens explicit
transactions: the same semantics on both databases, and the ones the catalog had on sqlite3.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import NullPool

POSTGRES_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")



def driver_error(name: str) -> tuple[type[Exception], ...]:
    """The drivers' own error classes of one DB-API name (``DatabaseError``, ``OperationalError``...).

    ``Sql`` raises the driver's error, not SQLAlchemy's wrapper, so what callers and
    ``storage_errors`` knew of SQLite's errors (codes, messages) holds. psycopg's classes join
    once psycopg is loaded (a PostgreSQL catalog was opened): an SQLite-only process never pays
    for importing it. Use it in an ``except`` clause: ``except driver_error("OperationalError")``.
    """
    errors: tuple[type[Exception], ...] = (getattr(sqlite3, name),)
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors += (getattr(psycopg, name),)
    return errors


def is_postgres(location: str | os.PathLike[str]) -> bool:
    """True when ``location`` is a PostgreSQL URL (otherwise it is an SQLite file path)."""
    return isinstance(location, str) and location.startswith(POSTGRES_PREFIXES)


def postgres_url(location: str) -> URL:
    """The SQLAlchemy URL of a PostgreSQL location, always with the psycopg 3 driver."""
    url = make_url(location.replace("postgres://", "postgresql://", 1) if location.startswith("postgres://")
                   else location)
    return url.set(drivername="postgresql+psycopg")


def display_location(location: str | os.PathLike[str]) -> str:
    """A location fit for messages and logs: a PostgreSQL URL with its password hidden."""
    if is_postgres(location):
        return postgres_url(str(location)).render_as_string(hide_password=True).replace("+psycopg", "")
    return str(location)


_ENGINES: dict[tuple[int, str, bool, float], Engine] = {}


def engine_for(location: str | os.PathLike[str], *, readonly: bool, timeout: float) -> Engine:
    """The process's engine for a location (engines are per process: a forked child makes its own)."""
    key = (os.getpid(), str(location), readonly, timeout)
    engine = _ENGINES.get(key)
    if engine is None:
        engine = _ENGINES[key] = _postgres_engine(str(location), timeout) if is_postgres(location) \
            else _sqlite_engine(Path(location), readonly, timeout)
    return engine


def dispose_engines(location: str | os.PathLike[str] | None = None) -> None:
    """Close this process's pooled connections: to one location, or to all (tests; a process about to fork)."""
    for key, engine in list(_ENGINES.items()):
        if location is None or key[1] == str(location):
            engine.dispose()
            del _ENGINES[key]


def _sqlite_engine(path: Path, readonly: bool, timeout: float) -> Engine:
    if readonly:
        url = URL.create("sqlite", database=f"file:{path.resolve()}?mode=ro", query={"uri": "true"})
    else:
        url = URL.create("sqlite", database=str(path))
    # NullPool: each Catalog holds its own connection for its lifetime, as it did on sqlite3, and
    # closing the Catalog closes the file (tests and `db copy` delete files they closed).
    engine = sa.create_engine(url, poolclass=NullPool, connect_args={"timeout": timeout, "isolation_level": None,
                                                                     "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        finally:
            cur.close()

    return engine


def _postgres_engine(location: str, timeout: float) -> Engine:
    # A small pool per process: the web app opens a Catalog per request, crawls one per run.
    return sa.create_engine(postgres_url(location), pool_size=4, max_overflow=8, pool_pre_ping=True,
                            connect_args={"connect_timeout": max(1, int(timeout))})


@contextlib.contextmanager
def driver_errors(sql: str) -> Iterator[None]:
    """Raise the driver's own error instead of SQLAlchemy's wrapper, with the statement as a note."""
    try:
        yield
    except sa_exc.DBAPIError as exc:
        if exc.orig is None or not isinstance(exc.orig, BaseException):
            raise
        error = exc.orig
        error.add_note(f"SQL: {sql[:300]}")
        raise error.with_traceback(exc.__traceback__) from None


@functools.lru_cache(maxsize=2048)
def _statement(sql: str) -> sa.TextClause:
    return sa.text(sql)


def _identifier(name: str) -> str:
    """A column or parameter name that goes into SQL text: checked to be a plain identifier."""
    if not name.isidentifier():
        raise ValueError(f"not an SQL identifier: {name!r}")
    return name


class Row:
    """One result row, read by column name or position (what ``sqlite3.Row`` offered the catalog)."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: Mapping[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        return self._values[self._index[key]] if isinstance(key, str) else self._values[key]

    def keys(self) -> list[str]:
        """The column names, in order (so ``dict(row)`` works)."""
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values, strict=True))!r})"


class Rows:
    """A statement's result: rows as ``Row``, the count of rows a write touched."""

    def __init__(self, result: sa.CursorResult[Any]) -> None:
        self._result = result
        self.rowcount = result.rowcount
        self._index = {name: i for i, name in enumerate(result.keys())} if result.returns_rows else {}

    def fetchone(self) -> Row | None:
        """The next row, or None."""
        row = self._result.fetchone()
        return None if row is None else Row(tuple(row), self._index)

    def fetchmany(self, size: int) -> list[Row]:
        """Up to ``size`` more rows."""
        index = self._index
        return [Row(tuple(r), index) for r in self._result.fetchmany(size)]

    def fetchall(self) -> list[Row]:
        """Every remaining row."""
        index = self._index
        return [Row(tuple(r), index) for r in self._result.fetchall()]

    def scalar(self) -> Any:
        """The first column of the first row (None when there is none)."""
        row = self._result.fetchone()
        return None if row is None else row[0]

    def __iter__(self) -> Iterator[Row]:
        index = self._index
        for r in self._result:
            yield Row(tuple(r), index)


class DriverRows(Rows):
    """The result of a statement run on the sqlite3 driver itself (``Sql.execute`` on SQLite): the same reads."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:  # noqa: D107 - see the class
        self._result = cursor  # type: ignore[assignment]
        self.rowcount = cursor.rowcount
        description = cursor.description
        self._index = {column[0]: i for i, column in enumerate(description)} if description else {}


class Sql:
    """One database connection of the catalog, in autocommit mode (see ``CatalogConnection.transaction``).

    On SQLite, statements go to the sqlite3 driver directly: it reads ``:name`` parameters itself, and
    SQLAlchemy's work per statement (compiling the text, building a result) cost more CPU than SQLite's
    own, which a crawl (hundreds of thousands of small statements) noticed. Transactions, DDL and the
    schema tools still use the SQLAlchemy connection; both talk to the same driver connection.
    """

    def __init__(self, connection: Connection, postgres: bool) -> None:
        self.connection = connection
        self.postgres = postgres
        # The pool hands this Catalog one driver connection for its whole life (NullPool for SQLite).
        self._driver: sqlite3.Connection | None = None if postgres else connection.connection.dbapi_connection  # type: ignore[assignment]

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None) -> Rows:
        """Run one statement written with ``:name`` parameters (a list of parameter sets runs it for each)."""
        many = isinstance(params, Sequence) and not isinstance(params, Mapping)
        if self._driver is not None:
            try:
                if many:
                    return DriverRows(self._driver.executemany(sql, list(params)))  # type: ignore[arg-type]
                return DriverRows(self._driver.execute(sql, params or {}))
            except sqlite3.Error as exc:
                exc.add_note(f"SQL: {sql[:300]}")
                raise
        with driver_errors(sql):
            if many:
                if not params:
                    return Rows(self.connection.execute(_statement("SELECT 1 WHERE 1 = 0")))
                return Rows(self.connection.execute(_statement(sql), list(params)))  # type: ignore[arg-type]
            return Rows(self.connection.execute(_statement(sql), params or {}))  # type: ignore[arg-type]

    def driver_sql(self, sql: str) -> None:
        """Run a statement as it is written, without parameters (transaction control, DDL of SQLite's steps)."""
        with driver_errors(sql):
            self.connection.exec_driver_sql(sql)

    # -- JSON in TEXT columns: the one kind of expression the two databases spell differently --------

    def json_key(self, key: str) -> str:
        """The parameter value that names a top-level key for ``json_text``/``json_has``/``json_element``."""
        return key if self.postgres else '$."' + key.replace('"', "") + '"'

    def json_text(self, column: str, param: str) -> str:
        """SQL for the value of the key named by ``:param`` in a JSON text column (text in PostgreSQL)."""
        column, param = _identifier(column), _identifier(param)
        if self.postgres:
            return f"(CAST({column} AS jsonb) ->> CAST(:{param} AS text))"
        return f"json_extract({column}, :{param})"

    def json_has(self, column: str, param: str) -> str:
        """SQL that is true when a JSON text column has the key named by ``:param``."""
        column, param = _identifier(column), _identifier(param)
        if self.postgres:
            return f"jsonb_exists(CAST({column} AS jsonb), CAST(:{param} AS text))"
        return f"(json_type({column}, :{param}) IS NOT NULL)"

    def json_element(self, column: str, param: str, index: int) -> str:
        """SQL for element ``index`` of the array under the key named by ``:param`` (text in PostgreSQL)."""
        column, param = _identifier(column), _identifier(param)
        if self.postgres:
            return f"(CAST({column} AS jsonb) -> CAST(:{param} AS text) ->> {int(index)})"
        return f"json_extract({column}, :{param} || '[{int(index)}]')"

    def json_value(self, value: Any) -> Any:
        """A value to compare with ``json_text`` (PostgreSQL compares JSON's text form: true, 5, 4.5)."""
        if not self.postgres or isinstance(value, str):
            return value
        return json.dumps(value)

    def begin(self) -> None:
        """Open a write transaction (SQLite takes its write lock now, not at the first write)."""
        self.driver_sql("BEGIN" if self.postgres else "BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit the open transaction."""
        self.driver_sql("COMMIT")

    def rollback(self) -> None:
        """Roll back the open transaction, if the database still has one open."""
        if self.in_transaction:
            self.driver_sql("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        """Whether the database has a transaction open on this connection."""
        raw = self.connection.connection.dbapi_connection
        if self.postgres:
            from psycopg.pq import TransactionStatus

            return bool(raw.info.transaction_status != TransactionStatus.IDLE)  # type: ignore[union-attr]
        return bool(raw.in_transaction)  # type: ignore[union-attr]

    def close(self) -> None:
        """Give the connection back (closed for SQLite, pooled for PostgreSQL)."""
        self.connection.close()
