"""What the detail and listing pages show, as plain dicts: the HTML pages and the JSON API render the same data."""

from __future__ import annotations

import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any

from catalog import Catalog
from catalog.store import StoredItem
from model.sources import source_label
from webapp.templating import status_label

REVIEWS_PER_PAGE = 10
LISTING_PER_PAGE = 100


def record_meta(stored: StoredItem) -> dict[str, Any]:
    """Where a record came from and when the crawler last saw it (shown on every record)."""
    return {
        "source": stored.source,
        "source_url": stored.data.get("url") or stored.url,
        "page_url": stored.page_url or stored.url,
        "first_seen": stored.first_seen,
        "last_seen": stored.last_seen,
        "last_changed": stored.last_changed,
    }


def _with_id(stored: StoredItem) -> dict[str, Any]:
    data = dict(stored.data)
    data["id"] = stored.item_id
    return data


# -- institution -----------------------------------------------------------------------


def institution_detail(
    cat: Catalog, unitid: str, *, category: str | None = None, page: int = 1, per_page: int = REVIEWS_PER_PAGE
) -> dict[str, Any] | None:
    """An institution with its accreditation, programs, rating histogram and one page of reviews."""
    stored = cat.fused.get("institution", unitid)
    if stored is None:
        return None
    data = _with_id(stored)
    programs = [_with_id(p) for p in cat.fused.children(unitid, "program", order="title")]
    by_program = cat.fused.source_names("program", [p["id"] for p in programs])
    for program in programs:
        program["sources"] = [{"source": name, "label": source_label(name)} for name in by_program.get(program["id"], [])]
    stats = cat.fused.rating_stats(unitid).get(unitid) or {"count": 0, "average": None,
                                                     "histogram": {i: 0 for i in range(1, 6)}}
    categories = Counter(
        (r.data.get("category") or "") for r in cat.fused.children(unitid, "review") if r.data.get("category")
    )
    where = {"category": category} if category else None
    total = cat.fused.count_children(unitid, "review", where)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    reviews = [_with_id(r) for r in cat.fused.children(unitid, "review", limit=per_page, offset=(page - 1) * per_page,
                                                  where_json=where, order="newest")]
    return {
        "institution": data,
        "meta": record_meta(stored),
        "accreditation": {
            "institutional": {
                "accreditor": data.get("accreditor"),
                "status": data.get("accreditation_status"),
                "accredited_since": data.get("accredited_since"),
                "next_review": data.get("next_review"),
            },
            "programmatic": [
                {"program_id": p["id"], "program": p.get("name"), "accreditor": p.get("accreditor"),
                 "accreditor_name": p.get("accreditor_name"), "status": p.get("accreditation_status"),
                 "accredited_since": p.get("accredited_since"), "next_review": p.get("next_review")}
                for p in programs if p.get("accreditor")
            ],
        },
        "programs": programs,
        "programs_offered": list(data.get("programs_offered") or []),
        "rating": {"count": stats["count"], "average": stats["average"],
                   "histogram": {str(k): v for k, v in sorted(stats["histogram"].items())}},
        "reviews": {
            "category": category,
            "categories": [{"value": c, "count": n} for c, n in sorted(categories.items())],
            "total": total,
            "page": page,
            "pages": pages,
            "per_page": per_page,
            "items": reviews,
        },
    }


# -- program ---------------------------------------------------------------------------


def status_history(cat: Catalog, program_id: str, current_status: str | None) -> list[dict[str, Any]]:
    """The program's accreditation status after each change the crawls saw, oldest first."""
    changes = cat.fused.item_history("program", program_id)
    after: list[str | None] = [None] * len(changes)
    status = current_status
    # Walk back from today's status: a change that moved the status tells us what it was before.
    for i in range(len(changes) - 1, -1, -1):
        after[i] = status
        diff = changes[i].diff or {}
        if "accreditation_status" in diff:
            status = diff["accreditation_status"][0]
    history = []
    for change, status_after in zip(changes, after, strict=True):
        diff = change.diff or {}
        moved = diff.get("accreditation_status")
        history.append({
            "at": change.at,
            "op": change.op,
            "status": status_after,
            "previous_status": moved[0] if moved else None,
            "status_changed": bool(moved),
            "fields_changed": sorted(k for k in diff if k not in ("accreditation_status", "accreditation_status_raw")
                                     and k not in BOOKKEEPING_FIELDS and not k.endswith("_raw")),
            "run_id": change.run_id,
        })
    return history


