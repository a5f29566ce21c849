"""Locust load for the serving benchmark: the results page under issue 13's query mix, and a static file.

Each simulated visitor asks for the results page ``/search`` with no think time (a closed loop:
pages/s is what the server can answer): half the time a long-tail query (the next line of
``BENCH_LONG_TAIL``, a file of 1-3 word queries from career and college names written by the
benchmark; shared by every visitor of this process, so each is sent once), otherwise a common
query with a state or online filter and a page number (``bench.query_mix.common_searches``). One
request in thirteen fetches a static file: the same server's cheapest answer, measured under the
same load, is the baseline the page latencies are compared with.

Every request is written to ``BENCH_REQUEST_LOG`` (CSV: name, start time, milliseconds, ok,
repeated, and for a failed request what failed) when locust quits, so the benchmark computes percentiles over exactly the requests it
wants (the whole results page, or one half of the mix). ``BENCH_WAIT_MAX`` (seconds, default 0)
adds a think time.
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import time
from pathlib import Path
from typing import Any

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

from bench.query_mix import STATIC, common_searches

LONG_TAIL = "/search (long tail)"
COMMON = "/search (common)"
STATIC_NAME = "static file (baseline)"

_long_tail = [line.strip() for line in Path(os.environ.get("BENCH_LONG_TAIL", "/dev/null")).read_text().splitlines()
              if line.strip()]
_next_long_tail = itertools.count()
_common = common_searches()
_offsets = itertools.count()
# (name, start epoch seconds, ms, ok, repeated long-tail query, what failed)
_log: list[tuple[str, float, float, bool, bool, str]] = []
_repeated: set[int] = set()


def next_long_tail() -> tuple[str, bool]:
    """The next unused long-tail query (wrapping around, and saying so, if the file runs out)."""
    i = next(_next_long_tail)
    if not _long_tail:
        return "nursing", True
    return _long_tail[i % len(_long_tail)], i >= len(_long_tail)


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, response_length: int, exception: Any = None,
            context: Any = None, start_time: float | None = None, **_: Any) -> None:
    repeated = bool(context and context.get("repeated"))
    error = "" if exception is None else f"{exception.__class__.__name__}: {exception}"[:200]
    _log.append((name, start_time or time.time(), float(response_time), exception is None, repeated, error))


@events.quitting.add_listener
def _write_log(**_: Any) -> None:
    path = os.environ.get("BENCH_REQUEST_LOG")
    if not path:
        return
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["name", "start", "ms", "ok", "repeated", "error"])
        for name, start, ms, ok, repeated, error in _log:
            out.writerow([name, f"{start:.4f}", f"{ms:.2f}", int(ok), int(repeated), error])


class Visitor(FastHttpUser):
    """Someone searching: results pages, half of them long-tail, and a static file now and then."""

    wait_time = between(0.0, float(os.environ.get("BENCH_WAIT_MAX", "0")))

    def on_start(self) -> None:
        """Start the common searches at this visitor's own offset; alternate the halves from a random one."""
        start = next(_offsets) * 7
        self._common = itertools.islice(itertools.cycle(_common), start % len(_common), None)
        self._long_next = random.random() < 0.5

    @task(12)
    def results_page(self) -> None:
        """The results page: a long-tail query and a common one in turn."""
        self._long_next = not self._long_next
        if self._long_next:
            query, repeated = next_long_tail()
            self.client.get("/search", params={"q": query}, name=LONG_TAIL, context={"repeated": repeated})
        else:
            _what, params = next(self._common)
            self.client.get("/search", params=params, name=COMMON)

    @task(1)
    def static(self) -> None:
        """The baseline: a static file from the same server."""
        self.client.get(STATIC, name=STATIC_NAME)
