"""The sync's merge policy: small segments merge often, the big one stays (its caches with it)."""

from __future__ import annotations

from indexer.build import rebuild, sync
from indexer.engine import IndexStore, segments_of
from indexer.engine import merge as policy
from indexer.search import Searcher
from model.items import Review


def test_tiers_are_powers_of_the_tier_factor():
    assert [policy.tier(n) for n in (0, 1, 9, 10, 99, 100, 999, 1000, 44_186)] == [0, 0, 0, 1, 1, 2, 2, 3, 4]


def test_a_full_tier_merges_with_every_smaller_segment_and_never_the_big_one():
    big = (44_000, 10)
    n = policy.MERGE_FACTOR
    assert policy.plan_merge([big] + [(120, 0)] * (n - 1)) == []
    assert policy.plan_merge([big] + [(120, 0)] * n) == list(range(1, n + 1))
    assert policy.plan_merge([big, (3, 0)] + [(120, 0)] * n) == list(range(1, n + 2))
    assert policy.plan_merge([big] + [(2, 0)] * n + [(500, 0)]) == list(range(1, n + 1))
    assert policy.plan_merge([(120, 0)] * n) == []  # the largest of equals is kept too


def test_a_small_segment_mostly_deleted_is_rewritten_alone_and_the_largest_never():
    assert policy.plan_merge([(44_000, 0), (120, 30), (80, 0)]) == [1]
    assert policy.plan_merge([(44_000, 0), (120, 29), (80, 0)]) == []
    assert policy.plan_merge([(44_000, 44_000 // 2), (120, 0)]) == []


def add_review(catalog, i: int) -> None:
    catalog.upsert(Review(url=f"https://reviews.example/m{i}", review_id=f"m{i}", institution_unitid="100",
                          rating=1 + i % 5, body=f"Merge policy visit number {i} with nursing labs."))
    catalog.fuse_pending()


def test_many_syncs_keep_few_segments_and_the_first_one_untouched(corpus):
    settings, catalog = corpus
    rebuild(settings)
    def segments() -> list:
        ix, _gen = IndexStore(settings.index_dir).open()
        try:
            return segments_of(ix)
        finally:
            ix.close()

    first = segments()[0].segment_id()
    most = 0
    for i in range(20):
        add_review(catalog, i)
        result = sync(settings)
        most = max(most, result.segments)
    assert most <= policy.MERGE_FACTOR + 1
    ids = [s.segment_id() for s in segments()]
    assert first in ids  # the rebuilt segment was never rewritten
    s = Searcher(settings)
    try:
        assert s.search("merge policy visit", per_page=50).total == 20
    finally:
        s.close()


def test_a_sync_rebuilds_once_a_quarter_of_the_main_segment_is_stale(corpus, monkeypatch):
    settings, catalog = corpus
    rebuild(settings)
    add_review(catalog, 1)
    assert sync(settings).rebuilt is None  # a few of 18 documents re-indexed: below a quarter
    monkeypatch.setattr(policy, "MAX_DELETED_SHARE", 0.1)
    add_review(catalog, 2)
    result = sync(settings)
    assert result.rebuilt is not None and "a quarter" in result.rebuilt.reason
    ix, _gen = IndexStore(settings.index_dir).open()
    try:
        assert len(segments_of(ix)) == 1
    finally:
        ix.close()
    s = Searcher(settings)
    try:
        assert s.search("merge policy visit").total == 2
    finally:
        s.close()
