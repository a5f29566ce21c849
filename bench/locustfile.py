"""Locust load for the serving benchmark: a replayed mix of real-looking searches on the page and the API.

Each simulated visitor walks the same fixed list of searches (careers, programs + place, filters,
typos, near-me, reviews, paging), starting at its own offset, alternating the results page
``/search`` and the JSON API ``/api/search``, with a short think time. One request in twelve
fetches a static file: the same server's cheapest answer, measured under the same load, is the
baseline the search latencies are compared with. ``BENCH_WAIT_MIN`` / ``BENCH_WAIT_MAX`` (seconds)
set the think time.
"""

from __future__ import annotations

import itertools
import os

from locust import HttpUser, between, task

from bench.query_mix import SEARCHES, STATIC

_offsets = itertools.count()


class Visitor(HttpUser):
    """Someone searching: results page and API in turn, a static file now and then."""

    wait_time = between(float(os.environ.get("BENCH_WAIT_MIN", "0.2")), float(os.environ.get("BENCH_WAIT_MAX", "1.0")))

    def on_start(self) -> None:
        """Start the replay at this visitor's own offset."""
        start = next(_offsets) * 7
        self._next = itertools.islice(itertools.cycle(SEARCHES), start % len(SEARCHES), None)

    @task(11)
    def search(self) -> None:
        """The next search of the mix, on the page or the API."""
        _what, params = next(self._next)
        self.client.get("/search", params=params, name="/search")
        _what, params = next(self._next)
        self.client.get("/api/search", params=params, name="/api/search")

    @task(2)
    def static(self) -> None:
        """The baseline: a static file from the same server."""
        self.client.get(STATIC, name="static file (baseline)")
