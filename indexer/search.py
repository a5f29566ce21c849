"""Search the index (no Flask): ``search``, ``suggest``, ``programs_for_career``.

The web app keeps ONE ``Searcher`` per process (``get_searcher(settings)``); every call checks a
cheap fingerprint of the index folder and reopens when a sync committed or a rebuild was swapped
in, so results follow the index without restarts. A Searcher is thread-safe: each call leases a
Whoosh searcher from a small pool pinned to one index generation.

Query *text* never raises (bad syntax becomes words or a message); invalid *parameters* (unknown
filter, bad sort, page < 1, unknown location, bad radius) raise ``SearchError``.
"""

from __future__ import annotations

import contextlib
import heapq
import html
import math
import re
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rapidfuzz.distance import DamerauLevenshtein
from whoosh.analysis.filters import STOP_WORDS
from whoosh.highlight import ContextFragmenter, Formatter, get_text, highlight

from indexer import geo
from indexer.engine import IndexError_, IndexStore, pinned_searcher, read_toc
from indexer.filters import facet_label, normalize_filters, normalize_value, parse_rating
from indexer.query import (
    DEFAULT_RELEVANCE,
    ParsedQuery,
    QueryBuilder,
    Relevance,
    clean_text,
    parse_query,
)
from indexer.results import FacetValue, Hit, SearchError, SearchResult, detail_url
from indexer.schema import FACET_FIELDS, FACETS, FILTERS, KIND_ORDER, STEM_ANALYZER
from indexer.scoring import IndexCache, Plan, iter_bits, mask_of
from indexer.synonyms import synonym_table
from indexer.vocab import as_list, normalize_yes_no
from model.items import KINDS

if TYPE_CHECKING:
    from collegesearch.config import Settings

__all__ = [
    "SORTS", "Searcher", "SearchError", "get_searcher", "search", "suggest", "programs_for_career", "reset_searchers",
]

SORTS: tuple[str, ...] = ("relevance", "rating", "pay", "name", "date", "distance")
DEFAULT_MAX_PER_PAGE = 50
MAX_PAGE = 10_000
STRICT_MIN_RESULTS = 3
"""When every-word matching finds fewer results than this, any-word matching fills in below them."""
SNIPPET_CHARS = 240
POOL_SIZE = 8
"""Idle Whoosh searchers kept per index generation (one per concurrent request)."""
FUZZY_EXPANSIONS = 8
"""Known terms a misspelled word may stand for in fuzzy matching."""
MAX_SPELL_WORD = 30
PROX_MEMO = 5_000
"""Documents whose title/excerpt word positions are remembered for re-ranking."""
RERANK_DEPTH = 50
"""How many top results the proximity and exact-name bonuses re-rank."""
PROXIMITY_BONUS = 0.5
"""Score multiplier for the typed words adjacent in the title (0.6 of that in the excerpt)."""
EXACT_NAME_BONUS = 1.0
"""Score multiplier when the query is exactly a record's name or alias ("UCLA", "University of Georgia")."""
BROWSE_ORDERS: dict[str, tuple[str, ...]] = {
    "browse": ("career", "institution", "program", "review"),
    "browse_programs": ("program", "institution", "career", "review"),
}
"""Without words, results list kinds in this order (programs first when a program-only filter is on)."""
PROGRAM_FILTERS = frozenset({"accreditor", "accreditation_status", "degree_level", "delivery", "field_of_study"})
EXACT_FILTERS = frozenset({"city", "institution_unitid", "soc_code"})

