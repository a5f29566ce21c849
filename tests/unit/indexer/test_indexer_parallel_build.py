"""A rebuild in several processes writes the same index as one process, and a failing process loses nothing."""

from __future__ import annotations

import os
import random
import signal
from typing import Any

import pytest

from indexer import parallel_build
from indexer.build import IndexError_, rebuild, sync
from indexer.engine import IndexStore
from indexer.schema import SCHEMA
from indexer.search import Searcher
from model.items import Institution, Program, Review

from .conftest import corpus_items, fill

# Words the generated records draw from: enough overlap that most terms occur in both shards.
SUBJECTS = ["Nursing", "Dental Hygiene", "Radiography", "Health Information", "Dietetics", "Respiratory Care",
            "Surgical Technology", "Medical Assisting", "Paramedic", "Pharmacy Technician"]
WORDS = ["helpful", "advisors", "labs", "clinical", "parking", "tuition", "online", "classes", "professors",
         "financial", "aid", "campus", "library", "schedule", "evening", "hands-on", "café", "résumé"]
STATES = [("GA", "Atlanta", 33.75, -84.39), ("OH", "Columbus", 39.96, -82.99), ("CA", "Fresno", 36.74, -119.79),
          ("TX", "Austin", 30.27, -97.74), ("NY", "Albany", 42.65, -73.76)]


def generated_items(schools: int = 40, seed: int = 13) -> list[Any]:
    """Schools with programs and reviews (deterministic), so each shard holds hundreds of documents."""
    rng = random.Random(seed)
    items: list[Any] = []
    for n in range(schools):
        unitid = str(5000 + n)
        state, city, lat, lon = STATES[n % len(STATES)]
        name = f"{city} {rng.choice(['Technical', 'Community', 'State'])} College {n}"
        items.append(Institution(
            url=f"https://nav.example/?id={unitid}", source="collegenavigator", unitid=unitid, name=name,
            city=city, state=state, zip=f"{10000 + n:05d}", latitude=lat + n / 100, longitude=lon - n / 100,
            control=rng.choice(["public", "private nonprofit"]), level=rng.choice(["2-year", "4-year"]),
            military_friendly=n % 3 == 0, accreditor="Higher Learning Commission", accreditation_status="accredited"))
        for p in range(3):
            subject = SUBJECTS[(n + p) % len(SUBJECTS)]
            items.append(Program(
                url=f"https://dir.example/p/{unitid}-{p}", source="directory", program_id=f"{unitid}-{p}",
                institution_unitid=unitid, institution_name=name, name=f"{subject} - Associate degree programs",
                degree_level=rng.choice(["associate", "bachelor", "certificate"]), accreditor="CAHIIM",
                accreditation_status=rng.choice(["accredited", "probation"]),
                delivery=rng.choice(["online", "campus", "hybrid"]), state=state, city=city,
                accredited_since=f"20{10 + p}-0{1 + n % 9}-01"))
        for r in range(4):
            body = " ".join(rng.choice(WORDS) for _ in range(12 + r))
            items.append(Review(
                url=f"https://reviews.example/r/{unitid}-{r}", source="reviews", review_id=f"{unitid}-{r}",
                institution_unitid=unitid, institution_name=name, rating=1 + (n + r) % 5,
                title=f"{rng.choice(WORDS).title()} {rng.choice(WORDS)}", body=body,
                category=rng.choice(["academics", "campus", "financial aid"]), date=f"2024-0{1 + r}-1{n % 9}"))
    return items


def _postings(reader: Any, fieldname: str, text: bytes) -> list[tuple[int, float, bytes | None]]:
    matcher = reader.postings(fieldname, text)
    out = []
    while matcher.is_active():
        out.append((matcher.id(), matcher.weight(), matcher.value()))
        matcher.next()
    return out


