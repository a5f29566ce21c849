"""Fixtures of the whole-site crawl tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.crawler.crawl_history import History, crawl_history


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """The four crawls of the sample site, run once for every module that uses them."""
    yield from crawl_history(tmp_path_factory)
