"""Institutions and their accredited programs from College Navigator.

Navigation: the state result listings (start URLs, or the sitemap), their pagination, then one
profile page per institution. A profile yields the ``Institution`` and one ``Program`` per
programmatic accreditation (the page module decides what each row means).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import TextResponse

from crawler.pages.collegenavigator import InstitutionPage, ResultsPage, page_for, unitid_from_url
from crawler.spiders.base import CatalogSpider, sitemap_meta

if TYPE_CHECKING:
    from scrapy.http import Response

    from crawler.sitemaps import SitemapEntry


class CollegenavigatorSpider(CatalogSpider):
    """Crawl institutions and programs (source ``collegenavigator``)."""

    name = "collegenavigator"
    source = "collegenavigator"
    links_replayable = True

    def parse(self, response: Response, **kwargs: Any) -> Any:
        """A listing (follow its profiles and pages) or a profile (its items)."""
        if not isinstance(response, TextResponse) or self.unchanged_leaf(response):
            return
        if (again := self.links_again(response)) is not None:
            yield from again
            return
        page = self.read_page(response, page_for)
        if isinstance(page, InstitutionPage):
            yield from self.items_of(page, response)
        elif isinstance(page, ResultsPage):
            yield from self._follow_listing(page, response)

    def _follow_listing(self, page: ResultsPage, response: Response) -> Iterable[Request]:
        for url in self.safely(page.detail_links, [], response, "profile links"):
            yield from self.follow(url, priority=5, meta={"leaf": True})
        yield from self.follow_pages(page, response)

    def follow_from_sitemap(self, entry: SitemapEntry) -> list[Request]:
        """A profile (a leaf: unchanged ones need no parsing) or a listing the sitemap names."""
        leaf = unitid_from_url(entry.loc) is not None
        if not leaf and not urlsplit(entry.loc).path.startswith("/collegenavigator/"):
            return []  # a sitemap found through robots.txt covers the whole host (all of nces.ed.gov)
        return self.follow(entry.loc, priority=5 if leaf else 10, meta=sitemap_meta(entry, leaf=leaf))
