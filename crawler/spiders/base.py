"""What every collegesearch spider shares: where its source lives, and safe use of page objects.

A spider only navigates. Its source's start URLs and sitemaps come from the sample site's
``sources.json`` (passed in by ``collegesearch crawl``, or fetched here under a plain
``scrapy crawl``) or from a site profile; a source that names no sitemap gets the ones its hosts'
robots.txt announces. Sitemaps are read by ``crawler.sitemaps`` (gzip, index or urlset by the root
element, ``lastmod``, size and nesting caps); each page a sitemap lists is requested with its
``lastmod`` in ``meta["sitemap_lastmod"]``. Extraction belongs to the page objects in
``crawler/pages``; ``items_of`` calls them, skips extraction for pages unchanged since the last
crawl (``not_modified``), and turns a page-object exception into a counted, logged drop instead
of a crashed callback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import Request, signals

from crawler.sitemaps import (
    SitemapDocument,
    SitemapEntry,
    SitemapError,
    read_sitemap,
    sitemaps_from_robots,
    sitemaps_of_robot_parser,
)
from crawler.urls import canonical_url, fingerprint_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response, TextResponse

    from crawler.crawl_store import CrawlStore
    from crawler.freshness import PageLink
    from model.items import Item

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _as_info(value: Any) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):  # `scrapy crawl x -a source_info='{...}'`
        value = json.loads(value)
    return dict(value)


def sitemap_meta(entry: SitemapEntry, **meta: Any) -> dict[str, Any]:
    """Request meta for a page a sitemap lists: ``sitemap_lastmod`` (an aware datetime) when the sitemap gave one.

    The crawl keeps it for its own use (deciding freshness); the page record has no column for it.
    """
    if entry.lastmod is not None:
        meta["sitemap_lastmod"] = entry.lastmod
    return meta


class CatalogSpider(scrapy.Spider):
    """Base spider: source discovery, start requests, sitemaps, page-object guards."""

    source: ClassVar[str] = ""
    """The source this spider crawls (its runs, items and pages carry this name)."""
    links_replayable: ClassVar[bool] = False
    """True when the callbacks only yield items and follow plain links (``follow(url, priority=..., meta={"leaf": ...})``,
    or what ``follow_again`` rebuilds): the links of a page read once can then be followed again without reading
    the page (``links_again``, and pages a scheduled crawl skips). A page whose callback keeps other state (bls_ooh's
    A-Z index) must not be passed to ``links_again``."""
    replay_rebuilds: ClassVar[frozenset[str]] = frozenset()
    """``follow`` arguments (``cb_kwargs``) and meta keys this spider's ``follow_again`` makes anew for a
    stored link, so a link carrying them can still be stored."""

    def __init__(self, *args: Any, source_info: Any = None, base_url: str | None = None, sample_site: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source_info = _as_info(source_info)
        # True when the source is the bundled sample site's (its sources.json said where): those
        # loopback hosts are crawled without delay. A user's profile never is, whatever its host.
        self.sample_site = sample_site in (True, "1", "true", "yes")
        self.base_url = base_url.rstrip("/") if base_url else None
        self.fatal_error: str | None = None
        self._requested: set[str] = set()
        self._skipped: set[str] = set()
        """Leaf pages a scheduled crawl left alone (not due): their items were counted as seen."""
        self._lastmod_keys: set[str] = set()
        """Pages requested with a sitemap lastmod (so the schedule has seen it)."""
        self._drop_params: tuple[str, ...] | None = None
        self._replaying = 0  # > 0 while following a skipped page's stored links (not the running page's own)
        self._robots_hosts: set[str] = set()
        """Start hosts whose robots.txt is still to name the sitemaps (none are configured)."""
        self._apply_info()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> CatalogSpider:
        """Build the spider; under a plain `scrapy crawl`, ask the sample site where the source lives."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.source_info is None and spider.needs_sample_site():
            spider._discover(crawler)
        return spider

    def needs_sample_site(self) -> bool:
        """True when the source is served by the bundled sample site (built-in sources)."""
        return True

    def _discover(self, crawler: Crawler) -> None:
        from crawler.sources import CrawlError, discover_sample_site

        known = crawler.settings.getdict("COLLEGESEARCH_SOURCES")
        if self.source in known:
            self.source_info = dict(known[self.source])
        else:
            cfg = crawler.settings.get("COLLEGESEARCH_CONFIG")
            base = self.base_url or (cfg.SAMPLE_SITE_URL if cfg else None) or "http://127.0.0.1:8800"
            try:
                served = discover_sample_site(base, timeout=5, user_agent=crawler.settings.get("USER_AGENT"))
            except CrawlError as exc:
                self.fatal_error = str(exc)
                return
            if self.source not in served:
                self.fatal_error = f"the sample site at {base} does not serve {self.source}"
                return
            self.source_info = dict(served[self.source])
        self.sample_site = True
        self._apply_info()

    def _apply_info(self) -> None:
        info = self.source_info or {}
        hosts = {urlsplit(u).hostname for u in [info.get("base_url") or "", *info.get("start_urls", [])]}
        hosts.discard(None)
        hosts.discard("")
        if hosts:
            self.allowed_domains = sorted(h for h in hosts if h)

    # -- start ---------------------------------------------------------------------------

    @property
    def store(self) -> CrawlStore:
        """The crawl's catalog store (counts drops, knows the run)."""
        from crawler.crawl_store import CrawlStore

        return CrawlStore.of(self.crawler)

    @property
    def site_base(self) -> str:
        """The source's base URL."""
        info = self.source_info or {}
        base = info.get("base_url") or (info.get("start_urls") or [""])[0]
        parts = urlsplit(base)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme else ""

    def start_urls_of(self) -> list[str]:
        """The source's start URLs."""
        return list((self.source_info or {}).get("start_urls") or [])

    def sitemap_urls_of(self) -> list[str]:
        """The source's sitemaps."""
        return list((self.source_info or {}).get("sitemap_urls") or [])

    async def start(self) -> AsyncIterator[Any]:
        """Start requests (nothing when the source could not be found: the run fails with why)."""
        if self.fatal_error:
            logger.error("%s: %s", self.source, self.fatal_error)
            return
        start_urls, sitemap_urls = self.start_urls_of(), self.sitemap_urls_of()
        self.watch_robots_sitemaps(start_urls, sitemap_urls)
        for request in self.start_requests_for(start_urls, sitemap_urls):
            yield request

    def start_requests_for(self, start_urls: list[str], sitemap_urls: list[str]) -> Iterable[Request]:
        """The start pages (listings), then the sitemaps, which add pages a listing might miss."""
        for url in start_urls:
            yield from self.follow(url)
        yield from self.sitemap_start_requests(start_urls, sitemap_urls)

    def watch_robots_sitemaps(self, start_urls: list[str], sitemap_urls: list[str]) -> None:
        """Without configured sitemaps, read the ``Sitemap:`` lines of the start hosts' robots.txt.

        Called before the first start request: Scrapy's RobotsTxtMiddleware fetches a host's
        robots.txt ahead of that host's first request, and its ``robots_parsed`` signal hands over
        the parsed file, so robots.txt is not downloaded twice (``sitemap_start_requests`` asks
        for it only when robots.txt is not obeyed, so the middleware is off).
        """
        if sitemap_urls:
            return
        self._robots_hosts = {urlsplit(u).netloc for u in start_urls if self.same_site(u)}
        if self._robots_hosts and self.settings.getbool("ROBOTSTXT_OBEY"):
            self.crawler.signals.connect(self._robots_parsed, signal=signals.robots_parsed)

    def sitemap_start_requests(self, start_urls: list[str], sitemap_urls: list[str]) -> Iterable[Request]:
        """The configured sitemaps; without any and with robots.txt not obeyed, the start hosts' robots.txt."""
        for url in sitemap_urls:
            yield from self.sitemap_request(url, depth=0)
        if not sitemap_urls and not self.settings.getbool("ROBOTSTXT_OBEY"):
            for url in start_urls:
                if urlsplit(url).netloc in self._robots_hosts:
                    yield from self.robots_request(urljoin(url, "/robots.txt"))

    def robots_request(self, url: str) -> list[Request]:
        """A request for robots.txt whose callback reads its ``Sitemap:`` lines (bookkeeping, not a page)."""
        return self.follow(url, self.parse_robots, priority=-10, meta={"dont_obey_robotstxt": True, "page_cache": False})

    def _robots_parsed(self, robotparser: Any, request: Request, **kwargs: Any) -> None:
        for sitemap in self.robots_parsed_requests(robotparser, request):
            self.crawler.engine.crawl(sitemap)

    def robots_parsed_requests(self, robotparser: Any, request: Request) -> list[Request]:
        """The sitemap requests a start host's robots.txt (parsed by RobotsTxtMiddleware) announces."""
        parts = urlsplit(request.url)
        if parts.netloc not in self._robots_hosts:
            return []
        self._robots_hosts.discard(parts.netloc)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        urls = sitemaps_of_robot_parser(robotparser, robots_url)
        # A ROBOTSTXT_PARSER that keeps its Sitemap: lines to itself: read the file once more.
        return self.robots_request(robots_url) if urls is None else self._robots_sitemaps(urls, robots_url)

    def parse(self, response: Response, **kwargs: Any) -> Any:  # pragma: no cover - subclasses route
        """Subclasses route each page to its callback."""
        raise NotImplementedError

    # -- guarded use of page objects -----------------------------------------------------------

    def extract_enabled(self, response: Response) -> bool:
        """False for pages unchanged since the last crawl (their items are only touched)."""
        return "not_modified" not in response.flags or bool(response.meta.get("reextract"))

    def links_again(self, response: Response) -> list[Request] | None:
        """For an unchanged page (304, or a stored copy) whose links were stored when it was last
        read: those links, followed again without parsing the page; else None (parse it).

        Only in a scheduled crawl of a spider whose callbacks do nothing but yield items and
        follow plain links (``links_replayable``); ``crawl --full`` reads every page again, which
        also refreshes the stored links after a change to a spider's navigation code.
        """
        if not self.links_replayable or "not_modified" not in response.flags or response.meta.get("reextract"):
            return None
        store = self._schedule_store()
        if store is None:
            return None
        from crawler.freshness import decode_links

        links = decode_links(response.meta.get("stored_links"))
        if links is None:
            return None
        store.links_unknown(response.url)  # nothing read from it now: keep what is stored
        self.crawler.stats.inc_value("collegesearch/pages/links_reused")
        return self._replay(links)

    def unchanged_leaf(self, response: Response) -> bool:
        """True for an unchanged page (304) whose links this spider never follows ("leaf" pages
        such as profiles): its items are only touched, so it need not even be parsed."""
        return bool(response.meta.get("leaf")) and not self.extract_enabled(response)

    def items_of(self, page: Any, response: Response, method: str = "to_items") -> list[Item]:
        """The page object's items, or [] when unchanged (304) or when extraction fails (counted)."""
        if not self.extract_enabled(response):
            return []
        try:
            return list(getattr(page, method)())
        except Exception as exc:  # noqa: BLE001 - a hostile page must not stop the crawl
            self.store.count_drop(f"extract_error:{type(exc).__name__}", response.url, str(exc)[:300])
            self.store.protect(response.url)  # its records stay (present, not seen) until the page reads again
            return []

    def safely(self, func: Callable[[], T], default: Any, response: Response, what: str = "links") -> T:
        """Call a page object's navigation method; a failure is logged and counted, not raised."""
        try:
            return func()
        except Exception as exc:  # noqa: BLE001
            self.crawler.stats.inc_value(f"collegesearch/navigation_errors/{type(exc).__name__}")
            self.links_unknown()  # what this page links to was not all read: never skip it for its links
            logger.warning("%s: could not read %s from %s: %s: %s", self.source, what, response.url,
                           type(exc).__name__, str(exc)[:300])
            return default  # type: ignore[no-any-return]

    def read_page(self, response: TextResponse, page_for: Callable[..., Any]) -> Any:
        """The page object a page module's ``page_for`` picks for a response (None when it fails: logged, counted)."""
        return self.safely(lambda: page_for(response.url, response.text, response.headers, source=self.source),
                           None, response, "the page")

    def follow_pages(self, page: Any, response: Response) -> Iterable[Request]:
        """A listing's next page and its other pagination links (ahead of detail pages)."""
        following = self.safely(page.next_page, None, response, "the next page")
        pages: list[str | None] = [following, *self.safely(page.page_links, [], response, "pagination")]
        for link in pages:
            yield from self.follow(link, priority=10)

    def page(self, cls: Any, response: Response) -> Any:
        """A page object for a response (source set to this spider's)."""
        return cls.from_response(response, source=self.source)

    def follow(self, url: str | None, callback: Any = None, *, priority: int = 0, **kwargs: Any) -> list[Request]:
        """A request for a same-site URL this spider has not asked for yet (else nothing).

        Listings repeat the same pager and detail links on every page; dropping the repeats here
        saves building thousands of requests the duplicate filter would discard anyway. In a
        scheduled crawl (``crawler.freshness``) a leaf page (``meta["leaf"]``) that is not due is
        not requested at all (its items are counted as seen in a batch), and a page whose sitemap
        lastmod is newer than our copy is always fetched, even when a link or a redirect already
        reached it and the page cache answered for it.
        """
        if not url or not self.same_site(url):
            return []
        key = fingerprint_url(url)
        meta = kwargs.get("meta") or {}
        lastmod = meta.get("sitemap_lastmod")
        crawl_store = self._store()
        self._record_link(crawl_store, url, callback, priority, kwargs, meta)
        store = self._schedule_store(crawl_store)
        page_url = self._page_url(url) if store is not None else url
        if (store is not None and lastmod is not None and key not in self._lastmod_keys
                and store.schedule.changed_since(page_url, lastmod)):  # type: ignore[union-attr]
            # dont_filter: an earlier link (or a redirect to this page) may have been answered from the
            # cache already; neither our repeat check nor Scrapy's duplicate filter may drop this one.
            self._lastmod_keys.add(key)
            self._requested.add(key)
            self._skipped.discard(key)
            self.crawler.stats.inc_value("collegesearch/pages/lastmod_newer")
            return [Request(url, callback=callback or self.parse, priority=priority,
                            **{**kwargs, "meta": {**meta, "force_fetch": True}, "dont_filter": True})]
        if key in self._requested or (key in self._skipped and not meta.get("force_fetch")):
            return []
        if (store is not None and not meta.get("force_fetch") and not meta.get("reextract")
                and store.schedule.may_skip(page_url, lastmod)):  # type: ignore[union-attr]
            # A leaf, or a page whose links we stored when we last read it: no need to read it now.
            links = None if meta.get("leaf") else store.schedule.links(page_url)  # type: ignore[union-attr]
            if meta.get("leaf") or links is not None:
                store.skip_not_due(page_url)
                self._skipped.add(key)
                if links is None:
                    return []
                self.crawler.stats.inc_value("collegesearch/pages/links_reused")
                return self._replay(links)
        self._skipped.discard(key)
        self._requested.add(key)
        if lastmod is not None:
            self._lastmod_keys.add(key)
        return [Request(url, callback=callback or self.parse, priority=priority, **kwargs)]

    def _record_link(self, store: CrawlStore | None, url: str, callback: Any, priority: int,
                     kwargs: dict[str, Any], meta: dict[str, Any]) -> None:
        """Tell the store that the page being read links to ``url`` (kept for pages with records).

        Only a plain link (this spider's ``parse``, a priority, maybe ``leaf``) can be followed
        again without the page; anything else leaves the page's links unknown, so a scheduled
        crawl reads the page from the cache as before.
        """
        from crawler.freshness import PageLink

        if not self.links_replayable or self._replaying or store is None or store.linking_from is None:
            return
        plain = (callback in (None, self.parse) and not kwargs.keys() - {"meta"} - self.replay_rebuilds
                 and not meta.keys() - {"leaf", "force_fetch"} - self.replay_rebuilds)
        if plain:
            store.note_link(PageLink(url, priority, bool(meta.get("leaf"))))
        else:
            store.links_unknown()

    def links_unknown(self) -> None:
        """The page being read leads somewhere its stored links could not say: it is parsed again next time."""
        store = None if self._replaying else self._store()
        if store is not None:  # (while following a stored page's links, nothing is the running page's)
            store.links_unknown()

    def follow_again(self, link: PageLink) -> list[Request]:
        """Follow a stored link as reading its page would have (a spider whose links carry more overrides this)."""
        return self.follow(link.url, priority=link.priority, meta={"leaf": True} if link.leaf else None)

    def _replay(self, links: list[PageLink]) -> list[Request]:
        """Follow a page's stored links, as reading the page would have."""
        self._replaying += 1
        try:
            return [request for link in links for request in self.follow_again(link)]
        finally:
            self._replaying -= 1

    def _store(self) -> CrawlStore | None:
        """The crawl's store (None outside a crawl)."""
        from crawler.crawl_store import CrawlStore

        crawler = getattr(self, "crawler", None)
        return CrawlStore.existing(crawler) if crawler is not None else None

    def _schedule_store(self, store: CrawlStore | None = None) -> CrawlStore | None:
        """The crawl's store (``store``, else looked up) when it runs a scheduled crawl (None in a full crawl or
        outside a crawl)."""
        store = store or self._store()
        return store if store is not None and store.schedule is not None and store.is_open else None

    def _page_url(self, url: str) -> str:
        """The URL a page is stored under (what the request middleware makes of a link)."""
        if self._drop_params is None:
            extra = self.crawler.settings.getlist("CANONICAL_EXTRA_DROP_PARAMS") if hasattr(self, "crawler") else []
            self._drop_params = tuple(e.lower() for e in extra)
        return canonical_url(url, self._drop_params)

    def fetched_meta(self, response: Response) -> dict[str, Any]:
        """Meta for the continuation pages of a page that was just downloaded new or changed.

        Such pages (a school's later review pages) change together with the page that lists
        them, so a scheduled crawl checks them even when they are not due.
        """
        return {} if "not_modified" in response.flags else {"force_fetch": True}

    def same_site(self, url: str | None) -> bool:
        """True for URLs on the source's own host(s)."""
        if not url:
            return False
        host = urlsplit(url).hostname
        return not self.allowed_domains or host in self.allowed_domains

    # -- sitemaps (read by crawler.sitemaps) ------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterable[Request]:
        """The sitemaps a robots.txt announces (``Sitemap:`` lines), read like configured ones."""
        return self._robots_sitemaps(sitemaps_from_robots(response.body, response.url), response.url)

    def _robots_sitemaps(self, urls: list[str], robots_url: str) -> list[Request]:
        self.crawler.stats.inc_value("collegesearch/sitemaps/from_robots", len(urls))
        if not urls:
            logger.info("%s: %s names no sitemap", self.source, robots_url)
        return [request for url in urls for request in self.sitemap_request(url, depth=0)]

    def sitemap_request(self, url: str, depth: int) -> list[Request]:
        """A request for a sitemap (or sitemap index) ``depth`` indexes below a configured one."""
        # Scrapy's per-request download cap, so a plain sitemap up to the sitemaps.org limit is not
        # cut off by DOWNLOAD_MAXSIZE (meant for pages); what it holds once gunzipped is capped in read_sitemap.
        return self.follow(url, self.parse_sitemap, priority=-10,
                           meta={"sitemap_depth": depth, "download_maxsize": self.settings.getint("SITEMAP_MAX_SIZE")})

    def parse_sitemap(self, response: Response) -> Iterable[Request]:
        """A sitemap index's sitemaps (by the root element, whatever the URL), or a urlset's pages.

        An unreadable sitemap costs only its shortcut: the listings still reach every page.
        """
        stats = self.crawler.stats
        try:
            sitemap = read_sitemap(response, self.settings.getint("SITEMAP_MAX_SIZE"))
        except SitemapError as exc:
            stats.inc_value("collegesearch/sitemaps/unreadable")
            logger.warning("%s: ignored sitemap %s: %s", self.source, response.url, exc)
            return
        stats.inc_value(f"collegesearch/sitemaps/{sitemap.type}")
        if sitemap.is_index:
            yield from self._nested_sitemaps(sitemap, response)
            return
        for entry in sitemap.entries:
            yield from self.follow_from_sitemap(entry)

    def _nested_sitemaps(self, index: SitemapDocument, response: Response) -> Iterable[Request]:
        depth = int(response.meta.get("sitemap_depth", 0)) + 1
        max_depth = self.settings.getint("SITEMAP_MAX_DEPTH")
        if depth > max_depth:
            self.crawler.stats.inc_value("collegesearch/sitemaps/too_deep")
            logger.warning("%s: sitemap index %s is nested more than SITEMAP_MAX_DEPTH=%d deep; its %d sitemaps "
                           "are not read", self.source, response.url, max_depth, len(index.entries))
            return
        here = fingerprint_url(response.url)
        for entry in index.entries:
            if fingerprint_url(entry.loc) == here:
                logger.warning("%s: sitemap index %s lists itself; not read again", self.source, response.url)
                continue
            # An index that loops back through others stops too: follow() asks for a URL once.
            yield from self.sitemap_request(entry.loc, depth)

    def follow_from_sitemap(self, entry: SitemapEntry) -> list[Request]:
        """A request for a page a sitemap names (after the listings' own links), carrying its lastmod."""
        return self.follow(entry.loc, priority=-5, meta=sitemap_meta(entry))

    allowed_domains: list[str] = []
