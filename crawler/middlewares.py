"""Downloader and spider middlewares for requests: canonical URLs, retries with backoff, per-host limits.

* ``CanonicalRequestFingerprinter``: request fingerprints from the canonical URL
  (``crawler.urls``), so duplicates that differ only in tracking noise are fetched once.
* ``CanonicalRequestsMiddleware`` rewrites every request the spider emits to its canonical URL
  and puts the sample site's own requests in their no-delay slot (AutoThrottle leaves it alone).
* ``CanonicalRedirectMiddleware`` follows redirects to canonical targets; ``RelCanonicalMiddleware``
  honours ``<link rel=canonical>``: a page that is a copy of one already crawled is skipped.
* ``BackoffRetryMiddleware`` retries transient errors (5xx, 429, timeouts) after a growing delay.
* ``SlotConcurrencyMiddleware`` holds each host to its configured concurrency.

The page cache (conditional requests, resume, page bookkeeping) is in ``crawler.page_cache``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
import weakref
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.asyncio import sleep

from crawler.page_cache import is_page_request
from crawler.settings import SAMPLE_SITE_SLOT
from crawler.urls import canonical_url, fingerprint_url, is_loopback, rel_canonical

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class CanonicalRequestFingerprinter:
    """Request fingerprints from the canonical URL, so duplicates differ only in tracking noise."""

    def __init__(self, crawler: Crawler | None = None) -> None:
        extra = crawler.settings.getlist("CANONICAL_EXTRA_DROP_PARAMS") if crawler else []
        self.extra = tuple(e.lower() for e in extra)
        self._cache: weakref.WeakKeyDictionary[Request, bytes] = weakref.WeakKeyDictionary()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler's settings."""
        return cls(crawler)

    def fingerprint(self, request: Request) -> bytes:
        """SHA1 of method, canonical URL (trailing slash ignored) and body."""
        cached = self._cache.get(request)
        if cached is None:
            digest = hashlib.sha1()
            digest.update(request.method.encode())
            digest.update(b"\0" + fingerprint_url(request.url, self.extra).encode())
            digest.update(b"\0" + (request.body or b""))
            cached = digest.digest()
            self._cache[request] = cached
        return cached


class CanonicalRequestsMiddleware:
    """Spider middleware: every request leaves the spider with its canonical URL."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.extra = tuple(e.lower() for e in crawler.settings.getlist("CANONICAL_EXTRA_DROP_PARAMS"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler."""
        return cls(crawler)

    def _fix(self, obj: Any) -> Any:
        if not isinstance(obj, Request):
            return obj
        url = canonical_url(obj.url, self.extra)
        if url != obj.url:
            self.crawler.stats.inc_value("collegesearch/canonical/rewritten")
            obj = obj.replace(url=url)
        spider = self.crawler.spider
        if getattr(spider, "sample_site", False) and is_loopback(url) and getattr(spider, "same_site", bool)(url):
            # The sample site's own pages: its slot has no delay and SAMPLE_SITE_CONCURRENCY; AutoThrottle
            # must not add a delay from latency. Anything else keeps the real-site politeness.
            host = urlsplit(url).hostname or ""
            obj.meta.setdefault("download_slot", SAMPLE_SITE_SLOT.format(host=host))
            obj.meta.setdefault("autothrottle_dont_adjust_delay", True)
        return obj

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Canonicalise start requests."""
        async for obj in start:
            yield self._fix(obj)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        """Canonicalise requests from a callback."""
        for obj in result:
            yield self._fix(obj)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Canonicalise requests from an async callback."""
        async for obj in result:
            yield self._fix(obj)


