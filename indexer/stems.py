"""The stem analyzer's output without Whoosh's token pipeline: what re-ranking reads for every candidate.

Whoosh's analyzer chain (``schema.STEM_ANALYZER``) runs five generator stages per token, which made
reading the word positions of a result's title and excerpt the largest cost of a first-time query.
``stem_positions`` gives exactly the same (stem, position) pairs with one regular expression and a
memoised stemmer; ``tests/unit/indexer/test_stems.py`` checks it against the chain, so a change to
either shows there.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from whoosh.analysis.filters import STOP_WORDS
from whoosh.lang.porter import stem
from whoosh.support.charset import accent_map

from indexer.schema import TOKEN_PATTERN

_TOKENS = re.compile(TOKEN_PATTERN, re.UNICODE)
_STOPS = frozenset(STOP_WORDS)
_ACCENTS: Any = accent_map  # keyed by code point, as str.translate wants (typed loosely upstream)


@functools.lru_cache(maxsize=200_000)
def _stem_of(token: str) -> str:
    """A token's stem, or "" for a stop word (memoised: titles and excerpts repeat a small vocabulary)."""
    word = token.lower().translate(_ACCENTS)
    if not word or word in _STOPS:
        return ""
    return str(stem(word))


def stem_positions(text: str) -> list[tuple[str, int]]:
    """(stem, position) of each word that is not a stop word, numbered as ``STEM_ANALYZER(positions=True)`` does."""
    out: list[tuple[str, int]] = []
    pos: int | None = None
    for i, token in enumerate(_TOKENS.findall(text)):
        found = _stem_of(token)
        if not found:
            continue
        # Whoosh's StopFilter keeps the first kept word's position and numbers the rest consecutively
        pos = i if pos is None else pos + 1
        out.append((found, pos))
    return out


def stems(text: str) -> tuple[str, ...]:
    """The stems of a text, stop words removed (``STEM_ANALYZER`` without positions)."""
    return tuple(s for s in map(_stem_of, _TOKENS.findall(text)) if s)
