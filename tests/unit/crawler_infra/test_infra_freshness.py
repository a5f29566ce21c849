"""The freshness schedule against a real catalog: intervals stored per page, what a scheduled crawl
leaves alone, and that the pages it leaves alone are never counted as missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scrapy import Request

from catalog import Catalog
from catalog.pages import PageDue
from crawler.crawl_store import CrawlStore
from crawler.freshness import Schedule
from crawler.page_cache import PageCacheMiddleware
from crawler.spiders.base import CatalogSpider
from model.items import Career
from model.revisit import RevisitPolicy
from tests.unit.crawler_infra.conftest import open_spider_store

BASE = "http://127.0.0.9:8800"
HOUR, DAY = 3600, 86400
POLICY = RevisitPolicy(min_seconds=6 * HOUR, max_seconds=30 * DAY, first_seconds=DAY, grow=0.4, shrink=0.2)


class Clock:
    """A catalog clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> str:
        return self.now.isoformat(timespec="microseconds").replace("+00:00", "Z")

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _career(url: str, soc: str) -> Career:
    return Career(url=url, source="testsrc", soc_code=soc, title=f"Career {soc}")


def _schedule_row(cat: Catalog, url: str) -> Any:
    return cat.conn.execute("SELECT revisit_seconds, next_due, last_fetched FROM pages WHERE url = :url",
                            {"url": url}).fetchone()


def test_fetches_set_each_pages_interval_and_next_due(settings) -> None:
    clock = Clock()
    url = f"{BASE}/ooh/a.htm"
    with Catalog(settings.catalog_path, clock=clock) as cat:
        assert cat.record_page(url, source="testsrc", status=200, run_id=None, body=b"v1", revisit=POLICY)
        row = _schedule_row(cat, url)
        assert row["revisit_seconds"] == DAY and row["next_due"] == "2026-01-02T00:00:00.000000Z"
        clock.advance(DAY)
        cat.touch_page(url, None, POLICY)  # a 304: unchanged, so the interval grows and it counts as a fetch
        row = _schedule_row(cat, url)
        assert row["revisit_seconds"] == round(DAY * 1.4) and row["last_fetched"] == clock()
        assert row["next_due"] == (clock.now + timedelta(seconds=round(DAY * 1.4))).isoformat(
            timespec="microseconds").replace("+00:00", "Z")
        clock.advance(HOUR)
        cat.touch_page(url, None)  # taken from the cache (not due, or resumed): the schedule stays
        assert tuple(_schedule_row(cat, url)) == tuple(row)
        assert not cat.record_page(url, source="testsrc", status=200, run_id=None, body=b"v1", revisit=POLICY)
        assert _schedule_row(cat, url)["revisit_seconds"] == round(round(DAY * 1.4) * 1.4)  # same bytes: grows
        before = _schedule_row(cat, url)["revisit_seconds"]
        assert cat.record_page(url, source="testsrc", status=200, run_id=None, body=b"v2", revisit=POLICY)
        assert _schedule_row(cat, url)["revisit_seconds"] == round(before * 0.8)  # changed: shrinks


def test_schedule_decides_from_due_time_lastmod_and_items() -> None:
    now = datetime(2026, 1, 10, tzinfo=UTC)

    def page(url: str, fetched_days_ago: float, interval: float, *, items: bool = True,
             last_modified: str | None = None) -> PageDue:
        fetched = now - timedelta(days=fetched_days_ago)
        due = fetched + timedelta(days=interval)
        return PageDue(url=url, next_due=due.isoformat().replace("+00:00", "Z"),
                       last_fetched=fetched.isoformat().replace("+00:00", "Z"), last_modified=last_modified,
                       revisit_seconds=int(interval * DAY), has_items=items)

    pages = [
        page("fresh", 1, 4, last_modified="Thu, 01 Jan 2026 12:00:00 GMT"),
        page("due", 5, 4),
        page("almost", 3.7, 4),  # less than a tenth of its interval left: due
        page("listing", 1, 4, items=False),
        page("long", 31, 60),  # scheduled under a longer REVISIT_MAX than today's 30 days
        PageDue(url="never", next_due=None, last_fetched="2026-01-09T00:00:00Z", last_modified=None,
                revisit_seconds=None, has_items=True),
    ]
    schedule = Schedule(pages, POLICY, now=now)
    assert len(schedule) == 6 and "fresh" in schedule
    assert schedule.not_due("fresh")
    assert not schedule.not_due("due") and not schedule.not_due("almost") and not schedule.not_due("never")
    assert not schedule.not_due("listing")  # navigation pages are always fetched
    assert not schedule.not_due("long")
    assert not schedule.not_due("new-url")
    # a sitemap lastmod newer than the stored Last-Modified makes it due; an older or equal one does not
    assert not schedule.not_due("fresh", datetime(2026, 1, 2, tzinfo=UTC))
    assert schedule.not_due("fresh", datetime(2026, 1, 1, tzinfo=UTC))
    assert schedule.lastmod_newer("fresh", datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC))
    assert not schedule.lastmod_newer("fresh", None)


