"""Site profiles: which site a crawl covers and which page module reads it.

A profile is a name, the page module that extracts (a built-in source's, such as ``bls_ooh``,
or ``generic``), the kinds of items wanted, start URLs, allowed hosts, link rules (follow /
deny regular expressions) and the URL patterns that recognise the site's pages. The built-in
sources have built-in profiles for the real sites, built from the source registry
(``model.sources``); users add more in the TOML file named by ``SITES_FILE``::

    [[site]]
    name = "lakeshore-careers"
    type = "generic"
    start_urls = ["https://www.lakeshore.example.edu/careercoach/"]
    follow = ['/careercoach/career\\.asp\\?id=\\d+$']

A site with the structure of a built-in source (say another OOH mirror) only needs
``type = "bls_ooh"``: the page module is shared, nothing else is written.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from model.items import KINDS
from model.sites import OTHER_PAGE_MODULES, PAGE_MODULES, ProfileError, read_sites_file  # noqa: F401 - read here by the spiders
from model.sources import SOURCES

if TYPE_CHECKING:
    from collegesearch.config import Settings
    from crawler.pages.base import Page


@dataclass(frozen=True)
class SiteProfile:
    """One site: where to start, which links to follow, and which page module reads its pages."""

    name: str
    type: str
    """The page module: one of ``PAGE_MODULES`` (a built-in source's, or generic)."""
    kinds: tuple[str, ...] = KINDS
    start_urls: tuple[str, ...] = ()
    sitemap_urls: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    follow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    url_patterns: tuple[str, ...] = ()
    """Regexes searched in the URL's path (and query) that mark this site's pages."""
    max_pages: int = 1000
    max_depth: int = 5
    schedule: str | None = None
    revisit: str | None = None
    """Revisit overrides ("min=1h max=7d", ``model.revisit``); None: the REVISIT_* settings."""
    description: str = ""
    builtin: bool = False
    origin: str = "built-in"
    """Where the profile was defined: "built-in" or the sites file's path."""
    _compiled: dict[str, tuple[re.Pattern[str], ...]] = field(
        default_factory=dict, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        for key in ("follow", "deny", "url_patterns"):
            self._compiled[key] = tuple(re.compile(p) for p in getattr(self, key))

    # -- matching ------------------------------------------------------------------------

    def allows_host(self, url: str) -> bool:
        """True when the URL's host is one of the allowed hosts (or a subdomain of one)."""
        host = (urlsplit(url).hostname or "").lower()
        if not self.allowed_hosts:
            return True
        return any(host == h or host.endswith("." + h) for h in self.allowed_hosts)

    def matches_path(self, url: str) -> bool:
        """True when the URL's path (with query) fits one of the profile's URL patterns."""
        parts = urlsplit(url)
        target = parts.path + ("?" + parts.query if parts.query else "")
        return any(p.search(target) for p in self._compiled["url_patterns"])

    def should_follow(self, url: str) -> bool:
        """The link rules: an allowed host, a ``follow`` match (when any are set), no ``deny`` match."""
        if urlsplit(url).scheme not in ("http", "https") or not self.allows_host(url):
            return False
        if any(p.search(url) for p in self._compiled["deny"]):
            return False
        follow = self._compiled["follow"]
        return not follow or any(p.search(url) for p in follow)

    def follow_links(self, page: Page) -> list[str]:
        """The links on a page this profile follows, in page order."""
        return [url for url in page.links() if self.should_follow(url)]

    def wants(self, kind: str) -> bool:
        """True when items of this kind are kept."""
        return kind in self.kinds

    # -- extraction ----------------------------------------------------------------------

    def page_for(self, url: str, body: bytes | str, headers: Any = None, encoding: str | None = None) -> Page:
        """The page object the profile's module picks for this page (items get the profile's name as source)."""
        module = importlib.import_module(f"crawler.pages.{self.type}")
        page: Page = module.page_for(url, body, headers, encoding, source=self.name)
        return page

    def with_base_url(self, base_url: str) -> SiteProfile:
        """The same profile on another host with the same paths (the sample site serves built-ins on loopback)."""
        base = base_url.rstrip("/")

        def rebase(url: str) -> str:
            parts = urlsplit(url)
            return base + parts.path + ("?" + parts.query if parts.query else "")

        host = urlsplit(base).hostname or ""
        return SiteProfile(
            name=self.name, type=self.type, kinds=self.kinds,
            start_urls=tuple(rebase(u) for u in self.start_urls),
            sitemap_urls=tuple(rebase(u) for u in self.sitemap_urls),
            allowed_hosts=(host,), follow=self.follow, deny=self.deny, url_patterns=self.url_patterns,
            max_pages=self.max_pages, max_depth=self.max_depth, schedule=self.schedule, revisit=self.revisit,
            description=self.description, builtin=self.builtin, origin=self.origin,
        )

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain data (for listings and JSON)."""
        return {
            "name": self.name, "type": self.type, "kinds": list(self.kinds), "start_urls": list(self.start_urls),
            "sitemap_urls": list(self.sitemap_urls), "allowed_hosts": list(self.allowed_hosts),
            "follow": list(self.follow), "deny": list(self.deny), "url_patterns": list(self.url_patterns),
            "max_pages": self.max_pages, "max_depth": self.max_depth, "schedule": self.schedule,
            "revisit": self.revisit,
            "description": self.description, "builtin": self.builtin, "origin": self.origin,
        }


# --------------------------------------------------------------------------- built-in profiles


def builtin_profiles() -> dict[str, SiteProfile]:
    """Profiles of the built-in sources on their real sites (from the source registry)."""
    return {
        source.name: SiteProfile(
            name=source.name, type=source.page_module, kinds=source.kinds,
            start_urls=source.site.start_urls, allowed_hosts=source.site.allowed_hosts,
            follow=source.site.follow, deny=source.site.deny, url_patterns=source.site.url_patterns,
            max_pages=source.site.max_pages, description=source.description, builtin=True,
        )
        for source in SOURCES.values()
    }


# --------------------------------------------------------------------------- user profiles


def load_sites_file(path: str | Path) -> dict[str, SiteProfile]:
    """Read and validate a sites file (``model.sites``); ``ProfileError`` names the file and the key at fault."""
    return {name: SiteProfile(**fields) for name, fields in read_sites_file(path).items()}


def load_site_profiles(settings: Settings | None = None) -> dict[str, SiteProfile]:
    """The user's profiles from ``SITES_FILE`` (empty when none is configured)."""
    path = getattr(settings, "SITES_FILE", None) if settings is not None else None
    if not path:
        return {}
    return load_sites_file(path)


def all_profiles(settings: Settings | None = None) -> dict[str, SiteProfile]:
    """Built-in profiles, then the user's."""
    return {**builtin_profiles(), **load_site_profiles(settings)}


def get_profile(name: str, settings: Settings | None = None,
                profiles: Mapping[str, SiteProfile] | None = None) -> SiteProfile:
    """A profile by name ("generic" gives a catch-all generic profile); ``ProfileError`` if unknown."""
    known = dict(profiles) if profiles is not None else all_profiles(settings)
    if name in known:
        return known[name]
    if name == "generic":
        return generic_profile()
    raise ProfileError(f"unknown profile {name!r}; known profiles: {', '.join([*known, 'generic'])}")


def generic_profile(name: str = "generic") -> SiteProfile:
    """A profile for pages of any site, read by the generic extractors."""
    return SiteProfile(name=name, type="generic", description="schema.org data and plain-text career pages")


def profile_for_url(url: str, profiles: Mapping[str, SiteProfile] | None = None,
                    settings: Settings | None = None) -> SiteProfile | None:
    """The profile whose site a URL belongs to: by host and path first, then by path alone.

    The path-only match lets the built-in profiles read the sample site, which serves each
    source on a loopback host under the real site's paths (``/ooh/...``, ``/collegenavigator/?id=``).
    User profiles come first, so a user's site wins over a built-in with similar paths.
    """
    known = dict(profiles) if profiles is not None else all_profiles(settings)
    ordered = sorted(known.values(), key=lambda p: p.builtin)
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return None
    for profile in ordered:
        if profile.allowed_hosts and profile.allows_host(url) and (not profile.url_patterns or profile.matches_path(url)):
            return profile
    for profile in ordered:
        if profile.url_patterns and profile.matches_path(url):
            return profile
    return None
