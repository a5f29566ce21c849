"""Relevance: nDCG@10 and MRR of the judged query set, full search against plain BM25 and each feature off.

    .venv/bin/python bench/search_relevance.py [--cache DIR] [--failures]

Runs ``tests/relevance/judgments.py`` (the judged queries over the sample site's ground truth)
through ``indexer.search.Searcher.search`` on the same index with different ``Relevance``
settings: everything on; plain BM25 (one catch-all text field, no field boosts, synonyms, kind
hints, proximity or exact-name bonus, any-word matching, no spelling help); and everything but
one feature, for each feature. The table shows what each feature buys (the drop when it is off).
The index is built once into ``--cache`` (default ``~/.cache/collegesearch/bench``) and reused
while the generator and indexer are unchanged.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from indexer.parse import DEFAULT_RELEVANCE, PLAIN_BM25, Relevance  # noqa: E402
from indexer.search import Searcher  # noqa: E402
from tests.relevance.corpus import build_truth_index  # noqa: E402
from tests.relevance.judgments import JUDGMENTS  # noqa: E402
from tests.relevance.metrics import Outcome, run, summarize  # noqa: E402

FEATURES: dict[str, str] = {
    "field_boosts": "field boosts (name/aliases/subjects over body), the name tiers and the career hub",
    "phrase_boost": "proximity re-ranking (words close together in title/excerpt)",
    "synonyms": "synonyms and abbreviations (data/synonyms.txt)",
    "matching": "every-word matching with any-word fallback (off = any word)",
    "fuzzy": "spelling suggestion, corrected and fuzzy matching",
    "kind_hints": "kind hints (\"programs\", \"colleges\", \"BSN\" favour a kind)",
    "places": "places in plain words (\"nursing georgia\" filters to GA)",
}


def default_cache() -> Path:
    """The benchmarks' cache folder (outside the repository)."""
    import os

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "collegesearch" / "bench"


def configurations() -> list[tuple[str, Relevance]]:
    """Full, plain BM25, and full minus each feature."""
    configs = [("full search (all features)", DEFAULT_RELEVANCE), ("plain BM25", PLAIN_BM25)]
    configs += [(f"without {name}", DEFAULT_RELEVANCE.without(name)) for name in FEATURES]
    return configs


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or reuse) the index, score every configuration, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=default_cache(), help="where the built index is kept")
    parser.add_argument("--failures", action="store_true", help="list the judged queries the full search misses")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    settings = build_truth_index(args.cache, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(f"corpus ready in {time.perf_counter() - started:.0f} s; {len(JUDGMENTS)} judged queries",
          file=sys.stderr)
    searcher = Searcher(settings)
    rows = []
    full_outcomes: list[Outcome] = []
    for label, relevance in configurations():
        outcomes = run(searcher, JUDGMENTS, relevance)
        if relevance == DEFAULT_RELEVANCE:
            full_outcomes = outcomes
        rows.append((label, summarize(outcomes)))
    searcher.close()
    full = rows[0][1]
    print("| Configuration | nDCG@10 | MRR | top-3 targets met | top-10 targets met | queries fully passed |"
          " nDCG@10 vs full |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, s in rows:
        delta = s.ndcg10 - full.ndcg10
        print(f"| {label} | {s.ndcg10:.3f} | {s.mrr:.3f} | {s.top3_pass:.0%} | {s.top10_pass:.0%} | "
              f"{s.passed}/{s.total} | {delta:+.3f} |")
    print()
    for name, what in FEATURES.items():
        print(f"- `{name}`: {what}")
    if args.failures:
        misses = [o for o in full_outcomes if not o.passed]
        print(f"\nFull search misses {len(misses)} judged queries:")
        for o in misses:
            print(f"- {o.judgment.label}: top 3 missing {o.top3_missing}, top 10 missing {o.top10_missing}; "
                  f"got {o.ranked[:5]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
