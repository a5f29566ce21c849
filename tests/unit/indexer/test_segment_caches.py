"""Caches keyed by segment: a sync reuses what was decoded, results stay the same, memory stays bounded."""

from __future__ import annotations

import pytest

from indexer.build import rebuild, sync
from indexer.postings import IndexCache, SegmentView
from indexer.search import Searcher
from model.items import Review

QUERIES = [
    ("nursing", {}, "relevance"), ("medical records", {}, "relevance"), ("college", {}, "name"),
    ("", {"kind": "program"}, "name"), ("", {}, "relevance"), ("", {"kind": "institution"}, "rating"),
    ("online", {"state": "OH"}, "relevance"), ("", {"rating": "3"}, "rating"), ("nurse", {}, "pay"),
    ("", {"kind": "review"}, "date"),
]


def answers(searcher: Searcher) -> list[tuple[list[str], int, dict[str, list[tuple[str, int]]]]]:
    """Every query's hit ids in order, its total and its facet counts."""
    out = []
    for q, filters, sort in QUERIES:
        r = searcher.search(q, filters, sort=sort, per_page=50)
        out.append(([h.id for h in r.hits], r.total, {k: [(v.value, v.count) for v in vs] for k, vs in r.facets.items()}))
    return out


def add_reviews(catalog, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        catalog.upsert(Review(url=f"https://reviews.example/s{i}", review_id=f"s{i}", institution_unitid="100",
                              rating=1 + i % 5, title=f"Visit {i}", body=f"Nursing labs and parking, visit {i}."))
    catalog.fuse_pending()


def test_a_tiny_budget_changes_no_result_and_keeps_to_its_bound(built, searcher):
    small = Searcher(built, cache_mb=0.02)
    try:
        assert answers(small) == answers(searcher)
        stats = small.budget.stats()
        assert stats["used_bytes"] <= stats["limit_bytes"] and stats["evictions"] > 0
        assert small.budget.used == sum(size for _v, size in small.budget._items.values())
    finally:
        small.close()


def test_a_sync_reuses_every_old_segment_and_answers_as_a_fresh_searcher_does(corpus):
    settings, catalog = corpus
    rebuild(settings)
    s = Searcher(settings)
    try:
        answers(s)
        old = s._snap.index(None)
        first = old.segments[0].data
        nursing = first.postings(old.segments[0].leaf, old._io, "text", "nurs")
        add_reviews(catalog, 3)
        sync(settings)
        after = answers(s)
        new = s._snap.index(None)
        assert new is not old and len(new.segments) == 2
        assert new.segments[0].data is first  # the big segment's decoded data survived the sync
        assert first.postings(new.segments[0].leaf, new._io, "text", "nurs") is nursing
        assert new.segments[1].data is not first and new.segments[1].offset == first.count
        fresh = Searcher(settings)
        try:
            assert after == answers(fresh)
        finally:
            fresh.close()
    finally:
        s.close()


def test_segments_merged_away_are_forgotten(corpus):
    settings, catalog = corpus
    rebuild(settings)
    s = Searcher(settings)
    try:
        for k in range(4):
            add_reviews(catalog, 2, start=10 * k)
            sync(settings)
            answers(s)
        keys_before = {v.data.key for v in s._snap.index(None).segments}
        assert len(keys_before) == 5
        rebuild(settings)  # a new generation folder: every segment is new
        answers(s)
        live = {v.data.key for v in s._snap.index(None).segments}
        assert not live & keys_before
        assert set(s.registry._by_key) == live
        owners = {k[0] for k in s.budget._items if isinstance(k[0], tuple) and len(k[0]) == 2 and k[0][0] != "generation"}
        assert owners <= live
    finally:
        s.close()


@pytest.mark.parametrize("sort", ["name", "rating", "pay", "date", "browse"])
def test_sorted_pages_over_several_segments_follow_one_global_order(corpus, sort):
    """Each segment's own order merged equals sorting every live document by the order's key at once."""
    settings, catalog = corpus
    rebuild(settings)
    for k in range(3):
        add_reviews(catalog, 4, start=100 + 10 * k)
        sync(settings)
    s = Searcher(settings)
    try:
        s.search("")
        snap = s._snap
        ws = snap.acquire()
        try:
            from indexer.paging import sorted_page
            from indexer.postings import iter_bits

            cache = snap.index(ws)
            assert len(cache.segments) == 4
            titles = cache.column("title_sort")
            kinds = {d: k for k, m in snap.value_sets(ws, "kind").items() for d in iter_bits(m)}
            rating, count = cache.column("rating"), cache.column("review_count")
            pay, date = cache.column("pay"), cache.column("date")
            browse = {"career": 0, "institution": 1, "program": 2, "review": 3}
            key = {
                "name": lambda d: (titles[d], kinds.get(d, ""), d),
                "rating": lambda d: (-rating[d], -count[d], titles[d], d),
                "pay": lambda d: (-pay[d], titles[d], d), "date": lambda d: (-date[d], titles[d], d),
                "browse": lambda d: (browse.get(kinds.get(d, ""), 9), titles[d], d),
            }[sort]
            everything = sorted(iter_bits(cache.live), key=key)
            assert sorted_page(snap, ws, sort, cache.live, len(everything)) == everything
            reviews = snap.value_sets(ws, "kind")["review"]
            assert sorted_page(snap, ws, sort, reviews, 5) == [d for d in everything if reviews >> d & 1][:5]
        finally:
            snap.release(ws)
    finally:
        s.close()


def test_average_lengths_stay_put_within_the_drift_and_are_exact_beyond_it(built, searcher):
    searcher.search("nursing")
    cache = searcher._snap.index(None)
    exact = cache.avg_length("text")
    views = [SegmentView(v.data, v.leaf, v.offset, v.live) for v in cache.segments]

    def reopened(previous: float) -> float:
        return IndexCache(cache.searcher, views, cache.budget, {"text": previous}).avg_length("text")

    assert reopened(exact * 1.005) == exact * 1.005  # within 1 %: the older factors stay valid
    assert reopened(exact * 1.05) == exact  # beyond it: exact again


def _merge_everything(settings) -> None:
    """What a sync's merge does to a reader's files: commit one merged segment; Whoosh deletes the old ones."""
    from indexer.engine import IndexStore, open_writer

    ix, _gen = IndexStore(settings.index_dir).open()
    try:
        open_writer(ix).commit(optimize=True)
    finally:
        ix.close()


def test_a_view_whose_files_a_merge_deleted_before_it_opened_them_reopens(corpus):
    settings, catalog = corpus
    rebuild(settings)
    add_reviews(catalog, 3)
    sync(settings)
    s = Searcher(settings)
    try:
        s.refresh()  # the view has read its TOC (two segments) but opened no segment yet
        before = s._snap
        _merge_everything(settings)
        r = s.search("nursing", per_page=50)
        assert not r.messages and r.total > 0
        assert s._snap is not before and len(s._snap.index(None).segments) == 1
        fresh = Searcher(settings)
        try:
            assert answers(s) == answers(fresh)
        finally:
            fresh.close()
    finally:
        s.close()


def test_a_second_searcher_of_a_view_whose_files_were_merged_away_comes_from_the_new_view(corpus):
    settings, catalog = corpus
    rebuild(settings)
    add_reviews(catalog, 3)
    sync(settings)
    s = Searcher(settings)
    try:
        answers(s)
        with s._lease() as (snap, _ws):  # every pooled searcher of this view is in use
            while snap._pool:
                snap._pool.pop().close()
            _merge_everything(settings)
            r = s.search("nursing", per_page=50)  # needs a new searcher: the old view's files are gone
            assert not r.messages and r.total > 0
            assert s._snap is not snap
    finally:
        s.close()
