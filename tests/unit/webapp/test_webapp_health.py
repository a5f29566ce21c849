"""/healthz and /readyz through HTTP: status codes a load balancer reads, reasons, never cached."""

from __future__ import annotations

import shutil

import pytest

from catalog import Catalog
from collegesearch.config import ConfigError, load_settings
from tests.unit.webapp.webapp_testdata import programs

# Each test runs with the catalog on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_backends


def _app(web_settings, **config):
    from webapp import create_app

    return create_app({"SETTINGS": web_settings, "TESTING": True, **config})


def _close(app) -> None:
    app.extensions["collegesearch_search"].close()


def _flip_ohio_program(web_settings, status: str) -> None:
    """A crawl that changes one program (one new entry in the catalog's change log)."""
    with Catalog(web_settings.catalog_location) as cat:
        run = cat.start_run("directory", "manual")
        for item in programs(hit_oh_status=status):
            cat.upsert(item, run_id=run)
        cat.finish_run(run, status="ok", stats={"pages": 1}, complete=True)


def test_healthz_answers_ok_and_is_never_cached(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
    assert client.head("/healthz").status_code == 200


def test_readyz_is_ready_with_the_catalog_and_an_index_in_step(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ready" and "reasons" not in body
    assert body["catalog"]["ok"] is True and body["catalog"]["change_seq"] > 0
    assert body["index"]["ok"] is True and body["index"]["changes_behind"] == 0
    assert body["index"]["generation"] and body["index"]["doc_count"] > 0
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_503_while_the_index_is_too_far_behind(web_settings):
    from indexer.build import sync

    app = _app(web_settings, READY_MAX_CHANGES_BEHIND=0)
    try:
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        _flip_ohio_program(web_settings, "accredited")
        behind = client.get("/readyz")
        body = behind.get_json()
        assert behind.status_code == 503 and body["status"] == "not ready"
        assert body["index"]["changes_behind"] >= 1 and body["index"]["ok"] is False
        assert any("changes behind" in r and "READY_MAX_CHANGES_BEHIND" in r for r in body["reasons"])
        assert behind.headers["Cache-Control"] == "no-store"
        sync(web_settings)
        assert client.get("/readyz").status_code == 200
    finally:
        _close(app)


def test_a_node_that_lost_its_data_is_alive_but_not_ready(web_settings):
    app = _app(web_settings)
    try:
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        _close(app)  # let go of the open index, as a node whose disk went away would have to
        shutil.rmtree(web_settings.data_dir)
        # Liveness opens nothing, so it still answers: the process is fine, its data is not.
        live = client.get("/healthz")
        assert live.status_code == 200 and live.get_json()["status"] == "ok"
        ready = client.get("/readyz")
        body = ready.get_json()
        assert ready.status_code == 503 and body["status"] == "not ready"
        assert any(r.startswith("index: ") for r in body["reasons"]) and body["index"]["ok"] is False
        if web_settings.DATABASE_URL is None:  # the SQLite catalog lived in the data dir too
            assert any(r.startswith("catalog: ") for r in body["reasons"]) and body["catalog"]["ok"] is False
        else:
            assert body["catalog"]["ok"] is True
    finally:
        _close(app)


def test_a_bad_ready_limit_is_a_config_error():
    with pytest.raises(ConfigError, match="COLLEGESEARCH_READY_MAX_CHANGES_BEHIND"):
        load_settings(env={"COLLEGESEARCH_READY_MAX_CHANGES_BEHIND": "-1"}, config_file=None)
