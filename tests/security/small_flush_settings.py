"""Scrapy settings for the full-disk test (SCRAPY_SETTINGS_MODULE): commit every few items, so that a tiny disk
fills up midway through the crawl (after some pages are safely stored), not in the first commit."""

from crawler.settings import *  # noqa: F403

CRAWL_FLUSH_ITEMS = 20
