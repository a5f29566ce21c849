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
import ipaddress
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from model.items import KINDS
from model.sources import SOURCES

if TYPE_CHECKING:
    from collegesearch.config import Settings
    from crawler.pages.base import Page

OTHER_PAGE_MODULES: tuple[str, ...] = ("generic",)
"""Page modules no built-in source uses (``generic``, and any written only for users' sites)."""
PAGE_MODULES: tuple[str, ...] = (*dict.fromkeys(s.page_module for s in SOURCES.values()), *OTHER_PAGE_MODULES)
"""Page modules a profile may name as its ``type`` (``crawler/pages/<type>.py``): the built-in
sources' (``model.sources``) and the others."""

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_SITE_KEYS = {
    "name": "short name, also the source name of its items (letters, digits, - and _)",
    "type": "page module that extracts: " + ", ".join(PAGE_MODULES),
    "kinds": "item kinds to keep: " + ", ".join(KINDS),
    "start_urls": "where the crawl starts (http or https URLs)",
    "sitemap_urls": "optional sitemaps listing pages",
    "allowed_hosts": "hosts the crawl may visit (default: the start URLs' hosts)",
    "follow": "regular expressions; links matching one are followed (default: every link on the allowed hosts)",
    "deny": "regular expressions; links matching one are never followed",
    "url_patterns": "regular expressions on the URL path that recognise this site's pages",
    "max_pages": "stop after this many pages (default 1000)",
    "max_depth": "follow links at most this many clicks from a start URL (default 5)",
    "schedule": "cron expression for `collegesearch schedule` (default: never)",
    "description": "free text shown in listings",
}


