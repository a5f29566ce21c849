"""Which known pages a scheduled crawl may leave alone: each page's revisit schedule, loaded once per run.

A scheduled crawl (the default; ``collegesearch crawl --full`` fetches everything) fetches a
known page only when it is due (its ``next_due``, or its last fetch plus today's REVISIT_MAX,
has come, less ``DUE_SLACK`` of its interval), or when its sitemap ``lastmod`` is newer than
the copy we hold (its stored Last-Modified, else its last fetch). Navigation pages (pages that
yield no items: listings, indexes, sitemaps) and new URLs are always fetched, so new records and
vanished ones are found on every run. A page that is not due is answered from the page cache
(``crawler.page_cache``) or, for a leaf, not requested at all (``CatalogSpider.follow``); either
way its items count as seen, so the missing-item sweep never takes a page it did not check.

The map holds a small tuple per page (URL -> due time, what lastmod is compared with, has items,
last run): a decision costs one dict lookup, so a page that is not due costs next to nothing; the
pages left alone are touched 500 to a statement.
"""

from __future__ import annotations

import email.utils
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from model.revisit import DUE_SLACK, RevisitPolicy

if TYPE_CHECKING:
    from catalog import Catalog
    from catalog.pages import PageDue
    from collegesearch.config import Settings

logger = logging.getLogger(__name__)


class PageLink(NamedTuple):
    """One outgoing link of a page as the spider followed it: enough to follow it again without the page."""

    url: str
    priority: int
    leaf: bool


def encode_links(links: Iterable[PageLink]) -> str:
    """Links as the catalog stores them (compact JSON, in the order the page gave them)."""
    return json.dumps([[link.url, link.priority, int(link.leaf)] for link in links], separators=(",", ":"))


def decode_links(text: str | None) -> list[PageLink] | None:
    """Stored links back as ``PageLink``s; None when none are stored or the text is not what we write."""
    if text is None:
        return None
    try:
        return [PageLink(str(url), int(priority), bool(leaf)) for url, priority, leaf in json.loads(text)]
    except (ValueError, TypeError):
        logger.warning("unreadable stored page links ignored (the page is parsed instead): %.80r", text)
        return None


def revisit_policy_for(cfg: Settings, source: str, spider: Any = None) -> RevisitPolicy:
    """A source's revisit policy: REVISIT_* and REVISIT_<SOURCE>, or its site profile's ``revisit``.

    ``ConfigError`` (a ValueError) when the values contradict each other.
    """
    from model.sources import SOURCES

    if source in SOURCES:
        return cfg.revisit_policy(source)
    profile = getattr(spider, "profile", None)
    if getattr(profile, "name", None) != source:
        from crawler.profiles import load_site_profiles

        try:
            profile = load_site_profiles(cfg).get(source)
        except ValueError:
            profile = None  # a broken sites file stopped the crawl before this; the defaults are safe
    return cfg.revisit_policy(source, getattr(profile, "revisit", None) or "")


def full_by_turn(cfg: Settings, catalog: Catalog, source: str, trigger: str) -> bool:
    """True when this scheduled crawl must be a full one: none of the source's last FULL_CRAWL_EVERY - 1 was."""
    every = int(getattr(cfg, "FULL_CRAWL_EVERY", 0) or 0)
    if every <= 0 or trigger != "schedule":
        return False
    if every > 1:
        recent = [r for r in catalog.list_runs(source, limit=every - 1) if r.status == "ok"]
        if len(recent) < every - 1 or any(r.stats.get("mode") == "full" for r in recent):
            return False
    logger.info("%s: a full crawl this time (every %s scheduled crawls: FULL_CRAWL_EVERY)", source, every)
    return True


