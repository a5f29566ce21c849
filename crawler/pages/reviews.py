"""A student review site: the A-Z school index, per-school review pages, the JSON review API.

Reviews come from the HTML review pages (``article.review``), from the JSON API
(``/api/entity-reviews/?e=<entity>&page=N&limit=20``) and, where a page has no review markup, from
its schema.org JSON-LD. All three give the same item for the same review: ``review_id`` is
``<source>:<the site's review id>``, ``url`` the HTML page that shows it (for an API review, the
page computed from its position, 20 reviews per HTML page, oldest first). The school is kept as the
site names it (name, city, state, the site's entity id); linking it to an IPEDS institution is the
pipeline's job.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from parsel import Selector

from crawler.pages.base import Page, unique
from crawler.processors import clean_text, parse_date, parse_int, state_or_raw
from model.items import Item, Review

SOURCE = "reviews"
HTML_PAGE_SIZE = 20
"""Reviews per HTML review page (the API's default ``limit`` is the same)."""
_SCHOOL_PATH_RE = re.compile(r"/(?:reviews/)?colleges?/[a-z0-9-]+/reviews/?$|/reviews/c/[0-9a-f-]{36}/?$", re.I)
_API_PATH_RE = re.compile(r"/api/entity-reviews/?$")
_STARS_RE = re.compile(r"([1-5])\s*(?:out\s+of|/)\s*5")


def fragment_text(value: str) -> str:
    """Text of a review body that may hold HTML (APIs often send the page's own markup).

    Read the way the HTML page shows it: tags and scripts are markup, entities are decoded, so
    the API and the page give the same body for the same review.
    """
    if "<" not in value and "&" not in value:
        return clean_text(value) or ""
    from crawler.pages.base import parse_html

    root = parse_html(f"<html><body><div id='fragment'>{value}</div></body></html>")
    return Page.text_of(root.xpath("//div[@id='fragment']")) or ""


def html_page_url(school_url: str, index: int, per_page: int = HTML_PAGE_SIZE) -> str:
    """URL of the HTML page showing the review at 0-based ``index`` of a school (page 1 has no ``?page=``)."""
    page = index // per_page + 1
    base = school_url.split("?", 1)[0]
    return base + (f"?page={page}" if page > 1 else "")


class ReviewSitePage(Page):
    """Anything on the review site."""

    source = SOURCE

    def school_links(self) -> list[str]:
        """Links to schools' review pages."""
        return unique(u for u in self.links() if _SCHOOL_PATH_RE.search(urlsplit(u).path))

    def next_page(self) -> str | None:
        """The ``rel=next`` link, None on the last page."""
        href = self.xpath("//a[@rel='next']/@href | //a[contains(concat(' ', @class, ' '), ' next ')]/@href").get()
        return self.urljoin(href)

    def page_links(self) -> list[str]:
        """Pagination links (previous and next)."""
        return unique(self.urljoin(h) for h in self.xpath(
            "//nav[contains(@class, 'pagination')]//a/@href | //a[@rel='next' or @rel='prev']/@href").getall())

    def to_items(self) -> list[Item]:
        """Index and other pages carry no reviews."""
        return []


class SchoolIndexPage(ReviewSitePage):
    """A page of the A-Z list of schools."""

    def schools(self) -> list[dict[str, str | None]]:
        """The listed schools: name, location text and review-page URL."""
        out = []
        for card in self.css(".school-card") or self.xpath("//li[a]"):
            href = self.urljoin(card.xpath(".//a/@href").get())
            if href and _SCHOOL_PATH_RE.search(urlsplit(href).path):
                out.append({"name": self.text_of(card.xpath(".//a")), "location": self.text_of(card.css(".location")),
                            "url": href})
        return out


class SchoolReviewsPage(ReviewSitePage):
    """One page of a school's reviews (the first also has the rating summary)."""

    def school(self) -> dict[str, str | None]:
        """The school as the site names it: name, city, state code, entity id."""
        name = self.text_of(self.css(".school-name")) or self.text_of(self.xpath("(//h1)[1]"))
        if name:
            name = re.sub(r"\s+Reviews$", "", name)
        city = self.text_of(self.css(".school-location .city"))
        state = state_or_raw(self.text_of(self.css(".school-location .state")))
        if not city and not state:
            location = self.text_of(self.css(".school-location")) or ""
            parts = [p.strip() for p in location.rsplit(",", 1)]
            if len(parts) == 2:
                city, state = parts[0] or None, state_or_raw(parts[1])
        entity = self.xpath("//*[@data-entity-id]/@data-entity-id").get()
        return {"name": name, "city": city, "state": state, "entity_id": clean_text(entity)}

    def rating_summary(self) -> tuple[float | None, int | None]:
        """(average rating, number of reviews) from the summary, when the page shows it."""
        avg = self.text_of(self.css(".avg-rating"))
        count = self.text_of(self.css(".review-count"))
        try:
            average = float(avg) if avg else None
        except ValueError:
            average = None
        return average, parse_int(count)

    def api_links(self) -> list[str]:
        """The review API URL(s) the page points at (``data-reviews-api``)."""
        return unique(self.urljoin(h) for h in self.xpath("//*[@data-reviews-api]/@data-reviews-api").getall())

    def _rating(self, article: Selector) -> int | None:
        value = article.xpath(".//*[@data-rating]/@data-rating").get()
        rating = parse_int(value) if value else None
        if rating is None:
            label = article.xpath(".//*[contains(@class, 'rating')]/@aria-label").get() or ""
            match = _STARS_RE.search(label)
            rating = int(match.group(1)) if match else None
        if rating is None:
            stars = self.text_of(article.xpath(".//*[contains(@class, 'rating')]")) or ""
            rating = stars.count("\u2605") or None
        # An impossible rating (9, 0) is reported as shown: the validation pipeline drops it with a reason.
        return rating

    def _html_reviews(self) -> list[Review]:
        school = self.school()
        out: list[Review] = []
        for article in self.xpath("//article[contains(concat(' ', @class, ' '), ' review ')]"):
            rid = article.attrib.get("data-review-id") or (article.attrib.get("id") or "").removeprefix("review-")
            # An empty body is reported as such (validation drops it as "missing_body"), not silently skipped.
            body = self.text_of(article.css(".review-body")) or ""
            if not rid:
                continue
            date = article.xpath(".//time/@datetime").get() or self.text_of(article.xpath(".//time"))
            out.append(Review(
                url=self.url,
                source=self.source,
                review_id=f"{self.source}:{clean_text(rid)}",
                institution_name=school["name"],
                institution_city=school["city"],
                institution_state=school["state"],
                entity_id=school["entity_id"],
                rating=self._rating(article),
                body=body,
                author_role=self.text_of(article.css(".review-author")),
                category=self.text_of(article.css(".review-category")),
                date=parse_date(date),
            ))
        return out

    def _json_ld_reviews(self) -> list[Review]:
        """Reviews from schema.org JSON-LD, for pages without review markup."""
        from crawler.pages.generic import GenericPage

        school = self.school()
        out: list[Review] = []
        for item in self.as_page(GenericPage).structured_items():
            if not isinstance(item, Review):
                continue
            local = item.review_id.rsplit(":", 1)[-1].removeprefix("review-") if item.review_id else None
            item.review_id = f"{self.source}:{local}" if local else item.review_id
            item.source = self.source
            item.entity_id = school["entity_id"]
            item.institution_name = item.institution_name or school["name"]
            item.institution_city = item.institution_city or school["city"]
            item.institution_state = item.institution_state or school["state"]
            out.append(item)
        return out

    def to_items(self) -> list[Item]:
        """The page's reviews: from its markup, else from its JSON-LD."""
        reviews = self._html_reviews() or self._json_ld_reviews()
        return list(reviews)


class ReviewsApiPage(ReviewSitePage):
    """One page of the JSON review API: ``{"entity": {...}, "page", "limit", "next", "reviews": [...]}``."""

    @cached_property
    def data(self) -> dict[str, Any]:
        """The decoded JSON (an empty dict when the body is not a JSON object)."""
        try:
            value = json.loads(self.text)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def error(self) -> str | None:
        """The API's error message, when it answered with one."""
        if "error" in self.data:
            return clean_text(str(self.data.get("message") or self.data.get("error")))
        return None if self.data else "the response is not a JSON object"

    def next_page(self) -> str | None:
        """The next API page (``next``), None on the last."""
        nxt = self.data.get("next")
        return urljoin(self.url, nxt) if isinstance(nxt, str) and nxt else None

    def page_links(self) -> list[str]:
        """The next API page, as a list."""
        nxt = self.next_page()
        return [nxt] if nxt else []

    @property
    def entity(self) -> dict[str, Any]:
        """The school object of the response (empty when missing)."""
        value = self.data.get("entity")
        return value if isinstance(value, dict) else {}

    def school_links(self) -> list[str]:
        """The school's HTML review page."""
        url = self.entity.get("url")
        return [urljoin(self.url, url)] if isinstance(url, str) and url else []

    def _position(self) -> tuple[int, int]:
        """(page, limit) of this response (from the JSON, else the URL's query)."""
        query = parse_qs(urlsplit(self.url).query)
        page = parse_int(str(self.data.get("page") or query.get("page", ["1"])[0])) or 1
        limit = parse_int(str(self.data.get("limit") or query.get("limit", [str(HTML_PAGE_SIZE)])[0])) or HTML_PAGE_SIZE
        return max(page, 1), max(limit, 1)

    def to_items(self) -> list[Item]:
        """The reviews on this API page, each pointing at the HTML page that shows it."""
        entity = self.entity
        reviews = self.data.get("reviews")
        if not isinstance(reviews, list):
            return []
        page, limit = self._position()
        school_url = urljoin(self.url, entity.get("url")) if isinstance(entity.get("url"), str) else None
        out: list[Item] = []
        for offset, raw in enumerate(reviews):
            if not isinstance(raw, dict) or raw.get("id") in (None, ""):
                continue
            body = fragment_text(str(raw.get("body") or raw.get("text") or ""))
            author = raw.get("author")
            role = author.get("role") or author.get("name") if isinstance(author, dict) else author
            rating = parse_int(str(raw.get("rating"))) if raw.get("rating") is not None else None
            index = (page - 1) * limit + offset
            out.append(Review(
                url=html_page_url(school_url, index) if school_url else self.url,
                source=self.source,
                review_id=f"{self.source}:{clean_text(str(raw['id']))}",
                institution_name=clean_text(entity.get("name")) if entity.get("name") else None,
                institution_city=clean_text(entity.get("city")) if entity.get("city") else None,
                institution_state=state_or_raw(str(entity.get("state"))) if entity.get("state") else None,
                entity_id=clean_text(str(entity["id"])) if entity.get("id") else None,
                rating=rating,
                body=body,
                author_role=clean_text(str(role)) if role else None,
                category=clean_text(str(raw["category"])) if raw.get("category") else None,
                date=parse_date(str(raw.get("created") or raw.get("date") or "")),
            ))
        return out


def api_url(base_url: str, entity_id: str, page: int = 1, limit: int = HTML_PAGE_SIZE) -> str:
    """The review API URL for a school's reviews."""
    return urljoin(base_url, f"/api/entity-reviews/?e={entity_id}&page={page}&limit={limit}")


def page_for(url: str, body: bytes | str, headers: Any = None, encoding: str | None = None,
             source: str | None = None) -> ReviewSitePage:
    """The right page object for a review-site URL or saved file (JSON by content, then by markup)."""
    page = ReviewSitePage(url, body, headers, encoding, source=source)
    content_type = (page.content_type or "").lower()
    head = page.body.lstrip()[:1]
    if "json" in content_type or head in (b"{", b"[") or _API_PATH_RE.search(urlsplit(url).path):
        return page.as_page(ReviewsApiPage)
    if page.xpath("//article[contains(concat(' ', @class, ' '), ' review ')] | //*[@data-entity-id]"):
        return page.as_page(SchoolReviewsPage)
    if page.css(".school-card") or page.css(".school-list"):
        return page.as_page(SchoolIndexPage)
    if _SCHOOL_PATH_RE.search(urlsplit(url).path):
        return page.as_page(SchoolReviewsPage)
    return page.as_page(SchoolIndexPage)
