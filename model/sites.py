"""The user's sources: the sites file (``SITES_FILE``), read and validated without Scrapy.

The other half of the source registry (``model.sources`` declares the built-in sources). Each
``[[site]]`` table becomes the fields of a site profile (name, page module, kinds, start URLs,
link rules, schedule...). The scheduler, ``collegesearch status`` and the admin (through
``ops``) read the names and schedules here and report a broken file exactly as a crawl would
refuse it; ``crawler.profiles`` builds its ``SiteProfile`` objects from the same fields, so the
file is validated in one place.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from model.items import KINDS
from model.revisit import parse_spec
from model.sources import BUILTIN_SOURCES, SOURCES

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
    "revisit": "revisit overrides such as 'min=1h max=7d' (keys min, max, first, grow, shrink; default: REVISIT_*)",
    "description": "free text shown in listings",
}


class ProfileError(ValueError):
    """A site profile is unknown or a sites file is malformed (the message names file and key)."""


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


def site_fields(path: str, index: int, raw: Any, reserved: Iterable[str] = ()) -> dict[str, Any]:
    """Validate one ``[[site]]`` table into a profile's fields (``index`` counts from 1, for messages)."""
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
    revisit = raw.get("revisit")
    if revisit is not None:
        try:
            if not isinstance(revisit, str):
                raise ValueError(f"a string such as 'min=1h max=7d' is needed, got {revisit!r}")
            parse_spec(revisit)
        except ValueError as exc:
            raise _error(path, where, f"'revisit': {exc}") from None
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise _error(path, where, f"'description' must be a string, got {description!r}")
    return dict(
        name=name, type=site_type, kinds=kinds, start_urls=start_urls, sitemap_urls=sitemap_urls,
        allowed_hosts=allowed, follow=follow, deny=deny, url_patterns=url_patterns,
        max_pages=_int(path, where, "max_pages", raw.get("max_pages", 1000), 1, 10_000_000),
        max_depth=_int(path, where, "max_depth", raw.get("max_depth", 5), 0, 1000),
        schedule=schedule, revisit=revisit, description=description, builtin=False, origin=path,
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _default_kinds(site_type: str) -> tuple[str, ...]:
    # A site of a built-in source's type keeps what that source brings; a generic one keeps every kind.
    return SOURCES[site_type].kinds if site_type in SOURCES else KINDS


def read_sites_file(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read and validate a sites file: each site's fields by name; ``ProfileError`` names the file and the key at fault."""
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
    found: dict[str, dict[str, Any]] = {}
    reserved = set(BUILTIN_SOURCES) | {"generic"}
    for index, entry in enumerate(sites, start=1):
        fields = site_fields(text_path, index, entry, reserved=reserved | set(found))
        found[fields["name"]] = fields
    return found