# -- a scheduled crawl through the store, the middleware and the spider -------------------------------------


class FreshSpider(CatalogSpider):
    """A catalog spider on the test host."""

    name = "infra_fresh"
    source = "testsrc"

    def parse(self, response: Any, **kwargs: Any) -> Any:
        return []


@pytest.fixture
def scheduled(settings):
    """Known page URLs: four leaf pages with one item each and a listing, all fetched an hour ago."""
    leaf_a, leaf_b, leaf_c, listing, gone_leaf = (f"{BASE}/p/{n}" for n in ("a", "b", "c", "list", "old"))
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with Catalog(settings.catalog_path,
                 clock=lambda: an_hour_ago.isoformat(timespec="microseconds").replace("+00:00", "Z")) as cat:
        run = cat.start_run("testsrc")
        for url in (leaf_a, leaf_b, leaf_c, listing, gone_leaf):
            cat.record_page(url, source="testsrc", status=200, run_id=run, body=b"<html>" + url.encode() + b"</html>",
                            last_modified="Thu, 01 Jan 2026 12:00:00 GMT", content_type="text/html; charset=utf-8",
                            encoding="utf-8", revisit=settings.revisit_policy("testsrc", ""))
        for soc, url in (("11-0001", leaf_a), ("11-0002", leaf_b), ("11-0003", leaf_c), ("11-0009", gone_leaf)):
            cat.upsert(_career(url, soc), run_id=run, page_url=url)
        cat.finish_run(run, status="ok", stats={}, complete=True)
    return {"a": leaf_a, "b": leaf_b, "c": leaf_c, "listing": listing, "old": gone_leaf}


def _crawler(settings, **extra: Any) -> tuple[Any, FreshSpider, CrawlStore]:
    return open_spider_store(settings, FreshSpider, BASE, **extra)


def _close(crawler: Any, store: CrawlStore) -> None:
    from crawler.source_locks import release_source_lock

    if store.catalog is not None:
        store.catalog.close()
        store.catalog = None
    release_source_lock("testsrc")


def test_not_due_leaf_is_not_requested_and_its_items_stay(settings, scheduled) -> None:
    crawler, spider, store = _crawler(settings)
    try:
        assert store.schedule is not None and len(store.schedule) == 5
        assert spider.follow(scheduled["a"], meta={"leaf": True}) == []  # not due: not even a request
        assert spider.follow(scheduled["a"], meta={"leaf": True}) == []  # (a repeated link: touched once)
        assert store.schedule._skipped == [scheduled["a"]]
        # a sitemap entry saying the page changed after our copy: fetched after all
        newer = spider.follow(scheduled["a"], meta={"leaf": True,
                                                   "sitemap_lastmod": datetime(2026, 1, 5, tzinfo=UTC)})
        assert [r.url for r in newer] == [scheduled["a"]] and newer[0].dont_filter  # (a redirect may have reached it)
        # ... also when a link already reached it and the cache answered: the sitemap comes later
        assert len(spider.follow(scheduled["b"])) == 1
        again = spider.follow(scheduled["b"], meta={"sitemap_lastmod": datetime(2026, 1, 5, tzinfo=UTC)})
        assert len(again) == 1 and again[0].meta["force_fetch"]
        assert spider.follow(scheduled["b"], meta={"sitemap_lastmod": datetime(2026, 1, 6, tzinfo=UTC)}) == []
        older = spider.follow(scheduled["c"], meta={"leaf": True, "sitemap_lastmod": datetime(2025, 12, 1, tzinfo=UTC)})
        assert older == []
        assert [r.url for r in spider.follow(scheduled["listing"])] == [scheduled["listing"]]  # navigation
        assert len(spider.follow(f"{BASE}/p/new", meta={"leaf": True})) == 1  # a new URL
        assert len(spider.follow(f"{BASE}/p/forced", meta={"leaf": True, "force_fetch": True})) == 1
        assert len(spider.follow(scheduled["c"], meta={"leaf": True, "force_fetch": True})) == 1  # checked after all
        # the store ends the run: the not-due pages' items are seen, the unlinked page's item is missed once
        store.close(spider, "finished")
        run = store.closed_summary
        assert run is not None and run["complete"] and run["pages_not_due"] == 2 and run["mode"] == "scheduled"
    finally:
        _close(crawler, store)
    with Catalog(settings.catalog_path) as cat:
        for soc in ("11-0001", "11-0003"):  # (b was requested: its answer, not run here, would touch it)
            item = cat.get("career", soc)
            assert item is not None and item.last_run_id == store.run_id
        missed = cat.get("career", "11-0009")
        assert missed is not None and missed.last_run_id != store.run_id  # one miss; two complete runs remove it
        assert cat.conn.execute("SELECT missing_runs FROM items WHERE item_id = '11-0009'").scalar() == 1


