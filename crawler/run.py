"""`collegesearch crawl`: run the requested sources in one Scrapy process and report each run.

``run_crawl(settings, sources, base_url=, trigger=)`` resolves the source names (built-in
sample-site sources and user site profiles), asks the sample site where each built-in source
lives (``<base>/sources.json``), takes every source's crawl lock, and runs one spider per source
concurrently in ONE ``CrawlerProcess`` (Twisted's reactor cannot restart, so call this once per
process: tests and the scheduler run ``collegesearch crawl`` in a child process). Each spider
run is one run record in the catalog (see ``crawler.crawl_store.CrawlStore``); the summaries are
read back from those records. ``format_summary`` renders them for people.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crawler.sources import (
    SAMPLE_ONLY_SOURCES,
    CrawlError,
    discover_sample_site,
    resolve_sources,
    user_profiles,
)
from crawler.spiders import SOURCE_SPIDERS
from model.sources import BUILTIN_SOURCES, INSTITUTION_SOURCE, LINKING_SOURCES

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

    from collegesearch.config import Settings
    from crawler.crawl_store import CrawlStore

logger = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """How one source's run went (read back from its run record)."""

    source: str
    status: str
    """ok or failed (an interrupted run counts as failed here; ``run_status`` keeps the record's)."""
    run_id: int | None = None
    complete: bool = False
    error: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    run_status: str | None = None
    """The run record's status: ok, failed or interrupted."""

    @property
    def pages(self) -> int:
        """Pages processed (fetched with a body, or unchanged since the last crawl)."""
        return int(self.stats.get("pages", 0))

    @property
    def items(self) -> dict[str, int]:
        """Item outcomes: new, changed, unchanged, revived, removed, touched."""
        return dict(self.stats.get("items", {}))

    @property
    def duration(self) -> float:
        """Seconds the run took."""
        return float(self.stats.get("duration_s", 0.0))

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"source": self.source, "status": self.status, "run_status": self.run_status, "run_id": self.run_id,
                "complete": self.complete, "error": self.error, "stats": self.stats}


# -- sources ----------------------------------------------------------------------------------


def spider_class(source: str) -> type[Spider] | None:
    """The spider that crawls a built-in source."""
    spider: type[Spider] | None = SOURCE_SPIDERS.get(source)
    return spider


# -- the crawl ----------------------------------------------------------------------------------

_RAN = False


def scrapy_settings(settings: Settings, sources_info: dict[str, Any], trigger: str, full: bool = False) -> Any:
    """Scrapy settings for this crawl: crawler/settings.py plus the given configuration."""
    import importlib
    import os

    from scrapy.settings import Settings as ScrapySettings

    from crawler import settings as project

    result = ScrapySettings()
    # As `scrapy crawl` does, SCRAPY_SETTINGS_MODULE may name a module that extends crawler.settings.
    name = os.environ.get("SCRAPY_SETTINGS_MODULE") or "crawler.settings"
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise CrawlError(f"SCRAPY_SETTINGS_MODULE={name} cannot be imported: {exc}") from None
    result.setmodule(module, priority="project")
    result.setdict(project.from_config(settings), priority="cmdline")
    result.setdict({
        "COLLEGESEARCH_CONFIG_ERROR": None,
        "COLLEGESEARCH_SOURCES": sources_info,
        "COLLEGESEARCH_TRIGGER": trigger,
        "COLLEGESEARCH_FULL_CRAWL": full,
        # JSON logs: `collegesearch crawl` installed the JSON handler; Scrapy must not add its text one.
        "LOG_INSTALL_ROOT_HANDLER": settings.LOG_FORMAT != "json",
    }, priority="cmdline")
    return result


