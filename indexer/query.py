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

from whoosh import query as wq
from whoosh.analysis.filters import STOP_WORDS

from crawler.items import US_STATES
from indexer.schema import SCHEMA
from indexer.synonyms import query_words, stem, synonym_table, words

MAX_QUERY_CHARS = 500
MAX_UNITS = 16

FIELD_BOOSTS: dict[str, float] = {
    "name": 5.0, "aliases": 4.0, "institution": 2.5, "subjects": 2.0, "place": 1.5, "body": 1.0,
}
PHRASE_FIELDS: dict[str, float] = {"name": 3.0, "aliases": 2.0, "institution": 1.5, "body": 1.0}
FUZZY_FIELDS: tuple[str, ...] = ("name", "aliases", "institution", "subjects", "body")
SYNONYM_WEIGHT = 0.8
KIND_HINT_SCORE = 6.0
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

class FastOr(wq.Or):
    """An Or that always merges its parts with the binary union matcher.

    Whoosh's automatic choice pre-reads scores into 2,048-slot arrays for small indexes, and that
    set-up dominates our queries, which are many small ORs (one per word and field).
    """

    matcher_type = wq.Or.DEFAULT_MATCHER


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


def parse_query(text: Any, relevance: Relevance = DEFAULT_RELEVANCE) -> ParsedQuery:
    """Understand a query string; never raises."""
    cleaned, messages = clean_text(text)
    parsed = ParsedQuery(text=cleaned, messages=messages)
    pending: list[str] = []  # free words waiting to be grouped into units
    negate_next = False
    or_next = False

    def flush() -> None:
        nonlocal or_next
        if pending:
            new = _free_units(pending, relevance)
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


