"""Types shared by the page modules and the site: a page key, a redirect, a render context."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from model.sources import BUILTIN_SOURCES

CRAWLED_SOURCES: tuple[str, ...] = BUILTIN_SOURCES
"""The built-in sources (``model.sources``), served here under their real sites' paths."""
SOURCES: tuple[str, ...] = (*CRAWLED_SOURCES, "adversarial")
"""Everything the site serves: the built-in sources and the hostile area (not crawled by default)."""
SOURCE_HOSTS: dict[str, str] = {
    "portal": "127.0.0.1",
    "bls_ooh": "127.0.0.2",
    "collegenavigator": "127.0.0.3",
    "directory": "127.0.0.4",
    "reviews": "127.0.0.5",
    "adversarial": "127.0.0.6",
}


@dataclass(frozen=True, slots=True)
class Page:
    """A servable page: which source, which kind, its parsed arguments and its canonical path+query."""

    source: str
    kind: str
    args: tuple
    canonical: str


@dataclass(frozen=True, slots=True)
class Redirect:
    """An HTTP redirect to a path on the same source (or an absolute URL)."""

    location: str
    status: int = 301


@dataclass(frozen=True, slots=True)
class Ctx:
    """What rendering needs besides the page model."""

    faults: bool
    base: Mapping[str, str]
    """source (and 'portal') -> base URL such as http://127.0.0.2:8800"""
    lastmod: dt.date
    """Date the page last changed (shown by pages that print their own date)."""
    epoch: int


@dataclass(frozen=True, slots=True)
class Body:
    """A rendered response body."""

    data: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
