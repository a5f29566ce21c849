"""The accreditor table (``model/data/accreditors.csv``): one row per accrediting agency, and its lookup.

The crawler stores an accreditor's ``label`` (its acronym, or its name when it has none) and
``name``; the index filters and links careers by the same labels. Both sides find an agency by any
of its names, aliases or acronyms with ``lookup_accreditor``, so a crawled value and a search
filter name the same agency the same way.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DATA_FILE", "SCOPES", "Accreditor", "accreditor_key", "accreditors", "accreditors_by_label", "lookup_accreditor"]

DATA_FILE = Path(__file__).resolve().parent / "data" / "accreditors.csv"
SCOPES = ("institutional", "programmatic")


@dataclass(frozen=True)
class Accreditor:
    """One accrediting agency: acronym (may be empty), full name, other names, scope and fields it accredits."""

    acronym: str
    name: str
    aliases: tuple[str, ...] = ()
    scope: str = "programmatic"
    """institutional or programmatic."""
    ambiguous_acronym: bool = False
    """The acronym is also a common word or another body's name, so text matches need the full name."""
    fields: tuple[str, ...] = ()
    """Fields of study it accredits (links careers to programs)."""

    @property
    def label(self) -> str:
        """The acronym when it has one, else the full name (what ``Program.accreditor`` holds)."""
        return self.acronym or self.name

    @property
    def names(self) -> tuple[str, ...]:
        """Every way the agency is written: acronym (when it has one), name and aliases."""
        return tuple(n for n in (self.acronym, self.name, *self.aliases) if n)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split("|") if part.strip())


@functools.lru_cache(maxsize=1)
def accreditors() -> tuple[Accreditor, ...]:
    """The bundled accreditor table, in file order."""
    text = DATA_FILE.read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(
        Accreditor(
            acronym=(row.get("acronym") or "").strip(),
            name=(row.get("name") or "").strip(),
            aliases=_split(row.get("aliases")),
            scope=(row.get("scope") or "").strip() or "programmatic",
            ambiguous_acronym=(row.get("ambiguous_acronym") or "").strip().lower() in {"1", "yes", "true"},
            fields=_split(row.get("fields")),
        )
        for row in rows
    )


@functools.lru_cache(maxsize=1)
def accreditors_by_label() -> dict[str, Accreditor]:
    """The table keyed by label (acronym, or name when there is none)."""
    return {acc.label: acc for acc in accreditors()}


def _visible(text: str) -> str:
    """NFC text without invisible format and control characters, whitespace collapsed."""
    composed = unicodedata.normalize("NFC", text)
    kept = "".join(
        ch for ch in composed
        if ch.isspace() or unicodedata.category(ch) not in ("Cf", "Cc")
    )
    return " ".join(kept.split())


def accreditor_key(text: str) -> str:
    """The form names are compared in: lower case, punctuation, "Inc.", a leading "The" and DAPIP notes dropped."""
    cleaned = _visible(text).lower()
    cleaned = re.sub(r"\s*[?\u2013\u2014-]\s*(may|formerly)\b.*$", "", cleaned)  # DAPIP's "? May 6, 2013 Formerly: ..."
    cleaned = re.sub(r"[,.]?\s*\binc\b\.?", "", cleaned)
    cleaned = re.sub(r"^the\s+", "", cleaned)
    cleaned = re.sub(r"[^a-z0-9&]+", " ", cleaned)
    return " ".join(cleaned.split())


@functools.lru_cache(maxsize=1)
def _index() -> tuple[dict[str, Accreditor], dict[str, Accreditor]]:
    by_name: dict[str, Accreditor] = {}
    by_acronym: dict[str, Accreditor] = {}
    for acc in accreditors():
        for key in (acc.name, *acc.aliases):
            by_name.setdefault(accreditor_key(key), acc)
        if acc.acronym:
            by_acronym.setdefault(acc.acronym.lower(), acc)
    # Acronyms typed with other punctuation ("ARC STSA", "NLN-CNEA") come after the exact ones.
    for acc in accreditors():
        if acc.acronym:
            by_acronym.setdefault(accreditor_key(acc.acronym), acc)
    return by_name, by_acronym


def _by_acronym(text: str) -> Accreditor | None:
    by_acronym = _index()[1]
    acronym = text.strip("() ").lower()
    return by_acronym.get(acronym) or by_acronym.get(accreditor_key(acronym))


def lookup_accreditor(name: str | None) -> Accreditor | None:
    """The accreditor a text names, by full name, alias or acronym (case and punctuation ignored); None if unknown."""
    if not name:
        return None
    return _lookup(str(name))


@functools.lru_cache(maxsize=4096)
def _lookup(name: str) -> Accreditor | None:
    # Cached: a crawl asks for the same few hundred names tens of thousands of times (every program
    # row, every fusion key), and the table is fixed for the process (see ``_index``).
    text = _visible(name)
    by_name = _index()[0]
    hit = by_name.get(accreditor_key(text)) or _by_acronym(text)
    if hit:
        return hit
    # "Commission on Accreditation ... (CAHIIM)": a name followed by its acronym in brackets.
    bracket = re.match(r"^(.*?)\s*\(([A-Za-z][A-Za-z&/-]{1,14})\)\s*$", text)
    if bracket:
        return by_name.get(accreditor_key(bracket.group(1))) or _by_acronym(bracket.group(2))
    return None
