"""Reading sitemaps (crawler/sitemaps.py) and walking them in the spiders, on bytes: gzip, caps, types, loops."""

from __future__ import annotations

import gzip
import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import Response, TextResponse, XmlResponse
from scrapy.robotstxt import ProtegoRobotParser, PythonRobotParser
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.sitemaps import SitemapError, parse_lastmod, parse_sitemap, read_sitemap, sitemaps_from_robots
from crawler.spiders.bls_ooh import BlsOohSpider
from crawler.spiders.collegenavigator import CollegenavigatorSpider
from crawler.spiders.generic import GenericSpider

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
HOST = "http://127.0.0.3:8800"


def urlset(*entries: tuple[str, str | None]) -> bytes:
    urls = "".join(f"<url><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod is not None else ''}</url>"
                   for loc, mod in entries)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{urls}</urlset>'.encode()


def index(*locs: str) -> bytes:
    items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {NS}>{items}</sitemapindex>'.encode()


def binary(url: str, body: bytes, content_type: str = "application/x-gzip", **meta: Any) -> Response:
    return Response(url, body=body, headers={"Content-Type": content_type}, request=Request(url, meta=meta))


def xml(url: str, body: bytes, **meta: Any) -> XmlResponse:
    return XmlResponse(url, body=body, headers={"Content-Type": "application/xml"}, request=Request(url, meta=meta))


def spider(cls: Any = CollegenavigatorSpider, **settings: Any) -> Any:
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    values.update(settings)
    crawler = get_crawler(cls, values)
    info = {"base_url": HOST, "start_urls": [HOST + "/collegenavigator/"], "sitemap_urls": []}
    return cls.from_crawler(crawler, source_info=info)


# -- reading bytes -------------------------------------------------------------------------------


def test_gzipped_sitemap_is_read_by_its_magic_bytes_whatever_the_url_or_type():
    body = gzip.compress(urlset((HOST + "/collegenavigator/?id=100654", "2024-05-01")))
    for url, ctype in [(HOST + "/sitemap.xml.gz", "application/x-gzip"), (HOST + "/sm?page=1", "application/octet-stream"),
                       (HOST + "/sitemap.xml", "application/gzip")]:
        doc = read_sitemap(binary(url, body, ctype), max_size=1_000_000)
        assert doc.type == "urlset" and not doc.is_index
        assert [e.loc for e in doc.entries] == [HOST + "/collegenavigator/?id=100654"]
        assert doc.entries[0].lastmod == datetime(2024, 5, 1, tzinfo=UTC)


def test_gzip_bomb_over_the_cap_is_refused():
    bomb = gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>")
    assert len(bomb) < 10_000
    with pytest.raises(SitemapError, match="more than 1000000 bytes once decompressed"):
        read_sitemap(binary(HOST + "/sitemap.xml.gz", bomb), max_size=1_000_000)
    assert read_sitemap(binary(HOST + "/sitemap.xml.gz", bomb), max_size=6_000_000).entries == ()


def test_plain_sitemap_over_the_cap_and_broken_gzip_are_refused():
    with pytest.raises(SitemapError, match="over the 100-byte cap"):
        read_sitemap(xml(HOST + "/sitemap.xml", urlset(*[(f"{HOST}/p{i}", None) for i in range(10)])), max_size=100)
    with pytest.raises(SitemapError, match="broken gzip"):
        read_sitemap(binary(HOST + "/sitemap.xml.gz", b"\x1f\x8b\x08" + b"garbage"), max_size=1000)
    with pytest.raises(SitemapError, match="neither XML nor gzip"):
        read_sitemap(binary(HOST + "/sitemap.xml", b"PK\x03\x04 a zip file", "application/zip"), max_size=1000)


def test_index_or_urlset_is_told_by_the_root_element_not_the_url():
    nested = read_sitemap(xml(HOST + "/collegenavigator/sitemaps", index(HOST + "/a.xml", HOST + "/b")), 10**6)
    assert nested.is_index and [e.loc for e in nested.entries] == [HOST + "/a.xml", HOST + "/b"]
    leaf = read_sitemap(xml(HOST + "/sitemap_index.xml", urlset((HOST + "/p", None))), 10**6)
    assert leaf.type == "urlset" and not leaf.is_index
    # No namespace, a BOM and blank lines before the root: still a sitemap.
    bare = b"\xef\xbb\xbf\n  <sitemapindex><sitemap><loc> http://h/s </loc></sitemap></sitemapindex>"
    assert read_sitemap(TextResponse("http://h/x", body=bare), 10**6).entries[0].loc == "http://h/s"


