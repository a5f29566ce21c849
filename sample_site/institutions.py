"""Institutions (IPEDS HD2023), their accreditation, programs table and programmatic accreditations.

Names, aliases, addresses, websites, control and level are the real IPEDS values. Institutional
accreditors follow the real regional/national pattern; programmatic accreditations are generated
from a seed with real agency and program names from DAPIP and the real status vocabulary. About
245 CAHIIM-accredited health information programs are added (CAHIIM is not in DAPIP).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
from dataclasses import dataclass, field

from model.items import US_STATES, make_program_id
from sample_site import data_load
from sample_site.cip import ALL_PROGRAMS, CIP_FAMILIES
from sample_site.program_types import ASSOC, BACH, CERT, DOC_P, DOC_R, MAST, PROGRAM_TYPES
from sample_site.util import date_between, frac, h64, slugify

AWARD_LEVEL = {CERT: "certificate", ASSOC: "associate", BACH: "bachelor", MAST: "master", DOC_P: "doctoral", DOC_R: "doctoral"}
DELIVERY_TEXT = {"campus": "on campus", "online": "online", "hybrid": "online and on campus"}

CONTROL_TEXT = {"1": "Public", "2": "Private not-for-profit", "3": "Private for-profit"}
CONTROL_VALUE = {"1": "public", "2": "private nonprofit", "3": "private for-profit"}
LEVEL_TEXT = {"1": "4-year", "2": "2-year", "3": "Less than 2-year"}
LOCALE_TEXT = {
    "11": "City: Large", "12": "City: Midsize", "13": "City: Small", "21": "Suburb: Large", "22": "Suburb: Midsize",
    "23": "Suburb: Small", "31": "Town: Fringe", "32": "Town: Distant", "33": "Town: Remote", "41": "Rural: Fringe",
    "42": "Rural: Distant", "43": "Rural: Remote",
}
HLOFFER_AWARDS = [
    (1, "Less than one year certificate"), (2, "One but less than two years certificate"), (3, "Associate's degree"),
    (4, "Two but less than 4 years certificate"), (5, "Bachelor's degree"), (6, "Postbaccalaureate certificate"),
    (7, "Master's degree"), (8, "Post-master's certificate"), (9, "Doctor's degree - research/scholarship"),
    (9, "Doctor's degree - professional practice"),
]

CAHIIM_NAME = "Commission on Accreditation for Health Informatics and Information Management Education"
CAHME_NAME = "Commission on Accreditation of Healthcare Management Education"

# Institutions that IPEDS added in 2023-24 (sector 99, not yet active): absent at epoch 1, they appear at epoch 2.
HELD_BACK_UNITIDS = ("499246", "499565", "499644")

# --- institutional accreditors (real DAPIP agency names) ---------------------------------------
REGIONAL = {
    "Middle States Commission on Higher Education": "NY NJ PA DE MD DC PR VI",
    "New England Commission of Higher Education": "CT ME MA NH RI VT",
    "Southern Association of Colleges and Schools, Commission on Colleges": "AL FL GA KY LA MS NC SC TN TX VA",
    "Higher Learning Commission": "AR AZ CO IA IL IN KS MI MN MO ND NE NM OH OK SD WI WV WY",
    "Northwest Commission on Colleges and Universities": "AK ID MT NV OR UT WA",
    "WASC Senior College and University Commission": "CA HI GU AS MP FM PW MH",
}
STATE_REGIONAL = {st: agency for agency, states in REGIONAL.items() for st in states.split()}
ACCJC = "Western Association of Schools and Colleges, Accrediting Commission for Community and Junior Colleges"
NATIONAL_RULES: list[tuple[str, str]] = [
    (r"beauty|cosmetology|barber|hair|paul mitchell|aveda|esthetic|nail|salon|empire beauty", "National Accrediting Commission of Career Arts and Sciences, Inc."),
    (r"rabbinical|yeshiva|talmud|beth medrash|mesivta", "Association of Advanced Rabbinical and Talmudic Schools, Accreditation Commission"),
    (r"seminary|theological|school of theology|divinity", "Commission on Accrediting of the Association of Theological Schools"),
    (r"bible|christian college|baptist college", "The Association for Biblical Higher Education, Commission on Accreditation"),
    (r"massage", "Commission on Massage Therapy Accreditation"),
    (r"medical|health|nursing|dental|pharmacy|surgical|phlebotomy|radiolog|sonograph", "Accrediting Bureau of Health Education Schools"),
    (r"online|distance", "Distance Education Accrediting Commission"),
]
COE = "Council on Occupational Education"
ACCSC = "Accrediting Commission of Career Schools and Colleges"
ACCET = "Accrediting Council for Continuing Education and Training"


STATUS_WEIGHTS = [("accredited", 0.905), ("preaccredited", 0.02), ("probation", 0.02), ("warning", 0.015),
                  ("show_cause", 0.005), ("monitoring", 0.01), ("withdrawn", 0.01), ("closed", 0.015)]
SANCTION_TEXT = {"probation": "Probation", "warning": "Warning", "show_cause": "Show Cause", "monitoring": "Heightened Monitoring"}


@dataclass(slots=True)
class ProgramAcc:
    """One programmatic accreditation row on an institution's College Navigator page (base state)."""

    pid: str
    unitid: str
    agency: str
    name: str
    field: str
    award: str
    delivery: str
    since: dt.date
    since_estimated: bool
    status: str
    sanction_date: dt.date | None
    end_date: dt.date | None
    next_review: dt.date | None
    cip: str
    nlr: bool = False
    """Listed under a 'No Longer Recognized' agency."""
    cahiim_id: int | None = None
    """The accreditor directory's own program id (CAHIIM programs only)."""
    dir_name: str | None = None
    """Institution name as the directory writes it."""
    appear_epoch: int = 1

    @property
    def degree_level(self) -> str:
        """certificate / associate / bachelor / master / doctoral."""
        return AWARD_LEVEL[self.award]


