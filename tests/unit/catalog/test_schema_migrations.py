"""Alembic's baseline is the schema SQLite's numbered steps build: both roads give the same tables, columns, keys, indexes."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from catalog import Catalog
from catalog.schema_migrations import _config, head


def _shape(url: str) -> dict[str, object]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            out: dict[str, object] = {}
            for table in sorted(insp.get_table_names()):
                if table in ("alembic_version", "sqlite_sequence"):
                    continue
                pk = insp.get_pk_constraint(table)["constrained_columns"]
                # A key column is never null in PostgreSQL; SQLite's old DDL just did not say so.
                columns = [(c["name"], str(c["type"]).split("(")[0].replace("FLOAT", "REAL"),
                            c["nullable"] and c["name"] not in pk,
                            str(c["default"]).strip("'\"") if c["default"] is not None else None)
                           for c in insp.get_columns(table)]
                indexes = sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                 for i in insp.get_indexes(table))
                out[table] = (columns, pk, indexes)
            return out
    finally:
        engine.dispose()


def test_sqlite_steps_and_alembic_from_scratch_build_the_same_schema(tmp_path):
    stepped = tmp_path / "stepped.sqlite3"
    Catalog(stepped).close()  # numbered steps, stamped at the baseline, then Alembic's later revisions
    scratch = tmp_path / "scratch.sqlite3"
    engine = sa.create_engine(f"sqlite:///{scratch}")
    with engine.begin() as conn:
        command.upgrade(_config(conn), "head")  # what a new PostgreSQL database gets
    engine.dispose()
    a, b = _shape(f"sqlite:///{stepped}"), _shape(f"sqlite:///{scratch}")
    assert a.keys() == b.keys()
    for table in a:
        assert a[table] == b[table], table


def test_a_file_from_before_alembic_is_stamped_and_upgraded_in_place(tmp_path):
    import sqlite3

    from catalog.migrations import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path)
    for script in MIGRATIONS:  # what the previous release left: the numbered steps only
        raw.executescript(script)
    raw.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    raw.execute("INSERT INTO changes (kind, item_id, op, at) VALUES ('career', 'x', 'new', '2026-01-01')")
    raw.commit()
    raw.close()
    with Catalog(path) as cat:
        assert cat.conn.execute("SELECT version_num FROM alembic_version").scalar() == head()
        [change] = cat.changes_since(0)
        assert change.item_id == "x" and change.xid is None


def test_the_head_constant_is_alembics_head():
    from catalog.schema_migrations import alembic_head

    assert head() == alembic_head()


def test_opening_a_current_catalog_does_not_import_alembic(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()  # created and upgraded (Alembic loaded here, in this process)
    probe = ("import sys\nfrom catalog import Catalog\n"
             "with Catalog(sys.argv[1]) as cat:\n    cat.list_runs('bls_ooh', limit=1)\n"
             "print(sorted(m for m in ('alembic', 'mako', 'pygments') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_catalog_with_two_recorded_revisions_is_refused(tmp_path):
    import pytest

    from catalog.schema_migrations import SchemaNotCurrent, current

    path = tmp_path / "catalog.sqlite3"
    with Catalog(path) as cat:
        cat.conn.execute("INSERT INTO alembic_version (version_num) VALUES ('0002')")
        with pytest.raises(SchemaNotCurrent, match="2 schema revisions"):
            current(cat)