@pytest.mark.parametrize("body,message", [
    (b"", "not readable as XML"),
    (b"<html><body><h1>Not found</h1></body></html>", "root element <html>"),
    (b'<?xml version="1.0"?><rss><channel/></rss>', "root element <rss>"),
    (b"<<<>>> not xml at all", "not readable as XML"),
])
def test_malformed_or_foreign_xml_is_a_sitemap_error(body, message):
    with pytest.raises(SitemapError, match=message):
        parse_sitemap(body)


def test_entity_expansion_is_not_performed():
    body = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<urlset><url><loc>http://h/&x;</loc></url></urlset>")
    assert all("root:" not in e.loc for e in parse_sitemap(body).entries)


@pytest.mark.parametrize("text,expected", [
    ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
    ("2024-05", datetime(2024, 5, 1, tzinfo=UTC)),
    ("2024", datetime(2024, 1, 1, tzinfo=UTC)),
    ("2024-05-01T10:30:00Z", datetime(2024, 5, 1, 10, 30, tzinfo=UTC)),
    ("2024-05-01T10:30:00.25+02:00", datetime(2024, 5, 1, 10, 30, 0, 250000, tzinfo=timezone(timedelta(hours=2)))),
    (" 2024-05-01T10:30 ", datetime(2024, 5, 1, 10, 30, tzinfo=UTC)),
    ("2024-02-30", None), ("yesterday", None), ("", None), (None, None), ("05/01/2024", None), ("2024-13", None),
])
def test_lastmod_is_an_aware_datetime_or_none(text, expected):
    value = parse_lastmod(text)
    assert value == expected
    if value is not None:
        assert value.tzinfo is not None


def test_bad_lastmod_keeps_the_entry():
    doc = parse_sitemap(urlset(("http://h/a", "not a date"), ("http://h/b", "2024-01-02")))
    assert [(e.loc, e.lastmod, e.lastmod_raw) for e in doc.entries] == [
        ("http://h/a", None, "not a date"), ("http://h/b", datetime(2024, 1, 2, tzinfo=UTC), "2024-01-02")]


def test_robots_sitemap_lines_are_absolute_and_unique():
    robots = (b"User-agent: *\nDisallow: /private/\n\nSitemap: http://h:8800/sitemap.xml\n"
              b"sitemap: /sitemaps/news.xml.gz\nSITEMAP:http://h:8800/sitemap.xml\nSitemap: ftp://h/x.xml\n")
    assert sitemaps_from_robots(robots, "http://h:8800/robots.txt") == [
        "http://h:8800/sitemap.xml", "http://h:8800/sitemaps/news.xml.gz"]
    assert sitemaps_from_robots(b"User-agent: *\nDisallow:\n", "http://h/robots.txt") == []


# -- walking sitemaps in a spider ------------------------------------------------------------------


def test_urlset_pages_carry_their_lastmod_in_meta():
    s = spider()
    body = gzip.compress(urlset((HOST + "/collegenavigator/?id=100654", "2024-05-01T08:00:00+00:00"),
                                (HOST + "/collegenavigator/?s=AL", None),
                                (HOST + "/collegenavigator/?id=100663", "garbage"),
                                (HOST + "/ipeds/use-the-data", "2024-05-01"),
                                ("http://elsewhere.example/?id=1", "2024-05-01")))
    requests = list(s.parse_sitemap(binary(HOST + "/collegenavigator/sitemap-AL.xml.gz", body)))
    by_url = {r.url: r for r in requests}
    assert set(by_url) == {HOST + "/collegenavigator/?id=100654", HOST + "/collegenavigator/?s=AL",
                           HOST + "/collegenavigator/?id=100663"}  # not another host's page, nor another area's
    assert by_url[HOST + "/collegenavigator/?id=100654"].meta["sitemap_lastmod"] == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert by_url[HOST + "/collegenavigator/?id=100654"].meta["leaf"] is True
    assert "sitemap_lastmod" not in by_url[HOST + "/collegenavigator/?s=AL"].meta
    assert "sitemap_lastmod" not in by_url[HOST + "/collegenavigator/?id=100663"].meta
    assert s.crawler.stats.get_value("collegesearch/sitemaps/urlset") == 1


