"""PostgreSQL advisory locks for ``ops.locks``: session locks on a dedicated connection.

A session-level ``pg_try_advisory_lock`` lives as long as the connection that took it, so a lock
can never outlive its holder: a process that dies (even by SIGKILL) closes its socket and the
server drops its locks; a machine that dies is noticed by TCP keepalives within about a minute.
The connection is the holder's own, outside any pool (a pooled connection handed to someone else
would carry the lock along). Its ``application_name`` says who holds the lock, so a refusal can
name the holder: anyone may read it in ``pg_stat_activity``.

Advisory locks are per database: everything pointed at one DATABASE_URL sees the same locks.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from catalog.database import display_location, postgres_url

LABEL_LIMIT = 63
"""PostgreSQL keeps at most this many bytes of an application_name (NAMEDATALEN - 1)."""
KEEPALIVE_OPTIONS = ("-c tcp_keepalives_idle=20 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3 "
                     "-c idle_session_timeout=0 -c idle_in_transaction_session_timeout=0")
"""The server probes a silent lock connection, so a machine that died loses its locks within about a minute
(the operating system's default is two hours); idle timeouts would drop a lock that is merely held."""

_TRY_LOCK = "SELECT pg_try_advisory_lock(%(key)s)"
_UNLOCK = "SELECT pg_advisory_unlock(%(key)s)"
# The holder of a session lock taken with one bigint key: pg_locks shows the key's high 32 bits as
# classid, its low 32 bits as objid, and objsubid 1 (the two-int4 form would show 2).
_HOLDER = """
SELECT a.pid, a.application_name, a.backend_start, a.client_addr, a.client_hostname
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND CAST(l.classid AS bigint) = %(classid)s AND CAST(l.objid AS bigint) = %(objid)s
"""


class AdvisoryLockError(RuntimeError):
    """The database cannot be reached; the message says why in one line."""


def libpq_url(location: str) -> str:
    """A PostgreSQL location (``postgresql://``, ``postgres://``, ``postgresql+psycopg://``) as a libpq URL."""
    return postgres_url(location).set(drivername="postgresql").render_as_string(hide_password=False)


def lock_key(name: str) -> int:
    """The advisory-lock key of a lock name: a stable signed 64-bit hash (the same in every process and release)."""
    digest = hashlib.blake2b(f"collegesearch:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def label(text: str) -> str:
    """``text`` cut to what PostgreSQL keeps of an application_name (whole characters)."""
    return text.encode()[:LABEL_LIMIT].decode(errors="ignore")


def dedicated_connection(location: str, application_name: str, *, keepalive: bool) -> Any:
    """A psycopg connection of its own (autocommit, outside any pool); AdvisoryLockError when unreachable."""
    import psycopg

    extra: dict[str, Any] = {"autocommit": True, "connect_timeout": 10, "application_name": label(application_name)}
    if keepalive:
        extra["options"] = KEEPALIVE_OPTIONS
    try:
        return psycopg.connect(libpq_url(location), **extra)
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise AdvisoryLockError(f"cannot connect to {display_location(location)}: {first}") from None


class AdvisorySession:
    """A dedicated connection that holds advisory locks for as long as it is open."""

    def __init__(self, location: str, application_name: str) -> None:
        self.conn = dedicated_connection(location, application_name, keepalive=True)

    def try_lock(self, key: int) -> bool:
        """Take the lock ``key`` now if it is free (True), else False at once."""
        return bool(self.conn.execute(_TRY_LOCK, {"key": key}).fetchone()[0])

    def unlock(self, key: int) -> None:
        """Give the lock ``key`` back."""
        self.conn.execute(_UNLOCK, {"key": key})

    def close(self) -> None:
        """Close the connection (the server drops whatever locks it still held)."""
        self.conn.close()


def holder(location: str, key: int) -> dict[str, Any] | None:
    """Who holds the lock ``key`` now (server pid, application_name, since when, from where), or None."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    conn = dedicated_connection(location, "collegesearch lock check", keepalive=False)
    try:
        row = conn.execute(_HOLDER, {"classid": unsigned >> 32, "objid": unsigned & 0xFFFFFFFF}).fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    started: datetime | None = row[2]
    return {"backend_pid": row[0], "application_name": row[1] or "", "backend_start": started,
            "client": row[4] or (str(row[3]) if row[3] is not None else "local socket")}