def run_crawl(
    settings: Settings, sources: list[str] | None, *, base_url: str | None = None, trigger: str = "manual",
    full: bool = False,
) -> list[RunSummary]:
    """Crawl the sources into the catalog concurrently; one run record and summary per source.

    A scheduled crawl (the default) fetches the known pages that are due, navigation pages, new
    URLs and pages whose sitemap lastmod is newer than our copy (``crawler.freshness``); ``full``
    fetches every page.
    """
    global _RAN
    if _RAN:
        raise CrawlError("a crawl already ran in this process (Twisted cannot restart); start a new process")
    names = resolve_sources(settings, sources)
    profiles = user_profiles(settings)
    sample_names = [n for n in names if n in BUILTIN_SOURCES or n in SAMPLE_ONLY_SOURCES]
    sources_info: dict[str, Any] = {}
    base = (base_url or settings.SAMPLE_SITE_URL or "http://127.0.0.1:8800").rstrip("/")
    if sample_names:
        served = discover_sample_site(base, user_agent=settings.user_agent)
        missing = [n for n in sample_names if n not in served]
        if missing:
            raise CrawlError(f"the sample site at {base} does not serve {', '.join(missing)} "
                             f"(it serves {', '.join(served) or 'nothing'})")
        sources_info = {n: served[n] for n in sample_names}

    from catalog import Catalog, CatalogError
    from catalog.prepare import ensure_current
    from crawler.source_locks import acquire_source_lock, release_source_lock
    from ops.locks import LockBusy

    try:
        # A new or older SQLite file is created or upgraded in a short child process: Alembic, once
        # imported, would stay in this crawl's memory to the end (catalog.prepare).
        ensure_current(settings.catalog_location)
        with Catalog(settings.catalog_location):
            pass  # opening it checks the file (or database) once more, and says clearly when it cannot
    except CatalogError as exc:
        raise CrawlError(str(exc)) from None

    acquired: list[str] = []
    try:
        for name in names:
            try:
                if acquire_source_lock(settings, name, purpose=f"crawl ({trigger})"):
                    acquired.append(name)
            except LockBusy as exc:
                raise CrawlError(f"cannot crawl {name}: {exc}") from None
        _RAN = True
        return _run_process(settings, names, profiles, sources_info, base, trigger, full)
    finally:
        for name in acquired:
            release_source_lock(name)


def _spider_for(name: str, profiles: dict[str, Any], sources_info: dict[str, Any], base: str) -> tuple[Any, dict]:
    """The spider class and its arguments for a source name."""
    cls = spider_class(name)
    if cls is not None:
        return cls, {"source_info": sources_info.get(name), "base_url": base, "sample_site": True}
    from crawler.spiders.generic import GenericSpider

    profile = profiles.get(name)
    if profile is not None and spider_class(profile.type) is not None:
        # A user's site with the structure of a built-in source: that source's navigation,
        # the profile's start URLs, items under the profile's name.
        info = {"base_url": profile.start_urls[0] if profile.start_urls else "", "start_urls": list(profile.start_urls),
                "sitemap_urls": list(profile.sitemap_urls)}
        return spider_class(profile.type), {"source_info": info, "source": name}
    if profile is not None:
        return GenericSpider, {"profile": profile}
    kwargs: dict[str, Any] = {"profile": name}
    if name in sources_info:
        kwargs.update(source_info=sources_info[name], base_url=base, sample_site=True)
    return GenericSpider, kwargs


