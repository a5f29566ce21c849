"""Web app fixtures: a real catalog filled with hand-made items, a real index built by ``indexer.build``."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import pytest

from catalog import Catalog
from collegesearch.config import load_settings

sys.path.insert(0, str(Path(__file__).parent))
from webapp_testdata import ADMIN_HASH, fill_catalog, login  # noqa: E402


@pytest.fixture(scope="session")
def built_data_dir(tmp_path_factory) -> Path:
    """A data dir with the test catalog and its index, built once and copied per test."""
    from indexer.build import rebuild

    data = tmp_path_factory.mktemp("webapp-template") / "data"
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data)})
    with Catalog(settings.catalog_path) as cat:
        fill_catalog(cat)
        cat.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rebuild(settings)
    return data


@pytest.fixture
def web_settings(tmp_path, built_data_dir):
    """Settings over a private copy of the built data dir, with an admin password and small limits."""
    data = tmp_path / "data"
    shutil.copytree(built_data_dir, data)
    return load_settings(env={}, config_file=None, overrides={
        "DATA_DIR": str(data), "ADMIN_PASSWORD_HASH": ADMIN_HASH, "REVIEW_RATE_LIMIT": 3, "LOGIN_RATE_LIMIT": 4,
        "MAX_PER_PAGE": 50,
    })


@pytest.fixture
def app(web_settings):
    """The real app over the test data."""
    from webapp import create_app

    return create_app({"SETTINGS": web_settings, "TESTING": True})


@pytest.fixture
def client(app):
    """Flask's test client."""
    return app.test_client()


@pytest.fixture(autouse=True)
def _no_unhandled_errors(caplog):
    """A 500 from our own bug must fail the test that caused it, not hide behind the friendly page."""
    caplog.set_level(logging.WARNING)
    yield
    crashes = [r for r in caplog.records if r.name == "webapp.errors" and r.levelno >= logging.ERROR
               and "unhandled error" in r.getMessage()]
    assert not crashes, f"unhandled error in the app: {crashes[0].getMessage()} {crashes[0].exc_text}"


@pytest.fixture
def admin_client(client):
    """A test client with a logged-in admin session."""
    response = login(client)
    assert response.status_code == 302, response.text
    return client
