"""Sitemaps as real sites publish them, crawled over HTTP from the sample site: announced only by
robots.txt, gzipped (``/cahiim/sitemap.xml.gz``), and a sitemap index at a URL without ``.xml``
(``/collegenavigator/sitemaps``).

Each crawl is a user's site profile (SITES_FILE) with a start URL and no sitemap configuration at
all, started where no link leads to the detail pages: every detail page it fetches was reached
through the sitemaps its host's robots.txt announces.
"""

from __future__ import annotations

import re
from pathlib import Path

from catalog import Catalog
from sample_site import truth
from tests.integration.crawler.crawl_helpers import crawl_env, run_crawl


def _crawl_profile(sample_site, tmp_path: Path, name: str, page_type: str, start_url: str, follow: str):
    sites = tmp_path / "sites.toml"
    sites.write_text(f"""
[[site]]
name = "{name}"
type = "{page_type}"
start_urls = ["{start_url}"]
follow = ['{follow}']
max_pages = 5000
""")
    data = tmp_path / "data"
    env = crawl_env(data, SITES_FILE=sites, DOWNLOAD_DELAY=0, CONCURRENT_REQUESTS_PER_HOST=8)
    result = run_crawl(data, sample_site.base_url, name, site=sample_site, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    run = result.run(name)
    assert run.status == "ok" and run.complete, run.error
    host = start_url.split("://", 1)[1].split("/", 1)[0]
    records = [r for r in sample_site.access_records(result.log_mark)[: result.log_end - result.log_mark]
               if r["host"] == host]
    return data, records


def test_robots_txt_announces_a_gzipped_sitemap_and_its_pages_are_crawled(sample_site, tmp_path: Path) -> None:
    # A mirror of the program directory (its page module and spider) that starts on one program
    # page: a detail page links to no other page, so the other 244 programs come from the gzipped
    # sitemap (it names the program pages and the unfiltered listing's pages).
    base = sample_site.url("directory", "")
    data, records = _crawl_profile(sample_site, tmp_path, "cahiim-mirror", "directory",
                                   base + "/cahiim/program-directory/program/1001", r"/cahiim/")
    fetched = {(r["path"], r["status"]) for r in records}
    assert {("/robots.txt", 200), ("/sitemap.xml", 200), ("/cahiim/sitemap.xml.gz", 200)} <= fetched, sorted(fetched)
    # The Sitemap: lines come from the robots.txt Scrapy fetched to obey it: no second download.
    assert [r["path"] for r in records].count("/robots.txt") == 1
    expected = {f"cahiim-{int(p.split('-')[1])}" for p in truth.directory_links(1)}
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        programs = {s.data["program_id"] for s in cat.iter_items("program") if s.source == "cahiim-mirror"}
    assert programs == expected and len(expected) == truth.counts(1)["cahiim_programs"]


def test_generic_profile_finds_sitemaps_in_robots_txt_and_follows_an_index_without_xml(sample_site,
                                                                                      tmp_path: Path) -> None:
    # A generic profile on the College Navigator host: its start page links only to state
    # listings, which the rule refuses, so the profiles it fetches were all read from sitemaps:
    # robots.txt -> /sitemap.xml -> /collegenavigator/sitemaps (an index; no ".xml") -> per-state sitemaps.
    base = sample_site.url("collegenavigator", "")
    follow = r"/collegenavigator/\?id=100\d\d\d$"
    _data, records = _crawl_profile(sample_site, tmp_path, "cn-generic", "generic", base + "/collegenavigator/",
                                    follow)
    paths = {r["path"] for r in records if r["status"] == 200}
    assert {"/robots.txt", "/sitemap.xml", "/collegenavigator/sitemaps", "/collegenavigator/sitemap-AL.xml"} <= paths
    assert not [p for p in paths if p.startswith("/collegenavigator/?s=")]  # the rule kept listings out
    rule = re.compile(follow)
    expected = {f"/collegenavigator/?id={i['unitid']}" for i in truth.expected_items(1)["institution"].values()
                if rule.search(f"/collegenavigator/?id={i['unitid']}")}
    assert len(expected) >= 10
    assert {p for p in paths if p.startswith("/collegenavigator/?id=")} == expected
