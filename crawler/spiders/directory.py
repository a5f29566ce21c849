"""Accredited programs from an accreditor's program directory (CAHIIM style).

Navigation: the unfiltered listing and its pagination reach every program; each row links to a
detail page, the only page that yields the ``Program`` (a listing row lacks the dates). The
state / degree / delivery filter views list the same programs again, so they are not crawled.
The directory shows no IPEDS id: the linkage pipeline finds the institution by name, city, state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.http import TextResponse

from crawler.pages.directory import DirectoryListingPage, DirectoryProgramPage, page_for
from crawler.spiders.base import CatalogSpider

if TYPE_CHECKING:
    from scrapy.http import Response


class DirectorySpider(CatalogSpider):
    """Crawl the program directory (source ``directory``)."""

    name = "directory"
    source = "directory"

    def start_requests_for(self, start_urls: list[str], sitemap_urls: list[str]) -> Iterable[Request]:
        """The listing(s); sitemaps add detail pages a listing might miss."""
        for url in start_urls:
            yield from self.follow(url)
        for url in sitemap_urls:
            yield from self.follow(url, self.parse_sitemap, priority=-10)

    def parse(self, response: Response, **kwargs: Any) -> Any:
        """A listing (follow programs and pages), a program (its item), or a home page (its listing)."""
        if not isinstance(response, TextResponse) or self.unchanged_leaf(response):
            return
        page = self.safely(lambda: page_for(response.url, response.text, response.headers, source=self.source),
                           None, response, "the page")
        if isinstance(page, DirectoryProgramPage):
            yield from self.items_of(page, response)
            return
        if page is None:
            return
        for url in self.safely(page.detail_links, [], response, "program links"):
            yield from self.follow(url, priority=5, meta={"leaf": True})
        if isinstance(page, DirectoryListingPage):
            following = self.safely(page.next_page, None, response, "the next page")
            pages: list[str | None] = [following, *self.safely(page.page_links, [], response, "pagination")]
            for link in pages:
                yield from self.follow(link, priority=10)

    def parse_sitemap(self, response: Response) -> Iterable[Request]:
        """Pages the sitemap names (nested sitemaps are followed)."""
        for url in self.sitemap_urls_in(response):
            if url.endswith(".xml"):
                yield from self.follow(url, self.parse_sitemap, priority=-10)
            else:
                yield from self.follow(url, priority=-5)
