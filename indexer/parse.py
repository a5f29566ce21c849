"""From what a user typed to a ``ParsedQuery``: a forgiving parser that never raises.

``parse_query`` understands quoted phrases, ``-word`` / ``NOT word`` exclusions, ``a OR b``,
"nursing near Atlanta", and field filters as users type them (``state:OH``, ``degree:associate``,
``rating:>=4``); unknown fields become words, bad values become messages. Each word carries its
synonyms and abbreviations from ``data/synonyms.txt`` (expansions weigh a little less), and words
such as "programs" or "colleges" become optional hints for one kind. ``indexer.plan`` turns the
result into term clauses.

``Relevance`` switches each relevance feature off for the relevance benchmark.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

from whoosh.analysis.filters import STOP_WORDS

from indexer.synonyms import query_words, stem, synonym_table, words
from model.items import US_STATES

MAX_QUERY_CHARS = 500
MAX_UNITS = 16
SYNONYM_WEIGHT = 0.8


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
    places: bool = True
    """A state or city at the end of a query that names a field becomes a location filter (``indexer.places``)."""

    def without(self, feature: str) -> Relevance:
        """A copy with one feature turned off."""
        if feature == "matching":
            return replace(self, matching="or")
        return replace(self, **{feature: False})  # type: ignore[arg-type]


DEFAULT_RELEVANCE = Relevance()
PLAIN_BM25 = Relevance(field_boosts=False, phrase_boost=False, synonyms=False, matching="or", fuzzy=False,
                       kind_hints=False, places=False)

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
    quoted: bool = False
    """Typed in quotes: searched as words, never read as a place."""
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
                typed=[w.lower() for w in raw], quoted=True)


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
