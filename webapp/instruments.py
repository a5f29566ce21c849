"""The Prometheus metrics each web process records: request latency per endpoint, search time, results-page render time, cache hits.

Under ``collegesearch serve`` prometheus-client writes them to files in ``PROMETHEUS_MULTIPROC_DIR``
(``webapp/serve.py`` sets it up) and ``/metrics`` (``webapp.metrics``) sums the files of all
workers; under ``flask run`` or the test client they live in the default registry.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from flask import Flask, Response, g, request
from flask.signals import before_render_template, template_rendered
from prometheus_client import Counter, Histogram

# Results pages and API calls finish within a few hundred milliseconds; the buckets resolve that range
# finely and still show the slow tail up to 10 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)

REQUEST_SECONDS = Histogram(
    "collegesearch_http_request_duration_seconds", "Time to answer an HTTP request, by endpoint.",
    ["endpoint"], buckets=LATENCY_BUCKETS)
REQUESTS = Counter(
    "collegesearch_http_requests", "HTTP requests answered, by endpoint, method and status code.",
    ["endpoint", "method", "status"])
SEARCH_SECONDS = Histogram(
    "collegesearch_search_duration_seconds", "Time the index takes to run one search (pages and API alike).",
    buckets=LATENCY_BUCKETS)
RENDER_SECONDS = Histogram(
    "collegesearch_results_page_render_seconds", "Time to render the search results page's template.",
    buckets=LATENCY_BUCKETS)
CACHE_HITS = Counter(
    "collegesearch_search_cache_hits", "Lookups of decoded index data found in the worker's search cache.")
CACHE_MISSES = Counter(
    "collegesearch_search_cache_misses", "Lookups of decoded index data the worker had to read and decode.")

RESULTS_TEMPLATE = "views/search.html"
UNMATCHED = "unmatched"  # requests no route matched (404s): one label value, not one per probed path


def init_app(app: Flask) -> None:
    """Time every request and the results page's rendering."""
    app.before_request(_start_timer)
    app.after_request(_observe_request)
    before_render_template.connect(_render_started, app)
    template_rendered.connect(_render_finished, app)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe_request(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    endpoint = request.endpoint or UNMATCHED
    if started is not None:
        REQUEST_SECONDS.labels(endpoint).observe(time.perf_counter() - started)
    REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    return response


def _render_started(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
    if template.name == RESULTS_TEMPLATE:
        g.metrics_render_started = time.perf_counter()


def _render_finished(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
    started = g.pop("metrics_render_started", None)
    if template.name == RESULTS_TEMPLATE and started is not None:
        RENDER_SECONDS.observe(time.perf_counter() - started)


class CacheCounts:
    """Carries the search cache's own hit/miss counts into the Prometheus counters after each search.

    The cache (``indexer.cache_budget``) counts in plain integers, which is all it needs; copying the
    growth since the last look into Counters makes them visible under gunicorn too, where each worker
    has its own cache and a scrape reaches only one worker.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: weakref.ref[Any] | None = None  # the cache last looked at, and what it had counted then
        self._hits = self._misses = 0

    def record(self, cache: Any) -> None:
        """Add what ``cache`` (a ``CacheBudget``) hit and missed since the last call."""
        hits, misses = int(cache.hits), int(cache.misses)
        with self._lock:
            if self._cache is None or self._cache() is not cache:
                # A searcher reopened (after a fork or a close) brings a new cache that counts from zero.
                self._cache, self._hits, self._misses = weakref.ref(cache), 0, 0
            new_hits, new_misses = max(hits - self._hits, 0), max(misses - self._misses, 0)
            self._hits, self._misses = hits, misses
        CACHE_HITS.inc(new_hits)
        CACHE_MISSES.inc(new_misses)


cache_counts = CacheCounts()


def observe_search(seconds: float, cache: Any) -> None:
    """Record one search's time and what it used of the cache (called by ``webapp.index``)."""
    SEARCH_SECONDS.observe(seconds)
    cache_counts.record(cache)
