"""LOG_FORMAT=json: one JSON object per line from a real crawl, the scheduler's crawl child and the served web app.

Every line the processes write to stderr is parsed with ``json.loads``; the fields are time (ISO 8601,
UTC), level, logger, message, and request_id, source and run_id where the record knows them.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from tests.plugins.system import free_port

ROOT = Path(__file__).resolve().parents[2]
LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def json_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLEGESEARCH_")}
    env.update({"COLLEGESEARCH_DATA_DIR": str(data_dir), "COLLEGESEARCH_LOG_FORMAT": "json", "PYTHONPATH": str(ROOT)})
    env.update({f"COLLEGESEARCH_{k}": v for k, v in settings.items()})
    return env


def parse_lines(text: str) -> list[dict]:
    """Every non-empty line as a JSON object with the four fields every line has."""
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)  # a line that is not JSON fails here
        assert isinstance(record, dict), line
        assert {"time", "level", "logger", "message"} <= set(record), line
        assert record["level"] in LEVELS, line
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"]), line
        datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
        records.append(record)
    return records


def test_a_crawl_logs_json_lines_with_source_and_run_id(sample_site, tmp_path):
    # At DEBUG, so Scrapy's per-page lines (which carry the spider) are logged too.
    proc = subprocess.run([sys.executable, "-m", "collegesearch", "crawl", "bls_ooh", "--base-url",
                           sample_site.base_url], cwd=ROOT, env=json_env(tmp_path / "data", LOG_LEVEL="DEBUG"),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = parse_lines(proc.stderr)
    finished = [r for r in records if r["logger"] == "crawler.crawl_store" and "run 1 ok" in r["message"]]
    assert len(finished) == 1
    assert finished[0]["source"] == "bls_ooh" and finished[0]["run_id"] == 1
    # Scrapy's records carry the spider: the crawl's filter turns it into source and run_id, never an object.
    crawled = [r for r in records if r["logger"] == "scrapy.core.engine" and r["message"].startswith("Crawled (")]
    assert len(crawled) > 100 and all(r["source"] == "bls_ooh" and r["run_id"] == 1 for r in crawled)
    for record in records:
        assert "spider" not in record and "crawler" not in record
        if "run_id" in record:
            assert record["source"] == "bls_ooh" and record["run_id"] == 1
    # stdout is still the summary table for people.
    assert "bls_ooh" in proc.stdout and "pages" in proc.stdout


def test_the_scheduler_relays_its_crawl_childs_json_lines(sample_site, tmp_path):
    env = json_env(tmp_path / "data", SOURCES="bls_ooh", SAMPLE_SITE_URL=sample_site.base_url,
                   SYNC_AFTER_CRAWL="false")
    proc = subprocess.run([sys.executable, "-m", "collegesearch", "schedule", "--once"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = parse_lines(proc.stderr)
    # The child's own JSON line arrives as a JSON line of the scheduler's, not as JSON inside a message string.
    relayed = [r for r in records if r["logger"] == "ops.child.output" and r.get("child_logger") == "crawler.crawl_store"]
    assert len(relayed) == 1 and relayed[0]["run_id"] == 1 and relayed[0]["source"] == "bls_ooh"
    assert relayed[0]["message"].startswith("[bls_ooh] bls_ooh: run 1 ok (")  # the message, not a JSON string
    done = [r for r in records if r["logger"] == "ops.scheduler" and r["message"] == "bls_ooh: run 1 ok"]
    assert done and done[0]["source"] == "bls_ooh" and done[0]["run_id"] == 1


def test_the_served_web_app_logs_json_with_the_request_id(web_settings):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "collegesearch", "serve", "--port", str(port), "--workers", "1"],
                            cwd=ROOT, env=json_env(web_settings.data_dir), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"

    def get(path: str, request_id: str | None = None):
        headers = {"X-Request-ID": request_id} if request_id is not None else {}
        try:
            with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=5) as resp:
                return resp.status, resp.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get("/api/status", "warm-up")
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        status, headers = get("/api/status", "given-id.1")
        assert status == 200 and headers["X-Request-ID"] == "given-id.1"
        status, headers = get("/api/status", "bad id\" injected")
        made_up = headers["X-Request-ID"]
        assert status == 200 and re.fullmatch(r"[0-9a-f]{32}", made_up)
        # A catalog outage logs an error inside the request: its line carries the request id.
        catalog = web_settings.catalog_path
        for stale in catalog.parent.glob(catalog.name + "-*"):
            stale.unlink()
        catalog.write_bytes(b"not a database" * 100)
        status, headers = get("/api/status", "outage-7")
        assert status == 503 and headers["X-Request-ID"] == "outage-7"
        time.sleep(0.5)  # the access line is written after the response
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    errors = parse_lines(err)
    assert any(r["logger"] == "gunicorn.error" and r["message"].startswith("Starting gunicorn") for r in errors)
    outage = [r for r in errors if r["logger"] == "webapp.errors"]
    assert len(outage) == 1 and outage[0]["level"] == "ERROR" and outage[0]["request_id"] == "outage-7"
    banner, *access_lines = out.splitlines()
    assert banner.startswith("collegesearch web app on")  # the command's own output, as in text mode
    access = parse_lines("\n".join(access_lines))
    assert all(r["logger"] == "gunicorn.access" for r in access)
    assert {r["request_id"] for r in access} >= {"given-id.1", made_up, "outage-7"}
    assert "bad id" not in out + err  # a refused id never reaches the logs


def test_exceptions_keep_their_traceback(tmp_path):
    script = ("import logging\nfrom ops.log_setup import setup_logging\nsetup_logging('INFO', 'json')\n"
              "try:\n    1 / 0\nexcept ZeroDivisionError:\n    logging.getLogger('demo').exception('it broke')\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=json_env(tmp_path), capture_output=True,
                          text=True, timeout=60)
    (record,) = parse_lines(proc.stderr)
    assert record["level"] == "ERROR" and record["message"] == "it broke" and record["logger"] == "demo"
    assert "Traceback" in record["exc_info"] and "ZeroDivisionError" in record["exc_info"]


def test_text_stays_the_default_and_a_bad_format_is_one_line(tmp_path):
    env = json_env(tmp_path / "data")
    env.pop("COLLEGESEARCH_LOG_FORMAT")
    script = "import logging\nfrom ops.log_setup import setup_logging\nsetup_logging('INFO')\nlogging.getLogger('demo').warning('plain')\n"
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[demo\] WARNING: plain\n", proc.stderr)
    bad = subprocess.run([sys.executable, "-m", "collegesearch", "status"], cwd=ROOT,
                         env={**env, "COLLEGESEARCH_LOG_FORMAT": "xml"}, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert bad.stderr.strip() == "error: COLLEGESEARCH_LOG_FORMAT must be one of text, json, got 'xml'"


def test_request_ids_are_echoed_or_made_up(client):
    given = client.get("/api/status", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    for bad in ("", "x" * 200, "two words", "<script>", "-leading-dash"):
        made = client.get("/", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert made != bad and re.fullmatch(r"[0-9a-f]{32}", made)
    first, second = (client.get("/api/status").headers["X-Request-ID"] for _ in range(2))
    assert first != second
