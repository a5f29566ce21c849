"""Concurrency: searches from several threads (one shared Searcher) and several processes while a crawl writes
the catalog and ``collegesearch index sync`` runs again and again. No search may fail, every response must come
from one consistent index generation (its total, kind counts, facet counts and paging agree), totals never go
back in time, and every hit names a record the catalog holds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time

import pytest

from catalog import Catalog
from tests.security import search_worker
from tests.security.support import ROOT, child_env, run_cli, start_cli

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("security_crawl")]

MIN_SEARCH_SECONDS = 20
MAX_SEARCH_SECONDS = 180


def live_programs(data) -> int:
    with Catalog(data / "catalog.sqlite3", readonly=True, timeout=5) as cat:
        return cat.count("program")


def test_searches_stay_consistent_while_crawling_and_syncing(big_catalog, sample_site, tmp_path):
    from indexer.search import Searcher

    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(big_catalog, data / "catalog.sqlite3")
    env = child_env(data)
    first = run_cli(["index", "rebuild"], env, timeout=600)
    assert first.returncode == 0, first.describe()
    index_dir = data / "index"

    # Writers: a crawl (careers and the accreditor's programs: about 600 pages, 245 new programs) and an index
    # sync loop.
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        programs_before = cat.count("program")
    crawl = start_cli(["crawl", "bls_ooh", "directory", "--base-url", sample_site.base_url], env,
                      tmp_path / "crawl.log")
    crawl_ended: list[float] = []
    threading.Thread(target=lambda: (crawl.wait(), crawl_ended.append(time.monotonic())), daemon=True).start()
    wait_until = time.monotonic() + 120
    while live_programs(data) <= programs_before:  # the crawl is writing before anyone searches
        assert time.monotonic() < wait_until and crawl.poll() is None, "the crawl stored nothing"
        time.sleep(0.2)
    stop = threading.Event()
    syncs: list[tuple[float, int]] = []

    def sync_loop() -> None:
        while not stop.is_set():
            code = run_cli(["index", "sync", "--timeout", "120"], env, timeout=600).returncode
            syncs.append((time.monotonic(), code))

    syncer = threading.Thread(target=sync_loop, daemon=True)
    syncer.start()
    # Readers: two processes with their own Searcher, three threads sharing one. They search at least
    # MIN_SEARCH_SECONDS and until a sync has committed while they searched (a loaded machine is slow).
    started = time.monotonic()
    stop_file = tmp_path / "stop-searching"

    def enough() -> bool:
        now = time.monotonic()
        synced = any(t > started + 1 for t, _ in syncs)
        return (now - started > MIN_SEARCH_SECONDS and synced) or now - started > MAX_SEARCH_SECONDS

    workers = [subprocess.Popen([sys.executable, "-m", "tests.security.search_worker", str(index_dir),
                                 str(MAX_SEARCH_SECONDS), str(stop_file)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    shared = Searcher(index_dir=index_dir)
    reports: list[dict] = []
    threads = [threading.Thread(target=lambda: reports.append(search_worker.run(shared, MAX_SEARCH_SECONDS, enough)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(MAX_SEARCH_SECONDS + 120)
    stop_file.touch()
    for w in workers:
        out, err = w.communicate(timeout=MAX_SEARCH_SECONDS + 120)
        assert w.returncode == 0, err[-2000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    crawl.wait(600)
    stop.set()
    syncer.join(600)
    shared.close()

    final = run_cli(["index", "sync"], env, timeout=600)
    assert final.returncode == 0, final.describe()
    assert crawl.returncode == 0, (tmp_path / "crawl.log").read_text()[-3000:]
    assert crawl_ended and crawl_ended[0] > started + 1, "the crawl ended before the searches began"
    assert syncs and all(code == 0 for _, code in syncs), f"index syncs: {syncs}"
    assert len(reports) == 5
    problems = [p for r in reports for p in r["problems"]]
    errors = [e for r in reports for e in r["errors"]]
    assert not errors, errors[:10]
    assert not problems, problems[:10]
    assert sum(r["searches"] for r in reports) >= 100
    for r in reports:
        totals = r["program_totals"]
        assert totals == sorted(totals), f"a search went back to an older index generation: {totals}"
    grew = max(max(r["program_totals"]) for r in reports) > min(min(r["program_totals"]) for r in reports)
    assert grew, "the index never changed while the searches ran"
    seen = {i for r in reports for i in r["hit_ids"]}
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        missing = [i for i in seen if cat.get(*i.split(":", 1)) is None]
        assert cat.integrity_check() == []
    assert not missing, f"hits that name no catalog record: {missing[:10]}"
