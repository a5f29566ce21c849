"""Downloader and spider middlewares: canonical URLs, retries with backoff, the page cache.

* ``canonical_url`` / ``CanonicalRequestFingerprinter``: one page, one URL. Tracking parameters,
  session ids and fragments are dropped, the query is sorted; the fingerprint also ignores a
  trailing slash, so ``/a`` and ``/a/`` are fetched once.
* ``CanonicalRequestsMiddleware`` rewrites every request the spider emits to its canonical URL
  and puts the sample site's own requests in their no-delay slot (AutoThrottle leaves it alone).
* ``CanonicalRedirectMiddleware`` follows redirects to canonical targets; ``RelCanonicalMiddleware``
  honours ``<link rel=canonical>``: a page that is a copy of one already crawled is skipped.
* ``BackoffRetryMiddleware`` retries transient errors (5xx, 429, timeouts) after a growing delay.
* ``PageCacheMiddleware`` makes recrawls incremental: it sends If-None-Match / If-Modified-Since
  from the catalog's page cache, turns a 304 into the stored page flagged ``not_modified`` (the
  spider still follows its links, the items are only touched), answers pages a killed run
  already stored from the cache (resume), tombstones a page's items on 404/410 and protects
  them on any other failure.
* ``PageTrackerMiddleware`` records a page in the cache only after all its items reached the
  catalog buffer, so a page is never marked "done" while its items could still be lost.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import random
import re
import time
import weakref
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Response, TextResponse
from scrapy.responsetypes import responsetypes
from scrapy.utils.asyncio import sleep
from w3lib.url import canonicalize_url

from crawler.crawl_store import CrawlStore
from crawler.settings import SAMPLE_SITE_SLOT

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from catalog import PageRecord

logger = logging.getLogger(__name__)

# Query parameters that identify a visitor or a campaign, never a page.
TRACKING_PARAMS = frozenset({
    "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "fbclid", "msclkid", "yclid", "igshid", "twclid",
    "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
    "vero_id", "wickedid", "rb_clickid", "s_cid", "ref_src", "spm",
    "sessionid", "session_id", "sessid", "sid", "jsessionid", "phpsessid", "aspsessionid", "cfid", "cftoken",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "aspsessionid")
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sessionid|sid)=[^/?#]*", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK_PREFIXES = ("127.",)


def is_tracking_param(name: str, extra: Iterable[str] = ()) -> bool:
    """True for query parameters that track visitors or sessions rather than select content."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES) or lowered in extra


def canonical_url(url: str, extra_drop: Iterable[str] = ()) -> str:
    """The one URL a page is fetched and stored under (see ``_canonical_url``)."""
    return _canonical_url(url, tuple(extra_drop))


@functools.lru_cache(maxsize=200_000)
def _canonical_url(url: str, extra_drop: tuple[str, ...] = ()) -> str:
    """The one URL a page is fetched and stored under.

    Lower-case scheme and host, no default port, no fragment, no tracking or session
    parameters (``utm_*``, ``gclid``, ``fbclid``, ``sessionid``, ``;jsessionid=``...), the query
    sorted and percent-encoding normalised (w3lib). The trailing slash is kept here, because a
    server may only answer one form; ``fingerprint_url`` treats both forms as the same page.
    """
    extra = {e.lower() for e in extra_drop}
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return url
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = _PATH_SESSION.sub("", parts.path) or "/"
    query = ""
    if parts.query:
        kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k, extra)]
        query = urlencode(kept)
    return canonicalize_url(urlunsplit((scheme, netloc, path, query, "")), keep_fragments=False)


def fingerprint_url(url: str, extra_drop: Iterable[str] = ()) -> str:
    """The canonical URL with a trailing slash removed (except the root): the page's identity."""
    return _fingerprint_url(url, tuple(extra_drop))


@functools.lru_cache(maxsize=200_000)
def _fingerprint_url(url: str, extra_drop: tuple[str, ...]) -> str:
    canonical = _canonical_url(url, extra_drop)
    parts = urlsplit(canonical)
    path = parts.path
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def is_loopback(url: str) -> bool:
    """True for URLs on this machine (the sample site): no politeness delay needed there."""
    host = (urlsplit(url).hostname or "").lower()
    return host == "localhost" or host.startswith(LOOPBACK_PREFIXES)


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


def _is_page_request(request: Request) -> bool:
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


class PageCacheMiddleware:
    """Conditional requests and resume from the catalog's page cache; failure bookkeeping."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.store = CrawlStore.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler."""
        return cls(crawler)

    def process_request(self, request: Request) -> Response | None:
        """Answer from the cache (resume) or add the stored validators to the request."""
        for header in ("If-None-Match", "If-Modified-Since"):
            request.headers.pop(header, None)
        request.meta.pop("_cached_page", None)
        if not _is_page_request(request) or not self.store.is_open:
            return None
        page = self.store.page_record(request.url)
        if page is None or page.body is None or page.gone_at is not None:
            return None
        if self.store.fetched_by_interrupted_run(page):
            # A killed run already stored this page and its items: continue from here
            # without the network, but still walk its links.
            self.crawler.stats.inc_value("collegesearch/pages/resumed")
            return rebuild_response(request, page, ["not_modified", "resumed"])
        request.meta["_cached_page"] = page
        if page.etag:
            request.headers["If-None-Match"] = page.etag
        if page.last_modified:
            request.headers["If-Modified-Since"] = page.last_modified
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        """304 -> the stored page (flagged); 404/410 -> tombstone; other failures -> protect."""
        if not _is_page_request(request) or "resumed" in response.flags:
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
        if not _is_page_request(request):
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


_REL_CANONICAL = re.compile(rb"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(rb"\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)


def rel_canonical(response: Response) -> str | None:
    """The absolute ``<link rel=canonical>`` URL of an HTML page, if it declares one."""
    if not isinstance(response, TextResponse) or b"html" not in (response.headers.get("Content-Type") or b"html"):
        return None
    head = response.body[:65536]
    match = _REL_CANONICAL.search(head)
    if not match:
        return None
    href = _HREF.search(match.group(0))
    if not href:
        return None
    raw = next(g for g in href.groups() if g is not None).strip()
    if not raw:
        return None
    try:
        text = raw.decode(response.encoding or "utf-8", "replace")
    except LookupError:
        text = raw.decode("utf-8", "replace")
    import html

    return urljoin(response.url, html.unescape(text))


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
        if response.status != 200 or not _is_page_request(request):
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


class PageTrackerMiddleware:
    """Spider middleware: tell the store when every item of a page has been handled.

    Items carry the URL of their page (``item._page_url``); the store counts them in and out
    (item_scraped / item_dropped / item_error) and records the page in the cache only when the
    callback is exhausted and the count is back to zero.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.store = CrawlStore.of(crawler)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self._item_done, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler."""
        return cls(crawler)

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
        """Pass everything through; mark the page done when the callback is exhausted."""
        self.store.page_begin(response)
        for obj in result:
            yield self._tag(obj, response)
        self.store.page_end(response)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Async variant of ``process_spider_output``."""
        self.store.page_begin(response)
        async for obj in result:
            yield self._tag(obj, response)
        self.store.page_end(response)
