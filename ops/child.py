"""A crawl as a child process: ``python -m collegesearch crawl SOURCE --trigger T``, supervised.

Each crawl runs in its own process because Twisted's reactor cannot be restarted in one process
(and the web app never runs Scrapy). The child gets exactly the parent's settings through its
environment and leads its own session, so signals reach everything it started. ``supervise``
stops it past its time limit or when the scheduler stops: SIGTERM first (the crawler finishes its
in-flight requests and records its run), SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collegesearch.config import ENV_PREFIX, SETTINGS, Settings

log = logging.getLogger(__name__)
child_log = logging.getLogger("ops.child.output")

ROOT = Path(__file__).resolve().parents[1]

TIME_LIMIT_MARGIN = 60.0
"""Seconds past CRAWL_TIME_LIMIT before the scheduler stops a child: the crawler stops itself at the
limit (Scrapy's CLOSESPIDER_TIMEOUT) and records its stats; this is for a child that hangs."""
TERM_GRACE = 45.0
"""Seconds a child has after SIGTERM to finish its in-flight requests before SIGKILL."""
OUTPUT_TAIL = 60


def settings_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment that gives a child process exactly these settings (and finds this project)."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith(ENV_PREFIX)}
    for setting in SETTINGS:
        value = getattr(settings, setting.name)
        if value is None:
            text = ""
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, tuple):
            text = ",".join(value)
        else:
            text = str(value)
        env[setting.env] = text
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def crawl_command(source: str, trigger: str, *, sync: bool = False, full: bool = False) -> list[str]:
    """The command line of a crawl child: ``collegesearch crawl SOURCE --trigger T`` run by this Python.

    A scheduled crawl unless ``full`` (``--full``: every page fetched, due or not).
    """
    argv = [sys.executable, "-m", "collegesearch", "crawl", source, "--trigger", trigger]
    return argv + (["--sync"] if sync else []) + (["--full"] if full else [])


@dataclass
class ChildOutcome:
    """How a supervised child process ended."""

    pid: int
    returncode: int | None
    seconds: float
    timed_out: bool = False
    stopped: bool = False
    """The scheduler was shutting down and asked the child to stop."""
    killed: bool = False
    """The child did not stop after SIGTERM and was killed."""
    output: list[str] = field(default_factory=list)

    @property
    def signal_name(self) -> str | None:
        """The signal that ended the child, if one did."""
        if self.returncode is not None and self.returncode < 0:
            try:
                return signal.Signals(-self.returncode).name
            except ValueError:
                return f"signal {-self.returncode}"
        return None

    @property
    def error_line(self) -> str | None:
        """The child's last ``error:`` line (what the CLI says went wrong)."""
        for line in reversed(self.output):
            if line.startswith("error: "):
                return line[len("error: "):]
        return None

    def how_it_ended(self, term_grace: float) -> str:
        """The end of the child in words: "exited with code 1", "was killed by SIGKILL"..."""
        if self.killed:
            return f"was killed (SIGKILL) {term_grace:.0f} s after SIGTERM"
        if self.signal_name:
            return f"was killed by {self.signal_name}"
        if self.returncode:
            return f"exited with code {self.returncode}"
        return "exited"


def _signal_group(proc: subprocess.Popen[Any], sig: int) -> None:
    # The child leads its own session: signal the group, so anything it started stops too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            proc.send_signal(sig)


def supervise(
    proc: subprocess.Popen[Any],
    *,
    time_limit: float,
    term_grace: float,
    stop: threading.Event | None = None,
    force: threading.Event | None = None,
    poll: float = 0.2,
) -> ChildOutcome:
    """Wait for a child: SIGTERM past ``time_limit`` or on ``stop``, SIGKILL ``term_grace`` s later or on ``force``."""
    started = time.monotonic()
    deadline = started + time_limit
    outcome = ChildOutcome(pid=proc.pid, returncode=None, seconds=0.0)
    term_sent: float | None = None
    while True:
        try:
            proc.wait(timeout=poll)
            break
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if term_sent is None and (now >= deadline or (stop is not None and stop.is_set())):
            outcome.timed_out = now >= deadline
            outcome.stopped = not outcome.timed_out
            log.warning("crawl process %s: %s; sending SIGTERM (it has %.0f s to finish its requests)", proc.pid,
                        f"time limit of {time_limit:.0f} s reached" if outcome.timed_out else "scheduler stopping",
                        term_grace)
            _signal_group(proc, signal.SIGTERM)
            term_sent = now
        elif term_sent is not None and (now >= term_sent + term_grace or (force is not None and force.is_set())):
            if not outcome.killed:
                log.error("crawl process %s did not stop after SIGTERM; killing it", proc.pid)
                _signal_group(proc, signal.SIGKILL)
                outcome.killed = True
    outcome.returncode = proc.returncode
    outcome.seconds = time.monotonic() - started
    return outcome


class OutputPump(threading.Thread):
    """Copies a child's output into the scheduler's log, keeping the last lines for error reasons."""

    def __init__(self, stream: Any, prefix: str) -> None:
        super().__init__(name=f"output-{prefix}", daemon=True)
        self.stream = stream
        self.prefix = prefix
        self.tail: deque[str] = deque(maxlen=OUTPUT_TAIL)

    def run(self) -> None:
        """Copy lines until the child closes its output."""
        for raw in self.stream:
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            self.tail.append(line)
            self.relay(line)
        self.stream.close()

    def relay(self, line: str) -> None:
        """Log one output line: a child's JSON log line (LOG_FORMAT=json) keeps its level and context fields."""
        record = _json_log_line(line)
        if record is None:
            child_log.info("[%s] %s", self.prefix, line, extra={"source": self.prefix})
            return
        # Re-logged rather than copied as text, so the scheduler's JSON line is not JSON inside a string.
        extra = {"source": record.get("source") or self.prefix, "child_logger": record.get("logger"),
                 "child_time": record.get("time")}
        for name in ("run_id", "exc_info"):
            if record.get(name) is not None:
                extra["child_" + name if name == "exc_info" else name] = record[name]
        level = logging.getLevelName(str(record.get("level", "INFO")))
        child_log.log(level if isinstance(level, int) else logging.INFO, "[%s] %s", self.prefix,
                      record.get("message", ""), extra=extra)


def _json_log_line(line: str) -> dict[str, Any] | None:
    """A child's JSON log line as a dict, or None for any other output (the summary table, error lines)."""
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "message" in record else None


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook that has the kernel SIGKILL the child when this process dies (Linux; None elsewhere).

    For crawl workers: a worker killed outright must not leave its crawl running unsupervised,
    holding the source's lock, while the queue hands the job to another worker.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork: the hook only calls it
    parent = os.getpid()

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the hook ran: nobody would kill us later
            os._exit(1)

    return hook


def start_child(argv: list[str], settings: Settings, source: str, *,
                die_with_parent: bool = False) -> tuple[subprocess.Popen[Any], OutputPump]:
    """Start a crawl child with the settings in its environment, its output copied into the log.

    ``die_with_parent``: the child is killed when this process dies (the thread that starts it
    must live until the child ends, as ``supervise`` does: Linux signals on that thread's exit).
    """
    proc = subprocess.Popen(argv, env=settings_env(settings), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True,
                            preexec_fn=_die_with_parent() if die_with_parent else None)
    pump = OutputPump(proc.stdout, source)
    pump.start()
    return proc, pump
