"""Search benchmark: runs the indexer's own speed and relevance benchmarks and captures their tables.

    python -m bench.search [--quick | --smoke] [--workdir DIR] [--keep]

``bench/search_speed.py`` (full search against a naive Whoosh baseline and SQLite FTS5, on the
sample corpus and on a synthetic 10x corpus) and ``bench/search_relevance.py`` (nDCG@10 and MRR of
the judged queries against plain BM25 and each feature off) belong to the indexer; this module
runs them as they are, in child processes, and puts their tables into RESULTS.md.

Full mode: the sample corpus (targets), then the growth run: every 10th record of the sample and a
synthetic 10x of it, the same query mix on both (the 10x of the whole sample takes over an hour to
build on two cores), then relevance. Quick mode: the sample corpus with fewer passes, and
relevance. Smoke mode: thinned corpora, no relevance.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.common import (
    PYTHON,
    ROOT,
    Section,
    Target,
    child_env,
    run_measured,
    say,
    section_main,
)

SAMPLE_ARGS: dict[str, list[str]] = {
    # the sample corpus (the whole ground truth, about 44,000 documents): the targets
    "full": ["--skip-expanded", "--runs", "3", "--naive-runs", "2"],
    "quick": ["--skip-expanded", "--runs", "2", "--naive-runs", "1"],
    "smoke": ["--skip-expanded", "--runs", "1", "--naive-runs", "1", "--sample-limit", "200"],
}
# Growth with corpus size: every GROWTH_LIMIT-th record of the sample, then 10 copies of it (the same
# 30 queries on both). The 10x of the whole sample (~440,000 documents) takes over an hour to build
# here; `.venv/bin/python bench/search_speed.py` alone still measures it.
GROWTH_LIMIT = {"full": 10, "smoke": 400}
GROWTH_ARGS: dict[str, list[str]] = {
    "full": ["--sample-limit", "10", "--scale", "10", "--expanded-queries", "30", "--runs", "2", "--naive-runs", "2"],
    "smoke": ["--sample-limit", "400", "--scale", "10", "--expanded-queries", "6", "--runs", "1", "--naive-runs", "1"],
}
P95_TARGET_MS = 50.0
NAIVE_TARGET = 5.0


def table_rows(text: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table in ``text``, as dicts keyed by the header."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
    if len(lines) < 2:
        return []
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == len(header):
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


def _number(text: str) -> float | None:
    match = re.search(r"-?[\d,]*\.?\d+", text or "")
    return float(match.group().replace(",", "")) if match else None


def speed_targets(rows: list[dict[str, str]], decided: bool) -> list[Target]:
    """The issue's search targets, read from search_speed.py's table (sample corpus)."""
    targets = []
    naive = next((r for r in rows if r.get("Corpus") == "sample" and "naive" in r.get("Engine", "")), None)
    naive_p95 = _number(naive["p95 ms"]) if naive else None
    naive_label = f"naive Whoosh {naive_p95:.1f} ms" if naive_p95 is not None else "-"
    for r in rows:
        if r.get("Corpus") != "sample" or not r.get("Engine", "").startswith("collegesearch full search"):
            continue
        p95, ratio = _number(r.get("p95 ms", "")), _number(r.get("p95 speed-up vs naive", ""))
        which = r["Engine"].replace("collegesearch full search, ", "")
        if p95 is not None:
            targets.append(Target(f"Search p95, sample corpus ({which})", f"{p95:.1f} ms", naive_label,
                                  f"< {P95_TARGET_MS:.0f} ms", p95 < P95_TARGET_MS if decided else None,
                                  ratio=f"{ratio:.1f}x faster" if ratio is not None else ""))
        if ratio is not None:
            targets.append(Target(f"Search p95 speed-up vs naive Whoosh, sample corpus ({which})",
                                  f"{ratio:.1f}x", naive_label, f">= {NAIVE_TARGET:.0f}x faster",
                                  ratio >= NAIVE_TARGET if decided else None, ratio=f"{ratio:.1f}x"))
    return targets


def growth_targets(rows: list[dict[str, str]], small_label: str) -> list[Target]:
    """p95 on the 10x corpus against p95 on the corpus it was made from, per engine (shown, no target)."""
    by_engine: dict[str, dict[str, float]] = {}
    for r in rows:
        p95 = _number(r.get("p95 ms", ""))
        if p95 is not None:
            by_engine.setdefault(r.get("Engine", ""), {})["small" if r.get("Corpus") == small_label else "big"] = p95
    targets = []
    for engine, p95s in by_engine.items():
        if "small" in p95s and "big" in p95s and p95s["small"]:
            targets.append(Target(f"Search p95 growth, 10x corpus ({engine})", f"{p95s['big']:.1f} ms",
                                  f"{small_label} {p95s['small']:.1f} ms", "(none; shown)", None,
                                  ratio=f"{p95s['big'] / p95s['small']:.1f}x", info=True))
    return targets


def _speed(workdir: Path, name: str, args: list[str]) -> str:
    say(f"search: bench/search_speed.py {' '.join(args)} ...")
    done = run_measured([PYTHON, str(ROOT / "bench" / "search_speed.py"), "--keep", str(workdir / name), *args],
                        logs=workdir / "logs", name=name, env=child_env())
    done.check("bench/search_speed.py")
    return done.stdout.strip()


def run(workdir: Path, mode: str = "full") -> Section:
    """Run both indexer benchmarks and build the section."""
    started = time.perf_counter()
    logs = workdir / "logs"
    section = Section("Search")
    section.add_text(
        "From `bench/search_speed.py` (the indexer's benchmark, run unchanged): the same query mix through the "
        "full search (`indexer.search.Searcher`), a naive Whoosh baseline (new searcher per query, stock parser, "
        "facets over all hits, whole-text highlighting) and SQLite FTS5 doing the same work, on the sample "
        "corpus (the sample site's ground truth). Latency: median over passes of each pass's p50 / p95; "
        "a warm-up pass is not counted.")
    speed_out = _speed(workdir, "search_speed", SAMPLE_ARGS[mode])
    rows = table_rows(speed_out)
    section.add_text(*[ln for ln in speed_out.splitlines() if ln.startswith("|")])
    notes = [ln for ln in speed_out.splitlines() if ln and not ln.startswith("|")]
    if notes:
        section.add_text("search_speed.py says: " + " ".join(notes))
    section.targets = speed_targets(rows, decided=mode != "smoke")
    section.figures["speed"] = rows
    if mode in GROWTH_ARGS:
        limit = GROWTH_LIMIT[mode]
        growth_out = _speed(workdir, "search_speed_growth", GROWTH_ARGS[mode])
        small_label = f"1/{limit} of sample"
        lines = [ln.replace("| sample |", f"| {small_label} |", 1) for ln in growth_out.splitlines()
                 if ln.startswith("|")]
        growth = table_rows("\n".join(lines))
        section.add_text(f"**Growth with corpus size**: every {limit}th record of the sample corpus, then a "
                         "synthetic 10x of that (10 linked copies of every record), the queries of the Queries column "
                         "(`search_speed.py " + " ".join(GROWTH_ARGS[mode]) + "`). The ratio column below the "
                         "tables is p95 on the 10x corpus over p95 on the small one: cost growing slower "
                         "than the corpus shows as a ratio well under 10x.")
        section.add_text(*lines)
        section.targets += growth_targets(growth, small_label)
        section.figures["growth"] = growth
    else:
        section.add_text("Growth with corpus size: not measured in quick mode.")
    if mode == "smoke":
        section.add_text("Relevance: skipped in smoke mode.")
    else:
        say("search: bench/search_relevance.py ...")
        rel = run_measured([PYTHON, str(ROOT / "bench" / "search_relevance.py")], logs=logs, name="search_relevance",
                           env=child_env())
        rel.check("bench/search_relevance.py")
        section.add_text("**Relevance** (from `bench/search_relevance.py`: the judged query set over the sample "
                         "corpus, full search against plain BM25 on the same index and against each feature off):")
        section.add_text(*rel.stdout.strip().splitlines())
        section.figures["relevance"] = table_rows(rel.stdout)
    section.seconds = time.perf_counter() - started
    return section


def main(argv: Sequence[str] | None = None) -> int:
    """Run the search benchmarks alone and print the section."""
    return section_main(argv, __doc__, "cs-bench-search-", lambda workdir, args: run(workdir, args.mode))


if __name__ == "__main__":
    sys.exit(main())
