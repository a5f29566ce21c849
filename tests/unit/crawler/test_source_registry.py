"""The source registry (model.sources) is what the crawler builds its spiders, page modules and profiles from."""

from __future__ import annotations

import importlib

import pytest

from crawler.profiles import OTHER_PAGE_MODULES, PAGE_MODULES, builtin_profiles
from crawler.spiders import SOURCE_SPIDERS
from model.sources import SOURCES


@pytest.mark.parametrize("name", list(SOURCES))
def test_spider_is_named_as_its_source(name: str) -> None:
    """`scrapy crawl <source>` and `collegesearch crawl <source>` name the same spider."""
    spider = SOURCE_SPIDERS[name]
    assert spider.name == name
    assert spider.source == name
    module, cls = SOURCES[name].spider.split(":")
    assert spider is getattr(importlib.import_module(module), cls)


@pytest.mark.parametrize("name", list(SOURCES))
def test_builtin_profile_comes_from_the_registry(name: str) -> None:
    source = SOURCES[name]
    profile = builtin_profiles()[name]
    assert profile.builtin and profile.type == source.page_module and profile.kinds == source.kinds
    assert profile.start_urls == source.site.start_urls and profile.follow == source.site.follow
    assert profile.description == source.description
    assert source.page_module in PAGE_MODULES
    assert callable(importlib.import_module(f"crawler.pages.{source.page_module}").page_for)


def test_page_modules_are_the_sources_and_the_others() -> None:
    assert "generic" in OTHER_PAGE_MODULES
    assert set(PAGE_MODULES) == {s.page_module for s in SOURCES.values()} | set(OTHER_PAGE_MODULES)
    assert list(builtin_profiles()) == list(SOURCES)
    assert SOURCE_SPIDERS.get("generic") is None and SOURCE_SPIDERS.get("nope") is None
