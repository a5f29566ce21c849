"""HTTP caching through the test client: ETag / Last-Modified from the catalog and the index, 304s, Cache-Control,
private pages for sessions, and fingerprinted static files that are immutable."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from werkzeug.http import http_date, parse_date

import webapp
from catalog import Catalog
from collegesearch.config import ConfigError, load_settings
from tests.unit.webapp.webapp_testdata import GHC, HIT_OH, MRS, programs

# Each test runs with the catalog on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_backends

STATIC = Path(webapp.__file__).parent / "static"

CACHEABLE = [
    ("/api/search?q=medical+records", 60), ("/search?q=medical+records", 60), ("/search.json?q=health", 60),
    ("/api/suggest?q=med", 60),
    (f"/api/institutions/{GHC}", 300), (f"/institutions/{GHC}", 300), (f"/api/careers/{MRS}", 300),
    (f"/careers/{MRS}", 300), (f"/programs/{HIT_OH}", 300), (f"/api/programs/{HIT_OH}", 300), ("/colleges/", 300),
    ("/changes", 300), ("/changes.json", 300), ("/changes.atom", 300),
]


def _cache_control(response) -> dict[str, str | None]:
    parts = [p.strip() for p in response.headers.get("Cache-Control", "").split(",") if p.strip()]
    return {p.split("=", 1)[0]: (p.split("=", 1)[1] if "=" in p else None) for p in parts}


def _flip_ohio_program(web_settings, status: str) -> None:
    """A crawl that changes one program's accreditation status (a new entry in the change log)."""
    with Catalog(web_settings.catalog_location) as cat:
        run = cat.start_run("directory", "manual")
        for item in programs(hit_oh_status=status):
            cat.upsert(item, run_id=run)
        cat.finish_run(run, status="ok", stats={"pages": 1}, complete=True)


@pytest.mark.parametrize(("url", "max_age"), CACHEABLE)
def test_responses_carry_a_weak_etag_last_modified_and_max_age(client, url, max_age):
    response = client.get(url)
    assert response.status_code == 200
    etag, weak = response.get_etag()
    assert etag and weak and response.headers["ETag"].startswith('W/"')
    assert response.last_modified is not None
    cache = _cache_control(response)
    assert "public" in cache and cache["max-age"] == str(max_age)
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    # A 304 repeats what a cache needs to refresh its copy (RFC 9110 15.4.5).
    assert again.headers["ETag"] == response.headers["ETag"]
    assert _cache_control(again) == cache and "Cookie" in again.headers.get("Vary", "")


def test_if_modified_since_is_honoured_only_without_if_none_match(client):
    url = f"/institutions/{GHC}"
    first = client.get(url)
    last_modified = first.headers["Last-Modified"]
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    earlier = http_date(parse_date(last_modified).timestamp() - 3600)
    assert client.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    # An ETag the server does not recognise wins over a date that would have matched (RFC 9110 13.1.3).
    mixed = client.get(url, headers={"If-None-Match": 'W/"0-stale"', "If-Modified-Since": last_modified})
    assert mixed.status_code == 200 and "Health" in mixed.text


def test_a_catalog_change_and_an_index_sync_each_change_the_validator(client, web_settings):
    from indexer.build import sync

    before = client.get("/changes.atom")
    detail = client.get(f"/api/programs/{HIT_OH}")
    assert detail.get_json()["program"]["accreditation_status"] == "probation"
    _flip_ohio_program(web_settings, "accredited")
    changed = client.get("/changes.atom", headers={"If-None-Match": before.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != before.headers["ETag"]
    assert changed.data.count(b"<entry>") == before.data.count(b"<entry>") + 1
    fresh = client.get(f"/api/programs/{HIT_OH}", headers={"If-None-Match": detail.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.get_json()["program"]["accreditation_status"] == "accredited"
    assert parse_date(fresh.headers["Last-Modified"]) >= parse_date(detail.headers["Last-Modified"])

    # The search results come from the index: the validator moves again when the sync publishes it.
    search = client.get("/api/search?q=health+information&kind=program&accreditation_status=accredited")
    assert f"program:{HIT_OH}" not in [r["id"] for r in search.get_json()["results"]]
    sync(web_settings)
    synced = client.get("/api/search?q=health+information&kind=program&accreditation_status=accredited",
                        headers={"If-None-Match": search.headers["ETag"]})
    assert synced.status_code == 200 and synced.headers["ETag"] != search.headers["ETag"]
    assert f"program:{HIT_OH}" in [r["id"] for r in synced.get_json()["results"]]


def test_errors_get_no_validator(client):
    missing = client.get("/api/institutions/999999")
    assert missing.status_code == 404 and "ETag" not in missing.headers
    assert "public" not in _cache_control(missing)
    bad = client.get("/api/search?page=0")
    assert bad.status_code == 400 and "ETag" not in bad.headers


def test_a_visitor_with_a_session_gets_private_pages_and_no_304(client, admin_client):
    url = f"/institutions/{GHC}"
    public = client.get(url)
    mine = admin_client.get(url, headers={"If-None-Match": public.headers["ETag"]})
    assert mine.status_code == 200 and "Health" in mine.text
    assert mine.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in mine.headers and "Last-Modified" not in mine.headers
    # The admin pages and forms keep security.py's rule.
    assert admin_client.get("/admin/").headers["Cache-Control"] == "no-store"
    assert client.get(f"/institutions/{GHC}/review").headers["Cache-Control"] == "private, no-store"


def test_max_ages_are_settings(web_settings):
    from webapp import create_app

    app = create_app({"SETTINGS": web_settings, "TESTING": True, "CACHE_SEARCH_MAX_AGE": 5,
                      "CACHE_DETAIL_MAX_AGE": 7, "CACHE_FEED_MAX_AGE": 9})
    try:
        client = app.test_client()
        assert _cache_control(client.get("/api/search?q=health"))["max-age"] == "5"
        assert _cache_control(client.get(f"/api/careers/{MRS}"))["max-age"] == "7"
        assert _cache_control(client.get("/changes.json"))["max-age"] == "9"
    finally:
        app.extensions["collegesearch_search"].close()
    with pytest.raises(ConfigError, match="COLLEGESEARCH_CACHE_SEARCH_MAX_AGE"):
        load_settings(env={"COLLEGESEARCH_CACHE_SEARCH_MAX_AGE": "a minute"}, config_file=None)


def test_static_urls_are_fingerprinted_and_immutable(client):
    page = client.get("/").text
    for name in ("css/app.css", "js/app.js", "favicon.svg"):
        digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
        url = f"/static/{name}?v={digest}"
        assert f'"{url}"' in page, f"{name} is not linked by its fingerprint"
        response = client.get(url)
        assert response.status_code == 200 and response.data == (STATIC / name).read_bytes()
        cache = _cache_control(response)
        assert {"public", "immutable"} <= set(cache) and cache["max-age"] == "31536000"
        assert "no-cache" not in cache
    # Without the current fingerprint the file is revalidated, never kept for a year.
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        cache = _cache_control(client.get(url))
        assert "immutable" not in cache and "no-cache" in cache


def test_every_static_link_in_the_templates_is_fingerprinted(client):
    pages = [client.get(u).text for u in ("/", f"/institutions/{GHC}", "/changes", "/search?q=health")]
    for html in pages:
        links = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
        assert links and all(re.search(r"\?v=[0-9a-f]{12}$", link) for link in links), links
