"""Institutions and their accredited programs from College Navigator.

Navigation: the state result listings (start URLs, or the sitemap), their pagination, then one
profile page per institution. A profile yields the ``Institution`` and one ``Program`` per
programmatic accreditation (the page module decides what each row means).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.http import TextResponse

from crawler.pages.collegenavigator import InstitutionPage, ResultsPage, page_for, unitid_from_url
from crawler.spiders.base import CatalogSpider

if TYPE_CHECKING:
    from scrapy.http import Response


class CollegenavigatorSpider(CatalogSpider):
    """Crawl institutions and programs (source ``collegenavigator``)."""

    name = "collegenavigator"
    source = "collegenavigator"

    def start_requests_for(self, start_urls: list[str], sitemap_urls: list[str]) -> Iterable[Request]:
        """Listings first; the sitemap (if any) adds profiles a listing might miss."""
        for url in start_urls:
            yield from self.follow(url)
        for url in sitemap_urls:
            yield from self.follow(url, self.parse_sitemap, priority=-10)

    def parse(self, response: Response, **kwargs: Any) -> Any:
        """A listing (follow its profiles and pages) or a profile (its items)."""
        if not isinstance(response, TextResponse) or self.unchanged_leaf(response):
            return
        page = self.safely(lambda: page_for(response.url, response.text, response.headers, source=self.source),
                           None, response, "the page")
        if isinstance(page, InstitutionPage):
            yield from self.items_of(page, response)
        elif isinstance(page, ResultsPage):
            yield from self._follow_listing(page, response)

    def _follow_listing(self, page: ResultsPage, response: Response) -> Iterable[Request]:
        for url in self.safely(page.detail_links, [], response, "profile links"):
            yield from self.follow(url, priority=5, meta={"leaf": True})
        following = self.safely(page.next_page, None, response, "the next page")
        pages: list[str | None] = [following, *self.safely(page.page_links, [], response, "pagination")]
        for link in pages:
            yield from self.follow(link, priority=10)

    def parse_sitemap(self, response: Response) -> Iterable[Request]:
        """Profiles and listings the sitemap names (nested sitemaps are followed)."""
        for url in self.sitemap_urls_in(response):
            if url.endswith(".xml"):
                yield from self.follow(url, self.parse_sitemap, priority=-10)
            else:
                leaf = unitid_from_url(url) is not None
                yield from self.follow(url, priority=5 if leaf else 10, meta={"leaf": leaf})
