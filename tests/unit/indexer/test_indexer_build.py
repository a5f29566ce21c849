"""Incremental sync, atomic rebuild, the writer lock and damaged-index recovery, on a real index."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time

import pytest

from indexer.build import IndexError_, index_status, optimize, rebuild, sync
from indexer.engine import META, POINTER, IndexStore, check
from indexer.search import Searcher
from model.items import Institution, Program, Review

# Each test runs with the catalog on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_backends


def _docs(settings) -> dict[str, dict]:
    ix, _gen = IndexStore(settings.index_dir).open()
    with ix.searcher() as s:
        return {f["id"]: f for f in s.all_stored_fields()}


def _newest_segment_ids(settings) -> set[str]:
    ix, _gen = IndexStore(settings.index_dir).open()
    with ix.reader() as reader:
        leaves = reader.leaf_readers() if not reader.is_atomic() else [(reader, 0)]
        newest, _offset = leaves[-1]
        return {newest.stored_fields(d)["id"] for d in newest.all_doc_ids()}


def test_first_sync_builds_then_reports_up_to_date(corpus):
    settings, catalog = corpus
    messages: list[str] = []
    first = sync(settings, progress=messages.append)
    assert first.rebuilt is not None and "no index" in first.rebuilt.reason
    assert first.rebuilt.docs == catalog.count() == 18
    assert any("published" in m for m in messages)
    second = sync(settings)
    assert second.rebuilt is None and second.changes == 0
    assert second.watermark_to == catalog.max_change_seq()
    assert "up to date" in second.summary()
    assert second.to_dict()["operation"] == "sync" and json.dumps(first.to_dict())


def test_sync_applies_exactly_the_changes_and_their_linked_records(corpus, monkeypatch):
    from indexer.engine import merge

    # a third of this tiny index is re-indexed, which would rewrite its big segment right after the
    # sync (tested in test_merge_policy.py); here the sync's own segment is what is checked
    monkeypatch.setattr(merge, "MAX_DELETED_SHARE", 1.1)
    settings, catalog = corpus
    rebuild(settings)
    before = _docs(settings)
    catalog.upsert(Review(url="https://reviews.example/r/5", source="reviews", review_id="r5",
                          institution_unitid="300", rating=5, body="Tutoring center saved my semester."))
    rad = catalog.get("program", "400-rad").data
    catalog.upsert(Program(**{**{k: v for k, v in rad.items() if k != "kind"}, "accreditation_status": "probation"}))
    catalog.tombstone("career", "15-1252", reason="page gone")

    result = sync(settings)

    assert (result.added, result.updated, result.deleted) == (1, 1, 1)
    assert result.changes == 3 and result.rebuilt is None
    # the new review changes institution 300's rating, which its programs show; the program's change
    # touches its institution's program list
    assert _newest_segment_ids(settings) == {
        "review:r5", "program:400-rad", "institution:300", "program:300-hit", "program:300-diet", "institution:400",
    }
    assert result.linked == 4
    after = _docs(settings)
    assert "career:15-1252" not in after and "review:r5" in after
    assert after["program:400-rad"]["data"]["accreditation_status"] == "probation"
    assert after["institution:300"]["data"]["review_count"] == 2
    assert after["institution:300"]["data"]["rating_avg"] == 3.5
    assert after["program:300-hit"]["data"]["institution_rating_avg"] == 3.5
    for unchanged in ("career:29-2072", "institution:100", "program:100-hit", "review:r1"):
        assert after[unchanged] == before[unchanged]


def test_renaming_an_institution_reindexes_its_programs_and_reviews(corpus):
    settings, catalog = corpus
    rebuild(settings)
    data = {k: v for k, v in catalog.get("institution", "100").data.items() if k != "kind"}
    catalog.upsert(Institution(**{**data, "name": "Piedmont Georgia Tech"}))
    result = sync(settings)
    assert result.updated == 1 and result.linked == 3  # program 100-hit, reviews r1 and r2
    s = Searcher(settings)
    hits = s.search('"Piedmont Georgia Tech"', filters={"kind": "program"}).hits
    assert [h.id for h in hits] == ["program:100-hit"]
    assert hits[0].fields["institution_name"] == "Piedmont Georgia Tech"
    assert s.search('"Georgia Piedmont Technical College"', filters={"kind": "review"}).total == 0
    s.close()


def _campus(unitid: str, name: str) -> Institution:
    return Institution(url=f"https://nav.example/?id={unitid}", source="collegenavigator", unitid=unitid, name=name,
                       city="Erie", state="PA", control="public", level="4-year")


def test_a_campus_coming_or_renamed_updates_its_flagships_system_brand(corpus):
    """The brand a flagship gets from its campuses' names (``indexer.brands``) follows the campuses through syncs."""
    settings, catalog = corpus
    system = "Keystone State University"
    catalog.upsert(_campus("900", f"{system}-Main Campus"))
    catalog.upsert(Program(url="https://dir.example/p/900", source="directory", program_id="900-nur",
                           institution_unitid="900", institution_name=f"{system}-Main Campus", name="Nursing",
                           degree_level="bachelor", accreditor="CCNE", accreditation_status="accredited", state="PA"))
    for unitid, place in (("901", "Altoona"), ("902", "Berks")):
        catalog.upsert(_campus(unitid, f"{system}-KSU {place}"))
    rebuild(settings)
    assert _docs(settings)["institution:900"]["data"]["system_brand"] is None  # two campuses alike could be chance

    catalog.upsert(_campus("903", f"{system}-KSU York"))
    result = sync(settings)
    assert result.linked == 2  # the flagship and its program; the other campuses are untouched
    docs = _docs(settings)
    assert docs["institution:900"]["data"]["system_brand"] == "KSU"
    assert docs["program:900-nur"]["data"]["institution_aliases"] == ["KSU"]
    s = Searcher(settings)
    assert s.search("KSU").hits[0].id == "institution:900"
    assert s.search("KSU nursing").hits[0].id == "program:900-nur"
    s.close()

    # a campus renamed away from the brand leaves two: the brand goes, from the flagship and its program
    data = {k: v for k, v in catalog.get("institution", "903").data.items() if k != "kind"}
    catalog.upsert(Institution(**{**data, "name": f"{system}-York Campus"}))
    assert sync(settings).linked == 2
    docs = _docs(settings)
    assert docs["institution:900"]["data"]["system_brand"] is None
    assert docs["program:900-nur"]["data"]["institution_aliases"] is None


