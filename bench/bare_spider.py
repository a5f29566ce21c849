"""The crawl benchmark's baseline: a bare Scrapy spider that fetches a list of URLs and parses nothing.

    python -m bench.bare_spider URLS_FILE

``URLS_FILE`` holds one URL per line: the requests the full crawl made, read from the sample site's
access log. The spider runs with the crawler's own concurrency settings (CONCURRENT_REQUESTS,
the per-host slots of the loopback hosts with no delay, the same User-Agent, the per-host gate
that holds Scrapy's asyncio downloader to those slots) but without anything that makes the
crawler a crawler: no robots.txt handling (robots.txt is simply one of the URLs), no redirects
(both ends of a redirect are in the list), no page cache or conditional requests, no extraction,
no link following, no item pipeline, no catalog. Its pages/s is what Scrapy and the sample site
can do on this machine; the full crawl is compared with it. Prints one JSON line with its counts.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess


class BareSpider(scrapy.Spider):
    """Fetch every URL once; parse nothing."""

    name = "bare"

    def __init__(self, urls: Sequence[str], slots: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = list(urls)
        self.slots = dict(slots or {})
        self.pages = 0
        self.failures = 0
        self.statuses: dict[int, int] = {}

    async def start(self) -> AsyncIterator[Any]:
        """All URLs up front: the scheduler and the per-host slots pace them."""
        for url in self.urls:
            slot = self.slots.get(urlsplit(url).hostname or "")
            # the crawler puts sample-site pages in their own download slot (no delay, its concurrency)
            meta = {"download_slot": slot, "autothrottle_dont_adjust_delay": True} if slot else {}
            yield scrapy.Request(url, callback=self.parse, errback=self.failed, dont_filter=True, meta=meta)

    def parse(self, response: scrapy.http.Response) -> None:
        """Count the page; nothing else."""
        self.pages += 1
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1

    def failed(self, failure: Any) -> None:
        """Count a failed request."""
        self.failures += 1


def loopback_slots(download_slots: dict[str, Any]) -> dict[str, str]:
    """Host -> the download slot the crawler uses for that loopback host (when it names one)."""
    from crawler import settings as project

    pattern = getattr(project, "SAMPLE_SITE_SLOT", "{host}")
    slots = {}
    for host in project.LOOPBACK_HOSTS:
        key = pattern.format(host=host)
        if key in download_slots:
            slots[host] = key
    return slots


def bare_settings() -> dict[str, Any]:
    """Scrapy settings with the crawler's concurrency and nothing else of the crawler."""
    from collegesearch.config import load_settings
    from crawler import settings as project

    cfg = load_settings()
    configured = project.from_config(cfg)
    return {
        "USER_AGENT": configured["USER_AGENT"],
        "CONCURRENT_REQUESTS": project.CONCURRENT_REQUESTS,
        "CONCURRENT_ITEMS": project.CONCURRENT_ITEMS,
        "CONCURRENT_REQUESTS_PER_DOMAIN": configured["CONCURRENT_REQUESTS_PER_DOMAIN"],
        "DOWNLOAD_DELAY": configured["DOWNLOAD_DELAY"],
        "DOWNLOAD_SLOTS": configured["DOWNLOAD_SLOTS"],
        "DOWNLOAD_TIMEOUT": project.DOWNLOAD_TIMEOUT,
        "DOWNLOAD_MAXSIZE": project.DOWNLOAD_MAXSIZE,
        # AutoThrottle would add a delay on loopback; the crawler tells it not to (meta flag), so off here
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "REDIRECT_ENABLED": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "HTTPERROR_ALLOW_ALL": True,
        "RETRY_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "LOGSTATS_INTERVAL": 0,
        # The same gate the crawler uses, so both hold each host to the same number of parallel requests.
        "DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.SlotConcurrencyMiddleware": 990},
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Crawl the URL list and print {"pages", "failures", "statuses", "seconds"} as one JSON line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m bench.bare_spider URLS_FILE", file=sys.stderr)
        return 2
    urls = [u.strip() for u in Path(args[0]).read_text().splitlines() if u.strip()]
    logging.disable(logging.INFO)  # the start-up banner
    settings = bare_settings()
    process = CrawlerProcess(settings)
    logging.disable(logging.NOTSET)
    crawler = process.create_crawler(BareSpider)
    started = time.perf_counter()
    process.crawl(crawler, urls=urls, slots=loopback_slots(settings["DOWNLOAD_SLOTS"]))
    process.start()
    spider = crawler.spider
    assert isinstance(spider, BareSpider)
    print(json.dumps({"urls": len(urls), "pages": spider.pages, "failures": spider.failures,
                      "statuses": spider.statuses, "seconds": round(time.perf_counter() - started, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
