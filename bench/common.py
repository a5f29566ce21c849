"""Shared pieces of the benchmarks: child processes, peak memory, the sample site, the machine, tables.

Every benchmark runs the real programs (``collegesearch crawl``, ``index rebuild``, ``serve``...) as
child processes, each in its own process group so that an interrupted run (Ctrl-C, SIGTERM, an
exception) stops exactly the processes it started and nothing else. Peak memory of a child comes
from the kernel (``os.wait4``'s ``ru_maxrss``) or, for long-lived trees such as gunicorn, from
psutil samples.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import math
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.launcher import launched
from bench.machine import (  # noqa: E402  re-exported: the sections import them from here
    SectionLoad,
    load_monitor,
    run_watched,
)

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
MODES = ("full", "quick", "smoke")


# -- modes and options ---------------------------------------------------------------------------


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark module accepts."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", dest="mode", action="store_const", const="quick",
                       help="a fast pass: smaller sources, fewer and shorter runs")
    group.add_argument("--smoke", dest="mode", action="store_const", const="smoke",
                       help="prove that it runs (seconds, figures meaningless); used by the tests")
    parser.set_defaults(mode="full")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="folder for data dirs and logs (default: a new folder under /tmp, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, catalogs, indexes)")


@contextlib.contextmanager
def workdir_for(args: argparse.Namespace, prefix: str) -> Iterator[Path]:
    """The run's work folder: the given one, or a temporary one removed afterwards unless --keep."""
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        yield args.workdir
        return
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        yield path
    finally:
        if args.keep:
            print(f"work folder kept: {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)


def say(message: str) -> None:
    """Progress on stderr (stdout carries the tables)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- child processes -----------------------------------------------------------------------------

_CHILDREN: dict[int, subprocess.Popen[Any]] = {}
_CHILDREN_LOCK = threading.Lock()


def child_env(data_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """A hermetic environment: no inherited COLLEGESEARCH_* settings, unbuffered output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLEGESEARCH_") and k != "SCRAPY_SETTINGS_MODULE"}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if data_dir is not None:
        env["COLLEGESEARCH_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def start(cmd: Sequence[str], *, env: dict[str, str] | None = None, stdout: Any = None, stderr: Any = None,
          cwd: Path | None = None, text: bool = True) -> subprocess.Popen[Any]:
    """Start a child in its own process group and remember it, so cleanup() can stop it and its children."""
    proc = subprocess.Popen(list(cmd), env=env or child_env(), stdout=stdout, stderr=stderr, cwd=str(cwd or ROOT),
                            text=text, start_new_session=True)
    with _CHILDREN_LOCK:
        _CHILDREN[proc.pid] = proc
    return proc


def forget(proc: subprocess.Popen[Any]) -> None:
    """The child has been waited for."""
    with _CHILDREN_LOCK:
        _CHILDREN.pop(proc.pid, None)


def stop(proc: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """SIGTERM the child's process group (a gunicorn master and its workers), SIGKILL after ``timeout``."""
    if proc.returncode is None and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    else:
        # the leader is gone; stragglers of its group (workers) must not outlive the bench
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    forget(proc)


def cleanup() -> None:
    """Stop every child this process started and has not waited for."""
    with _CHILDREN_LOCK:
        procs = list(_CHILDREN.values())
    for proc in procs:
        with contextlib.suppress(Exception):
            stop(proc, timeout=5)


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def install_cleanup() -> None:
    """Stop the children at exit, and turn SIGTERM into KeyboardInterrupt so ``finally`` blocks run."""
    atexit.register(cleanup)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


@dataclass
class Finished:
    """A child that ran to its end: exit code, wall seconds, peak RSS (MiB) and CPU seconds from the kernel."""

    returncode: int
    wall: float
    max_rss_mb: float
    cpu_s: float
    stdout_path: Path
    stderr_path: Path

    @property
    def stdout(self) -> str:
        """What the child printed."""
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        """What the child printed on stderr."""
        return self.stderr_path.read_text(errors="replace")

    def check(self, what: str) -> Finished:
        """Raise with the tail of stderr when the child failed."""
        if self.returncode != 0:
            tail = "\n".join((self.stderr or self.stdout).strip().splitlines()[-15:])
            raise BenchError(f"{what} failed (exit code {self.returncode}):\n{tail}")
        return self


class BenchError(RuntimeError):
    """A benchmark step failed; the message says which and shows the end of its output."""


def run_measured(cmd: Sequence[str], *, logs: Path, name: str, env: dict[str, str] | None = None,
                 timeout: float | None = None,
                 started: Callable[[subprocess.Popen[Any]], None] | None = None) -> Finished:
    """Run a child to its end; its output goes to ``logs/name.out|err``; wall time, CPU and ru_maxrss via wait4.

    ``started`` is told the child once it runs (so another thread can stop it). The command runs
    under a small launcher (``bench.launcher``) so its peak RSS is its own, not the bench's.
    """
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    report = logs / f"{name}.rusage"
    report.unlink(missing_ok=True)
    with out_path.open("w") as out, err_path.open("w") as err:
        t0 = time.perf_counter()
        proc = start(launched(cmd, report), env=env, stdout=out, stderr=err)
        if started is not None:
            started(proc)
        deadline = None if timeout is None else t0 + timeout
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if deadline is not None and time.perf_counter() > deadline:
                    stop(proc, timeout=5)
                    raise BenchError(f"{name} did not finish within {timeout:.0f} s (see {err_path})")
                time.sleep(0.05)
        except BaseException:
            stop(proc, timeout=5)
            raise
        wall = time.perf_counter() - t0
    forget(proc)
    max_rss_kib, cpu_s = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    try:  # the command's own figures, from the launcher (absent when the launcher itself was killed)
        raw_status, raw_rss, raw_cpu = report.read_text().split()
        status, max_rss_kib, cpu_s = int(raw_status), int(raw_rss), float(raw_cpu)
    except (OSError, ValueError):
        pass
    proc.returncode = os.waitstatus_to_exitcode(status)
    # Linux reports ru_maxrss in KiB
    return Finished(proc.returncode, wall, max_rss_kib / 1024, cpu_s, out_path, err_path)


def cli(data_dir: Path, *args: str) -> list[str]:
    """The command line of a ``collegesearch`` subcommand on a data dir."""
    return [PYTHON, "-m", "collegesearch", "--data-dir", str(data_dir), *args]


def free_port() -> int:
    """A TCP port free on loopback right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 120.0, proc: subprocess.Popen[Any] | None = None) -> None:
    """Wait until ``url`` answers 200 (or the process dies)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"the server exited with code {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.3)
    raise BenchError(f"{url} did not answer within {timeout:.0f} s ({last})")


# -- peak memory of a process tree -----------------------------------------------------------------


class TreeSampler:
    """Samples the RSS of a process and its descendants every ``interval`` seconds (psutil), in a thread."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self.peak: dict[int, float] = {}
        """pid -> highest RSS seen, MiB."""
        self.cmdlines: dict[int, str] = {}
        self.peak_total = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            total = 0.0
            for p in procs:
                try:
                    rss = p.memory_info().rss / 2**20
                    if p.pid not in self.cmdlines:
                        self.cmdlines[p.pid] = " ".join(p.cmdline())
                except psutil.Error:
                    continue
                total += rss
                self.peak[p.pid] = max(self.peak.get(p.pid, 0.0), rss)
            self.peak_total = max(self.peak_total, total)
            self._stop.wait(self.interval)

    def peak_of(self, match: Callable[[str], bool]) -> float:
        """Highest RSS (MiB) of any sampled process whose command line matches."""
        return max((rss for pid, rss in self.peak.items() if match(self.cmdlines.get(pid, ""))), default=0.0)


# -- the sample site -------------------------------------------------------------------------------


@dataclass
class SampleSite:
    """A sample site served by a child process, with an access log the benchmarks count requests in."""

    url: str
    proc: subprocess.Popen[Any]
    access_log: Path

    def log_lines(self) -> int:
        """Requests logged so far."""
        if not self.access_log.exists():
            return 0
        with self.access_log.open("rb") as fh:
            return sum(1 for _ in fh)

    def records(self, start: int = 0, end: int | None = None) -> list[dict[str, Any]]:
        """Access log records [start, end)."""
        out = []
        with self.access_log.open(encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if i < start:
                    continue
                if end is not None and i >= end:
                    break
                out.append(json.loads(line))
        return out

    faults: bool = False
    err_path: Path | None = None
    epoch: int = 1

    def stop(self) -> None:
        """Stop the server."""
        stop(self.proc)

    def restart(self, epoch: int) -> None:
        """Serve another epoch on the same port (the crawled URLs stay valid); the access log goes on."""
        stop(self.proc)
        port = int(self.url.rsplit(":", 1)[1].split("/", 1)[0])
        last = ""
        for _ in range(20):  # the old socket may take a moment to be released
            proc, url, last = _start_site(self.access_log, self.err_path or self.access_log.with_suffix(".err"),
                                          faults=self.faults, port=port, epoch=epoch)
            if url:
                self.proc, self.epoch = proc, epoch
                wait_http(self.url + "/sources.json", proc=proc)
                return
            time.sleep(0.5)
        raise BenchError(f"the sample site did not restart at epoch {epoch} on port {port}: {last}")


def _start_site(log: Path, err_path: Path, *, faults: bool, port: int = 0,
                epoch: int = 1) -> tuple[subprocess.Popen[Any], str, str]:
    """Start ``collegesearch sample-site``; (process, its URL or '' when it failed, the end of its stderr)."""
    cmd = [PYTHON, "-m", "collegesearch", "sample-site", "--port", str(port), "--epoch", str(epoch),
           "--access-log", str(log)]
    if not faults:
        cmd.append("--no-faults")
    with err_path.open("a") as err:
        proc = start(cmd, env=child_env(), stdout=subprocess.PIPE, stderr=err)
    url = _first_line(proc, timeout=240)
    if url.startswith("http"):
        return proc, url, ""
    stop(proc)
    return proc, "", err_path.read_text(errors="replace")[-500:]


@contextlib.contextmanager
def sample_site(workdir: Path, *, faults: bool = False, name: str = "site") -> Iterator[SampleSite]:
    """``collegesearch sample-site --port 0`` (faults off unless asked) with an access log; stopped on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}-access.log"
    err_path = workdir / f"{name}.err"
    proc, url, problem = _start_site(log, err_path, faults=faults)
    if not url:
        raise BenchError(f"the sample site did not start: {problem}")
    site = SampleSite(url, proc, log, faults=faults, err_path=err_path)
    try:
        wait_http(url + "/sources.json", proc=proc)
        yield site
    finally:
        stop(site.proc)


def _first_line(proc: subprocess.Popen[Any], timeout: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            return str(proc.stdout.readline()).strip()
        if proc.poll() is not None:
            return ""
    return ""


def copy_catalog(src_dir: Path, dest_dir: Path) -> None:
    """Copy a data dir's catalog (with its WAL files) into another data dir, while nobody writes it."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    for path in src_dir.glob("catalog.sqlite3*"):
        shutil.copy2(path, dest_dir / path.name)


def copy_data_dir(src_dir: Path, dest_dir: Path) -> None:
    """Copy a whole data dir (catalog and index), while nobody writes it."""
    shutil.copytree(src_dir, dest_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("locks", "*.lock"))


def bench_cache() -> Path:
    """The benchmarks' cache folder outside the repository (scaled corpora, the relevance index)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "collegesearch" / "bench"


def build_indexed(workdir: Path, mode: str, catalog_dir: Path | None = None) -> Path:
    """A data dir with a catalog and an index, for sections that need one when no index section ran.

    Copies ``catalog_dir``'s catalog (or crawls the sample site for one, as the mode crawls) and runs
    ``collegesearch index rebuild`` on it. Not a measurement: the time is only reported as progress.
    """
    target = workdir / "data-indexed"
    if catalog_dir is None:
        from bench.crawl import crawl_catalog

        catalog_dir = crawl_catalog(workdir / "crawl", mode)
    copy_catalog(catalog_dir, target)
    say("building the index of the crawled catalog ...")
    run_measured(cli(target, "index", "rebuild"), logs=workdir / "logs", name="build-index",
                 env=child_env(target)).check("index rebuild")
    return target


def scaled_dir(scale: int) -> Path:
    """The sample site at ``scale`` times the programs and reviews, indexed (built once, then cached)."""
    try:
        from bench.scaled import scaled_data_dir  # another part of the bench; imported only for scaled runs
    except ImportError as exc:
        raise BenchError(f"no scaled sample site here ({exc}); run with --scale 1") from exc

    say(f"the sample site at {scale}x (cached in {bench_cache()}) ...")
    return Path(scaled_data_dir(bench_cache(), scale, say))


# -- statistics ------------------------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    """Median (0 for no values)."""
    vals = list(values)
    return statistics.median(vals) if vals else 0.0


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q`` quantile (0.95 for p95) by nearest rank, as locust computes it; 0 for no values."""
    vals = sorted(values)
    if not vals:
        return 0.0
    return vals[min(len(vals) - 1, max(0, math.ceil(q * len(vals)) - 1))]


def spread(values: Sequence[float]) -> str:
    """min-max of several runs, for the tables."""
    if len(values) < 2:
        return ""
    return f"{min(values):.3g}-{max(values):.3g}"


# -- results ---------------------------------------------------------------------------------------


@dataclass
class Target:
    """One target of an issue, checked against this run's figures."""

    what: str
    measured: str
    baseline: str
    target: str
    holds: bool | None
    """None when the run could not decide (smoke mode, a step skipped) or there is no target."""
    ratio: str = ""
    """The measured figure against its same-run baseline (e.g. ``21%``, ``2.4x``)."""
    info: bool = False
    """A figure shown for review with no target of its own (memory, throughput, growth)."""

    @property
    def verdict(self) -> str:
        """met / MISSED / n/a (undecided) / - (no target)."""
        if self.info:
            return "-"
        return "n/a" if self.holds is None else ("met" if self.holds else "MISSED")


@dataclass
class Section:
    """What one benchmark reports: Markdown tables and notes, the targets, raw figures for JSON."""

    title: str
    body: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    load: SectionLoad | None = None
    """The machine's load before and during the section (set by ``run_watched``)."""

    def add_table(self, header: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> None:
        """Append a Markdown table (``align``: one 'l' or 'r' per column; numbers default right)."""
        rows = [list(r) for r in rows]
        aligns = align or "l" + "r" * (len(header) - 1)
        self.body.append("| " + " | ".join(header) + " |")
        self.body.append("|" + "|".join("---" if a == "l" else "---:" for a in aligns) + "|")
        for r in rows:
            self.body.append("| " + " | ".join(str(c) for c in r) + " |")
        self.body.append("")

    def add_text(self, *lines: str) -> None:
        """Append paragraphs (each line as given) and a blank line."""
        self.body.extend(lines)
        self.body.append("")

    def markdown(self, level: int = 2) -> str:
        """The section as Markdown."""
        out = [f"{'#' * level} {self.title}", ""]
        if self.load is not None:
            out += [self.load.markdown(), ""]
        out += self.body
        if self.targets:
            out += targets_table(self.targets)
        return "\n".join(out).rstrip() + "\n"


def targets_table(targets: Sequence[Target]) -> list[str]:
    """The targets as a Markdown table."""
    out = ["| Figure | Value | Baseline (same run) | Ratio | Target | Met? |", "|---|---:|---:|---:|---|---|"]
    for t in targets:
        verdict = f"**{t.verdict}**" if t.holds is False and not t.info else t.verdict
        out.append(f"| {t.what} | {t.measured} | {t.baseline} | {t.ratio or '-'} | {t.target} | {verdict} |")
    out.append("")
    return out


def section_main(argv: Sequence[str] | None, doc: str | None, prefix: str,
                 run_section: Callable[[Path, argparse.Namespace], Section],
                 extra_args: Callable[[argparse.ArgumentParser], None] | None = None) -> int:
    """One section run alone (``python -m bench.<section>``): the common options and the section's own, then its table."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    add_common_args(parser)
    if extra_args is not None:
        extra_args(parser)
    args = parser.parse_args(argv)
    install_cleanup()
    load_monitor()
    with workdir_for(args, prefix) as workdir:
        section, _ = run_watched(
            prefix.strip("-"), args.mode,
            lambda attempt: (run_section(workdir if attempt == 1 else workdir / "rerun", args), None))
    print_section(section)
    return 0


def print_section(section: Section) -> None:
    """Print a section's Markdown on stdout."""
    print(section.markdown(), flush=True)


def fmt(value: float, digits: int = 1) -> str:
    """A number with thousands separators and ``digits`` decimals."""
    return f"{value:,.{digits}f}"
