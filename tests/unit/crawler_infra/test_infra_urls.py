"""Canonical URLs and request fingerprints: one page, one URL, one fetch."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from crawler.middlewares import CanonicalRequestFingerprinter
from crawler.urls import canonical_url, fingerprint_url, is_loopback, rel_canonical


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.EDU:80/a/b.htm#top", "http://example.edu/a/b.htm"),
        ("https://example.edu:443/x?b=2&a=1", "https://example.edu/x?a=1&b=2"),
        ("http://h/p?utm_source=x&utm_medium=y&id=7", "http://h/p?id=7"),
        ("http://h/p?gclid=abc&fbclid=def&page=2", "http://h/p?page=2"),
        ("http://h/p?sessionid=1&PHPSESSID=2&jsessionid=3&q=a", "http://h/p?q=a"),
        ("http://h/p;jsessionid=ABC123?q=a", "http://h/p?q=a"),
        ("http://h/p?utm_campaign=only", "http://h/p"),
        ("http://h/p?q=a%20b", "http://h/p?q=a+b"),
        ("http://127.0.0.2:8800/ooh/a.htm?utm_source=n", "http://127.0.0.2:8800/ooh/a.htm"),
        ("http://h/dir/", "http://h/dir/"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_leaves_other_schemes_alone() -> None:
    assert canonical_url("mailto:someone@example.edu") == "mailto:someone@example.edu"
    assert canonical_url("javascript:void(0)") == "javascript:void(0)"


def test_extra_drop_params() -> None:
    assert canonical_url("http://h/p?ref=home&x=1", extra_drop=["ref"]) == "http://h/p?x=1"
    assert canonical_url("http://h/p?ref=home&x=1") == "http://h/p?ref=home&x=1"


def test_fingerprint_url_ignores_trailing_slash_but_not_root() -> None:
    assert fingerprint_url("http://h/dir/") == fingerprint_url("http://h/dir")
    assert fingerprint_url("http://h/") == "http://h/"
    assert fingerprint_url("http://h/a") != fingerprint_url("http://h/b")


def test_fingerprinter_merges_tracking_duplicates() -> None:
    fp = CanonicalRequestFingerprinter()
    base = fp.fingerprint(Request("http://h/list?state=AL&page=2"))
    assert fp.fingerprint(Request("http://h/list?page=2&state=AL&utm_source=feed#results")) == base
    assert fp.fingerprint(Request("http://h/list/?page=2&state=AL&sessionid=9")) == base
    assert fp.fingerprint(Request("http://h/list?state=AL&page=3")) != base
    assert fp.fingerprint(Request("http://h/list?state=AL&page=2", method="POST")) != base


def test_is_loopback() -> None:
    assert is_loopback("http://127.0.0.5:8800/x")
    assert is_loopback("http://localhost/x")
    assert not is_loopback("https://www.bls.gov/ooh/")


def _html(url: str, head: str) -> HtmlResponse:
    return HtmlResponse(url, body=f"<html><head>{head}</head><body>x</body></html>".encode(), encoding="utf-8")


def test_rel_canonical_found_in_any_attribute_order() -> None:
    assert rel_canonical(_html("http://h/a?x=1", '<link rel="canonical" href="/a">')) == "http://h/a"
    assert rel_canonical(_html("http://h/a", "<link href='http://h/b' rel='canonical'>")) == "http://h/b"
    assert rel_canonical(_html("http://h/a", '<link rel="stylesheet" href="/s.css">')) is None
    assert rel_canonical(_html("http://h/a", '<link rel="canonical" href="/a?x=1&amp;y=2">')) == "http://h/a?x=1&y=2"
