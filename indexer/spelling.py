"""Did-you-mean: corrections for the typed words the index does not know (``correct``).

A word is corrected only when no record holds it (however rare: "Rolfer" is a word, not a typo),
to the closest known word, the more frequent one first. The corrected query is offered as a
suggestion; the match stage searches it instead only when what was typed found nothing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import DamerauLevenshtein
from whoosh.analysis.filters import STOP_WORDS

from indexer.parse import DEFAULT_RELEVANCE, ParsedQuery, Relevance, parse_query
from indexer.schema import STEM_ANALYZER
from indexer.snapshot import Snapshot
from indexer.synonyms import synonym_table

MAX_SPELL_WORD = 30
SPELLING_MEMO = 50_000
"""Corrections remembered per index generation before the memo starts afresh."""


@dataclass
class Correction:
    """A query's misspelled words, their fixes, and the corrected query."""

    fixes: dict[str, str]
    """Typed word (lower case) -> the known word it most likely stands for."""
    text: str
    """The query as typed with the fixes applied (the "did you mean" suggestion)."""
    relevance: Relevance = DEFAULT_RELEVANCE

    @functools.cached_property
    def parsed(self) -> ParsedQuery:
        """The corrected query, understood (parsed on first use: most searches never need it)."""
        return parse_query(self.text, self.relevance)

    def highlight_terms(self) -> set[str]:
        """The corrected query's words, for highlighting (with every relevance feature, as the suggestion shows)."""
        parsed = self.parsed if self.relevance == DEFAULT_RELEVANCE else parse_query(self.text)
        return parsed.terms()


def correct(snap: Snapshot, ws: Any, parsed: ParsedQuery, relevance: Relevance) -> Correction | None:
    """The correction of a query's required words, or None when none looks misspelled."""
    fixes = _fixes(snap, ws, parsed)
    if not fixes:
        return None
    return Correction(fixes, _apply_fixes(parsed.text, fixes), relevance)


def _fixes(snap: Snapshot, ws: Any, parsed: ParsedQuery) -> dict[str, str]:
    """Corrections for words the index does not know (or barely knows, next to a common word)."""
    reader = ws.reader()
    memo = _memo(snap)
    fixes: dict[str, str] = {}
    table = synonym_table()
    for unit in parsed.core:
        for word in unit.typed:
            if not 3 <= len(word) <= MAX_SPELL_WORD or not word.isalpha() or word in STOP_WORDS or word in fixes:
                continue
            if table.match([word], 0) is not None:
                continue
            if word in memo:
                if memo[word]:
                    fixes[word] = memo[word]  # type: ignore[assignment]
                continue
            memo[word] = None
            df = reader.doc_frequency("spell", word)
            if df or any(reader.doc_frequency("text", s) for s in [t.text for t in STEM_ANALYZER(word)]):
                continue  # a word the records hold is not a misspelling, however rare ("Rolfer")
            maxdist = 1 if len(word) <= 4 else 2
            best: tuple[int, int, str] | None = None
            for cand in reader.terms_within("spell", word, maxdist, prefix=1):
                cand = cand.decode("utf-8") if isinstance(cand, bytes) else cand
                if cand == word or not cand.isalpha() or cand in STOP_WORDS:
                    continue
                cdf = reader.doc_frequency("spell", cand)
                if not cdf:
                    continue
                dist = DamerauLevenshtein.distance(word, cand)
                key = (dist, -cdf, cand)
                if best is None or key < best:
                    best = key
            if best is not None and best[0] <= maxdist:
                fixes[word] = memo[word] = best[2]
    return fixes


def _memo(snap: Snapshot) -> dict[str, str | None]:
    """Corrections already worked out for this generation's dictionary."""
    memo: dict[str, str | None] = snap.query_cached("spelling", dict)
    if len(memo) > SPELLING_MEMO:
        memo.clear()
    return memo


def _apply_fixes(text: str, fixes: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        word = m.group(0)
        fix = fixes.get(word.lower())
        if fix is None:
            return word
        return fix.capitalize() if word[:1].isupper() else fix

    return re.sub(r"\w+", repl, text)
