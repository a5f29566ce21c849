"""Program names to fields of study: the normaliser that lets two sources' names for one program agree.

College Navigator prints DAPIP's names ("Health Information Technology (HIT) - Associate degree
programs"); an accreditor's directory prints the field ("Health Information Technology"). Fusion keys a
program by institution, accreditor, credential level and ``field_key(name)``. The rules are data
(``model/data/program_fields.csv``), so a new source's spelling is a row, not code.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DATA_FILE", "FieldRules", "field_key", "field_rules"]

DATA_FILE = Path(__file__).resolve().parent / "data" / "program_fields.csv"

_CODE = re.compile(r"\(\s*([A-Z][A-Z0-9]{0,9})\s*\)")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


@dataclass(frozen=True)
class FieldRules:
    """The normaliser's table: program codes, filler words and aliases."""

    codes: dict[str, str]
    filler: frozenset[str]
    aliases: dict[str, str]


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("&", " and ").replace("'", "").replace("\u2019", "")
    return [w for w in _NON_WORD.split(text.lower()) if w and w != "_"]


def _plain(text: str, filler: frozenset[str]) -> str:
    return " ".join(w for w in _words(text) if w not in filler)


@functools.lru_cache(maxsize=1)
def field_rules() -> FieldRules:
    """The bundled rules, read once."""
    text = DATA_FILE.read_text(encoding="utf-8")
    rows = list(csv.DictReader(line for line in text.splitlines() if line.strip() and not line.startswith("#")))
    filler = frozenset(r["match"].strip().lower() for r in rows if r["rule"] == "filler")
    codes: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for row in rows:
        rule, match, field = row["rule"].strip(), row["match"].strip(), (row["field"] or "").strip()
        if rule == "code":
            codes[match.upper()] = _plain(field, filler)
        elif rule == "alias":
            aliases[_plain(match, filler)] = _plain(field, filler)
        elif rule != "filler":
            raise ValueError(f"{DATA_FILE.name}: unknown rule {rule!r} for {match!r}")
    return FieldRules(codes=codes, filler=filler, aliases=aliases)


def field_key(name: str | None, field: str | None = None) -> str:
    """The comparable field of study of a program name (or of its ``field`` when the name is empty).

    "Health Information Technology (HIT) - Associate degree programs" and "Health Information
    Technology" both give ``health information technology``; an unknown program code stays in the key,
    so two different programs under one heading never share one.
    """
    rules = field_rules()
    text = (name or "").strip() or (field or "").strip()
    if not text:
        return ""
    match = _CODE.search(text)
    if match:
        code = match.group(1).upper()
        if code in rules.codes:
            return rules.codes[code]
        heading = _plain(text[: match.start()], rules.filler)
        return f"{heading} {code.lower()}".strip()
    plain = _plain(text, rules.filler)
    return rules.aliases.get(plain, plain)
