"""Which documents a query matches: a plan's term clauses as docnum masks, and the fallbacks.

``match_query`` tries, in order: every word; the spelling correction (only when the words as
typed found nothing); any word (when every word found too few); similar spellings (when nothing
matched at all). Each try is a ``Plan`` from ``indexer.plan`` matched with C-level AND/OR over
the postings masks of ``indexer.postings``, then narrowed by the filters (``Restriction``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from indexer.plan import Clause, Plan, QueryBuilder, UnitPlan
from indexer.postings import IndexCache
from indexer.spelling import Correction

STRICT_MIN_RESULTS = 3
"""When every-word matching finds fewer results than this, any-word matching fills in below them."""


def clause_mask(cache: IndexCache, clause: Clause) -> int:
    """Documents holding every term of a clause (as a phrase when it is one)."""
    mask = -1
    for term in clause.terms:
        mask &= cache.postings(clause.field, term).mask
        if not mask:
            return 0
    if clause.phrase and len(clause.terms) > 1:
        mask &= cache.phrase_mask(clause.field, clause.terms, clause.slop)
    return mask if mask != -1 else 0


def unit_mask(cache: IndexCache, unit: UnitPlan) -> int:
    """Documents matching any alternative of a unit."""
    found = 0
    for alternative in unit.alternatives:
        mask = -1
        for slot in alternative:
            any_variant = 0
            for clause in slot:
                any_variant |= clause_mask(cache, clause)
            mask &= any_variant
            if not mask:
                break
        if mask and mask != -1:
            found |= mask
    return found


def match_plan(cache: IndexCache, plan: Plan) -> tuple[int, list[int]]:
    """The documents a plan matches, and each required unit's mask (for coordination)."""
    if plan.every:
        matched = cache.live
        units: list[int] = []
    else:
        units = [unit_mask(cache, u) for u in plan.required]
        if not units:
            matched = 0
        elif plan.mode == "and":
            matched = cache.live
            for m in sorted(units, key=int.bit_count):
                matched &= m
                if not matched:
                    break
        else:
            matched = 0
            for m in units:
                matched |= m
            matched &= cache.live
    for unit in plan.excluded:
        matched &= ~unit_mask(cache, unit)
    return matched, units


@dataclass
class Matches:
    """What a query matched, and with which plan (the ranking scores the same plan)."""

    plan: Plan
    units: list[int]
    """Each required unit's mask (a record with more of the words ranks higher in "or" mode)."""
    text_ids: int
    """What the words match, before the filters (facet counts leave their own filter out)."""
    matched: int
    """What the words match within the filters and the radius: the results."""
    messages: list[str] = field(default_factory=list)
    """Why these results when they are not what was typed (a correction, some words, similar spellings)."""
    corrected: bool = False
    """The spelling correction was searched instead of the words as typed."""


def match_query(cache: IndexCache, builder: QueryBuilder, correction: Correction | None,
                restrict: Callable[[int], int]) -> Matches:
    """Every word first; then the corrected spelling; then any word; then similar spellings."""
    parsed, relevance = builder.parsed, builder.relevance
    if parsed.is_empty:
        return Matches(builder.build("and"), [], cache.live, restrict(cache.live))

    def attempt(b: QueryBuilder, mode: str) -> Matches:
        plan = b.build(mode)
        text_ids, units = match_plan(cache, plan)
        return Matches(plan, units, text_ids, restrict(text_ids))

    strict_mode = "or" if relevance.matching == "or" else "and"
    best = attempt(builder, strict_mode)
    found = best.matched.bit_count()
    if found >= STRICT_MIN_RESULTS or relevance.matching == "and" and correction is None:
        return best
    messages: list[str] = []
    corrected = False

    def chosen(m: Matches) -> Matches:
        m.messages, m.corrected = messages, corrected
        return m

    if correction is not None and not found:
        # a misspelling is only trusted over what the user typed when the typed words found nothing
        c_builder = builder.for_query(correction.parsed)
        c_best = attempt(c_builder, strict_mode)
        if c_best.matched:
            messages.append(f"No results for “{parsed.text}”. Showing results for “{correction.text}”.")
            parsed, builder, best, corrected = correction.parsed, c_builder, c_best, True
            found = best.matched.bit_count()
            if found >= STRICT_MIN_RESULTS:
                return chosen(best)
    if relevance.matching == "and_fallback" and len(parsed.core) > 1:
        any_word = attempt(builder, "or")
        if any_word.matched.bit_count() > found:
            if not found:
                messages.append("No results contain all of your words; showing results that match some.")
            # records with every word keep the coordination bonus of matching all units
            return chosen(any_word)
    if not found and relevance.fuzzy:
        similar = attempt(builder, "fuzzy")
        if similar.matched:
            messages.append(f"No exact matches for “{parsed.text}”; showing results with similar spellings.")
            return chosen(similar)
    return chosen(best)
