"""Failures never delete: a 5xx or a timeout protects a page's items, only 404/410 tombstones them,
and a source answering mostly 5xx fails its run with the reason.

The directory source is crawled through a small fault-injecting proxy in front of the sample site
(its own loopback host, its own ``sources.json``), so a test can make chosen pages fail for good,
which the sample site's own faults (a 503 that succeeds on retry) never do.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from catalog import Catalog
from crawler.pages.directory import DirectoryListingPage
from tests.integration.crawler.crawl_helpers import crawl_env, run_crawl

SOURCE = "directory"


class FaultProxy(ThreadingHTTPServer):
    """Forwards to one sample-site source; answers chosen paths with a status, or too late."""

    daemon_threads = True
    request_queue_size = 128  # the crawler opens several connections at once; 5 would drop some

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections the crawler abandons (timeouts) are expected here: no traceback."""

    def __init__(self, upstream: dict[str, Any]) -> None:
        super().__init__(("127.0.0.7", 0), _Handler)
        self.upstream = urlsplit(upstream["base_url"])
        self.base_url = f"http://127.0.0.7:{self.server_address[1]}"
        self.start_urls = [self.base_url + urlsplit(u).path + (f"?{urlsplit(u).query}" if urlsplit(u).query else "")
                           for u in upstream["start_urls"]]
        self.status: dict[str, int] = {}
        self.slow: dict[str, float] = {}
        self.fail_all: int | None = None

    def sources(self) -> bytes:
        return json.dumps({"sources": {SOURCE: {"base_url": self.base_url, "start_urls": self.start_urls,
                                                "sitemap_urls": []}}}).encode()


class _Handler(BaseHTTPRequestHandler):
    server: FaultProxy

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        proxy = self.server
        if self.path == "/sources.json":
            return self._send(200, {"Content-Type": "application/json"}, proxy.sources())
        if proxy.fail_all and self.path != "/robots.txt":
            return self._send(proxy.fail_all, {"Content-Type": "text/plain"}, b"unavailable")
        if self.path in proxy.status:
            return self._send(proxy.status[self.path], {"Content-Type": "text/plain"}, b"fault")
        if self.path in proxy.slow:
            time.sleep(proxy.slow[self.path])
        conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("user-agent", "if-none-match",
                                                                       "if-modified-since", "accept")}
        conn.request("GET", self.path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        out = {k: v for k, v in resp.getheaders() if k.lower() in ("content-type", "etag", "last-modified", "location")}
        if "Location" in out:
            out["Location"] = out["Location"].replace(f"{proxy.upstream.hostname}:{proxy.upstream.port}",
                                                      f"127.0.0.7:{proxy.server_address[1]}")
        conn.close()
        self._send(resp.status, out, body)

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the crawler gave up on a slow answer
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def proxy(sample_site) -> Iterator[FaultProxy]:
    server = FaultProxy(sample_site.sources[SOURCE])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _programs(data: Path) -> dict[str, Any]:
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        return {s.item_id: s for s in cat.iter_items("program", source=SOURCE, include_deleted=True)}


def _deleted_ops(data: Path, since: int) -> list[Any]:
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        return [c for c in cat.changes_since(since, limit=100_000) if c.op == "deleted"]


def _seq(data: Path) -> int:
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        return cat.max_change_seq()


def test_failures_never_delete_and_404_does(proxy: FaultProxy, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = crawl_env(data)
    env["SCRAPY_SETTINGS_MODULE"] = "tests.integration.crawler.fast_crawl_settings"  # 2 s timeout, one quick retry
    first = run_crawl(data, proxy.base_url, SOURCE, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.run(SOURCE).complete
    programs = _programs(data)
    assert len(programs) >= 200 and all(p.deleted_at is None for p in programs.values())

    by_path = {urlsplit(p.data["url"]).path: p.item_id for p in programs.values()}
    with urllib.request.urlopen(proxy.start_urls[0], timeout=30) as resp:  # noqa: S310 - loopback
        listing = DirectoryListingPage(proxy.start_urls[0], resp.read())
    on_first_page = [urlsplit(u).path for u in listing.detail_links() if urlsplit(u).path in by_path]
    broken, slow, gone = on_first_page[:3]
    listing_page_2 = "/cahiim/program-directory?page=2"  # and so every page after it
    proxy.status.update({broken: 503, listing_page_2: 503, gone: 404})
    proxy.slow[slow] = 6.0
    seq = _seq(data)
    second = run_crawl(data, proxy.base_url, SOURCE, env=env, full=True)  # every page asked for, due or not
    assert second.returncode == 0, second.stderr[-3000:]
    run = second.run(SOURCE)
    assert run.status == "ok" and not run.complete  # finished, but it did not see every page
    assert run.stats["errors"] == {"http_5xx": 2, "timeout": 1}, run.stats["errors"]
    deleted = _deleted_ops(data, seq)
    assert [c.item_id for c in deleted] == [by_path[gone]]  # only the 404 removed anything
    after = _programs(data)
    assert after[by_path[gone]].deleted_reason == "page answered 404"
    for path in (broken, slow):
        item = after[by_path[path]]
        assert item.deleted_at is None and item.last_run_id == run.id  # protected, counted as present
    assert sum(1 for p in after.values() if p.deleted_at is None) == len(programs) - 1
    assert f"could not fetch {proxy.base_url}{broken}" in second.stderr  # logged with its URL

    proxy.fail_all = 503
    seq = _seq(data)
    third = run_crawl(data, proxy.base_url, SOURCE, env=env, full=True)
    assert third.returncode == 1  # the CLI reports the failed source
    run = third.run(SOURCE)
    assert run.status == "failed" and not run.complete
    assert "mostly 5xx" in run.error and "CRAWL_MAX_ERROR_RATE" in run.error, run.error
    assert "error: mostly 5xx" in third.stdout
    assert not _deleted_ops(data, seq)
    assert sum(1 for p in _programs(data).values() if p.deleted_at is None) == len(programs) - 1
