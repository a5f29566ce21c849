"""Follow in a real browser: each kind's page (career, school, program, a search) offers a "Follow changes" link and
announces the same feed in its head, the way a feed reader given the page's address discovers it; the feed parses
with feedparser (a real feed reader's parser), names what it follows, and answers a repeat poll with a 304."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
from playwright.sync_api import expect

from tests.unit.webapp import webapp_testdata as td

# (page, what the feed's title names, the query its feed follows, a record its feed must carry)
KINDS = [
    pytest.param(f"/careers/{td.MRS}", "Medical Records Specialists", {"career": [td.MRS]}, f"/careers/{td.MRS}",
                 id="career"),
    pytest.param(f"/institutions/{td.OVCC}", "Ohio Valley Community College", {"institution": [td.OVCC]},
                 f"/programs/{td.HIT_OH}", id="school"),
    pytest.param(f"/programs/{td.HIT_OH}", "Health Information Technology", {"program": [td.HIT_OH]},
                 f"/programs/{td.HIT_OH}", id="program"),
    pytest.param("/search?q=health+information&state=OH&sort=name&page=1", "this search",
                 {"q": ["health information"], "state": ["OH"]}, f"/programs/{td.HIT_OH}", id="search"),
]


@pytest.mark.parametrize(("url", "label", "follows", "carried"), KINDS)
def test_each_kinds_page_offers_its_feed_and_the_feed_parses(page, url, label, follows, carried):
    page.goto(url)
    # Announced in the head, for feed readers and browser extensions given the page's address ...
    announced = page.locator('head link[rel="alternate"][type="application/atom+xml"]')
    expect(announced).to_have_count(1)
    feed_url = announced.get_attribute("href")
    assert urlsplit(feed_url).path == "/changes.atom"
    assert parse_qs(urlsplit(feed_url).query) == follows, "a search's feed follows its query and filters, not its sort or page"
    # ... and offered on the page as a link to the same feed, which a keyboard reaches like any link.
    follow = page.get_by_role("link", name=re.compile(r"^Follow changes to"))
    expect(follow).to_be_visible()
    expect(follow).to_have_attribute("href", feed_url)
    expect(follow).to_have_attribute("type", "application/atom+xml")

    response = page.request.get(feed_url)
    assert response.status == 200, response.text()[:300]
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.body())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    if label != "this search":
        assert feed.feed.title == f"collegesearch: what changed for {label}"
    assert feed.entries, f"the feed of {url} is empty"
    links = {urlsplit(e.link).path for e in feed.entries if e.get("link")}
    assert carried in links, f"{carried} not among the entries' links {sorted(links)}"
    # Its HTML twin (the feed's alternate link) is the /changes page with the same filter, which says what it follows.
    twin = next(link.href for link in feed.feed.links if link.rel == "alternate")
    page.goto(twin)
    expect(page.get_by_role("heading", level=1)).to_contain_text("What changed for")
    expect(page.locator("main")).to_contain_text("Following")

    # Feed readers poll: the same request with the validators it was given costs a 304 and no body.
    validators = {}
    if response.headers.get("etag"):
        validators["If-None-Match"] = response.headers["etag"]
    if response.headers.get("last-modified"):
        validators["If-Modified-Since"] = response.headers["last-modified"]
    assert validators, "the feed carries no ETag nor Last-Modified"
    again = page.request.get(feed_url, headers=validators)
    assert again.status == 304 and again.body() == b""


ATOM = "http://www.w3.org/2005/Atom"


def test_a_feed_opened_in_the_browser_reads_as_a_page(page):
    """Someone who takes a Follow link in the browser gets the feed laid out by its stylesheet (feed.css, through
    an xml-stylesheet instruction): a heading, one box per entry, the machine parts (ids, links) hidden; the page's
    own checks see no CSP violation nor failed stylesheet. A feed parser is not bothered by the instruction."""
    page.goto(f"/institutions/{td.OVCC}")
    page.get_by_role("link", name=re.compile(r"^Follow changes to")).click()
    expect(page).to_have_url(re.compile(r"/changes\.atom\?institution="))
    style = page.evaluate("""ns => {
        const first = name => document.getElementsByTagNameNS(ns, name)[0];
        const css = el => getComputedStyle(el);
        const entry = first("entry");
        return {title: css(first("title")).fontSize, id: css(first("id")).display, entry: css(entry).display,
                border: css(entry).borderTopStyle, link: css(entry.getElementsByTagNameNS(ns, "link")[0]).display};
    }""", ATOM)
    assert style == {"title": "25.6px", "id": "none", "entry": "block", "border": "solid", "link": "none"}, style
    feed = feedparser.parse(page.request.get(page.url).body())
    assert not feed.bozo and feed.entries


def test_the_program_feed_reports_its_status_change(page, data):
    """The Ohio program went on probation in the second crawl: its feed, opened from the page, says so."""
    page.goto(f"/programs/{data.HIT_OH}")
    feed_url = page.get_by_role("link", name=re.compile(r"^Follow changes to")).get_attribute("href")
    feed = feedparser.parse(page.request.get(feed_url).body())
    assert not feed.bozo
    statuses = [e for e in feed.entries if any(t.term == "status_change" for t in e.get("tags", []))]
    assert statuses, [e.title for e in feed.entries]
    assert re.search(r"accredited → probation", statuses[0].summary), statuses[0].summary


def test_a_program_followed_in_the_browser_gains_the_next_epochs_status_change(browser, fresh_sample_site, tmp_path):
    """The issue's end to end case over real crawls: the accreditor directory is crawled (and indexed) at epoch 1
    and served by ``collegesearch serve``; the browser opens a program whose status the next epoch changes and
    takes its Follow link; the sample site moves to epoch 2 and is recrawled while the server runs; the feed
    reader's conditional poll now gets the feed back with exactly one new entry, that status change, and the
    program's page and the feed's HTML twin say the same."""
    from tests.browser.conftest import ServerDidNotStart, serve_data
    from tests.integration.crawler.crawl_helpers import next_epoch_status_change, run_crawl

    site = fresh_sample_site(faults=False)
    data = tmp_path / "data"
    first = run_crawl(data, site.base_url, "directory", site=site, timeout=600, sync=True)
    assert first.returncode == 0, first.stderr[-3000:]
    change = next_epoch_status_change()
    program_id = change.program_id

    with contextlib.ExitStack() as stack:
        try:
            # Detail pages reusable for an hour: the browser's copy from before the recrawl is then still fresh
            # when the test comes back to it, however long the crawl takes.
            base = stack.enter_context(serve_data(data, {"COLLEGESEARCH_CACHE_DETAIL_MAX_AGE": "3600"}))
        except ServerDidNotStart as exc:
            pytest.fail(str(exc))
        context = browser.new_context(base_url=base)
        stack.callback(context.close)
        tab = context.new_page()
        tab.goto(f"/programs/{program_id}")
        expect(tab.locator(".status-line")).to_contain_text(change.old)
        follow = tab.get_by_role("link", name=re.compile(r"^Follow changes to"))
        feed_url = follow.get_attribute("href")
        follow.click()  # what a student does; chromium shows the Atom document
        expect(tab).to_have_url(re.compile(r"/changes\.atom\?program="))
        polled = tab.request.get(feed_url)
        was = feedparser.parse(polled.body())
        assert polled.status == 200 and not was.bozo and was.entries
        assert not any(e.title.startswith(f"{change.new}:") for e in was.entries)
        etag = polled.headers["etag"]
        assert tab.request.get(feed_url, headers={"If-None-Match": etag}).status == 304

        site.restart(epoch=2)
        second = run_crawl(data, site.base_url, "directory", site=site, timeout=600, sync=True)
        assert second.returncode == 0, second.stderr[-3000:]

        answer = tab.request.get(feed_url, headers={"If-None-Match": etag})
        assert answer.status == 200, "a feed reader's conditional poll must see the new entry"
        now = feedparser.parse(answer.body())
        assert not now.bozo
        seen = {e.id for e in was.entries}
        new_entries = [e for e in now.entries if e.id not in seen]
        assert [e.title for e in new_entries] == [change.entry_title]
        assert urlsplit(new_entries[0].link).path == f"/programs/{program_id}"
        # The page the entry links to, and the feed's HTML twin, show the same change. This browser cached the
        # page before the recrawl (detail pages may be reused for CACHE_DETAIL_MAX_AGE); the entry's link is its
        # own URL of the page, so the student sees the change without reloading.
        tab.goto(new_entries[0].link)
        expect(tab.locator(".status-line")).to_contain_text(change.new)
        # The plain URL is still the browser's copy from before: what the entry's own URL is there for.
        tab.goto(f"/programs/{program_id}")
        expect(tab.locator(".status-line")).to_contain_text(change.old)
        tab.goto(next(link.href for link in now.feed.links if link.rel == "alternate"))
        expect(tab.locator("main")).to_contain_text(new_entries[0].title)
