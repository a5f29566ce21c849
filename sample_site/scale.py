"""The scaled sample site (``--scale N``): N times the accredited programs and reviews, for scale checks.

At scale 1 nothing here is used and the site is exactly the base site. At scale N > 1:

- **Programs**: every institution lists N times its College Navigator programmatic accreditations.
  The extra rows are drawn from the real program types (``program_types.PROGRAM_TYPES`` and the
  other programmatic DAPIP agency/program pairs) the institution's level can offer, each at the
  credential its level grants, plus the neighbouring credentials of a type in DAPIP's wording
  ("Dental Hygiene - Baccalaureate degree programs"). No extra row names the same program as
  another row of its institution (not the same id, nor the same fusion key: institution,
  accreditor, degree level, field), so every extra row is one more program after fusion. An
  institution with fewer possible programs than it needs passes the rest on to others, so the
  total is exactly N times. Status, dates and delivery follow the base generator's rules, seeded
  by institution and program. The CAHIIM directory is the real accreditor's list and is unchanged.
- **Reviews**: each base review gets N-1 siblings at its school (review id ``rid + k * T`` for
  sibling k, T the number of base reviews), dated across the base period and merged into the
  school's pages oldest first. Their category, role and rating are drawn as the base ones are, and
  their text is generated from the review id like every review's, so it is new text from the same
  sentence material, not a copy.

Everything is seeded (``util.h64``), so one N gives the same site on every run and machine, and the
extras of scale N are independent of other scales' (scale 3 lists scale 2's reviews and more).
Review text is still made on demand; only the rows' metadata is held in memory.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from model.accreditors import lookup_accreditor
from model.items import US_STATES, normalize_text_key
from model.program_fields import field_key
from sample_site import data_load
from sample_site.cache import cached
from sample_site.institutions import (
    AWARD_LEVEL,
    Institution,
    ProgramAcc,
    _delivery,
    _kinds,
    _make_program,
    _program_types,
    field_of,
    institutions,
    program_id,
)
from sample_site.program_types import ASSOC, BACH, CERT, DOC_P, DOC_R, MAST
from sample_site.reviewdata import (
    FIRST_REVIEW_DATE,
    LAST_BASE_REVIEW_DATE,
    Review,
    base_reviews,
    generate_review,
    school_quality,
)
from sample_site.util import h64

MAX_SCALE = 50
_RANK = {CERT: 0, ASSOC: 1, BACH: 2, MAST: 3, DOC_P: 4, DOC_R: 4}
_KIND_AWARDS = {"lt2": (CERT,), "two": (CERT, ASSOC), "four": (BACH, CERT), "grad": (MAST,), "doc": (DOC_P, DOC_R)}
CREDENTIAL_WORDING = {
    CERT: "Certificate programs", ASSOC: "Associate degree programs", BACH: "Baccalaureate degree programs",
    MAST: "Master's degree programs", DOC_P: "Professional doctoral programs", DOC_R: "PhD Doctoral programs",
}
"""How a program type reads at another credential, in DAPIP's wording ("Nursing (ADNUR) - Associate degree programs")."""
VARIANT_WEIGHT = 0.3
"""How much less often a type one credential away is chosen than a real type name (squared two away...)."""
_STATE_NAMES = {name: code for code, name in US_STATES.items()}


def check_scale(scale: object) -> int:
    """The scale as an int, or ValueError naming the allowed range."""
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be a whole number from 1 to {MAX_SCALE}, got {scale!r}")
    return scale


# --- programs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgramType:
    """A programmatic accreditation an institution can hold: agency, DAPIP program name and where it fits."""

    agency: str
    name: str
    kinds: frozenset[str]
    awards: tuple[str, ...]
    weight: float
    online_p: float
    cip: str
    state: str | None = None
    """Two-letter code when only that state's institutions can hold it (a state board)."""


def _state_of(agency: str) -> str | None:
    for name, code in _STATE_NAMES.items():
        if agency.startswith(name + " "):
            return code
    return None