def test_watermark_is_stored_with_the_index_and_batches_are_bounded(corpus):
    settings, catalog = corpus
    rebuild(settings)
    for n in range(5):
        catalog.upsert(Review(url=f"https://reviews.example/b/{n}", review_id=f"b{n}", institution_unitid="100",
                              rating=4, body=f"Review number {n}"))
    result = sync(settings, batch_size=2)
    assert result.batches == 3 and result.added == 5
    gen = IndexStore(settings.index_dir).current()
    assert gen.watermark == catalog.max_change_seq() == result.watermark_to
    assert json.loads((gen.path / META).read_text())["watermark"] == gen.watermark
    assert index_status(settings)["watermark"] == gen.watermark


def test_rebuild_swaps_atomically_while_a_searcher_is_open(corpus):
    settings, catalog = corpus
    first = rebuild(settings)
    s = Searcher(settings)
    assert s.search("parking").total == 1
    seen_during: list[tuple[str, int]] = []

    def progress(message: str) -> None:
        if "indexed" in message or "writing" in message:
            status = s.status()  # a search mid-rebuild still sees the old, complete generation
            seen_during.append((status["generation"], s.search("").total))

    catalog.upsert(Review(url="https://reviews.example/r/6", review_id="r6", institution_unitid="200", rating=1,
                          body="Parking garage is expensive."))
    second = rebuild(settings, progress=progress)
    assert seen_during and all(gen == first.generation and total == 18 for gen, total in seen_during)
    assert second.generation != first.generation
    after = s.search("parking")
    assert after.total == 2 and s.status()["generation"] == second.generation
    s.close()


def test_old_generation_stays_readable_for_a_leased_searcher(corpus):
    settings, _catalog = corpus
    rebuild(settings)
    store = IndexStore(settings.index_dir)
    ix, _gen = store.open()
    held = ix.searcher()
    rebuild(settings)
    rebuild(settings)  # the first generation is now pruned from disk
    assert len(list(settings.index_dir.glob("gen-*"))) == 2
    assert held.doc_count() == 18 and held.document(id="career:29-2072")["title"] == "Medical records specialists"
    held.close()


def _hold_lock(root: str, ready, release) -> None:
    with IndexStore(root).writer_lock(5, "rebuild"):
        ready.set()
        release.wait(10)


def test_a_second_writer_waits_then_fails_with_a_clear_message(corpus):
    settings, _catalog = corpus
    rebuild(settings)
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(settings.index_dir), ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        started = time.monotonic()
        with pytest.raises(IndexError_) as info:
            sync(settings, lock_timeout=0.5)
        assert time.monotonic() - started >= 0.45
        message = str(info.value)
        assert "another index writer is running" in message and f"pid {holder.pid}" in message
        assert "rebuild" in message and "--timeout" in message
    finally:
        release.set()
        holder.join(10)
    assert sync(settings).rebuilt is None  # the index is intact and the lock free


def test_a_waiting_writer_proceeds_when_the_first_finishes(corpus):
    settings, catalog = corpus
    rebuild(settings)
    store = IndexStore(settings.index_dir)
    results = []
    with store.writer_lock(5, "test"):
        catalog.upsert(Review(url="https://reviews.example/w", review_id="w1", institution_unitid="100", rating=4,
                              body="Waited."))
        worker = threading.Thread(target=lambda: results.append(sync(settings, lock_timeout=10)))
        worker.start()
        time.sleep(0.3)
        assert not results  # still waiting for us
    worker.join(10)
    assert results and results[0].added == 1