def index_contents(settings: Any) -> dict[str, Any]:
    """Everything a search can read from the live index, per docnum."""
    ix, _gen = IndexStore(settings.index_dir).open()
    try:
        with ix.reader() as reader:
            docs = reader.doc_count_all()
            leaves = [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())
            out: dict[str, Any] = {
                "doc_count": docs, "deleted": reader.has_deletions(),
                # items() keeps the order of the stored fields, not only their values
                "stored": [list(reader.stored_fields(d).items()) for d in range(docs)],
                "indexed_fields": sorted(reader.indexed_field_names()),
            }
            for name, field in SCHEMA.items():
                if field.indexed:
                    terms = list(reader.lexicon(name))
                    out[f"lexicon {name}"] = terms
                    out[f"postings {name}"] = {
                        t: (reader.doc_frequency(name, t), reader.frequency(name, t), _postings(reader, name, t))
                        for t in terms
                    }
                    infos = [reader.term_info(name, t) for t in terms]
                    out[f"term info {name}"] = [
                        (i.weight(), i.doc_frequency(), i.min_length(), i.max_length(), i.max_weight()) for i in infos
                    ]
                if field.scorable:
                    # the total (BM25's average length) and each document's length; a document without
                    # the field reads None from a segment that has the field's length column and 0 from
                    # one that has not (the search reads both as 0). Whoosh's min/max field length fail
                    # on a segment without the column, and no search reads them.
                    out[f"lengths {name}"] = (
                        reader.field_length(name), [reader.doc_field_length(d, name) or 0 for d in range(docs)],
                    )
                if field.column_type:
                    # per segment, as the search reads them: a segment none of whose documents has a
                    # value keeps no column and reads the default (Whoosh's multi-segment column
                    # reader would skip it)
                    out[f"column {name}"] = [v for leaf, _ in leaves for v in leaf.column_reader(name)]
            return out
    finally:
        ix.close()


QUERIES: list[dict[str, Any]] = [
    {"query": "nursing"},
    {"query": "health information", "filters": {"state": "GA"}},
    {"query": "helpful advisors", "per_page": 50},
    {"query": "technical college", "sort": "name", "per_page": 50},
    {"query": "\"financial aid\""},
    {"query": "radiograpy"},  # misspelled: the suggestion comes from the spell field
    {"query": None, "filters": {"kind": "program"}, "per_page": 50, "page": 2},
    {"query": "college", "near": "30021", "radius": 500},
]


def search_results(settings: Any) -> list[dict[str, Any]]:
    """The JSON of a few searches (relevance, phrases, filters, facets, sorting, near-me, suggestions)."""
    searcher = Searcher(settings, warm_geo=False)
    try:
        results = []
        for kwargs in QUERIES:
            result = searcher.search(**kwargs)
            data = result.to_dict()
            data.pop("took_ms")
            data["scores"] = [h.score for h in result.hits]  # unrounded
            results.append(data)
        return results
    finally:
        searcher.close()


@pytest.fixture
def big_corpus(settings, catalog, monkeypatch):
    """A catalog of a few hundred records; shards of any size are allowed."""
    fill(catalog, corpus_items() + generated_items())
    monkeypatch.setattr(parallel_build, "MIN_SHARD_DOCS", 10)
    return settings, catalog


def test_two_processes_build_the_same_index_as_one(big_corpus):
    settings, catalog = big_corpus
    total = catalog.fused.count()
    assert total > 300

    single = rebuild(settings.replace(INDEX_BUILD_PROCS=1))
    one = index_contents(settings)
    searched_one = search_results(settings)
    messages: list[str] = []
    double = rebuild(settings.replace(INDEX_BUILD_PROCS=2), progress=messages.append)
    two = index_contents(settings)
    searched_two = search_results(settings)

    assert any("indexing with 2 processes" in m for m in messages), messages
    assert (single.processes, double.processes) == (1, 2) and "2 processes" in double.summary()
    # cut at equal estimated cost, not equal counts: the first shard holds the costlier kinds
    shard_docs = {int(m.split("build process ")[1].split(" of")[0]): int(m.split("done (")[1].split(" documents")[0])
                  for m in messages if " done (" in m}
    assert sum(shard_docs.values()) == total
    assert shard_docs[1] < total / 2 - 20 < shard_docs[2], shard_docs
    assert (single.docs, single.by_kind) == (double.docs, double.by_kind) == (total, catalog.counts_by_kind())
    assert one["doc_count"] == two["doc_count"] == total
    assert one.keys() == two.keys()
    for key in one:
        assert one[key] == two[key], f"{key} differs between the single and the two-process build"
    # every search field has terms in both shards, so the comparison covered the shard boundary
    assert len(one["lexicon text"]) > 100 and one["postings text"]
    assert searched_one == searched_two
    assert all(r["total"] for r in searched_one)
    # one segment per process, in order; nothing of the shard folders is left in the generation
    ix, gen = IndexStore(settings.index_dir).open()
    try:
        assert len(ix._segments()) == 2
    finally:
        ix.close()
    assert not (gen.path / parallel_build.WORK_FOLDER).exists()


