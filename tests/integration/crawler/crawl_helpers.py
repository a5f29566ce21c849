"""Helpers for crawl tests: run ``collegesearch crawl`` as a real process against a sample site.

Twisted's reactor cannot restart, so every crawl runs in its own child process, exactly as an
operator (or the scheduler) runs it; the tests then read the catalog and the sample site's
access log.
"""

from __future__ import annotations

import collections
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog import Catalog
from model.sources import BUILTIN_SOURCES

ROOT = Path(__file__).resolve().parents[3]
USER_AGENT_RE = re.compile(r"^collegesearch/")


def crawl_env(data_dir: Path, **settings: Any) -> dict[str, str]:
    """A clean environment for a crawl: no developer settings, the data dir and these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLEGESEARCH_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["COLLEGESEARCH_DATA_DIR"] = str(data_dir)
    for name, value in settings.items():
        env[f"COLLEGESEARCH_{name}"] = str(value)
    return env


@dataclass
class CrawlResult:
    """One finished crawl process: its output, duration and the run records it left."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    runs: list[Any] = field(default_factory=list)
    log_mark: int = 0
    log_end: int = 0

    def run(self, source: str) -> Any:
        """This crawl's run record of one source."""
        for run in self.runs:
            if run.source == source:
                return run
        raise KeyError(f"no run of {source} in this crawl; stdout:\n{self.stdout}\nstderr:\n{self.stderr[-3000:]}")

    @property
    def pages(self) -> int:
        """Pages processed by every source of this crawl."""
        return sum(int(r.stats.get("pages", 0)) for r in self.runs)

    @property
    def pages_per_second(self) -> float:
        """Pages per second of wall-clock time, process start to exit."""
        return self.pages / self.seconds if self.seconds else 0.0


def run_crawl(data_dir: Path, base_url: str, *sources: str, site: Any = None, timeout: float = 1500,
              env: dict[str, str] | None = None, full: bool = False, sync: bool = False,
              **settings: Any) -> CrawlResult:
    """``collegesearch --data-dir D crawl --base-url URL SOURCES...`` in a child process (``--full`` with ``full``,
    ``--sync`` to bring the search index up to date afterwards with ``sync``)."""
    mark = site.log_mark() if site is not None else 0
    before = _max_run_id(data_dir)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "collegesearch", "--data-dir", str(data_dir), "crawl", *sources, "--base-url", base_url,
         *(["--full"] if full else []), *(["--sync"] if sync else [])],
        cwd=ROOT, env=env or crawl_env(data_dir, **settings), capture_output=True, text=True, timeout=timeout,
    )
    seconds = time.monotonic() - started
    with Catalog(data_dir / "catalog.sqlite3", readonly=True) as cat:
        runs = [r for r in cat.list_runs(limit=1000) if r.id > before]
    return CrawlResult(proc.returncode, proc.stdout, proc.stderr, seconds, runs, mark,
                       site.log_mark() if site is not None else 0)


def _max_run_id(data_dir: Path) -> int:
    path = data_dir / "catalog.sqlite3"
    if not path.exists():
        return 0
    with Catalog(path, readonly=True) as cat:
        runs = cat.list_runs(limit=1)
    return runs[0].id if runs else 0


def snapshot(data_dir: Path, dest: Path) -> Path:
    """A consistent copy of the catalog (SQLite backup API), to compare stages of a test later."""
    src = sqlite3.connect(data_dir / "catalog.sqlite3")
    dst = sqlite3.connect(dest)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return dest


def base_urls(site: Any) -> dict[str, str]:
    """source -> base URL of a running sample site (for ``sample_site.truth.expected_items``)."""
    return dict(site.base_urls)


def records_between(site: Any, start: int, end: int | None = None) -> list[dict[str, Any]]:
    """Access-log records from line ``start`` up to ``end``."""
    records = site.access_records(start)
    return records if end is None else records[: max(0, end - start)]


