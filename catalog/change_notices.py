"""Wake-up calls for change-log followers: PostgreSQL NOTIFY when fused records change, LISTEN to hear it.

A writer that commits ``entity_changes`` entries calls ``notify_changes`` inside its transaction;
PostgreSQL delivers the notice to every listener when (and only if) the transaction commits. A
follower (``collegesearch index follow``) keeps a ``ChangeNotices`` on a connection of its own and
treats a notice only as a hint to read the change log now: notices are not stored, so one sent
while the follower was reconnecting is lost, and the follower's polling stays the truth.

SQLite has no notices: ``notify_changes`` does nothing there and followers poll.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from catalog.connection import CatalogError
from catalog.database import Sql, display_location, is_postgres, postgres_url

CHANNEL = "collegesearch_changes"
"""The NOTIFY channel of the fused records' change log."""

PAYLOAD = "entity_changes"
"""What a notice says (one constant text, so PostgreSQL folds a transaction's notices into one)."""


def notify_changes(conn: Sql) -> None:
    """Inside a write transaction: wake the followers when it commits (PostgreSQL; nothing on SQLite)."""
    if conn.postgres:
        conn.execute("SELECT pg_notify(:channel, :payload)", {"channel": CHANNEL, "payload": PAYLOAD})


class ChangeNotices:
    """A dedicated PostgreSQL connection that LISTENs for change notices (``listen``, then ``wait``)."""

    def __init__(self, location: str | os.PathLike[str], *, connect_timeout: float = 10.0) -> None:
        if not is_postgres(location):
            raise ValueError("change notices need a PostgreSQL catalog; an SQLite catalog is polled")
        self.location = str(location)
        self.connect_timeout = connect_timeout
        self._conn: Any = None

    @property
    def listening(self) -> bool:
        """Whether the connection is open and subscribed."""
        return self._conn is not None and not self._conn.closed

    def listen(self) -> None:
        """Open the connection and subscribe to ``CHANNEL`` (raises ``CatalogError`` when the server is unreachable)."""
        import psycopg
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        self.close()
        url = postgres_url(self.location)
        # The dialect turns the URL (socket folder, options in the query) into psycopg's arguments,
        # so this connection reaches the server exactly as the catalog's own engine does.
        engine = sa.create_engine(url, poolclass=NullPool)
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        kwargs["connect_timeout"] = max(1, int(self.connect_timeout))
        try:
            conn = psycopg.connect(*args, autocommit=True, **kwargs)
        except psycopg.Error as exc:
            raise CatalogError(f"cannot listen for catalog changes on {display_location(self.location)}: "
                               f"{_first_line(exc)}") from exc
        try:
            conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as exc:
            conn.close()
            raise CatalogError(f"cannot listen for catalog changes: {_first_line(exc)}") from exc
        self._conn = conn

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a notice; True when one (or more, all taken) arrived.

        Raises ``CatalogError`` when the connection is lost (the caller reconnects with ``listen``).
        """
        import psycopg

        if not self.listening:
            raise CatalogError("not listening for catalog changes")
        heard = False
        try:
            for _notice in self._conn.notifies(timeout=max(0.0, timeout), stop_after=1):
                heard = True
            if heard:
                # Take the notices already waiting too: one sync reads every change they announce.
                for _notice in self._conn.notifies(timeout=0.0):
                    pass
        except psycopg.Error as exc:
            self.close()
            raise CatalogError(f"lost the connection listening for catalog changes: {_first_line(exc)}") from exc
        return heard

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def __enter__(self) -> ChangeNotices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
