"""Scrapy settings for the collegesearch crawler, derived from config.py.

`scrapy crawl <spider>` (scrapy.cfg points here) and `collegesearch crawl` (crawler/run.py) use
the same values: the static ones below, then ``from_config(settings)`` for everything an operator
configures (User-Agent, delays, concurrency, time limit...). Importing this module only reads the
configuration; it never touches the data directory, so `scrapy list` works before any crawl.
Scrapy-level tuning (timeouts, retries, sizes) can come from another module that starts with
``from crawler.settings import *``, named by ``SCRAPY_SETTINGS_MODULE`` as Scrapy does.
"""

from __future__ import annotations

import logging
from typing import Any

from collegesearch.config import ConfigError, Settings, load_settings

BOT_NAME = "collegesearch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# -- politeness -------------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False  # a crawler needs no session; session cookies invite session-id URLs
TELNETCONSOLE_ENABLED = False
CONCURRENT_REQUESTS = 32
# The pipelines are synchronous, so items gain nothing from being processed in parallel, while
# Scrapy starts CONCURRENT_ITEMS asyncio tasks for every response (100 by default): most of the
# cost of an unchanged (304) page.
CONCURRENT_ITEMS = 4
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
# The sample site's own sources (built-in sources and areas named in its sources.json) run on
# loopback hosts: their requests use the download slot "sample-site:<host>", which has
# SAMPLE_SITE_CONCURRENCY parallel requests and no delay (see from_config). Any other site, even
# a user's profile pointing at a loopback host, gets the real-site politeness settings.
SAMPLE_SITE_SLOT = "sample-site:{host}"
LOOPBACK_HOSTS = ["localhost", *(f"127.0.0.{i}" for i in range(1, 255))]

# -- URLs, retries, redirects ----------------------------------------------------------------
REQUEST_FINGERPRINTER_CLASS = "crawler.middlewares.CanonicalRequestFingerprinter"
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
CRAWL_RETRY_BACKOFF_BASE = 0.5  # seconds before the first retry; doubles per retry (jittered)
CRAWL_RETRY_BACKOFF_MAX = 30.0
REDIRECT_MAX_TIMES = 10
URLLENGTH_LIMIT = 2000
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024  # bigger pages are skipped with a logged reason, not parsed
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
# Sitemaps (crawler/sitemaps.py). Scrapy settings, next to DOWNLOAD_MAXSIZE, because they tune
# how Scrapy responses are read, not what an operator deploys; override them as any Scrapy setting.
# A sitemap bigger than this once decompressed is skipped with a warning (the sitemaps.org
# protocol allows 50 MB uncompressed; the cap also stops a gzip bomb).
SITEMAP_MAX_SIZE = 50 * 1024 * 1024
# Sitemap indexes are followed this many levels below the sitemaps a source names (or its
# robots.txt announces); real sites nest one or two. A deeper index is skipped with a warning.
SITEMAP_MAX_DEPTH = 3
# Extra query parameters to drop when canonicalising (on top of utm_*, gclid, sessionid...).
CANONICAL_EXTRA_DROP_PARAMS: list[str] = []

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.CanonicalRedirectMiddleware": 600,
    # Responses pass from high to low numbers: PageCache sees what is left after retries and
    # redirects (a final 5xx, a 304, a 404), RelCanonical sees the page the spider would get.
    "crawler.page_cache.PageCacheMiddleware": 540,
    "crawler.middlewares.RelCanonicalMiddleware": 530,
    # Right next to the download handler: holds each host to its concurrency (see the class).
    "crawler.middlewares.SlotConcurrencyMiddleware": 990,
}
SPIDER_MIDDLEWARES = {
    # Output passes from high to low numbers: canonical URLs first, page bookkeeping last.
    "crawler.middlewares.CanonicalRequestsMiddleware": 950,
    "crawler.page_cache.PageTrackerMiddleware": 20,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ValidationPipeline": 100,
    "crawler.pipelines.LinkagePipeline": 200,
    "crawler.pipelines.CatalogPipeline": 300,
}
EXTENSIONS = {
    "crawler.crawl_store.CrawlStore": 100,
}
LOG_FORMATTER = "crawler.pipelines.ItemLogFormatter"
LOGSTATS_INTERVAL = 60.0
# Run stats (and a flush of pending writes) go to the catalog this often, in seconds.
CRAWL_FLUSH_INTERVAL = 1.0
CRAWL_FLUSH_ITEMS = 200
CRAWL_STATS_INTERVAL = 5.0

FEED_EXPORT_ENCODING = "utf-8"
# FEEDS stays available: `scrapy crawl bls_ooh -O careers.jsonl` exports JSON Lines.

# Filled in by crawler/run.py (or a spider discovering the sample site): source name -> info.
COLLEGESEARCH_SOURCES: dict[str, Any] = {}
COLLEGESEARCH_TRIGGER = "manual"


def from_config(cfg: Settings) -> dict[str, Any]:
    """The Scrapy settings an operator controls through config.py."""
    loopback = {"concurrency": cfg.SAMPLE_SITE_CONCURRENCY, "delay": 0.0, "jitter": 0.0}
    return {
        "COLLEGESEARCH_CONFIG": cfg,
        "USER_AGENT": cfg.user_agent,
        "DOWNLOAD_DELAY": cfg.DOWNLOAD_DELAY,
        "CONCURRENT_REQUESTS_PER_DOMAIN": cfg.CONCURRENT_REQUESTS_PER_HOST,
        "AUTOTHROTTLE_ENABLED": cfg.AUTOTHROTTLE,
        "AUTOTHROTTLE_START_DELAY": max(cfg.DOWNLOAD_DELAY, 1.0),
        "DOWNLOAD_SLOTS": {SAMPLE_SITE_SLOT.format(host=host): dict(loopback) for host in LOOPBACK_HOSTS},
        "CLOSESPIDER_TIMEOUT": cfg.CRAWL_TIME_LIMIT,
        "LOG_LEVEL": cfg.LOG_LEVEL,
    }


def _load() -> tuple[Settings, str | None]:
    try:
        return load_settings(), None
    except ConfigError as exc:
        # Keep `scrapy list` usable; the crawl itself refuses to start with this message.
        logging.getLogger(__name__).error("configuration error: %s", exc)
        return load_settings(env={}, config_file=None), str(exc)


_CONFIG, COLLEGESEARCH_CONFIG_ERROR = _load()
globals().update(from_config(_CONFIG))
