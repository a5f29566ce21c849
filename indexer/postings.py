"""The index's postings, field lengths and columns, decoded once per *segment* and kept across syncs.

Whoosh's own query matchers advance a tree of pure-Python matcher objects document by document;
for our queries (every word as several variants in several fields) that costs ~100 µs per matching
document. Here each term's postings are read once per segment into a bitmask (matching, in
``indexer.match``, is then C-level AND/OR on Python ints) and id/frequency arrays with their BM25
length factors (ranking, in ``indexer.rank``, is one tight loop per term over the candidates).

Whoosh segments are immutable: an index sync adds a segment and marks deletions in older ones. So
everything decoded from a segment (``SegmentData``) is keyed by the segment and survives syncs; a
generation's ``IndexCache`` only stitches the segments' pieces together at their docnum offsets
(one shift and OR per segment, arrays shared when one segment holds a term) and applies the
generation's deletions with its live mask. Everything sits in one ``CacheBudget``
(``SEARCH_CACHE_MB``).

BM25's collection statistics (document count, average field length) change a little with every
sync. The document count is exact per generation (idf is one multiplication per term); the average
field lengths are *sticky*: a generation keeps its predecessor's average while it is within
``AVG_DRIFT`` of the exact one, so the per-posting length factors decoded for older segments stay
valid. A freshly opened index always starts exact.
"""

from __future__ import annotations

import itertools
import math
import threading
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from whoosh import query as wq

from indexer.cache_budget import CacheBudget
from indexer.engine import column_values, field_lengths, read_postings

K1 = 1.2
B = 0.75
AVG_DRIFT = 0.01
"""How far (relative) a field's average length may drift before a generation recomputes it exactly."""
QUERY_KINDS = frozenset({"postings", "factors", "phrase", "gpostings", "filter", "positions"})
"""Cache entries that queries leave behind (``clear_query_caches`` drops them; benchmarks time cold queries)."""
_tags = itertools.count(1)


# -- docnum sets as bitmasks --------------------------------------------------------------------


def mask_of(docnums: Any, size: int) -> int:
    """A set of docnums as a bitmask (an int): intersections and counts then run in C."""
    bits = bytearray((size >> 3) + 1)
    for d in docnums:
        bits[d >> 3] |= 1 << (d & 7)
    return int.from_bytes(bits, "little")


def iter_bits(mask: int) -> Iterator[int]:
    """The docnums of a bitmask, ascending."""
    data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
    for i, byte in enumerate(data):
        if byte:
            base = i << 3
            while byte:
                low = byte & -byte
                yield base + low.bit_length() - 1
                byte ^= low


@dataclass
class Postings:
    """One term's documents: ids, term frequencies and the ids as a mask.

    Arrays rather than lists: the garbage collector does not walk their items, and with tens of
    thousands of cached postings a full collection over lists took a quarter of a second.
    """

    ids: array
    freqs: array
    mask: int
    factors: array | None = None
    """BM25 length-normalised frequency of each posting (scores are these times idf x weight)."""
    term: str = ""
    """The term (generation-wide postings fetch their length factors per segment by it)."""


def _postings_size(p: Postings) -> int:
    n = len(p.ids)
    return 200 + n * (p.ids.itemsize + p.freqs.itemsize) + p.mask.bit_length() // 8


