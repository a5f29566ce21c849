"""The page's results as ``Hit``s: stored fields, and an HTML-safe excerpt with the query's words marked."""

from __future__ import annotations

import html
from typing import Any

from whoosh.highlight import ContextFragmenter, Formatter, get_text, highlight

from indexer.parse import ParsedQuery
from indexer.results import Hit, detail_url
from indexer.spelling import Correction
from indexer.stems import stem_tokens
from model.items import KINDS

SNIPPET_CHARS = 240


class _MarkFormatter(Formatter):
    """Escapes every character of the document text; adds only ``<mark>`` around matches."""

    between = " … "

    def _text(self, text: str) -> str:
        return html.escape(text, quote=True)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return "<mark>" + html.escape(get_text(text, token, replace), quote=True) + "</mark>"


def snippet_html(text: str | None, terms: set[str], chars: int = SNIPPET_CHARS) -> str:
    """An HTML-safe excerpt of ``text`` with the query's terms wrapped in ``<mark>``."""
    text = text or ""
    if terms and text:
        try:
            marked = highlight(
                text, terms, stem_tokens, ContextFragmenter(maxchars=chars, surround=80), _MarkFormatter(), top=2,
            )
        except Exception:  # highlighting is a nicety; never let it break a result page
            marked = ""
        if marked:
            return marked
    if len(text) > chars:
        cut = text.rfind(" ", 0, chars)
        text = text[: cut if cut > chars // 2 else chars] + " …"
    return html.escape(text, quote=True)


def highlight_terms(parsed: ParsedQuery, applied: Correction | None) -> set[str]:
    """The words to mark: the query's, plus the correction's when the correction was searched instead."""
    terms = parsed.terms() if not parsed.is_empty else set()
    if applied is not None:
        terms |= applied.highlight_terms()
    return terms


def make_hits(ws: Any, page: list[tuple[int, float]], terms: set[str],
              distances: dict[int, float] | None) -> list[Hit]:
    """One ``Hit`` per (docnum, score) of the page, its snippet marking ``terms``."""
    hits = []
    for docnum, score in page:
        stored = ws.stored_fields(docnum)
        kind, item_id = stored.get("kind", ""), stored.get("item_id", "")
        hits.append(Hit(
            id=stored.get("id", f"{kind}:{item_id}"), kind=kind, title=stored.get("title") or item_id,
            url=stored.get("url") or "", detail_url=detail_url(kind, item_id) if kind in KINDS else "",
            snippet=snippet_html(stored.get("excerpt"), terms), score=float(score or 0.0),
            fields=dict(stored.get("data") or {}),
            distance_miles=distances.get(docnum) if distances is not None else None,
        ))
    return hits
