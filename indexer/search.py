"""Search the index (no Flask): ``search``, ``suggest``, ``programs_for_career``.

The web app keeps ONE ``Searcher`` per process (``get_searcher(settings)``); every call checks a
cheap fingerprint of the index folder and reopens when a sync committed or a rebuild was swapped
in, so results follow the index without restarts. A Searcher is thread-safe: each call leases a
Whoosh searcher from a small pool pinned to one index generation (``indexer.snapshot``).

A search runs its stages in one direction, each in its own module:
``request``/``parse`` (parameters and query text) -> ``spelling`` -> ``plan`` -> ``match``
(with ``restrict`` for the filters, and ``facets``) -> ``rank`` -> ``paging`` -> ``snippets``.

Query *text* never raises (bad syntax becomes words or a message); invalid *parameters* (unknown
filter, bad sort, page < 1, unknown location, bad radius) raise ``SearchError``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer import geo
from indexer.autocomplete import check_limit, suggestions, typed_words
from indexer.cache_budget import DEFAULT_MB, CacheBudget
from indexer.careers import career_ranker, career_request, check_soc_code, program_filters
from indexer.engine import IndexError_, IndexStore
from indexer.facets import count_facets, kind_counts
from indexer.match import match_query
from indexer.paging import PROGRAM_FILTERS, page_docs
from indexer.parse import DEFAULT_RELEVANCE, Relevance
from indexer.places import index_vocabulary, read_place
from indexer.plan import QueryBuilder
from indexer.request import MAX_PAGE, SORTS, Request, parse_request
from indexer.restrict import Restriction
from indexer.results import SearchError, SearchResult
from indexer.snapshot import SegmentRegistry, Snapshot
from indexer.snippets import highlight_terms, make_hits
from indexer.spelling import correct

if TYPE_CHECKING:
    from collegesearch.config import Settings

__all__ = [
    "MAX_PAGE", "SORTS", "Searcher", "SearchError", "get_searcher", "search", "suggest", "programs_for_career",
    "reset_searchers",
]

DEFAULT_MAX_PER_PAGE = 50
# Views tried in turn when syncs keep merging away the files of the one being opened.
OPEN_ATTEMPTS = 4


class Searcher:
    """The process's view of the index: thread-safe, reopened automatically when the index changes."""

    def __init__(self, settings: Settings | None = None, *, index_dir: str | Path | None = None,
                 max_per_page: int | None = None, warm_geo: bool = True, cache_mb: int | None = None) -> None:
        if index_dir is None:
            if settings is None:
                from collegesearch.config import load_settings

                settings = load_settings()
            index_dir = settings.index_dir
        self.store = IndexStore(index_dir)
        geo.set_cache_path(self.store.root / geo.CACHE_NAME)
        if warm_geo and (self.store.root / geo.CACHE_NAME).exists():
            # load the ZIP table in the background so the first near-me search does not wait for it
            threading.Thread(target=geo.warm, name="collegesearch-zip-table", daemon=True).start()
        self.max_per_page = max_per_page or (settings.MAX_PER_PAGE if settings else DEFAULT_MAX_PER_PAGE)
        mb = cache_mb if cache_mb is not None else (settings.SEARCH_CACHE_MB if settings else DEFAULT_MB)
        # one budget for everything this process keeps of the index, across generations (SEARCH_CACHE_MB)
        self.budget = CacheBudget(mb * 1024 * 1024)
        self.registry = SegmentRegistry(self.budget)
        self._lock = threading.Lock()
        self._snap: Snapshot | None = None
        self._token: Any = None
        self._problem: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def refresh(self, force: bool = False) -> bool:
        """Reopen the index if a writer changed it since the last call; True when a new view is in use."""
        token = self.store.change_token()
        if token is None and self._snap is None:
            self._problem = f"there is no search index in {self.store.root} yet; run `collegesearch index rebuild`"
            return False
        if not force and token == self._token and (self._snap is not None or token is None):
            return False
        with self._lock:
            if not force and token == self._token and (self._snap is not None or token is None):
                return False
            try:
                ix, gen = self.store.open(mapped=False)
                snap = Snapshot(ix, gen.name, token, gen.meta, budget=self.budget, registry=self.registry,
                                previous=self._snap)
            except IndexError_ as exc:
                self._problem = str(exc)
                self._token = token
                return False
            except Exception as exc:  # a half-written file found mid-open: report, keep the old view
                self._problem = f"the search index could not be opened: {exc.__class__.__name__}"
                return False
            old, self._snap, self._token, self._problem = self._snap, snap, token, None
        if old is not None:
            old.retire()
        return True

    def drop_query_caches(self) -> None:
        """Forget what queries left behind (decoded postings, phrases, spellings, filters); keep the per-index data.

        Benchmarks call this to time a query the process has not seen, as opposed to a repeated one.
        """
        snap = self._snap
        if snap is not None:
            snap.drop_query_caches()

    def close(self) -> None:
        """Release the open index files."""
        with self._lock:
            old, self._snap, self._token = self._snap, None, None
        if old is not None:
            old.retire()

    def status(self) -> dict[str, Any]:
        """Which generation is open, its watermark and size, or what is wrong."""
        self.refresh()
        snap = self._snap
        if snap is None:
            return {"state": "unavailable", "message": self._problem or "no index"}
        with self._lease() as (s, ws):
            by_kind = {k: v.bit_count() for k, v in s.value_sets(ws, "kind").items()}
            return {
                "state": "ok" if self._problem is None else "stale", "message": self._problem,
                "generation": s.gen_name, "watermark": s.meta.get("watermark"), "doc_count": ws.doc_count(),
                "by_kind": by_kind, "updated_at": s.meta.get("updated_at"),
                "segments": len(s.index(ws).segments), "cache": self.budget.stats(),
            }

    @contextlib.contextmanager
    def _lease(self) -> Iterator[tuple[Snapshot, Any]]:
        snap, ws = self._acquire()
        try:
            yield snap, ws
        finally:
            snap.release(ws)

    def _acquire(self) -> tuple[Snapshot, Any]:
        """A searcher of the newest view; reopens when a sync deleted the files of the view in hand.

        A view reads its TOC when it is made and opens segment files when a searcher is first
        needed. In between, a sync's merge can commit and delete the files of the segments it
        merged (Whoosh cleans them at once), so opening one fails with FileNotFoundError: the
        newest TOC names the merged segment instead, so the view is reopened and the lease taken
        from it.
        """
        self.refresh()
        for _attempt in range(OPEN_ATTEMPTS):
            snap = self._snap
            if snap is None:
                raise _Unavailable(self._problem or "the search index is not available")
            try:
                return snap, snap.acquire()
            except FileNotFoundError:
                self.refresh(force=True)
        raise _Unavailable("the search index changed faster than it could be opened; try again")

    # -- search ---------------------------------------------------------------------------------

    def search(
        self,
        query: str | None,
        filters: Mapping[str, str | Sequence[str]] | None = None,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 10,
        near: str | None = None,
        radius: float | str | None = None,
        *,
        relevance: Relevance = DEFAULT_RELEVANCE,
        facets: bool = True,
    ) -> SearchResult:
        """One page of results with facets, snippets and a spelling suggestion."""
        started = time.perf_counter()
        request = parse_request(query, filters, sort, page, per_page, near, radius, self.max_per_page, relevance)
        result = request.result()
        try:
            with self._lease() as (snap, ws):
                self._execute(snap, ws, request, result, relevance, facets)
        except _Unavailable as exc:
            result.messages.append(f"Search is unavailable right now: {exc}")
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    def _execute(self, snap: Snapshot, ws: Any, request: Request, result: SearchResult, relevance: Relevance,
                 facets: bool, ranker: Callable[[int], list[int]] | None = None) -> None:
        """The search stages, in order, on one leased index generation; fills in ``result``."""
        parsed, active = request.parsed, request.active
        if (relevance.places and ranker is None and not parsed.is_empty and request.location is None
                and not {"state", "city"} & set(active)):
            read = read_place(parsed, lambda: index_vocabulary(snap, ws))
            if read is not None:
                # "nursing georgia": the place filters the results and is no longer a word to match
                reading, units = read
                parsed, active = replace(parsed, units=units), {**active, **reading.filters}
                result.understood = {"place": reading.to_dict()}
        restrict = Restriction(snap, ws, active, request.negative, request.location, request.miles)
        correction = correct(snap, ws, parsed, relevance) if relevance.fuzzy and not parsed.is_empty else None
        builder = QueryBuilder(parsed, relevance, snap.exists(ws), snap.expand(ws))
        matches = match_query(snap.index(ws), builder, correction, restrict)
        if correction is not None:
            result.suggestion = correction.text
        result.messages.extend(matches.messages)
        result.total = matches.matched.bit_count()
        if facets:
            result.facets = count_facets(snap, ws, matches.text_ids, matches.matched, restrict, active)
            result.kind_counts = kind_counts(snap, ws, matches.text_ids, matches.matched, restrict)
        start = (result.page - 1) * result.per_page
        if start >= result.total:
            return
        page = page_docs(snap, ws, matches.plan, matches.units, matches.matched, result.sort, start,
                         result.per_page, restrict.distances, parsed, ranker, relevance,
                         programs_first=bool(set(active) & PROGRAM_FILTERS))
        terms = highlight_terms(parsed, correction if matches.corrected else None)
        result.hits = make_hits(ws, page, terms, restrict.distances)

    # -- autocomplete ------------------------------------------------------------------------------

    def suggest(self, prefix: str | None, limit: int = 8) -> list[dict[str, Any]]:
        """Careers and colleges whose names or aliases start with the typed words (see ``indexer.autocomplete``)."""
        words = typed_words(prefix)
        if not words:
            return []
        limit = check_limit(limit)
        try:
            with self._lease() as (snap, ws):
                return suggestions(snap, ws, words, limit)
        except _Unavailable:
            return []

    # -- careers -> programs ---------------------------------------------------------------------

    def career_links(self, soc_code: str) -> dict[str, Any] | None:
        """The fields of study and accreditors indexed for a career, or None when it is not indexed."""
        soc_code = check_soc_code(soc_code)
        try:
            with self._lease() as (_snap, ws):
                stored = ws.document(id=f"career:{soc_code}")
        except _Unavailable:
            return None
        if not stored:
            return None
        data = stored.get("data") or {}
        return {
            "soc_code": soc_code, "title": stored.get("title"),
            "fields_of_study": list(data.get("fields_of_study") or []),
            "accreditors": list(data.get("linked_accreditors") or []),
        }

    def programs_for_career(
        self,
        soc_code: str,
        filters: Mapping[str, str | Sequence[str]] | None = None,
        page: int = 1,
        per_page: int = 10,
        sort: str = "relevance",
        near: str | None = None,
        radius: float | str | None = None,
    ) -> SearchResult:
        """Accredited programs in the fields of study that lead to a career, best matches first.

        ``filters`` takes the search filters plus two shorthands: ``degree`` (= degree_level) and
        ``online`` ("yes" = delivery online). Programs in the career's first field come first, then
        accredited before probation/withdrawn, then by their school's rating.
        """
        started = time.perf_counter()
        links = self.career_links(soc_code)
        request = career_request(filters, page, per_page, sort, near, radius, self.max_per_page)
        result = request.result()
        fields = links["fields_of_study"] if links is not None else []
        if links is None:
            result.filters = {}  # no career, so no filters in force
            result.messages.append(f"No career with SOC code {soc_code!r} is in the index.")
        elif not fields:
            result.messages.append("The index does not know which fields of study lead to this career.")
        else:
            request.active = result.filters = program_filters(request.active, fields)
            try:
                with self._lease() as (snap, ws):
                    self._execute(snap, ws, request, result, DEFAULT_RELEVANCE, True,
                                  ranker=career_ranker(snap, ws, fields))
            except _Unavailable as exc:
                result.messages.append(f"Search is unavailable right now: {exc}")
        result.took_ms = (time.perf_counter() - started) * 1000
        return result


