"""The page cache middlewares: incremental recrawls, resume, and when a page counts as stored.

* ``PageCacheMiddleware`` sends If-None-Match / If-Modified-Since from the catalog's page cache,
  turns a 304 into the stored page flagged ``not_modified`` (the spider still follows its links,
  the items are only touched), answers pages a killed run already stored from the cache
  (resume) and, in a scheduled crawl, pages that are not due yet (``crawler.freshness``; flagged
  ``not_due``), tombstones a page's items on 404/410 and protects them on any other failure.
* ``PageTrackerMiddleware`` records a page in the cache only after all its items reached the
  catalog buffer, so a page is never marked "done" while its items could still be lost.

Both work through the crawler's ``CrawlStore``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Response, TextResponse
from scrapy.responsetypes import responsetypes

from crawler.crawl_store import StoreUser

if TYPE_CHECKING:

    from scrapy.crawler import Crawler

    from catalog import PageRecord

logger = logging.getLogger(__name__)


def _page_headers(page: PageRecord) -> Headers:
    headers = Headers()
    if page.content_type:
        headers["Content-Type"] = page.content_type
    if page.etag:
        headers["ETag"] = page.etag
    if page.last_modified:
        headers["Last-Modified"] = page.last_modified
    return headers


def rebuild_response(request: Request, page: PageRecord, flags: list[str]) -> Response:
    """A 200 response carrying the body the catalog stored for a page."""
    body = page.body or b""
    headers = _page_headers(page)
    cls = responsetypes.from_args(headers=headers, url=page.url, body=body)
    kwargs: dict[str, Any] = {"url": request.url, "status": 200, "headers": headers, "body": body,
                              "flags": list(flags), "request": request}
    if issubclass(cls, TextResponse) and page.encoding:
        kwargs["encoding"] = page.encoding
    return cls(**kwargs)


def is_page_request(request: Request) -> bool:
    """Requests for pages of the site (not robots.txt or bookkeeping fetches)."""
    if request.meta.get("dont_obey_robotstxt") and urlsplit(request.url).path == "/robots.txt":
        return False
    return request.meta.get("page_cache", True) is not False


def classify_exception(exc: BaseException) -> str | None:
    """An error kind for a failed download, or None for deliberate skips (robots, size, offsite)."""
    from scrapy.exceptions import DownloadCancelledError

    if isinstance(exc, IgnoreRequest):
        return None
    if isinstance(exc, DownloadCancelledError):
        return None
    name = type(exc).__name__.lower()
    if "timeout" in name or "timedout" in name:
        return "timeout"
    if any(word in name for word in ("connection", "dns", "refused", "lost", "neverreceived", "tcp", "ssl")):
        return "connection"
    return "other"


class PageCacheMiddleware(StoreUser):
    """Conditional requests and resume from the catalog's page cache; failure bookkeeping."""

    def process_request(self, request: Request) -> Response | None:
        """Answer from the cache (resume) or add the stored validators to the request."""
        for header in ("If-None-Match", "If-Modified-Since"):
            request.headers.pop(header, None)
        request.meta.pop("_cached_page", None)
        request.meta.pop("stored_links", None)
        if not is_page_request(request) or not self.store.is_open:
            return None
        page = self.store.page_record(request.url)
        if page is None or page.body is None or page.gone_at is not None:
            return None
        # Whatever answers for this page without new bytes (the cache, a 304, the same body) is this
        # copy, so these are its links (``CatalogSpider.links_again``).
        request.meta["stored_links"] = page.links
        if self.store.fetched_by_interrupted_run(page):
            # A killed run already stored this page and its items: continue from here
            # without the network, but still walk its links.
            self.crawler.stats.inc_value("collegesearch/pages/resumed")
            return rebuild_response(request, page, ["not_modified", "resumed"])
        if not request.meta.get("force_fetch") and self.store.not_due(request.url, request.meta.get("sitemap_lastmod")):
            # A scheduled crawl and a page that is not due (crawler.freshness): the stored copy
            # stands in for it without the network, so its links are still followed.
            self.crawler.stats.inc_value("collegesearch/pages/not_due")
            self.crawler.stats.inc_value("collegesearch/pages/not_due_cached")
            return rebuild_response(request, page, ["not_modified", "not_due"])
        request.meta["_cached_page"] = page
        if page.etag:
            request.headers["If-None-Match"] = page.etag
        if page.last_modified:
            request.headers["If-Modified-Since"] = page.last_modified
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        """304 -> the stored page (flagged); 404/410 -> tombstone; other failures -> protect."""
        if not is_page_request(request) or "resumed" in response.flags or "not_due" in response.flags:
            return response
        page: PageRecord | None = request.meta.pop("_cached_page", None)
        status = response.status
        if status == 304:
            if page is None:
                self.store.page_failed(request.url, "unexpected_304")
                return response
            self.crawler.stats.inc_value("collegesearch/pages/not_modified")
            return rebuild_response(request, page, ["not_modified"])
        if 200 <= status < 300:
            if page is not None and page.content_hash == hashlib.sha256(response.body).hexdigest():
                # Same bytes without validators (a site that ignores conditional requests).
                self.crawler.stats.inc_value("collegesearch/pages/same_body")
                return response.replace(flags=[*response.flags, "not_modified", "same_body"])
            return response
        if status in (404, 410):
            self.store.page_gone(request.url, status)
            return response
        if 300 <= status < 400:
            return response  # a redirect the redirect middleware declined (no Location): harmless
        kind = "http_5xx" if status >= 500 else ("http_429" if status == 429 else "http_4xx")
        self.store.page_failed(request.url, kind, status=status)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """A download that failed for good (retries exhausted): protect the page's items."""
        request.meta.pop("_cached_page", None)
        if not is_page_request(request):
            return None
        kind = classify_exception(exception)
        if kind is None:
            from scrapy.exceptions import DownloadCancelledError

            if isinstance(exception, DownloadCancelledError):
                self.crawler.stats.inc_value("collegesearch/skipped/too_large")
                logger.warning("skipped %s: %s", request.url, exception)
                self.store.protect(request.url)
                # A deliberate skip, said in one line above: not a download error with a traceback.
                raise IgnoreRequest(str(exception))
            return None
        self.store.page_failed(request.url, kind, detail=f"{type(exception).__name__}: {exception}")
        return None


