"""Stored page links: a page's outgoing links are kept when the crawl reads it, and a scheduled crawl
follows them again for an unchanged page (a 304, or a page that is not due) instead of parsing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from catalog import Catalog
from crawler.crawl_store import CrawlStore
from crawler.freshness import PageLink, decode_links, encode_links
from crawler.page_cache import PageCacheMiddleware, PageTrackerMiddleware
from crawler.spiders.base import CatalogSpider
from model.items import Career
from tests.unit.crawler_infra.conftest import open_spider_store

BASE = "http://127.0.0.9:8800"


class LinkSpider(CatalogSpider):
    """A page with ``<a class=item>`` yields a career; every ``<a>`` is followed (class ``leaf`` as a leaf)."""

    name = "infra_links"
    source = "testsrc"
    links_replayable = True
    parsed: list[str]

    def parse(self, response: Any, **kwargs: Any) -> Any:
        if self.unchanged_leaf(response):
            return
        if (again := self.links_again(response)) is not None:
            yield from again
            return
        self.parsed.append(response.url)
        for soc in response.css("span.soc::text").getall():
            if self.extract_enabled(response):
                yield Career(url=response.url, source="testsrc", soc_code=soc, title=f"Career {soc}")
        for a in response.css("a"):
            leaf = "leaf" in (a.attrib.get("class") or "")
            yield from self.follow(response.urljoin(a.attrib["href"]), priority=3 if leaf else 7,
                                   meta={"leaf": True} if leaf else None)


class StatefulSpider(LinkSpider):
    """The same pages, but its links carry extra arguments: they cannot be followed again without the page."""

    name = "infra_links_stateful"

    def follow(self, url: str | None, callback: Any = None, *, priority: int = 0, **kwargs: Any) -> list[Request]:
        return super().follow(url, callback, priority=priority, cb_kwargs={"seen_from": "x"}, **kwargs)


PAGES = {
    "/hub": '<span class="soc">11-0001</span><a href="/p/a" class="leaf">a</a><a href="/list2">more</a>',
    "/list": '<a href="/hub">hub</a><a href="/p/b" class="leaf">b</a>',
}


def _open(settings: Any, spider_cls: type[LinkSpider] = LinkSpider, **extra: Any) -> tuple[Any, LinkSpider, CrawlStore]:
    crawler, spider, store = open_spider_store(settings, spider_cls, BASE, **extra)
    spider.parsed = []
    return crawler, spider, store


def _close(store: CrawlStore, spider: Any) -> None:
    from crawler.source_locks import release_source_lock

    if store.is_open:
        store.close(spider, "finished")
    if store.catalog is not None:
        store.catalog.close()
        store.catalog = None
    release_source_lock("testsrc")


def _serve(crawler: Any, spider: LinkSpider, request: Request, status: int = 200) -> list[Any]:
    """Run a request through the page cache and the page tracker as Scrapy would, with the site's answer."""
    cache = PageCacheMiddleware.from_crawler(crawler)
    tracker = PageTrackerMiddleware.from_crawler(crawler)
    response = cache.process_request(request)
    if response is None:
        path = request.url.removeprefix(BASE)
        body = f"<html><body>{PAGES[path]}</body></html>".encode()
        headers = {"Content-Type": "text/html; charset=utf-8", "ETag": f'"{len(body)}"'}
        response = HtmlResponse(request.url, status=status, body=b"" if status == 304 else body,
                                headers=headers, request=request)
        response = cache.process_response(request, response)
    store = CrawlStore.of(crawler)
    out = []
    for obj in tracker.process_spider_output(response, spider.parse(response)):
        if isinstance(obj, Request):
            out.append(obj)
        else:  # the pipelines' work: the item is stored, then the page counts as done
            store.queue_upsert(obj, response.url)
            store.item_done(response.url)
    return out


def _stored_links(settings: Any, path: str) -> list[PageLink] | None:
    with Catalog(settings.catalog_path) as cat:
        page = cat.get_page(BASE + path)
        return None if page is None else decode_links(page.links)


def _due_in(settings: Any, path: str, delta: timedelta) -> None:
    with Catalog(settings.catalog_path) as cat:
        due = (datetime.now(UTC) + delta).isoformat(timespec="microseconds").replace("+00:00", "Z")
        cat.conn.execute("UPDATE pages SET next_due = :due WHERE url = :url", {"due": due, "url": BASE + path})


