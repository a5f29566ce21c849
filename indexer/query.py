"""From what a user typed to Whoosh queries: a forgiving parser plus the relevance features.

``parse_query`` never raises. It understands quoted phrases, ``-word`` / ``NOT word`` exclusions,
``a OR b``, and field filters as users type them (``state:OH``, ``degree:associate``,
``rating:>=4``); unknown fields become words, bad values become messages. ``build_query``
turns the parsed query into Whoosh query objects (no query-string parser, so no syntax errors):

* BM25F over several fields with per-field boosts (names and aliases above body text);
* synonyms and abbreviations from ``data/synonyms.txt`` (expansions score a little lower);
* words such as "programs" or "colleges" are optional and favour one kind;
* a proximity bonus when the words appear close together in a name or in the text;
* matching modes "and" (every word), "or" (any word; more words score higher) and "fuzzy".

``Relevance`` switches each feature off for the relevance benchmark.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from whoosh.analysis.filters import STOP_WORDS

from indexer.schema import SCHEMA
from indexer.scoring import Clause, Plan, UnitPlan
from indexer.synonyms import query_words, stem, synonym_table, words
from model.items import US_STATES

MAX_QUERY_CHARS = 500
MAX_UNITS = 16

MATCH_FIELD = "text"
"""The catch-all field every word must be found in (all of a record's text)."""
FIELD_BOOSTS: dict[str, float] = {"name": 5.0, "aliases": 4.0, "institution": 1.0, "subjects": 2.0, "place": 1.5}
"""Extra weight of a word found in a short field, on top of its score in the catch-all text."""
BONUS_FIELDS: tuple[str, ...] = tuple(FIELD_BOOSTS)
FUZZY_FIELDS: tuple[str, ...] = ("name", "text")
SYNONYM_WEIGHT = 0.8
KIND_HINT_SCORE = 3.0
FUZZY_WEIGHT = 0.7
MAX_FUZZY_WORD = 30


@dataclass(frozen=True)
class Relevance:
    """Which relevance features are on (all by default; the benchmark turns them off one at a time)."""

    field_boosts: bool = True
    phrase_boost: bool = True
    synonyms: bool = True
    matching: str = "and_fallback"
    """"and_fallback" (every word, then any word), "and" (every word only) or "or" (any word)."""
    fuzzy: bool = True
    """Spelling suggestions, and corrected/fuzzy matching when nothing matches."""
    kind_hints: bool = True

    def without(self, feature: str) -> Relevance:
        """A copy with one feature turned off."""
        if feature == "matching":
            return replace(self, matching="or")
        return replace(self, **{feature: False})  # type: ignore[arg-type]


DEFAULT_RELEVANCE = Relevance()
PLAIN_BM25 = Relevance(field_boosts=False, phrase_boost=False, synonyms=False, matching="or", fuzzy=False,
                       kind_hints=False)

# Query-language field names as users type them -> filter names.
FILTER_ALIASES: dict[str, str] = {
    "kind": "kind", "type": "kind", "in": "kind",
    "state": "state", "st": "state",
    "degree": "degree_level", "degree_level": "degree_level", "level": "degree_level", "award": "degree_level",
    "accreditor": "accreditor", "accredited_by": "accreditor", "agency": "accreditor", "accreditedby": "accreditor",
    "status": "accreditation_status", "accreditation": "accreditation_status",
    "accreditation_status": "accreditation_status",
    "delivery": "delivery", "format": "delivery", "online": "online",
    "military": "military_friendly", "military_friendly": "military_friendly",
    "rating": "rating", "stars": "rating",
    "field": "field_of_study", "field_of_study": "field_of_study", "major": "field_of_study",
    "subject": "field_of_study",
    "city": "city",
    "near": "near",
}

_TOKEN_RE = re.compile(
    r"""(?P<filter>(?P<fneg>[-!])?(?P<fname>[A-Za-z_]{2,24}):(?P<fval>"[^"]*"?|[^\s"]+))
      | (?P<phrase>(?P<pneg>-)?"(?P<ptext>[^"]*)"?)
      | (?P<chunk>[^\s"]+)""",
    re.X,
)
_OPERATORS = {"AND": "and", "&&": "and", "+": "and", "OR": "or", "||": "or", "|": "or", "NOT": "not", "!": "not"}


@dataclass(frozen=True)
class Variant:
    """One way to say a slot: a word or a multi-word phrase, with its weight."""

    words: tuple[str, ...]
    weight: float = 1.0


@dataclass
class Slot:
    """One word position the record must match, in any of its variants."""

    variants: list[Variant]

    @property
    def word(self) -> str:
        """The word as typed."""
        return " ".join(self.variants[0].words)


@dataclass
class Alternative:
    """A way the unit can match: every slot (anywhere, or as a phrase), with a weight."""

    slots: list[Slot]
    weight: float = 1.0
    phrase: bool = False


@dataclass
class Unit:
    """One concept of the query: a word, a synonym span, a quoted phrase or an OR group."""

    label: str
    alternatives: list[Alternative]
    soft: bool = False
    """Optional (e.g. "programs"): boosts but need not match."""
    kind_hint: str | None = None
    place_only: bool = False
    typed: list[str] = field(default_factory=list)
    """The words as typed, for spelling suggestions."""


@dataclass
class ParsedQuery:
    """A user's query, understood."""

    text: str
    """The cleaned query text."""
    units: list[Unit] = field(default_factory=list)
    excluded: list[Unit] = field(default_factory=list)
    filters: list[tuple[str, str, bool]] = field(default_factory=list)
    """(filter name, raw value, negated) from the query language."""
    messages: list[str] = field(default_factory=list)
    kind_boosts: list[str] = field(default_factory=list)
    """Kinds favoured by required words such as "BSN" (a program word that must still match)."""

    @property
    def core(self) -> list[Unit]:
        """The units a record must match (soft ones only when nothing else is left)."""
        hard = [u for u in self.units if not u.soft]
        return hard or list(self.units)

    @property
    def soft(self) -> list[Unit]:
        """Optional units (only when there are hard ones)."""
        hard = [u for u in self.units if not u.soft]
        return [u for u in self.units if u.soft] if hard else []

    @property
    def is_empty(self) -> bool:
        """No words to match (browse mode: every record that passes the filters)."""
        return not self.units

    def terms(self) -> set[str]:
        """Stemmed words of the query and its synonyms, for highlighting."""
        found: set[str] = set()
        for unit in self.units:
            for alt in unit.alternatives:
                for slot in alt.slots:
                    for variant in slot.variants:
                        for w in variant.words:
                            low = w.lower()
                            if low not in STOP_WORDS:
                                found.add(stem(low))
                                found.add(low)
        return found


def clean_text(text: Any) -> tuple[str, list[str]]:
    """Normalize what the user typed: NFKC, no control characters, bounded length."""
    messages: list[str] = []
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = unicodedata.normalize("NFKC", text.replace("\x00", " "))
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") else ch for ch in text)
    text = " ".join(text.split())
    if len(text) > MAX_QUERY_CHARS:
        cut = text.rfind(" ", 0, MAX_QUERY_CHARS)
        text = text[: cut if cut > MAX_QUERY_CHARS // 2 else MAX_QUERY_CHARS]
        messages.append(f"Your search was shortened to its first {len(text)} characters.")
    return text, messages


_NEAR_WORDS = re.compile(r"(?i)(?:^|\s)near\s+(?!:)([^\s\"][^\"]*)$")


def _natural_near(text: str, messages: list[str]) -> tuple[str, str | None]:
    """ "nursing near Atlanta" -> ("nursing", "Atlanta"); "near me" is dropped with a hint."""
    m = _NEAR_WORDS.search(text)
    if not m:
        return text, None
    rest = m.group(1).split()
    if rest and rest[0].lower() in ("me", "here", "you"):
        messages.append("To search near you, give a ZIP code or a city, e.g. “nursing near:30303”.")
        return (text[:m.start()] + " " + " ".join(rest[1:])).strip(), None
    from indexer import geo

    for k in range(min(4, len(rest)), 0, -1):
        place = " ".join(rest[:k])
        try:
            geo.resolve(place.rstrip(",."))
        except geo.LocationError:
            continue
        return (text[:m.start()] + " " + " ".join(rest[k:])).strip(), place.rstrip(",.")
    return text, None


def parse_query(text: Any, relevance: Relevance = DEFAULT_RELEVANCE) -> ParsedQuery:
    """Understand a query string; never raises."""
    cleaned, messages = clean_text(text)
    parsed = ParsedQuery(text=cleaned, messages=messages)
    cleaned, place = _natural_near(cleaned, messages)
    if place:
        parsed.filters.append(("near", place, False))
    pending: list[str] = []  # free words waiting to be grouped into units
    negate_next = False
    or_next = False

    def flush() -> None:
        nonlocal or_next
        if pending:
            new = _free_units(pending, relevance, parsed.kind_boosts)
            pending.clear()
            if or_next and new and parsed.units:
                _merge_or(parsed.units, new.pop(0))
            parsed.units.extend(new)
        or_next = False

    for m in _TOKEN_RE.finditer(cleaned):
        if m.group("filter"):
            name = m.group("fname").lower()
            value = m.group("fval").strip('"').strip()
            target = FILTER_ALIASES.get(name)
            if target and value:
                flush()
                parsed.filters.append((target, value, bool(m.group("fneg")) or negate_next))
                negate_next = False
                continue
            if name.isalpha() and not value.startswith("/"):
                parsed.messages.append(
                    f"“{name}:” is not a filter here, so it was searched as words. Filters: "
                    "state:, degree:, accreditor:, status:, online:, military:, rating:, kind:, field:, city:."
                )
            pending.extend(words(m.group("filter")))
            continue
        if m.group("phrase") is not None:
            flush()
            phrase_words = words(m.group("ptext"))
            if phrase_words:
                unit = _phrase_unit(phrase_words)
                if m.group("pneg") or negate_next:
                    parsed.excluded.append(unit)
                elif or_next and parsed.units:
                    _merge_or(parsed.units, unit)
                else:
                    parsed.units.append(unit)
            negate_next = False
            or_next = False
            continue
        chunk = m.group("chunk")
        op = _OPERATORS.get(chunk)
        if op == "and":
            continue
        if op == "or":
            flush()
            or_next = bool(parsed.units)
            continue
        if op == "not":
            flush()
            negate_next = True
            continue
        if (chunk.startswith("-") or negate_next) and len(chunk) > 1:
            flush()
            excluded = words(chunk.lstrip("-"))
            if excluded:
                parsed.excluded.append(_plain_unit(excluded))
            negate_next = False
            continue
        pending.extend(words(chunk))
    flush()
    if len(parsed.units) > MAX_UNITS:
        parsed.units = parsed.units[:MAX_UNITS]
        parsed.messages.append(f"Only the first {MAX_UNITS} words of your search were used.")
    parsed.excluded = parsed.excluded[:MAX_UNITS]
    return parsed


def _merge_or(units: list[Unit], unit: Unit) -> None:
    last = units[-1]
    last.alternatives.extend(unit.alternatives)
    last.label = f"{last.label} OR {unit.label}"
    last.typed.extend(unit.typed)
    last.soft = last.soft and unit.soft


def _phrase_unit(raw: list[str]) -> Unit:
    slots = [Slot([Variant((w.lower(),))]) for w in raw]
    return Unit(label=" ".join(raw), alternatives=[Alternative(slots, 1.0, phrase=len(slots) > 1)],
                typed=[w.lower() for w in raw])


def _plain_unit(raw: list[str]) -> Unit:
    slots = [Slot([Variant((w.lower(),))]) for w in raw if w.lower() not in STOP_WORDS]
    return Unit(label=" ".join(raw), alternatives=[Alternative(slots or [Slot([Variant((raw[0].lower(),))])])],
                typed=[w.lower() for w in raw])


def _word_slot(word: str, relevance: Relevance) -> Slot:
    variants = [Variant((word.lower(),))]
    if relevance.synonyms:
        rule = synonym_table().match([word], 0)
        if rule is not None and len(rule.key) == 1:
            for expansion in rule.expansions:
                variants.append(Variant(tuple(w.lower() for w in words(expansion.replace("-", " "))), SYNONYM_WEIGHT))
    return Slot(variants)


def _free_units(raw: list[str], relevance: Relevance, boosts: list[str]) -> list[Unit]:
    """Group free words into units: kind-hint words, synonym spans, single words (kind boosts go to ``boosts``)."""
    units: list[Unit] = []
    hints = query_words()
    table = synonym_table()
    i = 0
    while i < len(raw):
        word = raw[i]
        # kind-hint / filler words ("programs", "colleges", "best")
        hint_len, hint_kind = 0, None
        for n in range(min(hints.longest, len(raw) - i), 0, -1):
            key = tuple(stem(w) for w in raw[i:i + n])
            if key in hints.kind_of:
                hint_len, hint_kind = n, hints.kind_of[key]
                break
        if hint_len and tuple(stem(w) for w in raw[i:i + hint_len]) in hints.required:
            if relevance.kind_hints and hint_kind:
                boosts.append(hint_kind)  # the words still have to match, below
            hint_len = 0
        if hint_len and relevance.kind_hints:
            span = raw[i:i + hint_len]
            unit = _plain_unit(span)
            unit.soft, unit.kind_hint = True, hint_kind
            units.append(unit)
            i += hint_len
            continue
        rule = table.match(raw, i) if relevance.synonyms else None
        if rule is not None and len(rule.key) > 1:
            span = raw[i:i + len(rule.key)]
            slots = [_word_slot(w, relevance) for w in span if w.lower() not in STOP_WORDS]
            alternatives = [Alternative(slots, 1.0)] if slots else []
            for expansion in rule.expansions:
                ex_words = tuple(w.lower() for w in words(expansion.replace("-", " ")))
                alternatives.append(Alternative([Slot([Variant(ex_words)])], SYNONYM_WEIGHT))
            units.append(Unit(label=" ".join(span), alternatives=alternatives, typed=[w.lower() for w in span]))
            i += len(rule.key)
            continue
        low = word.lower()
        if low in STOP_WORDS:
            if word.isupper() and len(word) == 2 and word in US_STATES and rule is None:
                # "nursing IN" - a capitalised state code that is also a stop word
                unit = _plain_unit([word])
                unit.place_only = True
                units.append(unit)
            elif rule is not None:
                units.append(Unit(label=word, alternatives=[Alternative([_word_slot(word, relevance)])], typed=[low]))
            i += 1
            continue
        units.append(Unit(label=word, alternatives=[Alternative([_word_slot(word, relevance)])], typed=[low]))
        i += 1
    return units


# -- building Whoosh queries -------------------------------------------------------------------


@functools.lru_cache(maxsize=20000)
def _analyze(fieldname: str, text: str) -> tuple[str, ...]:
    fieldobj = SCHEMA[fieldname]
    return tuple(t for t in fieldobj.process_text(text, mode="query") if t)


class QueryBuilder:
    """Turns a parsed query into a ``Plan`` (indexer.scoring) under one relevance setting.

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
        return _dedupe(found)

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

    def proximity_terms(self) -> list[str]:
        """Stems of the typed words, in order, for the proximity re-ranking of the top results."""
        typed = [w for u in self.parsed.core for w in u.typed if w not in STOP_WORDS]
        return [t for w in typed for t in _analyze(MATCH_FIELD, w)]


def _dedupe(clauses: list[Clause]) -> list[Clause]:
    # the same terms reached through two synonyms score once, with the larger weight
    best: dict[tuple[str, tuple[str, ...]], Clause] = {}
    for c in clauses:
        key = (c.field, c.terms)
        if key not in best or c.weight > best[key].weight:
            best[key] = c
    return list(best.values())
