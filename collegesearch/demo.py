"""`collegesearch demo`: the main job on the bundled sample site.

Starts the sample site (or reuses one already answering on the port), crawls it into the
catalog (a scheduled recrawl when the data directory already holds a crawl: only the pages
that are due, listings and sitemaps are fetched, with conditional requests), brings the index up to date, and serves the web app. Each step
runs as its own process where that isolates a failure (Twisted's reactor can run only once per
process, and a crashed crawl must not take the sample site down with it).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from collegesearch.config import Settings


class DemoError(RuntimeError):
    """The demo cannot run; the message says what to fix."""


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _sample_site_at(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/sources.json", timeout=3) as resp:
            return "sources" in json.loads(resp.read())
    except (OSError, ValueError, urllib.error.URLError):
        return False


def _child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    # Absolute, so each step's child reads and writes the folder this process means, whatever its cwd.
    env["COLLEGESEARCH_DATA_DIR"] = str(settings.data_dir.resolve())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _start_sample_site(settings: Settings, port: int, echo: Callable[[str], None]) -> tuple[str, subprocess.Popen[str] | None]:
    """Start the sample site in a child process; returns its base URL and the process (None if reused)."""
    host = "127.0.0.1"
    if port and not _port_free(host, port):
        url = f"http://{host}:{port}"
        if _sample_site_at(url):
            echo(f"      reusing the sample site already running at {url}")
            return url, None
        raise DemoError(f"port {port} on {host} is in use by something that is not the sample site; "
                        f"free it or pass --site-port")
    log_path = settings.data_dir / "sample_site.log"
    log = log_path.open("a")
    proc = subprocess.Popen(
        [sys.executable, "-m", "collegesearch", "sample-site", "--host", host, "--port", str(port)],
        stdout=subprocess.PIPE, stderr=log, text=True, env=_child_env(settings),
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("http"):
            return line.strip(), proc
        if not line and proc.poll() is not None:
            break
    proc.kill()
    tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] if log_path.exists() else []
    raise DemoError("the sample site did not start" + (f": {tail[0]}" if tail else f"; see {log_path}"))


def _run_step(cmd: list[str], settings: Settings, echo: Callable[[str], None]) -> int:
    """Run a collegesearch subcommand as a child process, echoing its output indented."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "collegesearch", *cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=_child_env(settings),
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        echo("      " + line.rstrip())
    return proc.wait()


def run_demo(settings: Settings, *, port: int, site_port: int, serve: bool, echo: Callable[[str], None]) -> None:
    """Start the sample site, crawl it, index, and serve the web app."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.data_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise DemoError(f"data directory {settings.data_dir} is not writable ({exc.strerror}); "
                        "set COLLEGESEARCH_DATA_DIR or --data-dir") from None
    if serve and not _port_free(settings.WEB_HOST, port):
        raise DemoError(f"port {port} on {settings.WEB_HOST} is already in use; pick another with --port")

    started = time.monotonic()
    had_crawl = settings.catalog_path.exists()
    echo(f"[1/4] Starting the bundled sample site (data dir {settings.data_dir}) ...")
    site_url, site_proc = _start_sample_site(settings, site_port, echo)
    echo(f"      sample site at {site_url}")
    try:
        mode = "scheduled recrawl (only the pages that are due)" if had_crawl else "first full crawl"
        echo(f"[2/4] Crawling every source: {mode} ...")
        code = _run_step(["crawl", "--base-url", site_url, "--trigger", "demo"], settings, echo)
        if code not in (0, 1):
            raise DemoError(f"the crawl failed (exit code {code}); see the output above")
        if code == 1:
            echo("      some sources reported failures; their earlier data stays searchable")
        echo("[3/4] Bringing the search index up to date ...")
        if _run_step(["index", "sync"], settings, echo) != 0:
            raise DemoError("the index sync failed; see the output above")
        echo(f"      ready in {time.monotonic() - started:.0f} s")
        if not serve:
            return
        url = f"http://{settings.WEB_HOST}:{port}/"
        echo(f"[4/4] Serving the web app. Open {url}  (Ctrl-C stops)")
        from webapp.serve import ServeError, serve_app

        try:
            serve_app(settings, host=settings.WEB_HOST, port=port, workers=min(settings.WEB_WORKERS, 2))
        except ServeError as exc:
            raise DemoError(str(exc)) from None
    finally:
        if site_proc is not None and site_proc.poll() is None:
            site_proc.send_signal(signal.SIGTERM)
            try:
                site_proc.wait(10)
            except subprocess.TimeoutExpired:
                site_proc.kill()
