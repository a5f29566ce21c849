"""The index schema, declared once: every field and facet, and the item -> document mapping.

One Whoosh schema holds all four kinds (career, institution, program, review). ``FACETS`` lists the
facet fields the search page counts and filters; ``FILTERS`` adds the filter-only ones. Documents
are keyed by ``<kind>:<item_id>`` (``id``, unique), so re-indexing an item replaces it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from whoosh import columns
from whoosh import fields as wf
from whoosh.analysis import (
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.analysis.filters import STOP_WORDS
from whoosh.support.charset import accent_map

from indexer import brands, vocab

if TYPE_CHECKING:
    from catalog.store import StoredItem

# Bump when fields or to_document change shape: an index built by another version is rebuilt.
# 7: documents are fused entities, and the watermark counts the fused records' change log.
# 8: a flagship carries its system's brand as an alias (``indexer.brands``), and so do its programs and reviews.
SCHEMA_VERSION = 8
# Column value of a document without coordinates (outside every valid latitude and longitude).
NO_COORDINATE = 999.0

# Words are runs of letters/digits, keeping dotted abbreviations ("a.a.s", "ph.d") together.
TOKEN_PATTERN = r"\w+(?:\.\w+)*"

# Stemmed English text: "technologists" and "technologist" meet, accents fold ("Café" = "cafe").
STEM_ANALYZER = (
    RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)
    | StopFilter(stoplist=STOP_WORDS, minsize=1) | StemFilter(cachesize=100000)
)
# Exact words (places, spelling): state codes such as "IN" or "OR" must survive, so no stop list.
PLAIN_ANALYZER = RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)


class DocSchema(wf.SchemaClass):
    """All fields of the one index."""

    # identity and display (stored)
    id = wf.ID(unique=True, stored=True)
    kind = wf.ID(stored=True, sortable=True)
    item_id = wf.STORED()
    title = wf.STORED()
    url = wf.STORED()
    excerpt = wf.STORED()
    """Short text the snippet is highlighted from (escaped at display)."""
    data = wf.STORED()
    """The item model's fields plus derived ones (rating_avg, review_count, fields_of_study)."""
    # searchable text; only the catch-all ``text`` keeps word positions (quoted phrases): the short
    # fields are too short for adjacency to differ from co-occurrence, and positions double the cost
    # of indexing
    name = wf.TEXT(analyzer=STEM_ANALYZER, phrase=False)
    """The record's own name or title (the highest-boosted text field)."""
    aliases = wf.TEXT(analyzer=STEM_ANALYZER, phrase=False)
    institution = wf.TEXT(analyzer=STEM_ANALYZER, phrase=False)
    subjects = wf.TEXT(analyzer=STEM_ANALYZER, phrase=False)
    text = wf.TEXT(analyzer=STEM_ANALYZER, phrase=True)
    """Everything searchable about the record (names, subjects, place and long text): every query word
    must be found here; the short fields above add their boosts on top."""
    place = wf.TEXT(analyzer=PLAIN_ANALYZER, phrase=False)
    spell = wf.TEXT(analyzer=PLAIN_ANALYZER, phrase=False)
    """Unstemmed words of the record, for "did you mean"."""
    complete = wf.NGRAMWORDS(minsize=1, maxsize=20, at="start", tokenizer=RegexTokenizer(r"\w+"))
    """Prefixes of names and aliases, for autocomplete."""
    # facets and filters
    state = wf.ID(sortable=True)
    city = wf.ID()
    degree_level = wf.KEYWORD(commas=True)
    field_of_study = wf.KEYWORD(commas=True)
    accreditor = wf.KEYWORD(commas=True)
    accreditation_status = wf.KEYWORD(commas=True)
    delivery = wf.KEYWORD(commas=True)
    military_friendly = wf.ID(sortable=True)
    rating_band = wf.ID(sortable=True)
    soc_code = wf.ID()
    institution_unitid = wf.ID()
    source = wf.STORED()
    # numbers and dates: per-document columns only (they back sorting, rating ranges and near-me;
    # indexing them as Whoosh numeric terms would add ~16 postings per value and nothing we query)
    rating = wf.COLUMN(columns.NumericColumn("d", default=0.0))
    review_count = wf.COLUMN(columns.NumericColumn("i", default=0))
    pay = wf.COLUMN(columns.NumericColumn("q", default=0))
    pay_p10 = wf.COLUMN(columns.NumericColumn("q", default=0))
    pay_p90 = wf.COLUMN(columns.NumericColumn("q", default=0))
    outlook_pct = wf.COLUMN(columns.NumericColumn("d", default=0.0))
    date = wf.COLUMN(columns.NumericColumn("i", default=0))
    """Day number (``date.toordinal()``) of the record's own date, else of its last change."""
    next_review = wf.COLUMN(columns.NumericColumn("i", default=0))
    lat = wf.COLUMN(columns.NumericColumn("d", default=NO_COORDINATE))
    lon = wf.COLUMN(columns.NumericColumn("d", default=NO_COORDINATE))
    title_sort = wf.COLUMN(columns.VarBytesColumn())
    """Lower-cased title without a leading article, as UTF-8 bytes (the "name" sort order)."""


