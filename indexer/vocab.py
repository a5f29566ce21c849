"""Controlled vocabulary for the index: fields of study and the SOC table (``indexer/data``), the
accreditor table (``model/data/accreditors.csv``, shared with the crawler) and facet normalizers.

The career -> field-of-study map is data, not code: a career's fields come from (1) the SOC table
``soc_fields.csv`` (longest matching SOC prefix), (2) field-of-study names and accreditor names found
in its "How to Become One" text (only in sentences about degrees, programs or schooling), and
(3) the accreditors the page names, through the accreditor table's ``fields``.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model import accreditors as accreditor_table
from model.accreditors import Accreditor, lookup_accreditor
from model.vocab import ACCREDITATION_STATUSES, DELIVERIES, US_STATES, state_code
from model.wording import degree_level_in, delivery_in, status_in

DATA_DIR = Path(__file__).resolve().parent / "data"

# Files whose content changes what documents hold (a change forces a rebuild); synonyms and
# query words only act at query time and are not listed.
INDEX_TIME_FILES: tuple[Path, ...] = (
    accreditor_table.DATA_FILE, DATA_DIR / "fields_of_study.csv", DATA_DIR / "soc_fields.csv",
)


@dataclass(frozen=True)
class FieldOfStudy:
    """A field of study and the phrases that name it."""

    name: str
    aliases: tuple[str, ...] = ()


@dataclass
class CareerLinks:
    """What leads to a career: fields of study and accreditors, and why each was chosen."""

    fields: list[str] = field(default_factory=list)
    accreditors: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(";") if part.strip())


def accreditors() -> dict[str, Accreditor]:
    """Known accreditors by label (the acronym, or the name when there is none)."""
    return accreditor_table.accreditors_by_label()


@functools.lru_cache(maxsize=1)
def fields_of_study() -> dict[str, FieldOfStudy]:
    """Known fields of study by canonical name."""
    found: dict[str, FieldOfStudy] = {}
    with (DATA_DIR / "fields_of_study.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            name = row["field"].strip()
            found[name] = FieldOfStudy(name=name, aliases=_split(row["aliases"]))
    return found


@functools.lru_cache(maxsize=1)
def soc_table() -> list[tuple[str, tuple[str, ...]]]:
    """(SOC prefix, fields) rows, longest prefix first."""
    rows: list[tuple[str, tuple[str, ...]]] = []
    with (DATA_DIR / "soc_fields.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rows.append((row["soc_prefix"].strip(), _split(row["fields"])))
    rows.sort(key=lambda r: -len(r[0]))
    return rows


@functools.lru_cache(maxsize=1)
def data_version() -> str:
    """A hash of the index-time data files (stored with the index; a change forces a rebuild)."""
    digest = hashlib.sha256()
    for path in INDEX_TIME_FILES:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def canonical_accreditor(value: str | None) -> str | None:
    """The accreditor's label for any of its names (unknown names come back trimmed)."""
    if value is None or not str(value).strip():
        return None
    text = " ".join(str(value).split())
    acc = lookup_accreditor(text)
    return acc.label if acc else text


def accreditor_name(label: str | None) -> str | None:
    """The full name of a known accreditor."""
    acc = accreditors().get(label or "")
    return acc.name if acc else None


class _PhraseMatcher:
    """Finds vocabulary phrases in text: lower-case phrases case-insensitively, ALL-CAPS ones exactly."""

    def __init__(self, phrases: dict[str, str]) -> None:
        # phrase -> target; longest first so "physical therapist assistant" wins over "physical therapist"
        self.targets = phrases
        ordered = sorted(phrases, key=len, reverse=True)
        folded = [p for p in ordered if not _is_acronym(p)]
        exact = [p for p in ordered if _is_acronym(p)]
        self.folded = re.compile(r"(?<!\w)(" + "|".join(_phrase_re(p) for p in folded) + r")(?!\w)", re.I) if folded else None
        self.exact = re.compile(r"(?<!\w)(" + "|".join(re.escape(p) for p in exact) + r")(?!\w)") if exact else None
        self.folded_targets = {_key(p): t for p, t in phrases.items() if not _is_acronym(p)}

    def find(self, text: str) -> list[tuple[str, str]]:
        """(target, matched phrase) pairs in order of appearance."""
        hits: list[tuple[int, str, str]] = []
        if self.folded is not None:
            for m in self.folded.finditer(text):
                target = self.folded_targets.get(_key(m.group(1)))
                if target:
                    hits.append((m.start(), target, m.group(1)))
        if self.exact is not None:
            for m in self.exact.finditer(text):
                hits.append((m.start(), self.targets[m.group(1)], m.group(1)))
        hits.sort()
        return [(t, p) for _, t, p in hits]