def _timestamp(text: str | None) -> float | None:
    """A catalog time (ISO 8601) as a POSIX timestamp, or None."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _http_timestamp(text: str | None) -> float | None:
    """An HTTP date (a stored Last-Modified header) as a POSIX timestamp, or None."""
    if not text:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class Schedule:
    """A source's known pages as a scheduled crawl sees them: due or not, and how new our copy is."""

    def __init__(self, pages: Iterable[PageDue], policy: RevisitPolicy, resume_ids: Iterable[int] = (),
                 now: datetime | None = None) -> None:
        self.policy = policy
        self.resume_ids = frozenset(resume_ids)
        self.now = (now or datetime.now(UTC)).timestamp()
        self._skipped: list[str] = []
        # url -> (when it falls due, what a sitemap lastmod must be newer than, has items, last run,
        #         outgoing links as stored: JSON text, decoded only for a page that is skipped)
        self._pages: dict[str, tuple[float, float | None, bool, int | None, str | None]] = {}
        for page in pages:
            self._pages[page.url] = self._entry(page)

    def _entry(self, page: PageDue) -> tuple[float, float | None, bool, int | None, str | None]:
        fetched = _timestamp(page.last_fetched)
        due = _timestamp(page.next_due)
        if fetched is None or due is None:
            return (float("-inf"), fetched, page.has_items, page.last_run_id, page.links)  # never scheduled: due now
        # Today's REVISIT_MAX holds even for a page scheduled under a longer one.
        due = min(due, fetched + self.policy.max_seconds)
        interval = min(page.revisit_seconds or max(due - fetched, 0.0), self.policy.max_seconds)
        since = _http_timestamp(page.last_modified) or fetched
        return (due - DUE_SLACK * interval, since, page.has_items, page.last_run_id, page.links)

    def __len__(self) -> int:
        return len(self._pages)

    def __contains__(self, url: object) -> bool:
        return url in self._pages

    def not_due(self, url: str, lastmod: datetime | None = None) -> bool:
        """True when the crawl may leave this page alone: known, with items, not due, no newer lastmod."""
        entry = self._pages.get(url)
        if entry is None:
            return False  # a new URL (or a page that is gone): always fetched
        due, _since, has_items, _run, _links = entry
        if not has_items or due <= self.now:
            return False
        return not self.lastmod_newer(url, lastmod)

    def lastmod_newer(self, url: str, lastmod: datetime | None) -> bool:
        """True when a sitemap's lastmod says the page changed after the copy we hold."""
        entry = self._pages.get(url)
        if entry is None or lastmod is None:
            return False
        since = entry[1]
        return since is None or lastmod.timestamp() > since

    def changed_since(self, url: str, lastmod: datetime | None) -> bool:
        """True for a page with records whose sitemap lastmod is newer than our copy: a scheduled crawl
        fetches it even when the cache already answered for it (navigation pages are fetched anyway)."""
        entry = self._pages.get(url)
        return entry is not None and entry[2] and self.lastmod_newer(url, lastmod)

    def may_skip(self, url: str, lastmod: datetime | None = None) -> bool:
        """True when the page need not even be requested: not due, and not stored by a run being resumed
        (the page cache answers those, counted as resumed)."""
        entry = self._pages.get(url)
        return self.not_due(url, lastmod) and entry is not None and entry[3] not in self.resume_ids

    def links(self, url: str) -> list[PageLink] | None:
        """The page's outgoing links as stored, or None when unknown (the page must then be parsed)."""
        entry = self._pages.get(url)
        return None if entry is None else decode_links(entry[4])

    def skip(self, url: str, batch: int = 500) -> list[str]:
        """Note a page left unrequested; returns a batch of such pages to write once ``batch`` are waiting."""
        self._skipped.append(url)
        return self.drain() if len(self._skipped) >= batch else []

    def drain(self) -> list[str]:
        """The pages left unrequested and not yet handed out."""
        out, self._skipped = self._skipped, []
        return out