SCHEMA = DocSchema()

# Facets counted on the results page, in display order (the web app builds its whitelist from this).
FACETS: tuple[str, ...] = (
    "kind", "state", "degree_level", "accreditor", "accreditation_status", "delivery", "military_friendly", "rating",
)
# Where each facet's values live in the index (rating is counted in whole-star bands).
FACET_FIELDS: dict[str, str] = {name: name for name in FACETS} | {"rating": "rating_band"}
# Every filter a caller may pass: the facets plus filter-only fields.
FILTERS: tuple[str, ...] = FACETS + ("field_of_study", "city", "institution_unitid", "soc_code")
# Sort orders and the text fields the query is run against.
TEXT_FIELDS: tuple[str, ...] = ("name", "aliases", "institution", "subjects", "place", "text")
KIND_ORDER: tuple[str, ...] = ("career", "institution", "program", "review")
# Item fields too long to copy into every search hit (the detail pages read them from the catalog).
LONG_FIELDS: frozenset[str] = frozenset({"what_they_do", "work_environment", "how_to_become", "pay_raw"})
EXCERPT_CHARS = 480
# How a military-friendly school is described (College Navigator's sign is the Yellow Ribbon Program).
MILITARY_WORDS = "military friendly Yellow Ribbon"


class LinkContext(Protocol):
    """Linked records a document needs: an institution, its rating, its programs."""

    def institution(self, unitid: str | None) -> dict[str, Any] | None:
        """The live institution's data, or None."""

    def rating(self, unitid: str | None) -> tuple[float | None, int]:
        """(average, count) of the institution's live reviews."""

    def programs(self, unitid: str | None) -> list[dict[str, Any]]:
        """The institution's live programs' data."""

    def campuses(self, base: str) -> list[str]:
        """Names of the live institutions named "<base>-..." (a system's campuses, for ``indexer.brands``)."""


@dataclass
class StaticContext:
    """A LinkContext over dicts already in memory (rebuilds preload everything; tests build small ones)."""

    institutions: dict[str, dict[str, Any]] = field(default_factory=dict)
    ratings: dict[str, tuple[float | None, int]] = field(default_factory=dict)
    programs_by_institution: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _campuses: dict[str, list[str]] | None = field(default=None, init=False, repr=False)

    def institution(self, unitid: str | None) -> dict[str, Any] | None:
        """The institution's data, or None."""
        return self.institutions.get(unitid or "")

    def rating(self, unitid: str | None) -> tuple[float | None, int]:
        """(average, count) of the institution's reviews."""
        return self.ratings.get(unitid or "", (None, 0))

    def programs(self, unitid: str | None) -> list[dict[str, Any]]:
        """The institution's programs."""
        return self.programs_by_institution.get(unitid or "", [])

    def campuses(self, base: str) -> list[str]:
        """Names of the institutions named "<base>-..."."""
        if self._campuses is None:
            # one pass over every name, for the few flagships a rebuild asks about
            names = [str(d.get("name") or "") for d in self.institutions.values()]
            bases = {b for b in (brands.flagship_base(n) for n in names) if b}
            self._campuses = {}
            for name in names:
                for base_name in bases:
                    if brands.campus_part(name, base_name):
                        self._campuses.setdefault(base_name, []).append(name)
        return sorted(self._campuses.get(base, []))


