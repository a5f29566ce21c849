"""A full disk under the crawl store: recognised, said once, the crawl stopped, nothing committed lost or miscounted.

The disk fills up for real: SQLite's ``max_page_count`` makes the catalog refuse to grow with the very error
a full disk gives (SQLITE_FULL), and a child process with ``RLIMIT_FSIZE`` gets the file-size-limit variant
(EFBIG, which SQLite reports as an I/O error). The end-to-end test on a tiny tmpfs is in
tests/security/test_config_env.py.
"""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from catalog import Catalog
from catalog.storage_errors import disk_full_message
from crawler.crawl_store import CrawlStore
from crawler.disk_full import DISK_FULL_REASON
from crawler.source_locks import release_source_lock
from model.items import Career

ROOT = Path(__file__).resolve().parents[3]


def _career(n: int) -> Career:
    return Career(url=f"http://127.0.0.9:8800/ooh/{n}.htm", source="testsrc", soc_code=f"11-{n:04d}",
                  title=f"Tester {n}", summary="Tests things all day long. " * 60)


def _fill_up(store: CrawlStore) -> None:
    """From now on the catalog cannot grow by a single page."""
    assert store.catalog is not None
    pages = store.catalog.conn.execute("PRAGMA page_count").fetchone()[0]
    store.catalog.conn.execute(f"PRAGMA max_page_count = {pages}")


def _make_room(store: CrawlStore) -> None:
    assert store.catalog is not None
    store.catalog.conn.execute("PRAGMA max_page_count = 1073741823")


def _full_disk_error(tmp_path: Path) -> sqlite3.OperationalError:
    """The error SQLite gives when the database cannot grow: SQLITE_FULL, 'database or disk is full'."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA max_page_count = 2")
    try:
        conn.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    except sqlite3.OperationalError as exc:
        assert exc.sqlite_errorname == "SQLITE_FULL", exc
        return exc
    finally:
        conn.close()
    raise AssertionError("SQLite accepted a row bigger than max_page_count allows")


def test_what_counts_as_a_full_disk(tmp_path) -> None:
    catalog = tmp_path / "data" / "catalog.sqlite3"
    full = disk_full_message(_full_disk_error(tmp_path), catalog)
    assert full is not None and str(catalog.parent) in full and "full" in full and "free space" in full
    assert disk_full_message(OSError(errno.ENOSPC, "No space left on device"), catalog) == full
    quota = disk_full_message(OSError(errno.EDQUOT, "Disk quota exceeded"), catalog)
    assert quota is not None and "quota" in quota and str(catalog.parent) in quota
    # Wrapped (a CatalogError raised from the sqlite3 error) it is still recognised.
    try:
        try:
            raise _full_disk_error(tmp_path)
        except sqlite3.Error as exc:
            raise RuntimeError("cannot write") from exc
    except RuntimeError as wrapped:
        assert disk_full_message(wrapped, catalog) == full
    # Other failures are not a full disk.
    assert disk_full_message(sqlite3.OperationalError("database is locked"), catalog) is None
    assert disk_full_message(OSError(errno.EACCES, "Permission denied"), catalog) is None
    assert disk_full_message(ValueError("bad"), catalog) is None


CHILD = """
import json, resource, signal, sqlite3, sys
from pathlib import Path
from catalog import Catalog
from model.items import Career
from catalog.storage_errors import disk_full_message

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (300 * 1024, 300 * 1024))
path = Path(sys.argv[1])
cat = Catalog(path)
stored = 0
try:
    for n in range(10_000):
        with cat.transaction():
            cat.upsert(Career(url=f"http://x.test/{n}", source="t", soc_code=f"11-{n:04d}", title="T",
                              summary="Tests things all day long. " * 60))
        stored += 1
except Exception as exc:  # the catalog hit the file-size limit
    print(json.dumps({"error": repr(exc), "message": disk_full_message(exc, path), "stored": stored,
                      "after": cat.count("career")}))