def source_of_host(site: Any) -> dict[str, str]:
    """host:port -> source name."""
    out = {}
    for name, info in site.sources.items():
        out[info["base_url"].split("://", 1)[1]] = name
    return out


def assert_runs_changed_nothing(result: CrawlResult, seq_before: int, seq_after: int,
                                sources: Any = BUILTIN_SOURCES) -> dict[str, Any]:
    """A recrawl of an unchanged site: no change-log entry, and every source's run complete with no item
    new, changed, removed or revived. Returns the runs by source, for the caller's own checks."""
    assert seq_after == seq_before  # not one change-log entry
    runs = {}
    for source in sources:
        run = result.run(source)
        assert run.status == "ok" and run.complete, (source, run.error)
        items = run.stats["items"]
        assert items["new"] == items["changed"] == items["removed"] == items["revived"] == 0, items
        runs[source] = run
    return runs


STATUS_WORDS = {"probation": "Probation", "monitoring": "Monitoring", "warning": "Warning", "withdrawn": "Withdrawn",
                "show_cause": "Show cause", "accredited": "Accredited", "closed": "Closed"}
"""How pages and feeds name each accreditation status (written out here, not read from the web app under test)."""


@dataclass(frozen=True)
class StatusChange:
    """A directory program whose accreditation status the sample site's next epoch changes."""

    program_id: str
    program: dict[str, Any]  # as the sample site lists it at epoch 2
    old: str  # its status's words at epoch 1 ("Accredited")
    new: str  # and at epoch 2

    @property
    def entry_title(self) -> str:
        """The feed entry that change must bring."""
        return f"{self.new}: {self.program['name']} at {self.program['institution_name']} (was {self.old})"


def next_epoch_status_change() -> StatusChange:
    """The first directory program (by id) whose status differs between the sample site's epochs 1 and 2."""
    from sample_site import truth

    before, after = ({k: v for k, v in truth.expected_items(epoch)["program"].items() if v["source"] == "directory"}
                     for epoch in (1, 2))
    changed = sorted(k for k, v in after.items()
                     if k in before and v["accreditation_status"] != before[k]["accreditation_status"])
    assert changed, "the sample site's epoch 2 changes no directory program's status"
    program_id = changed[0]
    return StatusChange(program_id, after[program_id], STATUS_WORDS[before[program_id]["accreditation_status"]],
                        STATUS_WORDS[after[program_id]["accreditation_status"]])


def print_numbers(title: str, numbers: dict[str, Any]) -> None:
    """Print measured numbers (shown with -s or -rP) and keep them for the report."""
    line = f"{title}: " + ", ".join(f"{k}={v}" for k, v in numbers.items())
    print(line)
    out = ROOT / ".pytest_cache" / "crawl_numbers.jsonl"
    try:
        out.parent.mkdir(exist_ok=True)
        with out.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"title": title, **numbers}) + "\n")
    except OSError:
        pass


def compare_with_truth(cat: Any, expected: dict[str, dict[str, dict]], skip: set[str],
                       sources: Any = BUILTIN_SOURCES) -> dict[str, list[str]]:
    """Problems per kind between the catalog's live observations and the ground truth (fields in ``skip`` not compared)."""
    problems: dict[str, list[str]] = collections.defaultdict(list)
    for kind, items in expected.items():
        live = {s.item_id: s for s in cat.iter_items(kind) if s.source in sources}
        for item_id in sorted(set(items) - set(live))[:20]:
            problems[kind].append(f"missing {item_id}")
        for item_id in sorted(set(live) - set(items))[:20]:
            problems[kind].append(f"unexpected {item_id}")
        for item_id, fields in items.items():
            stored = live.get(item_id)
            if stored is None:
                continue
            linked = fields.get("source") in ("reviews", "directory")
            for key, value in fields.items():
                if linked and key in skip:  # linkage has its own precision/recall test
                    continue
                if stored.data.get(key) != value and len(problems[kind]) < 40:
                    problems[kind].append(f"{item_id}.{key}: expected {value!r}, got {stored.data.get(key)!r}")
    return {k: v for k, v in problems.items() if v}
