"""The crawl history shared by the whole-site crawl tests: four full crawls of one private sample site.

Each is ``collegesearch crawl --full`` (every page requested, conditionally): these stages test
conditional requests and the two-complete-crawls sweep; ``test_crawl_freshness.py`` tests the
scheduled crawls that fetch only what is due.

1. ``full``: epoch 1 into an empty catalog;
2. ``unchanged``: epoch 1 again (conditional requests, 304s, nothing written but last_seen);
3. ``epoch2``: the site restarted at epoch 2 on the same port (exactly the changed pages update);
4. ``epoch2_again``: epoch 2 again (vanished items are tombstoned only now).

The catalog is snapshotted after every crawl. ``conftest.py`` runs it once per test session for
the modules that use the ``history`` fixture (they share one xdist group, so one worker runs them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from catalog import Catalog
from sample_site import truth
from tests.integration.crawler.crawl_helpers import CrawlResult, base_urls, run_crawl, snapshot
from tests.plugins.sample_site import SampleSiteProcess


@dataclass
class Stage:
    """One crawl of the history and what it left behind."""

    result: CrawlResult
    catalog: Path
    seq_before: int
    seq_after: int
    fused_before: int = 0
    """The fused records' change-log position before the crawl (``catalog.fused.max_change_seq``)."""
    fused_after: int = 0


@dataclass
class History:
    """Crawls of one sample site in order, by stage name (the history's four; the freshness test's six)."""

    site: SampleSiteProcess
    stages: dict[str, Stage]
    base: dict[str, str]

    def open(self, stage: str) -> Catalog:
        """The catalog as it was after a stage."""
        return Catalog(self.stages[stage].catalog, readonly=True)

    def records(self, stage: str) -> list[dict[str, Any]]:
        """Access-log records of one stage's crawl (robots.txt included)."""
        result = self.stages[stage].result
        return self.site.access_records(result.log_mark)[: result.log_end - result.log_mark]


def _seq(data: Path) -> tuple[int, int]:
    """(observation change-log position, fused change-log position) of the catalog."""
    path = data / "catalog.sqlite3"
    if not path.exists():
        return 0, 0
    with Catalog(path, readonly=True) as cat:
        return cat.max_change_seq(), cat.fused.max_change_seq()


def crawl_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """Run the four crawls (the fixture ``history`` in conftest.py runs this once per test session)."""
    work = tmp_path_factory.mktemp("crawl_history")
    site = SampleSiteProcess(work / "site").start()
    data = work / "data"
    stages: dict[str, Stage] = {}
    try:
        for name in ("full", "unchanged", "epoch2", "epoch2_again"):
            if name == "epoch2":
                site.restart(epoch=2)
            before = _seq(data)
            result = run_crawl(data, site.base_url, site=site, full=True)
            after = _seq(data)
            stages[name] = Stage(result, snapshot(data, work / f"{name}.sqlite3"), before[0], after[0], before[1],
                                 after[1])
            if result.returncode != 0:
                break  # later stages would only repeat the failure
        yield History(site, stages, base_urls(site))
    finally:
        site.stop()


def stage_of(history: History, name: str) -> Stage:
    """A stage that ran and whose crawl succeeded (else the test fails saying why)."""
    if name not in history.stages:
        pytest.fail(f"the {name} crawl did not run: an earlier crawl failed")
    stage = history.stages[name]
    result = stage.result
    assert result.returncode == 0, f"crawl failed:\n{result.stdout}\n{result.stderr[-4000:]}"
    return stage


def truth_diff() -> dict[str, dict[str, set[str]]]:
    """kind -> {new, removed, changed}: which records differ between epochs 1 and 2 of the ground truth."""
    return epoch_diff(1, 2)


def epoch_diff(a: int, b: int, base: dict[str, str] | None = None) -> dict[str, dict[str, set[str]]]:
    """kind -> {new, removed, changed}: the records that differ between two epochs of the ground truth."""
    ea, eb = truth.expected_items(a, base_urls=base), truth.expected_items(b, base_urls=base)
    out = {}
    for kind in ea:
        old, new = ea[kind], eb[kind]
        out[kind] = {
            "new": set(new) - set(old),
            "removed": set(old) - set(new),
            "changed": {i for i in set(old) & set(new) if {k: v for k, v in old[i].items() if k != "url"}
                        != {k: v for k, v in new[i].items() if k != "url"}},
        }
    return out