# The column each sort order reads (highest first except for the name).
SORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "rating": ("rating", "review_count", "title_sort"), "pay": ("pay", "title_sort"),
    "name": ("title_sort",), "date": ("date", "title_sort"),
}
_STATUS_RANK = {
    "accredited": 0, "preaccredited": 1, "candidate": 1, "monitoring": 2, "warning": 2, "probation": 3,
    "show_cause": 3, "withdrawn": 4, "closed": 4, "no_longer_recognized": 4,
}


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
                text, terms, STEM_ANALYZER, ContextFragmenter(maxchars=chars, surround=80), _MarkFormatter(), top=2,
            )
        except Exception:  # highlighting is a nicety; never let it break a result page
            marked = ""
        if marked:
            return marked
    if len(text) > chars:
        cut = text.rfind(" ", 0, chars)
        text = text[: cut if cut > chars // 2 else chars] + " …"
    return html.escape(text, quote=True)


class _Snapshot:
    """One index generation (one TOC): a pool of pinned Whoosh searchers plus docnum caches."""

    def __init__(self, ix: Any, gen_name: str, token: Any, meta: dict[str, Any]) -> None:
        self.ix = ix
        self.toc = read_toc(ix)
        self.gen_name = gen_name
        self.token = token
        self.meta = meta
        self._pool: list[Any] = []
        self._lock = threading.Lock()
        self._leases = 0
        self._retired = False
        self._cache: dict[Any, Any] = {}
        self._cache_lock = threading.RLock()

    # -- searcher pool ----------------------------------------------------------------------------

    def acquire(self) -> Any:
        with self._lock:
            self._leases += 1
            if self._pool:
                return self._pool.pop()
        try:
            return pinned_searcher(self.ix, self.toc)
        except BaseException:
            with self._lock:
                self._leases -= 1
            raise

    def release(self, ws: Any) -> None:
        close_all = False
        with self._lock:
            self._leases -= 1
            if self._retired or len(self._pool) >= POOL_SIZE:
                ws.close()
            else:
                self._pool.append(ws)
            close_all = self._retired and self._leases == 0
        if close_all:
            self._close_pool()

    def retire(self) -> None:
        with self._lock:
            self._retired = True
            idle = self._leases == 0
        if idle:
            self._close_pool()

    def _close_pool(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, []
        index = self._cache.get("index")
        if index is not None:
            pool.append(index.searcher)
        for ws in pool:
            with contextlib.suppress(Exception):
                ws.close()

    # -- caches (built once per generation) -----------------------------------------------------

    def _cached(self, key: Any, build: Callable[[], Any]) -> Any:
        value = self._cache.get(key)
        if value is None:
            with self._cache_lock:
                value = self._cache.get(key)
                if value is None:
                    value = build()
                    self._cache[key] = value
        return value

    def size(self, ws: Any) -> int:
        """One more than the largest docnum."""
        return self._cached("size", lambda: ws.reader().doc_count_all())

    def live(self, ws: Any) -> int:
        """Every live docnum (a mask)."""
        return self._cached("live", lambda: mask_of(ws.reader().all_doc_ids(), self.size(ws)))

    def index(self, ws: Any) -> IndexCache:
        """Decoded postings, lengths and columns of this generation (its own searcher, guarded by a lock)."""
        return self._cached("index", lambda: IndexCache(pinned_searcher(self.ix, self.toc), self.size(ws),
                                                        self.live(ws)))

    def value_sets(self, ws: Any, fieldname: str) -> dict[str, int]:
        """Docnum masks per indexed value of a facet field."""
        def build() -> dict[str, int]:
            reader = ws.reader()
            if fieldname not in reader.indexed_field_names():
                return {}
            cache = self.index(ws)
            values = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in reader.field_terms(fieldname)]
            return {v: cache.postings(fieldname, v).mask for v in values}

        return self._cached(("values", fieldname), build)

    def rated(self, ws: Any) -> tuple[int, Any]:
        """(mask of the docs that have a rating, the rating column)."""
        def build() -> tuple[int, Any]:
            mask = 0
            for m in self.value_sets(ws, "rating_band").values():
                mask |= m
            return mask, self.index(ws).column("rating")

        return self._cached("rated", build)

    def geo_points(self, ws: Any) -> tuple[array, array, array]:
        """Latitudes (sorted), longitudes and docnums of the docs with coordinates (arrays: cheap to keep)."""
        def build() -> tuple[array, array, array]:
            cache = self.index(ws)
            lats, lons = cache.column("lat"), cache.column("lon")
            points = sorted((lats[d], d) for d in iter_bits(self.live(ws)) if -90.0 <= lats[d] <= 90.0)
            return (array("d", (p[0] for p in points)), array("d", (lons[p[1]] for p in points)),
                    array("I", (p[1] for p in points)))

        return self._cached("geo", build)

    def within(self, ws: Any, loc: geo.Location, miles: float) -> dict[int, float]:
        """Docnum -> distance in miles for every doc within the radius."""
        lats, lons, docnums = self.geo_points(ws)
        lat0, lat1, lon0, lon1 = geo.bounding_box(loc.lat, loc.lon, miles)
        found: dict[int, float] = {}
        for i in range(bisect_left(lats, lat0), bisect_right(lats, lat1)):
            lon = lons[i]
            if lon0 <= lon <= lon1:
                d = geo.miles_between(loc.lat, loc.lon, lats[i], lon)
                if d <= miles:
                    found[docnums[i]] = d
        return found

    def exists(self, ws: Any) -> Callable[[str, str], bool]:
        """A cached "is this term in the index" test for the query builder."""
        known: dict[tuple[str, str], bool] = self._cached("terms", dict)
        reader = ws.reader()

        def test(fieldname: str, text: str) -> bool:
            key = (fieldname, text)
            found = known.get(key)
            if found is None:
                found = (fieldname, text) in reader
                if len(known) < 200_000:
                    known[key] = found
            return found

        return test

    def expand(self, ws: Any) -> Callable[[str, str, int], list[str]]:
        """Known terms within an edit distance of a word, most frequent first (for fuzzy matching)."""
        reader = ws.reader()

        def near(fieldname: str, text: str, maxdist: int) -> list[str]:
            found = []
            for term in reader.terms_within(fieldname, text, maxdist, prefix=1):
                term = term.decode("utf-8") if isinstance(term, bytes) else term
                found.append((reader.doc_frequency(fieldname, term), term))
            found.sort(reverse=True)
            return [term for _df, term in found[:FUZZY_EXPANSIONS]]

        return near

    def positions(self, ws: Any, docnum: int) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]],
                                                        tuple[tuple[str, ...], ...]]:
        """Stem positions in a document's title and excerpt, and its name keys (title, aliases), remembered."""
        memo: OrderedDict[int, Any] = self._cached("prox", OrderedDict)
        found = memo.get(docnum)
        if found is None:
            stored = ws.stored_fields(docnum)
            title = stored.get("title") or ""
            data = stored.get("data") or {}
            # "Ohio State University-Main Campus" is named "Ohio State University"; a program titled
            # "Nursing (Some College)" is named "Nursing"
            names = [title, re.sub(r"\s*-\s*Main Campus$", "", title), title.split(" (")[0],
                     *as_list(data.get("aliases")), *as_list(data.get("also_known_as"))]
            # tuples all the way down: the garbage collector does not track them
            keys = tuple(dict.fromkeys(k for k in (name_key(n) for n in names) if k))
            found = (_stem_positions(title), _stem_positions(stored.get("excerpt") or ""), keys)
            with self._cache_lock:
                memo[docnum] = found
                if len(memo) > PROX_MEMO:
                    memo.popitem(last=False)
        return found

    def spelling_memo(self) -> dict[str, str | None]:
        """Corrections already worked out for this generation's dictionary."""
        memo: dict[str, str | None] = self._cached("spelling", dict)
        if len(memo) > 50_000:
            memo.clear()
        return memo

    def order(self, ws: Any, sort: str) -> array:
        """Every docnum in a sort order (built once per generation; a page then walks it)."""
        def build() -> array:
            return array("I", ordered())

        def ordered() -> list[int]:
            cache = self.index(ws)
            titles = cache.column("title_sort")
            kinds = {d: k for k, m in self.value_sets(ws, "kind").items() for d in iter_bits(m)}
            if sort == "name":
                return sorted(iter_bits(self.live(ws)), key=lambda d: (titles[d], kinds.get(d, ""), d))
            if sort in BROWSE_ORDERS:
                rank = {k: i for i, k in enumerate(BROWSE_ORDERS[sort])}
                return sorted(iter_bits(self.live(ws)), key=lambda d: (rank.get(kinds.get(d, ""), 9), titles[d], d))
            if sort == "rating":
                rating, count = cache.column("rating"), cache.column("review_count")
                return sorted(iter_bits(self.live(ws)), key=lambda d: (-rating[d], -count[d], titles[d], d))
            column = cache.column({"pay": "pay", "date": "date"}[sort])
            return sorted(iter_bits(self.live(ws)), key=lambda d: (-column[d], titles[d], d))

        return self._cached(("order", sort), build)

    def filter_set(self, ws: Any, name: str, values: list[str]) -> int:
        """The mask of docs matching any of a filter's values."""
        key = ("filter", name, tuple(values))

        def build() -> int:
            if name == "rating":
                rated, rating = self.rated(ws)
                ranges = [parse_rating(v) for v in values]
                return mask_of((d for d in iter_bits(rated) if any(rng.contains(rating[d]) for rng in ranges)),
                               self.size(ws))
            if name in EXACT_FILTERS:
                # many distinct values (a school's id, a city): read just the ones asked for
                cache = self.index(ws)
                mask = 0
                for value in values:
                    mask |= cache.postings(FACET_FIELDS.get(name, name), value).mask
                return mask
            sets = self.value_sets(ws, FACET_FIELDS.get(name, name))
            # accreditor and field values are matched without regard to case ("cahiim" = "CAHIIM")
            lowered = {k.lower(): v for k, v in sets.items()} if name in ("accreditor", "field_of_study") else sets
            mask = 0
            for value in values:
                mask |= sets.get(value) or lowered.get(value.lower(), 0)
            return mask

        if len(self._cache) > 4096:  # filters come from users: keep the cache bounded
            with self._cache_lock:
                for k in [k for k in self._cache if isinstance(k, tuple) and k[0] == "filter"]:
                    del self._cache[k]
        return self._cached(key, build)