@dataclass(slots=True)
class Institution:
    """One IPEDS institution with the generated parts of its College Navigator page."""

    unitid: str
    name: str
    aliases: tuple[str, ...]
    addr: str
    city: str
    state: str
    zip: str
    phone: str | None
    website: str | None
    sector: str
    iclevel: str
    control: str
    hloffer: int
    locale: str
    instsize: int
    lat: float | None
    lon: float | None
    ope_id: str | None
    closed_2023: bool
    new_unit: bool
    awards: tuple[str, ...]
    online: bool
    yellow_ribbon: bool
    accreditor: str | None
    acc_status: str | None
    acc_since: dt.date | None
    acc_sanction_date: dt.date | None
    acc_next: dt.date | None
    cip_columns: tuple[str, ...]
    cip_rows: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]
    """(family, ((program, (cells...)), ...)) for the Programs/Majors table."""
    programs: list[ProgramAcc] = field(default_factory=list)

    @property
    def state_name(self) -> str:
        """Full state name."""
        return US_STATES.get(self.state, self.state)

    @property
    def type_text(self) -> str | None:
        """'4-year, Public' as College Navigator prints it."""
        if self.iclevel not in LEVEL_TEXT or self.control not in CONTROL_TEXT:
            return None
        return f"{LEVEL_TEXT[self.iclevel]}, {CONTROL_TEXT[self.control]}"

    @property
    def programs_offered(self) -> list[str]:
        """Program titles of the Programs/Majors table, in table order."""
        return [prog for _family, rows in self.cip_rows for prog, _cells in rows]


def split_aliases(raw: str, name: str) -> tuple[str, ...]:
    """IPEDS IALIAS split on |, ;, commas and runs of spaces, without the name itself."""
    parts = re.split(r"\s*[|;,]\s*|\s{2,}", raw or "")
    out: list[str] = []
    seen = {name.lower()}
    for part in parts:
        part = " ".join(part.split())
        if part and part.lower() not in seen:
            seen.add(part.lower())
            out.append(part)
    return tuple(out)


