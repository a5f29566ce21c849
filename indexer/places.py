"""Places in plain words: "nursing georgia" is nursing programs in GA, not a search for the word "georgia".

``read_place`` looks at the last words of a query: a state's name or postal code ("georgia",
"north carolina", "GA"), optionally after a city of that state ("Atlanta GA", "Chicago, Illinois").
They become a location filter only when every other word names a field of study or a career (or a
degree level, or is a hint such as "programs"): the fields the index holds and the careers' titles
are the vocabulary. So ``georgia`` alone, ``georgia tech`` and ``University of Texas`` stay name
searches. The search reports what it read (``PlaceReading.to_dict``, the ``understood`` field of
``/api/search``) with a query that searches the place as words instead (its words in quotes), so the
results page can show the place as a removable filter chip.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from indexer.parse import ParsedQuery, Unit
from indexer.postings import iter_bits
from indexer.snapshot import Snapshot
from indexer.stems import stems
from indexer.vocab import normalize_degree, state_code, state_name

MAX_CITY_WORDS = 3
MAX_STATE_WORDS = 3
"""The longest state names in words ("district of columbia")."""


@dataclass(frozen=True)
class Vocabulary:
    """What the index knows: the stems of its fields of study and career titles, and which cities it has."""

    field_stems: frozenset[str]
    has_city: Callable[[str, str], bool]
    """Whether a record is in this city (lower-case key) of this state."""


@dataclass
class PlaceReading:
    """A place read from the query's words: the filters it became and how to undo it."""

    words: str
    """The place as typed ("Atlanta GA")."""
    state: str
    city: str | None
    """The city key (lower case) when a city was named."""
    remove_query: str
    """The query with the place searched as words (quoted), for the chip that removes the filter."""

    @property
    def filters(self) -> dict[str, list[str]]:
        """The filters the place stands for."""
        found = {"state": [self.state]}
        if self.city:
            found["city"] = [self.city]
        return found

    @property
    def label(self) -> str:
        """"Atlanta, GA" or "Georgia"."""
        if self.city:
            return f"{self.city.title()}, {self.state}"
        return state_name(self.state) or self.state

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the ``understood.place`` object of ``/api/search``)."""
        return {"text": self.words, "label": self.label, "state": self.state, "city": self.city,
                "filters": self.filters, "remove_query": self.remove_query}


def _plain(unit: Unit) -> bool:
    """A unit of free words (not quoted, not an OR group, not optional)."""
    return not unit.soft and not unit.quoted and len(unit.alternatives) >= 1 and " OR " not in unit.label


def _names_a_field(units: list[Unit], vocabulary: Vocabulary) -> bool:
    """Every word of the required units is a field-of-study or career word, or a degree level."""
    hard = [u for u in units if not u.soft]
    if not hard:
        return False
    for unit in hard:
        if " OR " in unit.label:
            return False
        for word in unit.typed:
            found = stems(word)
            if found and not set(found) <= vocabulary.field_stems and normalize_degree(word) is None:
                return False
    return True


def read_place(parsed: ParsedQuery, vocabulary: Callable[[], Vocabulary]) -> tuple[PlaceReading, list[Unit]] | None:
    """The place at the end of the query and the units left without it, or None when the query names no place there.

    ``vocabulary`` is called only when the query ends in a state (most queries do not).
    """
    units = parsed.units
    # the trailing free words, as (unit index, word) pairs, so a place never splits a unit
    tail: list[tuple[int, str]] = []
    for i in range(len(units) - 1, -1, -1):
        unit = units[i]
        if unit.soft:
            continue  # "nursing georgia programs"
        if not (_plain(unit) or unit.place_only) or len(tail) >= MAX_STATE_WORDS + MAX_CITY_WORDS:
            break
        tail[:0] = [(i, w) for w in unit.typed]
    for n_state in range(min(MAX_STATE_WORDS, len(tail)), 0, -1):
        start = len(tail) - n_state
        if start > 0 and tail[start - 1][0] == tail[start][0]:
            continue  # the state's first word is inside a unit with the word before it
        words = [w for _i, w in tail[start:]]
        state = state_code(" ".join(words))
        if state is None:
            continue
        known = vocabulary()
        city, first = None, start
        for n_city in range(min(MAX_CITY_WORDS, start), 0, -1):
            c_start = start - n_city
            if c_start > 0 and tail[c_start - 1][0] == tail[c_start][0]:
                continue
            key = " ".join(w for _i, w in tail[c_start:start])
            if known.has_city(key, state):
                city, first = key, c_start
                break
        rest = units[:tail[first][0]]
        if not _names_a_field(rest, known):
            return None
        place_words = [w for _i, w in tail[first:]]
        reading = PlaceReading(" ".join(place_words), state, city, _quoted(parsed.text, place_words))
        return reading, rest + [u for u in units[tail[first][0]:] if u.soft]
    return None


def _quoted(text: str, words: list[str]) -> str:
    """The query with the last run of these words in quotes ("nursing Atlanta, GA" -> 'nursing "Atlanta GA"')."""
    pattern = re.compile(r"(?i)\b" + r"[\s,]+".join(re.escape(w) for w in words) + r"\b")
    found = list(pattern.finditer(text))
    if not found:
        return f'{text} "{" ".join(words)}"'
    m = found[-1]
    return f'{text[:m.start()]}"{" ".join(words)}"{text[m.end():]}'


def index_vocabulary(snap: Snapshot, ws: Any) -> Vocabulary:
    """The fields, career titles and cities of one index generation (the stems built once per generation)."""

    def build() -> frozenset[str]:
        found: set[str] = set()
        for value in snap.value_sets(ws, "field_of_study"):
            found.update(stems(value))
        for docnum in iter_bits(snap.value_sets(ws, "kind").get("career", 0)):
            found.update(stems(ws.stored_fields(docnum).get("title") or ""))
        return frozenset(found)

    cities, states = snap.value_sets(ws, "city"), snap.value_sets(ws, "state")

    def has_city(key: str, state: str) -> bool:
        return bool(cities.get(key, 0) & states.get(state, 0))

    return Vocabulary(snap.cached("place-field-stems", build), has_city)
