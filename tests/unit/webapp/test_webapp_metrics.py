"""``/metrics``: scraped over HTTP and parsed with prometheus-client's own parser; who may read it; gunicorn workers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from catalog import Catalog
from tests.unit.webapp.test_webapp_serve import ROOT, free_port, serve_env


def scrape(client, **kwargs) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of one scrape: {(name, sorted labels): value}."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_searches_renders_and_cache_lookups_are_counted(client):
    before = scrape(client)
    assert client.get("/search?q=health").status_code == 200
    assert client.get("/api/search?q=nurse").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("collegesearch_http_requests_total", endpoint="views.search", method="GET", status="200") == 1
    assert grew("collegesearch_http_requests_total", endpoint="api.search", method="GET", status="200") == 1
    assert grew("collegesearch_http_requests_total", endpoint="unmatched", method="GET", status="404") == 1
    assert grew("collegesearch_http_request_duration_seconds_count", endpoint="views.search") == 1
    assert grew("collegesearch_http_request_duration_seconds_sum", endpoint="views.search") > 0
    assert grew("collegesearch_http_request_duration_seconds_bucket", endpoint="api.search", le="+Inf") == 1
    assert grew("collegesearch_search_duration_seconds_count") == 2  # the page's search and the API's
    assert grew("collegesearch_results_page_render_seconds_count") == 1  # only the page renders a template
    assert grew("collegesearch_search_cache_hits_total") + grew("collegesearch_search_cache_misses_total") > 0
    # The scrape itself is a request like any other.
    assert grew("collegesearch_http_requests_total", endpoint="metrics.metrics", method="GET", status="200") == 1


@pytest.mark.both_backends
def test_crawl_runs_items_pages_and_errors_come_from_the_catalog(client, web_settings):
    before = scrape(client)
    with Catalog(web_settings.catalog_location) as cat:
        failed = cat.start_run("reviews", "schedule")
        cat.finish_run(failed, status="failed", stats={
            "pages": 7, "items": {"new": 3, "revived": 1, "changed": 2, "unchanged": 4, "touched": 1, "removed": 1},
            "errors": {"timeout": 2, "http_5xx": 5}}, error="too many errors")
        cat.start_run("reviews", "manual")  # still running
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("collegesearch_crawl_runs_total", source="reviews", status="failed") == 1
    assert grew("collegesearch_crawl_runs_total", source="reviews", status="ok") == 0
    assert value(after, "collegesearch_crawl_runs_running", source="reviews") == 1
    assert grew("collegesearch_crawl_items_total", source="reviews", change="new") == 4  # revived counts as new
    assert grew("collegesearch_crawl_items_total", source="reviews", change="changed") == 2
    assert grew("collegesearch_crawl_items_total", source="reviews", change="unchanged") == 5
    assert grew("collegesearch_crawl_items_total", source="reviews", change="removed") == 1
    assert grew("collegesearch_crawl_pages_fetched_total", source="reviews") == 7
    assert grew("collegesearch_crawl_errors_total", source="reviews", kind="timeout") == 2
    assert grew("collegesearch_crawl_errors_total", source="reviews", kind="http_5xx") == 5
    # The test catalog's two earlier runs (12 and 5 pages) are there too.
    assert value(after, "collegesearch_crawl_runs_total", source="directory", status="ok") == 2
    assert value(after, "collegesearch_crawl_pages_fetched_total", source="directory") == 17


@pytest.mark.both_backends
def test_index_generation_and_changes_behind(client, web_settings, testdata):
    samples = scrape(client)
    status = client.get("/api/status").json["index"]
    assert value(samples, "collegesearch_index_up") == 1
    assert value(samples, "collegesearch_index_generation_info", generation=status["generation"]) == 1
    assert value(samples, "collegesearch_index_documents") == status["doc_count"] == 19
    assert value(samples, "collegesearch_index_watermark") == status["watermark"]
    assert value(samples, "collegesearch_index_generation_created_timestamp_seconds") > 1.7e9
    assert ("collegesearch_index_changes_behind", ()) in samples
    assert value(samples, "collegesearch_index_changes_behind") == 0
    with Catalog(web_settings.catalog_location) as cat:
        run = cat.start_run("directory", "manual")
        for item in testdata.programs(hit_oh_status="accredited"):  # the Ohio program's status changes back
            cat.upsert(item, run_id=run)
        cat.finish_run(run, status="ok", stats={"pages": 1})
    assert value(scrape(client), "collegesearch_index_changes_behind") >= 1


@pytest.mark.both_backends
def test_page_freshness_per_source_comes_from_the_catalog(client, web_settings):
    assert not any(name.startswith("collegesearch_pages_") for name, _ in scrape(client))  # no page fetched yet
    with Catalog(web_settings.catalog_location) as cat:
        for n in range(4):
            cat.record_page(f"https://dir.example/p/{n}", source="directory", status=200, run_id=None, body=b"%d" % n)
        cat.set_page_schedule("https://dir.example/p/0", 86400, "2099-01-01T00:00:00.000000Z")  # within its interval
        cat.set_page_schedule("https://dir.example/p/1", 86400, "2001-01-01T00:00:00.000000Z")  # overdue
        cat.mark_page_gone("https://dir.example/p/gone", source="directory", status=410, run_id=None)
        for n in range(2):
            cat.record_page(f"https://reviews.example/{n}", source="reviews", status=200, run_id=None, body=b"r")
        # A fetch schedules its page; these stand for pages fetched before the schedule existed.
        for url in ("https://dir.example/p/2", "https://dir.example/p/3", "https://reviews.example/0",
                    "https://reviews.example/1"):
            assert cat.set_page_schedule(url, None, None)
    samples = scrape(client)
    assert value(samples, "collegesearch_pages_fresh_ratio", source="directory") == 0.25
    assert value(samples, "collegesearch_pages_due", source="directory") == 3  # overdue and never scheduled
    assert value(samples, "collegesearch_pages_unscheduled", source="directory") == 2
    assert ("collegesearch_pages_fresh_ratio", (("source", "reviews"),)) in samples
    assert value(samples, "collegesearch_pages_fresh_ratio", source="reviews") == 0
    assert value(samples, "collegesearch_pages_due", source="reviews") == 2
    assert value(samples, "collegesearch_pages_unscheduled", source="reviews") == 2  # so an alert can tell why


def test_an_unreadable_catalog_is_reported_and_the_rest_still_scraped(client, web_settings):
    assert value(scrape(client), "collegesearch_catalog_up") == 1
    assert client.get("/api/search?q=health").status_code == 200  # opens the searcher before the damage
    for path in web_settings.data_dir.glob("catalog.sqlite3*"):
        path.unlink()
    web_settings.catalog_path.write_bytes(b"this is not a database" * 100)
    samples = scrape(client)
    assert value(samples, "collegesearch_catalog_up") == 0
    assert value(samples, "collegesearch_index_up") == 1
    assert value(samples, "collegesearch_http_requests_total", endpoint="api.search", method="GET", status="200") >= 1
    assert not any(name == "collegesearch_crawl_runs_total" for name, _ in samples)
    assert not any(name.startswith("collegesearch_pages_") for name, _ in samples)


def test_metrics_are_open_to_allowed_addresses_and_admins_only(app, admin_client, web_settings):
    from webapp import create_app

    outsider = {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}}
    denied = app.test_client().get("/metrics", **outsider)
    assert denied.status_code == 403 and "collegesearch_" not in denied.text
    assert "COLLEGESEARCH_METRICS_ALLOW" in denied.text
    # Loopback is allowed by default (the test client's address), IPv4-mapped IPv6 too.
    scrape(app.test_client())
    scrape(app.test_client(), environ_base={"REMOTE_ADDR": "::ffff:127.0.0.1"})
    # A logged-in admin may read it from anywhere.
    scrape(admin_client, **outsider)

    networks = create_app({"SETTINGS": web_settings, "TESTING": True, "METRICS_ALLOW": "10.0.0.0/8, 203.0.113.9"})
    try:
        scrape(networks.test_client(), **outsider)
        scrape(networks.test_client(), environ_base={"REMOTE_ADDR": "10.20.30.40"})
        assert networks.test_client().get("/metrics").status_code == 403  # loopback no longer listed
    finally:
        networks.extensions["collegesearch_search"].close()


def test_behind_a_proxy_the_forwarded_client_is_checked_not_the_proxy(web_settings):
    from webapp import create_app

    app = create_app({"SETTINGS": web_settings, "TESTING": True, "PROXY_HOPS": 1})
    try:
        client = app.test_client()
        # The request comes from the local proxy on behalf of an outside visitor: not allowed.
        assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
        scrape(client, headers={"X-Forwarded-For": "127.0.0.1"})
    finally:
        app.extensions["collegesearch_search"].close()


def test_serve_sums_the_metrics_of_every_gunicorn_worker(web_settings):
    port = free_port()
    stale = web_settings.data_dir / "metrics" / "counter_999999.db"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"left by an earlier server")
    proc = subprocess.Popen(
        [sys.executable, "-m", "collegesearch", "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT, env=serve_env(web_settings), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the server did not start")
                time.sleep(0.2)
        assert not stale.exists()  # emptied at start: an earlier server's counts are not added in
        searches = 12
        for n in range(searches):  # a new connection each time, so both workers get some
            with urllib.request.urlopen(f"{base}/api/search?q=health&page={n % 2 + 1}", timeout=10) as resp:
                assert resp.status == 200
        scrapes = []
        for _ in range(4):  # whichever worker answers, the sum over workers is the same
            with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
                scrapes.append(parse(resp.read().decode()))
        for samples in scrapes:
            assert value(samples, "collegesearch_http_requests_total", endpoint="api.search", method="GET",
                         status="200") == searches
            assert value(samples, "collegesearch_search_duration_seconds_count") == searches
            assert value(samples, "collegesearch_crawl_runs_total", source="directory", status="ok") == 2
        files = {p.name for p in (web_settings.data_dir / "metrics").glob("*.db")}
        assert any(name.startswith("histogram_") for name in files), files
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
