"""The item pipelines, in order, and how their drops are logged.

``ValidationPipeline`` drops impossible items with a counted, logged reason (the rules are in
``crawler.validation``); ``LinkagePipeline`` ties reviews (and directory programs) to IPEDS
institutions (``crawler.linkage``); ``CatalogPipeline`` hands items to the crawl store
(``crawler.crawl_store``), which writes them to the catalog. None of them writes to the search
index (Whoosh allows one writer; the indexer follows the catalog's change log).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.logformatter import LogFormatter

from crawler.crawl_store import StoreUser
from crawler.validation import InvalidItem, validate_item
from model.items import Institution, Item, Program, Review

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler


class ValidationPipeline:
    """Drop items with missing required fields or impossible values, with the reason counted."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler."""
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        """Fill the source in, then validate."""
        spider = self.crawler.spider
        if isinstance(item, Item) and not item.source:
            item.source = str(getattr(spider, "source", None) or getattr(spider, "name", ""))
        reason = validate_item(item)
        if reason is not None:
            raise InvalidItem(reason, item)
        return item


class LinkagePipeline(StoreUser):
    """Link reviews and id-less programs to their IPEDS institution (kept unattached when unsure)."""

    def process_item(self, item: Any) -> Any:
        """Set institution_unitid (and the review's link status and confidence)."""
        from crawler.linkage import entity_key, link_fields

        if not self.store.is_open:
            return item
        stats = self.crawler.stats
        if isinstance(item, Review):
            if item.institution_unitid:
                item.link_status = item.link_status or "matched"
                if item.link_confidence is None:
                    item.link_confidence = 100.0
            else:
                data = _link_data(item)
                name, city, state = link_fields(data)
                result = self.store.link(item.source, entity_key(data), name, city, state)
                item.institution_unitid = result.unitid
                item.link_status = result.status
                item.link_confidence = result.confidence
            stats.inc_value(f"collegesearch/linkage/{item.link_status}")
        elif isinstance(item, Program) and not item.institution_unitid and item.institution_name:
            data = _link_data(item)
            name, city, state = link_fields(data)
            result = self.store.link(item.source, entity_key(data), name, city, state)
            if result.status == "matched":
                item.institution_unitid = result.unitid
            stats.inc_value(f"collegesearch/linkage/{result.status}")
        return item


# The fields linkage reads (``crawler.linkage.entity_key``, ``link_fields``, ``InstitutionIndex.add_item``):
# read off the item, not from a full ``to_dict()`` copy of it.
_LINK_FIELDS = ("entity_id", "name", "institution_name", "institution_city", "institution_state", "city", "state")
_INSTITUTION_FIELDS = ("unitid", "name", "aliases", "city", "state")


def _link_data(item: Item, names: tuple[str, ...] = _LINK_FIELDS) -> dict[str, Any]:
    """The item's linkage fields (and ``kind``) as ``to_dict()`` would give them (None when it has no such field)."""
    data = {name: getattr(item, name, None) for name in names}
    data["kind"] = item.kind
    return data


class CatalogPipeline(StoreUser):
    """Queue the item for the catalog (the content hash decides new / changed / unchanged)."""

    def process_item(self, item: Any) -> Any:
        """Hand the item to the store; it stays available to FEEDS exports afterwards."""
        if isinstance(item, Item) and self.store.is_open:
            if isinstance(item, Institution) and item.unitid and self.store.cfg is not None:
                # Crawlers of other sources in this process link against it straight away.
                from crawler.linkage import note_institution

                note_institution(self.store.cfg.catalog_location, _link_data(item, _INSTITUTION_FIELDS))
            self.store.queue_upsert(item, getattr(item, "_page_url", None) or item.url)
        return item


class ItemLogFormatter(LogFormatter):
    """Scrapy's log lines, but a dropped item is one line with its reason and URL (not a dump)."""

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> Any:
        """One WARNING line per dropped item."""
        return {"level": logging.WARNING, "msg": "dropped %(reason)s", "args": {"reason": str(exception)}}

    def scraped(self, item: Any, response: Any, spider: Any) -> Any:
        """Scraped items are logged at DEBUG as kind, id and URL only."""
        kind = getattr(item, "kind", type(item).__name__)
        ident = getattr(item, "item_id", "")
        return {"level": logging.DEBUG, "msg": "scraped %(kind)s %(id)s from %(url)s",
                "args": {"kind": kind, "id": ident, "url": getattr(item, "url", "?")}}
