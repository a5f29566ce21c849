"""Scrapy settings for fault tests (SCRAPY_SETTINGS_MODULE): short timeouts, one quick retry."""

from crawler.settings import *  # noqa: F403

DOWNLOAD_TIMEOUT = 2
RETRY_TIMES = 1
CRAWL_RETRY_BACKOFF_BASE = 0.05
