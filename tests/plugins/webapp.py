"""Web app fixtures shared by every suite: a catalog of hand-made items with its real index, the app, its clients.

The items and helpers (login, csrf_token, ids) are ``tests.unit.webapp.webapp_testdata``. A suite with
other data overrides ``web_settings`` and ``admin_password`` (the schedule tests do); ``app``, ``client``
and ``admin_client`` then run over it.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from catalog import Catalog
from collegesearch.config import Settings, load_settings
from tests.unit.webapp import webapp_testdata


@pytest.fixture(scope="session")
def testdata() -> ModuleType:
    """The web app's hand-made items and helpers (login, csrf_token, ids)."""
    return webapp_testdata


@pytest.fixture(scope="session")
def built_web_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the hand-made catalog and its index, built once per session and copied per test."""
    from indexer.build import rebuild

    data = tmp_path_factory.mktemp("web-data") / "data"
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data)})
    with Catalog(settings.catalog_path) as cat:
        webapp_testdata.fill_catalog(cat)
        cat.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rebuild(settings)
    return data


@pytest.fixture(scope="session")
def built_web_pg(tmp_path_factory: pytest.TempPathFactory, pg_server: Any) -> tuple[Path, str]:
    """The same hand-made catalog in a PostgreSQL template database, and a data dir with its index."""
    from catalog.connection import CatalogConnection
    from catalog.database import dispose_engines
    from catalog.schema_migrations import upgrade
    from indexer.build import rebuild

    template = f"webtemplate_{os.getpid()}"
    url = pg_server.create_database(template)
    conn = CatalogConnection(url, check_schema=False)
    try:
        upgrade(conn)
    finally:
        conn.close()
    data = tmp_path_factory.mktemp("web-data-pg") / "data"
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data), "DATABASE_URL": url})
    with Catalog(settings.catalog_location) as cat:
        webapp_testdata.fill_catalog(cat)
    rebuild(settings)
    dispose_engines()  # a template database may have no open connections when it is copied
    return data, template


@pytest.fixture
def web_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings over a private copy of the built data dir, with an admin password and small limits.

    In a module marked ``both_backends`` it runs once on SQLite and once on PostgreSQL (a database
    copied from a template, with a copy of the index built from it).
    """
    limits = {"ADMIN_PASSWORD_HASH": webapp_testdata.ADMIN_HASH, "REVIEW_RATE_LIMIT": 3, "LOGIN_RATE_LIMIT": 4,
              "MAX_PER_PAGE": 50}
    data = tmp_path / "data"
    if getattr(request, "param", "sqlite") == "postgresql":
        built, template = request.getfixturevalue("built_web_pg")
        server = request.getfixturevalue("pg_server")
        name = f"web_{os.getpid()}_{next(_numbers)}"
        server.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        shutil.copytree(built, data)
        yield load_settings(env={}, config_file=None, overrides={
            "DATA_DIR": str(data), "DATABASE_URL": server.url(name), **limits})
        server.drop_database(name)
        return
    shutil.copytree(request.getfixturevalue("built_web_data"), data)
    yield load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data), **limits})


_numbers = itertools.count(1)


@pytest.fixture
def app(web_settings: Settings) -> Iterator[Any]:
    """The real app (CSRF on) over ``web_settings``."""
    from webapp import create_app

    app = create_app({"SETTINGS": web_settings, "TESTING": True})
    yield app
    app.extensions["collegesearch_search"].close()


@pytest.fixture
def client(app: Any) -> Any:
    """Flask's test client (an anonymous visitor)."""
    return app.test_client()


@pytest.fixture
def admin_password() -> str:
    """The password whose hash ``web_settings`` holds (a suite that overrides one overrides both)."""
    return webapp_testdata.ADMIN_PASSWORD


@pytest.fixture
def admin_client(app: Any, admin_password: str) -> Any:
    """A second test client with a logged-in admin session (``client`` stays anonymous)."""
    client = app.test_client()
    response = webapp_testdata.login(client, admin_password)
    assert response.status_code == 302, response.text
    return client


@pytest.fixture
def no_unhandled_errors(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Fail the test when the app logged an unhandled error (a 500 from our own bug)."""
    caplog.set_level(logging.WARNING)
    yield caplog
    crashes = [r for r in caplog.records if r.name == "webapp.errors" and r.levelno >= logging.ERROR
               and "unhandled error" in r.getMessage()]
    assert not crashes, f"unhandled error in the app: {crashes[0].getMessage()} {crashes[0].exc_text}"
