"""Record linkage: tie a record that names a school its own way to the IPEDS institution.

Review sites (and accreditor directories) write "Univ. of Alabama", drop or change campus
suffixes, use former names and the odd misspelling, and give a city and state but no IPEDS id.
``InstitutionIndex.link(name, city, state)`` compares the name with every institution of that
state (names and aliases, normalised so "Univ."/"University", "St."/"Saint", "&"/"and" agree)
using rapidfuzz, adds a bonus when the city agrees, and decides:

* ``matched``  - the best score reaches ``LINK_MIN_SCORE`` and clearly beats the runner-up;
* ``ambiguous`` - two institutions score about the same (kept unattached, with candidates);
* ``unmatched`` - nothing scores high enough (kept, flagged; a later crawl may bring the school).

The decision is never forced: a record that is not clearly one school stays unattached rather
than being attached to the wrong one. ``relink`` revisits unmatched/ambiguous decisions once the
catalog has more institutions. No Scrapy import: the catalog and tests use this directly.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process

from model.items import US_STATES, normalize_text_key

if TYPE_CHECKING:
    from catalog import Catalog

# Both sides are rewritten to one spelling per word, so abbreviations cost nothing.
_WORD_FORMS = {
    "university": "univ", "univ": "univ", "universty": "univ", "universit": "univ", "u": "univ",
    "college": "coll", "coll": "coll", "col": "coll", "colleges": "coll",
    "community": "comm", "comm": "comm", "cmty": "comm",
    "institute": "inst", "inst": "inst", "institution": "inst",
    "technical": "tech", "technology": "tech", "technological": "tech", "tech": "tech", "techn": "tech",
    "saint": "st", "st": "st", "ste": "st",
    "mount": "mt", "mt": "mt", "fort": "ft", "ft": "ft",
    "center": "ctr", "centre": "ctr", "ctr": "ctr", "cntr": "ctr",
    "school": "sch", "sch": "sch", "schools": "sch",
    "international": "intl", "intl": "intl", "national": "natl", "natl": "natl",
    "academy": "acad", "acad": "acad", "seminary": "sem", "sem": "sem",
    "theological": "theol", "theol": "theol", "medical": "med", "med": "med",
    "sciences": "sci", "science": "sci", "sci": "sci", "health": "hlth", "hlth": "hlth",
    "nursing": "nurs", "nurs": "nurs", "campus": "campus", "cc": "comm coll", "ctc": "comm tech coll",
}
_STOP = {"the", "of", "at", "in", "and", "for", "a", "an", "inc", "llc"}
# A typo that swaps two letters keeps the letters: "Univesrity" still reads as "university".
_ANAGRAMS = {"".join(sorted(word)): form for word, form in _WORD_FORMS.items() if len(word) >= 6}
_SPLIT = re.compile(r"[^\w]+", re.UNICODE)
_CAMPUS_SPLIT = re.compile(r"\s+-\s+|(?<=\w)-(?=[A-Z])|\s+—\s+|,\s+")


def normalize_name(name: str | None) -> str:
    """Lower-case words in one spelling (``Univ.`` = ``University``), no accents or stop words."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("&", " and ").replace("'", "").replace("\u2019", "")
    words: list[str] = []
    for word in _SPLIT.split(text.lower()):
        if not word or word in _STOP:
            continue
        form = _WORD_FORMS.get(word)
        if form is None and len(word) >= 6:
            form = _ANAGRAMS.get("".join(sorted(word)))
        words.append(form or word)
    return " ".join(words)


def normalize_city(city: str | None) -> str:
    """A city in a comparable form."""
    return normalize_name(city)


def name_variants(name: str, aliases: Iterable[str] = ()) -> list[str]:
    """The normalised forms a school may be written as: its name, the name without the campus
    part ("X University-Main Campus" -> "X University"), and each alias."""
    return [variant for variant, _base in _variants(name, aliases)]


def _variants(name: str, aliases: Iterable[str] = ()) -> list[tuple[str, bool]]:
    """(normalised form, is it the name with its campus part dropped)."""
    out: dict[str, bool] = {}
    for raw in [name, *aliases]:
        if not raw:
            continue
        whole = normalize_name(raw)
        if whole:
            out[whole] = False
        # IPEDS writes campuses as "Base-Place" (the last hyphen) or "Base - Place".
        parts = [_CAMPUS_SPLIT.split(raw)[0]]
        if "-" in raw:
            parts.append(raw.rsplit("-", 1)[0])
        for part in parts:
            norm = normalize_name(part)
            if norm and norm not in out:
                out[norm] = True
    return list(out.items())


def entity_key(data: dict[str, Any]) -> str:
    """Which source entity a record belongs to: the site's own id, else its name, city and state."""
    if data.get("entity_id"):
        return str(data["entity_id"])
    name = data.get("institution_name") or data.get("name") or ""
    city = data.get("institution_city") or data.get("city") or ""
    state = data.get("institution_state") or data.get("state") or ""
    return "name:" + "|".join(normalize_text_key(x) for x in (name, city, state))