def doc_id(kind: str, item_id: str) -> str:
    """The stable document id of an item."""
    return f"{kind}:{item_id}"


def to_document(stored: StoredItem, context: LinkContext) -> dict[str, Any]:
    """The index document of one live catalog item, with its linked records folded in."""
    data = dict(stored.data)
    kind = stored.kind
    builder = _BUILDERS[kind]
    doc: dict[str, Any] = {
        "id": doc_id(kind, stored.item_id),
        "kind": kind,
        "item_id": stored.item_id,
        "url": stored.url or data.get("url") or "",
        "source": stored.source or data.get("source") or "",
    }
    derived = builder(data, context, doc)
    title = doc.get("title") or stored.item_id
    doc["title"] = title
    doc["title_sort"] = _sort_key(title).encode("utf-8")
    if "date" not in doc:
        doc["date"] = _parse_date(stored.last_changed)
    fields = {k: v for k, v in data.items() if k not in LONG_FIELDS}
    fields.update(derived)
    doc["data"] = fields
    body = doc.pop("body", None)
    doc["text"] = "\n".join(str(doc[f]) for f in ("name", "aliases", "institution", "subjects", "place") if doc.get(f))
    if body:
        doc["text"] += "\n" + str(body)
    # The spelling dictionary takes the names and subjects of every record but only the careers'
    # long texts: the 30k review bodies would double the postings of the whole index, and their
    # everyday words are in the career pages too.
    spelled = [str(doc.get(f, "")) for f in ("name", "aliases", "institution", "subjects", "place")]
    doc["spell"] = " ".join([*spelled, str(body or "")] if kind == "career" else spelled)
    return {k: v for k, v in doc.items() if v not in (None, "", [])}


# -- per-kind builders: fill doc in place, return derived fields for Hit.fields -------------------


def _career(data: dict[str, Any], context: LinkContext, doc: dict[str, Any]) -> dict[str, Any]:
    links = vocab.career_links(data)
    title = data.get("title") or ""
    aka = vocab.as_list(data.get("also_known_as"))
    doc["title"] = title
    doc["name"] = title
    doc["aliases"] = "\n".join(aka)
    doc["complete"] = "\n".join([title, *aka])
    doc["subjects"] = "\n".join([*links.fields, *links.accreditors, *_accreditor_names(links.accreditors)])
    doc["body"] = _join(
        data.get("summary"), data.get("what_they_do"), data.get("work_environment"), data.get("how_to_become"),
        data.get("entry_education"), data.get("training"), data.get("outlook_desc"),
        " ".join(vocab.as_list(data.get("similar_occupations"))), data.get("group"),
    )
    doc["excerpt"] = _excerpt(data.get("summary") or data.get("what_they_do") or data.get("how_to_become"))
    doc["soc_code"] = data.get("soc_code")
    level = _career_degree(data.get("entry_education"))
    doc["degree_level"] = _keywords([level])
    doc["field_of_study"] = _keywords(links.fields)
    doc["accreditor"] = _keywords(links.accreditors)
    doc["pay"] = _int(data.get("median_pay_annual"))
    doc["pay_p10"] = _int(data.get("pay_p10"))
    doc["pay_p90"] = _int(data.get("pay_p90"))
    doc["outlook_pct"] = _float(data.get("outlook_pct"))
    doc["date"] = _parse_date(data.get("updated"))
    return {"fields_of_study": links.fields, "linked_accreditors": links.accreditors, "degree_level": level}