class PageTrackerMiddleware(StoreUser):
    """Spider middleware: tell the store when every item of a page has been handled.

    Items carry the URL of their page (``item._page_url``); the store counts them in and out
    (item_scraped / item_dropped / item_error) and records the page in the cache only when the
    callback is exhausted and the count is back to zero.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self._item_done, signal=signal)

    def _item_done(self, item: Any, response: Response | None = None, **kwargs: Any) -> None:
        page_url = getattr(item, "_page_url", None)
        if page_url:
            self.store.item_done(page_url)

    def _tag(self, obj: Any, response: Response) -> Any:
        if not isinstance(obj, Request) and obj is not None:
            try:
                obj._page_url = response.url
            except AttributeError:  # an item type without __dict__: track by the page only
                return obj
            self.store.item_pending(response.url)
        return obj

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        """Pass everything through; mark the page done when the callback is exhausted.

        While the callback runs (each step of its generator), the store knows which page it
        reads, so the links the spider follows are recorded as that page's (``crawler.freshness``).
        """
        store = self.store
        store.page_begin(response, record_links=getattr(self.crawler.spider, "links_replayable", False))
        output = iter(result)
        while True:
            store.linking_from = response.url
            try:
                obj = next(output)
            except StopIteration:
                break
            except BaseException:
                store.links_unknown(response.url)
                raise
            finally:
                store.linking_from = None
            yield self._tag(obj, response)
        store.page_end(response)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Async variant of ``process_spider_output``.

        An async step may wait, and another page's callback run meanwhile: a step that finds another
        page named when it returns leaves both pages' links unknown rather than mixed.
        """
        store = self.store
        store.page_begin(response, record_links=getattr(self.crawler.spider, "links_replayable", False))
        output = aiter(result)
        while True:
            store.linking_from = response.url
            try:
                obj = await anext(output)
            except StopAsyncIteration:
                break
            except BaseException:
                store.links_unknown(response.url)
                raise
            finally:
                if store.linking_from != response.url:
                    store.links_unknown(store.linking_from)
                    store.links_unknown(response.url)
                store.linking_from = None
            yield self._tag(obj, response)
        store.page_end(response)
