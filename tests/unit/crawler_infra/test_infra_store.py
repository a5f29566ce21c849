"""The crawl store and page cache against a real catalog: ordering, 304s, failures, resume, verdicts."""

from __future__ import annotations

import os
import socket

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from twisted.internet.error import TCPTimedOutError

from catalog import Catalog
from crawler.crawl_store import CrawlStore
from crawler.page_cache import PageCacheMiddleware
from model.items import Career

URL = "http://127.0.0.9:8800/ooh/a.htm"


def _career(url: str = URL, soc: str = "11-1111", title: str = "Testers") -> Career:
    return Career(url=url, source="testsrc", soc_code=soc, title=title)


def _open(crawler) -> CrawlStore:
    store = CrawlStore.of(crawler)
    store.open(crawler.spider)
    return store


def _html(url: str, body: bytes = b"<html><body>hi</body></html>", **kw) -> HtmlResponse:
    return HtmlResponse(url, body=body, encoding="utf-8", request=Request(url), **kw)


def test_page_recorded_only_after_its_items(make_crawler, settings) -> None:
    crawler = make_crawler()
    store = _open(crawler)
    response = _html(URL, headers={"ETag": '"v1"'})
    store.page_begin(response)
    item = _career()
    store.item_pending(URL)
    store.page_end(response)  # callback exhausted, but the item is still in the pipelines
    store.flush()
    with Catalog(settings.catalog_path) as cat:
        assert cat.get_page(URL) is None
    store.queue_upsert(item, URL)
    store.item_done(URL)
    store.flush()
    with Catalog(settings.catalog_path) as cat:
        page = cat.get_page(URL)
        assert page is not None and page.etag == '"v1"' and page.body == response.body
        assert cat.get("career", "11-1111") is not None


def test_unflushed_work_is_lost_together(make_crawler, settings) -> None:
    """A kill before a flush loses the item AND the page record, so the page is fetched again."""
    crawler = make_crawler(CRAWL_FLUSH_ITEMS=10_000)
    store = _open(crawler)
    response = _html(URL)
    store.page_begin(response)
    store.item_pending(URL)
    store.queue_upsert(_career(), URL)
    store.item_done(URL)
    store.page_end(response)
    store._ops.clear()  # what SIGKILL does to the buffer
    with Catalog(settings.catalog_path) as cat:
        assert cat.get_page(URL) is None and cat.get("career", "11-1111") is None


def test_conditional_request_and_304(make_crawler, settings) -> None:
    with Catalog(settings.catalog_path) as cat:
        run = cat.start_run("testsrc")
        cat.record_page(URL, source="testsrc", status=200, run_id=run, etag='"v1"',
                        last_modified="Mon, 01 Jan 2024 00:00:00 GMT", body=b"<html>old body</html>",
                        content_type="text/html; charset=utf-8", encoding="utf-8")
        cat.upsert(_career(), run_id=run, page_url=URL)
        cat.finish_run(run, status="ok", stats={}, complete=True)
        seq = cat.max_change_seq()
    crawler = make_crawler(COLLEGESEARCH_FULL_CRAWL=True)  # (a scheduled crawl would not ask: the page is not due)
    store = _open(crawler)
    mw = PageCacheMiddleware.from_crawler(crawler)
    request = Request(URL)
    assert mw.process_request(request) is None
    assert request.headers["If-None-Match"] == b'"v1"'
    assert request.headers["If-Modified-Since"] == b"Mon, 01 Jan 2024 00:00:00 GMT"
    response = mw.process_response(request, Response(URL, status=304, request=request))
    assert response.status == 200 and "not_modified" in response.flags
    assert response.text == "<html>old body</html>"
    store.page_begin(response)
    store.page_end(response)
    store.flush()
    with Catalog(settings.catalog_path) as cat:
        stored = cat.get("career", "11-1111")
        assert stored.last_run_id == store.run_id
        assert cat.max_change_seq() == seq  # a 304 writes no change-log entry
    assert crawler.stats.get_value("collegesearch/items/touched") == 1


def test_404_tombstones_and_5xx_protects(make_crawler, settings) -> None:
    gone, broken = URL, URL.replace("a.htm", "b.htm")
    with Catalog(settings.catalog_path) as cat:
        run = cat.start_run("testsrc")
        cat.upsert(_career(gone, "11-1111"), run_id=run, page_url=gone)
        cat.upsert(_career(broken, "11-2222", "Breakers"), run_id=run, page_url=broken)
        cat.finish_run(run, status="ok", stats={}, complete=True)
    crawler = make_crawler()
    store = _open(crawler)
    mw = PageCacheMiddleware.from_crawler(crawler)
    for url, status in ((gone, 404), (broken, 503)):
        request = Request(url)
        mw.process_request(request)
        mw.process_response(request, Response(url, status=status, request=request))
    store.flush()
    with Catalog(settings.catalog_path) as cat:
        assert cat.get("career", "11-1111") is None
        assert cat.get("career", "11-1111", include_deleted=True).deleted_reason == "page answered 404"
        kept = cat.get("career", "11-2222")
        assert kept is not None and kept.last_run_id == store.run_id
    assert crawler.stats.get_value("collegesearch/errors/http_5xx") == 1