class Searcher:
    """The process's view of the index: thread-safe, reopened automatically when the index changes."""

    def __init__(self, settings: Settings | None = None, *, index_dir: str | Path | None = None,
                 max_per_page: int | None = None, warm_geo: bool = True) -> None:
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
        self._lock = threading.Lock()
        self._snap: _Snapshot | None = None
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
                ix, gen = self.store.open()
                snap = _Snapshot(ix, gen.name, token, gen.meta)
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
        if snap is None:
            return
        with snap._cache_lock:
            index = snap._cache.get("index")
            if index is not None:
                index.clear_query_caches()
            for key in list(snap._cache):
                if key in ("prox", "spelling", "terms") or isinstance(key, tuple) and key[0] == "filter":
                    del snap._cache[key]

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
            }

    @contextlib.contextmanager
    def _lease(self) -> Iterator[tuple[_Snapshot, Any]]:
        self.refresh()
        snap = self._snap
        if snap is None:
            raise _Unavailable(self._problem or "the search index is not available")
        ws = snap.acquire()
        try:
            yield snap, ws
        finally:
            snap.release(ws)

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
        page, per_page = self._check_paging(page, per_page)
        sort = self._check_sort(sort)
        active = normalize_filters(filters)
        location, miles = _check_near(near, radius)
        parsed = parse_query(query, relevance)
        messages = list(parsed.messages)
        negative: dict[str, list[str]] = {}
        for name, raw, negated in parsed.filters:
            if name == "near":
                if location is None:
                    try:
                        location, miles = geo.resolve(raw), miles or geo.DEFAULT_RADIUS_MILES
                    except geo.LocationError as exc:
                        messages.append(f"Ignored near:{raw} ({exc}).")
                continue
            for fname, value in _query_filter(name, raw, messages):
                bucket = (negative if negated else active).setdefault(fname, [])
                if value not in bucket:
                    bucket.append(value)
        if sort == "distance" and location is None:
            raise SearchError("sort=distance needs a location: pass near (a ZIP code, a city or lat,lon)", param="sort")
        result = SearchResult(query=parsed.text, total=0, page=page, per_page=per_page, hits=[], facets={},
                              filters=active, sort=sort, messages=messages)
        if location is not None:
            result.near = location.to_dict(miles or geo.DEFAULT_RADIUS_MILES)
        try:
            with self._lease() as (snap, ws):
                self._execute(snap, ws, parsed, result, active, negative, location, miles, relevance, facets)
        except _Unavailable as exc:
            result.messages.append(f"Search is unavailable right now: {exc}")
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    def _execute(
        self, snap: _Snapshot, ws: Any, parsed: ParsedQuery, result: SearchResult, active: dict[str, list[str]],
        negative: dict[str, list[str]], location: geo.Location | None, miles: float | None, relevance: Relevance,
        facets: bool, ranker: Callable[[int], list[int]] | None = None,
    ) -> None:
        live = snap.live(ws)
        distances = snap.within(ws, location, miles or geo.DEFAULT_RADIUS_MILES) if location else None
        near_mask = mask_of(distances, snap.size(ws)) if distances is not None else None
        filter_masks = {name: snap.filter_set(ws, name, values) for name, values in active.items()}
        excluded = 0
        for name, values in negative.items():
            excluded |= snap.filter_set(ws, name, values)

        def restrict(ids: int, skip: str | None = None) -> int:
            out = ids
            for name, mask in filter_masks.items():
                if name != skip:
                    out &= mask
            if near_mask is not None:
                out &= near_mask
            return out & ~excluded if excluded else out

        plan, units, text_ids, matched = self._match(snap, ws, parsed, relevance, live, restrict, result)
        result.total = matched.bit_count()
        if facets:
            result.facets = self._facets(snap, ws, text_ids, matched, restrict, active)
            kind_base = restrict(text_ids, skip="kind") if "kind" in filter_masks else matched
            kinds = snap.value_sets(ws, "kind")
            result.kind_counts = {k: (kind_base & kinds.get(k, 0)).bit_count() for k in KIND_ORDER}
        start = (result.page - 1) * result.per_page
        if start >= result.total:
            return
        page_docs = self._page(snap, ws, plan, units, matched, result.sort, start, result.per_page, distances,
                               parsed, ranker, relevance, programs_first=bool(set(active) & PROGRAM_FILTERS))
        terms = parsed.terms() if not parsed.is_empty else set()
        if getattr(result, "suggestion_applied", False) and result.suggestion:
            terms |= parse_query(result.suggestion).terms()
        for docnum, score in page_docs:
            stored = ws.stored_fields(docnum)
            kind, item_id = stored.get("kind", ""), stored.get("item_id", "")
            result.hits.append(Hit(
                id=stored.get("id", f"{kind}:{item_id}"), kind=kind, title=stored.get("title") or item_id,
                url=stored.get("url") or "", detail_url=detail_url(kind, item_id) if kind in KINDS else "",
                snippet=snippet_html(stored.get("excerpt"), terms), score=float(score or 0.0),
                fields=dict(stored.get("data") or {}),
                distance_miles=distances.get(docnum) if distances is not None else None,
            ))

    def _match(
        self, snap: _Snapshot, ws: Any, parsed: ParsedQuery, relevance: Relevance, live: int,
        restrict: Callable[..., int], result: SearchResult,
    ) -> tuple[Plan, list[int], int, int]:
        """Every word first; then the corrected spelling; then any word; then similar spellings."""
        cache = snap.index(ws)
        exists, expand = snap.exists(ws), snap.expand(ws)
        builder = QueryBuilder(parsed, relevance, exists, expand)
        if parsed.is_empty:
            return builder.build("and"), [], live, restrict(live)
        strict_mode = "or" if relevance.matching == "or" else "and"
        plan = builder.build(strict_mode)
        text_ids, units = cache.match(plan)
        matched = restrict(text_ids)
        found = matched.bit_count()
        fixes = self._spelling(snap, ws, parsed) if relevance.fuzzy else {}
        if fixes:
            result.suggestion = _apply_fixes(parsed.text, fixes)
        if found >= STRICT_MIN_RESULTS or relevance.matching == "and" and not fixes:
            return plan, units, text_ids, matched
        if fixes and result.suggestion and not found:
            # a misspelling is only trusted over what the user typed when the typed words found nothing
            corrected = parse_query(result.suggestion, relevance)
            c_builder = QueryBuilder(corrected, relevance, exists, expand)
            c_plan = c_builder.build(strict_mode)
            c_ids, c_units = cache.match(c_plan)
            c_matched = restrict(c_ids)
            if c_matched:
                result.messages.append(f"No results for “{parsed.text}”. Showing results for “{result.suggestion}”.")
                result.suggestion_applied = True  # type: ignore[attr-defined]
                parsed, builder, plan, units, text_ids, matched = corrected, c_builder, c_plan, c_units, c_ids, c_matched
                found = matched.bit_count()
                if found >= STRICT_MIN_RESULTS:
                    return plan, units, text_ids, matched
        if relevance.matching == "and_fallback" and len(parsed.core) > 1:
            o_plan = builder.build("or")
            o_ids, o_units = cache.match(o_plan)
            o_matched = restrict(o_ids)
            if o_matched.bit_count() > found:
                if not found:
                    result.messages.append("No results contain all of your words; showing results that match some.")
                # records with every word keep the coordination bonus of matching all units
                return o_plan, o_units, o_ids, o_matched
        if not found and relevance.fuzzy:
            f_plan = builder.build("fuzzy")
            f_ids, f_units = cache.match(f_plan)
            f_matched = restrict(f_ids)
            if f_matched:
                result.messages.append(f"No exact matches for “{parsed.text}”; showing results with similar spellings.")
                return f_plan, f_units, f_ids, f_matched
        return plan, units, text_ids, matched

    def _spelling(self, snap: _Snapshot, ws: Any, parsed: ParsedQuery) -> dict[str, str]:
        """Corrections for words the index does not know (or barely knows, next to a common word)."""
        reader = ws.reader()
        memo = snap.spelling_memo()
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
                if df or any(reader.doc_frequency("text", s) for s in _analyze_text(word)):
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

    def _facets(
        self, snap: _Snapshot, ws: Any, text_ids: int, matched: int, restrict: Callable[..., int],
        active: dict[str, list[str]],
    ) -> dict[str, list[FacetValue]]:
        """Counts per facet value; a facet with an active filter counts as if that filter were off."""
        out: dict[str, list[FacetValue]] = {}
        for name in FACETS:
            base = restrict(text_ids, skip=name) if name in active else matched
            selected = set(active.get(name, []))
            values: list[FacetValue] = []
            sets = snap.value_sets(ws, FACET_FIELDS[name])
            if name == "rating":
                bands = {int(k): (base & s).bit_count() for k, s in sets.items() if k.isdigit()}
                for band in (4, 3, 2, 1):
                    count = sum(n for b, n in bands.items() if b >= band)
                    if count or str(band) in selected:
                        values.append(FacetValue(str(band), count, str(band) in selected, facet_label(name, str(band))))
                for value in selected - {"1", "2", "3", "4"}:
                    values.append(FacetValue(value, 0, True, facet_label(name, value)))
            else:
                for value, s in sets.items():
                    count = (base & s).bit_count()
                    if count or value in selected:
                        values.append(FacetValue(value, count, value in selected, facet_label(name, value)))
                for value in selected - {v.value for v in values}:
                    values.append(FacetValue(value, 0, True, facet_label(name, value)))
                if name == "kind":
                    values.sort(key=lambda v: KIND_ORDER.index(v.value) if v.value in KIND_ORDER else 9)
                else:
                    values.sort(key=lambda v: (-v.count, v.value))
            out[name] = values
        return out

    def _page(
        self, snap: _Snapshot, ws: Any, plan: Plan, units: list[int], matched: int, sort: str, start: int,
        per_page: int, distances: dict[int, float] | None, parsed: ParsedQuery,
        ranker: Callable[[int], list[int]] | None, relevance: Relevance = DEFAULT_RELEVANCE,
        programs_first: bool = False,
    ) -> list[tuple[int, float]]:
        """(docnum, score) of the requested page in the requested order."""
        end = start + per_page
        if sort == "distance" and distances is not None:
            ordered = sorted(iter_bits(matched), key=lambda d: (distances.get(d, math.inf), d))
            return [(d, 0.0) for d in ordered[start:end]]
        if ranker is not None and sort == "relevance":
            return [(d, 0.0) for d in ranker(matched)[start:end]]
        if sort != "relevance" or plan.every:
            order = sort if sort != "relevance" else ("browse_programs" if programs_first else "browse")
            return [(d, 0.0) for d in _walk(snap.order(ws, order), matched, end)[start:]]
        cache = snap.index(ws)
        kinds = snap.value_sets(ws, "kind")
        stems = QueryBuilder(parsed, relevance).proximity_terms()
        proximity = relevance.phrase_boost and len(set(stems)) >= 2
        query_key = name_key(" ".join(w for u in parsed.units for w in u.typed)) if relevance.field_boosts else None
        rerank = (proximity or bool(query_key)) and start < RERANK_DEPTH
        depth = max(end, RERANK_DEPTH) if rerank else end
        best = cache.top(plan, matched, units, depth, lambda k: kinds.get(k, 0))
        if rerank:
            rescored = []
            for d, s in best:
                title, excerpt, names = snap.positions(ws, d)
                if proximity:
                    s *= 1.0 + PROXIMITY_BONUS * _closeness((title, excerpt), stems)
                if query_key and query_key in names:
                    s *= 1.0 + EXACT_NAME_BONUS  # the query is the record's name or one of its aliases
                rescored.append((d, s))
            best = sorted(rescored, key=lambda pair: (-pair[1], pair[0]))
        return best[start:end]

    # -- autocomplete ------------------------------------------------------------------------------

    def suggest(self, prefix: str | None, limit: int = 8) -> list[dict[str, Any]]:
        """Careers and colleges whose names or aliases start with the typed words (for autocomplete).

        Each typed word must begin a word of the name or of an alias. Names that begin with what was
        typed come first, then careers before colleges, then shorter names; only the winners' stored
        fields are read, so a one-letter prefix costs no more than a long one.
        """
        text, _ = clean_text(prefix)
        words = [w.lower()[:20] for w in re.findall(r"\w+", text[:100])][:6]
        if not words:
            return []
        try:
            limit = max(1, min(int(limit), 20))
        except (TypeError, ValueError):
            raise SearchError("limit must be a whole number", param="limit") from None
        try:
            with self._lease() as (snap, ws):
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
        except _Unavailable:
            return []
        return out

    # -- careers -> programs ---------------------------------------------------------------------

    def career_links(self, soc_code: str) -> dict[str, Any] | None:
        """The fields of study and accreditors indexed for a career, or None when it is not indexed."""
        if not isinstance(soc_code, str) or not soc_code.strip() or len(soc_code) > 64:
            raise SearchError("soc_code must be a non-empty string", param="soc_code")
        try:
            with self._lease() as (_snap, ws):
                stored = ws.document(id=f"career:{soc_code.strip()}")
        except _Unavailable:
            return None
        if not stored:
            return None
        data = stored.get("data") or {}
        return {
            "soc_code": soc_code.strip(), "title": stored.get("title"),
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
        given = dict(filters or {})
        if "degree" in given:
            given.setdefault("degree_level", given.pop("degree"))
        if "online" in given:
            online = given.pop("online")
            values = [v for v in as_list(online) if v.strip()]
            if values:
                flag = normalize_yes_no(values[0])
                if flag is None:
                    raise SearchError(f"online must be yes or no, got {values[0][:40]!r}", param="online")
                if flag == "yes":
                    given.setdefault("delivery", "online")
        given.pop("kind", None)
        page, per_page = self._check_paging(page, per_page)
        sort = self._check_sort(sort)
        active = normalize_filters(given)
        location, miles = _check_near(near, radius)
        if sort == "distance" and location is None:
            raise SearchError("sort=distance needs near", param="sort")
        result = SearchResult(query="", total=0, page=page, per_page=per_page, hits=[], facets={}, sort=sort)
        if location is not None:
            result.near = location.to_dict(miles or geo.DEFAULT_RADIUS_MILES)
        if links is None:
            result.messages.append(f"No career with SOC code {soc_code!r} is in the index.")
            result.took_ms = (time.perf_counter() - started) * 1000
            return result
        fields = links["fields_of_study"]
        if not fields:
            result.messages.append("The index does not know which fields of study lead to this career.")
            result.filters = active
            result.took_ms = (time.perf_counter() - started) * 1000
            return result
        active = {"kind": ["program"], **active}
        active.setdefault("field_of_study", list(fields))
        result.filters = active
        parsed = parse_query("")
        try:
            with self._lease() as (snap, ws):
                by_field = snap.value_sets(ws, "field_of_study")
                statuses = snap.value_sets(ws, "accreditation_status")
                _rated, ratings = snap.rated(ws)
                lowered = {k.lower(): v for k, v in by_field.items()}

                def rank(ids: int) -> list[int]:
                    field_rank: dict[int, int] = {}
                    for i, name in enumerate(fields):
                        for d in iter_bits(lowered.get(name.lower(), 0) & ids):
                            field_rank.setdefault(d, i)
                    status_rank: dict[int, int] = {}
                    for status, docs in statuses.items():
                        for d in iter_bits(docs & ids):
                            status_rank[d] = min(status_rank.get(d, 9), _STATUS_RANK.get(status, 5))
                    return sorted(iter_bits(ids), key=lambda d: (field_rank.get(d, 99), status_rank.get(d, 5),
                                                                 -ratings[d], d))

                self._execute(snap, ws, parsed, result, active, {}, location, miles, DEFAULT_RELEVANCE, True,
                              ranker=rank)
        except _Unavailable as exc:
            result.messages.append(f"Search is unavailable right now: {exc}")
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    # -- parameter checks ------------------------------------------------------------------------

    def _check_paging(self, page: Any, per_page: Any) -> tuple[int, int]:
        try:
            if isinstance(page, bool) or isinstance(per_page, bool):
                raise ValueError
            page_n, per_n = int(page), int(per_page)
        except (TypeError, ValueError):
            raise SearchError("page and per_page must be whole numbers", param="page") from None
        if page_n < 1:
            raise SearchError("page must be 1 or more", param="page")
        if page_n > MAX_PAGE:
            raise SearchError(f"page must be at most {MAX_PAGE}", param="page")
        if per_n < 1:
            raise SearchError("per_page must be 1 or more", param="per_page")
        return page_n, min(per_n, self.max_per_page)

    @staticmethod
    def _check_sort(sort: Any) -> str:
        text = (str(sort).strip().lower() if sort is not None else "") or "relevance"
        if text not in SORTS:
            raise SearchError(f"sort must be one of {', '.join(SORTS)}, got {str(sort)[:40]!r}", param="sort")
        return text


class _Unavailable(Exception):
    """The index cannot be used right now (missing or damaged)."""


def _closeness(texts: tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]], stems: list[str]) -> float:
    """How close together the query's words sit in the title (1.0) or the excerpt (0.6): 0..1."""
    title, excerpt = texts
    return max(closeness(title, stems), 0.6 * closeness(excerpt, stems))