def _run_process(settings: Settings, names: list[str], profiles: dict[str, Any], sources_info: dict[str, Any],
                 base: str, trigger: str, full: bool = False) -> list[RunSummary]:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.crawl_store import CrawlStore
    from crawler.disk_full import DISK_FULL_REASON
    from crawler.log_context import install_crawl_log_context

    if settings.LOG_LEVEL != "DEBUG":
        logging.disable(logging.INFO)  # the process logs every library's version at INFO while it starts
    try:
        process = CrawlerProcess(scrapy_settings(settings, sources_info, trigger, full))
    finally:
        logging.disable(logging.NOTSET)
    _quiet_scrapy_logging(settings.LOG_LEVEL)  # after: its logging setup resets the "scrapy" loggers
    install_crawl_log_context(settings.LOG_FORMAT)
    crawlers: dict[str, Crawler] = {}
    kwargs_by_name: dict[str, dict[str, Any]] = {}
    for name in names:
        cls, kwargs = _spider_for(name, profiles, sources_info, base)
        crawlers[name] = process.create_crawler(cls)
        kwargs_by_name[name] = kwargs

    # Records of the linking sources (reviews, directory) are linked to the institutions the
    # institution source brings. Crawled side by side, a review could reach the pipeline before
    # its school (always, on a first crawl), come out unmatched and be rewritten by the relink
    # pass. So when both are requested the linking sources start as soon as the institution
    # source is done (same process, same reactor); the others start at once. The crawl is CPU
    # bound in one process, so the total time hardly changes.
    waiting: list[str] = []
    if INSTITUTION_SOURCE in crawlers:
        waiting = [n for n in names if n in LINKING_SOURCES]
    if waiting:
        logger.info("%s start when %s is done, so their records link to its institutions",
                    " and ".join(waiting), INSTITUTION_SOURCE)

        def start_waiting(spider: Spider, reason: str) -> None:
            if reason in ("shutdown", DISK_FULL_REASON):  # (on a full disk they could store nothing)
                return
            for name in waiting:
                process.crawl(crawlers[name], **kwargs_by_name[name])

        crawlers[INSTITUTION_SOURCE].signals.connect(start_waiting, signal=signals.spider_closed)
    for name in names:
        if name not in waiting:
            process.crawl(crawlers[name], **kwargs_by_name[name])
    progress = _Progress(crawlers)
    for crawler in crawlers.values():
        crawler.signals.connect(progress.start, signal=signals.engine_started)
    from twisted.internet import reactor  # (the one CrawlerProcess installed)

    # (type: ignore: without the zope plugin mypy reads the interface method as if it took self)
    reactor.addSystemEventTrigger("before", "shutdown", _close_opened_spiders, crawlers)  # type: ignore[arg-type]
    process.start()
    progress.stop()

    # A crawler that never started (its turn never came) has no store, and no stats to make one from.
    summaries = [_summary_for(settings, name, CrawlStore.existing(crawler)) for name, crawler in crawlers.items()]
    _relink_after(settings, summaries)
    return summaries


def _close_opened_spiders(crawlers: dict[str, Crawler]) -> Any:
    """Before the reactor stops: close, as stopped by a signal, each spider whose run began but whose engine never ran.

    A stop signal that arrives while a spider is still opening (its run record written, the engine not yet
    started) finds nothing to stop: Scrapy's ``Crawler.stop`` only stops a running engine, so the reactor
    stopped under the open spider and its run stayed open. Closed here with Scrapy's own "shutdown" reason,
    the run is recorded like any run stopped by a signal: interrupted, and resumed by the next crawl.
    """
    from scrapy.utils.defer import deferred_from_coro
    from twisted.internet.defer import DeferredList

    from crawler.crawl_store import CrawlStore

    closing = []
    for crawler in crawlers.values():
        store = CrawlStore.existing(crawler)
        engine = crawler._engine  # (Scrapy's documented way to read it before the crawl has surely started)
        if (store is None or store.run_id is None or not store.is_open or engine is None or engine.running
                or engine.spider is None):
            continue
        logger.info("%s: stopped while its spider was opening; closing it", store.source)
        closing.append(deferred_from_coro(engine.close_async(reason="shutdown")))
    return DeferredList(closing, consumeErrors=True) if closing else None


def _quiet_scrapy_logging(level: str) -> None:
    # Scrapy's INFO lines (every middleware enabled, per-minute stats) drown the crawl's own
    # progress; keep them for DEBUG only.
    if level != "DEBUG":
        for name in ("scrapy", "scrapy.core.engine", "scrapy.middleware", "scrapy.extensions",
                     "scrapy.statscollectors", "scrapy.crawler", "scrapy.addons", "scrapy.utils.log",
                     "scrapy.core.scraper", "scrapy.spidermiddlewares.httperror"):
            logging.getLogger(name).setLevel(logging.WARNING)


