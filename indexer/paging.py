"""Which documents fill the requested page, in the requested order (``page_docs``).

Relevance comes from ``indexer.rank``; the other orders (name, rating, pay, date, and the browse
order of a search without words) are every docnum sorted once per index generation, which a page
then walks; distance sorts the matches by their miles from the location.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from typing import Any

from indexer.parse import ParsedQuery, Relevance
from indexer.plan import Plan
from indexer.postings import iter_bits
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
        return [(d, 0.0) for d in _walk(order(snap, ws, name), matched, end)[start:]]
    return rank(snap, ws, plan, units, matched, parsed, relevance, start, end)[start:end]


def order(snap: Snapshot, ws: Any, sort: str) -> array:
    """Every docnum in a sort order (built once per generation; a page then walks it)."""
    def build() -> array:
        return array("I", ordered())

    def ordered() -> list[int]:
        cache = snap.index(ws)
        titles = cache.column("title_sort")
        kinds = {d: k for k, m in snap.value_sets(ws, "kind").items() for d in iter_bits(m)}
        live = snap.live(ws)
        if sort == "name":
            return sorted(iter_bits(live), key=lambda d: (titles[d], kinds.get(d, ""), d))
        if sort in BROWSE_ORDERS:
            kind_rank = {k: i for i, k in enumerate(BROWSE_ORDERS[sort])}
            return sorted(iter_bits(live), key=lambda d: (kind_rank.get(kinds.get(d, ""), 9), titles[d], d))
        if sort == "rating":
            rating, count = cache.column("rating"), cache.column("review_count")
            return sorted(iter_bits(live), key=lambda d: (-rating[d], -count[d], titles[d], d))
        column = cache.column({"pay": "pay", "date": "date"}[sort])
        return sorted(iter_bits(live), key=lambda d: (-column[d], titles[d], d))

    return snap.cached(("order", sort), build)


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
