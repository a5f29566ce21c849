"""Helpers (imported by the tests and conftest.py) for driving ``collegesearch schedule`` as a real process against a private sample site.

The scheduler runs as ``python -m collegesearch --data-dir X schedule`` with its settings in the environment
(short cron schedules with seconds, small retry backoff), exactly as an operator would start it;
tests read the catalog, the scheduler's log and ``collegesearch status`` to see what it did.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from catalog import Catalog
from catalog.migrations import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[3]
# Every built-in schedule off unless a test turns one on: a test must never crawl collegenavigator
# because it happens to run at 02:00 in New York.
QUIET = {f"COLLEGESEARCH_SCHEDULE_{s.upper()}": "" for s in ("bls_ooh", "collegenavigator", "directory", "reviews")}


def base_env(data_dir: Path, **settings: Any) -> dict[str, str]:
    """A clean environment for collegesearch processes: no developer settings, these ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLEGESEARCH_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(QUIET)
    env["COLLEGESEARCH_DATA_DIR"] = str(data_dir)
    env["COLLEGESEARCH_SCHEDULE_TIMEZONE"] = "UTC"
    for name, value in settings.items():
        env[f"COLLEGESEARCH_{name}"] = str(value)
    return env


def cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``collegesearch ARGS`` to completion."""
    return subprocess.run([sys.executable, "-m", "collegesearch", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def cron_at(moment: datetime) -> str:
    """A six-field cron expression (UTC) that fires once, at ``moment`` (to the second)."""
    m = moment.astimezone(UTC)
    return f"{m.second} {m.minute} {m.hour} {m.day} {m.month} *"


def free_port_url() -> str:
    """The URL of a loopback port nobody listens on (a site that is down)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def soon(seconds: float = 3.0) -> str:
    """A cron expression firing once, ``seconds`` from now."""
    return cron_at(datetime.now(UTC) + timedelta(seconds=seconds))


class SchedulerProcess:
    """``collegesearch schedule`` in a child process, with its output in files."""

    def __init__(self, workdir: Path, env: dict[str, str], *extra: str, name: str = "scheduler",
                 command: str = "schedule") -> None:
        self.workdir = workdir
        self.env = env
        self.terminated = False
        self.stdout_path = workdir / f"{name}.out"
        self.stderr_path = workdir / f"{name}.err"
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "collegesearch", command, *extra], cwd=ROOT, env=env,
                                         stdout=out, stderr=err, text=True)
        self.pid = self.proc.pid

    @property
    def stdout(self) -> str:
        """Everything it printed for people."""
        return self.stdout_path.read_text()

    @property
    def log(self) -> str:
        """Its log (stderr), including the crawl children's output."""
        return self.stderr_path.read_text()

    def wait_log(self, text: str, timeout: float = 120) -> None:
        """Wait until the log contains ``text``."""
        wait_for(lambda: text in self.log or self.proc.poll() is not None, timeout, f"log line {text!r}")
        assert text in self.log, f"scheduler exited ({self.proc.returncode}) before logging {text!r}:\n{self.log[-3000:]}"

    def terminate(self) -> None:
        """SIGTERM, once: the scheduler stops its crawls gracefully (a second SIGTERM would kill them)."""
        if self.proc.poll() is None and not self.terminated:
            self.proc.send_signal(signal.SIGTERM)
            self.terminated = True

    def stop(self, timeout: float = 90) -> int:
        """SIGTERM (unless ``terminate`` sent it already), and wait for a clean exit (returns the exit code)."""
        self.terminate()
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"scheduler did not stop within {timeout} s of SIGTERM:\n{self.log[-3000:]}") from None

    def kill(self) -> None:
        """SIGKILL (cleanup after a failed test)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, poll: float = 0.25) -> Any:
    """Poll until ``predicate()`` is truthy; its value, or AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def open_catalog(data_dir: Path) -> Catalog | None:
    """The catalog read-only, or None while it does not exist or is still being created (not migrated yet)."""
    path = data_dir / "catalog.sqlite3"
    if not path.exists():
        return None
    cat = Catalog(path, readonly=True)
    if cat.schema_version() < SCHEMA_VERSION:
        cat.close()
        return None
    return cat


def runs(data_dir: Path, source: str | None = None) -> list[Any]:
    """The runs in the catalog, oldest first ([] before the catalog exists)."""
    cat = open_catalog(data_dir)
    if cat is None:
        return []
    with cat:
        return list(reversed(cat.list_runs(source, limit=500)))


def events(data_dir: Path, source: str | None = None, kind: str | None = None) -> list[Any]:
    """Schedule events, oldest first."""
    cat = open_catalog(data_dir)
    if cat is None:
        return []
    with cat:
        return list(reversed(cat.list_schedule_events(source, events=[kind] if kind else [], limit=500)))


def parse(ts: str | None) -> datetime:
    """A catalog timestamp as an aware datetime."""
    assert ts
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def mini_sites(path: Path, site: Any, schedules: dict[str, str]) -> Path:
    """A SITES_FILE with tiny generic career sites on the sample site's OOH host (a few pages each)."""
    groups = {"mini-a": "building-and-grounds-cleaning", "mini-b": "math"}
    host = site.sources["bls_ooh"]["base_url"]
    blocks = []
    for name, group in groups.items():
        blocks.append(textwrap.dedent(f"""
            [[site]]
            name = "{name}"
            type = "generic"
            kinds = ["career"]
            start_urls = ["{host}/ooh/{group}/home.htm"]
            follow = ['/ooh/{group}/[a-z0-9-]+\\.htm$']
            max_depth = 1
        """))
        if name in schedules:
            blocks[-1] += f'schedule = "{schedules[name]}"\n'
    path.write_text("".join(blocks))
    return path
