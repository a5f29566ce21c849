"""Create or upgrade a SQLite catalog in a short child process, so a long-running caller never loads Alembic.

Opening a catalog that is already at this program's revision reads one row and needs no
Alembic (``catalog.schema_migrations.current``). Creating or upgrading one runs Alembic, whose
import (with Mako and Pygments) stays in a process's memory for good: about 12 MiB of a crawl
child's peak. A crawl therefore has its catalog brought up to date by ``python -m
catalog.prepare PATH`` first, when it needs it, and then opens a current file. PostgreSQL
catalogs are upgraded only by ``collegesearch db upgrade`` and are left alone here.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from catalog.database import is_postgres
from catalog.schema_migrations import HEAD


def is_current(location: str | os.PathLike[str]) -> bool:
    """True when ``location`` is a SQLite file already at this program's revision (or a PostgreSQL URL)."""
    if is_postgres(location):
        return True
    path = Path(location)
    if not path.is_file():
        return False
    try:
        raw = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return False
    try:
        rows = raw.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:  # no such table (a new or pre-Alembic file), not a database: the child says which
        return False
    finally:
        raw.close()
    return [tuple(r) for r in rows] == [(HEAD,)]


def ensure_current(location: str | os.PathLike[str]) -> None:
    """Create or upgrade the SQLite catalog at ``location`` in a child process unless it is current.

    Raises ``CatalogError`` with the child's own message when it cannot (an unwritable folder, a
    file that is not a database, a catalog newer than this program).
    """
    if is_current(location):
        return
    done = subprocess.run([sys.executable, "-m", "catalog.prepare", os.fspath(location)],
                          capture_output=True, text=True, errors="replace", check=False)
    if done.returncode != 0:
        from catalog.connection import CatalogError

        lines = (done.stderr or done.stdout).strip().splitlines()
        raise CatalogError(lines[-1] if lines else f"preparing the catalog {location} failed "
                           f"(exit code {done.returncode})")


def main(argv: list[str] | None = None) -> int:
    """Open (so create or upgrade) the catalog named on the command line; its error as the last stderr line."""
    from catalog.connection import CatalogError
    from catalog.store import Catalog

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m catalog.prepare CATALOG_PATH", file=sys.stderr)
        return 2
    try:
        Catalog(args[0]).close()
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
