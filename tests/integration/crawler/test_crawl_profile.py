"""A site added with a start URL and a link pattern alone (SITES_FILE) is crawled by the generic spider:
only links the pattern accepts are followed, robots.txt holds, tracking duplicates are fetched once,
and the generic extractors turn plain-text career pages into items under the profile's name."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from catalog import Catalog
from tests.integration.crawler.crawl_helpers import crawl_env, run_crawl

CAREERS = {
    1: ("Medical Coding Specialist", "29-2072", 21480, 33610, 52900),
    2: ("Pharmacy Technician", "29-2052", 30430, 40300, 53010),
    3: ("Surgical Technologist", "29-2055", 44010, 60370, 83590),
}


def _career_page(number: int) -> bytes:
    title, soc, p10, median, p90 = CAREERS[number]
    return f"""<html><head><title>{title} | Career Coach</title></head><body>
<h1>{title}</h1>
<p>What they do, in one paragraph. Also known as: {title} I, {title} II.</p>
<table><tr><th>Lowest 10%:</th><td>${p10:,}</td></tr><tr><th>Median Salary</th><td>${median:,}</td></tr>
<tr><td colspan="2">Top 10% earn ${p90:,}</td></tr></table>
<p><b>SOC Code:</b> {soc}</p>
<p>Our program is accredited by CAAHEP.</p>
<p><a href="/careers/">All careers</a> <a href="/blog/why-coding">Blog</a></p>
</body></html>""".encode()


INDEX = b"""<html><body><h1>Career Coach</h1><ul>
<li><a href="/careers/career.asp?id=1">Medical Coding Specialist</a></li>
<li><a href="/careers/career.asp?id=2">Pharmacy Technician</a></li>
<li><a href="/careers/career.asp?id=3&amp;utm_source=newsletter">Surgical Technologist</a></li>
<li><a href="/careers/career.asp?utm_campaign=spring&amp;id=3">Surgical Technologist (spring)</a></li>
<li><a href="/careers/private/salaries.asp?id=9">Staff salaries</a></li>
<li><a href="/blog/">Blog</a></li>
</ul></body></html>"""


class CareerSite(ThreadingHTTPServer):
    """An old college career portal: an index, three career pages, a blog and a private area."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self) -> None:
        super().__init__(("127.0.0.8", 0), _Handler)
        self.base_url = f"http://127.0.0.8:{self.server_address[1]}"
        self.paths: list[str] = []
        self.times: list[float] = []


class _Handler(BaseHTTPRequestHandler):
    server: CareerSite

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.server.paths.append(self.path)
        self.server.times.append(time.monotonic())
        body: bytes | None = None
        if self.path == "/robots.txt":
            body = b"User-agent: *\nDisallow: /careers/private/\n"
        elif self.path == "/careers/":
            body = INDEX
        elif self.path.startswith("/careers/career.asp?id="):
            number = int(self.path.rsplit("=", 1)[1])
            body = _career_page(number) if number in CAREERS else None
        elif self.path.startswith("/blog") or self.path.startswith("/careers/private/"):
            body = b"<html><body><h1>Not a career</h1></body></html>"
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        payload = body or b"not found"
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def career_site() -> Iterator[CareerSite]:
    server = CareerSite()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_site_profile_crawled_by_generic_spider(career_site: CareerSite, tmp_path: Path) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(f"""
[[site]]
name = "lakeshore"
type = "generic"
start_urls = ["{career_site.base_url}/careers/"]
follow = ['/careers/career\\.asp\\?id=\\d+$']
""")
    data = tmp_path / "data"
    # A user's site is a real site even on a loopback address: one request at a time, DOWNLOAD_DELAY apart.
    env = crawl_env(data, SITES_FILE=sites, DOWNLOAD_DELAY=0.4, CONCURRENT_REQUESTS_PER_HOST=1)
    result = run_crawl(data, "http://127.0.0.1:9", "lakeshore", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    run = result.run("lakeshore")
    assert run.status == "ok" and run.complete, run.error
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        careers = {s.item_id: s.data for s in cat.iter_items("career")}
    assert set(careers) == {soc for _t, soc, *_ in CAREERS.values()}
    for title, soc, p10, median, p90 in CAREERS.values():
        item = careers[soc]
        assert item["source"] == "lakeshore" and item["title"] == title
        assert (item["pay_p10"], item["median_pay_annual"], item["pay_p90"]) == (p10, median, p90)
        assert item["accreditors"] == ["CAAHEP"] and f"{title} II" in item["also_known_as"]
    fetched = career_site.paths
    assert fetched.count("/careers/career.asp?id=3") == 1  # both tracking variants became this one fetch
    assert not [p for p in fetched if "utm_" in p or p.startswith(("/blog", "/careers/private"))], fetched
    page_times = [t for t, p in zip(career_site.times, fetched, strict=True) if p != "/robots.txt"]
    gaps = [b - a for a, b in zip(page_times, page_times[1:], strict=False)]
    assert len(gaps) >= 3 and min(gaps) >= 0.4 * 0.5 * 0.95, gaps  # Scrapy waits 0.5x to 1.5x DOWNLOAD_DELAY
