"""A crawl killed with SIGKILL midway resumes where it stopped on the next run and loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalog import Catalog
from sample_site import truth
from tests.integration.crawler.crawl_helpers import ROOT, crawl_env, print_numbers, run_crawl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def _count(data: Path, kind: str) -> int:
    path = data / "catalog.sqlite3"
    if not path.exists():
        return 0
    try:
        with Catalog(path, readonly=True) as cat:
            return cat.count(kind)
    except Exception:  # noqa: BLE001 - the file may still be in its first migration
        return 0


def test_killed_crawl_resumes_and_loses_nothing(fresh_sample_site, tmp_path: Path) -> None:
    site = fresh_sample_site()
    data = tmp_path / "data"
    log = (tmp_path / "killed.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "collegesearch", "--data-dir", str(data), "crawl", "collegenavigator", "--base-url",
         site.base_url], cwd=ROOT, env=crawl_env(data), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while _count(data, "institution") < 1500:  # about a quarter of the profiles are stored
            assert proc.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the crawl made too little progress"
            time.sleep(0.3)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()

    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        killed = cat.running_runs("collegenavigator")
        assert len(killed) == 1  # the dead process could not record anything
        killed_id = killed[0].id
        stored = {(s.kind, s.item_id): s.content_hash for s in cat.iter_items()}
        done_pages = {row[0] for row in cat.conn.execute(
            "SELECT url FROM pages WHERE last_run_id = :run_id AND body IS NOT NULL", {"run_id": killed_id})}
    assert len(stored) >= 1500 and done_pages

    result = run_crawl(data, site.base_url, "collegenavigator", site=site)
    assert result.returncode == 0, result.stderr[-3000:]
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        assert cat.integrity_check() == []
        old = cat.get_run(killed_id)
        assert old.status == "interrupted" and "killed or crashed" in old.error
        run = result.run("collegenavigator")
        assert run.status == "ok" and run.complete, run.error
        assert run.stats["resumed_from"] == [killed_id]
        # every page the killed run stored came from the page cache, not the network
        assert run.stats["pages_resumed"] >= len(done_pages)
        lost = [key for key, digest in stored.items()
                if (item := cat.get(*key)) is None or item.content_hash != digest]
        assert not lost, lost[:10]
        expected = truth.counts(1)
        assert cat.count("institution") == expected["institution_pages"]
        assert cat.count("program", source="collegenavigator") == expected["programs_collegenavigator"]
    refetched = [r["path"] for r in site.access_records(result.log_mark)
                 if f"http://{r['host']}{r['path']}" in done_pages]
    assert not refetched, refetched[:10]
    print_numbers("kill and resume", {"stored_before_kill": len(stored), "pages_done_before_kill": len(done_pages),
                                      "pages_resumed": run.stats["pages_resumed"], "lost": len(lost)})