def _institution(data: dict[str, Any], context: LinkContext, doc: dict[str, Any]) -> dict[str, Any]:
    unitid = data.get("unitid")
    name = data.get("name") or ""
    brand = _system_brand(name, context)
    aliases = _with_brand(_aliases(data.get("aliases")), brand)
    programs = context.programs(unitid)
    avg, count = context.rating(unitid)
    state = vocab.normalize_state(data.get("state"))
    program_fields = vocab.unique(_program_field(p) for p in programs)
    program_accreditors = vocab.unique(vocab.canonical_accreditor(p.get("accreditor")) for p in programs)
    own_accreditor = vocab.canonical_accreditor(data.get("accreditor"))
    levels = vocab.unique(vocab.normalize_degree(p.get("degree_level")) for p in programs)
    deliveries = vocab.unique(vocab.normalize_delivery(p.get("delivery")) for p in programs)
    if data.get("online"):
        deliveries = vocab.unique(["online", *deliveries])
    if not deliveries or data.get("online") is False:
        deliveries = vocab.unique([*deliveries, "campus"])
    doc["title"] = name
    doc["name"] = name
    doc["aliases"] = "\n".join(aliases)
    doc["complete"] = "\n".join([name, *aliases])
    # The institution's own facts are its subjects; its programs' fields and names only go in the
    # body text, so a search for a field finds the schools that teach it but ranks the programs first.
    doc["subjects"] = "\n".join([
        own_accreditor or "", *_accreditor_names([own_accreditor]), *deliveries,
        MILITARY_WORDS if data.get("military_friendly") else "", data.get("control") or "",
    ])
    doc["body"] = _join(
        data.get("level"), "\n".join(program_fields), "\n".join(p.get("name") or "" for p in programs),
        "\n".join(program_accreditors), "\n".join(_accreditor_names(program_accreditors)), " ".join(levels),
        " ".join(vocab.as_list(data.get("programs_offered"))), data.get("address"), data.get("website"),
    )
    doc["place"] = _place(data.get("city"), state, data.get("zip"))
    bits = [_place_label(data.get("city"), state), data.get("control"), data.get("level")]
    if programs:
        bits.append(f"{len(programs)} accredited programs: " + ", ".join(program_fields[:8]))
    elif data.get("programs_offered"):
        bits.append("Programs: " + ", ".join(vocab.as_list(data.get("programs_offered"))[:8]))
    doc["excerpt"] = _excerpt(" · ".join(b for b in bits if b))
    doc["state"] = state
    doc["city"] = _city_key(data.get("city"))
    doc["degree_level"] = _keywords(levels)
    doc["field_of_study"] = _keywords(program_fields)
    doc["accreditor"] = _keywords([own_accreditor, *program_accreditors])
    doc["accreditation_status"] = _keywords([vocab.normalize_status(data.get("accreditation_status"))])
    doc["delivery"] = _keywords(deliveries)
    doc["military_friendly"] = vocab.normalize_yes_no(data.get("military_friendly"))
    _set_rating(doc, avg, count)
    _set_location(doc, data.get("latitude"), data.get("longitude"))
    doc["next_review"] = _parse_date(data.get("next_review"))
    doc["date"] = _parse_date(data.get("accredited_since"))
    return {
        "rating_avg": avg, "review_count": count, "program_count": len(programs),
        "fields_of_study": program_fields, "accreditors": vocab.unique([own_accreditor, *program_accreditors]),
        "system_brand": brand,
    }