class SegmentData:
    """What is decoded from one immutable segment, shared by every generation that holds it.

    Reads go through a reader of the segment that the caller passes (the generation's own), under
    the caller's I/O lock: Whoosh's readers seek a shared file position.
    """

    def __init__(self, key: tuple[str, str], count: int, budget: CacheBudget) -> None:
        self.key = key
        self.count = count
        self.budget = budget

    def cached(self, name: str, *parts: Any, build: Callable[[], Any], size: Callable[[Any], int] | None = None) -> Any:
        """A value derived from this segment (``name`` says what; ``parts`` which), kept in the budget."""
        return self.budget.get_or_build((self.key, name, *parts), build, size)

    def postings(self, leaf: Any, io: threading.Lock, fieldname: str, term: str) -> Postings:
        """A term's postings in this segment, local docnums (deleted documents included)."""
        def build() -> Postings:
            ids, freqs = array("I"), array("f")
            with io:
                if (fieldname, term) in leaf:
                    read_postings(leaf.postings(fieldname, term), 0, ids, freqs)
            return Postings(ids, freqs, mask_of(ids, self.count))

        return self.cached("postings", fieldname, term, build=build, size=_postings_size)  # type: ignore[no-any-return]

    def lengths(self, leaf: Any, io: threading.Lock, fieldname: str) -> tuple[array, int]:
        """Every document's length in a field, and the segment's total length of that field."""
        def build() -> tuple[array, int]:
            with io:
                return field_lengths(leaf, fieldname), int(leaf.field_length(fieldname))

        return self.cached("lengths", fieldname, build=build)  # type: ignore[no-any-return]

    def column(self, leaf: Any, io: threading.Lock, fieldname: str) -> Any:
        """Every document's value of a column field (an array for numbers; the default where a document has none)."""
        def build() -> Any:
            with io:
                return column_values(leaf.column_reader(fieldname, translate=False), self.count)

        return self.cached("column", fieldname, build=build)

    def factors(self, leaf: Any, io: threading.Lock, fieldname: str, term: str, avg: float) -> array:
        """Each posting's BM25 length-normalised frequency for an average field length (computed once per average)."""
        def build() -> array:
            postings = self.postings(leaf, io, fieldname, term)
            lengths, _total = self.lengths(leaf, io, fieldname)
            norm, per_len = K1 * (1 - B), K1 * B / avg
            return array("f", ((K1 + 1) * tf / (tf + norm + per_len * lengths[d])
                               for d, tf in zip(postings.ids, postings.freqs, strict=True)))

        return self.cached("factors", fieldname, term, avg, build=build)  # type: ignore[no-any-return]

    def terms(self, leaf: Any, io: threading.Lock, fieldname: str) -> list[str]:
        """Every indexed value of a field in this segment."""
        def build() -> list[str]:
            with io:
                if fieldname not in leaf.indexed_field_names():
                    return []
                return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in leaf.field_terms(fieldname)]

        return self.cached("terms", fieldname, build=build)  # type: ignore[no-any-return]


@dataclass
class SegmentView:
    """One segment as a generation sees it: where its docnums start, and which of them are live."""

    data: SegmentData
    leaf: Any
    offset: int
    live: int
    """Local docnums not deleted in this generation."""

    @property
    def count(self) -> int:
        """Documents in the segment, deleted ones included."""
        return self.data.count

    def local(self, mask: int) -> int:
        """The part of a generation-wide mask that falls in this segment, in local docnums."""
        return (mask >> self.offset) & ((1 << self.data.count) - 1)


