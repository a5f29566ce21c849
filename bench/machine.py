"""The machine the benchmarks run on: its description, and the load on it before and during each section."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import platform
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]

if TYPE_CHECKING:
    from bench.common import Section

ROOT = Path(__file__).resolve().parents[1]


# -- the machine -----------------------------------------------------------------------------------


def git(*args: str) -> str:
    """Output of a git command in the repository ('' when git is unavailable)."""
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30,
                              check=False).stdout.strip()
    except OSError:
        return ""


def machine_info() -> dict[str, Any]:
    """What the figures were measured on: CPU, cores, memory, OS, Python, package versions, load, commit."""
    import importlib.metadata as md

    import psutil

    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for pkg in ("Scrapy", "whoosh3", "Flask", "gunicorn", "locust", "psutil"):
        with contextlib.suppress(md.PackageNotFoundError):
            versions[pkg] = md.version(pkg)
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "--short=12", "HEAD") or "unknown",
        "commit_subject": git("log", "-1", "--format=%s")[:100],
        "dirty": len(dirty.splitlines()),  # tracked files with uncommitted changes (a shared tree)
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
        "load": os.getloadavg(),
    }


def machine_markdown(info: dict[str, Any], load_end: tuple[float, float, float] | None = None) -> list[str]:
    """The machine block of RESULTS.md."""
    load = " / ".join(f"{x:.2f}" for x in info["load"])
    lines = [
        "| | |", "|---|---|",
        f"| Date | {info['date']} |",
        f"| Commit | `{info['commit']}` {info['commit_subject']}"
        + (f" (working tree had uncommitted changes in {info['dirty']} tracked file"
           f"{'s' if info['dirty'] != 1 else ''})" if info["dirty"] else " (clean working tree)") + " |",
        f"| CPU | {info['cpu']}, {info['cores']} cores |",
        f"| Memory | {info['memory_gb']} GB |",
        f"| OS, Python | {info['os']}, Python {info['python']} |",
        f"| Packages | {', '.join(f'{k} {v}' for k, v in info['versions'].items())} |",
        f"| Load average at start (1/5/15 min) | {load} |",
    ]
    if load_end is not None:
        lines.append(f"| Load average at end (1/5/15 min) | {' / '.join(f'{x:.2f}' for x in load_end)} |")
    lines.append("")
    return lines


def other_load() -> str:
    """Processes not started by this benchmark that used CPU lately (the machine is shared)."""
    import psutil

    mine = {os.getpid()}
    with contextlib.suppress(psutil.Error):
        mine |= {p.pid for p in psutil.Process().children(recursive=True)}
    busy = []
    for p in psutil.process_iter(["pid", "name", "cpu_percent", "cmdline"]):
        if p.info["pid"] in mine:
            continue
        with contextlib.suppress(psutil.Error):
            pct = p.cpu_percent(interval=None)
            busy.append((pct, p))
    time.sleep(1.0)
    rows = []
    for _, p in busy:
        with contextlib.suppress(psutil.Error):
            pct = p.cpu_percent(interval=None)
            if pct >= 10:
                # one line per process: a ``python -c`` script's newlines would break the report's paragraph
                rows.append((pct, " ".join(" ".join(p.info["cmdline"] or [p.info["name"] or "?"]).split())[:70]))
    rows.sort(reverse=True)
    return "; ".join(f"{pct:.0f}% {cmd}" for pct, cmd in rows[:5]) or "none above 10% of a core"


# -- load on the machine, per section ----------------------------------------------------------------

LOAD_LIMIT = 1.5
"""A section that starts while the rest of the machine loads it above this (1-minute load average, on
two cores) is *measured under load*: marked so, and run once more."""
LOAD_SAMPLE_S = 1.0
T = TypeVar("T")


@dataclass
class SectionLoad:
    """The machine's 1-minute load average before and during one section, and the bench's own share of it."""

    before: tuple[float, float, float]
    """``os.getloadavg()`` when the section started."""
    own_before: float
    """The bench's own share of ``before[0]``: its runnable threads, averaged the way the kernel averages."""
    during_max: float = 0.0
    during_samples: int = 0
    attempt: int = 1
    note: str = ""

    @property
    def other_before(self) -> float:
        """The load the rest of the machine put on it when the section started (estimate)."""
        return max(0.0, self.before[0] - self.own_before)

    @property
    def under_load(self) -> bool:
        """The rest of the machine loaded it above ``LOAD_LIMIT`` when the section started."""
        return self.other_before > LOAD_LIMIT

    def markdown(self) -> str:
        """One line for the section's top: load before and during, and whether it was measured under load."""
        line = (f"*Load average (1 min) before: {self.before[0]:.2f} (of it not this bench: {self.other_before:.2f}); "
                f"during: max {self.during_max:.2f} over {self.during_samples} samples.*")
        if self.under_load:
            line += f" **Measured under load** (other processes above {LOAD_LIMIT:g} at the start)."
        if self.note:
            line += f" {self.note}"
        return line


