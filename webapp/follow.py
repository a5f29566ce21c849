"""Follow a career, school, program or search: which records a filtered change feed covers, and its links.

``/changes`` (``.json``, ``.atom``) takes one of ``career=SOC``, ``institution=UNITID``,
``program=ID``, or a search (``q`` and the results page's filters), and keeps only the changes of
the records that one follows:

- a **program**: the program itself;
- a **school**: the school, every program it lists (new, status changes, closed, removed) and new
  reviews rated ``FOLLOW_REVIEW_MIN_RATING`` or more;
- a **career**: the career (pay, outlook) and the programs its page lists (the index's programs in
  the fields of study that lead to it, best ``FOLLOW_MAX_MATCHES`` first);
- a **search**: its ``kind`` and ``state`` filters are the change feed's own ``kind`` and
  ``state`` filters (the change log records both, so ``?state=OH`` alone needs no search); any
  other filter or query text runs the search once and follows its best ``FOLLOW_MAX_MATCHES``
  matches (a school among them as a school's feed would, with its programs and good reviews).

The catalog does the filtering in SQL (``catalog.changes.Followed``); the index is asked only which
records a career or a search matches, and only when the feed is built (a 304 never asks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from werkzeug.datastructures import MultiDict

from catalog.changes import Followed
from catalog.store import Catalog
from indexer.results import SearchError, SearchResult
from webapp.index import get_search_service
from webapp.page_data import ID_CHARS
from webapp.params import ALL_FILTERS, parse_search_args

RECORD_PARAMS: tuple[str, ...] = ("career", "institution", "program")
# Search parameters the change log cannot answer by itself (``kind`` and ``state`` it can).
SEARCH_PARAMS: tuple[str, ...] = ("q", "near", "radius", *(f for f in ALL_FILTERS if f not in ("kind", "state")))
# How many of a search's (or a career's programs') best matches a feed follows. A bound keeps a
# broad search's feed one cheap query; people follow searches narrow enough to read.
FOLLOW_MAX_MATCHES = 200


@dataclass
class FollowScope:
    """What one filtered feed follows, how to name it, and the query string that asks for it."""

    followed: Followed
    label: str
    """What is followed, for the feed's title ("Medical Records Specialists")."""
    args: dict[str, list[str]] = field(default_factory=dict)


def _record_id(name: str, value: str) -> str:
    value = value.strip()
    if not value or len(value) > 200 or not set(value) <= ID_CHARS:
        raise SearchError(f"{name} must be a record id (letters, digits and . _ : -), got {value[:40]!r}", param=name)
    return value


def follow_scope(args: MultiDict[str, str], catalog: Catalog) -> FollowScope | None:
    """The records the query string follows, or None when it follows no record (the whole feed).

    ``SearchError`` (a 400) for a malformed id, two things followed at once, or a bad search filter;
    a well-formed id the catalog has never held is a 400 too (following it would be silent forever).
    """
    named = [p for p in RECORD_PARAMS if (args.get(p) or "").strip()]
    searched = [p for p in SEARCH_PARAMS if any(v.strip() for v in args.getlist(p))]
    if len(named) > 1 or (named and searched):
        raise SearchError("follow one thing per feed: career, institution, program or a search", param=named[-1])
    min_rating = int(current_app.config["SETTINGS"].FOLLOW_REVIEW_MIN_RATING)
    if named:
        kind = named[0]
        item_id = _record_id(kind, args[kind])
        stored = catalog.fused.get(kind, item_id, include_deleted=True)
        if stored is None:
            current = catalog.fused.current_id(kind, item_id)  # an old or merged id follows its record
            stored = catalog.fused.get(kind, current) if current else None
        if stored is None:
            raise SearchError(f"no {kind} with id {item_id!r} to follow", param=kind)
        label = str(stored.data.get("title") or stored.data.get("name") or stored.item_id)
        if kind == "institution":
            followed = Followed(records=((kind, stored.item_id),), schools=(stored.item_id,),
                                min_review_rating=min_rating)
        elif kind == "career":
            followed = Followed(records=(("career", stored.item_id), *_career_programs(stored.item_id)))
        else:
            followed = Followed(records=((kind, stored.item_id),))
        return FollowScope(followed, label, {kind: [item_id]})
    if searched:
        return _search_scope(args, min_rating)
    return None


def _career_programs(soc_code: str) -> list[tuple[str, str]]:
    """The programs a career's page lists (best first, at most ``FOLLOW_MAX_MATCHES``)."""
    searcher = get_search_service().searcher
    found: list[tuple[str, str]] = []
    page = 1
    while len(found) < FOLLOW_MAX_MATCHES:
        result = searcher.programs_for_career(soc_code, {}, page=page, per_page=searcher.max_per_page)
        found.extend(_hit_records(result))
        if page >= result.pages or not result.hits:
            break
        page += 1
    return found[:FOLLOW_MAX_MATCHES]


def _hit_records(result: SearchResult) -> list[tuple[str, str]]:
    return [(hit.kind, hit.id.split(":", 1)[-1]) for hit in result.hits]


def _search_scope(args: MultiDict[str, str], min_rating: int) -> FollowScope:
    """A search's best matches as followed records (``kind`` and ``state`` also filter the log directly)."""
    wanted = MultiDict([(k, v) for k, v in args.items(multi=True) if k in SEARCH_PARAMS or k in ("kind", "state")])
    searcher = get_search_service().searcher
    params = parse_search_args(wanted, max_per_page=searcher.max_per_page, strict=False)
    records: list[tuple[str, str]] = []
    page = 1
    while len(records) < FOLLOW_MAX_MATCHES:
        result = searcher.search(params.q, params.filters, page=page, per_page=searcher.max_per_page,
                                 near=params.near, radius=params.radius, facets=False)
        records.extend(_hit_records(result))
        if page >= result.pages or not result.hits:
            break
        page += 1
    records = records[:FOLLOW_MAX_MATCHES]
    schools = tuple(item_id for kind, item_id in records if kind == "institution")
    label = f"the search \u201c{params.q}\u201d" if params.q.strip() else "a search"
    return FollowScope(Followed(records=tuple(records), schools=schools, min_review_rating=min_rating), label,
                       {k: wanted.getlist(k) for k in wanted})
