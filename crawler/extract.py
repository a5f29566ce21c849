"""``collegesearch extract``: what a page yields, for whoever writes or checks a site profile.

Each target is a URL (fetched with the configured User-Agent) or a saved file. The profile is
the one named, else the one whose site the URL belongs to, else the generic extractors; a
local file is read by the named profile or the generic extractors. Every failure (unknown
profile, missing file, HTTP error, binary content) becomes one ``ExtractError`` line for
that target, never a traceback.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from collegesearch.config import Settings
    from crawler.pages.base import Page
    from crawler.profiles import SiteProfile

MAX_BYTES = 20 * 1024 * 1024
"""Largest body read from a file or URL (a page, not a data dump)."""
TIMEOUT = 30


class ExtractError(Exception):
    """A target could not be read or extracted; the message is one line a user can act on."""


def _load_settings() -> Settings:
    from collegesearch.config import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        raise ExtractError(str(exc)) from None


def _is_url(target: str) -> bool:
    return urlsplit(target).scheme in ("http", "https")


def _read_file(target: str) -> tuple[str, bytes]:
    """(file:// URL, bytes) of a local file or a ``file://`` URL."""
    path = Path(unquote(urlsplit(target).path)) if target.startswith("file://") else Path(target)
    try:
        if path.is_dir():
            raise ExtractError(f"{path} is a directory; name an HTML file or a URL")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ExtractError(f"{path} is {size:,} bytes; pages over {MAX_BYTES:,} bytes are not read")
        return path.resolve().as_uri(), path.read_bytes()
    except FileNotFoundError:
        raise ExtractError(f"no such file: {path} (give a saved HTML file or an http(s) URL)") from None
    except PermissionError:
        raise ExtractError(f"cannot read {path}: permission denied") from None
    except OSError as exc:
        raise ExtractError(f"cannot read {path}: {exc.strerror or exc}") from None


def fetch(url: str, user_agent: str, timeout: float = TIMEOUT) -> tuple[str, bytes, dict[str, str]]:
    """GET a URL: (final URL after redirects, body, headers); ``ExtractError`` on any failure."""
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, "Accept": "text/html,application/xhtml+xml,"
                                                                                        "application/json;q=0.9,*/*;q=0.5"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked by caller
            body = response.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise ExtractError(f"the response is larger than {MAX_BYTES:,} bytes; not a page")
            headers = _headers(response.headers)
            return response.geturl(), body, headers
    except urllib.error.HTTPError as exc:
        raise ExtractError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise ExtractError(f"cannot fetch: {exc.reason}") from None
    except TimeoutError:
        raise ExtractError(f"no answer within {timeout:g} seconds") from None
    except (OSError, ValueError) as exc:
        raise ExtractError(f"cannot fetch: {exc}") from None


def _headers(message: Message) -> dict[str, str]:
    return {key: value for key, value in message.items()}


_BINARY_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip", "application/octet-stream")


def _check_content_type(headers: dict[str, str]) -> None:
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if content_type.lower().startswith(_BINARY_TYPES):
        raise ExtractError(f"not a web page (Content-Type: {content_type.split(';')[0]})")


def choose_profile(url: str, name: str | None, profiles: dict[str, SiteProfile], is_file: bool) -> SiteProfile:
    """The named profile, else the profile for the URL (not for files), else the generic one."""
    from crawler.profiles import ProfileError, generic_profile, get_profile, profile_for_url

    if name:
        try:
            return get_profile(name, profiles=profiles)
        except ProfileError as exc:
            raise ExtractError(str(exc)) from None
    if not is_file:
        found = profile_for_url(url, profiles=profiles)
        if found is not None:
            return found
    return generic_profile()


def _describe_empty(page: Page, profile: SiteProfile, kind: str | None) -> str:
    """Why nothing came out, with the navigation the page offers (listings yield links, not items)."""
    what = f"no {kind} items" if kind else "no items"
    hints = []
    for method in ("detail_links", "occupation_links", "page_links", "school_links", "review_links"):
        fn = getattr(page, method, None)
        if callable(fn):
            try:
                count = len(fn())
            except Exception:  # noqa: BLE001 - a hint must not turn into an error
                continue
            if count:
                hints.append(f"{count} {method.replace('_', ' ')}")
    nav = f"; it offers {', '.join(hints)}" if hints else ""
    return f"{what} found (read with profile {profile.name!r} as {type(page).__name__}){nav}"


def extract_one(target: str, profile: str | None, kind: str | None, settings: Settings,
                profiles: dict[str, SiteProfile]) -> list[dict[str, Any]]:
    """The items of one target as dicts (``ExtractError`` when none can be had)."""
    from crawler.pages.base import PageError

    is_file = not _is_url(target)
    if is_file:
        url, body = _read_file(target)
        headers: dict[str, str] = {}
    else:
        url, body, headers = fetch(target, settings.user_agent)
        _check_content_type(headers)
    chosen = choose_profile(url, profile, profiles, is_file)
    try:
        page = chosen.page_for(url, body, headers)
        items = page.to_items()
    except PageError as exc:
        raise ExtractError(f"cannot read the page: {exc}") from None
    except (UnicodeError, ValueError, LookupError) as exc:
        raise ExtractError(f"cannot read the page: {type(exc).__name__}: {exc}") from None
    dicts = [item.to_dict() for item in items if kind is None or item.kind == kind]
    if not dicts:
        raise ExtractError(_describe_empty(page, chosen, kind))
    return dicts


def extract_targets(targets: list[str], profile: str | None = None, kind: str | None = None,
                    settings: Settings | None = None) -> Iterator[tuple[str, dict[str, Any] | ExtractError]]:
    """For each target, ``(target, item dict)`` per item, or ``(target, ExtractError)`` once.

    Raises ``ExtractError`` up front for problems that concern every target: bad settings, a
    broken sites file, an unknown ``--profile``.
    """
    from crawler.profiles import ProfileError, all_profiles, get_profile

    settings = settings or _load_settings()
    try:
        profiles = all_profiles(settings)
        if profile:
            get_profile(profile, profiles=profiles)
    except ProfileError as exc:
        raise ExtractError(str(exc)) from None
    for target in targets:
        try:
            dicts = extract_one(target, profile, kind, settings, profiles)
        except ExtractError as exc:
            yield target, exc
            continue
        except Exception as exc:  # noqa: BLE001 - one bad page must not hide the others' output
            yield target, ExtractError(f"extraction failed: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        for data in dicts:
            yield target, data