def _entity_fields(data: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    name = data.get("institution_name")
    city = data.get("institution_city") if data.get("kind") == "review" else data.get("city")
    state = data.get("institution_state") if data.get("kind") == "review" else data.get("state")
    return name, city, state


@dataclass
class LinkResult:
    """A linkage decision with its evidence."""

    status: str
    unitid: str | None
    confidence: float
    candidates: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Inst:
    unitid: str
    name: str
    city: str
    state: str | None
    variants: list[tuple[str, bool]]


class InstitutionIndex:
    """Institutions by state, ready for fuzzy matching; safe to share between crawlers of a process."""

    def __init__(self, min_score: float = 90.0, margin: float = 4.0, city_bonus: float = 6.0,
                 campus_penalty: float = 5.0) -> None:
        self.min_score = min_score
        self.margin = margin
        self.city_bonus = city_bonus
        # A name that matches only once its campus part is dropped is weaker evidence than a
        # whole name or alias: "University of Houston" is the main campus, not "-Clear Lake".
        self.campus_penalty = campus_penalty
        self._by_id: dict[str, _Inst] = {}
        self._by_state: dict[str | None, dict[str, _Inst]] = defaultdict(dict)
        self._choices: dict[str | None, tuple[list[str], list[tuple[str, float]]] | None] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._by_id)

    def add(self, unitid: str, name: str, aliases: Iterable[str] = (), city: str | None = None,
            state: str | None = None) -> None:
        """Add or replace an institution."""
        if not unitid or not name:
            return
        inst = _Inst(unitid=str(unitid), name=name, city=normalize_city(city), state=state,
                     variants=_variants(name, aliases))
        with self._lock:
            old = self._by_id.get(inst.unitid)
            if old is not None:
                self._by_state[old.state].pop(old.unitid, None)
                self._choices.pop(old.state, None)
            self._by_id[inst.unitid] = inst
            self._by_state[state][inst.unitid] = inst
            self._choices.pop(state, None)
            self._choices.pop("*", None)

    def add_item(self, data: dict[str, Any]) -> None:
        """Add an institution given as item data (``Institution.to_dict()``)."""
        self.add(data.get("unitid") or "", data.get("name") or "", data.get("aliases") or (),
                 data.get("city"), data.get("state"))

    def remove(self, unitid: str) -> None:
        """Forget an institution (it was tombstoned)."""
        with self._lock:
            old = self._by_id.pop(str(unitid), None)
            if old is not None:
                self._by_state[old.state].pop(old.unitid, None)
                self._choices.pop(old.state, None)
                self._choices.pop("*", None)

    @classmethod
    def from_catalog(cls, catalog: Catalog, **kwargs: Any) -> InstitutionIndex:
        """Every live institution of the catalog."""
        index = cls(**kwargs)
        for stored in catalog.iter_items("institution"):
            index.add_item(stored.data)
        return index

    def _pool(self, state: str | None) -> tuple[list[str], list[tuple[str, float]]]:
        key = state if state in self._by_state else "*"
        with self._lock:
            cached = self._choices.get(key)
            if cached is None:
                insts: Iterable[_Inst] = self._by_state[key].values() if key != "*" else self._by_id.values()
                strings: list[str] = []
                owners: list[tuple[str, float]] = []
                for inst in insts:
                    for variant, is_base in inst.variants:
                        strings.append(variant)
                        owners.append((inst.unitid, self.campus_penalty if is_base else 0.0))
                cached = (strings, owners)
                self._choices[key] = cached
        return cached

    def link(self, name: str | None, city: str | None = None, state: str | None = None) -> LinkResult:
        """Decide which institution a (name, city, state) means, if any clearly."""
        # The query is taken whole: its campus part is evidence, while the candidates' base names
        # (campus dropped) let "University of Phoenix" reach "University of Phoenix-Arizona".
        query = normalize_name(name)
        if not query:
            return LinkResult("unmatched", None, 0.0)
        state = state.strip().upper() if isinstance(state, str) and state.strip() else None
        if state is not None and state not in US_STATES:
            state = None
        if state is not None and not self._by_state.get(state):
            return LinkResult("unmatched", None, 0.0)
        strings, owners = self._pool(state)
        if not strings:
            return LinkResult("unmatched", None, 0.0)
        best: dict[str, float] = {}
        for _choice, score, idx in process.extract(query, strings, scorer=fuzz.token_sort_ratio, limit=24):
            unitid, penalty = owners[idx]
            if score - penalty > best.get(unitid, -1):
                best[unitid] = float(score) - penalty
        want_city = normalize_city(city)
        scored: list[tuple[float, str]] = []
        for unitid, score in best.items():
            inst = self._by_id[unitid]
            if want_city and inst.city and want_city == inst.city:
                score += self.city_bonus
            scored.append((score, unitid))
        scored.sort(key=lambda t: (-t[0], t[1]))
        candidates = [
            {"unitid": u, "name": self._by_id[u].name, "score": round(s, 1)} for s, u in scored[:3]
        ]
        top_score, top_id = scored[0]
        runner = scored[1][0] if len(scored) > 1 else 0.0
        confidence = round(min(100.0, top_score), 1)
        if top_score >= self.min_score and top_score - runner >= self.margin:
            return LinkResult("matched", top_id, confidence, candidates)
        if top_score >= self.min_score:
            return LinkResult("ambiguous", None, confidence, candidates)
        return LinkResult("unmatched", None, confidence, candidates)