def test_nested_index_without_xml_suffix_is_followed_as_a_sitemap():
    s = spider()
    requests = list(s.parse_sitemap(xml(HOST + "/sitemap.xml", index(HOST + "/collegenavigator/sitemaps"), sitemap_depth=0)))
    assert [(r.url, r.callback, r.meta["sitemap_depth"]) for r in requests] == [
        (HOST + "/collegenavigator/sitemaps", s.parse_sitemap, 1)]
    assert requests[0].meta["download_maxsize"] == project_settings.SITEMAP_MAX_SIZE  # not DOWNLOAD_MAXSIZE
    leaves = list(s.parse_sitemap(xml(HOST + "/collegenavigator/sitemaps",
                                      index(HOST + "/collegenavigator/sitemap-AL.xml", HOST + "/collegenavigator/sitemap-AK"),
                                      sitemap_depth=1)))
    assert [(r.url, r.meta["sitemap_depth"]) for r in leaves] == [
        (HOST + "/collegenavigator/sitemap-AL.xml", 2), (HOST + "/collegenavigator/sitemap-AK", 2)]
    assert all(r.callback == s.parse_sitemap for r in leaves)


def test_index_nested_deeper_than_the_cap_stops_with_a_warning(caplog):
    s = spider(SITEMAP_MAX_DEPTH=2)
    assert len(list(s.parse_sitemap(xml(HOST + "/i1", index(HOST + "/i2"), sitemap_depth=1)))) == 1
    with caplog.at_level(logging.WARNING):
        assert list(s.parse_sitemap(xml(HOST + "/i2", index(HOST + "/i3"), sitemap_depth=2))) == []
    assert "nested more than SITEMAP_MAX_DEPTH=2 deep" in caplog.text
    assert s.crawler.stats.get_value("collegesearch/sitemaps/too_deep") == 1


def test_index_that_lists_itself_or_loops_is_read_once(caplog):
    s = spider()
    start = list(s.sitemap_start_requests([], [HOST + "/sitemap_index?page=1"]))
    assert [r.url for r in start] == [HOST + "/sitemap_index?page=1"]
    with caplog.at_level(logging.WARNING):
        again = list(s.parse_sitemap(xml(HOST + "/sitemap_index?page=1",
                                         index(HOST + "/sitemap_index?page=1", HOST + "/sitemap_index?page=2"))))
    assert [r.url for r in again] == [HOST + "/sitemap_index?page=2"]
    assert "lists itself" in caplog.text
    # page 2 points back at page 1: nothing new is asked for.
    assert list(s.parse_sitemap(xml(HOST + "/sitemap_index?page=2", index(HOST + "/sitemap_index?page=1"),
                                    sitemap_depth=1))) == []


def test_unreadable_sitemap_costs_only_itself(caplog):
    s = spider(SITEMAP_MAX_SIZE=1000)
    bomb = gzip.compress(b" " * 100_000)
    with caplog.at_level(logging.WARNING):
        assert list(s.parse_sitemap(binary(HOST + "/big.xml.gz", bomb))) == []
        assert list(s.parse_sitemap(xml(HOST + "/broken.xml", b"<html>oops</html>"))) == []
    assert "ignored sitemap http://127.0.0.3:8800/big.xml.gz: more than 1000 bytes" in caplog.text
    assert "ignored sitemap http://127.0.0.3:8800/broken.xml: root element <html>" in caplog.text
    assert s.crawler.stats.get_value("collegesearch/sitemaps/unreadable") == 2
    page = list(s.parse_sitemap(xml(HOST + "/ok.xml", urlset((HOST + "/collegenavigator/?id=100654", None)))))
    assert [r.url for r in page] == [HOST + "/collegenavigator/?id=100654"]


def test_without_configured_sitemaps_the_robots_txt_scrapy_parsed_names_them():
    s = spider()
    starts = [HOST + "/collegenavigator/", HOST + "/collegenavigator/?s=AL", "http://127.0.0.9:8800/other/"]
    s.watch_robots_sitemaps(starts, [])
    assert list(s.sitemap_start_requests(starts, [])) == []  # RobotsTxtMiddleware fetches robots.txt anyway
    text = f"User-agent: *\nAllow: /\nSitemap: {HOST}/sitemap.xml\nSitemap: /collegenavigator/sitemaps\n".encode()
    for parser in (ProtegoRobotParser, PythonRobotParser):  # Scrapy's default parser, and the stdlib's
        s = spider()
        s.watch_robots_sitemaps(starts, [])
        found = s.robots_parsed_requests(parser(text, s), Request(HOST + "/collegenavigator/"))
        assert [(r.url, r.meta["sitemap_depth"], r.callback) for r in found] == [
            (HOST + "/sitemap.xml", 0, s.parse_sitemap), (HOST + "/collegenavigator/sitemaps", 0, s.parse_sitemap)]
        assert s.robots_parsed_requests(parser(text, s), Request(HOST + "/collegenavigator/?id=1")) == []  # once a host
    # A host the spider does not start on, or a source with configured sitemaps: robots.txt names nothing to read.
    assert spider().robots_parsed_requests(ProtegoRobotParser(text, None), Request("http://127.0.0.7:1/")) == []
    configured = spider()
    configured.watch_robots_sitemaps(starts, [HOST + "/s.xml"])
    assert configured.robots_parsed_requests(ProtegoRobotParser(text, None), Request(HOST + "/")) == []
    assert [r.url for r in configured.sitemap_start_requests(starts, [HOST + "/s.xml"])] == [HOST + "/s.xml"]