def _runnable_threads(pids: Iterable[int]) -> int:
    """Threads of these processes that are running or waiting for a CPU (or in uninterruptible sleep), as the
    kernel counts them in the load average."""
    count = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat", "rb") as fh:
                    state = fh.read().rsplit(b")", 1)[1][1:2]
            except (OSError, IndexError):
                continue
            if state in (b"R", b"D"):
                count += 1
    return count


class LoadMonitor(threading.Thread):
    """Samples the load average and the bench's own runnable threads every second, for the sections' records.

    The 1-minute load average of the kernel still carries what this bench ran a minute ago (a section
    that used both cores leaves it near 2 for a while), so the monitor keeps its own average of the
    bench's runnable threads (this process and every descendant) with the kernel's time constant, and
    the load *of the rest of the machine* is the load average minus that.
    """

    def __init__(self, interval: float = LOAD_SAMPLE_S) -> None:
        super().__init__(name="load-monitor", daemon=True)
        self.interval = interval
        self.own = 0.0
        self._decay = math.exp(-interval / 60.0)
        self._watching: list[SectionLoad] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def _own_pids(self) -> list[int]:
        import psutil

        me = psutil.Process()
        try:
            return [me.pid, *(p.pid for p in me.children(recursive=True))]
        except psutil.Error:
            return [me.pid]

    def run(self) -> None:
        """Sample until stopped."""
        while not self._stop.wait(self.interval):
            # this thread is running while it counts: it is not part of the load it measures
            runnable = max(0, _runnable_threads(self._own_pids()) - 1)
            load1 = os.getloadavg()[0]
            with self._lock:
                self.own = self.own * self._decay + runnable * (1 - self._decay)
                for watch in self._watching:
                    watch.during_max = max(watch.during_max, load1)
                    watch.during_samples += 1

    @contextlib.contextmanager
    def watch(self) -> Iterator[SectionLoad]:
        """Record the load before a section and sample it until the section ends."""
        with self._lock:
            record = SectionLoad(before=os.getloadavg(), own_before=self.own)
            record.during_max = record.before[0]
            self._watching.append(record)
        try:
            yield record
        finally:
            with self._lock:
                self._watching.remove(record)
                record.during_max = max(record.during_max, os.getloadavg()[0])


_MONITOR: LoadMonitor | None = None


def load_monitor() -> LoadMonitor:
    """The process's load monitor, started on first use (start it early: it learns the bench's own load)."""
    global _MONITOR
    if _MONITOR is None:
        _MONITOR = LoadMonitor()
        _MONITOR.start()
    return _MONITOR


def run_watched(name: str, mode: str, run_once: Callable[[int], tuple[Section, T]]) -> tuple[Section, T]:
    from bench.common import say  # common imports this module; its helpers are imported when used

    """Run a section (``run_once(attempt)``) recording the load before and during it; again once if under load.

    A section that started while other processes loaded the machine above ``LOAD_LIMIT`` is marked
    *measured under load* and run a second time (``attempt`` 2; not in smoke mode, whose figures mean
    nothing); the second run is the one reported, with a note about the first.
    """
    monitor = load_monitor()
    with monitor.watch() as load:
        section, extra = run_once(1)
    section.load = load
    if not load.under_load or mode == "smoke":
        return section, extra
    busy = other_load()
    say(f"{name}: measured under load (load {load.before[0]:.2f} at the start, {load.other_before:.2f} of it "
        f"other processes: {busy}); running it once more")
    with monitor.watch() as again:
        section, extra = run_once(2)
    again.attempt = 2
    again.note = (f"Re-run: the first attempt started under load ({load.before[0]:.2f}, {load.other_before:.2f} "
                  f"of it other processes: {busy}).")
    section.load = again
    return section, extra
