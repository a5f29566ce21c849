"""A crawl's catalog is created or upgraded in a child process, so the crawl itself never loads Alembic."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from catalog import Catalog, CatalogError
from catalog.prepare import ensure_current, is_current
from catalog.schema_migrations import head


def test_a_new_file_is_created_at_head_by_the_child(tmp_path):
    path = tmp_path / "data" / "catalog.sqlite3"
    assert not is_current(path)
    ensure_current(path)
    assert is_current(path)
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [(head(),)]
    raw.close()


def test_an_older_revision_is_upgraded(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    raw = sqlite3.connect(path)
    raw.execute("UPDATE alembic_version SET version_num = '0004'")
    raw.execute("ALTER TABLE pages DROP COLUMN links")  # what 0005 adds
    raw.commit()
    raw.close()
    assert not is_current(path)
    ensure_current(path)
    assert is_current(path)
    with Catalog(path) as cat:
        assert "links" in {r[1] for r in cat.conn.execute("PRAGMA table_info(pages)").fetchall()}


def test_a_file_that_is_not_a_database_is_a_clear_error_and_is_left_as_it_was(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    path.write_bytes(b"these are not the pages you are looking for\n" * 100)
    with pytest.raises(CatalogError, match="not a usable SQLite database"):
        ensure_current(path)
    assert path.read_bytes().startswith(b"these are not")


def test_an_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(CatalogError, match="cannot create the catalog"):
        ensure_current(blocker / "catalog.sqlite3")


def test_a_crawl_child_opening_a_new_catalog_never_imports_alembic(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    probe = ("import sys\nfrom catalog import Catalog\nfrom catalog.prepare import ensure_current\n"
             "ensure_current(sys.argv[1])\nCatalog(sys.argv[1]).close()\n"
             "print(sorted(m for m in ('alembic', 'mako', 'pygments') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    assert is_current(path)