def test_robots_txt_is_fetched_by_the_spider_when_scrapy_does_not_obey_it():
    s = spider(ROBOTSTXT_OBEY=False)
    starts = [HOST + "/collegenavigator/", HOST + "/collegenavigator/?s=AL"]
    s.watch_robots_sitemaps(starts, [])
    (robots,) = list(s.sitemap_start_requests(starts, []))
    assert robots.url == HOST + "/robots.txt" and robots.callback == s.parse_robots
    assert robots.meta["dont_obey_robotstxt"] is True and robots.meta["page_cache"] is False
    text = f"User-agent: *\nAllow: /\nSitemap: {HOST}/sitemap.xml\nsitemap: /collegenavigator/sitemaps\n".encode()
    found = list(s.parse_robots(TextResponse(robots.url, body=text, request=robots)))
    assert [(r.url, r.meta["sitemap_depth"]) for r in found] == [
        (HOST + "/sitemap.xml", 0), (HOST + "/collegenavigator/sitemaps", 0)]


def test_generic_profile_follows_nested_sitemaps_but_only_pages_its_rules_accept(tmp_path):
    from crawler.profiles import SiteProfile

    profile = SiteProfile(name="careers", type="generic", start_urls=("http://127.0.0.9:1/careers/",),
                          allowed_hosts=("127.0.0.9",), follow=(r"/careers/career\.asp\?id=\d+$",))
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    crawler = get_crawler(GenericSpider, values)
    s = GenericSpider.from_crawler(crawler, profile=profile)
    s.watch_robots_sitemaps(list(profile.start_urls), [])
    robots = ProtegoRobotParser(b"Sitemap: /sitemap.xml\n", None)
    assert [r.url for r in s.robots_parsed_requests(robots, Request("http://127.0.0.9:1/careers/"))] == [
        "http://127.0.0.9:1/sitemap.xml"]
    nested = list(s.parse_sitemap(xml("http://127.0.0.9:1/sitemap.xml", index("http://127.0.0.9:1/sitemaps/careers"))))
    assert [r.url for r in nested] == ["http://127.0.0.9:1/sitemaps/careers"]
    pages = list(s.parse_sitemap(xml("http://127.0.0.9:1/sitemaps/careers", urlset(
        ("http://127.0.0.9:1/careers/career.asp?id=1", "2025-01-31"), ("http://127.0.0.9:1/blog/", "2025-01-31")))))
    assert [(r.url, r.meta["sitemap_lastmod"]) for r in pages] == [
        ("http://127.0.0.9:1/careers/career.asp?id=1", datetime(2025, 1, 31, tzinfo=UTC))]


def test_careers_held_for_the_az_index_keep_their_lastmod():
    s = spider(BlsOohSpider)
    s.source_info = {"base_url": "http://127.0.0.2:8800", "start_urls": [], "sitemap_urls": []}
    s.allowed_domains = ["127.0.0.2"]
    body = urlset(("http://127.0.0.2:8800/ooh/healthcare/registered-nurses.htm", "2024-03-04"),
                  ("http://127.0.0.2:8800/cpi/home.htm", "2024-03-04"),  # the host's other areas are not followed
                  ("http://127.0.0.2:8800/ooh/healthcare/home.htm", "2024-03-05"))
    (group,) = list(s.parse_sitemap(xml("http://127.0.0.2:8800/ooh/sitemap.xml", body)))  # careers wait for the A-Z index
    assert group.url == "http://127.0.0.2:8800/ooh/healthcare/home.htm"
    assert group.meta["sitemap_lastmod"] == datetime(2024, 3, 5, tzinfo=UTC)
    s.aliases = {}
    held, s._held = s._held, []
    (request,) = [r for url, lastmod in held for r in s._career_request(url, lastmod)]
    assert request.meta["sitemap_lastmod"] == datetime(2024, 3, 4, tzinfo=UTC)
