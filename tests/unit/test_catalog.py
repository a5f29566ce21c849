"""The catalog: migrations, upsert and change detection, tombstones, pages, runs, reviews, concurrency."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time

import pytest

from catalog import Catalog, CatalogError
from catalog.migrations import SCHEMA_VERSION
from model.items import Career, Institution, Program, Review


def career(**kw):
    base = dict(url="https://www.bls.gov/ooh/healthcare/mr.htm", source="bls_ooh", soc_code="29-2072",
                title="Medical records specialists", median_pay_annual=50250)
    base.update(kw)
    return Career(**base)


def test_migrations_run_once_and_record_version(tmp_path):
    path = tmp_path / "c.sqlite3"
    with Catalog(path) as cat:
        assert cat.schema_version() == SCHEMA_VERSION
        assert cat.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with Catalog(path) as cat:  # reopening does not migrate again
        assert cat.schema_version() == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "c.sqlite3"
    Catalog(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(CatalogError, match="newer than this program"):
        Catalog(path)


def test_garbage_file_gives_clear_error(tmp_path):
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CatalogError, match="not a usable SQLite database|cannot open"):
        Catalog(path)


def test_readonly_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="does not exist yet"):
        Catalog(tmp_path / "nope.sqlite3", readonly=True)


@pytest.mark.both_backends
def test_upsert_detects_new_changed_unchanged(catalog):
    assert catalog.upsert(career(), run_id=1) == "new"
    first = catalog.get("career", "29-2072")
    assert catalog.upsert(career(), run_id=2) == "unchanged"
    again = catalog.get("career", "29-2072")
    assert again.last_changed == first.last_changed and again.last_seen > first.last_seen
    assert again.last_run_id == 2
    assert catalog.upsert(career(median_pay_annual=51000), run_id=3) == "changed"
    changes = catalog.changes_since(0)
    assert [c.op for c in changes] == ["new", "changed"]
    assert changes[1].diff == {"median_pay_annual": [50250, 51000]}
    assert catalog.get("career", "29-2072").item.median_pay_annual == 51000


@pytest.mark.both_backends
def test_unchanged_upsert_writes_no_change_log(catalog):
    catalog.upsert(career())
    seq = catalog.max_change_seq()
    for _ in range(3):
        catalog.upsert(career())
    assert catalog.max_change_seq() == seq


@pytest.mark.both_backends
def test_tombstone_and_revive(catalog):
    catalog.upsert(career())
    assert catalog.tombstone("career", "29-2072", reason="test")
    assert not catalog.tombstone("career", "29-2072", reason="again")
    assert catalog.get("career", "29-2072") is None
    gone = catalog.get("career", "29-2072", include_deleted=True)
    assert gone.deleted_reason == "test"
    assert catalog.count("career") == 0 and catalog.count("career", include_deleted=True) == 1
    assert catalog.upsert(career()) == "revived"
    assert catalog.get("career", "29-2072").deleted_at is None
    assert [c.op for c in catalog.changes_since(0)] == ["new", "deleted", "revived"]


@pytest.mark.both_backends
def test_sweep_needs_two_complete_misses(catalog):
    catalog.upsert(career(), run_id=1)
    catalog.upsert(career(soc_code="11-1111", url="https://x/other"), run_id=1)
    # run 2 sees only the first item
    catalog.upsert(career(), run_id=2)
    assert catalog.sweep_missing("bls_ooh", 2) == 0
    assert catalog.get("career", "11-1111") is not None
    catalog.upsert(career(), run_id=3)
    assert catalog.sweep_missing("bls_ooh", 3) == 1
    assert catalog.get("career", "11-1111") is None
    assert catalog.get("career", "29-2072") is not None


@pytest.mark.both_backends
def test_sweep_resets_when_seen_again(catalog):
    catalog.upsert(career(soc_code="11-1111", url="https://x/o"), run_id=1)
    catalog.sweep_missing("bls_ooh", 2)  # missed once
    catalog.upsert(career(soc_code="11-1111", url="https://x/o"), run_id=3)
    catalog.sweep_missing("bls_ooh", 3)
    catalog.sweep_missing("bls_ooh", 4)  # missed once again, not twice in a row
    assert catalog.get("career", "11-1111") is not None


@pytest.mark.both_backends
def test_sweep_is_per_source(catalog):
    catalog.upsert(career(), run_id=1)
    catalog.sweep_missing("reviews", 5)
    catalog.sweep_missing("reviews", 6)
    assert catalog.get("career", "29-2072") is not None


@pytest.mark.both_backends
def test_page_items_touch_protect_and_gone(catalog):
    page = "http://127.0.0.3:8800/collegenavigator/?id=100654"
    inst = Institution(url=page, source="collegenavigator", unitid="100654", name="Alabama A & M University",
                       state="AL")
    prog = Program(url=page, source="collegenavigator", program_id="100654-acen-adn", institution_unitid="100654",
                   name="Nursing", state="AL")
    catalog.upsert_many([inst, prog], run_id=1, page_url=page)
    assert catalog.touch_page_items(page, run_id=2) == 2
    assert catalog.get("program", "100654-acen-adn").last_run_id == 2
    assert catalog.protect_page_items(page, run_id=3) == 2
    assert catalog.sweep_missing("collegenavigator", 3) == 0
    assert [p.item_id for p in catalog.children("100654", "program")] == ["100654-acen-adn"]
    assert catalog.mark_page_gone(page, source="collegenavigator", status=404, run_id=4) == 2
    assert catalog.count() == 0
    assert catalog.get_page(page).gone_at is not None
    assert catalog.get_page_validators(page) is None


@pytest.mark.both_backends
def test_page_cache_round_trip(catalog):
    url = "http://127.0.0.2:8800/ooh/a.htm"
    assert catalog.record_page(url, source="bls_ooh", status=200, run_id=1, etag='"abc"',
                               last_modified="Wed, 01 Jan 2025 00:00:00 GMT", body=b"<html>hi</html>",
                               content_type="text/html", encoding="utf-8")
    page = catalog.get_page(url)
    assert page.body == b"<html>hi</html>" and page.etag == '"abc"'
    assert catalog.get_page_validators(url) == ('"abc"', "Wed, 01 Jan 2025 00:00:00 GMT")
    assert not catalog.record_page(url, source="bls_ooh", status=200, run_id=2, body=b"<html>hi</html>")
    assert catalog.record_page(url, source="bls_ooh", status=200, run_id=3, body=b"<html>new</html>")


@pytest.mark.both_backends
def test_runs(catalog):
    run = catalog.start_run("bls_ooh", "manual")
    assert catalog.get_run(run).status == "running"
    assert [r.id for r in catalog.running_runs()] == [run]
    catalog.update_run_stats(run, {"pages": 3})
    catalog.finish_run(run, status="ok", stats={"pages": 10, "items": {"new": 2}}, complete=True)
    done = catalog.get_run(run)
    assert done.status == "ok" and done.complete and done.stats["items"]["new"] == 2 and done.finished_at
    catalog.set_run_index_sync(run, {"added": 2})
    assert catalog.get_run(run).index_sync == {"added": 2}
    other = catalog.start_run("reviews", "schedule")
    catalog.mark_interrupted(other, "process 123 died")
    assert catalog.get_run(other).status == "interrupted"
    assert [r.id for r in catalog.list_runs()] == [other, run]
    assert [r.id for r in catalog.list_runs("bls_ooh")] == [run]


@pytest.mark.both_backends
def test_user_review_moderation(catalog):
    rid = catalog.add_user_review(institution_unitid="110635", institution_name="UC Berkeley", rating=5,
                                  body="<script>alert(1)</script> great labs", category="academics",
                                  author_role="College Senior", client_hash="abc")
    assert catalog.count_user_reviews("pending") == 1
    assert catalog.count("review") == 0  # pending reviews are not published
    assert catalog.moderate_user_review(rid, approve=True, moderator="admin")
    assert not catalog.moderate_user_review(rid, approve=False, moderator="admin")
    published = catalog.get("review", f"user:{rid}")
    assert published.data["origin"] == "user" and published.data["body"].startswith("<script>")
    assert published.data["institution_unitid"] == "110635"
    rid2 = catalog.add_user_review(institution_unitid="110635", institution_name=None, rating=1, body="spam")
    assert catalog.moderate_user_review(rid2, approve=False, moderator="admin", note="spam")
    assert catalog.get("review", f"user:{rid2}") is None
    assert catalog.get_user_review(rid2).status == "rejected"
    assert catalog.recent_submissions("abc", "2000-01-01") == 1


@pytest.mark.both_backends
def test_rating_stats_and_children(catalog):
    for i, rating in enumerate([5, 4, 4, 1]):
        catalog.upsert(Review(url=f"u{i}", source="reviews", review_id=f"r{i}", institution_unitid="1",
                              rating=rating, body="b", category="academics" if i % 2 else "value", date=f"2024-0{i+1}-01"))
    stats = catalog.rating_stats("1")["1"]
    assert stats["count"] == 4 and stats["average"] == 3.5
    assert stats["histogram"] == {1: 1, 2: 0, 3: 0, 4: 2, 5: 1}
    assert catalog.count_children("1", "review", {"category": "academics"}) == 2
    newest = catalog.children("1", "review", order="newest", limit=2)
    assert [r.item_id for r in newest] == ["r3", "r2"]
    with pytest.raises(ValueError):
        catalog.children("1", "review", where_json={"x') OR 1=1 --": 1})


@pytest.mark.both_backends
def test_change_feed_filters(catalog):
    catalog.upsert(Program(url="p", source="directory", program_id="p1", name="HIT", state="GA",
                           accreditation_status="accredited"), run_id=1)
    catalog.upsert(Program(url="p", source="directory", program_id="p1", name="HIT", state="GA",
                           accreditation_status="probation"), run_id=2)
    catalog.upsert(Program(url="q", source="directory", program_id="p2", name="HIM", state="OH"), run_id=2)
    feed = catalog.change_feed(kinds=["program"], state="GA")
    assert [(c.op, c.item_id) for c in feed] == [("changed", "p1"), ("new", "p1")]
    assert feed[0].diff["accreditation_status"] == ["accredited", "probation"]
    assert [c.item_id for c in catalog.change_feed(run_id=2, ops=["new"])] == ["p2"]
    history = catalog.item_history("program", "p1")
    assert [c.op for c in history] == ["new", "changed"]


@pytest.mark.both_backends
def test_failed_transaction_rolls_back(catalog):
    with pytest.raises(RuntimeError):
        with catalog.transaction():
            catalog.upsert(career())
            raise RuntimeError("boom")
    assert catalog.count() == 0 and catalog.max_change_seq() == 0


def test_reader_sees_consistent_snapshot_during_write(tmp_path):
    """A reader in another connection never sees half of a batch (WAL snapshot isolation)."""
    path = tmp_path / "c.sqlite3"
    Catalog(path).close()
    reader = Catalog(path, readonly=True)
    started, release = threading.Event(), threading.Event()

    def write_batch():
        writer = Catalog(path)
        with writer.transaction():
            for i in range(200):
                writer.upsert(career(soc_code=f"00-{i:04d}", url=f"https://x/{i}"))
            started.set()
            release.wait(10)
        writer.close()

    t = threading.Thread(target=write_batch)
    t.start()
    assert started.wait(10)
    assert reader.count() == 0  # mid-transaction: the reader is not blocked and sees nothing
    release.set()
    t.join()
    assert reader.count() == 200
    reader.close()


def _write_many(path, start, n):
    cat = Catalog(path)
    for i in range(start, start + n):
        cat.upsert(career(soc_code=f"{i:07d}", url=f"https://x/{i}"))
    cat.close()


def test_two_processes_write_without_losing_rows(tmp_path):
    path = tmp_path / "c.sqlite3"
    Catalog(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(path, k * 1000, 150)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with Catalog(path) as cat:
        assert cat.count() == 300
        assert cat.max_change_seq() == 300
        assert cat.integrity_check() == []


@pytest.mark.both_backends
def test_meta_and_last_updated(catalog):
    assert catalog.get_meta("x") is None
    catalog.set_meta("x", "1")
    catalog.set_meta("x", "2")
    assert catalog.get_meta("x") == "2"
    assert catalog.last_updated() is None
    catalog.upsert(career())
    assert catalog.last_updated() is not None
    time.sleep(0)


@pytest.mark.both_backends
def test_freshness_by_source_counts_pages_fresher_than_their_interval(catalog):
    for n in range(4):
        catalog.record_page(f"https://a.example/{n}", source="alpha", status=200, run_id=1, body=b"x%d" % n)
    catalog.record_page("https://b.example/0", source="beta", status=200, run_id=1, body=b"y")
    catalog.mark_page_gone("https://a.example/gone", source="alpha", status=404, run_id=1)
    # A fetch schedules a page (a day ahead of the real clock); here each schedule is set by hand.
    for url, due in [("https://a.example/0", "2026-01-01T00:00:00Z"), ("https://a.example/1", "2030-01-02T00:00:00Z"),
                     ("https://a.example/2", "2030-01-01T00:00:00Z"), ("https://a.example/3", "2025-06-02T00:00:00Z")]:
        assert catalog.set_page_schedule(url, 86400, due)
    assert catalog.set_page_schedule("https://b.example/0", None, None)  # fetched before the schedule existed
    catalog.conn.execute("UPDATE pages SET last_fetched = '2025-06-01T00:00:00Z' WHERE url = 'https://a.example/3'")
    alpha, beta = catalog.freshness_by_source(now="2026-12-01T00:00:00Z")
    assert (alpha.source, alpha.pages, alpha.fresh, alpha.due) == ("alpha", 4, 2, 2)  # the 404 page is not counted
    assert alpha.fresh_share == 0.5
    assert (alpha.oldest_url, alpha.oldest_fetch) == ("https://a.example/3", "2025-06-01T00:00:00Z")
    assert alpha.next_due == "2030-01-01T00:00:00Z"
    assert (beta.pages, beta.fresh, beta.next_due) == (1, 0, None)  # never scheduled: due now
    page = catalog.get_page("https://a.example/1")
    assert page is not None and (page.revisit_seconds, page.next_due) == (86400, "2030-01-02T00:00:00Z")