def _program(data: dict[str, Any], context: LinkContext, doc: dict[str, Any]) -> dict[str, Any]:
    unitid = data.get("institution_unitid")
    inst = context.institution(unitid) or {}
    avg, count = context.rating(unitid) if unitid else (None, 0)
    inst_name = inst.get("name") or data.get("institution_name") or ""
    inst_aliases = institution_aliases(inst, context)
    name = data.get("name") or data.get("field") or ""
    fos = _program_field(data)
    level = vocab.normalize_degree(data.get("degree_level"))
    accreditor = vocab.canonical_accreditor(data.get("accreditor") or data.get("accreditor_name"))
    acc_name = data.get("accreditor_name") or vocab.accreditor_name(accreditor)
    status = vocab.normalize_status(data.get("accreditation_status") or data.get("accreditation_status_raw"))
    delivery = vocab.normalize_delivery(data.get("delivery"))
    state = vocab.normalize_state(data.get("state") or inst.get("state"))
    city = data.get("city") or inst.get("city")
    military = data.get("military_friendly")
    if military is None:
        military = inst.get("military_friendly")
    doc["title"] = f"{name} ({inst_name})" if inst_name else name
    doc["name"] = _join(name, data.get("field"))
    doc["aliases"] = fos if fos and fos != name else None
    doc["institution"] = "\n".join([inst_name, *inst_aliases])
    doc["subjects"] = "\n".join(
        s for s in [fos, accreditor, acc_name, level, _degree_words(level), delivery, status and status.replace("_", " "),
                    MILITARY_WORDS if military else ""] if s
    )
    doc["body"] = _join(data.get("accreditation_status_raw"), inst.get("control"), inst.get("level"))
    doc["place"] = _place(city, state, inst.get("zip"))
    bits = [
        (level or "").capitalize(), fos, f"{accreditor} ({acc_name})" if acc_name and acc_name != accreditor else accreditor,
        _status_label(status), delivery and delivery.capitalize(), inst_name, _place_label(city, state),
    ]
    doc["excerpt"] = _excerpt(" · ".join(b for b in bits if b))
    doc["state"] = state
    doc["city"] = _city_key(city)
    doc["degree_level"] = _keywords([level])
    doc["field_of_study"] = _keywords([fos])
    doc["accreditor"] = _keywords([accreditor])
    doc["accreditation_status"] = _keywords([status])
    doc["delivery"] = _keywords([delivery])
    doc["military_friendly"] = vocab.normalize_yes_no(military)
    doc["institution_unitid"] = unitid
    _set_rating(doc, avg, count)
    _set_location(doc, inst.get("latitude"), inst.get("longitude"))
    doc["next_review"] = _parse_date(data.get("next_review"))
    doc["date"] = _parse_date(data.get("accredited_since"))
    return {
        "field_of_study": fos, "institution_rating_avg": avg, "institution_review_count": count,
        "institution_name": inst_name or data.get("institution_name"), "state": state, "city": city,
        "latitude": _float(inst.get("latitude")), "longitude": _float(inst.get("longitude")),
        "accreditor_name": acc_name, "institution_aliases": inst_aliases or None,
    }


def _review(data: dict[str, Any], context: LinkContext, doc: dict[str, Any]) -> dict[str, Any]:
    unitid = data.get("institution_unitid")
    inst = context.institution(unitid) or {}
    inst_name = inst.get("name") or data.get("institution_name") or ""
    state = vocab.normalize_state(data.get("institution_state") or inst.get("state"))
    city = data.get("institution_city") or inst.get("city")
    title = data.get("title") or (f"Review of {inst_name}" if inst_name else "Review")
    doc["title"] = title
    doc["name"] = data.get("title")
    doc["institution"] = "\n".join([inst_name, *institution_aliases(inst, context)])
    doc["subjects"] = _join(data.get("category"), data.get("author_role"))
    doc["body"] = data.get("body")
    doc["place"] = _place(city, state, None)
    doc["excerpt"] = _excerpt(data.get("body"))
    doc["state"] = state
    doc["city"] = _city_key(city)
    doc["institution_unitid"] = unitid
    rating = _float(data.get("rating"))
    _set_rating(doc, rating, None)
    _set_location(doc, inst.get("latitude"), inst.get("longitude"))
    doc["date"] = _parse_date(data.get("date"))
    return {"institution_name": inst_name or None, "latitude": doc.get("lat"), "longitude": doc.get("lon")}


_BUILDERS = {"career": _career, "institution": _institution, "program": _program, "review": _review}


# -- helpers ---------------------------------------------------------------------------------------


def _program_field(data: dict[str, Any]) -> str | None:
    return vocab.canonical_field(data.get("field"), data.get("name"))


def _accreditor_names(acronyms: Iterable[str | None]) -> list[str]:
    return [n for n in (vocab.accreditor_name(a) for a in acronyms if a) if n]