def _phone(raw: str) -> str | None:
    digits = raw.strip()
    if re.fullmatch(r"\d{10}", digits):
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return None


def _zip(raw: str) -> str:
    """ZIP code with the leading zeros the IPEDS CSV export lost ("7801" -> "07801")."""
    return raw.zfill(5) if re.fullmatch(r"\d{3,4}", raw) else raw


def _float(text: str) -> float | None:
    try:
        return round(float(text), 6)
    except ValueError:
        return None


def _institutional_accreditor(r: dict[str, str]) -> str | None:
    name = r["INSTNM"].lower()
    if r["SECTOR"] == "99":
        return STATE_REGIONAL.get(r["STABBR"])
    for pattern, agency in NATIONAL_RULES:
        if re.search(pattern, name):
            if "Biblical" in agency or "Theological" in agency or "Rabbinical" in agency:
                return agency
            if r["ICLEVEL"] in ("2", "3") or r["CONTROL"] == "3":
                return agency
    if r["ICLEVEL"] == "3":
        if r["CONTROL"] == "1":
            return COE
        return ACCSC if h64("natl", r["UNITID"]) % 3 else ACCET
    if r["CONTROL"] == "3" and r["ICLEVEL"] == "2" and h64("natl2", r["UNITID"]) % 2:
        return ACCSC
    if r["STABBR"] in ("CA", "HI", "GU", "AS", "MP", "FM", "PW", "MH") and r["ICLEVEL"] == "2":
        return ACCJC
    return STATE_REGIONAL.get(r["STABBR"])


def _awards(r: dict[str, str]) -> tuple[str, ...]:
    hl = int(r["HLOFFER"]) if r["HLOFFER"].lstrip("-").isdigit() else -3
    if hl < 1:
        return ()
    rng = random.Random(h64("awards", r["UNITID"]))
    out = [text for level, text in HLOFFER_AWARDS if level == hl]
    for level, text in HLOFFER_AWARDS:
        if level >= hl:
            continue
        keep = level in (5, 7) or (level == 3 and r["ICLEVEL"] != "1")
        if keep or rng.random() < 0.3:
            out.append(text)
    order = [t for _, t in HLOFFER_AWARDS]
    return tuple(sorted(set(out), key=order.index))


_BEAUTY = re.compile(r"beauty|cosmetology|barber|hair|paul mitchell|aveda|esthetic|nail|salon", re.I)
_RELIGIOUS = re.compile(r"seminary|theological|rabbinical|yeshiva|talmud|bible|divinity|mesivta", re.I)


@functools.cache
def _pool_for_letters(letters: frozenset[str]) -> list[str]:
    return [p for p, (_f, lv) in ALL_PROGRAMS.items() if set(lv) & letters]


@functools.cache
def _program_id_suffix(agency: str, name: str) -> str:
    # make_program_id's digest does not depend on the unitid; compute it once per (agency, program).
    return make_program_id("0", agency, name).split("-", 1)[1]


def program_id(unitid: str, agency: str, name: str) -> str:
    """model.items.make_program_id(unitid, agency, name), cached."""
    return f"{unitid}-{_program_id_suffix(agency, name)}"


