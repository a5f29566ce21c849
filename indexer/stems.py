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
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import Token
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


def stem_tokens(value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                mode: str = "", **kwargs: Any) -> Iterator[Token]:
    """``STEM_ANALYZER`` as Whoosh's highlighter calls it (same tokens), with the memoised stems.

    Snippets analyse every hit's text on every page; the analyzer chain was most of their cost.
    Calls this fast path does not cover (positions, no tokenizing) go to the chain itself.
    """
    from indexer.schema import STEM_ANALYZER

    if positions or not tokenize or start_pos:
        yield from STEM_ANALYZER(value, positions=positions, chars=chars, keeporiginal=keeporiginal,
                                 removestops=removestops, start_pos=start_pos, start_char=start_char,
                                 tokenize=tokenize, mode=mode, **kwargs)
        return
    token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
    for match in _TOKENS.finditer(value):
        raw = match.group(0)
        found = _stem_of(raw)
        if found:
            token.text, token.stopped = found, False
        elif removestops:
            continue
        else:  # a stop word kept for the highlighter's context: lower-cased and folded, not stemmed
            token.text, token.stopped = raw.lower().translate(_ACCENTS), True
        token.boost = 1.0
        if keeporiginal:
            token.original = raw  # type: ignore[attr-defined]  # Token takes attributes as set (as the tokenizer does)
        if chars:
            token.startchar, token.endchar = start_char + match.start(), start_char + match.end()
        yield token