class IndexCache:
    """Decoded postings, field lengths and columns of one index generation (thread-safe).

    Built from per-segment data; what is generation-wide (stitched masks and arrays) is tagged
    with this generation and dropped when it retires.
    """

    def __init__(self, searcher: Any, segments: list[SegmentView], budget: CacheBudget,
                 previous_avgs: dict[str, float] | None = None) -> None:
        self.searcher = searcher  # this generation's own searcher: its leaf readers are the segments'
        self.segments = segments
        self.budget = budget
        self.tag = ("generation", next(_tags))
        self.size = sum(s.count for s in segments)
        live = 0
        for s in segments:
            live |= s.live << s.offset
        self.live = live
        self.doc_count = max(1, live.bit_count())
        self._previous_avgs = dict(previous_avgs or {})
        self.avgs: dict[str, float] = {}
        self._lock = threading.Lock()
        # Whoosh's posting readers seek a shared file position: one reader, one thread at a time.
        self._io = threading.Lock()

    def _cached(self, name: str, *parts: Any, build: Callable[[], Any], size: Callable[[Any], int] | None = None) -> Any:
        return self.budget.get_or_build((self.tag, name, *parts), build, size)

    def postings(self, fieldname: str, term: str) -> Postings:
        """A term's postings over the whole generation (empty when the index does not hold it)."""
        def build() -> Postings:
            parts = [(s, s.data.postings(s.leaf, self._io, fieldname, term)) for s in self.segments]
            parts = [(s, p) for s, p in parts if p.ids]
            mask = 0
            for s, p in parts:
                mask |= p.mask << s.offset
            if len(parts) == 1 and parts[0][0].offset == 0:
                # the common case (one big segment holds the term): share its arrays, copy nothing
                return Postings(parts[0][1].ids, parts[0][1].freqs, mask & self.live, term=term)
            ids, freqs = array("I"), array("f")
            for s, p in parts:
                ids.extend(p.ids if not s.offset else array("I", map(s.offset.__add__, p.ids)))
                freqs.extend(p.freqs)
            return Postings(ids, freqs, mask & self.live, term=term)

        return self._cached("gpostings", fieldname, term, build=build,  # type: ignore[no-any-return]
                            size=lambda p: 200 + p.mask.bit_length() // 8)

    def avg_length(self, fieldname: str) -> float:
        """The field's average length over live documents (sticky within ``AVG_DRIFT``, see the module doc)."""
        found = self.avgs.get(fieldname)
        if found is None:
            total = sum(s.data.lengths(s.leaf, self._io, fieldname)[1] for s in self.segments)
            exact = max(1.0, total / self.doc_count)
            before = self._previous_avgs.get(fieldname)
            found = before if before is not None and abs(exact / before - 1.0) <= AVG_DRIFT else exact
            with self._lock:
                self.avgs[fieldname] = found
        return found

    def column(self, fieldname: str) -> Any:
        """Every document's value of a column field over the generation (an array for numbers, else a list)."""
        def build() -> Any:
            parts = [s.data.column(s.leaf, self._io, fieldname) for s in self.segments]
            if len(parts) == 1:
                return parts[0]
            out = parts[0][:]
            for part in parts[1:]:
                out.extend(part)
            return out

        return self._cached("column", fieldname, build=build)

    def base_scores(self, fieldname: str, postings: Postings) -> tuple[array, float]:
        """(each posting's BM25 length-normalised frequency, the term's idf): a posting scores their product."""
        found = postings.factors
        if found is None:
            avg = self.avg_length(fieldname)
            pieces = []
            for s in self.segments:
                if s.data.postings(s.leaf, self._io, fieldname, postings.term).ids:
                    pieces.append(s.data.factors(s.leaf, self._io, fieldname, postings.term, avg))
            if len(pieces) <= 1:
                found = pieces[0] if pieces else array("f")
            else:
                found = array("f")
                for piece in pieces:
                    found.extend(piece)
            postings.factors = found
        return found, self.idf(postings)

    def idf(self, postings: Postings) -> float:
        """BM25's inverse document frequency (never negative)."""
        df = len(postings.ids)
        return math.log(1.0 + (self.doc_count - df + 0.5) / (df + 0.5))

    def phrase_mask(self, fieldname: str, terms: tuple[str, ...], slop: int) -> int:
        """Documents where the terms stand together, at most ``slop`` apart (positions read by Whoosh)."""
        def build() -> int:
            q = wq.Phrase(fieldname, list(terms), slop=slop)
            with self._io:
                docs = list(self.searcher.docs_for_query(q))
            return mask_of(docs, self.size) & self.live

        return self._cached("phrase", fieldname, terms, slop, build=build)  # type: ignore[no-any-return]

    def clear_query_caches(self) -> None:
        """Forget decoded postings, length factors, phrase matches and filters (benchmarks time cold queries)."""
        self.budget.drop_where(lambda k: isinstance(k, tuple) and len(k) > 1 and k[1] in QUERY_KINDS)

    def retire(self) -> None:
        """This generation is gone: forget its generation-wide views (segment data stays for the next)."""
        self.budget.drop(lambda owner: owner == self.tag)