class _Progress:
    """A progress line per source every few seconds (stderr), so long crawls show they move."""

    def __init__(self, crawlers: dict[str, Crawler], interval: float = 10.0) -> None:
        self.crawlers = crawlers
        self.interval = interval
        self.loop: Any = None

    def start(self) -> None:
        """Start reporting (once the reactor runs)."""
        if self.loop is None:
            from scrapy.utils.asyncio import create_looping_call

            self.loop = create_looping_call(self.report)
            self.loop.start(self.interval, now=False)

    def report(self) -> None:
        """Log one line with every running source's progress."""
        parts = []
        for name, crawler in self.crawlers.items():
            try:
                stats = crawler.stats
            except (AttributeError, RuntimeError):  # a crawler that has not started yet
                continue
            if stats is None or stats.get_value("collegesearch/run_id") is None:
                continue
            pages = (stats.get_value("collegesearch/pages/fetched", 0)
                     + stats.get_value("collegesearch/pages/unchanged", 0))
            items = sum(stats.get_value(f"collegesearch/items/{k}", 0) for k in ("new", "changed", "unchanged",
                                                                                   "revived"))
            errors = sum(v for k, v in stats.get_stats().items() if k.startswith("collegesearch/errors/"))
            parts.append(f"{name} {pages} pages {items} items" + (f" {errors} errors" if errors else ""))
        if parts:
            logger.info("progress: %s", "; ".join(parts))

    def stop(self) -> None:
        """Stop reporting."""
        if self.loop is not None and self.loop.running:
            self.loop.stop()


def _summary_for(settings: Settings, name: str, store: CrawlStore | None) -> RunSummary:
    from catalog import Catalog, CatalogError

    if store is None or store.run_id is None:
        reason = ((store.fatal_error if store is not None else None)
                  or "the crawl did not start (stopped before its turn, or see the log above)")
        return RunSummary(source=name, status="failed", error=reason)
    try:
        with Catalog(settings.catalog_location) as catalog:
            run = catalog.get_run(store.run_id)
    except CatalogError:
        if store.disk_full is None:
            raise
        # A full disk may not even leave room for SQLite's shared-memory file: report what this process saw.
        stats = store.closed_summary or {}
        return RunSummary(source=name, status="failed", run_id=store.run_id, error=store.disk_full, stats=stats,
                          run_status=stats.get("status", "failed"))
    if run is None:  # pragma: no cover - the record was written by this process
        return RunSummary(source=name, status="failed", run_id=store.run_id, error="run record missing")
    if run.status == "running" and store.disk_full is not None:
        # Its end could not be written either; the next crawl marks it interrupted and resumes it.
        return RunSummary(source=name, status="failed", run_id=run.id, error=store.disk_full,
                          stats=store.closed_summary or run.stats)
    if run.status == "running":
        # The spider never closed (the reactor stopped under it): record that honestly.
        with Catalog(settings.catalog_location) as catalog:
            catalog.mark_interrupted(run.id, "the crawl process stopped before the spider closed")
            run = catalog.get_run(run.id) or run
    return RunSummary(source=name, status="ok" if run.status == "ok" else "failed", run_id=run.id,
                      complete=run.complete, error=run.error, stats=run.stats, run_status=run.status)


def _relink_after(settings: Settings, summaries: list[RunSummary]) -> None:
    """After the institution source brought new schools, resolve other sources' unmatched records."""
    from catalog import Catalog
    from catalog.storage_errors import disk_full_message
    from crawler.disk_full import DISK_FULL_REASON, report_disk_full
    from crawler.linkage import relink, shared_index

    inst = next((s for s in summaries if s.source == INSTITUTION_SOURCE and s.run_id), None)
    if inst is None or any(s.stats.get("finish_reason") == DISK_FULL_REASON for s in summaries):
        return  # (nothing can be written on a full disk; the next crawl's relink pass does it)
    items = inst.items
    if not (items.get("new") or items.get("revived") or items.get("changed")):
        return
    try:
        with Catalog(settings.catalog_location) as catalog:
            index = shared_index(catalog, settings.LINK_MIN_SCORE)
            counts = relink(catalog, index)
            if counts.get("relinked"):
                logger.info("linked %s earlier unmatched records to institutions this crawl brought",
                            counts["relinked"])
                # Fuse them now, so the records users see (and each web node's index follower, woken by
                # the fusion's notice) have the links when the crawl ends, not at the next fusion.
                catalog.fuse_pending()
                stats = dict(inst.stats)
                stats["relinked_other_sources"] = counts["relinked"]
                catalog.update_run_stats(inst.run_id or 0, stats)
                inst.stats = stats
    except Exception as exc:
        message = disk_full_message(exc, settings.catalog_path)
        if message is None:
            raise
        # The runs are recorded; only this extra pass is lost (the next crawl's relink does it). The
        # command still fails, so that whoever runs it learns the disk is full.
        report_disk_full(message)
        inst.status, inst.error = "failed", message


