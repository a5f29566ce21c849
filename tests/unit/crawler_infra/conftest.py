"""A crawler wired to a real catalog in a temp dir, without a reactor or network."""

from __future__ import annotations

from typing import Any

import pytest
import scrapy
from scrapy.utils.test import get_crawler


class InfraSpider(scrapy.Spider):
    """A spider that only names its source."""

    name = "infra_test"
    source = "testsrc"


def project_settings(settings: Any, **extra: Any) -> dict[str, Any]:
    """crawler/settings.py values for the given collegesearch settings (periodic calls off)."""
    from crawler import settings as project

    values = {k: getattr(project, k) for k in dir(project) if k.isupper()}
    values.update(project.from_config(settings))
    values.update({"COLLEGESEARCH_CONFIG_ERROR": None, "CRAWL_FLUSH_INTERVAL": 0, "CRAWL_STATS_INTERVAL": 0})
    values.update(extra)
    return values


@pytest.fixture
def make_crawler(settings):
    """Build crawlers whose store is open on the temp catalog; stores are closed afterwards."""
    made = []

    def make(**extra: Any):
        crawler = get_crawler(InfraSpider, project_settings(settings, **extra))
        crawler.spider = InfraSpider.from_crawler(crawler)
        crawler.stats.open_spider()
        made.append(crawler)
        return crawler

    yield make
    from crawler.crawl_store import CrawlStore
    from crawler.source_locks import release_source_lock

    for crawler in made:
        store = CrawlStore.of(crawler)
        if store.catalog is not None:
            store.catalog.close()
            store.catalog = None
    release_source_lock("testsrc")


def open_spider_store(settings: Any, spider_cls: type, base: str, **extra: Any) -> tuple[Any, Any, Any]:
    """A catalog spider on ``base`` with its crawl store open on the temp catalog: (crawler, spider, store)."""
    from crawler.crawl_store import CrawlStore

    crawler = get_crawler(spider_cls, project_settings(settings, **extra))
    spider = spider_cls.from_crawler(crawler, source_info={"base_url": base, "start_urls": [base + "/"]})
    crawler.spider = spider
    crawler.stats.open_spider()
    store = CrawlStore.of(crawler)
    store.open(spider)
    return crawler, spider, store
