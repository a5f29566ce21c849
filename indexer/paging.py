"""Which documents fill the requested page, in the requested order (``page_docs``).

Relevance comes from ``indexer.rank``; the other orders (name, rating, pay, date, and the browse
order of a search without words) are each segment's docnums sorted once (kept across index syncs,
since a segment never changes), which a page walks per segment and merges; distance sorts the
matches by their miles from the location.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from typing import Any

from indexer.parse import ParsedQuery, Relevance
from indexer.plan import Plan
from indexer.postings import IndexCache, SegmentView, iter_bits
from indexer.rank import rank
from indexer.snapshot import Snapshot

SORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "rating": ("rating", "review_count", "title_sort"), "pay": ("pay", "title_sort"),
    "name": ("title_sort",), "date": ("date", "title_sort"),
}
"""The columns each sort order reads (highest first except for the name)."""
BROWSE_ORDERS: dict[str, tuple[str, ...]] = {
    "browse": ("career", "institution", "program", "review"),
    "browse_programs": ("program", "institution", "career", "review"),
}
"""Without words, results list kinds in this order (programs first when a program-only filter is on)."""
PROGRAM_FILTERS = frozenset({"accreditor", "accreditation_status", "degree_level", "delivery", "field_of_study"})
"""Filters only programs carry: with one of them on, browsing lists programs first."""


def page_docs(
    snap: Snapshot, ws: Any, plan: Plan, units: list[int], matched: int, sort: str, start: int, per_page: int,
    distances: dict[int, float] | None, parsed: ParsedQuery, ranker: Callable[[int], list[int]] | None,
    relevance: Relevance, programs_first: bool = False,
) -> list[tuple[int, float]]:
    """(docnum, score) of the requested page in the requested order."""
    end = start + per_page
    if sort == "distance" and distances is not None:
        ordered = sorted(iter_bits(matched), key=lambda d: (distances.get(d, math.inf), d))
        return [(d, 0.0) for d in ordered[start:end]]
    if ranker is not None and sort == "relevance":
        return [(d, 0.0) for d in ranker(matched)[start:end]]
    if sort != "relevance" or plan.every:
        name = sort if sort != "relevance" else ("browse_programs" if programs_first else "browse")
        return [(d, 0.0) for d in sorted_page(snap, ws, name, matched, end)[start:]]
    return rank(snap, ws, plan, units, matched, parsed, relevance, start, end)[start:end]


def sorted_page(snap: Snapshot, ws: Any, sort: str, matched: int, end: int) -> list[int]:
    """The first ``end`` matches in a sort order: each segment's own order (kept across syncs), merged."""
    cache = snap.index(ws)
    found: list[tuple[tuple[Any, ...], int]] = []
    for view in cache.segments:
        local = view.local(matched)
        if not local:
            continue
        key = _sort_key(cache, view, sort)
        if local.bit_count() < 512:
            docs = sorted(iter_bits(local), key=key)[:end]  # few matches: sort them directly
        else:
            docs = _walk(_segment_order(cache, view, sort), local, end)
        # a key ends with the docnum (ties); within a segment local and global docnums order alike
        found.extend((key(d)[:-1] + (view.offset + d,), view.offset + d) for d in docs)
    if len(cache.segments) > 1:
        found.sort(key=lambda pair: pair[0])
    return [d for _key, d in found[:end]]


def _sort_key(cache: IndexCache, view: SegmentView, sort: str) -> Callable[[int], tuple[Any, ...]]:
    """A segment's sort key of a local docnum (ending with the docnum)."""
    io = cache._io
    titles = view.data.column(view.leaf, io, "title_sort")
    if sort in ("name", *BROWSE_ORDERS):
        kinds = _segment_kinds(cache, view)
        if sort == "name":
            return lambda d: (titles[d], kinds[d], d)
        kind_rank = {k: i for i, k in enumerate(BROWSE_ORDERS[sort])}
        return lambda d: (kind_rank.get(kinds[d], 9), titles[d], d)
    if sort == "rating":
        rating = view.data.column(view.leaf, io, "rating")
        count = view.data.column(view.leaf, io, "review_count")
        return lambda d: (-rating[d], -count[d], titles[d], d)
    column = view.data.column(view.leaf, io, {"pay": "pay", "date": "date"}[sort])
    return lambda d: (-column[d], titles[d], d)


def _segment_kinds(cache: IndexCache, view: SegmentView) -> list[str]:
    """Each local docnum's kind ("" when it has none), read once per segment."""
    def build() -> list[str]:
        kinds = [""] * view.count
        for kind in view.data.terms(view.leaf, cache._io, "kind"):
            for d in iter_bits(view.data.postings(view.leaf, cache._io, "kind", kind).mask):
                kinds[d] = kind
        return kinds

    return view.data.cached("kinds", build=build)  # type: ignore[no-any-return]


def _segment_order(cache: IndexCache, view: SegmentView, sort: str) -> array:
    """Every local docnum of a segment in a sort order (built once per segment; a page then walks it)."""
    def build() -> array:
        return array("I", sorted(range(view.count), key=_sort_key(cache, view, sort)))

    return view.data.cached("order", sort, build=build)  # type: ignore[no-any-return]


def _walk(order: Any, matched: int, end: int) -> list[int]:
    """The first ``end`` docnums of a precomputed order that are in the mask."""
    if matched.bit_count() < 512:
        # few matches: sort them directly instead of walking the whole order
        position_of = {}
        wanted = set(iter_bits(matched))
        for position, d in enumerate(order):
            if d in wanted:
                position_of[d] = position
                if len(position_of) == len(wanted):
                    break
        return sorted(wanted, key=lambda d: position_of.get(d, math.inf))[:end]
    data = matched.to_bytes((matched.bit_length() + 7) // 8, "little")
    width = len(data)
    out = []
    for d in order:
        i = d >> 3
        if i < width and data[i] >> (d & 7) & 1:
            out.append(d)
            if len(out) >= end:
                break
    return out
