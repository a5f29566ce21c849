"""Relevance order: BM25 over a plan's scoring clauses, then the top results re-ranked.

``top`` sums each candidate's BM25 scores term at a time over the decoded postings (plus the kind
hints, and coordination in "or" mode). ``rank`` then re-ranks the first ``RERANK_DEPTH``: a record
whose title (or excerpt) holds the typed words close together moves up, and so does one whose name
or alias holds the query *as a name* (``name_match``): the whole name ("UCLA", "University of
Georgia"), the brand of a flagship ("Purdue" = "Purdue University-Main Campus"; "Penn State", the brand its
campuses' names share, is one of its aliases: ``indexer.brands``), the start of a name
("University of Texas" -> "The University of Texas at Austin") or a run of its words, in that order
of strength, far above names that merely share the words. A career whose title or "also called"
name is the query (or nearly: "surgical technologist" in "Certified Surgical Technologist") is the
hub the student means, so it goes first. A program whose school's full name and field together are
the query ("University of Georgia nursing") moves up as an exact name does.
"""

from __future__ import annotations

import functools
import heapq
import math
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from indexer.brands import CAMPUS_SUFFIX
from indexer.match import clause_mask
from indexer.parse import ParsedQuery, Relevance
from indexer.plan import Clause, Plan, dedupe, proximity_terms
from indexer.postings import IndexCache, iter_bits
from indexer.snapshot import Snapshot
from indexer.stems import stem_positions, stems
from indexer.vocab import as_list

RERANK_DEPTH = 50
"""How many top results the proximity and exact-name bonuses re-rank."""
PROXIMITY_BONUS = 0.5
"""Score multiplier for the typed words adjacent in the title (0.6 of that in the excerpt)."""
EXACT_NAME_BONUS = 2.0
"""Score multiplier when the query is exactly a record's name or alias ("UCLA", "University of Georgia")."""
PREFIX_NAME_BONUS = 1.0
"""Score multiplier when a name starts with the query ("University of Michigan" -> "...-Ann Arbor")."""
FIELD_BONUS = 0.3
"""Score multiplier for a program whose field of study is the query's words ("nursing", not "practical nursing")."""
GENERIC_NAME_STEMS: frozenset[str] = frozenset(stems("university college"))
"""Words a brand leaves out ("Purdue" for "Purdue University"): the flagship rule as data, not a list of schools."""

KEEP_MAX = 20
"""How many careers below the re-ranking depth are re-ranked too (a bound on the work per query)."""

Positions = dict[str, tuple[int, ...]]
"""Stem -> its positions in a text."""


def rank(snap: Snapshot, ws: Any, plan: Plan, units: list[int], matched: int, parsed: ParsedQuery,
         relevance: Relevance, start: int, end: int) -> list[tuple[int, float]]:
    """(docnum, score) of the best ``end`` matches or more, best first (re-ranked when the page is near the top)."""
    cache = snap.index(ws)
    kinds = snap.value_sets(ws, "kind")
    stems = proximity_terms(parsed)
    proximity = relevance.phrase_boost and len(set(stems)) >= 2
    query_key = name_key(" ".join(w for u in parsed.units for w in u.typed)) if relevance.field_boosts else None
    rerank = (proximity or bool(query_key)) and start < RERANK_DEPTH
    depth = max(end, RERANK_DEPTH) if rerank else end
    careers, institutions = kinds.get("career", 0), kinds.get("institution", 0)
    # careers are few, and the one the query names must be re-ranked even when many programs outscore it
    best = top(cache, plan, matched, units, depth, lambda k: kinds.get(k, 0),
               keep=careers if rerank and query_key else 0)
    if not rerank:
        return best
    brand = _brand(query_key)
    # "University of Texas" reads as a school's name, so the start of a school's name counts; "vet tech"
    # does not, so "Vet Tech Institute" does not outrank the career the student means
    school_words = bool(query_key and GENERIC_NAME_STEMS & set(query_key))
    core_key = name_key(" ".join(w for u in parsed.core for w in u.typed)) if query_key else None
    rescored = []
    hubs = []
    for d, s in best:
        title, excerpt, names, field, schools = doc_positions(snap, ws, d)
        if proximity:
            s *= 1.0 + PROXIMITY_BONUS * max(closeness(title, stems), 0.6 * closeness(excerpt, stems))
        if query_key:
            is_school, is_career = institutions >> d & 1, careers >> d & 1
            how = name_match(query_key, names, brand if is_school else None)
            if how in ("exact", "brand") or how == "prefix" and is_school and school_words:
                s *= 1.0 + NAME_BONUS[how]
            if field and field == core_key:
                s *= 1.0 + FIELD_BONUS  # "physical therapy" is a Physical Therapy program, not the assistant's
            elif field and schools and school_and_field(query_key, schools, field):
                s *= 1.0 + EXACT_NAME_BONUS  # "University of Georgia nursing": that school's Nursing program
            if is_career and (how == "exact" or how is not None and len(query_key) >= 2):
                hubs.append((how == "exact", d))
        rescored.append((d, s))
    if hubs:
        # the career the query names leads (its exact title or alias when one is; "registered nurse" is
        # not also "Hospice Registered Nurse"), and its programs follow in their own order
        exact = any(e for e, _d in hubs)
        leading = {d for e, d in hubs if e or not exact}
        lead = max(s for _d, s in rescored)
        rescored = [(d, s + lead if d in leading else s) for d, s in rescored]
    return sorted(rescored, key=lambda pair: (-pair[1], pair[0]))