def _linked_institution(cat: Catalog, data: dict[str, Any]) -> dict[str, Any] | None:
    """The institution a program or review is linked to, when it is linked and stored."""
    if not data.get("institution_unitid"):
        return None
    inst = cat.fused.get("institution", str(data["institution_unitid"]))
    return _with_id(inst) if inst is not None else None


def program_detail(cat: Catalog, program_id: str) -> dict[str, Any] | None:
    """A program with its institution, the history of its accreditation status, its sources and their conflicts."""
    stored = cat.fused.get("program", program_id)
    if stored is None:
        return None
    data = _with_id(stored)
    institution = _linked_institution(cat, data)
    return {
        "program": data,
        "meta": record_meta(stored),
        "institution": institution,
        "history": status_history(cat, program_id, data.get("accreditation_status")),
        "sources": [_source_row(s) for s in cat.fused.sources("program", program_id)],
        "conflicts": [_conflict_row(c) for c in cat.fused.conflicts("program", program_id)],
    }


# How the program page names the facts a source gave (fields it does not show are left out).
FACT_LABELS: dict[str, str] = {
    "name": "Name", "field": "Field of study", "degree_level": "Degree", "delivery": "Delivery",
    "accreditor": "Accreditor", "accreditor_name": "Accreditor", "accreditation_status": "Accreditation status",
    "accredited_since": "Accredited since", "next_review": "Next review", "military_friendly": "Military friendly",
    "institution_name": "School", "city": "Place", "state": "Place",
}
# Fields that say where a record came from, not what it is: not listed among a change's updated details.
BOOKKEEPING_FIELDS = frozenset({"source", "url", "page_url", "program_id", "institution_unitid"})


def _source_row(found: dict[str, Any]) -> dict[str, Any]:
    facts = list(dict.fromkeys(FACT_LABELS[f] for f in found["fields"] if f in FACT_LABELS))
    return {"source": found["source"], "label": source_label(found["source"]), "url": found["url"],
            "last_seen": found["last_seen"], "first_seen": found["first_seen"], "fields": found["fields"],
            "facts": facts, "record_id": found["item_id"], "live": found["live"], "removed_at": found["removed_at"]}


def _shown(name: str, value: Any) -> str:
    return status_label(value) if name == "accreditation_status" else str(value)


def _conflict_row(conflict: dict[str, Any]) -> dict[str, Any]:
    """A disagreement between sources, with the sentence that explains it."""
    name = conflict["field"]
    since = f" since {conflict['since'][:10]}" if conflict.get("since") else ""
    others = "; ".join(f"{source_label(o['source'])} still lists {_shown(name, o['value'])}" for o in conflict["others"])
    return {
        "field": name,
        "value": conflict["value"],
        "source": conflict["source"],
        "since": conflict.get("since"),
        "others": [{"source": o["source"], "value": o["value"], "since": o.get("since")} for o in conflict["others"]],
        "message": f"{source_label(conflict['source'])}: {_shown(name, conflict['value'])}{since}; {others}",
    }


def current_program_id(cat: Catalog, some_id: str) -> str | None:
    """The fused program an old id now means (a source's own program id, or a program merged into another)."""
    return cat.fused.current_id("program", some_id)


# -- review ----------------------------------------------------------------------------


def review_detail(cat: Catalog, review_id: str) -> dict[str, Any] | None:
    """One review with the institution it is about (when linked)."""
    stored = cat.fused.get("review", review_id)
    if stored is None:
        return None
    data = _with_id(stored)
    institution = _linked_institution(cat, data)
    return {"review": data, "meta": record_meta(stored), "institution": institution}


# -- career ----------------------------------------------------------------------------


