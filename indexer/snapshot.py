"""One index generation held open: a pool of pinned Whoosh searchers and the caches built on it.

A ``Snapshot`` belongs to one TOC (one generation). Searches lease a searcher from its pool, so
concurrent requests never share Whoosh's file positions. What is decoded from the index is kept
per *segment* (``indexer.postings.SegmentData``, found through the searcher's ``SegmentRegistry``),
so after a sync a new Snapshot reuses everything but the new segment and the deletion sets. What is
generation-wide (stitched masks, facet value masks, filters) is tagged with the generation and
dropped when it retires. Both sit in one ``CacheBudget``; small query memos (term lookups,
spellings) stay per generation, bounded by count.
"""

from __future__ import annotations

import contextlib
import threading
from bisect import bisect_right
from collections.abc import Callable, Hashable
from typing import Any

from indexer.cache_budget import DEFAULT_MB, CacheBudget
from indexer.engine import pinned_searcher, read_toc
from indexer.postings import IndexCache, SegmentData, SegmentView, mask_of

POOL_SIZE = 8
"""Idle Whoosh searchers kept per index generation (one per concurrent request)."""
FUZZY_EXPANSIONS = 8
"""Known terms a misspelled word may stand for in fuzzy matching."""
TERM_MEMO = 20_000
"""Term lookups ("is this word in the index") remembered per generation."""


class SegmentRegistry:
    """The ``SegmentData`` of every segment a searcher uses, by segment key; pruned to the live ones."""

    def __init__(self, budget: CacheBudget) -> None:
        self.budget = budget
        self._by_key: dict[tuple[str, str], SegmentData] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], count: int) -> SegmentData:
        """The data of one segment (created empty on first use)."""
        with self._lock:
            found = self._by_key.get(key)
            if found is None or found.count != count:
                found = self._by_key[key] = SegmentData(key, count, self.budget)
            return found

    def keep_only(self, keys: set[tuple[str, str]]) -> int:
        """Forget segments that are no longer in the live generation (merged away or replaced by a rebuild)."""
        with self._lock:
            dead = {k for k in self._by_key if k not in keys}
            for k in dead:
                del self._by_key[k]
        if dead:
            self.budget.drop(lambda owner: owner in dead)
        return len(dead)


class Snapshot:
    """One index generation (one TOC): a pool of pinned Whoosh searchers plus docnum caches."""

    def __init__(self, ix: Any, gen_name: str, token: Any, meta: dict[str, Any], *,
                 budget: CacheBudget | None = None, registry: SegmentRegistry | None = None,
                 previous: Snapshot | None = None) -> None:
        self.ix = ix
        self.toc = read_toc(ix)
        self.gen_name = gen_name
        self.token = token
        self.meta = meta
        self.budget = budget or CacheBudget(DEFAULT_MB * 1024 * 1024)
        self.registry = registry or SegmentRegistry(self.budget)
        before = previous._cache.get("index") if previous is not None else None
        self._previous_avgs = dict(before.avgs) if before is not None else {}
        self._pool: list[Any] = []
        self._lock = threading.Lock()
        self._leases = 0
        self._retired = False
        self._cache: dict[Any, Any] = {}
        self._queries: dict[Any, Any] = {}
        self._cache_lock = threading.RLock()

    # -- searcher pool ----------------------------------------------------------------------------

    def acquire(self) -> Any:
        """A Whoosh searcher pinned to this generation (give it back with ``release``).

        The generation's own decoded data is opened first, so a view whose files a merge deleted
        fails here (FileNotFoundError) and not halfway through a query.
        """
        self.index(None)
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
            index.retire()
        for ws in pool:
            with contextlib.suppress(Exception):
                ws.close()

    # -- caches -----------------------------------------------------------------------------------

    def cached(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """Data derived from this generation, built once while it fits the budget (``key`` names it)."""
        return self.budget.get_or_build((self.index_tag(), "view", key), build)

    def query_cached(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """What queries leave behind: a filter's mask (in the budget) or a memo (per generation); see ``drop_query_caches``."""
        if isinstance(key, tuple) and key and key[0] == "filter":
            return self.budget.get_or_build((self.index_tag(), "filter", key), build)
        value = self._queries.get(key)
        if value is None:
            with self._cache_lock:
                value = self._queries.get(key)
                if value is None:
                    value = self._queries[key] = build()
        return value

    def _fixed(self, key: str, build: Callable[[], Any]) -> Any:
        value = self._cache.get(key)
        if value is None:
            with self._cache_lock:
                value = self._cache.get(key)
                if value is None:
                    value = self._cache[key] = build()
        return value

    def index_tag(self) -> Any:
        """The owner tag of this generation's entries in the budget (they go when it retires)."""
        return self.index(None).tag

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
        return self.index(ws).size

    def live(self, ws: Any) -> int:
        """Every live docnum (a mask)."""
        return self.index(ws).live

    def index(self, ws: Any) -> IndexCache:
        """Decoded postings, lengths and columns of this generation (its own searcher, guarded by a lock)."""
        return self._fixed("index", self._open_index)  # type: ignore[no-any-return]

    def _open_index(self) -> IndexCache:
        searcher = pinned_searcher(self.ix, self.toc)
        views = []
        for leaf, offset in searcher.reader().leaf_readers():
            segment = leaf.segment()
            count = leaf.doc_count_all()
            data = self.registry.get((self.gen_name, segment.segment_id()), count)
            deleted = mask_of(segment.deleted_docs(), count)
            views.append(SegmentView(data, leaf, offset, ((1 << count) - 1) & ~deleted))
        self.registry.keep_only({v.data.key for v in views})
        return IndexCache(searcher, views, self.budget, self._previous_avgs)

    def segment_of(self, ws: Any, docnum: int) -> tuple[SegmentView, int]:
        """The segment holding a docnum, and the docnum within it."""
        segments = self.index(ws).segments
        starts = self._fixed("starts", lambda: [s.offset for s in segments])
        view = segments[bisect_right(starts, docnum) - 1]
        return view, docnum - view.offset

    def value_sets(self, ws: Any, fieldname: str) -> dict[str, int]:
        """Docnum masks per indexed value of a facet field."""
        cache = self.index(ws)

        def build() -> dict[str, int]:
            io = cache._io
            values: dict[str, int] = {}
            for s in cache.segments:
                for value in s.data.terms(s.leaf, io, fieldname):
                    local = s.data.postings(s.leaf, io, fieldname, value).mask
                    values[value] = values.get(value, 0) | (local << s.offset)
            return {v: m & cache.live for v, m in values.items()}

        return self.budget.get_or_build((cache.tag, "values", fieldname), build)  # type: ignore[no-any-return]

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
                if len(known) < TERM_MEMO:
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
