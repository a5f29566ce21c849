"""The item model: one dataclass per document kind, with no Scrapy import.

Everything downstream (catalog, indexer, web app, JSON API) speaks these field
names. Money is a whole number of dollars, percentages are numbers, dates are
ISO 8601 strings; the text as the site showed it may sit beside a parsed value
as ``<name>_raw``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

# The vocabularies live in model.vocab; they stay importable from here, where most callers import them.
from model.vocab import (
    ACCREDITATION_STATUSES,
    CONTROLS,
    DEGREE_LEVELS,
    DELIVERIES,
    KINDS,
    LINK_STATUSES,
    REVIEW_ORIGINS,
    US_STATES,
    Kind,
)

__all__ = [
    "ACCREDITATION_STATUSES",
    "CONTROLS",
    "DEGREE_LEVELS",
    "DELIVERIES",
    "ITEM_CLASSES",
    "KINDS",
    "LINK_STATUSES",
    "REVIEW_ORIGINS",
    "US_STATES",
    "Career",
    "Institution",
    "Item",
    "Kind",
    "Program",
    "Review",
    "field_names",
    "item_from_dict",
    "make_program_id",
    "normalize_text_key",
]


_SCALARS = frozenset({str, int, float, bool, type(None)})


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names_of(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, in declaration order (cached: ``dataclasses.fields`` is slow)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


@dataclass(kw_only=True)
class Item:
    """Fields every kind shares."""

    kind: ClassVar[str] = ""

    url: str
    """Canonical URL of the page the item came from."""
    source: str = ""
    """Name of the source (site profile) that produced it, e.g. ``bls_ooh``."""

    @property
    def item_id(self) -> str:
        """Stable id of the record within its kind (subclasses pick their natural key)."""
        return "url:" + hashlib.sha1(self.url.encode("utf-8")).hexdigest()[:16]

    @property
    def title(self) -> str:
        """A human title for logs and listings."""
        return self.url

    def to_dict(self) -> dict[str, Any]:
        """The item's fields plus ``kind``, as plain JSON-ready values (lists copied, as ``dataclasses.asdict``)."""
        # The crawl calls this for every item it stores; dataclasses.asdict deep-copies value by value
        # (most of an item's cost in the pipelines). Fields are scalars and lists of strings: copy
        # those directly, and leave anything else (a nested value set by hand) to asdict.
        data: dict[str, Any] = {}
        for name in _field_names_of(type(self)):
            value = getattr(self, name)
            kind = type(value)
            if kind in _SCALARS:
                data[name] = value
            elif kind is list and all(type(v) is str for v in value):
                data[name] = list(value)
            else:
                data = dataclasses.asdict(self)
                break
        data["kind"] = self.kind
        return data


@dataclass(kw_only=True)
class Career(Item):
    """An occupation: what it is, its pay, outlook and the education that leads to it."""

    kind: ClassVar[str] = "career"

    soc_code: str | None = None
    """Standard Occupational Classification code, e.g. ``29-2072``."""
    title: str = ""  # type: ignore[assignment]
    """Occupation title as the page heads it."""
    also_known_as: list[str] = field(default_factory=list)
    """Alternate job titles people use for it (OOH A-Z index, "Also known as" text)."""
    summary: str | None = None
    """One-paragraph description of what they do."""
    median_pay_annual: int | None = None
    median_pay_annual_raw: str | None = None
    median_pay_hourly: float | None = None
    pay_p10: int | None = None
    """Annual wage of the lowest 10 percent."""
    pay_p90: int | None = None
    """Annual wage of the highest 10 percent."""
    pay_raw: str | None = None
    """The sentence the percentiles were read from."""
    entry_education: str | None = None
    work_experience: str | None = None
    training: str | None = None
    jobs: int | None = None
    """Number of jobs in the base year."""
    projected_employment: int | None = None
    outlook_pct: float | None = None
    """Projected employment change over ten years, percent."""
    outlook_desc: str | None = None
    employment_change: int | None = None
    accreditors: list[str] = field(default_factory=list)
    """Accreditor names or acronyms the page names (e.g. CAHIIM)."""
    similar_occupations: list[str] = field(default_factory=list)
    group: str | None = None
    """Occupation group, e.g. ``healthcare``."""
    what_they_do: str | None = None
    work_environment: str | None = None
    how_to_become: str | None = None
    """Text of the "How to Become One" section (maps careers to fields of study)."""
    updated: str | None = None
    """Date the source page was last modified, ISO."""

    @property
    def item_id(self) -> str:
        """The SOC code when the page has one, else the OOH page slug, else a hash of the URL."""
        if self.soc_code:
            return self.soc_code
        # Some OOH pages cover several occupations and print no single SOC code. Their slug is
        # as stable as a SOC code; the URL is not (its host and port differ between deployments).
        if self.source == "bls_ooh":
            from urllib.parse import urlsplit

            slug = urlsplit(self.url).path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".htm")
            if slug:
                return f"ooh-{slug}"
        return super().item_id


