"""The per-crawl catalog store: a Scrapy extension, one per crawler, that owns the run.

``CrawlStore`` takes the source's lock, closes runs left ``running`` by a dead process, opens
the run record, buffers catalog writes and commits them in small transactions (every
CRAWL_FLUSH_ITEMS operations or CRAWL_FLUSH_INTERVAL seconds), stores stats periodically, and
at the end asks ``crawler.verdict`` whether the run was complete (only then may the missing-item
sweep tombstone anything) and records it. Writes are queued in order - a page's items before the
page itself - so a SIGKILL can lose at most the uncommitted tail, and then the page is refetched
next time instead of being trusted. On a full disk (``catalog.storage_errors`` recognises it)
it stops the spider. The item pipelines (``crawler.pipelines``) and the page-cache middlewares
reach it through ``CrawlStore.of(crawler)``.
"""

from __future__ import annotations

import logging
import socket
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured

from catalog.storage_errors import disk_full_message, is_storage_error
from crawler.disk_full import DISK_FULL_REASON, DiskReserve, report_disk_full
from crawler.freshness import ScheduledStore, encode_links, full_by_turn, revisit_policy_for
from crawler.source_locks import acquire_source_lock, release_source_lock
from crawler.store_linkage import LinkingStore
from crawler.validation import InvalidItem
from crawler.verdict import decide, run_summary

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from catalog import Catalog, PageRecord
    from collegesearch.config import Settings
    from crawler.linkage import InstitutionIndex
    from model.items import Item

logger = logging.getLogger(__name__)

# A run interrupted longer ago than this is not resumed: its pages are too old to trust.
RESUME_WINDOW = timedelta(days=1)


def _now() -> datetime:
    return datetime.now(UTC)


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