_SHARED: dict[str, InstitutionIndex] = {}
_SHARED_LOCK = threading.Lock()


def _catalog_key(location: Any) -> str:
    """One name per catalog: the resolved file of an SQLite catalog, the URL of a PostgreSQL one."""
    return _resolved_key(str(location))


@functools.lru_cache(maxsize=64)
def _resolved_key(location: str) -> str:
    # Cached: every crawled institution asks (``note_institution``), and resolving a path costs a
    # system call per directory of it.
    from pathlib import Path

    from catalog.database import is_postgres

    return location if is_postgres(location) else str(Path(location).resolve())


def shared_index(catalog: Catalog, min_score: float) -> InstitutionIndex:
    """One index per catalog per process, loaded on first use and kept current by crawls."""
    key = _catalog_key(catalog.location)
    with _SHARED_LOCK:
        index = _SHARED.get(key)
        if index is None:
            index = InstitutionIndex.from_catalog(catalog, min_score=min_score)
            _SHARED[key] = index
        index.min_score = min_score
        return index


def note_institution(catalog_location: Any, data: dict[str, Any]) -> None:
    """Add a just-crawled institution to this process's index of that catalog, if one is loaded."""
    index = _SHARED.get(_catalog_key(catalog_location))
    if index is not None:
        index.add_item(data)


def forget_shared_indexes() -> None:
    """Drop the per-process indexes (tests)."""
    with _SHARED_LOCK:
        _SHARED.clear()


def _iter_linkable(catalog: Catalog, sources: set[str] | None) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind in ("review", "program"):
        for stored in catalog.iter_items(kind):
            if sources is not None and stored.source not in sources:
                continue
            yield stored.item_id, stored.data


def relink(catalog: Catalog, index: InstitutionIndex, *, sources: Iterable[str] | None = None,
           run_ids: dict[str, int] | None = None) -> Counter[str]:
    """Revisit unmatched and ambiguous decisions; update the records of entities now matched.

    Only entities whose decision changes are touched; their records keep their last run id, so
    the relink never counts as "seen" for the missing-item sweep.
    """
    wanted = set(sources) if sources is not None else None
    counts: Counter[str] = Counter()
    resolved: dict[tuple[str, str], LinkResult] = {}
    for link in catalog.list_links():
        if link.status == "matched" or (wanted is not None and link.source not in wanted):
            continue
        result = index.link(link.name, link.city, link.state)
        if result.status == link.status and result.unitid == link.unitid:
            continue
        catalog.save_link(source=link.source, entity_id=link.entity_id, name=link.name, city=link.city,
                          state=link.state, unitid=result.unitid, confidence=result.confidence,
                          status=result.status, candidates=result.candidates)
        counts[f"{link.status}->{result.status}"] += 1
        if result.status == "matched":
            resolved[(link.source, link.entity_id)] = result
    if not resolved:
        return counts
    from model.items import item_from_dict

    # First the ids of the records to change, streamed (a source's records, 30,000 reviews, held at
    # once would double a crawl's peak memory), then each record read again and written.
    todo: list[tuple[str, str, LinkResult]] = []
    for source in sorted({source for source, _ in resolved}):
        for kind in ("review", "program"):
            for streamed in catalog.iter_items(kind, source=source):
                found = resolved.get((streamed.source, entity_key(streamed.data)))
                if found is not None and streamed.data.get("institution_unitid") != found.unitid:
                    todo.append((kind, streamed.item_id, found))
    with catalog.transaction():
        for kind, item_id, found in todo:
            stored = catalog.get(kind, item_id)
            if stored is None:
                continue
            data = dict(stored.data)
            data["institution_unitid"] = found.unitid
            if kind == "review":
                data["link_status"] = "matched"
                data["link_confidence"] = found.confidence
            item = item_from_dict(data)
            catalog.upsert(item, run_id=stored.last_run_id, page_url=stored.page_url)
            counts["relinked"] += 1
    return counts


def link_fields(data: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """The name, city and state a record gives for its school."""
    return _entity_fields(data)
