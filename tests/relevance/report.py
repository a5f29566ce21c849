"""Print nDCG@10 and MRR of the judged set, overall and per group, as a Markdown table.

``python -m tests.relevance.report [CACHE_DIR]`` builds (or reuses) the truth corpus in CACHE_DIR
(default ``.pytest_cache/d/collegesearch-relevance``, the folder the test suite uses) and prints one
row per judgment category, then the whole set, then the judgments that fail.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from tests.relevance.metrics import Outcome, summarize

DEFAULT_CACHE = Path(".pytest_cache/d/collegesearch-relevance")


def table(outcomes: Sequence[Outcome]) -> str:
    """One Markdown row per category (in judgment order), then the whole set."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.judgment.category, []).append(o)
    lines = ["| group | queries | nDCG@10 | MRR | passing |", "|---|---:|---:|---:|---:|"]
    for name, members in [*groups.items(), ("**all**", list(outcomes))]:
        s = summarize(members)
        lines.append(f"| {name} | {s.total} | {s.ndcg10:.3f} | {s.mrr:.3f} | {s.passed}/{s.total} |")
    return "\n".join(lines)


def failures(outcomes: Sequence[Outcome]) -> str:
    """The judgments that fail, with what came first."""
    return "\n".join(f"- `{o.judgment.label}` ({o.judgment.category}): got {', '.join(o.ranked[:3])}"
                     for o in outcomes if not o.passed)


def main(argv: Sequence[str]) -> int:
    """Build or reuse the corpus, run every judgment, print the tables."""
    from indexer.search import Searcher
    from tests.relevance.corpus import build_truth_index
    from tests.relevance.judgments import JUDGMENTS
    from tests.relevance.metrics import run

    settings = build_truth_index(Path(argv[0]) if argv else DEFAULT_CACHE,
                                 progress=lambda m: print(m, file=sys.stderr))
    searcher = Searcher(settings)
    try:
        outcomes = run(searcher, JUDGMENTS)
    finally:
        searcher.close()
    print(table(outcomes))
    print("\nFailing judgments:\n")
    print(failures(outcomes) or "- none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
