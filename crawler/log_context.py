"""The crawl's log context: ``source`` and ``run_id`` on every record a spider's crawl logs (JSON logs).

Several sources crawl side by side in one process (one reactor thread), so the context cannot be
a thread or context variable: it comes from the spider Scrapy attaches to its records (``extra``
``spider``, as ``Spider.logger`` and the engine do) and from that crawler's run record.
"""

from __future__ import annotations

import logging

from crawler.crawl_store import CrawlStore


class CrawlContextFilter(logging.Filter):
    """Adds ``source`` and ``run_id`` to records that carry a spider (and keeps values a record already has)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record; only fills in its context."""
        spider = getattr(record, "spider", None)
        if spider is None:
            return True
        crawler = getattr(spider, "crawler", None)
        store = CrawlStore.existing(crawler) if crawler is not None else None
        if getattr(record, "source", None) is None:
            record.source = (store.source if store is not None else None) or getattr(spider, "name", None)
        if getattr(record, "run_id", None) is None and store is not None and store.run_id is not None:
            record.run_id = store.run_id
        return True


def install_crawl_log_context(log_format: str) -> None:
    """In JSON mode, put the crawl's context on every root handler (text lines keep Scrapy's own format)."""
    if log_format != "json":
        return
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, CrawlContextFilter) for f in handler.filters):
            handler.addFilter(CrawlContextFilter())