def test_timeout_counts_as_error_and_protects(make_crawler, settings) -> None:
    crawler = make_crawler()
    store = _open(crawler)
    mw = PageCacheMiddleware.from_crawler(crawler)
    request = Request(URL)
    mw.process_exception(request, TCPTimedOutError())
    assert crawler.stats.get_value("collegesearch/errors/timeout") == 1
    summary = store.summary("finished")
    assert store._verdict("finished", summary)[0] == "failed"  # the only request failed: 100% errors


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_dead_run_marked_interrupted_and_resumed_from_cache(make_crawler, settings) -> None:
    with Catalog(settings.catalog_path) as cat:
        dead = cat.start_run("testsrc")
        cat.conn.execute("UPDATE runs SET pid = :pid, host = :host WHERE id = :id",
                         {"pid": _dead_pid(), "host": socket.gethostname(), "id": dead})
        cat.record_page(URL, source="testsrc", status=200, run_id=dead, etag='"v1"', body=b"<html>stored</html>",
                        content_type="text/html", encoding="utf-8")
        cat.upsert(_career(), run_id=dead, page_url=URL)
    crawler = make_crawler()
    store = _open(crawler)
    assert store.resume_ids == frozenset({dead})
    with Catalog(settings.catalog_path) as cat:
        assert cat.get_run(dead).status == "interrupted"
    mw = PageCacheMiddleware.from_crawler(crawler)
    response = mw.process_request(Request(URL))
    assert response is not None and {"not_modified", "resumed"} <= set(response.flags)
    assert response.text == "<html>stored</html>"
    # ...and a page the dead run never reached goes to the network with no validators.
    other = Request(URL.replace("a.htm", "z.htm"))
    assert mw.process_request(other) is None and b"If-None-Match" not in other.headers


def test_completed_run_is_not_resumed(make_crawler, settings) -> None:
    with Catalog(settings.catalog_path) as cat:
        old = cat.start_run("testsrc")
        cat.mark_interrupted(old, "killed")
        done = cat.start_run("testsrc")
        cat.finish_run(done, status="ok", stats={}, complete=True)
    store = _open(make_crawler())
    assert store.resume_ids == frozenset()


@pytest.mark.parametrize(
    ("reason", "errors", "pages", "expected"),
    [
        ("finished", {}, 10, ("ok", True)),
        ("finished", {"http_5xx": 1}, 10, ("ok", False)),
        ("finished", {"timeout": 6}, 4, ("failed", False)),
        ("finished", {}, 0, ("failed", False)),
        ("closespider_timeout", {}, 10, ("failed", False)),
        ("shutdown", {}, 10, ("interrupted", False)),
    ],
)
def test_verdict(make_crawler, reason, errors, pages, expected) -> None:
    store = _open(make_crawler())
    summary = {"pages": pages, "pages_gone": 0, "errors": errors}
    status, complete, error = store._verdict(reason, summary)
    assert (status, complete) == expected
    if status != "ok":
        assert error
    if reason in ("closespider_timeout", "shutdown"):
        assert summary["resumable"] is True


def test_mostly_5xx_reason(make_crawler) -> None:
    store = _open(make_crawler())
    status, complete, error = store._verdict("finished", {"pages": 2, "pages_gone": 0, "errors": {"http_5xx": 8}})
    assert status == "failed" and "mostly 5xx" in error and "CRAWL_MAX_ERROR_RATE" in error


def test_close_records_run_and_sweeps_only_when_complete(make_crawler, settings) -> None:
    crawler = make_crawler()
    store = _open(crawler)
    response = _html(URL)
    store.page_begin(response)
    store.item_pending(URL)
    store.queue_upsert(_career(), URL)
    store.item_done(URL)
    store.page_end(response)
    store.close(crawler.spider, "finished")
    with Catalog(settings.catalog_path) as cat:
        run = cat.get_run(store.run_id)
        assert run.status == "ok" and run.complete
        assert run.stats["items"]["new"] == 1 and run.stats["pages"] == 1
        assert cat.running_runs("testsrc") == []


def test_page_object_failure_is_a_counted_drop(make_crawler, caplog) -> None:
    """A page module that raises on a hostile page costs that page's items, counted and logged, not the crawl."""
    from crawler.spiders.base import CatalogSpider

    class ProbeSpider(CatalogSpider):
        name = "probe"
        source = "testsrc"

    crawler = make_crawler()
    _open(crawler)
    spider = ProbeSpider.from_crawler(crawler, source_info={"base_url": "http://127.0.0.9:8800", "start_urls": []})

    class Broken:
        def to_items(self):
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    response = _html(URL)
    with caplog.at_level("WARNING"):
        assert spider.items_of(Broken(), response) == []
    assert crawler.stats.get_value("collegesearch/dropped/extract_error:UnicodeDecodeError") == 1
    assert any(URL in r.getMessage() and "extract_error:UnicodeDecodeError" in r.getMessage() for r in caplog.records)
    # an unchanged page (304) is not extracted at all
    unchanged = _html(URL, flags=["not_modified"])
    assert spider.items_of(Broken(), unchanged) == []
    assert crawler.stats.get_value("collegesearch/dropped/extract_error:UnicodeDecodeError") == 1