class ScheduledStore:
    """The crawl store's part of the schedule (``crawler.crawl_store.CrawlStore`` is one).

    It loads the map once per run, says which pages may be left alone, and counts the items of
    the pages left unrequested as seen, in batched writes queued like every other catalog write.
    """

    full: bool = False
    schedule: Schedule | None = None
    """A scheduled crawl's map of its source's known pages; None in a full crawl."""
    revisit: RevisitPolicy | None = None
    # The store's own (declared here for the type checker):
    catalog: Catalog | None
    source: str | None
    run_id: int | None
    resume_ids: frozenset[int]
    is_open: bool
    stats: Any
    _uncommitted: Counter[str]
    _queue: Callable[..., None]

    linking_from: str | None = None
    """The page whose callback is running right now (set by ``PageTrackerMiddleware``): the links the
    spider follows meanwhile are that page's."""
    _links_read: dict[str, list[PageLink] | None]
    _links_to_keep: list[tuple[str, str]]

    def init_links(self) -> None:
        """Start with no page's links read (the store's ``__init__`` calls this)."""
        self._links_read, self._links_to_keep = {}, []

    def links_begin(self, url: str, record: bool = True) -> None:
        """A page's callback starts: its links are collected from here (``record``: the spider can replay them)."""
        self._links_read[url] = [] if record else None

    def note_link(self, link: PageLink) -> None:
        """The running callback followed ``link``."""
        links = self._links_read.get(self.linking_from) if self.linking_from is not None else None
        if links is not None:
            links.append(link)

    def links_unknown(self, url: str | None = None) -> None:
        """The page's links cannot be told again without the page (a callback, extra arguments, a failure)."""
        url = url or self.linking_from
        if url is not None and url in self._links_read:
            self._links_read[url] = None

    def take_links(self, url: str) -> list[PageLink] | None:
        """The finished page's links (None: unknown, or not recorded for this spider)."""
        return self._links_read.pop(url, None)

    def keep_links(self, url: str, links: list[PageLink] | None, stored: str | None) -> None:
        """A page read from its stored copy: store the links read from it when the catalog lacks them."""
        if links is None:
            return
        text = encode_links(links)
        if text != stored:
            self._links_to_keep.append((url, text))
            if len(self._links_to_keep) >= 500:
                self.queue_links()

    def queue_links(self) -> None:
        """Queue the waiting links of pages read from their stored copies (before the run's final flush)."""
        batch, self._links_to_keep = self._links_to_keep, []
        if batch:
            self._queue(self._do_set_links, batch)

    def _do_set_links(self, links: list[tuple[str, str]]) -> None:
        assert self.catalog is not None
        self.catalog.set_page_links(links)

    def load_schedule(self) -> None:
        """Read the source's known pages once (a scheduled crawl only)."""
        if not self.full and self.catalog is not None and self.revisit is not None:
            self.schedule = Schedule(self.catalog.page_schedule(self.source or ""), self.revisit, self.resume_ids)

    def not_due(self, url: str, lastmod: datetime | None = None) -> bool:
        """True when a scheduled crawl may leave this known page alone."""
        return self.schedule is not None and self.is_open and self.schedule.not_due(url, lastmod)

    def skip_not_due(self, url: str) -> None:
        """A page that is not due was not requested at all: its items count as seen (batched writes)."""
        self.stats.inc_value("collegesearch/pages/not_due")
        self.touch_later(url)

    def touch_later(self, url: str) -> None:
        """Count a page that is not due, and its items, as seen in this run, in the next batch of 500."""
        if self.schedule is not None and (batch := self.schedule.skip(url)):
            self._queue(self._do_touch_pages, batch)

    def queue_skipped(self) -> None:
        """Queue the last batch of unrequested pages (before the run's final flush and sweep)."""
        if self.schedule is not None and (batch := self.schedule.drain()):
            self._queue(self._do_touch_pages, batch)

    def _do_touch_pages(self, urls: list[str]) -> None:
        assert self.catalog is not None
        self._uncommitted["collegesearch/items/touched"] += self.catalog.touch_pages(urls, self.run_id)
