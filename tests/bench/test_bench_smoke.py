"""`python -m bench --smoke` runs every benchmark for real and writes a complete report.

The smoke figures mean nothing (a few pages, seconds of load): speed is judged by the benchmark's
own tables, never by timed assertions here. What is checked is that every section runs against
the real programs (sample site, crawler, indexer, gunicorn, locust), prints its table, and that
the report names the commit and gives every figure a number.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SECTION_TABLES = {
    # section title -> the header of the section's own measurement table
    "Crawl": "| Run | Pages | Seconds | Pages/s | vs bare |",
    "Index": "| Operation | Records changed | Docs (re)indexed | Seconds |",
    "Search": "| Corpus | Engine | Docs | Queries |",
    "First-time query": "| Corpus | Docs | Warm-up searches | First-time queries |",
    "Serving": "| Phase | Endpoint | Requests (all runs) | Req/s | p50 ms | p95 ms | p99 ms | Errors |",
    "Scale out: crawl workers and index follow": "| Phase | Crawled | Pages | Seconds | Pages/s | Runs | All cores busy |",
}
FIGURES = [
    "Crawl pages/s vs bare spider",
    "Scheduled recrawl after no change vs full crawl",
    "Changes caught by a scheduled recrawl after an epoch change",
    "Crawler peak RSS, full crawl",
    "Sync of 1% changed records vs full rebuild",
    "Sync cost per extra changed record",
    "Full rebuild docs/s, both cores ÷ single process",
    "Index rebuild peak RSS",
    "Search p95, sample corpus (repeated queries)",
    "Search p95 speed-up vs naive Whoosh",
    "First-time query p95 at 1x",
    "Results page p95, index quiet",
    "Results page p95, under sync",
    "Pages/s, under sync vs index quiet",
    "Worker RSS after the load and syncs",
    "Errors, index quiet",
    "Errors, under sync",
    "Web worker peak RSS",
    "Crawl pages/s, two workers vs one",
    "Index follower lag p95",
    "Index follow catch-up throughput",
]


def _summary_rows(text: str) -> dict[str, list[str]]:
    """Figure -> cells of the RESULTS.md summary table (Section, Figure, Value, Baseline, Ratio, Target, Met?)."""
    body = text.split("## Summary", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] in SECTION_TABLES:
            rows[cells[1]] = cells
    return rows


@pytest.mark.slow
@pytest.mark.timeout(720)
def test_bench_smoke_runs_every_section_and_writes_results(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLEGESEARCH_")}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--results", str(results), "--workdir", str(tmp_path / "work")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=700, check=False,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stderr[-3000:]}"

    # each section's tables, then the summary, on stdout
    for title, header in SECTION_TABLES.items():
        assert f"## {title}" in proc.stdout, title
        assert header in proc.stdout, title
    assert "## Summary" in proc.stdout
    assert proc.stdout.index("## Crawl") < proc.stdout.index("## Index") < proc.stdout.index("## Search") \
        < proc.stdout.index("## First-time query") < proc.stdout.index("## Serving") \
        < proc.stdout.index("## Scale out") < proc.stdout.index("## Summary")

    text = results.read_text(encoding="utf-8")
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert f"| Commit | `{head}`" in text
    assert re.search(r"\| Load average at start \(1/5/15 min\) \| [\d.]+ / [\d.]+ / [\d.]+ \|", text)
    assert re.search(r"\| CPU \| .+, \d+ cores \|", text)
    assert "Smoke mode" in text
    # the load average before and during every section
    loads = re.findall(r"^\| (.+?) \| [\d.]+ \| [\d.]+ \| [\d.]+ \| (?:\*\*yes\*\*|no)", text, re.M)
    assert loads == list(SECTION_TABLES), loads

    rows = _summary_rows(text)
    for figure in FIGURES:
        matches = [cells for name, cells in rows.items() if name.startswith(figure)]
        assert matches, f"{figure!r} missing from the summary table"
        for cells in matches:
            value, verdict = cells[2], cells[6]
            assert re.search(r"\d", value), f"{cells[1]}: no number in {value!r}"
            # smoke figures are too small to judge: a target is never claimed met or missed
            assert verdict in ("n/a", "-"), f"{cells[1]}: {verdict!r}"
    # the serving runs really served: requests were counted, none failed
    errors = [cells for name, cells in rows.items() if name.startswith("Errors, ")]
    for cells in errors:
        served = re.match(r"(\d+) of ([\d,]+) requests", cells[2])
        failed = re.findall(r"\*\*Failed requests\*\*.*", text)
        assert served and served.group(1) == "0" and int(served.group(2).replace(",", "")) > 0, (cells, failed)
    # every section's own targets table and section time are in the file too
    for title in SECTION_TABLES:
        assert f"\n## {title}\n" in text
    section_target_tables = [ln for ln in text.splitlines()
                             if ln == "| Figure | Value | Baseline (same run) | Ratio | Target | Met? |"]
    assert len(section_target_tables) == len(SECTION_TABLES)
