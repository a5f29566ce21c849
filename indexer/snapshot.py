"""One index generation held open: a pool of pinned Whoosh searchers and the caches built on it.

A ``Snapshot`` belongs to one TOC (one generation). Searches lease a searcher from its pool, so
concurrent requests never share Whoosh's file positions, and every cache here is built at most
once per generation: the decoded postings (``IndexCache``), the live docnums, the docnum masks per
facet value. What queries leave behind (term lookups, spellings, filter masks, word positions) is
kept apart, bounded, and dropped by ``drop_query_caches``.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from indexer.engine import pinned_searcher, read_toc
from indexer.postings import IndexCache, mask_of

POOL_SIZE = 8
"""Idle Whoosh searchers kept per index generation (one per concurrent request)."""
FUZZY_EXPANSIONS = 8
"""Known terms a misspelled word may stand for in fuzzy matching."""
MAX_FILTER_SETS = 4096
"""Filter masks kept per generation: filters come from users, so the cache is bounded."""


class BoundedMemo:
    """A thread-safe memo that forgets its oldest entry beyond ``limit`` entries."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The remembered value, or None."""
        return self._items.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        """Remember a value (dropping the oldest past the limit)."""
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.limit:
                self._items.popitem(last=False)


class Snapshot:
    """One index generation (one TOC): a pool of pinned Whoosh searchers plus docnum caches."""

    def __init__(self, ix: Any, gen_name: str, token: Any, meta: dict[str, Any]) -> None:
        self.ix = ix
        self.toc = read_toc(ix)
        self.gen_name = gen_name
        self.token = token
        self.meta = meta
        self._pool: list[Any] = []
        self._lock = threading.Lock()
        self._leases = 0
        self._retired = False
        self._cache: dict[Any, Any] = {}
        self._queries: dict[Any, Any] = {}
        self._cache_lock = threading.RLock()

    # -- searcher pool ----------------------------------------------------------------------------

    def acquire(self) -> Any:
        """A Whoosh searcher pinned to this generation (give it back with ``release``)."""
        with self._lock:
            self._leases += 1
            if self._pool:
                return self._pool.pop()
        try:
            return pinned_searcher(self.ix, self.toc)
        except BaseException:
            with self._lock:
                self._leases -= 1
            raise

    def release(self, ws: Any) -> None:
        """Return a leased searcher to the pool (closed when the generation is retired)."""
        close_all = False
        with self._lock:
            self._leases -= 1
            if self._retired or len(self._pool) >= POOL_SIZE:
                ws.close()
            else:
                self._pool.append(ws)
            close_all = self._retired and self._leases == 0
        if close_all:
            self._close_pool()

    def retire(self) -> None:
        """A newer generation took over: close the files once the last lease is returned."""
        with self._lock:
            self._retired = True
            idle = self._leases == 0
        if idle:
            self._close_pool()

    def _close_pool(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, []
        index = self._cache.get("index")
        if index is not None:
            pool.append(index.searcher)
        for ws in pool:
            with contextlib.suppress(Exception):
                ws.close()

    # -- caches -----------------------------------------------------------------------------------

    def cached(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """Data derived from this generation, built once (``key`` names it)."""
        return self._get(self._cache, key, build)

    def query_cached(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """What queries leave behind (a memo, a filter's mask): dropped by ``drop_query_caches``."""
        if isinstance(key, tuple) and key[0] == "filter" and len(self._queries) > MAX_FILTER_SETS:
            with self._cache_lock:
                for k in [k for k in self._queries if isinstance(k, tuple) and k[0] == "filter"]:
                    del self._queries[k]
        return self._get(self._queries, key, build)

    def _get(self, cache: dict[Any, Any], key: Hashable, build: Callable[[], Any]) -> Any:
        value = cache.get(key)
        if value is None:
            with self._cache_lock:
                value = cache.get(key)
                if value is None:
                    value = build()
                    cache[key] = value
        return value

    def drop_query_caches(self) -> None:
        """Forget what queries left behind (decoded postings, phrases, spellings, filters); keep the rest."""
        with self._cache_lock:
            index = self._cache.get("index")
            if index is not None:
                index.clear_query_caches()
            self._queries.clear()

    # -- per-generation data ------------------------------------------------------------------------

    def size(self, ws: Any) -> int:
        """One more than the largest docnum."""
        return self.cached("size", lambda: ws.reader().doc_count_all())

    def live(self, ws: Any) -> int:
        """Every live docnum (a mask)."""
        return self.cached("live", lambda: mask_of(ws.reader().all_doc_ids(), self.size(ws)))

    def index(self, ws: Any) -> IndexCache:
        """Decoded postings, lengths and columns of this generation (its own searcher, guarded by a lock)."""
        return self.cached("index", lambda: IndexCache(pinned_searcher(self.ix, self.toc), self.size(ws),
                                                       self.live(ws)))

    def value_sets(self, ws: Any, fieldname: str) -> dict[str, int]:
        """Docnum masks per indexed value of a facet field."""
        def build() -> dict[str, int]:
            reader = ws.reader()
            if fieldname not in reader.indexed_field_names():
                return {}
            cache = self.index(ws)
            values = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in reader.field_terms(fieldname)]
            return {v: cache.postings(fieldname, v).mask for v in values}

        return self.cached(("values", fieldname), build)

    # -- the lexicon, for the query planner -------------------------------------------------------

    def exists(self, ws: Any) -> Callable[[str, str], bool]:
        """A cached "is this term in the index" test for the query builder."""
        known: dict[tuple[str, str], bool] = self.query_cached("terms", dict)
        reader = ws.reader()

        def test(fieldname: str, text: str) -> bool:
            key = (fieldname, text)
            found = known.get(key)
            if found is None:
                found = (fieldname, text) in reader
                if len(known) < 200_000:
                    known[key] = found
            return found

        return test

    def expand(self, ws: Any) -> Callable[[str, str, int], list[str]]:
        """Known terms within an edit distance of a word, most frequent first (for fuzzy matching)."""
        reader = ws.reader()

        def near(fieldname: str, text: str, maxdist: int) -> list[str]:
            found = []
            for term in reader.terms_within(fieldname, text, maxdist, prefix=1):
                term = term.decode("utf-8") if isinstance(term, bytes) else term
                found.append((reader.doc_frequency(fieldname, term), term))
            found.sort(reverse=True)
            return [term for _df, term in found[:FUZZY_EXPANSIONS]]

        return near