def test_a_sync_after_a_parallel_rebuild_applies_changes_across_its_segments(big_corpus):
    settings, catalog = big_corpus
    settings = settings.replace(INDEX_BUILD_PROCS=2)
    assert rebuild(settings).processes == 2
    first_review = min(s.item_id for s in catalog.fused.iter_items("review"))  # in the second shard
    catalog.upsert(Review(url="https://reviews.example/r/new", source="reviews", review_id="zz-new",
                          institution_unitid="5000", rating=5, body="Quokka-level friendly tutors."))
    catalog.tombstone("review", first_review, reason="page gone")
    catalog.tombstone("career", "15-1252", reason="page gone")  # in the first shard

    result = sync(settings)

    assert result.rebuilt is None and (result.added, result.deleted) == (1, 2)
    assert result.doc_count == catalog.fused.count()
    searcher = Searcher(settings, warm_geo=False)
    try:
        assert [h.id for h in searcher.search("quokka").hits] == ["review:zz-new"]
        assert searcher.search("software developers", filters={"kind": "career"}).total == 0
    finally:
        searcher.close()


def test_shards_are_cut_at_equal_estimated_cost():
    weights = parallel_build.COST_BY_KIND
    counts = {"career": 10, "institution": 100, "review": 1000}
    total = 10 * weights["career"] + 100 * weights["institution"] + 1000 * weights["review"]
    assert parallel_build.cost_cuts(counts, 1) == []
    assert parallel_build.cost_cuts(counts, 2) == [total / 2]
    assert parallel_build.cost_cuts(counts, 4) == [total / 4, total / 2, 3 * total / 4]
    assert parallel_build.cost_cuts({"a kind added later": 8}, 2) == [4.0]  # unknown kinds cost what a review does


def test_more_processes_than_useful_fall_back_to_fewer(big_corpus, monkeypatch):
    settings, catalog = big_corpus
    total = catalog.fused.count()
    assert parallel_build.shard_count(4, total) == 4
    monkeypatch.setattr(parallel_build, "MIN_SHARD_DOCS", total)
    assert parallel_build.shard_count(4, total) == 1
    messages: list[str] = []
    assert rebuild(settings.replace(INDEX_BUILD_PROCS=4), progress=messages.append).processes == 1
    assert not any("indexing with" in m for m in messages)


def test_a_killed_build_process_fails_the_rebuild_and_keeps_the_live_index(big_corpus):
    settings, catalog = big_corpus
    rebuild(settings.replace(INDEX_BUILD_PROCS=1))
    store = IndexStore(settings.index_dir)
    live = store.current()
    assert live is not None
    before = index_contents(settings)
    killed: list[int] = []

    def kill_the_second_process(message: str) -> None:
        # the parent names its processes once they run: kill one for real, mid-build
        if "indexing with" in message and not killed:
            pid = int(message.split("pids ")[1].rstrip(")").split(", ")[1])
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with pytest.raises(IndexError_) as failure:
        rebuild(settings.replace(INDEX_BUILD_PROCS=2), progress=kill_the_second_process)

    message = str(failure.value)
    assert killed and "\n" not in message
    assert f"pid {killed[0]}" in message and "SIGKILL" in message, message
    current = store.current()
    assert current is not None and current.name == live.name
    assert sorted(p.name for p in store.root.glob("gen-*")) == [live.name]  # the half-built one is gone
    assert index_contents(settings) == before


def test_a_build_process_that_fails_reports_why_in_one_line(big_corpus):
    settings, catalog = big_corpus
    rebuild(settings.replace(INDEX_BUILD_PROCS=1))
    store = IndexStore(settings.index_dir)
    live = store.current()
    assert live is not None
    # a record no document can be built from (a review whose title is an object, which only a damaged
    # catalog holds), at the end of the stream, so the second process meets it
    last = max(s.item_id for s in catalog.fused.iter_items("review"))
    catalog.conn.execute(
        "UPDATE entities SET data = json_set(data, '$.title', json('{\"bad\": true}')) "
        "WHERE kind = 'review' AND item_id = :item_id", {"item_id": last})

    with pytest.raises(IndexError_) as failure:
        rebuild(settings.replace(INDEX_BUILD_PROCS=2))

    message = str(failure.value)
    assert "\n" not in message and "build process 2" in message, message
    assert f"review {last!r}" in message, message  # names the record to fix
    assert store.current() is not None and store.current().name == live.name
    assert sorted(p.name for p in store.root.glob("gen-*")) == [live.name]
