"""A throwaway PostgreSQL server for the tests: ``initdb`` + ``pg_ctl`` in a temporary folder, Unix socket only.

Debian keeps ``initdb`` and ``pg_ctl`` in the package's versioned folder (``/usr/lib/postgresql/15/bin``),
off the PATH; the newest installed version is used. PostgreSQL refuses to run as root, so as root
the server runs as the ``postgres`` user (``runuser``). ``fsync=off``: the data is thrown away.

``pg_server`` is one server per test process (each xdist worker has its own); ``pg_url`` is a new
empty database per test, ``pg_catalog_url`` one already upgraded to the catalog's schema.
Outside CI a missing PostgreSQL skips these tests with a reason; with CI=true it fails.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROLE = "collegesearch"


def postgres_bin() -> Path | None:
    """The folder of the newest installed PostgreSQL's server programs, or None."""
    for folder in (Path("/usr/lib/postgresql"), Path("/usr/local/lib/postgresql")):
        if folder.is_dir():
            versions = sorted((p for p in folder.iterdir() if (p / "bin" / "initdb").exists()),
                              key=lambda p: [int(x) for x in p.name.split(".") if x.isdigit()], reverse=True)
            if versions:
                return versions[0] / "bin"
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def require_postgres() -> Path:
    """The server programs' folder, or skip (fail under CI=true) with a clear reason."""
    folder = postgres_bin()
    if folder is not None and (folder / "pg_ctl").exists():
        return folder
    message = ("PostgreSQL is not installed (multi-node mode: the shared catalog and crawl queue); "
               "`.ci/run` installs the Debian package postgresql")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " — CI=true, so this is an error", pytrace=False)
    pytest.skip(message)


@dataclass
class PgServer:
    """A running throwaway server: its socket folder, and how to make databases on it."""

    socket_dir: Path
    data_dir: Path
    bin_dir: Path
    as_user: list[str]

    def url(self, dbname: str) -> str:
        """The URL of a database on this server (Unix socket, the superuser role)."""
        return f"postgresql://{ROLE}@/{dbname}?host={self.socket_dir}"

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL with psql as the superuser; returns its output."""
        done = subprocess.run([str(self.bin_dir / "psql"), "-h", str(self.socket_dir), "-U", ROLE, "-d", dbname,
                               "-v", "ON_ERROR_STOP=1", "-At", "-c", sql], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Close this process's pooled connections to a database, then drop it (its other clients too).

        Each test's database would otherwise keep its engine's idle pool open until the process ends,
        and a worker that runs a hundred PostgreSQL tests runs out of ``max_connections``.
        """
        from catalog.database import dispose_engines

        dispose_engines(self.url(name))
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PgStartError(RuntimeError):
    """The throwaway server could not be made or started; the message has PostgreSQL's own words."""


def start_server(tmp: Path, bin_dir: Path) -> PgServer:
    """initdb and start a server in ``tmp`` (Unix socket only, fsync off); the bench uses this too."""
    as_user: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        as_user = [runuser, "-u", "postgres", "--"]
        shutil.chown(tmp, "postgres", "postgres")
    data, sockets, log = tmp / "data", tmp / "run", tmp / "server.log"
    sockets.mkdir()
    if as_user:
        shutil.chown(sockets, "postgres", "postgres")
    init = subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", ROLE, "--auth=trust",
                           "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"], capture_output=True, text=True,
                          check=False)
    if init.returncode != 0:
        raise PgStartError(f"initdb failed: {init.stderr.strip()[-2000:]}")
    options = (f"-k {sockets} -c listen_addresses='' -c fsync=off -c full_page_writes=off "
               "-c synchronous_commit=off -c max_connections=200")
    start = subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                            "-w", "-t", "60", "start"], capture_output=True, text=True, check=False)
    if start.returncode != 0:
        text = log.read_text(errors="replace")[-2000:] if log.exists() else start.stderr
        raise PgStartError(f"PostgreSQL did not start: {text}")
    return PgServer(sockets, data, bin_dir, as_user)


def stop_server(server: PgServer) -> None:
    """Stop the server at once (its data is thrown away)."""
    subprocess.run([*server.as_user, str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-m", "immediate",
                    "-w", "stop"], capture_output=True, check=False)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A private PostgreSQL server for this test process."""
    # Not under pytest's tmp_path: that folder is private to root, and the server may run as postgres.
    bin_dir = require_postgres()
    tmp = Path(tempfile.mkdtemp(prefix="collegesearch-pg-"))
    os.chmod(tmp, 0o755)
    try:
        server = start_server(tmp, bin_dir)
    except PgStartError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        from catalog.database import dispose_engines

        dispose_engines()
        stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)


_numbers = itertools.count(1)


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A new empty database for one test, dropped after it."""
    name = f"t{os.getpid()}_{next(_numbers)}"
    yield pg_server.create_database(name)
    pg_server.drop_database(name)


@pytest.fixture
def pg_catalog_url(pg_url: str) -> str:
    """A new database upgraded to the catalog's schema (what `collegesearch db upgrade` does)."""
    from catalog.connection import CatalogConnection
    from catalog.schema_migrations import upgrade

    conn = CatalogConnection(pg_url, check_schema=False)
    try:
        upgrade(conn)
    finally:
        conn.close()
    return pg_url
