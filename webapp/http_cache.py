"""HTTP caching: a validator from the catalog's last change and the index generation, 304s and Cache-Control.

Search results, detail pages and the change feeds only change when the catalog's change log moves
or the index publishes a new generation, so one validator per request covers all of them: the
``ETag`` names both, ``Last-Modified`` is the later of the two times. A request that brings the
current validator (``If-None-Match``, or ``If-Modified-Since`` when it sends no ETag, as RFC 9110
says) gets a 304 before the view runs: the search and the page are never built.

Static files get fingerprinted URLs (``?v=<content hash>``, added to every ``url_for('static')``)
and are then immutable for a year; a new deploy changes the hash and so the URL.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, make_response, request, session
from werkzeug.http import is_resource_modified

from collegesearch import __version__
from webapp.db import get_catalog
from webapp.index import get_search_service

log = logging.getLogger(__name__)

# Which setting holds the max-age of each kind of response.
MAX_AGE_SETTINGS: dict[str, str] = {
    "search": "CACHE_SEARCH_MAX_AGE",
    "detail": "CACHE_DETAIL_MAX_AGE",
    "feed": "CACHE_FEED_MAX_AGE",
}
STATIC_MAX_AGE = 31_536_000  # one year: the URL changes with the content, so the content never does
FINGERPRINT_ARG = "v"

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Validator:
    """What the cacheable responses of this moment are derived from."""

    etag: str
    last_modified: datetime | None


def current_validator() -> Validator | None:
    """This request's validator (computed once per request); None when the catalog cannot say."""
    if "http_validator" not in g:
        g.http_validator = _compute_validator()
    found: Validator | None = g.http_validator
    return found


def _compute_validator() -> Validator | None:
    try:
        seq, at = get_catalog().fused.last_change()
    except Exception:  # noqa: BLE001 - no validator, no caching: the view itself reports the catalog's problem
        log.debug("no HTTP validator: the catalog could not be read", exc_info=True)
        return None
    try:
        index = get_search_service().searcher.status()
    except Exception:  # noqa: BLE001 - detail pages work without an index; the ETag then says "no index"
        index = {}
    generation = index.get("generation") if index.get("state") in ("ok", "stale") else None
    index_at = index.get("updated_at") if generation else None
    # The app's version is part of the ETag so a deploy that changes a template or a response field
    # is never answered with a 304 for the old bytes.
    digest = hashlib.sha256(f"{__version__}|{generation}|{index_at}".encode()).hexdigest()[:16]
    times = [t for t in (_parse_time(at), _parse_time(index_at)) if t is not None]
    return Validator(etag=f"{seq}-{digest}", last_modified=max(times) if times else None)


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _shareable_request() -> bool:
    """A GET without a session cookie: a visitor with a session (an admin, a pending flash message) gets pages
    of their own, which no shared cache may keep."""
    cookie = current_app.config.get("SESSION_COOKIE_NAME") or "session"
    return request.method in ("GET", "HEAD") and cookie not in request.cookies


def cacheable(kind: str, vary: tuple[str, ...] = ()) -> Callable[[View], View]:
    """Give a GET view's 200 responses the validator and Cache-Control of ``kind``; answer a matching
    ``If-None-Match`` / ``If-Modified-Since`` with 304 without running the view. ``vary`` names the request
    headers the view's answer depends on, sent on its 304s too (RFC 9110 15.4.5: the Vary a 200 would have had)."""
    if kind not in MAX_AGE_SETTINGS:
        raise ValueError(f"kind must be one of {', '.join(MAX_AGE_SETTINGS)}, got {kind!r}")

    def decorate(view: View) -> View:
        def answer(*args: Any, **kwargs: Any) -> Response:
            if not _shareable_request():
                return _private(make_response(view(*args, **kwargs)))
            # Taken before the view runs: a sync committing meanwhile then makes the next request a
            # 200 (harmless), never labels the old body with the new validator (a stale 304 forever).
            validator = current_validator()
            if validator is None:
                return make_response(view(*args, **kwargs))
            if not is_resource_modified(request.environ, etag=validator.etag, last_modified=validator.last_modified):
                return _mark(Response(status=304), kind, validator)
            response = make_response(view(*args, **kwargs))
            if session.modified:  # the view wrote to the session (a flash message): the page is personal
                return _private(response)
            if response.status_code == 200:
                _mark(response, kind, validator)
            return response

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            response = answer(*args, **kwargs)
            for header in vary:  # every answer, 304s included, depends on these
                response.vary.add(header)
            return response

        return cast(View, wrapper)

    return decorate


def _private(response: Response) -> Response:
    """A page for one visitor (an admin's, one with a flash message): no cache keeps it, no validator names it."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _mark(response: Response, kind: str, validator: Validator) -> Response:
    """The validator and Cache-Control of a shared-cacheable response (or of its 304)."""
    # Weak: the tag names the data the response was built from, not its bytes: the same search gives
    # a different ``took_ms`` each run, and a compressing proxy changes bytes too. If-None-Match
    # compares weakly anyway, and nothing here serves byte ranges, which would need a strong tag.
    response.set_etag(validator.etag, weak=True)
    if validator.last_modified is not None:
        response.last_modified = validator.last_modified
    response.cache_control.public = True
    response.cache_control.max_age = int(getattr(current_app.config["SETTINGS"], MAX_AGE_SETTINGS[kind]))
    # Pages read the session for flash messages: a proxy keeps one copy for visitors without cookies.
    response.vary.add("Cookie")
    return response


# -- static files ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _file_hash(path: str, mtime_ns: int) -> str:
    """The first 12 hex digits of a file's SHA-256 (cached per version of the file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def static_fingerprint(filename: str) -> str | None:
    """The content hash of a file under the app's static folder, or None when there is no such file."""
    if not current_app.static_folder:
        return None
    try:
        folder = Path(current_app.static_folder).resolve()
        path = (folder / filename).resolve()
        if not path.is_relative_to(folder):  # a name that climbs out of the folder names no static file
            return None
        return _file_hash(str(path), path.stat().st_mtime_ns)
    except (OSError, ValueError):  # missing, unreadable, or a name with a NUL byte
        return None


def _add_static_fingerprint(endpoint: str | None, values: dict[str, Any]) -> None:
    """``url_for('static', filename=...)`` gains ``v=<hash>`` (Flask's documented ``url_defaults`` hook)."""
    if endpoint != "static" or FINGERPRINT_ARG in values or not isinstance(values.get("filename"), str):
        return
    fingerprint = static_fingerprint(values["filename"])
    if fingerprint:
        values[FINGERPRINT_ARG] = fingerprint


def _immutable_static(response: Response) -> Response:
    """A static file asked for by its current fingerprint never changes at that URL: cache it for a year."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    filename = (request.view_args or {}).get("filename")
    wanted = request.args.get(FINGERPRINT_ARG)
    if wanted and isinstance(filename, str) and wanted == static_fingerprint(filename):
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = STATIC_MAX_AGE
        response.cache_control.immutable = True
    # Any other URL (no or an old fingerprint) keeps Flask's "no-cache" with its own ETag.
    return response


def init_app(app: Flask) -> None:
    """Fingerprint static URLs and mark fingerprinted static responses immutable."""
    app.url_defaults(_add_static_fingerprint)
    app.after_request(_immutable_static)
