"""Search worker for the concurrency test (run as a child process or in a thread).

``python -m tests.security.search_worker INDEX_DIR SECONDS [STOP_FILE]`` searches for at most SECONDS (or until
STOP_FILE exists) while other processes sync
the index and crawl, checks that every response is internally consistent (one index generation: total, kind
counts and facet counts agree; paging is right; totals never go back in time), and prints a JSON report.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("", {"kind": "program"}), ("nurse", {}), ("medical records", {}), ("college", {"state": "GA"}),
    ("health information", {"kind": "program"}), ("technician", {}), ("university", {"kind": "institution"}),
    ("", {"kind": "institution", "state": "OH"}), ("accountants", {}), ("therapist", {}),
]


def check(result: Any, query: str, filters: dict[str, Any], page: int, per_page: int) -> list[str]:
    """Ways one response contradicts itself."""
    problems = []
    if result.total < 0:
        problems.append("negative total")
    if "kind" not in filters and result.kind_counts and sum(result.kind_counts.values()) != result.total:
        problems.append(f"kind counts {result.kind_counts} do not add up to total {result.total}")
    kind_facet = result.facets.get("kind") or []
    if "kind" not in filters and kind_facet and sum(v.count for v in kind_facet) != result.total:
        problems.append(f"kind facet {[(v.value, v.count) for v in kind_facet]} != total {result.total}")
    expected_hits = max(0, min(per_page, result.total - (page - 1) * per_page))
    if len(result.hits) != expected_hits:
        problems.append(f"{len(result.hits)} hits on page {page} of total {result.total} (expected {expected_hits})")
    for name, values in filters.items():
        if name == "kind" and any(h.kind != values for h in result.hits):
            problems.append("a hit of another kind")
    return [f"{query!r} {filters}: {p}" for p in problems]


def run(searcher: Any, seconds: float, stop: Any = None) -> dict[str, Any]:
    """Search in a loop (until ``stop()`` is true or time is up); the report lists problems, errors, hits seen
    and program totals over time."""
    deadline = time.monotonic() + seconds
    report: dict[str, Any] = {"searches": 0, "problems": [], "errors": [], "hit_ids": set(), "program_totals": []}
    i = 0
    while time.monotonic() < deadline and not (stop is not None and stop()):
        query, filters = QUERIES[i % len(QUERIES)]
        page = 1 + (i // len(QUERIES)) % 2
        i += 1
        try:
            result = searcher.search(query, filters, "relevance", page, 10)
        except Exception as exc:  # any exception is a failure of the test
            report["errors"].append(f"{query!r}: {type(exc).__name__}: {exc}")
            continue
        report["searches"] += 1
        report["problems"] += check(result, query, filters, page, 10)
        report["hit_ids"].update(h.id for h in result.hits)
        if query == "" and filters == {"kind": "program"}:
            report["program_totals"].append(result.total)
    return report


def main() -> None:
    from pathlib import Path

    from indexer.search import Searcher

    searcher = Searcher(index_dir=sys.argv[1])
    stop_file = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    report = run(searcher, float(sys.argv[2]), (lambda: stop_file.exists()) if stop_file else None)
    searcher.close()
    report["hit_ids"] = sorted(report["hit_ids"])
    print(json.dumps(report))


if __name__ == "__main__":
    main()