def test_not_due_page_comes_from_the_cache_and_keeps_its_schedule(settings, scheduled) -> None:
    crawler, _spider, store = _crawler(settings)
    try:
        mw = PageCacheMiddleware.from_crawler(crawler)
        with Catalog(settings.catalog_path) as cat:
            before = tuple(_schedule_row(cat, scheduled["a"]))
        response = mw.process_request(Request(scheduled["a"]))
        assert response is not None and {"not_modified", "not_due"} <= set(response.flags)
        assert response.text == f"<html>{scheduled['a']}</html>"
        assert mw.process_response(response.request, response) is response
        store.page_begin(response)
        store.page_end(response)
        store.queue_skipped()  # (its touch waits for a batch of 500, or the end of the run)
        store.flush()
        # a newer lastmod, or a page that must be checked, goes to the network with its validators
        for request in (Request(scheduled["b"], meta={"sitemap_lastmod": datetime(2026, 1, 3, tzinfo=UTC)}),
                        Request(scheduled["b"], meta={"force_fetch": True})):
            assert mw.process_request(request) is None and request.headers.get("If-Modified-Since")
        assert mw.process_request(Request(scheduled["listing"])) is None
        assert crawler.stats.get_value("collegesearch/pages/not_due") == 1
        assert crawler.stats.get_value("collegesearch/pages/unchanged") is None  # not a page of this run's count
    finally:
        _close(crawler, store)
    with Catalog(settings.catalog_path) as cat:
        assert tuple(_schedule_row(cat, scheduled["a"])) == before
        assert cat.get("career", "11-0001").last_run_id == store.run_id


def test_full_crawl_has_no_schedule(settings, scheduled) -> None:
    crawler, spider, store = _crawler(settings, COLLEGESEARCH_FULL_CRAWL=True)
    try:
        assert store.schedule is None and not store.not_due(scheduled["a"])
        assert len(spider.follow(scheduled["a"], meta={"leaf": True})) == 1
        request = Request(scheduled["a"])
        assert PageCacheMiddleware.from_crawler(crawler).process_request(request) is None
        assert request.headers.get("If-Modified-Since") == b"Thu, 01 Jan 2026 12:00:00 GMT"
        assert store.summary("finished")["mode"] == "full"
    finally:
        _close(crawler, store)


def test_lower_revisit_max_makes_old_pages_due(settings, scheduled) -> None:
    quick = settings.replace(REVISIT_MIN=60, REVISIT_FIRST=60, REVISIT_MAX=600)
    crawler, spider, store = _crawler(quick)
    try:
        assert not store.not_due(scheduled["a"])  # fetched an hour ago: due under today's 10-minute maximum
        assert len(spider.follow(scheduled["a"], meta={"leaf": True})) == 1
    finally:
        _close(crawler, store)


def test_every_nth_scheduled_crawl_is_full(settings) -> None:
    from crawler.freshness import full_by_turn

    every3 = settings.replace(FULL_CRAWL_EVERY=3)
    with Catalog(settings.catalog_path) as cat:
        assert not full_by_turn(every3, cat, "testsrc", "schedule")  # no runs yet (the first crawl fetches all)
        for mode in ("full", "scheduled", "scheduled"):
            run = cat.start_run("testsrc", "schedule")
            cat.finish_run(run, status="ok", stats={"mode": mode}, complete=True)
            if mode == "full":
                assert not full_by_turn(every3, cat, "testsrc", "schedule")  # the last full one is too recent
        assert full_by_turn(every3, cat, "testsrc", "schedule")  # two scheduled ones since: the third is full
        assert not full_by_turn(every3, cat, "testsrc", "manual")  # only the scheduler's crawls take turns
        assert not full_by_turn(settings, cat, "testsrc", "schedule")  # FULL_CRAWL_EVERY 0: never
        assert full_by_turn(settings.replace(FULL_CRAWL_EVERY=1), cat, "testsrc", "schedule")  # every one
