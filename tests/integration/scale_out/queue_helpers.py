"""Helpers for the crawl-queue tests: collegesearch processes (workers, schedulers, `crawl --queue`) on one
PostgreSQL catalog, and what they left in it.

Every process is a real ``python -m collegesearch`` with its settings in the environment, as an operator
starts it; tests read the catalog (runs, items, schedule events) and the queue (procrastinate's jobs).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from catalog import Catalog
from collegesearch.config import Settings, load_settings
from tests.integration.schedule.schedule_helpers import QUIET, SchedulerProcess, wait_for

ROOT = Path(__file__).resolve().parents[3]
FAST_QUEUE = {"QUEUE_HEARTBEAT": "0.5", "QUEUE_STALLED_TIMEOUT": "3"}
"""Heartbeats and stall detection in seconds, so a dead worker's job is retried within a few seconds."""


def queue_env(data_dir: Path, database_url: str, **settings: Any) -> dict[str, str]:
    """A clean environment for collegesearch processes on the shared catalog: no developer settings, these ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLEGESEARCH_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(QUIET)
    env.update({f"COLLEGESEARCH_{k}": v for k, v in FAST_QUEUE.items()})
    env["COLLEGESEARCH_DATA_DIR"] = str(data_dir)
    env["COLLEGESEARCH_DATABASE_URL"] = database_url
    env["COLLEGESEARCH_SCHEDULE_TIMEZONE"] = "UTC"
    env["COLLEGESEARCH_SYNC_AFTER_CRAWL"] = "false"
    for name, value in settings.items():
        env[f"COLLEGESEARCH_{name}"] = str(value)
    return env


def env_settings(env: dict[str, str]) -> Settings:
    """The settings a process started with ``env`` reads."""
    return load_settings(env=env, config_file=None)


def cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``collegesearch ARGS`` to completion."""
    return subprocess.run([sys.executable, "-m", "collegesearch", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def queued_ids(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """source -> job id from what ``crawl --queue`` printed (``directory: queued as job 12``)."""
    assert result.returncode == 0, result.stderr[-3000:]
    ids = {}
    for line in result.stdout.splitlines():
        source, _, rest = line.partition(": ")
        ids[source] = int(rest.rsplit(" ", 1)[1])
    return ids


class Proc(SchedulerProcess):
    """A long-running ``collegesearch`` command (``worker``, ``schedule``) with its output in files."""

    def __init__(self, workdir: Path, env: dict[str, str], *args: str, name: str) -> None:
        super().__init__(workdir, env, *args[1:], name=name, command=args[0])

    def wait_stdout(self, text: str, timeout: float = 60) -> None:
        """Wait until it printed ``text``."""
        wait_for(lambda: text in self.stdout or self.proc.poll() is not None, timeout, f"output {text!r}")
        assert text in self.stdout, f"exited ({self.proc.returncode}) before printing {text!r}:\n{self.log[-3000:]}"


def runs(url: str, source: str | None = None) -> list[Any]:
    """The runs in the shared catalog, oldest first."""
    with Catalog(url) as cat:
        return list(reversed(cat.list_runs(source, limit=500)))


def events(url: str, source: str | None = None, kind: str | None = None) -> list[Any]:
    """Schedule events, oldest first."""
    with Catalog(url) as cat:
        return list(reversed(cat.list_schedule_events(source, events=[kind] if kind else [], limit=500)))


def stored_programs(url: str, source: str = "directory") -> dict[str, dict]:
    """The programs of a source in the catalog, by id, with their data."""
    with Catalog(url) as cat:
        return {s.item_id: s.data for s in cat.iter_items("program", source=source)}


def count_programs(url: str, source: str = "directory") -> int:
    """How many programs of a source the catalog holds."""
    with Catalog(url) as cat:
        return cat.count("program", source=source)


def jobs(env: dict[str, str], source: str | None = None) -> list[Any]:
    """The crawl jobs in the queue (of one source), oldest first."""
    from ops.queue import CrawlQueue

    with CrawlQueue(env_settings(env)) as queue:
        return queue.jobs(source)