def _first_crawl(settings: Any, spider_cls: type[LinkSpider] = LinkSpider) -> None:
    crawler, spider, store = _open(settings, spider_cls)
    try:
        for path in ("/list", "/hub"):
            _serve(crawler, spider, Request(BASE + path))
        store.flush()
    finally:
        _close(store, spider)


def test_links_round_trip_and_garbage_is_unknown() -> None:
    links = [PageLink(f"{BASE}/a?x=1&y=\u00e9", 5, True), PageLink(f"{BASE}/b", -2, False)]
    assert decode_links(encode_links(links)) == links
    assert decode_links(encode_links([])) == []
    for junk in ("{", '{"a": 1}', "[[1]]", '[["u", "p", 1]]', "null"):
        assert decode_links(junk) is None, junk
    assert decode_links(None) is None


def test_a_read_page_keeps_its_links_and_a_304_follows_them_without_parsing(settings) -> None:
    _first_crawl(settings)
    assert _stored_links(settings, "/hub") == [PageLink(f"{BASE}/p/a", 3, True), PageLink(f"{BASE}/list2", 7, False)]
    assert _stored_links(settings, "/list") == [PageLink(f"{BASE}/hub", 7, False), PageLink(f"{BASE}/p/b", 3, True)]
    _due_in(settings, "/list", timedelta(hours=-1))  # a listing: always fetched; here it answers 304
    crawler, spider, store = _open(settings)
    try:
        out = _serve(crawler, spider, Request(BASE + "/list"), status=304)
        assert spider.parsed == []  # not parsed: its stored links were followed
        # the hub is not due and holds a record: not requested, its links followed instead (new URLs here)
        assert [(r.url, r.priority, bool(r.meta.get("leaf"))) for r in out] == [
            (f"{BASE}/p/a", 3, True), (f"{BASE}/list2", 7, False), (f"{BASE}/p/b", 3, True)]
        assert crawler.stats.get_value("collegesearch/pages/links_reused") == 2  # the listing and the hub
        assert store.schedule is not None and BASE + "/hub" in store.schedule.drain()
    finally:
        _close(store, spider)
    assert _stored_links(settings, "/list") == [PageLink(f"{BASE}/hub", 7, False), PageLink(f"{BASE}/p/b", 3, True)]


def test_a_full_crawl_parses_every_page_and_refreshes_the_links(settings) -> None:
    _first_crawl(settings)
    with Catalog(settings.catalog_path) as cat:
        cat.set_page_links([(BASE + "/list", encode_links([PageLink(f"{BASE}/stale", 1, False)]))])
    crawler, spider, store = _open(settings, COLLEGESEARCH_FULL_CRAWL=True)
    try:
        out = _serve(crawler, spider, Request(BASE + "/list"), status=304)
        assert spider.parsed == [BASE + "/list"]
        assert {r.url for r in out} == {f"{BASE}/hub", f"{BASE}/p/b"}
        store.flush()
    finally:
        _close(store, spider)
    # a page read from its stored copy keeps what was read from it (in a full crawl too)
    assert _stored_links(settings, "/list") == [PageLink(f"{BASE}/hub", 7, False), PageLink(f"{BASE}/p/b", 3, True)]


def test_a_changed_page_replaces_its_links(settings) -> None:
    _first_crawl(settings)
    PAGES["/list"], before = '<a href="/p/c" class="leaf">c</a>', PAGES["/list"]
    try:
        _due_in(settings, "/list", timedelta(hours=-1))
        crawler, spider, store = _open(settings)
        try:
            out = _serve(crawler, spider, Request(BASE + "/list"))
            assert spider.parsed == [BASE + "/list"] and [r.url for r in out] == [f"{BASE}/p/c"]
            store.flush()
        finally:
            _close(store, spider)
    finally:
        PAGES["/list"] = before
    assert _stored_links(settings, "/list") == [PageLink(f"{BASE}/p/c", 3, True)]