def career_record(cat: Catalog, soc_code: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A career's fields and source meta, or None."""
    stored = cat.fused.get("career", soc_code)
    if stored is None:
        return None
    return _with_id(stored), record_meta(stored)


def uses_onet(career: dict[str, Any], meta: dict[str, Any]) -> bool:
    """Whether the career shows O*NET data (its text or alternate titles came from O*NET)."""
    text = " ".join(str(career.get(k) or "") for k in ("source", "summary", "what_they_do", "url"))
    return "onet" in str(meta.get("source") or "").lower() or "onet" in text.lower() or "o*net" in text.lower()


# -- listings (A-Z, military friendly, online) -------------------------------------------


def first_letter(title: str) -> str:
    """The A-Z bucket of a title: its first letter without accents, or # for digits and symbols."""
    for ch in unicodedata.normalize("NFKD", title or ""):
        if ch.isalnum():
            upper = ch.upper()
            return upper if "A" <= upper <= "Z" else "#"
    return "#"


LISTING_FIELDS: dict[str, tuple[str, ...]] = {
    "career": ("title", "soc_code", "median_pay_annual", "outlook_pct", "outlook_desc", "entry_education",
               "also_known_as", "group"),
    "institution": ("name", "city", "state", "control", "level", "online", "military_friendly",
                    "accreditor", "accreditation_status", "aliases"),
    "program": ("name", "institution_name", "institution_unitid", "city", "state", "degree_level", "delivery",
                "accreditor", "accreditation_status", "military_friendly", "field"),
}


@dataclass
class ListingPage:
    """One page of an A-Z style listing."""

    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    letters: dict[str, int]
    letter: str | None
    states: dict[str, int]
    state: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"total": self.total, "page": self.page, "pages": self.pages, "letter": self.letter,
                "state": self.state, "letters": self.letters, "states": self.states, "results": self.items}


class Listings:
    """Titles of every live record per kind, cached per process until the catalog's change log moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = -1
        self._by_kind: dict[str, list[dict[str, Any]]] = {}

    @classmethod
    def for_app(cls) -> Listings:
        """The app's shared cache (one per process)."""
        from flask import current_app

        cache = current_app.extensions.get("collegesearch_listings")
        if cache is None:
            cache = current_app.extensions["collegesearch_listings"] = cls()
        return cache

    def rows(self, cat: Catalog, kind: str) -> list[dict[str, Any]]:
        """Every live record of a kind as small dicts sorted by title."""
        seq = cat.fused.max_change_seq()
        with self._lock:
            if seq != self._seq:
                self._by_kind = {}
                self._seq = seq
            if kind not in self._by_kind:
                rows = []
                for stored in cat.fused.iter_items(kind):
                    row = {k: stored.data.get(k) for k in LISTING_FIELDS[kind]}
                    row["id"] = stored.item_id
                    row["title"] = stored.data.get("title") or stored.data.get("name") or stored.item_id
                    row["letter"] = first_letter(str(row["title"]))
                    rows.append(row)
                rows.sort(key=lambda r: (str(r["title"]).casefold(), r["id"]))
                self._by_kind[kind] = rows
            return self._by_kind[kind]

    def page(
        self, cat: Catalog, kind: str, *, letter: str | None = None, state: str | None = None,
        where: dict[str, Any] | None = None, page: int = 1, per_page: int = LISTING_PER_PAGE,
    ) -> ListingPage:
        """One page of a kind's records, optionally of one letter, one state and matching ``where``."""
        rows = [r for r in self.rows(cat, kind) if all(r.get(k) == v for k, v in (where or {}).items())]
        states = Counter(str(r["state"]) for r in rows if r.get("state"))
        if state:
            rows = [r for r in rows if r.get("state") == state]
        letters = Counter(r["letter"] for r in rows)
        if letter:
            rows = [r for r in rows if r["letter"] == letter]
        total = len(rows)
        pages = max(1, -(-total // per_page))
        page = min(max(page, 1), pages)
        return ListingPage(
            items=rows[(page - 1) * per_page: page * per_page], total=total, page=page, pages=pages,
            letters=dict(sorted(letters.items())), letter=letter, states=dict(sorted(states.items())), state=state,
        )
