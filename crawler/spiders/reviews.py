"""Student reviews from the review site: the A-Z school index, each school's first review page,
then the JSON review API for the rest.

Navigation: index pages (and their pagination) list the schools; a school's first HTML page
yields its first reviews and says how many there are; the remaining pages come from the review
API (``/api/entity-reviews/?e=<entity>&page=N&limit=20``), whose page N holds exactly what HTML
page N shows. So each review is fetched once: page 1 as HTML, pages 2..N as JSON, never both
(the page module gives both forms the same item, down to the URL of the HTML page that shows it).
When a school page does not say how many reviews it has, the HTML pagination is followed instead.
The school (name, city, state as the site writes them) is linked to its IPEDS institution by the
linkage pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.http import TextResponse

from crawler.pages.reviews import HTML_PAGE_SIZE, ReviewsApiPage, SchoolIndexPage, SchoolReviewsPage, api_url, page_for
from crawler.spiders.base import CatalogSpider

if TYPE_CHECKING:
    from scrapy.http import Response


class ReviewsSpider(CatalogSpider):
    """Crawl the review site's schools and their reviews (source ``reviews``)."""

    name = "reviews"
    source = "reviews"
    links_replayable = True

    def parse(self, response: Response, **kwargs: Any) -> Any:
        """Route: index page, school review page, or API page."""
        if not isinstance(response, TextResponse) or self.unchanged_leaf(response):
            return
        if (again := self.links_again(response)) is not None:
            yield from again
            return
        page = self.read_page(response, page_for)
        if isinstance(page, ReviewsApiPage):
            yield from self._parse_api(page, response)
        elif isinstance(page, SchoolReviewsPage):
            yield from self._parse_school(page, response)
        elif isinstance(page, SchoolIndexPage):
            yield from self._parse_index(page, response)

    def _parse_index(self, page: SchoolIndexPage, response: Response) -> Iterable[Request]:
        for url in self.safely(page.school_links, [], response, "school links"):
            yield from self.follow(url, priority=5)
        yield from self.follow_pages(page, response)

    def _parse_school(self, page: SchoolReviewsPage, response: Response) -> Iterable[Any]:
        yield from self.items_of(page, response)
        school = self.safely(page.school, {}, response, "the school")
        _average, count = self.safely(page.rating_summary, (None, None), response, "the rating summary")
        entity = school.get("entity_id") if school else None
        if entity and count is not None:
            pages = max(1, math.ceil(count / HTML_PAGE_SIZE))
            for number in range(2, pages + 1):
                # A school page that changed (new reviews) changes its last API page too: check them all.
                yield from self.follow(api_url(response.url, entity, page=number, limit=HTML_PAGE_SIZE), priority=2,
                                       meta={"leaf": True, **self.fetched_meta(response)})
            return
        # No summary on this page (a later page, or a site without one): walk the HTML pages.
        yield from self.follow(self.safely(page.next_page, None, response, "the next page"), priority=2)

    def _parse_api(self, page: ReviewsApiPage, response: Response) -> Iterable[Any]:
        problem = self.safely(page.error, None, response, "the API answer")
        if problem:
            self.store.count_drop("api_error", response.url, problem)
            return
        yield from self.items_of(page, response)
