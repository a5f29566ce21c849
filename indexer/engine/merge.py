"""When index syncs merge segments: small ones together often, the big one almost never.

Each sync commits its changes as a new small segment (``commit(merge=False)``), so a sync's cost
follows what changed and every web worker keeps its caches for the old segments (they are keyed by
segment, see ``indexer.postings``). Segments still have to be merged now and then, or every search
pays per segment. Whoosh's own ``MERGE_SMALL`` does not fit that: its Fibonacci rule never fires
for a few dozen segments of a hundred documents beside one of 44,000, so segments piled up.

``tiered_merge`` is a size-tiered policy in the manner of Lucene's: segments are grouped by size
(tiers a factor of ``TIER_FACTOR`` apart); when a tier holds ``MERGE_FACTOR`` segments they are
merged into one of the next tier. A merge therefore rewrites documents of its own size class: the
usual one rewrites a few hundred documents (well under a second); the big segment is rewritten only
when a quarter of it is deleted (``MAX_DELETED_SHARE``), which costs about the write phase of a
rebuild. Merges run in the sync process, under the index writer's lock, never in a web worker.
"""

from __future__ import annotations

import math
from typing import Any

MERGE_FACTOR = 8
"""Segments of one size tier that are merged into one."""
TIER_FACTOR = 10
"""Size tiers are this factor apart (1-9 documents, 10-99, 100-999, ...)."""
MAX_DELETED_SHARE = 0.25
"""A segment with this share of its documents deleted is rewritten (alone) to drop them."""


def tier(doc_count: int) -> int:
    """A segment's size tier: 0 for fewer than ``TIER_FACTOR`` documents, then one more per factor."""
    return 0 if doc_count < TIER_FACTOR else int(math.log(doc_count, TIER_FACTOR) + 1e-9)


def plan_merge(counts: list[tuple[int, int]]) -> list[int]:
    """Which segments to merge, by position, given each segment's (documents, deleted documents).

    The smallest full tier is merged (with every smaller segment, so small ones never linger);
    failing that, a segment mostly deleted is rewritten alone; otherwise nothing.
    """
    by_tier: dict[int, list[int]] = {}
    for i, (docs, _deleted) in enumerate(counts):
        by_tier.setdefault(tier(docs), []).append(i)
    for level in sorted(by_tier):
        if len(by_tier[level]) >= MERGE_FACTOR:
            return sorted(i for lv, members in by_tier.items() if lv <= level for i in members)
    for i, (docs, deleted) in enumerate(counts):
        if docs and deleted / docs >= MAX_DELETED_SHARE:
            return [i]
    return []


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
