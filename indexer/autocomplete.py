"""Autocomplete: careers and colleges whose names or aliases start with the typed words.

Each typed word must begin a word of the name or of an alias. Names that begin with what was
typed come first, then careers before colleges, then shorter names; only the winners' stored
fields are read, so a one-letter prefix costs no more than a long one.
"""

from __future__ import annotations

import heapq
import re
from typing import Any

from indexer.parse import clean_text
from indexer.postings import iter_bits
from indexer.results import SearchError, detail_url
from indexer.schema import KIND_ORDER
from indexer.snapshot import Snapshot
from indexer.vocab import as_list

MAX_SUGGESTIONS = 20


def typed_words(prefix: str | None) -> list[str]:
    """The words of what was typed so far, lower case (at most 6 of at most 20 characters)."""
    text, _ = clean_text(prefix)
    return [w.lower()[:20] for w in re.findall(r"\w+", text[:100])][:6]


def check_limit(limit: Any) -> int:
    """How many suggestions to give: 1 to ``MAX_SUGGESTIONS``."""
    try:
        return max(1, min(int(limit), MAX_SUGGESTIONS))
    except (TypeError, ValueError):
        raise SearchError("limit must be a whole number", param="limit") from None


def suggestions(snap: Snapshot, ws: Any, words: list[str], limit: int) -> list[dict[str, Any]]:
    """Autocomplete entries: ``{"id", "kind", "title", "detail_url", "matched_alias"}``."""
    cache = snap.index(ws)
    candidates = snap.live(ws)
    for w in words:
        candidates &= cache.postings("complete", w).mask
        if not candidates:
            return []
    titles = cache.column("title_sort")
    kinds = {k: m for k, m in snap.value_sets(ws, "kind").items()}
    typed = " ".join(words)
    ranked: list[tuple[int, int, int, bytes, int]] = []
    for kind_rank, kind in enumerate(KIND_ORDER):
        for d in iter_bits(candidates & kinds.get(kind, 0)):
            title = titles[d]
            starts = title.decode("utf-8", "replace").startswith(typed)
            ranked.append((0 if starts else 1, kind_rank, len(title), title, d))
    out: list[dict[str, Any]] = []
    for *_key, d in heapq.nsmallest(limit, ranked):
        stored = ws.stored_fields(d)
        title = stored.get("title") or ""
        kind, item_id = stored.get("kind", ""), stored.get("item_id", "")
        out.append({
            "id": stored.get("id"), "kind": kind, "title": title, "detail_url": detail_url(kind, item_id),
            "matched_alias": None if _contains_words(title, words) else _alias_hit(stored, words),
        })
    return out


def _contains_words(title: str, words: list[str]) -> bool:
    lowered = re.findall(r"\w+", title.lower())
    return all(any(t.startswith(w) for t in lowered) for w in words)


def _alias_hit(stored: dict[str, Any], words: list[str]) -> str | None:
    data = stored.get("data") or {}
    for alias in [*as_list(data.get("also_known_as")), *as_list(data.get("aliases")), *as_list(data.get("system_brand"))]:
        if _contains_words(alias, words):
            return alias
    return None
