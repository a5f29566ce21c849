"""The one bounded cache behind the search (``SEARCH_CACHE_MB``)."""

from __future__ import annotations

import threading
from array import array

from indexer.cache_budget import CacheBudget, approx_size


def test_the_least_recently_used_entries_go_first_and_the_total_stays_under_the_limit():
    budget = CacheBudget(1_000)
    budget.put(("a", 1), "x", size=400)
    budget.put(("a", 2), "y", size=400)
    assert budget.get(("a", 1)) == "x"  # now the most recent
    budget.put(("b", 3), "z", size=400)
    assert budget.get(("a", 2)) is None and budget.get(("a", 1)) == "x" and budget.get(("b", 3)) == "z"
    assert budget.used == 800 <= budget.limit
    assert budget.stats()["evictions"] == 1


def test_an_entry_larger_than_the_budget_is_returned_but_not_kept():
    budget = CacheBudget(100)
    assert budget.get_or_build(("a", 1), lambda: "big", size=lambda _v: 1_000) == "big"
    assert budget.get(("a", 1)) is None and budget.used == 0


def test_the_first_value_stored_under_a_key_wins():
    budget = CacheBudget(1_000)
    first = budget.put(("k",), [1], size=10)
    assert budget.put(("k",), [2], size=10) is first and budget.used == 10


def test_drop_forgets_one_owners_entries_and_their_bytes():
    budget = CacheBudget(10_000)
    for i in range(5):
        budget.put(("seg-1", "postings", i), i, size=100)
        budget.put(("seg-2", "postings", i), i, size=100)
    assert budget.drop(lambda owner: owner == "seg-1") == 5
    assert budget.used == 500 and budget.stats()["entries"] == 5
    assert budget.drop_where(lambda key: key[2] >= 3) == 2 and budget.used == 300


def test_concurrent_use_keeps_the_accounting_exact():
    budget = CacheBudget(50_000)

    def work(n: int) -> None:
        for i in range(2_000):
            budget.get_or_build((n % 3, i % 400), lambda i=i: i, size=lambda _v: 64)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = budget.stats()
    assert budget.used == 64 * stats["entries"] <= budget.limit
    assert stats["hits"] > 0 and stats["evictions"] > 0


def test_sizes_count_what_arrays_and_masks_hold():
    assert approx_size(array("I", range(1_000))) >= 4_000
    assert approx_size((1 << 80_000) - 1) >= 10_000
    assert approx_size({"CA": (1 << 8_000), "OH": 1}) > 1_000


def test_threads_wanting_the_same_missing_entry_wait_for_one_build():
    budget = CacheBudget(10_000)
    builds = []
    start = threading.Barrier(6)

    def build() -> str:
        builds.append(1)
        threading.Event().wait(0.05)  # long enough for every thread to ask meanwhile
        return "value"

    def ask() -> None:
        start.wait()
        assert budget.get_or_build(("k",), build, size=lambda _v: 10) == "value"

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and not budget._building
