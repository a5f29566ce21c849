"""The page-object base: decoding, hostile markup, links, building from responses and files."""

from __future__ import annotations

import pytest

from crawler.pages.base import Page, PageError, decode_body, parse_html, unique


class Title(Page):
    def title(self) -> str | None:
        return self.text_of(self.css("h1"))


def test_http_charset_wins_over_nothing():
    body = "<h1>Caf\u00e9 M\u00fcnchen</h1>".encode("latin-1")
    page = Title("http://x/", body, headers={"Content-Type": "text/html; charset=ISO-8859-1"})
    assert page.title() == "Caf\u00e9 M\u00fcnchen"
    assert page.encoding == "cp1252"  # w3lib reads Latin-1 as its Windows superset, as browsers do


def test_meta_charset_when_no_header():
    body = '<html><head><meta charset="windows-1252"></head><body><h1>\u201cQuoted\u201d \u2013 dash</h1>'.encode("cp1252")
    assert Title("http://x/", body).title() == "\u201cQuoted\u201d \u2013 dash"
    body = ('<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><h1>Se\u00f1or</h1>').encode("latin-1")
    assert Title("http://x/", body).title() == "Se\u00f1or"


def test_bom_and_detection():
    assert Title("http://x/", "\ufeff<h1>na\u00efve</h1>".encode("utf-8")).title() == "na\u00efve"
    assert Title("http://x/", "<h1>na\u00efve</h1>".encode("utf-16")).title() == "na\u00efve"
    # No declaration: valid UTF-8 is UTF-8, anything else is read as Windows-1252.
    assert Title("http://x/", "<h1>na\u00efve</h1>".encode("utf-8")).title() == "na\u00efve"
    assert Title("http://x/", "<h1>na\u00efve</h1>".encode("cp1252")).title() == "na\u00efve"


def test_page_declared_utf8_but_sent_latin1_is_read_as_latin1():
    body = '<meta charset="utf-8"><h1>Universit\u00e9 de Montr\u00e9al</h1>'.encode("latin-1")
    assert Title("http://x/", body).title() == "Universit\u00e9 de Montr\u00e9al"


def test_explicit_encoding_and_str_bodies():
    assert Title("http://x/", "<h1>\u00e9</h1>".encode("cp1252"), encoding="cp1252").title() == "\u00e9"
    assert Title("http://x/", "<h1>\u00e9</h1>").title() == "\u00e9"
    assert Title("http://x/", b"<h1>x</h1>", encoding="no-such-codec").title() == "x"


def test_zero_width_and_control_characters_are_cleaned():
    body = "<h1>Medical\u200b Records\u00a0\u00a0Specialists\x00\x07\ufeff</h1>".encode()
    assert Title("http://x/", body).title() == "Medical Records Specialists"


def test_malformed_and_empty_documents_do_not_crash():
    assert Title("http://x/", b"").title() is None
    assert Title("http://x/", b"   ").title() is None
    assert Title("http://x/", b"<<<>>><h1 <b>broken").to_items() == []
    page = Title("http://x/", b"<html><h1>Unclosed <b>bold</h1><p>para<table><tr><td>cell")
    assert page.title() == "Unclosed bold"
    assert page.text_of(page.css("td")) == "cell"


def test_deeply_nested_markup_keeps_the_rest_of_the_page():
    depth = 5000
    body = ("<html><body><h1>Top</h1>" + "<div>" * depth + "deep" + "</div>" * depth
            + "<p id='after'>after</p><a href='/next'>n</a></body></html>").encode()
    page = Title("http://x/", body)
    assert page.title() == "Top"
    assert page.text_of(page.css("#after")) == "after"
    assert page.links() == ["http://x/next"]
    assert "deep" in (page.text_of(page.css("body")) or "")


