"""``collegesearch serve``: gunicorn with N workers in the foreground; clear one-line errors before starting."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from webapp.serve import ServeError, bind_address, check_port

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_env(web_settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLEGESEARCH_")}
    env.update({"COLLEGESEARCH_DATA_DIR": str(web_settings.data_dir), "PYTHONPATH": str(ROOT)})
    return env


def test_check_port_reports_a_busy_port_and_a_bad_address():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(ServeError, match=f"port {port} on 127.0.0.1 is already in use"):
            check_port("127.0.0.1", port)
    with pytest.raises(ServeError, match="not a usable address"):
        check_port("999.1.2.3", 8000)
    check_port("127.0.0.1", free_port())  # a free port passes
    assert bind_address("::1", 80) == "[::1]:80" and bind_address("0.0.0.0", 80) == "0.0.0.0:80"


def test_serve_runs_gunicorn_workers_and_stops_cleanly(web_settings):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "collegesearch", "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT, env=serve_env(web_settings), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q=health", timeout=2) as resp:
                    body = resp.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        assert body and '"results"' in body
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2 and all("python" in w.name() or "collegesearch" in " ".join(w.cmdline())
                                         for w in workers)
        # A second server on the same port fails at once with one line.
        second = subprocess.run([sys.executable, "-m", "collegesearch", "serve", "--port", str(port)], cwd=ROOT,
                                env=serve_env(web_settings), capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert f"port {port} on 127.0.0.1 is already in use" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Starting gunicorn" in out and "GET /api/search?q=health" in out
