"""Copying an SQLite catalog into PostgreSQL (``collegesearch db copy --from PATH``).

Every table of the file is copied row for row in one transaction, so a failed copy leaves the
database as it was. The target must be upgraded (``db upgrade``) and empty: merging two
catalogs is not a copy. Key sequences then continue after the copied ids, and the copied
change-log rows take the copying transaction's id, so followers read them like any new change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from catalog.connection import CatalogConnection, CatalogError

# Parents before children is not needed (the schema has no foreign keys), but a stable order
# makes the progress lines predictable. Tables the copy does not know are copied after these.
ORDER = ("meta", "runs", "schedule_events", "pages", "items", "changes", "entity_links", "entities",
         "entity_members", "entity_changes", "entity_aliases", "user_reviews")
SKIPPED = {"sqlite_sequence", "alembic_version"}
# Filled by the target itself: the transaction id of the copy (see catalog/changes.py).
TARGET_FILLS = {"xid"}
SERIAL_KEYS = {"changes": "seq", "entity_changes": "seq", "runs": "id", "user_reviews": "id", "schedule_events": "id"}
BATCH = 2000


@dataclass
class CopyResult:
    """Rows copied per table."""

    rows: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the CLI."""
        total = sum(self.rows.values())
        parts = ", ".join(f"{n:,} {t}" for t, n in self.rows.items() if n)
        return f"copied {total:,} rows ({parts or 'an empty catalog'})"


def _identifier(name: str) -> str:
    if not name.isidentifier():
        raise CatalogError(f"cannot copy a table or column named {name!r}")
    return name


def _tables(source: CatalogConnection) -> list[str]:
    names = [r[0] for r in source.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    names = [n for n in names if n not in SKIPPED]
    return [t for t in ORDER if t in names] + sorted(n for n in names if n not in ORDER)


def _columns(conn: CatalogConnection, table: str) -> list[str]:
    import sqlalchemy as sa

    return [c["name"] for c in sa.inspect(conn.conn.connection).get_columns(table)]


def copy_catalog(source_path: str | Path, target_url: str, say: Callable[[str], None] = print) -> CopyResult:
    """Copy every row of the SQLite catalog at ``source_path`` into the empty PostgreSQL catalog at ``target_url``."""
    path = Path(source_path)
    if not path.is_file():
        raise CatalogError(f"no SQLite catalog at {path}")
    source = CatalogConnection(path, readonly=True)
    try:
        target = CatalogConnection(target_url)
        try:
            return _copy(source, target, say)
        finally:
            target.close()
    finally:
        source.close()


def _copy(source: CatalogConnection, target: CatalogConnection, say: Callable[[str], None]) -> CopyResult:
    if not target.postgres:
        raise CatalogError("db copy writes into PostgreSQL: set COLLEGESEARCH_DATABASE_URL")
    result = CopyResult()
    tables = _tables(source)
    with target.transaction():
        for table in tables:
            _identifier(table)
            if not target.conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall():  # noqa: S608 - checked name
                continue
            raise CatalogError(f"the catalog database {target.path} already holds data ({table} is not empty); "
                               "db copy fills a new database: create an empty one and run `collegesearch db upgrade`")
        for table in tables:
            wanted = set(_columns(target, table)) - TARGET_FILLS
            columns = [_identifier(c) for c in _columns(source, table) if c in wanted]
            names = ", ".join(columns)
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + c for c in columns)})"  # noqa: S608 - checked names
            rows = source.conn.execute(f"SELECT {names} FROM {table}")  # noqa: S608 - checked names
            copied = 0
            while batch := rows.fetchmany(BATCH):
                target.conn.execute(insert, [dict(zip(columns, r, strict=True)) for r in batch])
                copied += len(batch)
            result.rows[table] = copied
            key = SERIAL_KEYS.get(table)
            if key and copied:
                target.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence(:table, :key), (SELECT MAX({key}) FROM {table}))",  # noqa: S608 - constants
                    {"table": table, "key": key})
            say(f"  {table}: {copied:,} rows")
        for table in tables:  # the copy is whole before it commits
            count = int(target.conn.execute(f"SELECT COUNT(*) FROM {table}").scalar())  # noqa: S608 - checked name
            if count != result.rows[table]:
                raise CatalogError(f"copying {table} wrote {count:,} rows, not {result.rows[table]:,}; nothing was kept")
    return result
