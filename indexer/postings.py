"""The index's postings, field lengths and columns, decoded once per index generation (``IndexCache``).

Whoosh's own query matchers advance a tree of pure-Python matcher objects document by document;
for our queries (every word as several variants in several fields) that costs ~100 µs per matching
document. Here each term's postings are read once per index generation into a bitmask (matching,
in ``indexer.match``, is then C-level AND/OR on Python ints) and id/frequency arrays with their
BM25 scores (ranking, in ``indexer.rank``, is one tight loop per term over the candidates). Whoosh
still does everything else: the storage, the lexicon, positions for quoted phrases, spelling
candidates, stored fields, columns.

This module is engine-specific (it reads Whoosh postings blocks); the search stages sit above it.
"""

from __future__ import annotations

import math
import sys
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from whoosh import query as wq
from whoosh.util.numeric import byte_to_length

K1 = 1.2
B = 0.75
POSTINGS_CACHE = 4096
"""Terms whose postings stay decoded per index generation (frequent terms are reused constantly)."""
POSTINGS_CACHE_BYTES = 64 * 1024 * 1024
"""And at most this much memory for them: a common term's postings (ids, frequencies, BM25 scores,
mask) take hundreds of KB, and 4,096 of them grew a web worker past 1.5 GB under a query mix."""
_LENGTH_TABLE = [byte_to_length(b) for b in range(256)]


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
    base: array | None = None
    """BM25 score of each posting (filled on first use; field lengths are fixed per generation)."""


class IndexCache:
    """Decoded postings, field lengths and columns of one index generation (thread-safe)."""

    def __init__(self, searcher: Any, size: int, live: int) -> None:
        self.searcher = searcher  # any searcher of the generation; only its reader's data is read
        self.reader = searcher.reader()
        self.size = size
        self.live = live
        self.doc_count = max(1, live.bit_count())
        self._postings: OrderedDict[tuple[str, str], Postings] = OrderedDict()
        self._postings_bytes = 0
        self._lengths: dict[str, tuple[array, float]] = {}
        self._columns: dict[str, Any] = {}
        self._phrases: OrderedDict[Any, int] = OrderedDict()
        self._lock = threading.Lock()
        # Whoosh's posting readers seek a shared file position: one reader, one thread at a time.
        self._io = threading.Lock()

    def postings(self, fieldname: str, term: str) -> Postings:
        """A term's postings (empty when the index does not hold it)."""
        key = (fieldname, term)
        with self._lock:
            found = self._postings.get(key)
            if found is not None:
                self._postings.move_to_end(key)
                return found
        ids = array("I")
        freqs = array("f")
        with self._io:
            for leaf, offset in _leaves(self.reader):
                if (fieldname, term) not in leaf:
                    continue
                _read_postings(leaf.postings(fieldname, term), offset, ids, freqs)
        found = Postings(ids, freqs, mask_of(ids, self.size) & self.live)
        with self._lock:
            if key not in self._postings:
                self._postings[key] = found
                self._postings_bytes += _cost(found)
            while self._postings and (len(self._postings) > POSTINGS_CACHE
                                      or self._postings_bytes > POSTINGS_CACHE_BYTES):
                _old_key, old = self._postings.popitem(last=False)
                self._postings_bytes -= _cost(old)
        return found

    def lengths(self, fieldname: str) -> tuple[array, float]:
        """Every document's length in a field, and the average over live documents."""
        found = self._lengths.get(fieldname)
        if found is None:
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

            lengths = array("I")
            with self._io:
                leaves = _leaves(self.reader)
                total = self.reader.field_length(fieldname)
            for leaf, _offset in leaves:
                count = leaf.doc_count_all()
                perdoc = getattr(leaf, "_perdoc", None)
                with self._io:
                    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) if perdoc is not None else None
                    if column is None:
                        lengths.extend(leaf.doc_field_length(d, fieldname, 0) or 0 for d in range(count))
                    else:
                        lengths.extend(_LENGTH_TABLE[b] for b in _numeric_values(column, count))
            found = (lengths, max(1.0, total / self.doc_count))
            self._lengths[fieldname] = found
        return found

    def column(self, fieldname: str) -> Any:
        """Every document's value of a column field (an array for numbers; the default where a document has none)."""
        found = self._columns.get(fieldname)
        if found is None:
            parts = []
            with self._io:
                for leaf, _offset in _leaves(self.reader):
                    parts.append(_numeric_values(leaf.column_reader(fieldname, translate=False), leaf.doc_count_all()))
            found = _concat(parts) if parts else []
            self._columns[fieldname] = found
        return found

    def base_scores(self, fieldname: str, postings: Postings) -> array:
        """Each posting's BM25 score for its term (idf x saturated, length-normalized frequency), computed once."""
        found = postings.base
        if found is None:
            lengths, avg = self.lengths(fieldname)
            scale = self.idf(fieldname, postings) * (K1 + 1)
            norm, per_len = K1 * (1 - B), K1 * B / avg
            found = array("f", (scale * tf / (tf + norm + per_len * lengths[d])
                                for d, tf in zip(postings.ids, postings.freqs, strict=True)))
            postings.base = found
        return found

    def idf(self, fieldname: str, postings: Postings) -> float:
        """BM25's inverse document frequency (never negative)."""
        df = len(postings.ids)
        return math.log(1.0 + (self.doc_count - df + 0.5) / (df + 0.5))

    def phrase_mask(self, fieldname: str, terms: tuple[str, ...], slop: int) -> int:
        """Documents where the terms stand together, at most ``slop`` apart (positions read by Whoosh)."""
        key = (fieldname, terms, slop)
        with self._lock:
            found = self._phrases.get(key)
        if found is None:
            q = wq.Phrase(fieldname, list(terms), slop=slop)
            with self._io:
                docs = list(self.searcher.docs_for_query(q))
            found = mask_of(docs, self.size) & self.live
            with self._lock:
                self._phrases[key] = found
                if len(self._phrases) > 256:
                    self._phrases.popitem(last=False)
        return found

    def clear_query_caches(self) -> None:
        """Forget decoded postings and phrase matches (benchmarks measure cold queries with this)."""
        with self._lock:
            self._postings.clear()
            self._postings_bytes = 0
            self._phrases.clear()