class CrawlStore(ScheduledStore, LinkingStore):
    """One crawler's connection to the catalog: its run record, buffered writes, page cache."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        settings = crawler.settings
        self.cfg: Settings | None = settings.get("COLLEGESEARCH_CONFIG")
        self.config_error: str | None = settings.get("COLLEGESEARCH_CONFIG_ERROR")
        self.trigger: str = settings.get("COLLEGESEARCH_TRIGGER", "manual")
        self.full: bool = settings.getbool("COLLEGESEARCH_FULL_CRAWL", False)  # `crawl --full`
        self.flush_items = settings.getint("CRAWL_FLUSH_ITEMS", 200)
        self.flush_interval = settings.getfloat("CRAWL_FLUSH_INTERVAL", 1.0)
        self.stats_interval = settings.getfloat("CRAWL_STATS_INTERVAL", 5.0)
        self.catalog: Catalog | None = None
        self.run_id: int | None = None
        self.source: str | None = None
        self.resume_ids: frozenset[int] = frozenset()
        self.started = time.monotonic()
        self.started_at = _now()
        self.is_open = False
        self.fatal_error: str | None = None
        self._ops: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self._pending: dict[str, int] = {}
        self._ended: dict[str, Response] = {}
        self.init_links()
        self._owns_lock = False
        self._loops: list[Any] = []
        self._flush_failures = 0
        # Item outcomes of the flush in progress: counted only once its transaction commits, so a
        # write the disk refused is never reported as a new item.
        self._uncommitted: Counter[str] = Counter()
        self.disk_full: str | None = None
        self._reserve: DiskReserve | None = None
        self._linker: InstitutionIndex | None = None
        self._link_cache: dict[tuple[str, str], Any] = {}
        self.closed_summary: dict[str, Any] | None = None
        crawler.signals.connect(self.open, signal=signals.spider_opened)
        crawler.signals.connect(self.close, signal=signals.spider_closed)
        crawler.signals.connect(self._item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(self._item_error, signal=signals.item_error)

    @classmethod
    def existing(cls, crawler: Crawler) -> CrawlStore | None:
        """The crawler's store, or None when its crawl never started (no store was made)."""
        return crawler.__dict__.get("_collegesearch_store")

    @classmethod
    def of(cls, crawler: Crawler) -> CrawlStore:
        """The crawler's store (created on first use)."""
        store = cls.existing(crawler)
        if store is None:
            store = cls(crawler)
            crawler.__dict__["_collegesearch_store"] = store
        return store

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Extension entry point: the crawler's store."""
        if crawler.settings.get("COLLEGESEARCH_CONFIG") is None:
            raise NotConfigured("no collegesearch configuration")
        return cls.of(crawler)  # type: ignore[return-value]

    # -- lifecycle ------------------------------------------------------------------------

    def open(self, spider: Spider) -> None:
        """Take the lock, close runs of dead processes, find what to resume, start the run."""
        from catalog import Catalog, CatalogError
        from ops.locks import LockBusy

        if self.config_error:
            raise CloseSpider(f"config_error: {self.config_error}")
        if self.cfg is None:
            raise CloseSpider("config_error: no collegesearch configuration")
        self.source = getattr(spider, "source", None) or spider.name
        try:
            self.revisit = revisit_policy_for(self.cfg, self.source, spider)
        except ValueError as exc:  # ConfigError: a source's revisit minimum above its maximum
            raise CloseSpider(f"config_error: {exc}") from None
        try:
            self._owns_lock = acquire_source_lock(self.cfg, self.source)
        except LockBusy as exc:
            logger.error("not crawling %s: %s", self.source, exc)
            raise CloseSpider("source_busy") from None
        try:
            self.catalog = Catalog(self.cfg.catalog_location)
        except CatalogError as exc:
            logger.error("not crawling %s: %s", self.source, exc)
            self._release()
            raise CloseSpider("catalog_error") from None
        try:
            self._close_dead_runs()
            self.resume_ids = self._resume_chain()
            self.full = self.full or full_by_turn(self.cfg, self.catalog, self.source, self.trigger)
            self.run_id = self.catalog.start_run(self.source, self.trigger)
            self.load_schedule()
        except Exception as exc:
            if not self._stop_if_disk_full(exc):
                raise
            self.catalog.close()
            self.catalog = None
            self._release()
            raise CloseSpider(DISK_FULL_REASON) from None
        if not self.catalog.postgres:
            self._reserve = DiskReserve(Path(self.catalog.path).parent, f"run-{self.run_id}")
            self._reserve.take()
        self.started = time.monotonic()
        self.started_at = _now()
        self.stats.set_value("collegesearch/run_id", self.run_id)
        if self.resume_ids:
            logger.info("%s: resuming interrupted run(s) %s: pages they stored come from the catalog",
                        self.source, ", ".join(map(str, sorted(self.resume_ids))))
        self.is_open = True
        from scrapy.utils.asyncio import create_looping_call

        for func, interval in ((self._tick_flush, self.flush_interval), (self._tick_stats, self.stats_interval)):
            if interval <= 0:  # 0 turns the periodic call off (unit tests drive flush() themselves)
                continue
            loop = create_looping_call(func)
            loop.start(interval, now=False)
            self._loops.append(loop)

    def _close_dead_runs(self) -> None:
        assert self.catalog is not None and self.cfg is not None and self.source is not None
        from ops.locks import locks_shared

        host = socket.gethostname()
        for run in self.catalog.running_runs(self.source):
            if run.host == host or locks_shared(self.cfg):
                # We hold the source's lock, so whoever started this run is gone.
                self.catalog.mark_interrupted(
                    run.id, f"process {run.pid} on {run.host} stopped without finishing (killed or crashed)")
                logger.warning("%s: run %s was left running by dead process %s; marked interrupted",
                               self.source, run.id, run.pid)
            else:
                logger.warning("%s: run %s is marked running on another host (%s); left alone",
                               self.source, run.id, run.host)

    def _resume_chain(self) -> frozenset[int]:
        """Ids of the latest runs that stopped midway (killed, stopped, timed out), newest first."""
        assert self.catalog is not None
        chain: list[int] = []
        horizon = _now() - RESUME_WINDOW
        for run in self.catalog.list_runs(self.source, limit=50):
            if run.status == "running":
                continue
            started = _parse_time(run.started_at)
            resumable = run.status == "interrupted" or bool(run.stats.get("resumable"))
            if not resumable or started is None or started < horizon:
                break
            chain.append(run.id)
        return frozenset(chain)

    def close(self, spider: Spider, reason: str) -> None:
        """Flush, relink, decide completeness, sweep if complete, record the run."""
        for loop in self._loops:
            if loop.running:
                loop.stop()
        self._loops.clear()
        if not self.is_open or self.catalog is None or self.run_id is None:
            self._release()
            return
        self.is_open = False
        for response in list(self._ended.values()):  # items that never came back: do not trust the page
            logger.warning("page %s closed with unfinished items; it will be fetched again", response.url)
        self._ended.clear()
        self.queue_skipped()  # before the final flush: the sweep must see them as seen
        self.queue_links()
        try:
            self.flush(final=True)
        except Exception as exc:  # noqa: BLE001 - recorded as the run's failure below
            self.fatal_error = self.fatal_error or f"catalog write failed: {exc}"
        if self.disk_full is None:  # relinking writes too; on a full disk the next crawl does it
            self._relink_own()
        spider_error = getattr(spider, "fatal_error", None)
        if spider_error and not self.fatal_error:
            self.fatal_error = spider_error
        summary = self.summary(reason)
        status, complete, error = self._verdict(reason, summary)
        if complete:
            try:
                removed = self.catalog.sweep_missing(self.source or "", self.run_id)
            except Exception as exc:  # noqa: BLE001
                status, complete, error = "failed", False, f"sweep failed: {exc}"
                removed = 0
            summary["items"]["removed"] += removed
            self.stats.inc_value("collegesearch/items/removed", removed)
        if self.disk_full is None:
            complete, error = self._fuse(summary, complete, error)
        summary["complete"] = complete
        summary["status"] = status
        if error:
            summary["error"] = error
        self.closed_summary = summary
        try:
            self.catalog.finish_run(self.run_id, status=status, stats=summary, complete=complete, error=error,
                                    fuse=False)  # fused in _fuse, unless the disk is full
        except Exception as exc:
            if not self._stop_if_disk_full(exc):
                raise
            # _close_dead_runs of the next crawl marks it interrupted, and that crawl resumes it.
            logger.warning("%s: run %s could not be recorded as finished either; the next crawl resumes it",
                           self.source, self.run_id)
        log = logger.info if status == "ok" else logger.warning
        context = {"source": self.source, "run_id": self.run_id}  # fields of the JSON log line
        if self.disk_full is not None:
            # The one line that says what to fix was logged when the disk filled up; no second one.
            log("%s: run %s failed: stopped early, the catalog cannot be written (%s pages, %s new, %s changed)",
                self.source, self.run_id, summary["pages"], summary["items"]["new"], summary["items"]["changed"],
                extra=context)
        else:
            log("%s: run %s %s%s (%s pages, %s new, %s changed, %s removed)", self.source, self.run_id, status,
                f": {error}" if error else "", summary["pages"], summary["items"]["new"],
                summary["items"]["changed"], summary["items"]["removed"], extra=context)
        self.catalog.close()
        self.catalog = None
        self._release()

    def _fuse(self, summary: dict[str, Any], complete: bool, error: str | None) -> tuple[bool, str | None]:
        """Fuse the run's records (``crawler.run_fusion``); an alarm makes the run incomplete and says why."""
        from crawler.run_fusion import fuse_after_run

        assert self.catalog is not None and self.run_id is not None
        try:
            summary["entities"], alarm = fuse_after_run(self.catalog, self.source or "", self.run_id, summary["items"])
        except Exception as exc:  # noqa: BLE001 - the next sync fuses; the run record must not be lost
            if not self._stop_if_disk_full(exc):
                logger.exception("%s: fusing the run's records failed; the next index sync retries", self.source)
            return complete, error
        if alarm:
            return False, f"{error}; {alarm}" if error else alarm
        return complete, error

    def _release(self) -> None:
        if self._reserve is not None:
            self._reserve.release()
        if self._owns_lock and self.source:
            release_source_lock(self.source)
            self._owns_lock = False

    def _verdict(self, reason: str, summary: dict[str, Any]) -> tuple[str, bool, str | None]:
        """Status, completeness and error of the closing run (``crawler.verdict``); marks the summary resumable."""
        assert self.cfg is not None
        verdict = decide(reason, summary, disk_full=self.disk_full, fatal_error=self.fatal_error,
                         time_limit=self.cfg.CRAWL_TIME_LIMIT, max_error_rate=self.cfg.CRAWL_MAX_ERROR_RATE,
                         incomplete_reason=getattr(self.crawler.spider, "incomplete_reason", None))
        if verdict.resumable:
            summary["resumable"] = True
        return verdict.status, verdict.complete, verdict.error

    # -- periodic work ------------------------------------------------------------------------

    def _tick_flush(self) -> None:
        if self.disk_full is not None:
            return  # stopping: only the final flush tries again
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - keep the loop alive
            if not is_storage_error(exc):
                logger.exception("could not write to the catalog")  # a bug: its traceback helps
            elif self.disk_full is None:  # (a full disk has said so in one line already)
                logger.error("could not write to the catalog (attempt %s, %s queued writes kept): %s",
                             self._flush_failures, len(self._ops), exc)
            return
        try:  # Fuse what was just stored: fusing it all at the close blocked the reactor for seconds.
            if self.catalog is not None:
                self.catalog.fuse_pending()
        except Exception as exc:  # noqa: BLE001 - the end-of-run fusion (or the next index sync) retries
            if not self._stop_if_disk_full(exc):
                logger.warning("%s: fusing during the crawl failed (retried at the end): %s", self.source, exc)

    def _tick_stats(self) -> None:
        if self.catalog is None or self.run_id is None or self.disk_full is not None:
            return
        try:
            self.catalog.update_run_stats(self.run_id, self.summary("running"))
        except Exception as exc:  # noqa: BLE001
            if self._stop_if_disk_full(exc):
                return
            if is_storage_error(exc):
                logger.warning("could not store run stats: %s", exc)
            else:
                logger.exception("could not store run stats")

    def _stop_if_disk_full(self, exc: BaseException) -> bool:
        """Stop the spider when ``exc`` means the catalog's disk is full; False for any other failure."""
        message = disk_full_message(exc, self.catalog.path) if self.catalog is not None else None
        if message is None:
            return False
        self._stop_for_full_disk(message)
        return True

    def _stop_for_full_disk(self, message: str) -> None:
        """The catalog's disk is full: say so in one line (once per process) and stop the spider."""
        self.fatal_error = message
        if self.disk_full is not None:
            return
        self.disk_full = message
        if self._reserve is not None and self._reserve.release():
            logger.info("%s: gave back the room set aside, to record the run as failed", self.source)
        self.stats.set_value("collegesearch/disk_full", 1)
        if not report_disk_full(message):
            logger.warning("%s: stopping too: the catalog cannot be written (see above)", self.source)
        if self.is_open:
            self._close_spider(DISK_FULL_REASON)

    def _close_spider(self, reason: str) -> None:
        """Ask the engine to close the spider (it finishes what is in flight, then calls close())."""
        from scrapy.utils.defer import deferred_from_coro

        try:
            engine = self.crawler.engine
        except RuntimeError:  # the crawl has not started (a crawler built by a unit test)
            return
        if engine is not None:
            deferred_from_coro(engine.close_spider_async(reason=reason))

    # -- buffered writes ------------------------------------------------------------------------

    def _queue(self, func: Callable[..., Any], *args: Any) -> None:
        self._ops.append((func, args))
        # After a failed flush the buffer stays full: retry on the timer, not on every new item.
        if len(self._ops) >= self.flush_items and not self._flush_failures:
            self._tick_flush()

    def flush(self, final: bool = False) -> None:
        """Commit the queued writes in one transaction (in the order they were queued)."""
        if not self._ops or self.catalog is None:
            return
        ops, self._ops = self._ops, []
        try:
            with self.catalog.transaction():
                self._apply(ops)
        except Exception as exc:
            self._uncommitted.clear()  # rolled back: none of it is stored, none of it is counted
            self._ops[:0] = ops  # keep them for the next attempt; nothing is lost silently
            self._flush_failures += 1
            self.stats.inc_value("collegesearch/errors/catalog")
            # On a full disk retrying cannot help until someone frees space; every page fetched from
            # now on would be fetched for nothing, so the spider stops.
            if not self._stop_if_disk_full(exc) and (final or self._flush_failures >= 5):
                # The catalog keeps refusing writes (locked for minutes, an I/O error): stop the
                # crawl rather than fetch pages whose items cannot be kept.
                self.fatal_error = f"catalog write failed: {exc}"
                if not final:
                    self._close_spider("catalog_error")
            raise
        self._flush_failures = 0
        for key, count in self._uncommitted.items():
            self.stats.inc_value(key, count)
        self._uncommitted.clear()

    def _apply(self, ops: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
        """Run queued writes in order, upserts gathered into batches (pages and links never touch items)."""
        batch: list[tuple[Item, str | None]] = []
        for func, args in ops:
            if func == self._do_upsert:
                batch.append(args)  # type: ignore[arg-type]
                continue
            if batch and func not in (self._do_record_page, self._do_save_link, self._do_set_links):
                self._upsert_batch(batch)  # touch, gone, protect read or change items: store these first
                batch = []
            func(*args)
        if batch:
            self._upsert_batch(batch)

    def _upsert_batch(self, batch: list[tuple[Item, str | None]]) -> None:
        assert self.catalog is not None
        entries = [(item.to_dict(), item.item_id, page_url) for item, page_url in batch]
        for outcome in self.catalog.upsert_batch(entries, run_id=self.run_id):
            self._uncommitted[f"collegesearch/items/{outcome}"] += 1

    def _do_upsert(self, item: Item, page_url: str | None) -> None:  # (queued; _apply stores these in batches)
        self._upsert_batch([(item, page_url)])

    def _do_record_page(self, url: str, status: int, etag: str | None, last_modified: str | None,
                        body: bytes, content_type: str | None, encoding: str | None, links: str | None) -> None:
        assert self.catalog is not None
        self.catalog.record_page(url, source=self.source or "", status=status, run_id=self.run_id, etag=etag,
                                 last_modified=last_modified, body=body, content_type=content_type,
                                 encoding=encoding, revisit=self.revisit, links=links)

    def _do_touch(self, url: str, fetched: bool = False) -> None:
        assert self.catalog is not None
        # fetched: a 304 (or the same bytes) grows the interval; a copy from the cache changes nothing
        self.catalog.touch_page(url, self.run_id, self.revisit if fetched else None)
        touched = self.catalog.touch_page_items(url, self.run_id)
        self._uncommitted["collegesearch/items/touched"] += touched

    def _do_gone(self, url: str, status: int) -> None:
        assert self.catalog is not None
        removed = self.catalog.mark_page_gone(url, source=self.source or "", status=status, run_id=self.run_id)
        self._uncommitted["collegesearch/items/removed"] += removed

    def _do_protect(self, url: str) -> None:
        assert self.catalog is not None
        self.catalog.protect_page_items(url, self.run_id)

    def _do_save_link(self, kwargs: dict[str, Any]) -> None:
        assert self.catalog is not None
        self.catalog.save_link(**kwargs)

    def queue_upsert(self, item: Item, page_url: str | None) -> None:
        """Store an item (in the next flush)."""
        self._queue(self._do_upsert, item, page_url)

    # -- pages -----------------------------------------------------------------------------------

    def page_record(self, url: str) -> PageRecord | None:
        """What the catalog stored for a URL."""
        if self.catalog is None:
            return None
        return self.catalog.get_page(url)

    def fetched_by_interrupted_run(self, page: PageRecord) -> bool:
        """True when a run being resumed already stored this page (and so its items)."""
        return bool(self.resume_ids) and page.last_run_id in self.resume_ids

    def page_begin(self, response: Response, record_links: bool = False) -> None:
        """A callback starts producing output for a page (``record_links``: its links are kept)."""
        self._pending.setdefault(response.url, 0)
        self.links_begin(response.url, record_links)

    def item_pending(self, page_url: str) -> None:
        """An item of a page is on its way through the pipelines."""
        self._pending[page_url] = self._pending.get(page_url, 0) + 1

    def item_done(self, page_url: str) -> None:
        """An item of a page was stored, dropped or failed."""
        left = self._pending.get(page_url, 0) - 1
        self._pending[page_url] = max(0, left)
        if left <= 0 and page_url in self._ended:
            self._finish_page(self._ended.pop(page_url))

    def page_end(self, response: Response) -> None:
        """The callback is exhausted; the page is done once its items are."""
        if self._pending.get(response.url, 0) <= 0:
            self._finish_page(response)
        else:
            self._ended[response.url] = response

    def _finish_page(self, response: Response) -> None:
        self._pending.pop(response.url, None)
        links = self.take_links(response.url)
        if response.status != 200 or not self.is_open or response.meta.get("page_cache", True) is False:
            return
        if "not_modified" in response.flags:
            self.keep_links(response.url, links, response.meta.get("stored_links"))
            if "not_due" in response.flags:  # answered from the cache (counted there): touched in a batch
                self.touch_later(response.url)
                return
            self.stats.inc_value("collegesearch/pages/unchanged")
            self._queue(self._do_touch, response.url, "resumed" not in response.flags)
            return
        self.stats.inc_value("collegesearch/pages/fetched")
        headers = response.headers

        def header(name: str) -> str | None:
            value = headers.get(name)
            return value.decode("latin-1") if value else None

        encoding = getattr(response, "encoding", None)
        self._queue(self._do_record_page, response.url, 200, header("ETag"), header("Last-Modified"),
                    response.body, header("Content-Type"), encoding,
                    encode_links(links) if links is not None else None)

    def page_gone(self, url: str, status: int) -> None:
        """A page answered 404/410: its items are tombstoned."""
        self.stats.inc_value("collegesearch/pages/gone")
        if self.is_open:
            self._queue(self._do_gone, url, status)

    def page_failed(self, url: str, kind: str, *, status: int | None = None, detail: str | None = None) -> None:
        """A page could not be fetched: count the error, keep (protect) its items."""
        self.stats.inc_value(f"collegesearch/errors/{kind}")
        logger.warning("%s: could not fetch %s (%s)", self.source, url, detail or kind if status is None
                       else f"HTTP {status}")
        self.protect(url)

    def protect(self, url: str) -> None:
        """Count a page's items as present although the page could not be read this time."""
        if self.is_open:
            self._queue(self._do_protect, url)

    # -- drops and linkage ---------------------------------------------------------------------

    def count_drop(self, reason: str, url: str | None, detail: str = "") -> None:
        """Count a dropped item (or page extraction failure) by reason, with a log line naming the URL."""
        self.stats.inc_value(f"collegesearch/dropped/{reason}")
        logger.warning("dropped %s from %s%s", reason, url or "?", f": {detail}" if detail else "")

    def _item_dropped(self, item: Any, response: Any, exception: BaseException, **kwargs: Any) -> None:
        if isinstance(exception, InvalidItem):
            self.stats.inc_value(f"collegesearch/dropped/{exception.reason}")
        else:
            self.stats.inc_value("collegesearch/dropped/other")

    def _item_error(self, item: Any, response: Any, failure: Any, **kwargs: Any) -> None:
        exc = getattr(failure, "value", None)
        self.stats.inc_value(f"collegesearch/dropped/pipeline_error:{type(exc).__name__}")

    # -- stats -----------------------------------------------------------------------------------

    def summary(self, reason: str) -> dict[str, Any]:
        """The run's stats as stored in the catalog (see README, 'Crawl runs')."""
        return run_summary(self.stats.get_stats(), source=self.source, run_id=self.run_id, reason=reason,
                           duration=max(time.monotonic() - self.started, 1e-6), resume_ids=self.resume_ids,
                           full=self.full)


class StoreUser:
    """Base of the pipelines and middlewares that work through the crawler's ``CrawlStore``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.store = CrawlStore.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler."""
        return cls(crawler)
