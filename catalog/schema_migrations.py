"""Schema migrations with Alembic, for SQLite files and PostgreSQL databases alike.

SQLite files first take their own numbered steps (``catalog/migrations.py``, recorded in
``PRAGMA user_version``), which end where Alembic's baseline revision starts; they are then
stamped and upgraded by Alembic on every start, as files always upgraded themselves. A
PostgreSQL database is upgraded only by ``collegesearch db upgrade`` (``upgrade``): processes
that open it check that it is current and say what to run when it is not.

Each upgrade runs in one transaction that first takes the database's writer lock (SQLite's
``BEGIN IMMEDIATE``, an advisory lock in PostgreSQL), so two processes starting at once upgrade
once; both databases roll DDL back with the transaction.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any


class SchemaNotCurrent(RuntimeError):
    """A PostgreSQL catalog is not at this program's revision; the message says what to run."""

SCRIPTS = Path(__file__).parent / "alembic"
BASELINE = "0001"
"""The revision that SQLite's numbered steps end at."""
UPGRADE_LOCK = 0x636F6C6C  # the advisory lock key of schema upgrades ("coll")


# Alembic is imported when a migration is looked at, not with the catalog: most processes open
# an up-to-date catalog and never need it.


def _config(connection: object) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


HEAD = "0005"
"""The newest revision in ``catalog/alembic/versions`` (a test checks it is Alembic's head). Kept as a
constant so that opening a current catalog reads one row and never imports Alembic, whose import
(with Mako and Pygments) costs a crawl child about 15 MiB of its peak memory."""


def head() -> str:
    """The newest revision this program knows."""
    return HEAD


@functools.cache
def alembic_head() -> str:
    """The head revision as Alembic reads it from the scripts (what ``HEAD`` must equal)."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(_config(None)).get_current_head()
    assert revision is not None
    return revision


def current(cat: Any) -> str | None:
    """The revision the open database is at (None before Alembic touched it).

    Reads Alembic's own table with plain SQL, as Alembic's ``MigrationContext`` would (the
    revisions are one line, so the table holds at most one row).
    """
    if cat.postgres:
        present = cat.conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").scalar()
    else:
        present = cat.conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                   "AND name = 'alembic_version'").scalar()
    if not present:
        return None
    rows = cat.conn.execute("SELECT version_num FROM alembic_version").fetchall()
    if len(rows) > 1:
        raise SchemaNotCurrent(f"the catalog database {cat.path} records {len(rows)} schema revisions "
                               f"({', '.join(sorted(str(r[0]) for r in rows))}); collegesearch's revisions are one line")
    return str(rows[0][0]) if rows else None


def _has_catalog_tables(cat: Any) -> bool:
    import sqlalchemy as sa

    return sa.inspect(cat.conn.connection).has_table("items")


def _upgrade_locked(cat: Any) -> tuple[str | None, str]:
    from alembic import command

    cat.conn.begin()
    try:
        if cat.postgres:
            cat.conn.execute("SELECT pg_advisory_xact_lock(:key)", {"key": UPGRADE_LOCK})
        before = current(cat)
        if before != head():
            cfg = _config(cat.conn.connection)
            if before is None and not cat.postgres and _has_catalog_tables(cat):
                command.stamp(cfg, BASELINE)
            command.upgrade(cfg, "head")
        if cat.conn.in_transaction:
            cat.conn.commit()
        return before, head()
    except BaseException:
        cat.conn.rollback()
        raise


def upgrade_sqlite(cat: Any) -> bool:
    """Bring an SQLite file that took its numbered steps up to Alembic's head; True when it did anything."""
    if current(cat) == head():
        return False
    before, after = _upgrade_locked(cat)
    return before != after


def upgrade(cat: Any) -> tuple[str | None, str]:
    """Apply every pending revision (``collegesearch db upgrade``); returns (revision before, revision now)."""
    return _upgrade_locked(cat)


def check_current(cat: Any) -> None:
    """Raise SchemaNotCurrent unless a PostgreSQL catalog is at this program's revision."""
    at = current(cat)
    if at == head():
        return
    if at is None:
        raise SchemaNotCurrent(f"the catalog database {cat.path} has no collegesearch tables yet: "
                           "run `collegesearch db upgrade` once")
    from alembic.script import ScriptDirectory

    known = {s.revision for s in ScriptDirectory.from_config(_config(None)).walk_revisions()}
    if at not in known:
        raise SchemaNotCurrent(f"the catalog database {cat.path} is at schema revision {at}, newer than this program "
                           f"({head()}); upgrade collegesearch")
    raise SchemaNotCurrent(f"the catalog database {cat.path} is at schema revision {at}, this program needs {head()}: "
                       "run `collegesearch db upgrade`")