class CanonicalRedirectMiddleware(RedirectMiddleware):
    """Follow redirects to the canonical form of their target.

    A redirect from ``/a`` to ``/a/`` (or from a tracking URL to the clean one) has the same
    fingerprint as the request it came from; it must not be dropped as a duplicate.
    """

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        canonical = canonical_url(redirected.url)
        if canonical != redirected.url:
            redirected = redirected.replace(url=canonical)
        try:
            result = super()._redirect(redirected, request, reason)
        except IgnoreRequest:
            self.crawler.stats.inc_value("collegesearch/skipped/redirect_loop")
            logger.warning("skipped %s: more than %s redirects (a redirect loop?)", request.url,
                           self.max_redirect_times)
            raise
        if fingerprint_url(result.url) == fingerprint_url(request.url):
            result.dont_filter = True
        # The page cache sends the target's own validators; the source's must not leak along.
        for header in ("If-None-Match", "If-Modified-Since"):
            result.headers.pop(header, None)
        self.crawler.stats.inc_value("collegesearch/redirects")
        return result


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries (5xx, 429, timeouts, lost connections), each after a growing, jittered delay."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("CRAWL_RETRY_BACKOFF_BASE", 0.5)
        self.cap = settings.getfloat("CRAWL_RETRY_BACKOFF_MAX", 30.0)

    def _retry(self, request: Request, reason: str | Exception | type[Exception]) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None and self.base > 0:
            attempt = retry.meta.get("retry_times", 1)
            delay = min(self.cap, self.base * 2 ** (attempt - 1)) * random.uniform(0.75, 1.25)  # noqa: S311
            retry.meta["retry_not_before"] = time.monotonic() + delay
        return retry

    async def process_request(self, request: Request) -> None:
        """Wait out the backoff of a retried request before it is downloaded."""
        not_before = request.meta.get("retry_not_before")
        if not_before is not None:
            wait = not_before - time.monotonic()
            if wait > 0:
                await sleep(wait)
        return None


class SlotConcurrencyMiddleware:
    """Hold every download slot (host) to its configured concurrency.

    Scrapy 2.19's downloader, on the asyncio reactor, schedules each queued request of a slot as
    a task and only counts it as transferring once the task runs, so when several requests are
    queued at once it starts them all: we measured 10-11 parallel requests to a host configured
    for 8. A semaphore per slot, taken just before the download handler and given back as soon
    as the response (or error) arrives, restores the limit: CONCURRENT_REQUESTS_PER_HOST on real
    sites, SAMPLE_SITE_CONCURRENCY on the sample site.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._gates: dict[str, asyncio.Semaphore] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler (a no-op without asyncio, where downloads start one by one)."""
        from scrapy.exceptions import NotConfigured
        from scrapy.utils.asyncio import is_asyncio_available

        if not is_asyncio_available():
            raise NotConfigured("per-slot limit already exact without asyncio")
        return cls(crawler)

    def _gate(self, request: Request) -> tuple[str, asyncio.Semaphore]:
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        gate = self._gates.get(key)
        if gate is None:
            conc = downloader.per_slot_settings.get(key, {}).get(
                "concurrency", downloader.ip_concurrency or downloader.domain_concurrency)
            gate = self._gates[key] = asyncio.Semaphore(max(1, int(conc)))
        return key, gate

    async def process_request(self, request: Request) -> None:
        """Wait for a free place in the request's slot."""
        _key, gate = self._gate(request)
        await gate.acquire()
        request.meta["_slot_gate"] = gate
        return None

    def _release(self, request: Request) -> None:
        gate = request.meta.pop("_slot_gate", None)
        if gate is not None:
            gate.release()

    def process_response(self, request: Request, response: Response) -> Response:
        """The download is over: free its place."""
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """The download failed: free its place."""
        self._release(request)
        return None


class RelCanonicalMiddleware:
    """Honour ``<link rel=canonical>`` as a duplicate signal: a page whose canonical URL (same
    host) is one this crawl already processed, or the canonical of a page it processed, is a copy
    and is skipped.

    The page is not refetched under its canonical URL: real sites declare canonicals that
    redirect back to the page or do not resolve at all (the OOH home page names ``/ooh//home.htm``),
    so the canonical is trusted to identify content, never to be fetchable.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler."""
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        """Skip a page that duplicates one already processed under another URL."""
        if response.status != 200 or not is_page_request(request):
            return response
        own = fingerprint_url(response.url)
        target = rel_canonical(response)
        key = own
        if target and urlsplit(target).netloc == urlsplit(response.url).netloc:
            key = fingerprint_url(target)
        if key != own and key in self.seen:
            self.crawler.stats.inc_value("collegesearch/canonical/duplicate_skipped")
            logger.info("skipped %s: same page as its canonical %s, already crawled", response.url, target)
            raise IgnoreRequest(f"duplicate of {target}")
        self.seen.add(own)
        self.seen.add(key)
        return response
