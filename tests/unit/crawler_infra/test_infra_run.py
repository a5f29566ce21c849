"""`collegesearch crawl` refuses clearly: unknown sources, no sample site, a source already running."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crawler.run import CrawlError, RunSummary, format_summary, resolve_sources, run_crawl
from model.sources import BUILTIN_SOURCES

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unknown_source_lists_valid_ones(settings) -> None:
    with pytest.raises(CrawlError) as info:
        resolve_sources(settings, ["bls_ooh", "nope"])
    message = str(info.value)
    assert "'nope'" in message and "valid sources:" in message
    for name in ("bls_ooh", "collegenavigator", "directory", "reviews", "adversarial"):
        assert name in message


def test_default_sources_come_from_config(settings) -> None:
    assert resolve_sources(settings, None) == ["bls_ooh", "collegenavigator", "directory", "reviews"]
    assert resolve_sources(settings.replace(SOURCES="reviews,bls_ooh,reviews"), None) == ["reviews", "bls_ooh"]


def test_no_sample_site_is_one_clear_line(settings) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(CrawlError) as info:
        run_crawl(settings, ["bls_ooh"], base_url=url)
    assert str(info.value) == (f"no sample site answers at {url}; start one with `collegesearch sample-site` "
                               "or pass --base-url")


def test_cli_reports_missing_sample_site(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    proc = subprocess.run(
        [sys.executable, "-m", "collegesearch", "--data-dir", str(tmp_path / "d"), "crawl", "bls_ooh", "--base-url", url],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"error: no sample site answers at {url}; start one with "
                                                "`collegesearch sample-site` or pass --base-url"]


class _Sources(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        host = self.headers["Host"]
        body = json.dumps({"sources": {name: {"base_url": f"http://{host}", "start_urls": [], "sitemap_urls": []}
                                       for name in ("bls_ooh", "collegenavigator")}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sources)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_source_not_served_by_this_site(settings, fake_site) -> None:
    with pytest.raises(CrawlError, match="does not serve reviews"):
        run_crawl(settings, ["reviews"], base_url=fake_site)


def test_busy_source_is_refused_with_its_holder(settings, fake_site) -> None:
    from ops.locks import crawl_lock_name, make_lock

    lock = make_lock(settings, crawl_lock_name("bls_ooh"))
    lock.acquire(purpose="test holder")
    try:
        with pytest.raises(CrawlError) as info:
            run_crawl(settings, ["collegenavigator", "bls_ooh"], base_url=fake_site)
    finally:
        lock.release()
    message = str(info.value)
    assert message.startswith("cannot crawl bls_ooh:") and "already running" in message and "test holder" in message
    # the other source's lock was given back
    other = make_lock(settings, crawl_lock_name("collegenavigator"))
    other.acquire()
    other.release()


def test_format_summary() -> None:
    ok = RunSummary(source="bls_ooh", status="ok", run_id=1, complete=True, stats={
        "pages": 120, "items": {"new": 100, "changed": 3, "unchanged": 2, "removed": 1, "touched": 0},
        "dropped": {"bad_rating": 2}, "errors": {}, "http_status": {"200": 118, "304": 2},
        "duration_s": 4.0, "pages_per_s": 30.0, "pages_not_modified": 2})
    bad = RunSummary(source="reviews", status="failed", run_id=2, error="mostly 5xx answers: 9 of 10", stats={
        "pages": 1, "items": {}, "errors": {"http_5xx": 9}, "duration_s": 1.0, "pages_per_s": 1.0})
    text = format_summary([ok, bad])
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["source", "status", "pages", "new"]
    assert lines[2].split()[:8] == ["bls_ooh", "ok", "120", "100", "3", "2", "1", "2"]
    assert "reviews" in lines[3] and "failed" in lines[3]
    assert "dropped: bad_rating 2" in text and "error: mostly 5xx" in text and "HTTP 200: 118, 304: 2" in text


def test_scrapy_list_works_without_a_data_dir(tmp_path: Path) -> None:
    """`scrapy crawl` stays native: the project settings load from config.py with no side effects."""
    data = tmp_path / "missing"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "scrapy"), "list"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLLEGESEARCH_DATA_DIR": str(data)},
    )
    assert proc.returncode == 0, proc.stderr
    names = proc.stdout.split()
    # Spider names equal source names: `scrapy crawl bls_ooh` is `collegesearch crawl bls_ooh`.
    assert {*BUILTIN_SOURCES, "generic"} <= set(names)
    assert not data.exists()


def test_project_settings_follow_config(settings) -> None:
    from crawler import settings as project

    values = project.from_config(settings.replace(DOWNLOAD_DELAY=2.5, CONCURRENT_REQUESTS_PER_HOST=2,
                                                  SAMPLE_SITE_CONCURRENCY=12, CRAWL_TIME_LIMIT=99))
    assert values["DOWNLOAD_DELAY"] == 2.5 and values["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2
    assert values["CLOSESPIDER_TIMEOUT"] == 99
    assert values["DOWNLOAD_SLOTS"]["sample-site:127.0.0.2"] == {"concurrency": 12, "delay": 0.0, "jitter": 0.0}
    assert "127.0.0.2" not in values["DOWNLOAD_SLOTS"]  # a user's site on loopback stays a real site
    assert settings.CONTACT_URL in values["USER_AGENT"]
    assert project.ROBOTSTXT_OBEY is True
