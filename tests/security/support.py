"""Helpers for the security suite: run the real ``collegesearch`` command, start ``collegesearch serve`` and a
crawl as child processes, compare the catalog with ground truth."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "collegesearch"]


def child_env(data_dir: Path | str | None = None, **settings: Any) -> dict[str, str]:
    """The environment for a child ``collegesearch``: no developer COLLEGESEARCH_* leaks in, ours set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLEGESEARCH_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("COLLEGESEARCH_LOG_LEVEL", "WARNING")
    if data_dir is not None:
        env["COLLEGESEARCH_DATA_DIR"] = str(data_dir)
    for key, value in settings.items():
        env[f"COLLEGESEARCH_{key}"] = str(value)
    return env


@dataclass
class CliResult:
    """What a ``collegesearch`` run printed and returned."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def error_lines(self) -> list[str]:
        """Non-blank stderr lines."""
        return [line for line in self.stderr.splitlines() if line.strip()]

    def describe(self) -> str:
        """For assertion messages."""
        return (f"collegesearch {' '.join(self.args)} -> {self.returncode} in {self.seconds:.1f}s\n"
                f"--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}")


def run_cli(args: Iterable[str], env: Mapping[str, str] | None = None, *, timeout: float = 120,
            cwd: Path | None = None, preexec_fn: Any = None) -> CliResult:
    """Run ``collegesearch ARGS`` in a child process and wait for it."""
    argv = [str(a) for a in args]
    start = time.monotonic()
    proc = subprocess.run(CLI + argv, cwd=cwd or ROOT, env=dict(env or child_env()), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, preexec_fn=preexec_fn)
    return CliResult(argv, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)


def assert_one_line_error(result: CliResult, *must_mention: str) -> str:
    """A user error: non-zero exit, exactly one ``error:`` line on stderr saying what to fix, no traceback."""
    assert result.returncode != 0, result.describe()
    assert "Traceback" not in result.stderr + result.stdout, result.describe()
    lines = result.error_lines
    errors = [line for line in lines if line.lower().startswith("error")]
    # Progress lines may come before it (a rebuild says what it starts); the error is one line, the last.
    assert len(errors) == 1 and lines[-1] == errors[0], f"expected ONE error line, last:\n{result.describe()}"
    line = errors[0]
    assert line.startswith("error: "), result.describe()
    for word in must_mention:
        assert word.lower() in line.lower(), f"the error should mention {word!r}: {line}"
    return line


def start_cli(args: Iterable[str], env: Mapping[str, str], log_path: Path, **popen: Any) -> subprocess.Popen:
    """Start ``collegesearch ARGS`` in the background (its own process group), output to a log file."""
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it
    try:
        return subprocess.Popen(CLI + [str(a) for a in args], cwd=ROOT, env=dict(env), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, **popen)
    finally:
        log.close()


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Stop a child started with ``start_cli`` and everything in its process group."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=30)
    # Workers of a killed master may outlive it; they are in the same group.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def wait_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    """Wait until a URL answers (any HTTP status)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer") from None
            time.sleep(0.2)


def http_get(url: str, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """GET a URL: (status, headers, body); HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def content_hash(data: Mapping[str, Any], fields: Iterable[str]) -> str:
    """A stable hash of some fields of an item (JSON, sorted keys)."""
    picked = {f: data.get(f) for f in sorted(fields)}
    return hashlib.sha256(json.dumps(picked, sort_keys=True, default=str).encode()).hexdigest()


def catalog_snapshot(catalog_path: Path, kind: str, fields_by_id: Mapping[str, Iterable[str]] | None = None,
                     source: str | None = None) -> dict[str, str]:
    """item_id -> content hash of the live items of one kind (over the truth's fields when given)."""
    from catalog import Catalog

    out: dict[str, str] = {}
    with Catalog(catalog_path, readonly=True) as cat:
        for item in cat.iter_items(kind, source=source):
            fields = (fields_by_id or {}).get(item.item_id) or sorted(item.data)
            out[item.item_id] = content_hash(item.data, fields)
    return out


@dataclass
class CrawlRun:
    """A finished ``collegesearch crawl`` child: its result, peak memory and the sample site's log lines."""

    data_dir: Path
    result: CliResult
    peak_rss_mb: float
    access: list[dict]
    env: dict[str, str]
    hosts: dict[str, str]
    """host:port -> source name on the site that was crawled."""

    @property
    def catalog_path(self) -> Path:
        """The crawl's catalog file."""
        return self.data_dir / "catalog.sqlite3"

    def runs(self) -> list[Any]:
        """The run records, oldest first."""
        from catalog import Catalog

        with Catalog(self.catalog_path, readonly=True) as cat:
            return list(reversed(cat.list_runs(limit=1000)))


def run_crawl_cli(site: Any, data_dir: Path, sources: Iterable[str], *, timeout: float = 600,
                  **settings: Any) -> CrawlRun:
    """Crawl sources of a running sample site in a child process, sampling its memory while it runs."""
    import psutil

    env = child_env(data_dir, LOG_LEVEL="INFO", **settings)
    mark = site.log_mark()
    log_path = Path(data_dir).parent / f"crawl-{'-'.join(sources)}-{int(time.time() * 1000)}.log"
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    out_path = log_path.with_suffix(".out")
    start = time.monotonic()
    with open(out_path, "wb") as out, open(log_path, "wb") as err:
        proc = subprocess.Popen(CLI + ["crawl", *sources, "--base-url", site.base_url], cwd=ROOT, env=env,
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        peak = 0.0
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(recursive=True))
                peak = max(peak, rss / 2**20)
            except psutil.Error:
                pass
            if time.monotonic() - start > timeout:
                stop_group(proc, signal.SIGKILL)
                break
            time.sleep(0.1)
        proc.wait()
    result = CliResult(["crawl", *sources], proc.returncode, out_path.read_text(errors="replace"),
                       log_path.read_text(errors="replace"), time.monotonic() - start)
    return CrawlRun(Path(data_dir), result, peak, site.access_records(mark), env, host_sources(site))


def host_sources(site: Any) -> dict[str, str]:
    """host:port -> source name, for reading the sample site's access log."""
    from urllib.parse import urlsplit

    return {urlsplit(info["base_url"]).netloc: name for name, info in site.sources.items()} | \
        {urlsplit(site.base_url).netloc: "portal"}