def _free_units(raw: list[str], relevance: Relevance) -> list[Unit]:
    """Group free words into units: kind-hint words, synonym spans, single words."""
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
    """Builds Whoosh queries for one parsed query under one relevance setting."""

    def __init__(self, parsed: ParsedQuery, relevance: Relevance = DEFAULT_RELEVANCE,
                 exists: Callable[[str, str], bool] | None = None) -> None:
        self.parsed = parsed
        self.relevance = relevance
        # Terms the index does not hold are dropped up front: a query of hundreds of absent
        # word-field pairs costs Whoosh far more than the few that can match.
        self.exists = exists or (lambda _f, _t: True)

    def _terms(self, fieldname: str, text: str) -> list[str] | None:
        terms = _analyze(fieldname, text)
        if not terms or not all(self.exists(fieldname, t) for t in terms):
            return None
        return list(terms)

    def boost(self, fieldname: str, table: dict[str, float] = FIELD_BOOSTS) -> float:
        """The field's boost (1 when boosts are off)."""
        return table.get(fieldname, 1.0) if self.relevance.field_boosts else 1.0

    def variant_query(self, variant: Variant, fields: dict[str, float] | None = None) -> wq.Query | None:
        """A word or phrase in any text field."""
        subqueries: list[wq.Query] = []
        for fieldname in fields or FIELD_BOOSTS:
            boost = self.boost(fieldname) * variant.weight
            if len(variant.words) == 1:
                terms = self._terms(fieldname, variant.words[0])
                if terms is None:
                    continue
                if len(terms) == 1:
                    subqueries.append(wq.Term(fieldname, terms[0], boost=boost))
                else:
                    subqueries.append(wq.Phrase(fieldname, terms, slop=1, boost=boost))
            else:
                terms = self._terms(fieldname, " ".join(variant.words))
                if terms is None:
                    continue
                dropped = len(variant.words) - len(terms)
                if len(terms) == 1:
                    subqueries.append(wq.Term(fieldname, terms[0], boost=boost))
                else:
                    subqueries.append(wq.Phrase(fieldname, terms, slop=1 + max(0, dropped), boost=boost))
        if not subqueries:
            return None
        return subqueries[0] if len(subqueries) == 1 else FastOr(subqueries)

    def slot_query(self, slot: Slot, fields: dict[str, float] | None = None) -> wq.Query | None:
        """A slot in any of its variants (the best variant counts)."""
        parts = [q for q in (self.variant_query(v, fields) for v in slot.variants) if q is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.DisjunctionMax(parts, tiebreak=0.1)

    def unit_query(self, unit: Unit) -> wq.Query | None:
        """A unit in any of its alternatives."""
        fields = {"place": 1.0} if unit.place_only else None
        parts: list[wq.Query] = []
        for alt in unit.alternatives:
            if alt.phrase:
                q = self.variant_query(Variant(tuple(s.word for s in alt.slots), alt.weight), fields)
            else:
                slot_qs = [q for q in (self.slot_query(s, fields) for s in alt.slots) if q is not None]
                q = None if not slot_qs else slot_qs[0] if len(slot_qs) == 1 else wq.And(slot_qs)
                if q is not None and alt.weight != 1.0:
                    q = FastOr([q], boost=alt.weight) if not isinstance(q, wq.Term) else q.with_boost(q.boost * alt.weight)
            if q is not None:
                parts.append(q)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.DisjunctionMax(parts, tiebreak=0.1)

    def fuzzy_unit_query(self, unit: Unit) -> wq.Query | None:
        """Every word of a unit matched with up to one or two typos."""
        slot_qs: list[wq.Query] = []
        for word in unit.typed:
            if word in STOP_WORDS or len(word) > MAX_FUZZY_WORD:
                continue
            per_field: list[wq.Query] = []
            maxdist = 1 if len(word) < 6 else 2
            for fieldname in FUZZY_FIELDS:
                terms = _analyze(fieldname, word)
                if len(terms) == 1 and len(terms[0]) >= 3:
                    per_field.append(wq.FuzzyTerm(fieldname, terms[0], boost=self.boost(fieldname), maxdist=maxdist,
                                                  prefixlength=1))
            if per_field:
                slot_qs.append(FastOr(per_field))
        if not slot_qs:
            return None
        return slot_qs[0] if len(slot_qs) == 1 else wq.And(slot_qs)

    def build(self, mode: str) -> wq.Query:
        """The whole query in a matching mode: "and", "or" or "fuzzy"."""
        parsed = self.parsed
        if parsed.is_empty:
            main: wq.Query = wq.Every()
        else:
            make = self.fuzzy_unit_query if mode == "fuzzy" else self.unit_query
            built = [make(u) for u in parsed.core]
            core = [q for q in built if q is not None]
            if not core or (mode == "and" and len(core) < len(built)):
                # a word the index does not hold at all: no record has every word
                main = wq.NullQuery
            elif len(core) == 1:
                main = core[0]
            else:
                main = wq.And(core) if mode == "and" else FastOr(core)
        optional: list[wq.Query] = []
        if not parsed.is_empty and self.relevance.phrase_boost:
            optional.extend(self.proximity())
        for unit in parsed.soft:
            q = self.unit_query(unit)
            if q is not None:
                optional.append(q)
            if unit.kind_hint and self.relevance.kind_hints:
                optional.append(wq.ConstantScoreQuery(wq.Term("kind", unit.kind_hint), score=KIND_HINT_SCORE))
        if optional and main is not wq.NullQuery:
            main = wq.AndMaybe(main, optional[0] if len(optional) == 1 else FastOr(optional))
        excluded = [q for q in (self.unit_query(u) for u in parsed.excluded) if q is not None]
        if excluded and main is not wq.NullQuery:
            main = wq.AndNot(main, excluded[0] if len(excluded) == 1 else FastOr(excluded))
        return main

    def proximity(self) -> list[wq.Query]:
        """Bonus queries for the typed words appearing close together in one field."""
        typed = [w for u in self.parsed.core for w in u.typed if w not in STOP_WORDS]
        if len(typed) < 2:
            return []
        found: list[wq.Query] = []
        for fieldname, weight in PHRASE_FIELDS.items():
            terms = self._terms(fieldname, " ".join(typed))
            if terms is not None and len(terms) >= 2:
                slop = 2 if fieldname != "body" else 4
                found.append(wq.Phrase(fieldname, terms, slop=slop, boost=weight if self.relevance.field_boosts else 1.0))
        return found