def school_and_field(query_key: tuple[str, ...], schools: Sequence[str], field: tuple[str, ...]) -> bool:
    """True when the query is a program's school name (``schools[0]``) or one of the school's distinctive aliases
    (the rest) and its field, in either order ("University of Georgia nursing", "nursing University of Georgia",
    "Penn State nursing"): the student names the school and what to study there."""
    n = len(query_key) - len(field)
    if n <= 0 or not (query_key[n:] == field or query_key[:len(field)] == field):
        return False  # (checked first: the school's names are stemmed only for the few programs that get here)
    for i, school in enumerate(schools):
        key = _school_key(school)
        if len(key) == n and (query_key[:n] == key and query_key[n:] == field
                              or query_key[-n:] == key and query_key[:-n] == field):
            if i == 0 or distinctive_alias(school):
                return True
    return False


def distinctive_alias(alias: object) -> bool:
    """Whether a school's alias can stand for it beside a field: two words or more ("Penn State"), or an acronym
    written in capitals ("UGA"). One plain word is not: IPEDS lists "Tech" for Louisiana Tech, and "pharmacy tech"
    means the career, not that school's Pharmacy program."""
    if not isinstance(alias, str):
        return False
    return len(name_key(alias) or ()) >= 2 or (alias.isupper() and len(alias.strip()) >= 2)


@functools.lru_cache(maxsize=4096)
def _school_key(name: str) -> tuple[str, ...]:
    """A school's name as stems, its "-Main Campus" suffix dropped."""
    return name_key(CAMPUS_SUFFIX.sub("", name)) or ()


NAME_BONUS: dict[str, float] = {
    "exact": EXACT_NAME_BONUS, "brand": EXACT_NAME_BONUS, "prefix": PREFIX_NAME_BONUS,
}


