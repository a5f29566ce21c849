"""Reading sitemaps the way sites publish them: plain or gzipped, index or urlset, announced by robots.txt.

One place turns a sitemap response into what the spiders need: its type (``sitemapindex`` or
``urlset``, told by the root element as Scrapy's ``Sitemap`` does, never by the URL), and its
entries with ``loc`` and ``lastmod`` (an aware datetime, or None when missing or unreadable).
Scrapy's own helpers do the work: ``scrapy.utils.sitemap.Sitemap`` parses (lxml, entities off),
``scrapy.utils.gz.gunzip`` decompresses with a size cap, and the ``Sitemap:`` lines of robots.txt
come from the parser Scrapy's RobotsTxtMiddleware already built (or ``sitemap_urls_from_robots``
when the spider fetches robots.txt itself). ``SitemapSpider`` itself does not fit: our spiders
route sitemap pages through their own callbacks, priorities and link rules, and need ``lastmod``
and a nesting cap it lacks.

A sitemap that cannot be read raises ``SitemapError``; the spider logs it and loses only that
shortcut (the listings still reach every page).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from scrapy.http import XmlResponse
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

if TYPE_CHECKING:
    from scrapy.http import Response

SITEMAP_TYPES = ("sitemapindex", "urlset")
_XML_START = re.compile(rb"^\s*(?:\xef\xbb\xbf)?\s*<")
_YEAR_MONTH = re.compile(r"^\d{4}(-\d{2})?$")


class SitemapError(ValueError):
    """A sitemap that cannot be used (too large, not gzip or XML, not a sitemap); the message says why."""


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    """One ``<url>`` or ``<sitemap>`` element."""

    loc: str
    lastmod: datetime | None = None
    """When the page (or nested sitemap) last changed, as the site says; None when absent or invalid."""
    lastmod_raw: str | None = None
    """The ``<lastmod>`` text as written."""
    alternate: tuple[str, ...] = ()
    """``xhtml:link`` alternates (other languages of the same page)."""


@dataclass(frozen=True, slots=True)
class SitemapDocument:
    """A parsed sitemap: its type and its entries."""

    type: str
    """``sitemapindex`` (entries are sitemaps) or ``urlset`` (entries are pages)."""
    entries: tuple[SitemapEntry, ...]

    @property
    def is_index(self) -> bool:
        """True for a sitemap index (its entries are sitemaps to read in turn)."""
        return self.type == "sitemapindex"


def sitemap_body(response: Response, max_size: int) -> bytes:
    """The sitemap's XML bytes: gunzipped (capped at ``max_size`` bytes) when the body is gzip.

    Like ``SitemapSpider._get_sitemap_body``: gzip is recognised by its magic bytes, whatever the
    URL or Content-Type says (a server may also have sent plain XML for ``.xml.gz`` with
    ``Content-Encoding: gzip``, which the compression middleware already undid).
    """
    if gzip_magic_number(response):
        try:
            return gunzip(response.body, max_size=max_size)
        except ValueError as exc:  # scrapy's _DecompressionMaxSizeExceeded (a private ValueError)
            raise SitemapError(f"more than {max_size} bytes once decompressed") from exc
        except (OSError, EOFError) as exc:
            raise SitemapError(f"broken gzip data ({exc})") from exc
    body = response.body
    if max_size and len(body) > max_size:
        raise SitemapError(f"{len(body)} bytes, over the {max_size}-byte cap")
    if isinstance(response, XmlResponse) or _XML_START.match(body[:64]):
        return body
    raise SitemapError("neither XML nor gzip")


def parse_sitemap(body: bytes) -> SitemapDocument:
    """Type and entries of sitemap XML (``SitemapError`` when it is not a sitemap at all)."""
    try:
        sitemap = Sitemap(body)
        entries = tuple(_entry(raw) for raw in sitemap)
    except (StopIteration, SyntaxError) as exc:  # lxml's XMLSyntaxError is a SyntaxError
        raise SitemapError(f"not readable as XML ({str(exc) or 'no root element'})") from exc
    if sitemap.type not in SITEMAP_TYPES:
        raise SitemapError(f"root element <{sitemap.type}> is neither <sitemapindex> nor <urlset>")
    return SitemapDocument(sitemap.type, tuple(e for e in entries if e.loc))


def read_sitemap(response: Response, max_size: int) -> SitemapDocument:
    """A sitemap response, decompressed if need be, parsed and typed."""
    return parse_sitemap(sitemap_body(response, max_size))


def _entry(raw: dict[str, object]) -> SitemapEntry:
    lastmod_raw = raw.get("lastmod")
    text = lastmod_raw if isinstance(lastmod_raw, str) and lastmod_raw else None
    alternate = raw.get("alternate")
    return SitemapEntry(
        loc=str(raw.get("loc") or "").strip(), lastmod=parse_lastmod(text), lastmod_raw=text,
        alternate=tuple(str(a) for a in alternate) if isinstance(alternate, list) else (),
    )


def parse_lastmod(text: str | None) -> datetime | None:
    """A ``<lastmod>`` value (W3C Datetime) as an aware datetime; None when absent or invalid.

    W3C Datetime is a profile of ISO 8601 that ``datetime.fromisoformat`` reads (Python 3.11+),
    except its year and year-month forms, handled here; no extra dependency is needed. A time
    without a zone (not allowed by the format, but seen) is taken as UTC.
    """
    if not text:
        return None
    text = text.strip()
    try:
        if _YEAR_MONTH.match(text):
            value = datetime.strptime(text, "%Y-%m" if "-" in text else "%Y")
        else:
            value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def sitemaps_from_robots(body: bytes, robots_url: str) -> list[str]:
    """The absolute URLs of a robots.txt's ``Sitemap:`` lines, in order, without repeats."""
    return _absolute(sitemap_urls_from_robots(body, base_url=robots_url), robots_url)


def sitemaps_of_robot_parser(robotparser: object, robots_url: str) -> list[str] | None:
    """The ``Sitemap:`` lines a parsed robots.txt holds (as Scrapy's RobotsTxtMiddleware parsed it),
    or None when the parser does not expose them.

    Scrapy's ``RobotParser`` interface only answers allowed / crawl_delay, but its parsers keep the
    library's parser in ``rp``: Protego (the default ``ROBOTSTXT_PARSER``) lists ``sitemaps``,
    ``urllib.robotparser`` has ``site_maps()``.
    """
    parsed = getattr(robotparser, "rp", None)
    found = getattr(parsed, "sitemaps", None)
    if found is None:
        site_maps = getattr(parsed, "site_maps", None)
        if not callable(site_maps):
            return None
        found = site_maps() or []
    return _absolute((str(u) for u in found), robots_url)


def _absolute(urls: Iterable[str], robots_url: str) -> list[str]:
    absolute = (urljoin(robots_url, u.strip()) for u in urls)
    return list(dict.fromkeys(u for u in absolute if u.startswith(("http://", "https://"))))