def _cip_table(r: dict[str, str], forced: list[str]) -> tuple[tuple[str, ...], tuple]:
    uid = r["UNITID"]
    hl = int(r["HLOFFER"]) if r["HLOFFER"].lstrip("-").isdigit() else -3
    if hl < 1:
        return (), ()
    columns: tuple[str, ...]
    if hl <= 2:
        columns = ("Certificate",)
    elif hl <= 4:
        columns = ("Certificate", "Associate")
    elif hl <= 6:
        columns = ("Associate", "Bachelor")
    elif hl <= 8:
        columns = ("Bachelor", "Master")
    else:
        columns = ("Bachelor", "Master", "Doctor")
    col_letter = {"Certificate": "c", "Associate": "a", "Bachelor": "b", "Master": "m", "Doctor": "d"}
    letters = {col_letter[c] for c in columns}
    name = r["INSTNM"]
    if _BEAUTY.search(name):
        pool = [p for p, _ in CIP_FAMILIES["Personal and Culinary Services"]]
    elif _RELIGIOUS.search(name):
        pool = [p for p, _ in CIP_FAMILIES["Theology and Religious Vocations"]] + ["Philosophy", "Religion/Religious Studies"]
    else:
        pool = _pool_for_letters(frozenset(letters))
    size = int(r["INSTSIZE"]) if r["INSTSIZE"].lstrip("-").isdigit() and int(r["INSTSIZE"]) > 0 else 1
    rng = random.Random(h64("cip", uid))
    count = min(len(pool), {1: 3, 2: 7, 3: 12, 4: 17, 5: 24}[size] + rng.randrange(5))
    chosen = rng.sample(pool, count)
    for p in forced:
        if p not in chosen and p in ALL_PROGRAMS:
            chosen.append(p)
    families: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for prog in chosen:
        family, levels = ALL_PROGRAMS[prog]
        cells = []
        for col in columns:
            if col_letter[col] in levels:
                cells.append(str(int(rng.random() ** 2 * 120)))
            else:
                cells.append("-")
        if all(c == "-" for c in cells):
            cells[-1 if "b" in letters else 0] = str(rng.randrange(20))
        families.setdefault(family, []).append((prog, tuple(cells)))
    ordered = tuple((fam, tuple(sorted(rows))) for fam, rows in sorted(families.items()))
    return columns, ordered


def _kinds(r: dict[str, str]) -> tuple[set[str], float]:
    """Which program kinds an institution can hold, and how many accreditations to expect."""
    name = r["INSTNM"]
    if r["SECTOR"] in ("99", "0") or _BEAUTY.search(name):
        return set(), 0.0
    if _RELIGIOUS.search(name):
        return ({"grad"} if re.search(r"seminary|theolog|divinity", name, re.I) else set()), 0.6
    hl = int(r["HLOFFER"]) if r["HLOFFER"].lstrip("-").isdigit() else -3
    size = int(r["INSTSIZE"]) if r["INSTSIZE"].lstrip("-").isdigit() else -2
    if r["ICLEVEL"] == "3":
        health = bool(re.search(r"medical|health|nursing|dental|career|technical", name, re.I))
        return {"lt2"}, (1.0 if health else 0.15)
    if r["ICLEVEL"] == "2":
        return {"two", "lt2"}, (2.6 if r["CONTROL"] == "1" else 0.5)
    kinds = {"four"}
    if hl >= 7:
        kinds.add("grad")
    if hl == 9:
        kinds.add("doc")
    expected = {-2: 0.3, -1: 0.3, 1: 0.4, 2: 1.2, 3: 2.5, 4: 4.5, 5: 8.0}.get(size, 0.3)
    return kinds, expected


@functools.cache
def _program_types() -> list[tuple[str, str, str, tuple[str, ...], float, float, str]]:
    """PROGRAM_TYPES with the agency's full DAPIP name (checked against the real data)."""
    pairs = [(data_load.clean_dapip_text(a), data_load.clean_dapip_text(p)) for a, p in data_load.dapip_pairs()]
    out = []
    for prefix, prog, kinds, awards, weight, online, cip in PROGRAM_TYPES:
        matches = sorted({a for a, p in pairs if a.startswith(prefix) and p == prog})
        if not matches:
            raise RuntimeError(f"DAPIP has no program {prog!r} for agency {prefix!r}")
        out.append((matches[0], prog, kinds, awards, weight, online, cip))
    return out


def _weighted_status(uid: str, key: str) -> str:
    x = frac("status", uid, key)
    for status, w in STATUS_WEIGHTS:
        x -= w
        if x < 0:
            return status
    return "accredited"


@functools.cache
def _eligible_types(kinds: frozenset[str], missouri: bool) -> list[tuple[float, str, str, tuple[str, ...], float, str]]:
    out = []
    for agency, prog, tkinds, awards, weight, online_p, cip in _program_types():
        w = weight
        if agency == "Missouri State Board of Nursing":
            w = 3.0 if missouri else 0.0
        if w > 0 and set(tkinds.split()) & kinds:
            out.append((w, agency, prog, awards, online_p, cip))
    return out


