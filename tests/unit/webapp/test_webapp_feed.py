"""The Atom feed of changes, read by a real feed parser: well-formed, tag URI ids (RFC 4151), dates, working links."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import feedparser
import pytest

from collegesearch.config import ConfigError, load_settings
from tests.unit.webapp.webapp_testdata import HIT_OH

# Each test runs with the catalog on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_backends

# RFC 4151: "tag:" authorityName "," date ":" specific; here the specific part is change/<seq>.
TAG_URI = re.compile(
    r"tag:(?P<host>[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*),"
    r"(?P<date>\d{4}-\d{2}-\d{2}):change/(?P<seq>\d+)"
)


def _parse(client, url: str, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def test_feed_parses_with_tag_ids_dates_and_links_that_resolve(client):
    feed = _parse(client, "/changes.atom?limit=500")
    changes = client.get("/changes.json?limit=500").get_json()["changes"]
    assert feed.entries and len(feed.entries) == len(changes)
    assert feed.feed.get("updated_parsed") is not None
    for entry, change in zip(feed.entries, changes, strict=True):
        match = TAG_URI.fullmatch(entry.id)
        assert match, entry.id
        assert match["host"] == "localhost" and int(match["seq"]) == change["seq"]
        # The date is the day the change was recorded, a real calendar date.
        assert date.fromisoformat(match["date"]).isoformat() == change["day"]
        assert entry.get("updated_parsed") is not None
        assert entry.updated_parsed[:3] == tuple(int(p) for p in change["day"].split("-"))
        assert entry.title == change["sentence"]
        if change["detail_url"] is None:
            assert not entry.get("link")
            continue
        parts = urlsplit(entry.link)
        assert parts.scheme == "http" and parts.netloc == "localhost" and parts.path == change["detail_url"]
        # Each entry links to its own URL of the page, so a browser's copy from before the change is not reused.
        assert parts.query == f"change={change['seq']}"
        page = client.get(f"{parts.path}?{parts.query}")
        assert page.status_code == 200, entry.link
        assert f'<link rel="canonical" href="http://localhost{change["detail_url"]}">' in page.get_data(as_text=True)
    assert len({e.id for e in feed.entries}) == len(feed.entries)
    assert any(e.id.endswith(f":change/{c['seq']}") for e in feed.entries for c in changes if c["id"] == HIT_OH)


def test_ids_do_not_depend_on_the_host_when_feed_tag_host_is_set(web_settings):
    from webapp import create_app

    app = create_app({"SETTINGS": web_settings, "TESTING": True, "FEED_TAG_HOST": "Search.Example.edu"})
    try:
        client = app.test_client()
        one = _parse(client, "/changes.atom")
        other = _parse(client, "/changes.atom", base_url="http://10.0.0.7:8080")
        assert [e.id for e in one.entries] == [e.id for e in other.entries]
        assert all(TAG_URI.fullmatch(e.id)["host"] == "search.example.edu" for e in one.entries)
        # The links still point where the reader fetched the feed from.
        assert all(e.link.startswith("http://10.0.0.7:8080/") for e in other.entries if e.get("link"))
    finally:
        app.extensions["collegesearch_search"].close()


def test_a_request_host_with_a_port_gives_a_valid_authority(client):
    feed = _parse(client, "/changes.atom", base_url="http://Search.Example.edu:8443")
    assert feed.entries and all(TAG_URI.fullmatch(e.id)["host"] == "search.example.edu" for e in feed.entries)
    ipv6 = _parse(client, "/changes.atom", base_url="http://[::1]:5000")
    assert all(TAG_URI.fullmatch(e.id)["host"] == "localhost" for e in ipv6.entries)


@pytest.mark.parametrize("bad", ["https://search.example.edu", "search.example.edu:443", "-bad-.edu", "a b"])
def test_a_bad_feed_tag_host_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="COLLEGESEARCH_FEED_TAG_HOST must be a domain name"):
        load_settings(env={"COLLEGESEARCH_FEED_TAG_HOST": bad}, config_file=None)


def test_a_browser_navigation_gets_the_same_feed_as_xml_with_its_stylesheet(client):
    """Chromium shows application/atom+xml as plain text; a navigation (Sec-Fetch-Dest: document) gets the same
    bytes as application/xml, which browsers lay out with the stylesheet the feed names. Feed readers, which send
    no Fetch Metadata, keep Atom's own type; a cache keeps the two apart by Vary."""
    reader = client.get("/changes.atom")
    browser = client.get("/changes.atom", headers={"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate"})
    embedded = client.get("/changes.atom", headers={"Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors"})
    assert reader.mimetype == embedded.mimetype == "application/atom+xml"
    assert browser.mimetype == "application/xml"
    assert browser.data == reader.data
    repeat = client.get("/changes.atom", headers={"If-None-Match": reader.headers["ETag"]})
    assert repeat.status_code == 304
    for response in (reader, browser, repeat):  # a 304 names the Vary its 200 would have had (RFC 9110 15.4.5)
        assert "Sec-Fetch-Dest" in response.vary
    stylesheet = re.search(rb'<\?xml-stylesheet type="text/css" href="([^"]+)"\?>', reader.data)
    assert stylesheet, reader.data[:200]
    css = client.get(stylesheet.group(1).decode())
    assert css.status_code == 200 and css.mimetype == "text/css" and b"@namespace url(http://www.w3.org/2005/Atom)" in css.data
    assert not feedparser.parse(browser.data).bozo


def test_the_changes_page_links_each_change_to_its_own_url_of_the_record_page(client):
    changes = client.get("/changes.json?limit=500").get_json()["changes"]
    html = client.get("/changes?limit=500").get_data(as_text=True)
    linked = [c for c in changes if c["detail_url"]]
    assert linked
    for change in linked:
        assert f'href="{change["detail_url"]}?change={change["seq"]}"' in html, change
    # The JSON keeps the record's plain URL: scripts that match records by their URL see one URL per record.
    assert all("?" not in c["detail_url"] for c in linked)