def institution_aliases(inst: dict[str, Any], context: LinkContext) -> list[str]:
    """An institution's aliases as the index knows them: its own, then its system's brand when it is the flagship."""
    return _with_brand(_aliases(inst.get("aliases")), _system_brand(str(inst.get("name") or ""), context))


def _with_brand(aliases: list[str], brand: str | None) -> list[str]:
    return vocab.unique([*aliases, brand]) if brand else aliases


def _system_brand(name: str, context: LinkContext) -> str | None:
    base = brands.flagship_base(name)
    return brands.system_brand(base, context.campuses(base)) if base else None


def _aliases(value: Any) -> list[str]:
    # IPEDS writes several aliases in one cell separated by commas, semicolons or pipes
    parts: list[str] = []
    for item in vocab.as_list(value):
        parts.extend(p.strip() for p in re.split(r"[;|,]", item) if p.strip())
    return vocab.unique(parts)


def _join(*parts: Any) -> str:
    return "\n".join(str(p) for p in parts if p)


def _keywords(values: Iterable[str | None]) -> str | None:
    # KEYWORD(commas=True) splits on commas, so a comma inside a value would make two values
    cleaned = vocab.unique(" ".join(str(v).replace(",", " ").split()) for v in values if v)
    return ",".join(cleaned) or None


def _excerpt(text: str | None) -> str:
    text = " ".join((text or "").split())
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text.rfind(" ", 0, EXCERPT_CHARS)
    return text[: cut if cut > EXCERPT_CHARS // 2 else EXCERPT_CHARS] + " …"


def _place(city: str | None, state: str | None, zip_code: str | None) -> str:
    return _join(city, state, vocab.state_name(state), (zip_code or "")[:5] or None)


def _place_label(city: str | None, state: str | None) -> str:
    return ", ".join(p for p in (city, state) if p)


def _city_key(city: str | None) -> str | None:
    return " ".join(city.lower().split()) if city else None


def _status_label(status: str | None) -> str | None:
    return status.replace("_", " ").capitalize() if status else None


def _degree_words(level: str | None) -> str | None:
    return {
        "certificate": "certificate diploma", "associate": "associate degree", "bachelor": "bachelor degree",
        "master": "master degree graduate", "doctoral": "doctoral doctorate degree graduate",
    }.get(level or "")


def _career_degree(entry_education: str | None) -> str | None:
    text = (entry_education or "").lower()
    if not text or "high school" in text or "no formal" in text or "some college" in text:
        return None
    if "nondegree" in text or "certificate" in text:
        return "certificate"
    return vocab.normalize_degree(text)


def _set_rating(doc: dict[str, Any], value: float | None, count: int | None) -> None:
    if value is not None and not math.isnan(value) and 0 < value <= 5:
        doc["rating"] = float(value)
        doc["rating_band"] = str(min(5, int(math.floor(value))))
    if count is not None:
        doc["review_count"] = int(count)


def _set_location(doc: dict[str, Any], lat: Any, lon: Any) -> None:
    la, lo = _float(lat), _float(lon)
    if la is not None and lo is not None and -90 <= la <= 90 and -180 <= lo <= 180 and (la, lo) != (0.0, 0.0):
        doc["lat"], doc["lon"] = la, lo


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        number = float(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None
    return None if number is None or math.isnan(number) or math.isinf(number) else number


def _parse_date(value: Any) -> int | None:
    """The day number (``toordinal``) of an ISO or US date, or None."""
    if not value:
        return None
    text = str(value).strip()
    for fmt, size in (("%Y-%m-%dT%H:%M:%S", 19), ("%Y-%m-%d", 10), ("%m/%d/%Y", 10), ("%Y-%m", 7), ("%Y", 4)):
        try:
            return datetime.strptime(text[:size], fmt).toordinal()
        except ValueError:
            continue
    return None


def _sort_key(title: str) -> str:
    key = " ".join(re.sub(r"[^\w\s]", " ", title.lower()).split())
    return re.sub(r"^(the|a|an) ", "", key)

