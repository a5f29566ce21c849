"""Careers from the Occupational Outlook Handbook: home and group pages, the A-Z index, profiles.

Navigation: the A-Z index is read first (high priority), because it maps thousands of job
titles people use to occupations; every career request then carries its alternate titles,
which join the career's ``also_known_as``. Occupation links found before the index was read
wait for it (or for the crawl to go idle, if the index cannot be had). Group pages, the home
page and similar-occupation links reach any career the index misses.

Incremental recrawls: a career page answering 304 is normally not re-extracted (its item is only
touched). The aliases come from the A-Z page, though, so when the A-Z page itself changed, the
career pages are re-extracted from their stored bodies even on 304, and the upsert's content
hash keeps unchanged careers unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import TextResponse

from crawler.pages.bls_ooh import AZIndexPage, CareerPage, is_occupation_url, occupation_key, page_for, with_aliases
from crawler.spiders.base import CatalogSpider, sitemap_meta

if TYPE_CHECKING:
    from datetime import datetime

    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.freshness import PageLink
    from crawler.sitemaps import SitemapEntry

_AZ_RE = re.compile(r"/a-z-index\.html?$", re.I)


class BlsOohSpider(CatalogSpider):
    """Crawl the handbook's careers (source ``bls_ooh``)."""

    name = "bls_ooh"
    source = "bls_ooh"
    links_replayable = True
    replay_rebuilds = frozenset({"cb_kwargs", "reextract"})  # made anew by _career_request (follow_again)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aliases: dict[str, list[str]] | None = None
        self.az_fresh = False
        self._held: list[tuple[str, datetime | None]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> BlsOohSpider:
        """Build the spider and watch for idleness (release careers held for the A-Z index)."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, BlsOohSpider)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        return spider

    def start_requests_for(self, start_urls: list[str], sitemap_urls: list[str]) -> Iterable[Request]:
        """The A-Z index first, then the other start pages."""
        for url in sorted(start_urls, key=lambda u: not _AZ_RE.search(urlsplit(u).path)):
            yield from self.follow(url, priority=100 if _AZ_RE.search(urlsplit(url).path) else 0)
        yield from self.sitemap_start_requests(start_urls, sitemap_urls)

    # -- routing ---------------------------------------------------------------------------

    def _on_site(self, url: str) -> str | None:
        """Handbook links may be absolute to the real site; read them on this source's host."""
        if self.same_site(url):
            return url
        if is_occupation_url(url) or "/ooh/" in url:
            return self.site_base + urlsplit(url).path if self.site_base else None
        return None

    def parse(self, response: Response, **kwargs: Any) -> Any:
        """Route a handbook page by what it is."""
        if not isinstance(response, TextResponse):
            return
        if (again := self.links_again(response)) is not None:  # (never the A-Z index: see _parse_az)
            yield from again
            return
        page = self.read_page(response, page_for)
        if page is None:
            return
        if isinstance(page, AZIndexPage):
            yield from self._parse_az(page, response)
        elif isinstance(page, CareerPage):
            yield from self._parse_career(page, response, kwargs.get("aliases"))
        else:
            yield from self._follow_index(page, response)

    def follow_from_sitemap(self, entry: SitemapEntry) -> list[Request]:
        """An occupation page (or another handbook page) the sitemap lists."""
        fixed = self._on_site(entry.loc)
        if fixed and is_occupation_url(fixed):
            return list(self._career_request(fixed, entry.lastmod))
        # Only the handbook's own pages: a sitemap found through robots.txt covers the whole host
        # (all of bls.gov on the real site).
        if fixed and urlsplit(fixed).path.startswith("/ooh/") and fixed.endswith((".htm", ".html")):
            return self.follow(fixed, meta=sitemap_meta(entry))
        return []

    def _parse_az(self, page: AZIndexPage, response: Response) -> Iterable[Request]:
        # Always read, never replayed from stored links: it names every career's other titles.
        self.links_unknown()
        by_key = self.safely(page.aliases_by_key, {}, response, "the A-Z aliases")
        first = self.aliases is None
        self.aliases = {**(self.aliases or {}), **by_key}
        self.az_fresh = self.az_fresh or "not_modified" not in response.flags
        self.crawler.stats.set_value("collegesearch/bls_ooh/az_aliases", sum(len(v) for v in self.aliases.values()))
        for _alias, url in self.safely(page.entries, [], response, "the A-Z entries"):
            fixed = self._on_site(url)
            if fixed:
                yield from self._career_request(fixed)
        if first:
            held, self._held = self._held, []
            for url, lastmod in held:
                yield from self._career_request(url, lastmod)
        yield from self._follow_index(page, response)

    def _parse_career(self, page: CareerPage, response: Response, aliases: list[str] | None) -> Iterable[Any]:
        items = self.items_of(page, response)
        if items:
            known = aliases if aliases is not None else (self.aliases or {}).get(occupation_key(response.url), [])
            yield from with_aliases(items, known)
        # Only the similar-occupation links: every profile also carries the handbook's whole
        # navigation (hundreds of links), which the index and group pages already cover.
        for url in self.safely(page.similar_occupation_links, [], response, "similar occupations"):
            fixed = self._on_site(url)
            if fixed:
                yield from self._career_request(fixed)

    def _follow_index(self, page: Any, response: Response) -> Iterable[Request]:
        for url in self.safely(page.index_links, [], response, "index links"):
            fixed = self._on_site(url)
            if fixed:
                yield from self.follow(fixed, priority=100 if _AZ_RE.search(fixed) else 10)
        for url in self.safely(page.group_links, [], response, "group links"):
            fixed = self._on_site(url)
            if fixed:
                yield from self.follow(fixed, priority=10)
        for url in self.safely(page.occupation_links, [], response, "occupation links"):
            fixed = self._on_site(url)
            if fixed:
                yield from self._career_request(fixed)

    def follow_again(self, link: PageLink) -> list[Request]:
        """A stored link to a career goes through ``_career_request`` (its aliases and re-extraction as of now)."""
        if is_occupation_url(link.url):
            return list(self._career_request(link.url))
        return super().follow_again(link)

    def _career_request(self, url: str, lastmod: datetime | None = None) -> Iterable[Request]:
        if self.aliases is None:
            self._held.append((url, lastmod))  # wait for the A-Z index, which names the career's other titles
            self.links_unknown()  # (not followed from this page yet: its links are not stored this time)
            return
        meta: dict[str, Any] = {"reextract": self.az_fresh}
        if lastmod is not None:
            meta["sitemap_lastmod"] = lastmod
        yield from self.follow(url, cb_kwargs={"aliases": self.aliases.get(occupation_key(url), [])}, meta=meta)

    def _idle(self, spider: Any) -> None:
        """No A-Z index came (missing or failed): crawl the held careers without its aliases."""
        if spider is not self or not self._held:
            return
        self.aliases = self.aliases or {}
        held, self._held = self._held, []
        for url, lastmod in held:
            for request in self._career_request(url, lastmod):
                self.crawler.engine.crawl(request)
        raise DontCloseSpider
