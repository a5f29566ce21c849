"""Run `collegesearch index follow` and `collegesearch status --json` as real child processes over a data dir."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collegesearch.config import Settings

ROOT = Path(__file__).resolve().parents[3]


def child_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process these settings (the tests' own env has no COLLEGESEARCH_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLEGESEARCH_")}
    env.update({"COLLEGESEARCH_DATA_DIR": settings.DATA_DIR, "COLLEGESEARCH_INDEX_BUILD_PROCS": "1",
                "COLLEGESEARCH_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"})
    if settings.DATABASE_URL:
        env["COLLEGESEARCH_DATABASE_URL"] = settings.DATABASE_URL
    return env


def cli(settings: Settings, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run one collegesearch command to its end."""
    return subprocess.run([sys.executable, "-m", "collegesearch", *args], env=child_env(settings), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def index_status(settings: Settings) -> dict[str, Any]:
    """The ``index`` part of ``collegesearch status --json``."""
    done = cli(settings, "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["index"]


def wait_until(check: Callable[[], Any], timeout: float, what: str, proc: FollowerProcess | None = None) -> Any:
    """Poll ``check`` until it returns something true; fail with ``what`` (and the follower's log) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if proc is not None and proc.popen.poll() is not None:
            raise AssertionError(f"the follower exited ({proc.popen.returncode}) while waiting for {what}:\n{proc.log()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s" + (f":\n{proc.log()}" if proc else ""))
        time.sleep(0.05)


class FollowerProcess:
    """`collegesearch index follow` in a child process, its output in files (no pipe to fill up)."""

    def __init__(self, settings: Settings, workdir: Path, *, poll: float) -> None:
        self.settings = settings
        self.out = workdir / f"follow-{time.monotonic_ns()}.out"
        self.err = self.out.with_suffix(".err")
        with self.out.open("w") as out, self.err.open("w") as err:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "collegesearch", "index", "follow", "--poll", str(poll)],
                env=child_env(settings), cwd=ROOT, stdout=out, stderr=err)

    def log(self) -> str:
        """Everything it printed so far."""
        return self.out.read_text() + self.err.read_text()

    def wait_ready(self, timeout: float = 30) -> None:
        """Until its first round is done (it writes its state file after each round)."""
        from ops.follow import follower_state

        wait_until(lambda: follower_state(self.settings).get("last_check"), timeout, "first follower round", self)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, and its exit code."""
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout)

    def kill(self) -> None:
        """Make sure it is gone (test teardown)."""
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)