def _is_acronym(phrase: str) -> bool:
    letters = [c for c in phrase if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= max(2, len(letters) - 1) and " " not in phrase


def _phrase_re(phrase: str) -> str:
    # words separated by any run of spaces or hyphens; a trailing plural "s" is optional
    words = [re.escape(w) for w in re.split(r"[\s-]+", phrase.strip()) if w]
    return r"[\s-]+".join(words) + r"s?"


@functools.lru_cache(maxsize=1)
def _field_matcher() -> _PhraseMatcher:
    phrases: dict[str, str] = {}
    for fos in fields_of_study().values():
        for phrase in (fos.name, *fos.aliases):
            phrases.setdefault(phrase if _is_acronym(phrase) else phrase.lower(), fos.name)
    return _PhraseMatcher(phrases)


@functools.lru_cache(maxsize=1)
def _accreditor_matcher() -> _PhraseMatcher:
    phrases: dict[str, str] = {}
    for acc in accreditors().values():
        for name in acc.names:
            if _is_acronym(name):
                if len(name) >= 3:
                    phrases.setdefault(name, acc.label)
            elif len(name) > 8:
                phrases.setdefault(name.lower(), acc.label)
    return _PhraseMatcher(phrases)


def fields_in_text(text: str | None) -> list[str]:
    """Fields of study named in a text, most specific phrase first, without duplicates."""
    if not text:
        return []
    return list(dict.fromkeys(t for t, _ in _field_matcher().find(text)))


def accreditors_in_text(text: str | None) -> list[str]:
    """Labels (acronyms) of the accreditors a text names."""
    if not text:
        return []
    return list(dict.fromkeys(t for t, _ in _accreditor_matcher().find(text)))


def canonical_field(*texts: str | None) -> str | None:
    """The one field of study a program belongs to, from its field and name (longest phrase wins)."""
    best: tuple[int, str] | None = None
    for text in texts:
        if not text:
            continue
        for target, phrase in _field_matcher().find(text):
            if best is None or len(phrase) > best[0]:
                best = (len(phrase), target)
    if best:
        return best[1]
    for text in texts:
        if text and text.strip():
            cleaned = re.sub(r"\s*\([^)]*\)", "", text).split(" - ")[0].strip()
            return cleaned or text.strip()
    return None


# Sentences that talk about schooling: only there does a field name mean "study this".
_SCHOOLING = re.compile(
    r"\b(degree|degrees|program|programs|certificate|diploma|course|courses|coursework|major|college|school|"
    r"schools|university|accredited|accreditation|study|studies|graduate|graduates|education|training|"
    r"postsecondary|bachelor|associate|master|doctoral|doctor)\b",
    re.I,
)


def soc_fields(soc_code: str | None) -> tuple[str, ...]:
    """Fields of study the SOC table assigns to an occupation code (longest prefix wins)."""
    if not soc_code:
        return ()
    code = soc_code.strip()
    for prefix, fields in soc_table():
        if code.startswith(prefix):
            return fields
    return ()


def career_links(data: dict[str, Any]) -> CareerLinks:
    """The fields of study and accreditors that lead to a career (from SOC code, title and page text)."""
    links = CareerLinks()

    def add(name: str, reason: str) -> None:
        if name not in links.fields:
            links.fields.append(name)
            links.reasons[name] = reason

    for name in soc_fields(data.get("soc_code")):
        add(name, f"SOC {data.get('soc_code')}")
    for name in fields_in_text(" ; ".join([data.get("title") or "", *(data.get("also_known_as") or [])])):
        add(name, "title")
    text = " ".join(str(data.get(k) or "") for k in ("how_to_become", "entry_education", "training"))
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if _SCHOOLING.search(sentence):
            for name in fields_in_text(sentence):
                add(name, "How to Become One")
    named = [canonical_accreditor(a) for a in data.get("accreditors") or []]
    for acronym in [a for a in named if a] + accreditors_in_text(text):
        if acronym not in links.accreditors:
            links.accreditors.append(acronym)
    # An accreditor the page names points at what it accredits, unless it accredits too much to say.
    for acronym in list(links.accreditors):
        acc = accreditors().get(acronym)
        if acc and acc.scope == "programmatic" and len(acc.fields) <= 3:
            for name in acc.fields:
                add(name, f"accreditor {acronym}")
    # The programmatic accreditors of the strongly linked fields are the ones that matter for the career.
    strong = [f for f in links.fields if not links.reasons[f].startswith(("How", "accreditor"))] or links.fields[:2]
    for acc in accreditors().values():
        if acc.scope == "programmatic" and set(acc.fields) & set(strong) and acc.label not in links.accreditors:
            links.accreditors.append(acc.label)
    return links


# -- normalizers for facet values (index time and query time use the same ones) -------------------
# The words come from model (model.vocab, model.wording): the crawler reads pages with the same ones.


def normalize_state(value: str | None) -> str | None:
    """Two-letter code for a state code or name; None when unknown."""
    if not value:
        return None
    return state_code(" ".join(str(value).split()))


def state_name(code: str | None) -> str | None:
    """The state's name for a two-letter code."""
    return US_STATES.get((code or "").upper())


def normalize_degree(value: str | None) -> str | None:
    """One of DEGREE_LEVELS for a degree name or abbreviation (in any case); None when unknown."""
    if not value:
        return None
    return degree_level_in(" ".join(str(value).split()), any_case=True)


def normalize_status(value: str | None) -> str | None:
    """One of ACCREDITATION_STATUSES for a status word; None when unknown."""
    if not value:
        return None
    text = " ".join(str(value).strip().lower().replace("-", " ").split())
    if text.replace(" ", "_") in ACCREDITATION_STATUSES:
        return text.replace(" ", "_")
    return status_in(text)


def normalize_delivery(value: str | None) -> str | None:
    """online, campus or hybrid; None when unknown."""
    if not value:
        return None
    text = " ".join(str(value).split()).lower()
    return text if text in DELIVERIES else delivery_in(text)


_TRUE = {"1", "true", "yes", "y", "on", "t"}
_FALSE = {"0", "false", "no", "n", "off", "f"}


def normalize_yes_no(value: Any) -> str | None:
    """"yes" or "no" for a boolean-ish value; None when unknown."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return "yes"
    if text in _FALSE:
        return "no"
    return None


def unique(values: Iterable[str | None]) -> list[str]:
    """Non-empty values in first-seen order."""
    return list(dict.fromkeys(v for v in values if v))


def as_list(value: Any) -> list[str]:
    """A value or a sequence of values as a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [str(v) for v in value if v is not None]
    return [str(value)]
