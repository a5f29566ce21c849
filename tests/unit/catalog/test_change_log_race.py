"""Followers of the change log on PostgreSQL never skip a change that commits after a newer one.

PostgreSQL gives a change its ``seq`` when the row is written, not when it commits; a follower
that remembered "the last seq I read" would pass over a smaller seq committed later. These tests
show the skip happens with that rule, and that ``changes_after`` (transaction-id horizon) sees
every change exactly once, with many writers committing after random delays.
"""

from __future__ import annotations

import random
import threading
import time

from catalog import Catalog
from catalog.changes import ChangeCursor
from model.items import Review


def review(i: int) -> Review:
    return Review(url=f"https://r.example/{i}", review_id=f"r{i}", institution_unitid="100", rating=1 + i % 5,
                  title=f"T{i}", body=f"Review number {i}.")


def test_a_change_that_commits_late_is_read_after_it_commits_not_skipped(pg_catalog_url):
    with Catalog(pg_catalog_url) as slow, Catalog(pg_catalog_url) as fast, Catalog(pg_catalog_url) as follower:
        cursor = follower.change_cursor_now()
        with slow.transaction():
            slow.upsert(review(1))  # takes the smaller seq, commits last
            fast.upsert(review(2))  # commits at once
            seqs = {c.item_id: c.seq for c in follower.changes_since(0)}
            assert seqs == {"r2": seqs["r2"]}  # only the committed one is visible
            # The naive rule reads r2 now and moves past the seq that r1 will commit with.
            naive = follower.changes_since(0)[-1].seq
            read, cursor = follower.changes_after(cursor)
            assert read == []  # r2 waits: an older transaction (slow's) is still running
        assert [c.item_id for c in follower.changes_since(naive)] == []  # the naive follower lost r1
        read, cursor = follower.changes_after(cursor)
        assert sorted(c.item_id for c in read) == ["r1", "r2"]
        assert follower.changes_after(cursor) == ([], cursor)


def test_many_writers_with_random_delays_a_follower_sees_every_change_exactly_once(pg_catalog_url):
    writers, per_writer = 8, 25
    seen: list[int] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def write(w: int) -> None:
        rng = random.Random(w)
        try:
            with Catalog(pg_catalog_url) as cat:
                for k in range(per_writer):
                    with cat.transaction():
                        cat.upsert(review(w * 1000 + k))
                        time.sleep(rng.random() * 0.02)  # hold the seq uncommitted a while
                        if rng.random() < 0.3:
                            cat.upsert(review(w * 1000 + k + 500))
                    time.sleep(rng.random() * 0.005)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def follow() -> None:
        with Catalog(pg_catalog_url) as cat:
            cursor = ChangeCursor(0, -1)
            while True:
                finished = done.is_set()
                changes, cursor = cat.changes_after(cursor, limit=7)
                seen.extend(c.seq for c in changes)
                if finished and not changes:
                    return
                if not changes:
                    time.sleep(0.002)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    follower = threading.Thread(target=follow)
    follower.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    follower.join(60)
    assert not errors, errors
    with Catalog(pg_catalog_url) as cat:
        every = [c.seq for c in cat.changes_since(0, limit=100_000)]
    assert len(every) >= writers * per_writer
    assert len(seen) == len(set(seen)), "a change was read twice"
    assert sorted(seen) == sorted(every), f"{len(set(every) - set(seen))} changes were skipped"


def test_a_rebuild_during_a_long_transaction_is_not_followed_by_a_replay_of_what_it_saw(pg_catalog_url):
    with Catalog(pg_catalog_url) as slow, Catalog(pg_catalog_url) as busy, Catalog(pg_catalog_url) as follower:
        with slow.transaction():
            slow.upsert(review(1))  # holds the horizon back while the others commit
            for i in range(2, 40):
                busy.upsert(review(i))
            cursor = follower.change_cursor_now()  # a rebuild starts now and sees r2..r39, not r1
            assert cursor.snapshot is not None
            assert follower.changes_behind(cursor) == 0
            read, cursor = follower.changes_after(cursor)
            assert read == []
        busy.upsert(review(40))
        read, cursor = follower.changes_after(cursor)
        assert sorted(c.item_id for c in read) == ["r1", "r40"]  # what the rebuild could not see, nothing else
        assert follower.changes_after(cursor)[0] == []
        busy.upsert(review(41))
        read, cursor = follower.changes_after(cursor)
        assert [c.item_id for c in read] == ["r41"] and cursor.snapshot is None  # past the snapshot's xmax


def test_two_writers_storing_the_same_new_item_at_once_both_succeed(pg_catalog_url):
    # Two crawls (two sources listing the same id, on two workers) both find no row and both insert:
    # found by the scale-out benchmark, where the second crawl failed on the items primary key.
    first = review(7)
    second = Review(url="https://r.example/7", review_id="r7", institution_unitid="100", rating=2,
                    title="Second copy", body="Review number 7.")
    outcome: dict[str, str] = {}
    errors: list[BaseException] = []
    with Catalog(pg_catalog_url) as a, Catalog(pg_catalog_url) as b, Catalog(pg_catalog_url) as reader:
        with a.transaction():
            outcome["a"] = a.upsert(first)  # inserted, not yet committed

            def store_second() -> None:
                try:
                    outcome["b"] = b.upsert(second)  # finds no committed row; its insert waits on a's
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            thread = threading.Thread(target=store_second)
            thread.start()
            thread.join(0.5)
            assert thread.is_alive()  # b waits for a's row lock rather than failing or going past it
        thread.join(10)
        assert not errors, errors
        assert outcome == {"a": "new", "b": "changed"}
        stored = reader.get("review", "r7")
        assert stored is not None and stored.data["title"] == "Second copy"
        assert [c.op for c in reader.changes_since(0) if c.item_id == "r7"] == ["new", "changed"]