def _analyze_text(word: str) -> list[str]:
    return [t.text for t in STEM_ANALYZER(word)]


def name_key(text: str) -> tuple[str, ...] | None:
    """A name as stems without stop words ("Dental Hygienists" = "dental hygienist")."""
    key = tuple(t.text for t in STEM_ANALYZER(text or ""))
    return key or None


def _stem_positions(text: str) -> dict[str, tuple[int, ...]]:
    found: dict[str, list[int]] = {}
    for token in STEM_ANALYZER(text, positions=True):
        found.setdefault(token.text, []).append(token.pos)
    return {k: tuple(v) for k, v in found.items()}


def _walk(order: Any, matched: int, end: int) -> list[int]:
    """The first ``end`` docnums of a precomputed order that are in the mask."""
    if matched.bit_count() < 512:
        # few matches: sort them directly instead of walking the whole order
        rank = {}
        wanted = set(iter_bits(matched))
        for position, d in enumerate(order):
            if d in wanted:
                rank[d] = position
                if len(rank) == len(wanted):
                    break
        return sorted(wanted, key=lambda d: rank.get(d, math.inf))[:end]
    data = matched.to_bytes((matched.bit_length() + 7) // 8, "little")
    width = len(data)
    out = []
    for d in order:
        i = d >> 3
        if i < width and data[i] >> (d & 7) & 1:
            out.append(d)
            if len(out) >= end:
                break
    return out


def window_closeness(text: str, stems: list[str]) -> float:
    """How close together the stems stand in a text (see ``closeness``)."""
    return closeness(_stem_positions(text), stems)


def closeness(positions: Mapping[str, Sequence[int]], stems: list[str]) -> float:
    """1.0 when all the stems appear adjacent, less as the smallest window holding them widens or misses some."""
    wanted = set(stems)
    present = [positions[s] for s in wanted if s in positions]
    if len(present) < 2:
        return 0.0
    events = sorted((pos, i) for i, plist in enumerate(present) for pos in plist)
    counts = [0] * len(present)
    covered, left, best = 0, 0, math.inf
    for right_pos, i in events:
        counts[i] += 1
        if counts[i] == 1:
            covered += 1
        while covered == len(present):
            left_pos, j = events[left]
            best = min(best, right_pos - left_pos + 1)
            counts[j] -= 1
            if counts[j] == 0:
                covered -= 1
            left += 1
    coverage = len(present) / len(wanted)
    return coverage * (len(present) / best) if best != math.inf else 0.0


def _check_near(near: Any, radius: Any) -> tuple[geo.Location | None, float | None]:
    if near is None or (isinstance(near, str) and not near.strip()):
        return None, None  # a radius without a place is ignored (forms send both fields)
    if not isinstance(near, str):
        raise SearchError("near must be a ZIP code, a city such as “Atlanta, GA”, or “lat,lon”", param="near")
    try:
        return geo.resolve(near), geo.parse_radius(radius)
    except geo.LocationError as exc:
        raise SearchError(str(exc), code="bad_location", param="near" if "radius" not in str(exc) else "radius") from None


def _query_filter(name: str, raw: str, messages: list[str]) -> list[tuple[str, str]]:
    """Filters typed in the query (``online:yes`` becomes delivery=online); bad values become messages."""
    if name == "online":
        flag = None
        with contextlib.suppress(ValueError):
            flag = normalize_value("military_friendly", raw)
        if flag is None:
            messages.append(f"Ignored online:{raw} (use online:yes).")
            return []
        return [("delivery", "online")] if flag == "yes" else [("delivery", "campus")]
    if name not in FILTERS:
        return []
    values = [v for v in raw.split(",") if v.strip()] if name in ("state", "kind", "degree_level") else [raw]
    out: list[tuple[str, str]] = []
    for value in values:
        try:
            out.append((name, normalize_value(name, value)))
        except ValueError as exc:
            messages.append(f"Ignored {name}:{value} ({exc}).")
    return out


def _apply_fixes(text: str, fixes: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        word = m.group(0)
        fix = fixes.get(word.lower())
        if fix is None:
            return word
        return fix.capitalize() if word[:1].isupper() else fix

    return re.sub(r"\w+", repl, text)


def _contains_words(title: str, words: list[str]) -> bool:
    lowered = re.findall(r"\w+", title.lower())
    return all(any(t.startswith(w) for t in lowered) for w in words)


def _alias_hit(stored: dict[str, Any], words: list[str]) -> str | None:
    data = stored.get("data") or {}
    for alias in [*as_list(data.get("also_known_as")), *as_list(data.get("aliases"))]:
        if _contains_words(alias, words):
            return alias
    return None


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
