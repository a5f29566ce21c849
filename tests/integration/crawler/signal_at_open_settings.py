"""Scrapy settings for the stop-while-opening test (SCRAPY_SETTINGS_MODULE): an extension that sends its own
process SIGTERM once the run has started but before the engine runs, the window a scheduler's stop can hit."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from crawler.settings import *  # noqa: F403
from crawler.settings import EXTENSIONS as _EXTENSIONS


class SignalAtOpen:
    """On spider_opened, after the run record exists: SIGTERM to this process, then hold the opening 0.5 s."""

    def __init__(self, crawler: Any) -> None:
        from scrapy import signals

        self.crawler = crawler
        crawler.signals.connect(self.opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Any) -> SignalAtOpen:
        """Extension entry point."""
        return cls(crawler)

    async def opened(self, spider: Any) -> None:
        """Send the signal while the engine is still opening (Scrapy's handler runs at the next reactor turn)."""
        from crawler.crawl_store import CrawlStore

        store = CrawlStore.existing(self.crawler)
        if store is None or store.run_id is None:  # the store must have started the run first
            raise RuntimeError("SignalAtOpen ran before the crawl store opened the run")
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.5)


EXTENSIONS = {**_EXTENSIONS, "tests.integration.crawler.signal_at_open_settings.SignalAtOpen": 900}