def field_of(name: str) -> str:
    """Field of study from a DAPIP-style program name: the text before ' (' (the whole name if none)."""
    return name.split(" (")[0].strip()


def _make_program(uid: str, agency: str, name: str, award: str, delivery: str, cip: str, *, status: str | None = None,
                  nlr: bool = False, old: bool = False) -> ProgramAcc:
    key = f"{agency}|{name}"
    status = status or _weighted_status(uid, key)
    since = date_between(dt.date(1925 if old else 1965, 1, 1), dt.date(2022, 12, 31), "since", uid, key)
    if status == "preaccredited":
        since = date_between(dt.date(2021, 1, 1), dt.date(2025, 6, 30), "since", uid, key)
    estimated = since.year < 1972 and frac("est", uid, key) < 0.3
    sanction = end = next_review = None
    if status in SANCTION_TEXT:
        sanction = date_between(dt.date(2023, 1, 1), dt.date(2025, 8, 15), "sanction", uid, key)
    if status in ("withdrawn", "closed") or nlr:
        end = date_between(max(since, dt.date(2005, 1, 1)), dt.date(2025, 6, 30), "end", uid, key)
    else:
        next_review = date_between(dt.date(2024, 1, 1), dt.date(2033, 12, 31), "next", uid, key)
    return ProgramAcc(
        pid=program_id(uid, agency, name), unitid=uid, agency=agency, name=name, field=field_of(name),
        award=award, delivery=delivery, since=since, since_estimated=estimated, status="no_longer_recognized" if nlr else status,
        sanction_date=sanction, end_date=end, next_review=next_review, cip=cip, nlr=nlr,
    )


def _delivery(uid: str, key: str, online_p: float) -> str:
    x = frac("delivery", uid, key)
    if x < online_p:
        return "online"
    if x < online_p + 0.12:
        return "hybrid"
    return "campus"


CAHIIM_KINDS = {
    "associate": ("Health Information Technology (HIT) - Associate degree programs", ASSOC, "Health Information/Medical Records Technology/Technician"),
    "bachelor": ("Health Information Management (HIM) - Baccalaureate degree programs", BACH, "Health Information/Medical Records Administration/Administrator"),
    "master_him": ("Health Information Management (HIMM) - Master's degree programs", MAST, "Health Information/Medical Records Administration/Administrator"),
    "master_hi": ("Health Informatics (HI) - Master's degree programs", MAST, "Health Informatics"),
}
CAHIIM_COUNTS = {"associate": 165, "bachelor": 52, "master": 28}
CAHIIM_STATUS_WEIGHTS = [("accredited", 0.92), ("candidate", 0.04), ("probation", 0.03), ("withdrawn", 0.01)]


def directory_name(inst_name: str, uid: str) -> str:
    """How the accreditor's directory writes an institution's name (mostly as IPEDS, sometimes not)."""
    x = frac("dirname", uid)
    name = inst_name
    if x < 0.15 and "-" in name:
        base, _, campus = name.rpartition("-")
        name = f"{base} - {campus}"
    elif x < 0.25 and "Saint " in name:
        name = name.replace("Saint ", "St. ")
    elif x < 0.32 and " and " in name:
        name = name.replace(" and ", " & ")
    elif x < 0.40 and name.startswith("The "):
        name = name[4:]
    elif x < 0.45 and " College" in name and not name.startswith("The "):
        name = "The " + name
    return name


@functools.cache
def world() -> tuple[dict[str, Institution], dict[str, ProgramAcc]]:
    """(institutions by unitid, programmatic accreditations by program id), the epoch-1 base."""
    from sample_site.cache import cached

    return cached("institutions", _build_world)


