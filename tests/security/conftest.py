"""Fixtures of the security suite (issue 8); the web app over hand-made hostile data and its clients come from
tests/plugins/webapp.py, shared with the unit tests.

Every test under tests/security is marked ``security``; the ones that crawl, kill or load are also
``slow``. Crawls and servers are shared through session fixtures where tests only read them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import Catalog

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    for item in items:
        if str(item.fspath).startswith(str(HERE)):
            item.add_marker(pytest.mark.security)


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
