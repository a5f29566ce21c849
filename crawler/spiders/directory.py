"""Accredited programs from an accreditor's program directory (CAHIIM style).

Navigation: the unfiltered listing and its pagination reach every program; each row links to a
detail page, the only page that yields the ``Program`` (a listing row lacks the dates). The
state / degree / delivery filter views list the same programs again, so they are not crawled.
The directory shows no IPEDS id: the linkage pipeline finds the institution by name, city, state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.http import TextResponse

from crawler.pages.directory import DirectoryListingPage, DirectoryProgramPage, page_for
from crawler.spiders.base import CatalogSpider

if TYPE_CHECKING:
    from scrapy.http import Response


class DirectorySpider(CatalogSpider):
    """Crawl the program directory (source ``directory``)."""

    name = "directory"
    source = "directory"
    links_replayable = True

    def parse(self, response: Response, **kwargs: Any) -> Any:
        """A listing (follow programs and pages), a program (its item), or a home page (its listing)."""
        if not isinstance(response, TextResponse) or self.unchanged_leaf(response):
            return
        if (again := self.links_again(response)) is not None:
            yield from again
            return
        page = self.read_page(response, page_for)
        if isinstance(page, DirectoryProgramPage):
            yield from self.items_of(page, response)
            return
        if page is None:
            return
        for url in self.safely(page.detail_links, [], response, "program links"):
            yield from self.follow(url, priority=5, meta={"leaf": True})
        if isinstance(page, DirectoryListingPage):
            yield from self.follow_pages(page, response)
