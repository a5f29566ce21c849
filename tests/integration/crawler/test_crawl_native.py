"""`scrapy crawl` keeps working natively: settings from config.py, sample-site discovery in the
spider, the same catalog bookkeeping, and FEEDS (JSON Lines) as an export option."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from catalog import Catalog
from sample_site import truth
from tests.integration.crawler.crawl_helpers import ROOT, crawl_env


def test_scrapy_crawl_with_a_feed(sample_site, tmp_path: Path) -> None:
    data, feed = tmp_path / "data", tmp_path / "programs.jsonl"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "scrapy"), "crawl", "directory", "-a",
         f"base_url={sample_site.base_url}", "-O", str(feed)],
        cwd=ROOT, env=crawl_env(data), capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in feed.read_text().splitlines()]
    expected = truth.counts(1)["cahiim_programs"]
    assert len(lines) == expected
    assert {row["program_id"] for row in lines} == {f"cahiim-{i}" for i in
                                                    (int(p.split("-")[1]) for p in truth.directory_links(1))}
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        run = cat.list_runs("directory")[0]
        assert run.status == "ok" and run.complete and run.trigger == "manual"
        assert cat.count("program", source="directory") == expected