def _brand(query_key: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The query without generic name words ("Purdue University" -> ("purdu",)), or None when nothing is left."""
    if not query_key:
        return None
    return tuple(t for t in query_key if t not in GENERIC_NAME_STEMS) or None


def name_match(query_key: tuple[str, ...], names: Sequence[tuple[str, ...]],
               brand: tuple[str, ...] | None = None) -> str | None:
    """How the query matches one of a record's name keys: "exact", "brand", "prefix", "run" or None.

    ``names`` come from ``doc_positions``: the first is the title, the second the title without a
    "-Main Campus" suffix (the flagship's brand), then aliases. Stop words are gone from both sides,
    so "The University of Texas at Austin" starts with "University of Texas".
    """
    if query_key in names:
        return "exact"
    if brand == query_key and len(names) > 1 and tuple(t for t in names[1] if t not in GENERIC_NAME_STEMS) == brand:
        return "brand"
    n = len(query_key)
    found = None
    for key in names:
        if len(key) <= n:
            continue
        if key[:n] == query_key:
            return "prefix"
        if n >= 2 and found is None and any(key[i:i + n] == query_key for i in range(1, len(key) - n + 1)):
            found = "run"
    return found


# -- BM25 -------------------------------------------------------------------------------------------


def top(cache: IndexCache, plan: Plan, candidates: int, units: list[int], limit: int,
        kind_masks: Callable[[str], int], keep: int = 0) -> list[tuple[int, float]]:
    """The ``limit`` best candidates by summed BM25 (plus kind boosts; coordination in "or" mode), and
    the best ``KEEP_MAX`` of the candidates in ``keep`` below them (for the re-ranking)."""
    if not candidates:
        return []
    scores: dict[int, float] = {}
    get = scores.get
    for clause in _scoring_clauses(plan.scoring):
        # a several-word clause ("nurse aide") scores only where all its words are in that field
        allowed_mask = candidates if len(clause.terms) == 1 else candidates & clause_mask(
            cache, Clause(clause.field, clause.terms))
        if not allowed_mask:
            continue
        allowed = allowed_mask.to_bytes((allowed_mask.bit_length() + 7) // 8, "little")
        width = len(allowed)
        n_allowed = allowed_mask.bit_count()
        allowed_list: list[int] | None = None
        for term in clause.terms:
            postings = cache.postings(clause.field, term)
            ids = postings.ids
            base, idf = cache.base_scores(clause.field, postings)
            w = clause.weight * idf  # a posting scores weight x idf x its length-normalised frequency
            if n_allowed * 16 < len(ids):
                # few candidates, long postings: look each candidate up instead of walking the list
                if allowed_list is None:
                    allowed_list = list(iter_bits(allowed_mask))
                size = len(ids)
                for d in allowed_list:
                    i = bisect_left(ids, d)
                    if i < size and ids[i] == d:
                        scores[d] = get(d, 0.0) + w * base[i]
            elif not postings.mask & ~allowed_mask and len(ids) == postings.mask.bit_count():
                for d, b in zip(ids, base, strict=True):  # every posting is a candidate
                    scores[d] = get(d, 0.0) + w * b
            else:
                for d, b in zip(ids, base, strict=True):
                    i = d >> 3
                    if i < width and allowed[i] >> (d & 7) & 1:
                        scores[d] = get(d, 0.0) + w * b
    for kind, boost in plan.kind_boosts:
        for d in iter_bits(kind_masks(kind) & candidates):
            scores[d] = get(d, 0.0) + boost
    if plan.mode == "or" and len(units) > 1:
        # coordination: a record with more of the words ranks above one with fewer
        pool = heapq.nlargest(max(limit * 4, 200), scores.items(), key=lambda kv: kv[1])
        n = len(units)
        rescored = []
        for d, s in pool:
            hits = sum(1 for m in units if m >> d & 1)
            rescored.append((d, s * (hits / n) ** 0.5))
        best = heapq.nlargest(limit, rescored, key=lambda kv: kv[1])
    else:
        best = heapq.nlargest(limit, scores.items(), key=lambda kv: kv[1])
    kept = keep & candidates
    if kept:
        seen_docs = {d for d, _s in best}
        extra = [(d, scores.get(d, 0.0)) for d in iter_bits(kept) if d not in seen_docs]
        best.extend(heapq.nlargest(KEEP_MAX, extra, key=lambda kv: kv[1]))
    if len(best) < limit and len(scores) < candidates.bit_count():
        seen = {d for d, _s in best}
        for d in iter_bits(candidates):
            if d not in scores and d not in seen:
                best.append((d, 0.0))
                if len(best) >= limit:
                    break
    return best


def _scoring_clauses(clauses: list[Clause]) -> list[Clause]:
    """Clauses worth scoring: one per field and terms (largest weight); a several-word clause is dropped
    when each of its words already scores alone in that field at least as high (it would add nothing
    but cost: "military" + "friendly" cover the synonym "military friendly")."""
    best = dedupe(clauses)
    singles = {(c.field, c.terms[0]): c.weight for c in best if len(c.terms) == 1}
    return [c for c in best
            if len(c.terms) == 1 or not all(singles.get((c.field, t), 0.0) >= c.weight for t in c.terms)]


# -- re-ranking -------------------------------------------------------------------------------------


DocKeys = tuple[Positions, Positions, tuple[tuple[str, ...], ...], tuple[str, ...], tuple[str, ...]]
"""Stem positions of a title and an excerpt, the name keys, a program's field-of-study key and its school's name
and aliases (stemmed only when the query could be that school and field: ``school_and_field``)."""


def doc_positions(snap: Snapshot, ws: Any, docnum: int) -> DocKeys:
    """Stem positions in a document's title and excerpt, its name keys (title, aliases) and field key, kept per segment."""
    segment, local = snap.segment_of(ws, docnum)

    def build() -> DocKeys:
        stored = ws.stored_fields(docnum)
        title = stored.get("title") or ""
        data = stored.get("data") or {}
        # "Ohio State University-Main Campus" is named "Ohio State University"; a program titled
        # "Nursing (Some College)" is named "Nursing"
        names = [title, CAMPUS_SUFFIX.sub("", title), title.split(" (")[0],
                 *as_list(data.get("aliases")), *as_list(data.get("also_known_as")), *as_list(data.get("system_brand"))]
        # tuples all the way down: the garbage collector does not track them; the first two keys stay
        # in place (title, brand) even when equal, because ``name_match`` reads the brand from the second
        found = [name_key(n) for n in names]
        keys = (found[0] or (), found[1] or (), *dict.fromkeys(k for k in found[2:] if k))
        field = data.get("field_of_study")
        field_key = (name_key(field) or ()) if isinstance(field, str) else ()
        # the school's name ("" when unknown) first, then its aliases: ``school_and_field`` tells them apart,
        # and judges an alias only for a program whose field fits the query
        name = data.get("institution_name")
        schools = ((name if isinstance(name, str) else ""), *(a for a in as_list(data.get("institution_aliases")) if a)
                   ) if field_key else ()
        return (_stem_positions(title), _stem_positions(stored.get("excerpt") or ""), keys, field_key, schools)

    # a segment never changes, so a document's positions survive every sync that keeps its segment
    return segment.data.cached("positions", local, build=build, size=_positions_size)  # type: ignore[no-any-return]


def _positions_size(value: DocKeys) -> int:
    """Roughly the bytes of a document's positions (a stem entry costs ~200: key, tuple, dict slot), without walking them."""
    title, excerpt, keys, _field, _schools = value
    return 400 + 200 * (len(title) + len(excerpt)) + 120 * len(keys)


def name_key(text: str) -> tuple[str, ...] | None:
    """A name as stems without stop words ("Dental Hygienists" = "dental hygienist")."""
    return stems(text or "") or None


def _stem_positions(text: str) -> Positions:
    found: dict[str, list[int]] = {}
    for stem, pos in stem_positions(text):
        found.setdefault(stem, []).append(pos)
    return {k: tuple(v) for k, v in found.items()}


def window_closeness(text: str, stems: list[str]) -> float:
    """How close together the stems stand in a text (see ``closeness``)."""
    return closeness(_stem_positions(text), stems)


def closeness(positions: Mapping[str, Sequence[int]], stems: list[str]) -> float:
    """1.0 when all the stems appear adjacent, less as the smallest window holding them widens or misses some."""
    wanted = set(stems)
    present = [positions[s] for s in wanted if s in positions]
    if len(present) < 2:
        return 0.0
    events = sorted((pos, i) for i, plist in enumerate(present) for pos in plist)
    counts = [0] * len(present)
    covered, left, best = 0, 0, math.inf
    for right_pos, i in events:
        counts[i] += 1
        if counts[i] == 1:
            covered += 1
        while covered == len(present):
            left_pos, j = events[left]
            best = min(best, right_pos - left_pos + 1)
            counts[j] -= 1
            if counts[j] == 0:
                covered -= 1
            left += 1
    coverage = len(present) / len(wanted)
    return coverage * (len(present) / best) if best != math.inf else 0.0