@dataclass(kw_only=True)
class Institution(Item):
    """A college or university (IPEDS unit)."""

    kind: ClassVar[str] = "institution"

    unitid: str | None = None
    """IPEDS unit id."""
    name: str = ""
    aliases: list[str] = field(default_factory=list)
    address: str | None = None
    city: str | None = None
    state: str | None = None
    """Two-letter state code."""
    zip: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    website: str | None = None
    phone: str | None = None
    control: str | None = None
    """public, private nonprofit or private for-profit."""
    level: str | None = None
    """e.g. "4-year", "2-year", "Less than 2-year"."""
    online: bool | None = None
    """Offers programs fully online."""
    military_friendly: bool | None = None
    accreditor: str | None = None
    """Institutional accreditor."""
    accreditation_status: str | None = None
    accredited_since: str | None = None
    next_review: str | None = None
    ope_id: str | None = None
    programs_offered: list[str] = field(default_factory=list)
    """Program names from the institution's programs table."""

    @property
    def item_id(self) -> str:
        """The IPEDS unit id when known."""
        return self.unitid or super().item_id

    @property
    def title(self) -> str:
        """The institution's name."""
        return self.name


@dataclass(kw_only=True)
class Program(Item):
    """An accredited program at an institution."""

    kind: ClassVar[str] = "program"

    program_id: str | None = None
    """Stable id, unique across sources."""
    institution_unitid: str | None = None
    institution_name: str | None = None
    name: str = ""
    field: str | None = None  # type: ignore[assignment]
    """Field of study, e.g. "Health Information Technology"."""
    degree_level: str | None = None
    """certificate, associate, bachelor, master or doctoral."""
    accreditor: str | None = None
    """Accreditor acronym or name, e.g. CAHIIM."""
    accreditor_name: str | None = None
    """The accreditor's full name when the page gives it."""
    accreditation_status: str | None = None
    accreditation_status_raw: str | None = None
    accredited_since: str | None = None
    next_review: str | None = None
    delivery: str | None = None
    """online, campus or hybrid."""
    military_friendly: bool | None = None
    state: str | None = None
    city: str | None = None

    @property
    def item_id(self) -> str:
        """The program id when known."""
        return self.program_id or super().item_id

    @property
    def title(self) -> str:
        """Program name at its institution."""
        return f"{self.name} ({self.institution_name})" if self.institution_name else self.name


@dataclass(kw_only=True)
class Review(Item):
    """A student review of an institution, crawled or written on this site."""

    kind: ClassVar[str] = "review"

    review_id: str | None = None
    institution_unitid: str | None = None
    """IPEDS id resolved by record linkage (None while unmatched)."""
    institution_name: str | None = None
    """The school's name as the source wrote it."""
    institution_city: str | None = None
    institution_state: str | None = None
    entity_id: str | None = None
    """The review site's own id for the school."""
    rating: int | None = None
    """1 to 5 stars."""
    title: str | None = None  # type: ignore[assignment]
    body: str = ""
    author_role: str | None = None
    category: str | None = None
    date: str | None = None
    origin: str = "crawled"
    """crawled or user."""
    link_status: str | None = None
    """matched, ambiguous or unmatched (record linkage)."""
    link_confidence: float | None = None
    """0-100 score of the institution match."""

    @property
    def item_id(self) -> str:
        """The review id when known."""
        return self.review_id or super().item_id


ITEM_CLASSES: dict[str, type[Item]] = {
    "career": Career,
    "institution": Institution,
    "program": Program,
    "review": Review,
}


def item_from_dict(data: dict[str, Any]) -> Item:
    """Rebuild an item from ``to_dict()`` output; unknown keys are ignored, ``kind`` picks the class."""
    kind = data.get("kind")
    if kind not in ITEM_CLASSES:
        raise ValueError(f"unknown item kind {kind!r}; expected one of {', '.join(KINDS)}")
    cls = ITEM_CLASSES[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def field_names(kind: str) -> tuple[str, ...]:
    """The field names of one kind, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(ITEM_CLASSES[kind]))


def normalize_text_key(text: str | None) -> str:
    """Lower-case, whitespace-collapsed text, the form ids are derived from."""
    import unicodedata

    cleaned = unicodedata.normalize("NFKC", text or "")
    cleaned = "".join(ch for ch in cleaned if unicodedata.category(ch) not in ("Cf", "Cc"))
    return " ".join(cleaned.lower().split())


def make_program_id(institution_unitid: str, accreditor_name: str, program_name: str) -> str:
    """Stable id of a programmatic accreditation listed on an institution's page.

    Derived only from what the page shows (IPEDS id, accreditor's name, program name), so the
    sample-site generator and the page module compute the same id independently.
    """
    key = f"{normalize_text_key(accreditor_name)}|{normalize_text_key(program_name)}"
    return f"{institution_unitid}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:10]}"
