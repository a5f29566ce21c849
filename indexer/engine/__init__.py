"""The search engine behind the indexer's own interface: Whoosh, and nothing else knows it is Whoosh.

``store`` holds the index folders (generations, the CURRENT pointer, the writer lock, health checks);
``internals`` holds every private part of Whoosh the search relies on, each checked by a test.
"""

from indexer.engine.internals import (
    WHOOSH_TESTED,
    column_values,
    field_lengths,
    read_postings,
    read_toc,
    segments_of,
)
from indexer.engine.merge import big_segment_stale, merge_needed, plan_merge, tiered_merge
from indexer.engine.store import (
    GEN_PREFIX,
    KEEP_GENERATIONS,
    LOCK,
    META,
    OWNER,
    POINTER,
    POSTING_BLOCK,
    Generation,
    IndexDamaged,
    IndexError_,
    IndexMissing,
    IndexStore,
    adopt_segments,
    check,
    deep_check,
    open_writer,
    pinned_searcher,
    read_meta,
    utcnow,
    write_meta,
    writer_lock_holder,
)

__all__ = [
    "GEN_PREFIX", "KEEP_GENERATIONS", "LOCK", "META", "OWNER", "POINTER", "POSTING_BLOCK", "WHOOSH_TESTED",
    "Generation", "IndexDamaged", "IndexError_", "IndexMissing", "IndexStore", "adopt_segments", "check", "column_values",
    "deep_check", "field_lengths", "open_writer", "pinned_searcher", "read_meta", "read_postings", "read_toc",
    "big_segment_stale", "merge_needed", "plan_merge", "segments_of", "tiered_merge", "utcnow", "write_meta", "writer_lock_holder",
]
