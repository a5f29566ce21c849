"""Every private part of Whoosh that collegesearch relies on, in one place.

Whoosh's public API has no way to read a whole postings list or column in one go, to open a
reader over the segments of a given table of contents, or to find the newest TOC without opening
the index, and the search needs all of them to be fast. Each function here wraps one such internal
and ``tests/unit/indexer/test_engine_internals.py`` checks each against Whoosh's public (slow)
equivalent, so an upgrade of Whoosh that changes one fails there, by name, instead of returning
wrong results somewhere in the search. No other module may touch a Whoosh internal
(``tests/unit/test_layers.py`` enforces it).

Tested with whoosh-reloaded 3.54 (``WHOOSH_TESTED``).
"""

from __future__ import annotations

import sys
from array import array
from itertools import accumulate
from typing import Any

from whoosh import index as whoosh_index
from whoosh.util.numeric import byte_to_length

WHOOSH_TESTED = "3.54.0"
"""The Whoosh version these wrappers were last checked against (the internals test reports a difference)."""
INDEX_NAME = whoosh_index._DEF_INDEX_NAME
"""The name Whoosh gives an index's files ("MAIN")."""
LENGTH_TABLE = tuple(byte_to_length(b) for b in range(256))
"""Field lengths are stored as one byte each; this decodes them."""


def latest_toc_generation(storage: Any) -> int:
    """The newest TOC generation number in a storage (-1 when there is none), without opening the index."""
    return int(whoosh_index.TOC._latest_generation(storage, INDEX_NAME))


def read_toc_at(storage: Any, generation: int, schema: Any = None) -> Any:
    """One table of contents (``TOC.read`` is public, but only with the index name, which is private)."""
    return whoosh_index.TOC.read(storage, INDEX_NAME, gen=generation, schema=schema)


def toc_file_name(generation: int) -> str:
    """The file name of a TOC generation."""
    return str(whoosh_index.TOC._filename(INDEX_NAME, generation))


def read_toc(ix: Any) -> Any:
    """An open index's newest table of contents."""
    return ix._read_toc()


def segments_of(ix: Any) -> list[Any]:
    """The segments of an open index's newest TOC."""
    return list(ix._segments())


def reader_for_toc(ix: Any, toc: Any) -> Any:
    """A reader over exactly the segments of one TOC (Whoosh only opens the newest one publicly)."""
    return whoosh_index.FileIndex._reader(ix.storage, toc.schema, list(toc.segments), toc.generation)


def postings_fast_path(matcher: Any) -> bool:
    """Whether a postings matcher can be decoded a block at a time (Whoosh 3 codec internals present)."""
    raw = getattr(matcher, "child", matcher)
    return hasattr(raw, "_read_data") and hasattr(raw, "_next_block") and not getattr(raw, "_byteids", True)


def read_postings(matcher: Any, offset: int, ids: array, freqs: array) -> None:
    """Append a matcher's (docnum + offset, frequency) pairs, a block at a time when the codec allows.

    Deleted documents are included (the caller removes them with its live mask).
    """
    raw = getattr(matcher, "child", matcher)
    if postings_fast_path(raw):
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


def column_fast_path(column: Any) -> bool:
    """Whether a column reader is a fixed-width numeric column that can be read in one go."""
    from whoosh.columns import NumericColumn

    return (isinstance(column, NumericColumn.Reader) and not column._reverse and column._typecode in "bBhHiIqQfd"
            and array(column._typecode).itemsize == column._fixedlen)


def column_values(column: Any, count: int) -> Any:
    """All values of a column reader: a fixed-width numeric column as an array read in one go, others as a list."""
    if column_fast_path(column):
        stored = min(column._count, count)
        values = array(column._typecode, column._dbfile.get(column._basepos, stored * column._fixedlen))
        if sys.byteorder == "little" and values.itemsize > 1:
            values.byteswap()  # Whoosh writes columns big-endian ("!")
        values.extend([column._default] * (count - stored))
        return values
    return list(column)


def length_column(leaf: Any, fieldname: str) -> Any:
    """A segment's column of one-byte field lengths (None when the codec keeps none for the field)."""
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

    perdoc = getattr(leaf, "_perdoc", None)
    return perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) if perdoc is not None else None


def field_lengths(leaf: Any, fieldname: str) -> array:
    """Every document's length in a field of one segment, decoded from its length column."""
    count = leaf.doc_count_all()
    column = length_column(leaf, fieldname)
    if column is None:
        return array("I", (leaf.doc_field_length(d, fieldname, 0) or 0 for d in range(count)))
    return array("I", (LENGTH_TABLE[b] for b in column_values(column, count)))
