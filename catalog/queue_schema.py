"""The crawl queue's tables (procrastinate's) in the catalog database, installed once.

``ops.queue`` hands over procrastinate's own schema script; this module runs it in one
transaction under the schema-upgrade advisory lock, and only when procrastinate's jobs table is
not there yet, so two ``collegesearch db upgrade`` at once, or one run twice, install it once.
"""

from __future__ import annotations

from catalog.advisory_locks import AdvisoryLockError, dedicated_connection
from catalog.schema_migrations import UPGRADE_LOCK

QUEUE_TABLE = "procrastinate_jobs"

_TABLE_EXISTS = "SELECT to_regclass(%(table)s) IS NOT NULL"
_UPGRADE_LOCK = "SELECT pg_advisory_xact_lock(%(key)s)"


class QueueSchemaError(RuntimeError):
    """The queue's tables cannot be checked or installed; the message says why in one line."""


def queue_schema_installed(location: str) -> bool:
    """Whether the crawl queue's tables are in the database."""
    try:
        conn = dedicated_connection(location, "collegesearch queue check", keepalive=False)
    except AdvisoryLockError as exc:
        raise QueueSchemaError(str(exc)) from None
    try:
        return bool(conn.execute(_TABLE_EXISTS, {"table": QUEUE_TABLE}).fetchone()[0])
    finally:
        conn.close()


def install_queue_schema(location: str, script: str) -> bool:
    """Run the queue's schema ``script`` unless its tables exist; True when it installed them."""
    import psycopg

    try:
        conn = dedicated_connection(location, "collegesearch db upgrade", keepalive=False)
    except AdvisoryLockError as exc:
        raise QueueSchemaError(str(exc)) from None
    try:
        with conn.transaction():
            conn.execute(_UPGRADE_LOCK, {"key": UPGRADE_LOCK})
            if conn.execute(_TABLE_EXISTS, {"table": QUEUE_TABLE}).fetchone()[0]:
                return False
            # No parameters: psycopg sends the script as it is, every statement in it, with its % signs.
            conn.execute(script)
        return True
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise QueueSchemaError(f"cannot install the crawl queue's tables: {first}") from None
    finally:
        conn.close()
