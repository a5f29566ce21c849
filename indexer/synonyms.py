"""Query-time word lists read from ``indexer/data``: synonyms/abbreviations and kind-hint words."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from whoosh.lang.porter import stem as porter_stem

DATA_DIR = Path(__file__).resolve().parent / "data"
WORD_RE = re.compile(r"\w+(?:\.\w+)*\.?", re.UNICODE)


@functools.lru_cache(maxsize=50000)
def stem(word: str) -> str:
    """The Porter stem of a lower-case word (dotted abbreviations lose their final dot)."""
    return porter_stem(word.lower().rstrip("."))


def words(text: str) -> list[str]:
    """The words of a text as the query parser sees them (case kept)."""
    return [w.rstrip(".") if w.count(".") == 1 and w.endswith(".") else w for w in WORD_RE.findall(text)]


@dataclass(frozen=True)
class Rule:
    """One synonym entry: when ``key`` (stems, in order) appears, also search ``expansions``."""

    key: tuple[str, ...]
    expansions: tuple[str, ...]
    caps: str | None = None
    """When set, the rule applies only if the user typed this exact upper-case form."""


@dataclass
class SynonymTable:
    """Rules indexed by their first stem; the longest key wins."""

    rules: dict[str, list[Rule]] = field(default_factory=dict)
    longest: int = 1

    def add(self, rule: Rule) -> None:
        """Register a rule."""
        bucket = self.rules.setdefault(rule.key[0], [])
        if rule not in bucket:
            bucket.append(rule)
            bucket.sort(key=lambda r: -len(r.key))
        self.longest = max(self.longest, len(rule.key))

    def match(self, raw: list[str], at: int) -> Rule | None:
        """The longest rule whose key starts at ``raw[at]``."""
        first = stem(raw[at])
        for rule in self.rules.get(first, ()):
            n = len(rule.key)
            if at + n > len(raw):
                continue
            if rule.caps is not None and raw[at] != rule.caps:
                continue
            if all(stem(raw[at + i]) == rule.key[i] for i in range(n)):
                return rule
        return None


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(phrase.replace("-", " ")))


@functools.lru_cache(maxsize=1)
def synonym_table() -> SynonymTable:
    """The rules of ``synonyms.txt``."""
    table = SynonymTable()
    for lineno, line in enumerate((DATA_DIR / "synonyms.txt").read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if "=>" in line:
            left, right = line.split("=>", 1)
            sources = [p.strip() for p in left.split(",") if p.strip()]
            targets = [p.strip() for p in right.split(",") if p.strip()]
        else:
            sources = targets = [p.strip() for p in line.split(",") if p.strip()]
        if not sources or not targets:
            raise ValueError(f"synonyms.txt line {lineno}: expected 'a, b' or 'a => b'")
        for source in sources:
            caps = None
            if source.startswith("^"):
                source = source[1:]
                caps = source
            key = _key(source)
            if not key:
                continue
            expansions = tuple(t.lstrip("^") for t in targets if _key(t.lstrip("^")) != key)
            table.add(Rule(key, expansions, caps))
    return table


@dataclass(frozen=True)
class QueryWords:
    """Words that say what kind of record the user wants (optional ones, and required ones that hint)."""

    kind_of: dict[tuple[str, ...], str | None]
    longest: int
    required: frozenset[tuple[str, ...]] = frozenset()
    """Entries whose words must still match (e.g. "BSN" names a program, it is not filler)."""


@functools.lru_cache(maxsize=1)
def query_words() -> QueryWords:
    """The entries of ``query_words.txt`` as stem tuples -> kind (None: optional, no kind)."""
    kinds: dict[tuple[str, ...], str | None] = {}
    required: set[tuple[str, ...]] = set()
    for line in (DATA_DIR / "query_words.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or ":" not in line:
            continue
        kind, rest = line.split(":", 1)
        kind = kind.strip()
        keep = kind.endswith("+")
        target = None if kind.rstrip("+") == "-" else kind.rstrip("+")
        for phrase in rest.split(","):
            key = _key(phrase.strip())
            if key:
                kinds[key] = target
                if keep:
                    required.add(key)
    return QueryWords(kinds, max((len(k) for k in kinds), default=1), frozenset(required))
