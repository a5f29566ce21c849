"""First-time query benchmark: a new long-tail query on a warm process, in-process, with facets, snippets, suggestion.

    python -m bench.first_query [--quick | --smoke] [--data-dir DATA_DIR_WITH_INDEX] [--scale N]
                                [--workdir DIR] [--keep]

In a child process of its own (``python -m bench.first_query --measure JOB``), one
``indexer.search.Searcher`` opens the index of the data dir (read only) and answers ~200 warm-up
searches (the common searches of the serving benchmark with their filters and pages, and some
long-tail ones); then it times ~300 long-tail queries it has never seen (1-3 words from the
catalog's career and college names, ``bench.query_mix``), each the results page's call:
``Searcher.search(q, per_page=20)`` with facets, snippets and a spelling suggestion. No cache is
dropped: first-time means a new query on a warm process, as a web worker meets it. The same
queries asked a second time (repeated: the searcher's caches hold them) are the same-run baseline.
``--scale N`` (and ``python -m bench`` in full mode) also measures the sample site at N times the
programs and reviews (``bench.scaled``), with the 1x figure as its baseline. Targets (issue 13):
first-time p95 < 50 ms at 1x, < 100 ms at 10x.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    PYTHON,
    Section,
    Target,
    build_indexed,
    child_env,
    fmt,
    percentile,
    run_measured,
    say,
    scaled_dir,
    section_main,
)

TARGET_MS = {1: 50.0, 10: 100.0}
SEED = 20260114
PER_PAGE = 20  # what the results page asks for


@dataclass
class Plan:
    """How many queries warm the process and how many are timed."""

    warm: int
    timed: int


PLANS = {"full": Plan(200, 300), "quick": Plan(200, 300), "smoke": Plan(30, 30)}


# -- the measuring child -------------------------------------------------------------------------


def search_args(params: dict[str, Any]) -> dict[str, Any]:
    """A results-page query string (``bench.query_mix``) as ``Searcher.search`` keyword arguments."""
    params = dict(params)
    out: dict[str, Any] = {"query": params.pop("q", None), "sort": params.pop("sort", "relevance"),
                           "page": int(params.pop("page", 1)), "per_page": PER_PAGE,
                           "near": params.pop("near", None), "radius": params.pop("radius", None)}
    out["filters"] = {k: str(v) for k, v in params.items()}
    return out


def measure(job: dict[str, Any]) -> dict[str, Any]:
    """Open the index, warm up, time the first-time queries, then the same again; the figures as a dict."""
    from indexer.results import SearchError
    from indexer.search import Searcher

    t0 = time.perf_counter()
    searcher = Searcher(index_dir=job["index_dir"])
    docs = searcher.status().get("doc_count", 0)
    opened = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm_errors = 0
    for args in job["warm"]:
        try:
            searcher.search(**args)
        except SearchError:
            warm_errors += 1
    warmed = time.perf_counter() - t0

    def timed(queries: Sequence[str]) -> tuple[list[float], int, int, int]:
        times, suggested, empty, faceted = [], 0, 0, 0
        for q in queries:
            began = time.perf_counter()
            result = searcher.search(q, per_page=PER_PAGE, facets=True)
            times.append((time.perf_counter() - began) * 1000)
            suggested += bool(result.suggestion)
            empty += result.total == 0
            faceted += bool(result.facets)
        return times, suggested, empty, faceted

    first, suggested, empty, faceted = timed(job["timed"])
    repeated, _, _, _ = timed(job["timed"])
    searcher.close()
    return {"docs": docs, "open_s": opened, "warm_s": warmed, "warm": len(job["warm"]), "warm_errors": warm_errors,
            "first_ms": first, "repeated_ms": repeated, "suggested": suggested, "empty": empty, "faceted": faceted}


# -- the benchmark -------------------------------------------------------------------------------


@dataclass
class Corpus:
    """One measured index."""

    scale: int
    result: dict[str, Any]
    peak_rss_mb: float

    def p(self, key: str, q: float) -> float:
        """A percentile of ``first_ms`` or ``repeated_ms``."""
        return percentile(self.result[key], q)


def job_for(data_dir: Path, plan: Plan) -> dict[str, Any]:
    """The warm-up searches and the first-time queries for an index, from its catalog's names (seeded)."""
    from bench.query_mix import catalog_names, common_searches, long_tail_queries

    common = [search_args(params) for _what, params in common_searches()][:plan.warm]
    extra = max(0, plan.warm - len(common))
    pool = long_tail_queries(catalog_names(data_dir), extra + plan.timed, SEED)
    warm_tail, timed = pool[:min(extra, len(pool) // 2)], pool[min(extra, len(pool) // 2):]
    warm = common + [search_args({"q": q}) for q in warm_tail]
    return {"index_dir": str(data_dir / "index"), "warm": warm, "timed": timed[:plan.timed]}


def measure_corpus(workdir: Path, data_dir: Path, scale: int, plan: Plan) -> Corpus:
    """Run the measuring child on one data dir's index."""
    job = job_for(data_dir, plan)
    job_path = workdir / f"job-{scale}x.json"
    job_path.parent.mkdir(parents=True, exist_ok=True)
    job_path.write_text(json.dumps(job), encoding="utf-8")
    say(f"first_query: {scale}x, {len(job['warm'])} warm-up searches, {len(job['timed'])} first-time queries ...")
    done = run_measured([PYTHON, "-m", "bench.first_query", "--measure", str(job_path)], logs=workdir / "logs",
                        name=f"first-query-{scale}x", env=child_env(data_dir)).check("the first-query measurement")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    corpus = Corpus(scale, result, done.max_rss_mb)
    say(f"first_query: {scale}x p50 {corpus.p('first_ms', 0.5):.1f} ms, p95 {corpus.p('first_ms', 0.95):.1f} ms")
    return corpus


def run(workdir: Path, mode: str = "full", data_dir: Path | None = None, catalog_dir: Path | None = None,
        scale: int = 1, scaled_data: Path | None = None) -> Section:
    """Measure the 1x index (``data_dir``, or one built here) and, with ``scale`` > 1, the scaled sample's."""
    started = time.perf_counter()
    plan = PLANS[mode]
    if data_dir is None:
        data_dir = build_indexed(workdir, mode, catalog_dir)
    corpora = [measure_corpus(workdir, data_dir, 1, plan)]
    if scale > 1:
        corpora.append(measure_corpus(workdir, scaled_data or scaled_dir(scale), scale, plan))
    section = report(corpora, mode)
    section.seconds = time.perf_counter() - started
    return section


def report(corpora: Sequence[Corpus], mode: str) -> Section:
    """The first-time query section: one row per corpus, the targets."""
    section = Section("First-time query")
    first = corpora[0]
    section.add_text(
        "In-process `indexer.search.Searcher` (a child process of its own, index opened read-only), warmed with "
        f"{first.result['warm']} searches (the serving benchmark's common searches with their filters and pages, "
        "and long-tail ones), then timed on long-tail queries it has never seen: 1-3 words from the catalog's career "
        f"and college names, each `Searcher.search(q, per_page={PER_PAGE})` with facets, snippets and a spelling "
        "suggestion, no cache dropped. *Repeated* is the same queries asked a second time (the same-run baseline). "
        "Peak RSS is the measuring process's, from the kernel.")
    rows = []
    for c in corpora:
        r = c.result
        n = len(r["first_ms"])
        rows.append([f"{c.scale}x", f"{r['docs']:,}", f"{r['warm']} ({r['warm_s']:.1f} s)", str(n),
                     fmt(c.p("first_ms", 0.5)), fmt(c.p("first_ms", 0.95)), fmt(c.p("first_ms", 0.99)),
                     fmt(c.p("repeated_ms", 0.5)), fmt(c.p("repeated_ms", 0.95)),
                     f"{r['suggested']} / {r['empty']} / {r['faceted']}", fmt(c.peak_rss_mb, 0)])
    section.add_table(["Corpus", "Docs", "Warm-up searches", "First-time queries", "First-time p50 ms",
                       "p95 ms", "p99 ms", "Repeated p50 ms", "Repeated p95 ms",
                       "With suggestion / no hits / with facets", "Peak RSS MiB"], rows, align="lrrrrrrrrrr")
    decided = mode != "smoke"
    base_p95 = first.p("first_ms", 0.95)
    for c in corpora:
        p95, limit = c.p("first_ms", 0.95), TARGET_MS.get(c.scale)
        if c.scale == 1:
            repeated = c.p("repeated_ms", 0.95)
            baseline, ratio = f"same queries repeated {repeated:.1f} ms", f"{p95 / repeated:.1f}x" if repeated else ""
        else:
            baseline, ratio = f"1x first-time {base_p95:.1f} ms", f"{p95 / base_p95:.1f}x" if base_p95 else ""
        section.targets.append(Target(
            f"First-time query p95 at {c.scale}x (facets, snippets, suggestion)", f"{p95:.1f} ms", baseline,
            f"< {limit:.0f} ms" if limit else "(none; shown)", (p95 < limit if decided else None) if limit else None,
            ratio=ratio, info=limit is None))
    section.figures = {f"{c.scale}x": {"docs": c.result["docs"], "first_p50_ms": c.p("first_ms", 0.5),
                                       "first_p95_ms": c.p("first_ms", 0.95), "repeated_p95_ms": c.p("repeated_ms", 0.95),
                                       "peak_rss_mb": c.peak_rss_mb} for c in corpora}
    return section


def main(argv: Sequence[str] | None = None) -> int:
    """Run the first-time query benchmark alone (or, with ``--measure JOB``, be its measuring child)."""
    if argv is None:
        argv = sys.argv[1:]
    if len(argv) == 2 and argv[0] == "--measure":
        job = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        print(json.dumps(measure(job)), flush=True)
        return 0

    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--data-dir", type=Path, default=None,
                            help="a data dir with a catalog and an index (read only); default: crawl and index")
        parser.add_argument("--scale", type=int, default=1,
                            help="also measure the sample site at N times the programs and reviews (bench.scaled)")

    return section_main(argv, __doc__, "cs-bench-first-query-",
                        lambda workdir, args: run(workdir, args.mode, args.data_dir, scale=args.scale), options)


if __name__ == "__main__":
    sys.exit(main())
