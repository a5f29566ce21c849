"""Scrapy settings for the benchmarks' smoke mode: the crawler's own, stopped after a few pages.

Named by ``SCRAPY_SETTINGS_MODULE`` (which ``collegesearch crawl`` honours), so the smoke run
exercises the real crawl command in seconds; its figures mean nothing.
"""

from __future__ import annotations

from crawler.settings import *  # noqa: F403 - extend the project's settings, as Scrapy documents

CLOSESPIDER_PAGECOUNT = 25