# -- the summary -----------------------------------------------------------------------------------


def format_summary(summaries: list[RunSummary]) -> str:
    """A table of the runs for people: pages, items, drops, errors, HTTP statuses, speed."""
    if not summaries:
        return "nothing crawled"
    lines = []
    header = f"{'source':<18} {'status':<11} {'pages':>6} {'new':>6} {'changed':>7} {'same':>6} {'removed':>7} " \
             f"{'dropped':>7} {'errors':>6} {'secs':>6} {'pages/s':>7}"
    lines.append(header)
    lines.append("-" * len(header))
    for s in summaries:
        st = s.stats
        items = s.items
        dropped = sum(int(v) for v in st.get("dropped", {}).values())
        errors = sum(int(v) for v in st.get("errors", {}).values())
        status = (s.run_status or s.status) + ("" if s.status != "ok" or s.complete else "*")
        lines.append(
            f"{s.source:<18} {status:<11} {s.pages:>6} {items.get('new', 0) + items.get('revived', 0):>6} "
            f"{items.get('changed', 0):>7} {items.get('unchanged', 0) + items.get('touched', 0):>6} "
            f"{items.get('removed', 0):>7} {dropped:>7} {errors:>6} {s.duration:>6.1f} "
            f"{float(st.get('pages_per_s', 0.0)):>7.1f}"
        )
    notes = []
    for s in summaries:
        st = s.stats
        detail = []
        if st.get("pages_not_modified") or st.get("pages_resumed"):
            detail.append(f"{st.get('pages_not_modified', 0)} not modified (304)"
                          + (f", {st['pages_resumed']} resumed from the interrupted run" if st.get("pages_resumed")
                             else ""))
        if st.get("pages_not_due"):
            detail.append(f"{st['pages_not_due']} not due (left alone by the freshness schedule)")
        if st.get("pages_links_reused"):
            detail.append(f"{st['pages_links_reused']} unchanged pages' links followed from the catalog, not parsed")
        if st.get("mode") == "full":
            detail.append("full crawl")
        if st.get("dropped"):
            detail.append("dropped: " + ", ".join(f"{k} {v}" for k, v in sorted(st["dropped"].items())))
        if st.get("errors"):
            detail.append("errors: " + ", ".join(f"{k} {v}" for k, v in sorted(st["errors"].items())))
        link = st.get("linkage") or {}
        if any(link.get(k) for k in ("matched", "ambiguous", "unmatched")):
            detail.append("linked: " + ", ".join(f"{k} {link.get(k, 0)}" for k in ("matched", "ambiguous",
                                                                                    "unmatched")))
        if st.get("http_status"):
            detail.append("HTTP " + ", ".join(f"{k}: {v}" for k, v in sorted(st["http_status"].items())))
        if s.error:
            detail.append(("error: " if s.status != "ok" else "note: ") + s.error)
        elif s.status == "ok" and not s.complete:
            detail.append("* finished with unrecovered errors: counted as incomplete, nothing was tombstoned")
        if detail:
            notes.append(f"{s.source}: " + "; ".join(detail))
    return "\n".join(lines + ([""] + notes if notes else []))


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - `python -m crawler.run SOURCE...`
    """Run a crawl without the click CLI (debugging aid)."""
    from collegesearch.config import load_settings

    summaries = run_crawl(load_settings(), (argv if argv is not None else sys.argv[1:]) or None)
    print(format_summary(summaries))
    return 1 if any(s.status == "failed" for s in summaries) else 0
