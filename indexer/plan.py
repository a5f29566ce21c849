"""From a parsed query to a ``Plan``: which term clauses must match, and which add to the score.

No query-string parser, so no syntax errors; the relevance features live here:

* BM25F over several fields with per-field boosts (names and aliases above body text);
* synonyms and abbreviations (found by the parser) score a little lower than the words typed;
* words such as "programs" or "colleges" are optional and favour one kind;
* matching modes "and" (every word), "or" (any word; more words score higher) and "fuzzy".

The stems of the typed words for the proximity re-ranking (``proximity_terms``) come from here too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh.analysis.filters import STOP_WORDS

from indexer.parse import DEFAULT_RELEVANCE, ParsedQuery, Relevance, Unit
from indexer.schema import SCHEMA

MATCH_FIELD = "text"
"""The catch-all field every word must be found in (all of a record's text)."""
FIELD_BOOSTS: dict[str, float] = {"name": 5.0, "aliases": 4.0, "institution": 1.0, "subjects": 2.0, "place": 1.5}
"""Extra weight of a word found in a short field, on top of its score in the catch-all text."""
BONUS_FIELDS: tuple[str, ...] = tuple(FIELD_BOOSTS)
KIND_HINT_SCORE = 3.0
FUZZY_WEIGHT = 0.7
MAX_FUZZY_WORD = 30


# -- the plan a query becomes ------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """Terms of one field: all must be present (adjacent within ``slop`` when ``phrase``); weighted for scoring."""

    field: str
    terms: tuple[str, ...]
    weight: float = 1.0
    phrase: bool = False
    slop: int = 1


AnyClause = list[Clause]
"""Any of these clauses (a word and its synonyms)."""
EveryClause = list[AnyClause]
"""Every slot (the words of a unit, or one synonym expansion), each as any of its clauses."""


@dataclass
class UnitPlan:
    """A unit matches when any of its alternatives does."""

    label: str
    alternatives: list[EveryClause] = field(default_factory=list)


@dataclass
class Plan:
    """What a query means for matching and scoring."""

    every: bool = False
    """No words: every live document (browse mode)."""
    mode: str = "and"
    """"and": every required unit must match; "or": any of them (more matches score higher)."""
    required: list[UnitPlan] = field(default_factory=list)
    excluded: list[UnitPlan] = field(default_factory=list)
    scoring: list[Clause] = field(default_factory=list)
    """Clauses whose BM25 scores add up to a document's score (words, synonyms, boosted fields)."""
    kind_boosts: list[tuple[str, float]] = field(default_factory=list)


# -- building a plan -------------------------------------------------------------------------


@functools.lru_cache(maxsize=20000)
def _analyze(fieldname: str, text: str) -> tuple[str, ...]:
    fieldobj = SCHEMA[fieldname]
    return tuple(t for t in fieldobj.process_text(text, mode="query") if t)


class QueryBuilder:
    """Turns a parsed query into a ``Plan`` under one relevance setting.

    Every word must be found in the catch-all ``text`` field (all of a record's text); its score
    there is BM25. The field boosts come from scoring the same words again in the short fields
    (name, aliases, institution, subjects, place), so a record whose name holds the words ranks
    well above one that only mentions them. Synonym expansions count a little less than the words
    typed; kind-hint words ("programs") are optional and lift one kind.
    """

    def __init__(self, parsed: ParsedQuery, relevance: Relevance = DEFAULT_RELEVANCE,
                 exists: Callable[[str, str], bool] | None = None,
                 expand: Callable[[str, str, int], list[str]] | None = None) -> None:
        self.parsed = parsed
        self.relevance = relevance
        self.exists = exists or (lambda _f, _t: True)
        self.expand = expand

    def for_query(self, parsed: ParsedQuery) -> QueryBuilder:
        """The same builder for another query (the spelling correction of this one)."""
        return QueryBuilder(parsed, self.relevance, self.exists, self.expand)

    def boost(self, fieldname: str) -> float:
        """The field's boost (1 when boosts are off)."""
        return FIELD_BOOSTS.get(fieldname, 1.0) if self.relevance.field_boosts else 1.0

    def clause(self, words: tuple[str, ...], fieldname: str, weight: float, exact: bool = False) -> Clause | None:
        """One variant (a word, or several words) in one field; None when the field cannot hold it.

        Several words (a synonym such as "health information", or "x-ray", which is two tokens) need
        only all be present: in the short fields that is as good as adjacent, and reading positions
        in the long text is slow. A quoted phrase (``exact``) must stand together in the text.
        """
        text = " ".join(words)
        terms = _analyze(fieldname, text)
        if not terms or not all(self.exists(fieldname, t) for t in terms):
            return None
        phrase = len(terms) > 1 and exact and fieldname == MATCH_FIELD
        dropped = max(0, len(text.split()) - len(terms))
        if weight < 1.0 and len(terms) > 1:
            # a several-word synonym is one concept: it should not outscore the word typed by its length
            weight /= len(terms) ** 0.5
        return Clause(fieldname, tuple(terms), weight, phrase=phrase, slop=1 + dropped)

    def _alternatives(self, unit: Unit, fieldname: str, boost: float) -> list[list[list[Clause]]]:
        out: list[list[list[Clause]]] = []
        for alt in unit.alternatives:
            if alt.phrase:
                c = self.clause(tuple(s.word for s in alt.slots), fieldname, boost * alt.weight, exact=True)
                if c is not None:
                    out.append([[c]])
                continue
            slots: list[list[Clause]] = []
            for slot in alt.slots:
                variants = [c for c in (self.clause(v.words, fieldname, boost * alt.weight * v.weight)
                                        for v in slot.variants) if c is not None]
                if not variants:
                    slots = []
                    break  # a word this field does not hold: this alternative cannot match here
                slots.append(variants)
            if slots:
                out.append(slots)
        return out

    def unit_plan(self, unit: Unit) -> UnitPlan:
        """Where a unit must be found (the catch-all text, or the place for a capitalised state code)."""
        fieldname = "place" if unit.place_only else MATCH_FIELD
        return UnitPlan(unit.label, self._alternatives(unit, fieldname, 1.0))

    def fuzzy_plan(self, unit: Unit) -> UnitPlan:
        """A unit whose every word may be misspelled by one or two letters (known terms close to it)."""
        slots: list[list[Clause]] = []
        for word in unit.typed:
            if word in STOP_WORDS or len(word) > MAX_FUZZY_WORD:
                continue
            stems = _analyze(MATCH_FIELD, word)
            if len(stems) != 1 or len(stems[0]) < 3 or self.expand is None:
                continue
            near = self.expand(MATCH_FIELD, stems[0], 1 if len(word) < 6 else 2)
            if near:
                slots.append([Clause(MATCH_FIELD, (t,), FUZZY_WEIGHT) for t in near])
        return UnitPlan(unit.label, [slots] if slots else [])

    def scoring(self, unit: Unit, plan: UnitPlan) -> list[Clause]:
        """Clauses a unit adds to the score: its words in the text, then in the boosted short fields."""
        found = [c for alt in plan.alternatives for slot in alt for c in slot]
        if self.relevance.field_boosts and not unit.place_only:
            for fieldname in BONUS_FIELDS:
                for alt in self._alternatives(unit, fieldname, self.boost(fieldname)):
                    found.extend(c for slot in alt for c in slot)
        return dedupe(found)

    def build(self, mode: str) -> Plan:
        """The whole query in a matching mode: "and", "or" or "fuzzy"."""
        parsed = self.parsed
        plan = Plan(mode="or" if mode == "or" else "and")
        if parsed.is_empty:
            plan.every = True
            return plan
        for unit in parsed.core:
            up = self.fuzzy_plan(unit) if mode == "fuzzy" else self.unit_plan(unit)
            plan.required.append(up)
            plan.scoring.extend(self.scoring(unit, up) if mode != "fuzzy" else
                                [c for alt in up.alternatives for slot in alt for c in slot])
        if mode == "and" and any(not u.alternatives for u in plan.required):
            plan.required = [UnitPlan("nothing")]  # a word the index does not hold: nothing has every word
        for unit in parsed.soft:
            plan.scoring.extend(self.scoring(unit, self.unit_plan(unit)))
            if unit.kind_hint and self.relevance.kind_hints:
                plan.kind_boosts.append((unit.kind_hint, KIND_HINT_SCORE))
        for kind in dict.fromkeys(parsed.kind_boosts):
            plan.kind_boosts.append((kind, KIND_HINT_SCORE))
        plan.excluded = [self.unit_plan(u) for u in parsed.excluded]
        return plan


def proximity_terms(parsed: ParsedQuery) -> list[str]:
    """Stems of the typed words, in order, for the proximity re-ranking of the top results."""
    typed = [w for u in parsed.core for w in u.typed if w not in STOP_WORDS]
    return [t for w in typed for t in _analyze(MATCH_FIELD, w)]


def dedupe(clauses: list[Clause]) -> list[Clause]:
    """One clause per field and terms, with the largest weight (the same terms reached through two synonyms)."""
    best: dict[tuple[str, tuple[str, ...]], Clause] = {}
    for c in clauses:
        key = (c.field, c.terms)
        if key not in best or c.weight > best[key].weight:
            best[key] = c
    return list(best.values())