def _inferred(name: str, same_agency: list[ProgramType]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Institution kinds and credentials of a DAPIP program the generator's table lacks, from its wording."""
    low = name.lower()
    if re.search(r"residen|fellowship|internship", low):
        return frozenset({"doc"}), (CERT,)
    if "phd" in low:
        return frozenset({"doc"}), (DOC_R,)
    if re.search(r"doctor|psyd", low):
        return frozenset({"doc"}), (DOC_P,)
    if re.search(r"master|graduate", low):
        return frozenset({"grad"}), (MAST,)
    if re.search(r"baccalaureate|bachelor", low):
        return frozenset({"four"}), (BACH,)
    if "associate" in low:
        return frozenset({"two"}), (ASSOC,)
    if re.search(r"certificate|diploma", low):
        return frozenset({"two", "lt2"}), (CERT,)
    if any(t.agency.startswith("American Dental Association") for t in same_agency):
        return frozenset({"doc"}), (CERT, MAST)  # advanced dental education: residency certificates and master's
    if same_agency:
        return frozenset().union(*(t.kinds for t in same_agency)), tuple(dict.fromkeys(a for t in same_agency for a in t.awards))
    return frozenset({"four", "grad"}), (BACH, MAST)


@functools.cache
def program_pool() -> tuple[ProgramType, ...]:
    """Every program type the scaled site draws from: the generator's table, then DAPIP's other programmatic pairs."""
    # A state board's types have weight 0 in the table; the base generator weighs them 3 in their state.
    table = [ProgramType(agency, prog, frozenset(kinds.split()), awards, weight or 3.0, online, cip, _state_of(agency))
             for agency, prog, kinds, awards, weight, online, cip in _program_types()]
    by_label: dict[str, list[ProgramType]] = {}
    for t in table:
        by_label.setdefault(_accreditor_key(t.agency), []).append(t)
    have = {(_accreditor_key(t.agency), t.name) for t in table}
    extra = []
    for raw_agency, raw_name in data_load.dapip_pairs():
        agency, name = data_load.clean_dapip_text(raw_agency), data_load.clean_dapip_text(raw_name)
        # Institutional accreditation is not a program; a name without a field or only a credential is not one either.
        if name in ("Institutional Accreditation", "Diploma", "English Language") or name.startswith("("):
            continue
        same = by_label.get(_accreditor_key(agency), [])
        key = (_accreditor_key(agency), name)
        if key in have:
            continue
        have.add(key)
        kinds, awards = _inferred(name, same)
        # One spelling per agency on a page: the table's, when the table knows the agency.
        shown = same[0].agency if same else agency
        extra.append(ProgramType(shown, name, kinds, awards, 0.5, 0.1, same[0].cip if same else "", _state_of(shown)))
    return (*table, *extra)


@functools.cache
def _accreditor_key(agency: str) -> str:
    # As catalog.fusion.accreditor_key: the accreditor table's label when it knows the agency.
    found = lookup_accreditor(agency)
    return normalize_text_key(found.label if found else agency)


@functools.cache
def _field_key(name: str) -> str:
    return field_key(name, field_of(name))


@functools.cache
def _identity(agency: str, name: str, award: str) -> tuple[str, str, str]:
    return _accreditor_key(agency), normalize_text_key(AWARD_LEVEL[award]), _field_key(name)


def fusion_identity(unitid: str, agency: str, name: str, award: str) -> tuple[str, str, str, str]:
    """What makes two rows one program after fusion (as ``catalog.fusion.fusion_key`` keys a program)."""
    return (unitid, *_identity(agency, name, award))


def _native_award(t: ProgramType, four_year: bool) -> str:
    # The credential the base generator gives this type at an institution of this level.
    if four_year:
        return next((a for a in t.awards if a not in (ASSOC, CERT)), t.awards[0])
    return next((a for a in t.awards if a in (ASSOC, CERT)), t.awards[-1])


def _kinds_of(inst: Institution) -> frozenset[str]:
    row = {"INSTNM": inst.name, "SECTOR": inst.sector, "HLOFFER": str(inst.hloffer), "INSTSIZE": str(inst.instsize),
           "ICLEVEL": inst.iclevel, "CONTROL": inst.control}
    return frozenset(_kinds(row)[0])


@functools.cache
def _board_states() -> frozenset[str]:
    return frozenset(t.state for t in program_pool() if t.state)


@functools.cache
def _menu(kinds: frozenset[str], state: str, four_year: bool) -> tuple[tuple[float, str, str, ProgramType], ...]:
    """(weight, program name, credential, type) of every row an institution of this kind could list."""
    grants = dict.fromkeys(a for k in sorted(kinds) for a in _KIND_AWARDS[k])
    out = []
    for t in program_pool():
        if not (t.kinds & kinds) or (t.state and t.state != state):
            continue
        native = _native_award(t, four_year)
        out.append((t.weight, t.name, native, t))
        for award in grants:
            distance = abs(_RANK[award] - _RANK[native])
            if award not in t.awards and distance:
                # The further the credential from the type's own, the less likely (and the later) it comes.
                out.append((t.weight * VARIANT_WEIGHT ** distance, f"{field_of(t.name)} - {CREDENTIAL_WORDING[award]}", award, t))
    return tuple(out)


def candidates(inst: Institution) -> Iterator[tuple[ProgramType, str, str]]:
    """(type, program name, credential) rows the institution could list, most likely first; deterministic."""
    # Only a state with its own board's types needs a menu of its own.
    state = inst.state if inst.state in _board_states() else ""
    menu = _menu(_kinds_of(inst), state, inst.iclevel == "1")
    rng = random.Random(h64("scale-programs", inst.unitid))
    # A weighted draw without replacement: sort by u ** (1 / weight), largest first.
    ranked = sorted(((rng.random() ** (1.0 / w), name, award, t) for w, name, award, t in menu),
                    key=lambda r: (-r[0], r[1], r[2]))
    for _key, name, award, t in ranked:
        yield t, name, award


def _open_rows(inst: Institution) -> Iterator[tuple[ProgramType, str, str]]:
    """Candidate rows that name no program the institution already lists (nor each other)."""
    ids = {p.pid for p in inst.programs}
    keys = {_identity(p.agency, p.name, p.award) for p in inst.programs}
    for t, name, award in candidates(inst):
        pid, key = program_id(inst.unitid, t.agency, name), _identity(t.agency, name, award)
        if pid in ids or key in keys:
            continue
        ids.add(pid)
        keys.add(key)
        yield t, name, award


def _make(inst: Institution, t: ProgramType, name: str, award: str) -> ProgramAcc:
    uid = inst.unitid
    return _make_program(uid, t.agency, name, award, _delivery(uid, name, t.online_p), t.cip,
                         old=name.startswith(("Law", "Medicine")))


@functools.cache
def extra_programs(scale: int) -> dict[str, ProgramAcc]:
    """Program id -> the extra programmatic accreditations of the scaled site (empty at scale 1)."""
    check_scale(scale)
    if scale == 1:
        return {}
    return cached(f"scaled-programs-x{scale}", lambda: _build_programs(scale))


def _build_programs(scale: int) -> dict[str, ProgramAcc]:
    rows: dict[str, list[tuple[ProgramType, str, str]]] = {}
    spare: dict[str, Iterator[tuple[ProgramType, str, str]]] = {}
    short = 0
    for uid, inst in sorted(institutions().items(), key=lambda kv: int(kv[0])):
        want = len(inst.programs) * (scale - 1)
        it = spare[uid] = _open_rows(inst)  # a generator: nothing is ranked until a row is asked for
        got = rows[uid] = [row for _, row in zip(range(want), it, strict=False)]
        short += want - len(got)
    # Institutions that ran out pass the rest to others (at high scales also to institutions
    # without programs of their own), one row each per round, in a seeded order.
    order = sorted(spare, key=lambda u: h64("scale-spill", u))
    while short and order:
        still = []
        for u in order:
            if not short:
                break
            row = next(spare[u], None)
            if row is not None:
                rows[u].append(row)
                short -= 1
                still.append(u)
        order = still
    if short:
        raise RuntimeError(f"the program types cannot give {short} more programs at scale {scale}")
    by_uid = institutions()
    out: dict[str, ProgramAcc] = {}
    for uid, chosen in rows.items():
        for t, name, award in chosen:
            p = _make(by_uid[uid], t, name, award)
            out[p.pid] = p
    return out


# --- reviews ----------------------------------------------------------------------------------


@functools.cache
def _base_period() -> tuple[dt.date, ...]:
    """Every day of the base review period, so a drawn day is an index rather than date arithmetic."""
    span = (LAST_BASE_REVIEW_DATE - FIRST_REVIEW_DATE).days
    return tuple(FIRST_REVIEW_DATE + dt.timedelta(days=d) for d in range(span + 1))


def _siblings(school_reviews: tuple[Review, ...], total: int, scale: int) -> list[Review]:
    """The extra reviews of one school: siblings 1 .. scale-1 of each base review."""
    if not school_reviews:
        return []
    entity = school_reviews[0].entity_id
    quality = school_quality(entity)
    days = _base_period()
    out = []
    for k in range(1, scale):
        rng = random.Random(h64("scale-reviews", entity, k))
        for r in school_reviews:
            date = days[int(rng.random() * len(days))]
            out.append(generate_review(rng, r.rid + k * total, entity, date, quality))
    return out


@functools.cache
def scaled_reviews(scale: int) -> dict[str, tuple[Review, ...]]:
    """Entity id -> the epoch-1 reviews of each school at a scale (oldest first; the base reviews at scale 1)."""
    check_scale(scale)
    if scale == 1:
        return dict(base_reviews())
    return cached(f"scaled-reviews-x{scale}", lambda: _build_reviews(scale))


def _build_reviews(scale: int) -> dict[str, tuple[Review, ...]]:
    base = base_reviews()
    total = sum(len(v) for v in base.values())
    out = {}
    for entity, reviews in base.items():
        merged = [*reviews, *_siblings(reviews, total, scale)]
        merged.sort(key=lambda r: (r.date, r.rid))
        out[entity] = tuple(merged)
    return out