class ProfileError(ValueError):
    """A site profile is unknown or a sites file is malformed (the message names file and key)."""


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
            max_pages=self.max_pages, max_depth=self.max_depth, schedule=self.schedule,
            description=self.description, builtin=self.builtin, origin=self.origin,
        )

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain data (for listings and JSON)."""
        return {
            "name": self.name, "type": self.type, "kinds": list(self.kinds), "start_urls": list(self.start_urls),
            "sitemap_urls": list(self.sitemap_urls), "allowed_hosts": list(self.allowed_hosts),
            "follow": list(self.follow), "deny": list(self.deny), "url_patterns": list(self.url_patterns),
            "max_pages": self.max_pages, "max_depth": self.max_depth, "schedule": self.schedule,
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


def _error(path: str, where: str, message: str) -> ProfileError:
    return ProfileError(f"sites file {path}: {where}: {message}")


def _str_list(path: str, where: str, key: str, value: Any, *, urls: bool = False) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _error(path, where, f"'{key}' must be a list of non-empty strings, got {value!r}")
    items = tuple(v.strip() for v in value)
    if urls:
        for url in items:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise _error(path, where, f"'{key}' entry {url!r} is not an http(s) URL")
    return items


def _regexes(path: str, where: str, key: str, value: Any) -> tuple[str, ...]:
    patterns = _str_list(path, where, key, value)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _error(path, where, f"'{key}' entry {pattern!r} is not a valid regular expression ({exc})") from None
    return patterns


def _int(path: str, where: str, key: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _error(path, where, f"'{key}' must be a whole number from {lo} to {hi}, got {value!r}")
    return value


def parse_site(path: str, index: int, raw: Any, reserved: Iterable[str] = ()) -> SiteProfile:
    """Validate one ``[[site]]`` table into a profile (``index`` counts from 1, for messages)."""
    where = f"site #{index}"
    if not isinstance(raw, dict):
        raise _error(path, where, "must be a table ([[site]] with key = value lines)")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise _error(path, where, f"'name' must be 1-40 lower-case letters, digits, '-' or '_', got {name!r}")
    where = f"site #{index} ({name!r})"
    unknown = sorted(set(raw) - set(_SITE_KEYS))
    if unknown:
        raise _error(path, where, f"unknown key {unknown[0]!r}; known keys: {', '.join(_SITE_KEYS)}")
    if name in set(reserved):
        raise _error(path, where, f"'name' {name!r} is taken (built-in source or an earlier site); pick another")
    site_type = raw.get("type", "generic")
    if site_type not in PAGE_MODULES:
        raise _error(path, where, f"'type' must be one of {', '.join(PAGE_MODULES)}, got {site_type!r}")
    if "start_urls" not in raw:
        raise _error(path, where, "'start_urls' is required (where the crawl starts)")
    start_urls = _str_list(path, where, "start_urls", raw["start_urls"], urls=True)
    sitemap_urls = _str_list(path, where, "sitemap_urls", raw.get("sitemap_urls", []), urls=True)
    kinds = _str_list(path, where, "kinds", raw.get("kinds", list(_default_kinds(site_type))))
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise _error(path, where, f"'kinds' entry {bad[0]!r} is not one of {', '.join(KINDS)}")
    hosts = raw.get("allowed_hosts")
    if hosts is None:
        allowed = tuple(dict.fromkeys((urlsplit(u).hostname or "").lower() for u in start_urls + sitemap_urls))
    else:
        allowed = tuple(h.lower() for h in _str_list(path, where, "allowed_hosts", hosts))
        for host in allowed:
            if "/" in host or (":" in host and not _is_ip(host)):
                raise _error(path, where, f"'allowed_hosts' entry {host!r} must be a host name, not a URL")
        outside = [u for u in start_urls if (urlsplit(u).hostname or "").lower() not in allowed
                   and not any((urlsplit(u).hostname or "").endswith("." + h) for h in allowed)]
        if outside:
            raise _error(path, where, f"start URL {outside[0]!r} is not on an allowed host ({', '.join(allowed)})")
    follow = _regexes(path, where, "follow", raw.get("follow", []))
    deny = _regexes(path, where, "deny", raw.get("deny", []))
    url_patterns = _regexes(path, where, "url_patterns", raw.get("url_patterns", []))
    schedule = raw.get("schedule")
    if schedule is not None:
        if not isinstance(schedule, str) or len(schedule.split()) not in (5, 6):
            raise _error(path, where, f"'schedule' must be a cron expression with five fields, got {schedule!r}")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise _error(path, where, f"'description' must be a string, got {description!r}")
    return SiteProfile(
        name=name, type=site_type, kinds=kinds, start_urls=start_urls, sitemap_urls=sitemap_urls,
        allowed_hosts=allowed, follow=follow, deny=deny, url_patterns=url_patterns,
        max_pages=_int(path, where, "max_pages", raw.get("max_pages", 1000), 1, 10_000_000),
        max_depth=_int(path, where, "max_depth", raw.get("max_depth", 5), 0, 1000),
        schedule=schedule, description=description, builtin=False, origin=path,
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _default_kinds(site_type: str) -> tuple[str, ...]:
    builtin = builtin_profiles()
    return builtin[site_type].kinds if site_type in builtin else KINDS


def load_sites_file(path: str | Path) -> dict[str, SiteProfile]:
    """Read and validate a sites file; ``ProfileError`` names the file and the key at fault."""
    text_path = str(path)
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ProfileError(f"sites file {text_path} does not exist (set by COLLEGESEARCH_SITES_FILE)") from None
    except IsADirectoryError:
        raise ProfileError(f"sites file {text_path} is a directory, not a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"sites file {text_path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read sites file {text_path}: {exc}") from None
    unknown = sorted(set(raw) - {"site"})
    if unknown:
        raise ProfileError(f"sites file {text_path}: unknown top-level key {unknown[0]!r}; "
                           f"define each site in a [[site]] table")
    sites = raw.get("site", [])
    if not isinstance(sites, list):
        raise ProfileError(f"sites file {text_path}: 'site' must be an array of tables ([[site]]), not [site]")
    profiles: dict[str, SiteProfile] = {}
    reserved = set(builtin_profiles()) | {"generic"}
    for index, entry in enumerate(sites, start=1):
        profile = parse_site(text_path, index, entry, reserved=reserved | set(profiles))
        profiles[profile.name] = profile
    return profiles


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