def test_wrapper_runs_are_collapsed_so_the_structure_inside_survives():
    depth = 5000
    body = ("<html><body>" + "<div>" * depth + "<table id='facts'><tr><th>Pay</th><td>$1</td></tr></table>"
            + "</div>" * depth + "<p id='after'>after</p></body></html>").encode()
    page = Page("http://x/", body)
    assert page.text_of(page.css("table#facts td")) == "$1"
    assert page.text_of(page.css("#after")) == "after"


def test_latin1_label_on_utf8_bytes_is_read_as_utf8():
    body = '<meta charset="iso-8859-1"><h1>\u00c5ngstr\u00f6m Institute</h1>'.encode("utf-8")
    page = Title("http://x/", body)
    assert page.title() == "\u00c5ngstr\u00f6m Institute" and page.encoding == "utf-8"
    # Genuine Latin-1 stays Latin-1.
    assert Title("http://x/", '<meta charset="iso-8859-1"><h1>\u00c5ngstr\u00f6m</h1>'.encode("latin-1")).title() == (
        "\u00c5ngstr\u00f6m")


def test_binary_content_is_refused_clearly():
    with pytest.raises(PageError, match="binary"):
        _ = Title("http://x/", b"\x89PNG\r\n\x1a\n" + b"\x00" * 600).text


def test_links_resolve_against_base_and_skip_non_web_links():
    body = b"""<html><head><base href="http://example.edu/programs/"></head><body>
      <a href="hit.html#top">a</a><a href="hit.html">dup</a><a href="javascript:void(0)">js</a>
      <a href="mailto:x@y">m</a><a href="#frag">f</a><a href=" /other ">o</a><a>no href</a></body></html>"""
    page = Page("http://example.edu/index", body)
    assert page.links() == ["http://example.edu/programs/hit.html", "http://example.edu/other"]


def test_canonical_url_and_meta():
    body = b'<link rel="canonical" href="/ooh/x.htm"><meta name="description" content=" Hello  world "><meta property="og:title" content="T">'
    page = Page("http://host/ooh/x.htm?utm_source=a", body)
    assert page.canonical_url() == "http://host/ooh/x.htm"
    assert page.meta("description") == "Hello world"
    assert page.meta("og:title") == "T"
    assert Page("http://host/a", b"<p>x</p>").canonical_url() == "http://host/a"


def test_text_of_skips_scripts_and_joins_inline_markup():
    sel = parse_html("<div><p>also called <em>insulators</em>, install</p><script>var x = 1;</script>"
                     "<!-- note -->after<br>line<ul><li>a</li><li>b</li></ul></div>")
    assert Page.text_of(sel.css("div")) == "also called insulators, install after line a b"
    assert Page.paragraphs_of(sel.css("div")[0]) == "also called insulators, install\n\na\n\nb"
    assert Page.text_of(sel.css("nothing")) is None


def test_from_file_and_as_page(tmp_path):
    path = tmp_path / "p.html"
    path.write_bytes(b"<h1>Saved</h1>")
    page = Page.from_file(path)
    assert page.url.startswith("file://") and page.url.endswith("/p.html")
    assert page.as_page(Title).title() == "Saved"
    assert Page.from_file(path, url="http://x/p").url == "http://x/p"


def test_from_scrapy_response():
    from scrapy.http import HtmlResponse

    response = HtmlResponse("http://x/a", body="<h1>Caf\u00e9</h1>".encode("latin-1"),
                            headers={"Content-Type": "text/html; charset=iso-8859-1"})
    page = Title.from_response(response, source="mysite")
    assert page.title() == "Caf\u00e9"
    assert page.source == "mysite"
    assert page.content_type == "text/html; charset=iso-8859-1"


def test_decode_body_reports_encoding():
    assert decode_body(b"abc") == ("utf-8", "abc")
    assert decode_body("\u00e9".encode("latin-1"), "text/html; charset=latin-1")[1] == "\u00e9"


def test_unique():
    assert unique(["b", None, "a", "b", ""]) == ["b", "a"]
