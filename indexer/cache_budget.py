"""One least-recently-used cache, bounded in bytes, for everything a searcher keeps (``SEARCH_CACHE_MB``).

The search keeps decoded postings, columns, field lengths, facet masks, sort orders and per-document
word positions. Each used to sit in its own cache with its own count limit, so what a web worker
held was the sum of many limits and grew with every index generation. Here every entry is sized
when it is stored and the oldest entries go when the total passes the limit, so one setting bounds
what a worker keeps whatever the query mix.

Keys are tuples whose first item says whose entry it is: a segment's key (data that survives index
syncs) or a generation's tag (views that die with their generation, dropped with ``drop``).
A hand-written LRU rather than ``functools.lru_cache`` or ``cachetools``: entries are sized in
bytes, built outside the lock, and dropped by owner, which neither offers as a whole.
"""

from __future__ import annotations

import sys
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

DEFAULT_MB = 256
"""The default budget; the worker's memory targets (README, "Memory") are measured with it."""


class CacheBudget:
    """A thread-safe LRU of sized entries; ``limit_bytes`` bounds their total."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit = max(0, int(limit_bytes))
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, list[Any]] = {}  # key -> [its build lock, threads waiting on it]
        self.used = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, key: Hashable) -> Any:
        """The stored value (now the most recently used), or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Hashable, value: Any, size: int | None = None) -> Any:
        """Store a value (the one already stored under ``key`` wins) and return it; evicts the oldest past the limit."""
        size = approx_size(value) if size is None else size
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                return found[0]
            if size > self.limit:
                return value  # larger than the whole budget: used once, not kept
            self._items[key] = (value, size)
            self.used += size
            while self.used > self.limit and self._items:
                _key, (_value, old) = self._items.popitem(last=False)
                self.used -= old
                self.evictions += 1
        return value

    def get_or_build(self, key: Hashable, build: Callable[[], Any], size: Callable[[Any], int] | None = None) -> Any:
        """The stored value, or ``build()`` stored; threads wanting the same missing key wait for one build.

        Right after an index sync every thread of a worker asks for the same new views at once; without
        the per-key lock each built its own copy, which multiplied the work exactly when it hurt most.
        """
        found = self.get(key)
        if found is not None:
            return found
        with self._lock:
            building = self._building.setdefault(key, [threading.Lock(), 0])
            building[1] += 1
        try:
            with building[0]:
                found = self.get(key)
                if found is not None:
                    return found
                value = build()
                return self.put(key, value, size(value) if size is not None else None)
        finally:
            with self._lock:
                building[1] -= 1
                if not building[1]:
                    self._building.pop(key, None)

    def drop(self, owner: Callable[[Hashable], bool]) -> int:
        """Forget every entry whose key's owner (its first item) passes the test; returns how many went."""
        return self.drop_where(lambda k: owner(k[0] if isinstance(k, tuple) else k))

    def drop_where(self, test: Callable[[Hashable], bool]) -> int:
        """Forget every entry whose whole key passes the test."""
        with self._lock:
            gone = [k for k in self._items if test(k)]
            for k in gone:
                self.used -= self._items.pop(k)[1]
        return len(gone)

    def stats(self) -> dict[str, int | float]:
        """Bytes used and allowed, entries, and hit/miss/eviction counts since start."""
        with self._lock:
            total = self.hits + self.misses
            return {
                "used_bytes": self.used, "limit_bytes": self.limit, "entries": len(self._items),
                "hits": self.hits, "misses": self.misses, "evictions": self.evictions,
                "hit_rate": round(self.hits / total, 4) if total else 0.0,
            }


def approx_size(value: Any, _depth: int = 0) -> int:
    """Roughly the bytes a cached value holds: arrays and ints exactly, containers walked two levels deep."""
    if isinstance(value, array):
        return 64 + len(value) * value.itemsize
    if isinstance(value, int):
        return 28 + value.bit_length() // 8
    if isinstance(value, (str, bytes)):
        return sys.getsizeof(value)
    if _depth < 3 and isinstance(value, dict):
        return sys.getsizeof(value) + sum(approx_size(k, _depth + 1) + approx_size(v, _depth + 1)
                                          for k, v in value.items())
    if _depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
        return sys.getsizeof(value) + sum(approx_size(v, _depth + 1) for v in value)
    if hasattr(value, "nbytes"):
        return int(value.nbytes)
    return sys.getsizeof(value)
