"""When index syncs merge segments: small ones together often, the big one almost never.

Each sync commits its changes as a new small segment (``commit(merge=False)``), so a sync's cost
follows what changed and every web worker keeps its caches for the old segments (they are keyed by
segment, see ``indexer.postings``). Segments still have to be merged now and then, or every search
pays per segment. Whoosh's own ``MERGE_SMALL`` does not fit that: its Fibonacci rule never fires
for a few dozen segments of a hundred documents beside one of 44,000, so segments piled up.

``tiered_merge`` is a size-tiered policy in the manner of Lucene's: segments are grouped by size
(tiers a factor of ``TIER_FACTOR`` apart); when a tier holds ``MERGE_FACTOR`` segments they are
merged into one of the next tier. A merge therefore rewrites documents of its own size class: the
usual one rewrites a few hundred documents (seconds). The largest segment is never merged: Whoosh
merges at about a quarter of a rebuild's speed (rewriting the 44,000 documents of the sample site
took 454 s where a rebuild takes about 190 s, both at load 6), so once a quarter of it is deleted
(``MAX_DELETED_SHARE``) the sync rebuilds the index instead (``big_segment_stale``). Merges and
rebuilds run in the sync process, under the index writer's lock, never in a web worker.
"""

from __future__ import annotations

import math
from typing import Any

MERGE_FACTOR = 5
"""Segments of one size tier that are merged into one."""
TIER_FACTOR = 10
"""Size tiers are this factor apart (1-9 documents, 10-99, 100-999, ...)."""
MAX_DELETED_SHARE = 0.25
"""A small segment with this share of its documents deleted is rewritten (alone) to drop them; the
largest one makes the sync rebuild the index."""


def tier(doc_count: int) -> int:
    """A segment's size tier: 0 for fewer than ``TIER_FACTOR`` documents, then one more per factor."""
    return 0 if doc_count < TIER_FACTOR else int(math.log(doc_count, TIER_FACTOR) + 1e-9)


def plan_merge(counts: list[tuple[int, int]]) -> list[int]:
    """Which segments to merge, by position, given each segment's (documents, deleted documents).

    The smallest full tier is merged (with every smaller segment, so small ones never linger);
    failing that, a small segment mostly deleted is rewritten alone; otherwise nothing. The largest
    segment is never picked (see the module's doc).
    """
    largest = max(range(len(counts)), key=lambda i: counts[i][0], default=-1)
    by_tier: dict[int, list[int]] = {}
    for i, (docs, _deleted) in enumerate(counts):
        if i != largest:
            by_tier.setdefault(tier(docs), []).append(i)
    for level in sorted(by_tier):
        if len(by_tier[level]) >= MERGE_FACTOR:
            return sorted(i for lv, members in by_tier.items() if lv <= level for i in members)
    for i, (docs, deleted) in enumerate(counts):
        if i != largest and docs and deleted / docs >= MAX_DELETED_SHARE:
            return [i]
    return []


def big_segment_stale(ix: Any) -> bool:
    """Whether a quarter of the largest segment is deleted (re-indexed elsewhere): time to rebuild."""
    from indexer.engine.internals import segments_of

    segments = segments_of(ix)
    if len(segments) < 2:
        return False
    big = max(segments, key=lambda s: s.doc_count_all())
    return big.doc_count_all() > 0 and big.deleted_count() / big.doc_count_all() >= MAX_DELETED_SHARE


def merge_needed(ix: Any) -> bool:
    """Whether the index's segments call for a merge now."""
    from indexer.engine.internals import segments_of

    return bool(plan_merge([(s.doc_count_all(), s.deleted_count()) for s in segments_of(ix)]))


def tiered_merge(writer: Any, segments: list[Any]) -> list[Any]:
    """A Whoosh ``mergetype``: merge what ``plan_merge`` picks into the writer's new segment, keep the rest."""
    from whoosh.reading import SegmentReader

    chosen = set(plan_merge([(s.doc_count_all(), s.deleted_count()) for s in segments]))
    for i in sorted(chosen):
        reader = SegmentReader(writer.storage, writer.schema, segments[i])
        writer.add_reader(reader)
        reader.close()
    return [s for i, s in enumerate(segments) if i not in chosen]
