"""Which sources a crawl may name, and where the sample site serves the built-in ones.

The built-in sources are declared in ``model.sources``; the sample site also serves a hostile
area (``adversarial``), crawled only there; users add sites in the SITES_FILE (``crawler.profiles``).
The sample site says where it serves each source in ``<base>/sources.json``. ``crawler.run``
and the spiders (under a plain ``scrapy crawl``) both read it through ``discover_sample_site``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from model.sources import BUILTIN_SOURCES

if TYPE_CHECKING:
    from collegesearch.config import Settings

# The sample site's hostile area, crawled only there (the built-in sources are in model.sources).
SAMPLE_ONLY_SOURCES: tuple[str, ...] = ("adversarial",)


class CrawlError(RuntimeError):
    """A crawl cannot start; the message is one line that says what to fix."""


def discover_sample_site(base_url: str, timeout: float = 10.0, user_agent: str | None = None) -> dict[str, dict[str, Any]]:
    """Where the sample site serves each source: ``{name: {base_url, start_urls, sitemap_urls}}``."""
    base = base_url.rstrip("/")
    hint = "start one with `collegesearch sample-site` or pass --base-url"
    request = urllib.request.Request(base + "/sources.json", headers={"User-Agent": user_agent} if user_agent else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - http(s) only
            data = json.loads(resp.read().decode("utf-8"))
    except (urllib.error.URLError, OSError) as exc:
        raise CrawlError(f"no sample site answers at {base}; {hint}") from exc
    except ValueError as exc:
        raise CrawlError(f"{base}/sources.json is not the sample site's source list ({exc}); {hint}") from exc
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, dict):
        raise CrawlError(f"{base}/sources.json has no 'sources' table; is {base} the collegesearch sample site?")
    return sources


def user_profiles(settings: Settings) -> dict[str, Any]:
    """Site profiles from SITES_FILE, by source name (a broken file is a one-line CrawlError)."""
    from crawler.profiles import ProfileError, load_site_profiles

    try:
        return dict(load_site_profiles(settings))
    except ProfileError as exc:
        raise CrawlError(str(exc)) from None


def valid_sources(settings: Settings) -> list[str]:
    """Every name `collegesearch crawl` accepts."""
    names = list(BUILTIN_SOURCES) + list(SAMPLE_ONLY_SOURCES)
    names += [n for n in user_profiles(settings) if n not in names]
    return names


def resolve_sources(settings: Settings, sources: list[str] | None) -> list[str]:
    """The requested sources in order, without duplicates; unknown names are an error."""
    requested = list(dict.fromkeys(sources or settings.SOURCES))
    if not requested:
        raise CrawlError("no sources to crawl: name some or set COLLEGESEARCH_SOURCES")
    valid = valid_sources(settings)
    unknown = [s for s in requested if s not in valid]
    if unknown:
        raise CrawlError(f"unknown source{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                         f"valid sources: {', '.join(valid)}")
    return requested