class _Unavailable(Exception):
    """The index cannot be used right now (missing or damaged)."""


# -- module-level API: one Searcher per index folder per process ------------------------------------

_searchers: dict[str, Searcher] = {}
_searchers_lock = threading.Lock()


def get_searcher(settings: Settings | None = None, *, index_dir: str | Path | None = None) -> Searcher:
    """The process's shared Searcher for an index folder (created on first use)."""
    if index_dir is None:
        if settings is None:
            from collegesearch.config import load_settings

            settings = load_settings()
        index_dir = settings.index_dir
    key = str(Path(index_dir).resolve())
    with _searchers_lock:
        found = _searchers.get(key)
        if found is None:
            found = Searcher(settings, index_dir=index_dir)
            _searchers[key] = found
        return found


def reset_searchers() -> None:
    """Close every shared Searcher (tests; after fork)."""
    with _searchers_lock:
        found = list(_searchers.values())
        _searchers.clear()
    for s in found:
        s.close()


def search(
    query: str | None,
    filters: Mapping[str, str | Sequence[str]] | None = None,
    sort: str = "relevance",
    page: int = 1,
    per_page: int = 10,
    near: str | None = None,
    radius: float | str | None = None,
    *,
    settings: Settings | None = None,
    index_dir: str | Path | None = None,
    searcher: Searcher | None = None,
) -> SearchResult:
    """Search the index (see ``Searcher.search``); uses the shared Searcher for the settings' index."""
    target = searcher or get_searcher(settings, index_dir=index_dir)
    return target.search(query, filters, sort, page, per_page, near, radius)


def suggest(prefix: str | None, limit: int = 8, *, settings: Settings | None = None,
            index_dir: str | Path | None = None, searcher: Searcher | None = None) -> list[dict[str, Any]]:
    """Autocomplete entries: ``{"id", "kind", "title", "detail_url", "matched_alias"}``."""
    target = searcher or get_searcher(settings, index_dir=index_dir)
    return target.suggest(prefix, limit)


def programs_for_career(
    soc_code: str,
    filters: Mapping[str, str | Sequence[str]] | None = None,
    page: int = 1,
    per_page: int = 10,
    sort: str = "relevance",
    near: str | None = None,
    radius: float | str | None = None,
    *,
    settings: Settings | None = None,
    index_dir: str | Path | None = None,
    searcher: Searcher | None = None,
) -> SearchResult:
    """Accredited programs that lead to a career (see ``Searcher.programs_for_career``)."""
    target = searcher or get_searcher(settings, index_dir=index_dir)
    return target.programs_for_career(soc_code, filters, page, per_page, sort, near, radius)