def test_missing_toc_is_detected_reported_and_rebuilt(corpus):
    settings, _catalog = corpus
    rebuild(settings)
    gen = IndexStore(settings.index_dir).current()
    for toc in gen.path.glob("_MAIN_*.toc"):
        toc.unlink()
    assert "table of contents" in check(gen)
    s = Searcher(settings)
    broken = s.search("parking")
    assert broken.total == 0 and any("unavailable" in m for m in broken.messages)
    messages: list[str] = []
    result = sync(settings, progress=messages.append)
    assert result.rebuilt is not None and "table of contents" in result.rebuilt.reason
    assert any("rebuilding" in m for m in messages)
    assert s.search("parking").total == 1
    s.close()


def test_truncated_segment_is_detected_and_rebuilt(corpus):
    settings, _catalog = corpus
    rebuild(settings)
    gen = IndexStore(settings.index_dir).current()
    biggest = max((p for p in gen.path.iterdir() if p.name.startswith("MAIN_")), key=lambda p: p.stat().st_size)
    with biggest.open("r+b") as fh:
        fh.truncate(biggest.stat().st_size // 2)
    problem = check(gen)
    assert problem and biggest.name in problem
    result = sync(settings)
    assert result.rebuilt is not None and "damaged" in result.rebuilt.reason
    assert Searcher(settings).search("financial aid").total >= 1


def test_garbage_pointer_and_garbage_toc_are_rebuilt(corpus):
    settings, _catalog = corpus
    rebuild(settings)
    (settings.index_dir / POINTER).write_text("../../etc\n")
    assert sync(settings).rebuilt is not None
    gen = IndexStore(settings.index_dir).current()
    for toc in gen.path.glob("_MAIN_*.toc"):
        toc.write_bytes(os.urandom(64))
    result = sync(settings)
    assert result.rebuilt is not None and "table of contents" in result.rebuilt.reason


def test_writer_killed_after_commit_loses_nothing(corpus):
    """A commit whose watermark was never recorded is checked in depth and its changes re-applied."""
    settings, catalog = corpus
    rebuild(settings)
    store = IndexStore(settings.index_dir)
    ix, gen = store.open()
    writer = ix.writer()
    writer.delete_by_term("id", "review:r2")  # a half-done sync: committed, meta not updated
    writer.commit(merge=False)
    catalog.upsert(Review(url="https://reviews.example/k", review_id="k1", institution_unitid="100", rating=2,
                          body="Killed writer test."))
    result = sync(settings)
    assert result.rebuilt is None and result.added == 1
    ids = set(_docs(settings))
    assert "review:k1" in ids
    assert "review:r2" not in ids  # the index keeps what was committed; a rebuild would restore it
    assert rebuild(settings).docs == 19 and "review:r2" in _docs(settings)


def test_schema_or_vocabulary_change_forces_a_rebuild(corpus):
    settings, _catalog = corpus
    rebuild(settings)
    gen = IndexStore(settings.index_dir).current()
    meta = json.loads((gen.path / META).read_text())
    meta["schema_version"] = 0
    (gen.path / META).write_text(json.dumps(meta))
    result = sync(settings)
    assert result.rebuilt is not None and "schema version 0" in result.rebuilt.reason


def test_no_catalog_gives_a_clear_error(settings, request):
    if settings.multi_node:  # a PostgreSQL catalog is missing when its database was never upgraded
        server = request.getfixturevalue("pg_server")
        settings = settings.replace(DATABASE_URL=server.create_database(f"never_upgraded_{id(settings)}"))
        with pytest.raises(IndexError_, match="run `collegesearch db upgrade` once"):
            sync(settings)
        with pytest.raises(IndexError_, match="no collegesearch tables"):
            rebuild(settings)
        assert index_status(settings)["state"] == "missing"
        return
    with pytest.raises(IndexError_, match="no catalog .* run `collegesearch crawl` first"):
        sync(settings)
    with pytest.raises(IndexError_, match="no catalog"):
        rebuild(settings)
    assert index_status(settings)["state"] == "missing"


def test_optimize_merges_incremental_segments(corpus):
    settings, catalog = corpus
    rebuild(settings)
    for n in range(3):
        catalog.upsert(Review(url=f"https://reviews.example/o/{n}", review_id=f"o{n}", institution_unitid="200",
                              rating=3, body="More reviews."))
        assert sync(settings).segments == n + 2
    result = optimize(settings)
    assert (result.segments_before, result.segments_after) == (4, 1)
    assert sync(settings).rebuilt is None  # the manifest was updated with the merge
    assert index_status(settings)["doc_count"] == 21


def test_rebuild_reports_progress_and_throughput(corpus):
    settings, _catalog = corpus
    messages: list[str] = []
    result = rebuild(settings, progress=messages.append)
    assert result.docs == 18 and result.by_kind == {"career": 4, "institution": 4, "program": 6, "review": 4}
    assert messages[0].startswith("rebuilding the index from 18 catalog records"), messages
    assert "18 documents" in result.summary() and result.to_dict()["docs_per_second"] > 0
