"""Rate limits on the expensive routes, with Flask-Limiter: searches (``SEARCH_RATE_LIMIT``) and ``/api/*`` (``API_RATE_LIMIT``).

Each client is counted by its address as ProxyFix leaves it (``PROXY_HOPS``), so behind a proxy the
visitors are counted apart and without one a forged X-Forwarded-For changes nothing. A client over
its limit gets 429 with ``Retry-After``: the JSON error body under ``/api/`` and ``.json``, the error
page elsewhere (both from ``webapp.errors``, which keeps the header).

Counters live in ``RATE_LIMIT_STORAGE_URL``, else in Redis when ``REDIS_URL`` is set (the project
already shares crawl locks there), else in each worker's memory. Memory per worker is the accepted
default, also for several nodes without Redis: these limits brake scrapers and runaway scripts, they
are not quotas, so a client allowed the limit once per worker (and per node) is still held to a
small multiple of it. The limits that guard writes (reviews, admin logins) stay exact and shared in
``webapp.security``. A ``limits`` storage in the catalog database (like ``catalog.web_state``'s review
counters) was left out on purpose: every search would become a write transaction on the shared
database, dearer than the search itself.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from collegesearch.config import Settings

# Blueprints and endpoints never limited: health probes (``health.*``), the scrape, static files.
EXEMPT_BLUEPRINTS = frozenset({"health", "metrics"})
EXEMPT_ENDPOINTS = frozenset({"static"})
SEARCH_ENDPOINTS = ("views.search", "views.search_json")
SEARCH_MESSAGE = "Too many searches from your address in a short time; wait a moment and try again."
API_MESSAGE = "Too many API requests from your address in a short time; wait until Retry-After has passed."


def storage_uri(settings: Settings) -> str:
    """Where the counters live: the setting, else the shared Redis, else this worker's memory."""
    return settings.RATE_LIMIT_STORAGE_URL or settings.REDIS_URL or "memory://"


def init_app(app: Flask) -> Limiter:
    """Limit the search endpoints and the API blueprint; call after the blueprints are registered."""
    settings: Settings = app.config["SETTINGS"]
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=storage_uri(settings),
        headers_enabled=True,  # X-RateLimit-Limit/-Remaining/-Reset, and Retry-After on a 429
        # An unreachable Redis must not take searching down: let requests through and log it.
        swallow_errors=True,
        key_prefix="collegesearch",
    )
    limiter.request_filter(_exempt)
    # Registered before the limiter's own hook, so it runs after it (Flask runs them in reverse).
    app.after_request(_retry_after_only_on_429)
    limiter.init_app(app)
    if settings.SEARCH_RATE_LIMIT:
        # One shared count for the results page and its JSON twin: both run the same search.
        search_limit = limiter.shared_limit(settings.SEARCH_RATE_LIMIT, scope="search", error_message=SEARCH_MESSAGE)
        for endpoint in SEARCH_ENDPOINTS:
            view: Any = app.view_functions[endpoint]
            app.view_functions[endpoint] = search_limit(view)
    if settings.API_RATE_LIMIT:
        from webapp import api

        # The whole API counts together, so spreading calls over endpoints does not multiply the limit.
        limiter.shared_limit(settings.API_RATE_LIMIT, scope="api", error_message=API_MESSAGE)(api.bp)
    app.extensions["collegesearch_limiter"] = limiter
    return limiter


def _retry_after_only_on_429(response: Response) -> Response:
    """Flask-Limiter puts Retry-After on every limited answer; it means something only on a 429 (or 503)."""
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def _exempt() -> bool:
    """Health probes, the metrics scrape and static files are never limited."""
    return request.blueprint in EXEMPT_BLUEPRINTS or request.endpoint in EXEMPT_ENDPOINTS