"""


def test_file_size_limit_counts_as_a_full_disk(tmp_path) -> None:
    """RLIMIT_FSIZE (``ulimit -f``): SQLite says 'disk I/O error'; the message names the limit and what to do."""
    path = tmp_path / "data" / "catalog.sqlite3"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["message"] is not None, out
    assert "ulimit -f" in out["message"] and "300 KB" in out["message"] and str(path.parent) in out["message"]
    assert "disk" in out["message"] and "full" in out["message"]
    # The refused transaction left the catalog as it was after the last commit.
    assert out["stored"] > 0 and out["after"] == out["stored"], out


def test_full_catalog_stops_the_crawl_once_and_keeps_what_was_committed(make_crawler, settings, caplog) -> None:
    crawler = make_crawler(CRAWL_FLUSH_ITEMS=10)
    store = CrawlStore.of(crawler)
    store.open(crawler.spider)
    for n in range(5):
        store.queue_upsert(_career(n), None)
    store.flush()
    assert crawler.stats.get_value("collegesearch/items/new") == 5

    _fill_up(store)
    caplog.set_level(logging.INFO)
    for n in range(5, 9):
        store.queue_upsert(_career(n), None)
    try:
        store.flush()
    except sqlite3.OperationalError:
        pass
    else:
        raise AssertionError("the flush should have failed: the catalog cannot grow")
    assert store.disk_full is not None and str(settings.data_dir) in store.disk_full
    assert store.fatal_error == store.disk_full
    # The refused writes are neither stored nor counted, and they are kept for the final attempt.
    assert crawler.stats.get_value("collegesearch/items/new") == 5
    assert len(store._ops) == 4
    with Catalog(settings.catalog_path, readonly=True) as cat:
        assert cat.count("career") == 5

    # More items arrive while the spider closes: no retry per item, no new log lines.
    for n in range(9, 30):
        store.queue_upsert(_career(n), None)
    store._tick_flush()
    store._tick_stats()
    assert crawler.stats.get_value("collegesearch/errors/catalog") == 1
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and lines[0].levelno == logging.ERROR, [r.getMessage() for r in lines]
    assert lines[0].getMessage() == store.disk_full and "full" in store.disk_full and "free space" in store.disk_full
    assert not any(r.exc_info for r in caplog.records), "no traceback for a full disk"

    # Someone frees space before the spider has closed: the final flush stores every kept write, counted once.
    _make_room(store)
    store.close(crawler.spider, DISK_FULL_REASON)
    with Catalog(settings.catalog_path, readonly=True) as cat:
        assert cat.count("career") == 30
        run = cat.get_run(store.run_id)
    assert run.status == "failed" and not run.complete and run.error == store.disk_full
    assert run.stats["items"]["new"] == 30 and run.stats["resumable"] is True
    assert run.stats["finish_reason"] == DISK_FULL_REASON
    closing = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING][1:]
    assert not any("disk" in m.lower() and "full" in m.lower() for m in closing), closing


@pytest.mark.parametrize("run_end_fits", [True, False], ids=["run-end-fits", "run-end-refused-too"])
def test_still_full_at_close_loses_nothing_and_the_next_run_resumes(make_crawler, settings, caplog,
                                                                     run_end_fits) -> None:
    crawler = make_crawler(CRAWL_FLUSH_ITEMS=1000)
    store = CrawlStore.of(crawler)
    store.open(crawler.spider)
    for n in range(3):
        store.queue_upsert(_career(n), None)
    store.flush()
    first_run = store.run_id
    if not run_end_fits:  # stats too big for the room left in the runs table's pages
        for n in range(400):
            crawler.stats.set_value(f"collegesearch/dropped/reason_{n:04d}_" + "x" * 40, 1)
    _fill_up(store)
    for n in range(3, 40):
        store.queue_upsert(_career(n), None)
    caplog.set_level(logging.WARNING)
    store.close(crawler.spider, "finished")  # the final flush is the first to hit the full disk
    assert store.catalog is None and store.disk_full is not None
    assert not any(r.exc_info for r in caplog.records), "no traceback for a full disk"
    assert sum("full" in r.getMessage() for r in caplog.records) == 1, [r.getMessage() for r in caplog.records]
    with Catalog(settings.catalog_path, readonly=True) as cat:
        assert cat.integrity_check() == []
        assert cat.count("career") == 3
        run = cat.get_run(first_run)
    if run_end_fits:
        assert run.status == "failed" and run.error == store.disk_full
        assert run.stats["items"]["new"] == 3 and run.stats["resumable"] is True
    else:  # its end could not be written either: left running, for the next run to close
        assert run.status == "running"
        assert any("could not be recorded as finished" in r.getMessage() for r in caplog.records)

    # With room again, the next run of the source closes that one if need be and resumes from it.
    release_source_lock("testsrc")
    again = make_crawler()
    store2 = CrawlStore.of(again)
    store2.open(again.spider)
    assert first_run in store2.resume_ids
    with Catalog(settings.catalog_path, readonly=True) as cat:
        assert cat.get_run(first_run).status == ("failed" if run_end_fits else "interrupted")


def test_disk_already_full_when_the_run_starts(make_crawler, settings, caplog, tmp_path, monkeypatch) -> None:
    """The run record itself cannot be written: the spider does not start, says why once, and frees the lock."""
    from scrapy.exceptions import CloseSpider

    from crawler.source_locks import acquire_source_lock

    error = _full_disk_error(tmp_path)  # the real SQLITE_FULL error, raised where the run record is written

    def refuse(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(Catalog, "start_run", refuse)
    crawler = make_crawler()
    store = CrawlStore.of(crawler)
    caplog.set_level(logging.WARNING)
    try:
        store.open(crawler.spider)
    except CloseSpider as exc:
        assert exc.reason == DISK_FULL_REASON
    else:
        raise AssertionError("the spider should not start on a full disk")
    assert store.run_id is None and store.catalog is None and store.fatal_error == store.disk_full
    assert [r.getMessage() for r in caplog.records] == [store.disk_full] and not caplog.records[0].exc_info
    assert acquire_source_lock(settings, "testsrc")  # the lock was given back
    release_source_lock("testsrc")