def _leaves(reader: Any) -> list[tuple[Any, int]]:
    if reader.is_atomic():
        return [(reader, 0)]
    return list(reader.leaf_readers())


def _numeric_values(column: Any, count: int) -> Any:
    """All values of a column reader: numeric columns as an array unpacked in one go, others as a list."""
    from whoosh.columns import NumericColumn

    if (isinstance(column, NumericColumn.Reader) and not column._reverse and column._typecode in "bBhHiIqQfd"
            and array(column._typecode).itemsize == column._fixedlen):
        stored = min(column._count, count)
        values = array(column._typecode, column._dbfile.get(column._basepos, stored * column._fixedlen))
        if sys.byteorder == "little" and values.itemsize > 1:
            values.byteswap()  # Whoosh writes columns big-endian ("!")
        values.extend([column._default] * (count - stored))
        return values
    return list(column)


def _concat(parts: list[Any]) -> Any:
    out = parts[0][:]
    for part in parts[1:]:
        out.extend(part)
    return out


def _cost(postings: Postings) -> int:
    """Bytes a cached term holds: its arrays, the BM25 scores filled later (8 bytes each) and its mask."""
    n = len(postings.ids)
    return n * (postings.ids.itemsize + postings.freqs.itemsize + 8) + postings.mask.bit_length() // 8 + 200


def _read_postings(matcher: Any, offset: int, ids: array, freqs: array) -> None:
    """Append a matcher's (docnum + offset, frequency) pairs, a block at a time when the codec allows."""
    raw = getattr(matcher, "child", matcher)  # deleted documents are removed later by the live mask
    if hasattr(raw, "_read_data") and hasattr(raw, "_next_block") and not getattr(raw, "_byteids", True):
        # Whoosh 3 codec: decode whole posting blocks instead of stepping posting by posting; the ids
        # are stored as gaps, summed here in C (itertools.accumulate) rather than by Whoosh's generator
        while raw.is_active():
            if raw._data is None:
                raw._read_data()
            gaps = raw._data[0]
            block = accumulate(gaps, initial=offset) if offset else accumulate(gaps)
            if offset:
                next(block)  # accumulate(initial=...) yields the initial value first
            ids.extend(block)
            raw._read_weights()
            freqs.extend(raw._weights)
            if raw._lastblock:
                break
            raw._next_block()
        return
    for docnum, weight in matcher.items_as("weight"):
        ids.append(docnum + offset)
        freqs.append(weight)
