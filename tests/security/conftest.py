"""Fixtures of the security suite (issue 8): the web app over hand-made hostile data, its test client.

Every test under tests/security is marked ``security``; the ones that crawl, kill or load are also
``slow``. Crawls and servers are shared through session fixtures where tests only read them.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from catalog import Catalog
from collegesearch.config import load_settings
from tests.security.support import load_webapp_testdata

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    for item in items:
        if str(item.fspath).startswith(str(HERE)):
            item.add_marker(pytest.mark.security)


@pytest.fixture(scope="session")
def testdata():
    """The web app's hand-made items and helpers (login, csrf_token, ids)."""
    return load_webapp_testdata()


@pytest.fixture(scope="session")
def built_web_data(tmp_path_factory, testdata) -> Path:
    """A data dir with the hand-made catalog and its index, built once per session and copied per test."""
    from indexer.build import rebuild

    data = tmp_path_factory.mktemp("security-web") / "data"
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data)})
    with Catalog(settings.catalog_path) as cat:
        testdata.fill_catalog(cat)
        cat.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rebuild(settings)
    return data


@pytest.fixture
def web_settings(tmp_path, built_web_data, testdata):
    """Settings over a private copy of the built data dir, with an admin password and small limits."""
    data = tmp_path / "data"
    shutil.copytree(built_web_data, data)
    return load_settings(env={}, config_file=None, overrides={
        "DATA_DIR": str(data), "ADMIN_PASSWORD_HASH": testdata.ADMIN_HASH, "REVIEW_RATE_LIMIT": 3,
        "LOGIN_RATE_LIMIT": 4, "MAX_PER_PAGE": 50,
    })


@pytest.fixture
def app(web_settings):
    """The real app (CSRF on) over the test data."""
    from webapp import create_app

    app = create_app({"SETTINGS": web_settings, "TESTING": True})
    yield app
    app.extensions["collegesearch_search"].close()


@pytest.fixture
def client(app):
    """Flask's test client."""
    return app.test_client()


@pytest.fixture
def admin_client(app, testdata):
    """A test client with a logged-in admin session."""
    client = app.test_client()
    response = testdata.login(client)
    assert response.status_code == 302, response.text
    return client


@pytest.fixture
def no_unhandled_errors(caplog):
    """Fail the test when the app logged an unhandled error (a 500 from our own bug)."""
    caplog.set_level(logging.WARNING)
    yield caplog
    crashes = [r for r in caplog.records if r.name == "webapp.errors" and r.levelno >= logging.ERROR
               and "unhandled error" in r.getMessage()]
    assert not crashes, f"unhandled error in the app: {crashes[0].getMessage()} {crashes[0].exc_text}"


@pytest.fixture(scope="session")
def adversarial_crawl(sample_site, tmp_path_factory):
    """One crawl of the sample site's adversarial area (shared by the hostile-page tests of this worker)."""
    from tests.security.support import run_crawl_cli

    data = tmp_path_factory.mktemp("adversarial") / "data"
    return run_crawl_cli(sample_site, data, ["adversarial"], timeout=300)


@pytest.fixture(scope="session")
def big_catalog(tmp_path_factory) -> Path:
    """A catalog of sample-site careers, institutions and programs (about 4,300 records), built in-process."""
    from model.items import item_from_dict
    from sample_site import truth

    path = tmp_path_factory.mktemp("big-catalog") / "catalog.sqlite3"
    items = truth.expected_items(1)
    with Catalog(path) as cat:
        for kind, limit in (("institution", 2000), ("program", 2000), ("career", 400)):
            run = cat.start_run("collegenavigator" if kind != "career" else "bls_ooh", "manual")
            with cat.transaction():
                for data in list(items[kind].values())[:limit]:
                    cat.upsert(item_from_dict({**data, "kind": kind}), run_id=run)
            cat.finish_run(run, status="ok", stats={}, complete=True)
        cat.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path
