"""Spiders: navigation only (start URLs, pagination, detail links); extraction is in crawler/pages.

One spider per built-in source, named as the source (``scrapy crawl bls_ooh`` and
``collegesearch crawl bls_ooh`` name the same thing); the source registry (``model.sources``)
says which class it is, and ``SOURCE_SPIDERS`` maps each built-in source to it. User site
profiles (and the sample site's ``adversarial`` area) use ``generic.GenericSpider``.
"""

from __future__ import annotations

import importlib
from typing import Any

from model.sources import SOURCES


class _SpiderMap(dict):  # type: ignore[type-arg]
    """Source name -> spider class, imported on first use (importing this package stays cheap)."""

    def __missing__(self, source: str) -> Any:
        if source not in SOURCES:
            raise KeyError(source)
        module, cls = SOURCES[source].spider.split(":")
        value = getattr(importlib.import_module(module), cls)
        self[source] = value
        return value

    def get(self, source: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[source]
        except KeyError:
            return default


SOURCE_SPIDERS: dict[str, Any] = _SpiderMap()