def _build_world() -> tuple[dict[str, Institution], dict[str, ProgramAcc]]:
    rows = data_load.ipeds_rows()
    _program_types()  # fails loudly if the table names a program DAPIP does not have
    # CAHIIM selection first, so those institutions' CIP tables list the matching programs.
    eligible = [r for r in rows if r["UNITID"] not in HELD_BACK_UNITIDS and r["DEATHYR"] == "-2" and r["SECTOR"] != "99"]
    assoc_pool = [r for r in eligible if r["SECTOR"] == "4" and not _BEAUTY.search(r["INSTNM"])]
    bach_pool = [r for r in eligible if r["SECTOR"] in ("1", "2") and r["INSTSIZE"] in ("2", "3", "4", "5")
                 and r["HLOFFER"] in ("5", "6", "7", "8", "9") and not _RELIGIOUS.search(r["INSTNM"])]
    cahiim: dict[str, list[str]] = {}
    for r in sorted(assoc_pool, key=lambda r: h64("cahiim-a", r["UNITID"]))[: CAHIIM_COUNTS["associate"]]:
        cahiim.setdefault(r["UNITID"], []).append("associate")
    bach = sorted(bach_pool, key=lambda r: h64("cahiim-b", r["UNITID"]))[: CAHIIM_COUNTS["bachelor"]]
    for r in bach:
        cahiim.setdefault(r["UNITID"], []).append("bachelor")
    grad_pool = [r for r in bach_pool if r["HLOFFER"] in ("7", "8", "9") and r["INSTSIZE"] in ("3", "4", "5")]
    with_bach = [r for r in grad_pool if "bachelor" in cahiim.get(r["UNITID"], [])]
    without = [r for r in grad_pool if r["UNITID"] not in cahiim]
    n_with = min(14, len(with_bach))
    masters = (sorted(with_bach, key=lambda r: h64("cahiim-m", r["UNITID"]))[:n_with]
               + sorted(without, key=lambda r: h64("cahiim-m2", r["UNITID"]))[: CAHIIM_COUNTS["master"] - n_with])
    for r in masters:
        cahiim.setdefault(r["UNITID"], []).append("master_hi" if h64("hi", r["UNITID"]) % 3 == 0 else "master_him")

    institutions: dict[str, Institution] = {}
    programs: dict[str, ProgramAcc] = {}
    for r in rows:
        uid = r["UNITID"]
        kinds, expected = _kinds(r)
        chosen: list[ProgramAcc] = []
        if kinds and expected > 0:
            rng = random.Random(h64("programs", uid))
            n = int(expected * 2 * rng.random() + 0.5)
            candidates = []
            for w, agency, prog, awards, online_p, cip in _eligible_types(frozenset(kinds), r["STABBR"] == "MO"):
                key = rng.random() ** (1.0 / w)
                candidates.append((key, agency, prog, awards, online_p, cip))
            candidates.sort(key=lambda c: (-c[0], c[2]))
            for _key, agency, prog, awards, online_p, cip in candidates[:n]:
                if r["ICLEVEL"] == "1":
                    award = next((a for a in awards if a != ASSOC and a != CERT), awards[0])
                else:
                    award = next((a for a in awards if a in (ASSOC, CERT)), awards[-1])
                chosen.append(_make_program(uid, agency, prog, award, _delivery(uid, prog, online_p), cip,
                                            old=prog.startswith(("Law", "Medicine"))))
            if "grad" in kinds and frac("cahme", uid) < 0.012:
                chosen.append(_make_program(uid, CAHME_NAME, "Health Services Administration (HSA) - Graduate programs in health services administration",
                                            MAST, "campus", "Health/Health Care Administration/Management", nlr=True))
        for kind in cahiim.get(uid, []):
            name, award, cip = CAHIIM_KINDS[kind]
            x = frac("cahiim-status", uid, kind)
            status = "accredited"
            for s, w in CAHIIM_STATUS_WEIGHTS:
                x -= w
                if x < 0:
                    status = s
                    break
            online_p = 0.2 if kind == "associate" else 0.3
            prog_obj = _make_program(uid, CAHIIM_NAME, name, award, _delivery(uid, name, online_p + 0.05), cip,
                                     status="preaccredited" if status == "candidate" else status)
            if status == "candidate":
                prog_obj.status = "candidate"
            prog_obj.dir_name = directory_name(r["INSTNM"], uid)
            chosen.append(prog_obj)
        # The CAHIIM directory numbers its programs in its own order.
        forced = [p.cip for p in chosen]
        columns, cip_rows = _cip_table(r, forced)
        online = any(p.delivery in ("online", "hybrid") for p in chosen) and frac("online-inst", uid) < 0.9
        sector = r["SECTOR"]
        online_p = {"1": 0.7, "2": 0.55, "3": 0.5, "4": 0.75, "5": 0.3, "6": 0.4, "7": 0.1, "8": 0.1, "9": 0.15}.get(sector, 0.0)
        online = online or frac("online", uid) < online_p
        yellow = bool(r["VETURL"]) and frac("yellow", uid) < (0.7 if r["CONTROL"] == "1" else 0.5)
        accreditor = _institutional_accreditor(r)
        acc_status = acc_since = acc_sanction = acc_next = None
        if accreditor:
            x = frac("inst-status", uid)
            acc_status = ("probation" if x < 0.006 else "warning" if x < 0.012 else "show_cause" if x < 0.014
                          else "monitoring" if x < 0.02 else "accredited")
            if r["SECTOR"] == "99":
                acc_status = "candidate"
            acc_since = date_between(dt.date(1915, 1, 1), dt.date(2020, 12, 31), "inst-since", uid)
            if acc_status == "candidate":
                acc_since = date_between(dt.date(2023, 1, 1), dt.date(2025, 6, 30), "inst-since", uid)
            if acc_status in SANCTION_TEXT:
                acc_sanction = date_between(dt.date(2023, 6, 1), dt.date(2025, 8, 1), "inst-sanction", uid)
            acc_next = date_between(dt.date(2025, 1, 1), dt.date(2034, 12, 31), "inst-next", uid)
        inst = Institution(
            unitid=uid, name=r["INSTNM"], aliases=split_aliases(r["IALIAS"], r["INSTNM"]), addr=r["ADDR"],
            city=r["CITY"], state=r["STABBR"], zip=_zip(r["ZIP"]), phone=_phone(r["GENTELE"]),
            website=r["WEBADDR"] or None, sector=sector, iclevel=r["ICLEVEL"], control=r["CONTROL"],
            hloffer=int(r["HLOFFER"]) if r["HLOFFER"].lstrip("-").isdigit() else -3, locale=r["LOCALE"],
            instsize=int(r["INSTSIZE"]) if r["INSTSIZE"].lstrip("-").isdigit() else -2,
            lat=_float(r["LATITUDE"]), lon=_float(r["LONGITUD"]),
            ope_id=r["OPEID"].zfill(8) if r["OPEID"].isdigit() and int(r["OPEID"]) > 0 else None,
            closed_2023=r["DEATHYR"] == "2023", new_unit=sector == "99", awards=_awards(r), online=online,
            yellow_ribbon=yellow, accreditor=accreditor, acc_status=acc_status, acc_since=acc_since,
            acc_sanction_date=acc_sanction, acc_next=acc_next, cip_columns=columns, cip_rows=cip_rows,
            programs=chosen,
        )
        institutions[uid] = inst
        for p in chosen:
            programs[p.pid] = p
    # Directory ids: the directory numbers programs by state and institution, as a real list would grow.
    cahiim_programs = sorted((p for p in programs.values() if p.agency == CAHIIM_NAME),
                             key=lambda p: (institutions[p.unitid].state, institutions[p.unitid].name, p.name))
    for i, p in enumerate(cahiim_programs):
        p.cahiim_id = 1001 + i
    return institutions, programs


def institutions() -> dict[str, Institution]:
    """All 6,163 IPEDS institutions by unitid."""
    return world()[0]


def programs() -> dict[str, ProgramAcc]:
    """All base programmatic accreditations by program id."""
    return world()[1]


def state_slug(state: str) -> str:
    """Lower-case slug of a state code."""
    return slugify(state)