def test_a_not_due_page_whose_links_are_unknown_is_read_from_the_cache_and_its_links_kept(settings) -> None:
    _first_crawl(settings)
    with Catalog(settings.catalog_path) as cat:
        cat.conn.execute("UPDATE pages SET links = NULL WHERE url = :url", {"url": BASE + "/hub"})
    crawler, spider, store = _open(settings)
    try:
        [request] = spider.follow(BASE + "/hub", priority=7)  # not due, but no links known: requested
        out = _serve(crawler, spider, request)  # ... and answered from the cache, parsed for its links
        assert crawler.stats.get_value("collegesearch/pages/not_due_cached") == 1
        assert spider.parsed == [BASE + "/hub"] and {r.url for r in out} == {f"{BASE}/p/a", f"{BASE}/list2"}
        store.queue_links()
        store.flush()
    finally:
        _close(store, spider)
    assert _stored_links(settings, "/hub") == [PageLink(f"{BASE}/p/a", 3, True), PageLink(f"{BASE}/list2", 7, False)]


def test_links_with_extra_arguments_are_not_kept(settings) -> None:
    _first_crawl(settings, StatefulSpider)
    assert _stored_links(settings, "/list") is None and _stored_links(settings, "/hub") is None


def test_a_spider_that_keeps_state_keeps_no_links(settings) -> None:
    class Stateful(LinkSpider):
        name = "infra_links_unreplayable"
        links_replayable = False

    _first_crawl(settings, Stateful)
    assert _stored_links(settings, "/list") is None


def test_a_failed_navigation_read_leaves_the_links_unknown(settings) -> None:
    class Failing(LinkSpider):
        name = "infra_links_failing"

        def parse(self, response: Any, **kwargs: Any) -> Any:
            yield from super().parse(response, **kwargs)
            self.safely(lambda: 1 / 0, None, response, "the next page")

    _first_crawl(settings, Failing)
    assert _stored_links(settings, "/list") is None


@pytest.mark.parametrize("interleave", [False, True])
def test_async_callbacks_never_mix_two_pages_links(settings, interleave: bool) -> None:
    import asyncio
    import threading

    crawler, spider, store = _open(settings)
    tracker = PageTrackerMiddleware.from_crawler(crawler)
    a, b = (HtmlResponse(f"{BASE}/{n}", body=b"<html></html>", request=Request(f"{BASE}/{n}")) for n in ("x", "y"))
    gate = asyncio.Event()

    async def callback(response: Any, link: str, wait: bool) -> Any:
        if wait and interleave:
            await gate.wait()  # the other page's callback runs meanwhile
        for request in spider.follow(link):
            yield request

    async def drain(response: Any, link: str, wait: bool) -> None:
        async for _ in tracker.process_spider_output_async(response, callback(response, link, wait)):
            pass

    async def both() -> None:
        first = asyncio.ensure_future(drain(a, f"{BASE}/from-x", True))
        await asyncio.sleep(0)
        await drain(b, f"{BASE}/from-y", False)
        gate.set()
        await first

    try:
        # in a thread of its own: another test in this worker (Playwright's sync API) may own this thread's loop
        failed: list[BaseException] = []
        runner = threading.Thread(target=lambda: _run_or_keep(asyncio.run, both, failed))
        runner.start()
        runner.join(30)
        assert not runner.is_alive() and not failed, failed
        kept = {r.url: decode_links(r.links) for r in _pages(store)}
    finally:
        _close(store, spider)
    if interleave:
        assert kept[f"{BASE}/x"] is None  # it waited while y ran: not trusted
        assert kept[f"{BASE}/y"] == [PageLink(f"{BASE}/from-y", 0, False)]
    else:
        assert kept == {f"{BASE}/x": [PageLink(f"{BASE}/from-x", 0, False)],
                        f"{BASE}/y": [PageLink(f"{BASE}/from-y", 0, False)]}


def _run_or_keep(run: Any, coroutine: Any, failed: list[BaseException]) -> None:
    try:
        run(coroutine())
    except BaseException as exc:  # noqa: BLE001 - handed to the test's thread, which asserts on it
        failed.append(exc)


def _pages(store: CrawlStore) -> list[Any]:
    store.flush()
    assert store.catalog is not None
    return [p for url in (f"{BASE}/x", f"{BASE}/y") if (p := store.catalog.get_page(url)) is not None]
