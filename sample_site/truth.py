"""Ground truth of the sample site, in item-model terms, for tests that compare a crawl with it.

All functions are deterministic and cached per process. Values are as an extractor should produce
them: ints for money, floats for percentages and hourly pay, ISO dates, two-letter state codes,
statuses from ``model.items.ACCREDITATION_STATUSES``, degree levels from ``DEGREE_LEVELS``,
deliveries from ``DELIVERIES``. Conventions where a page leaves room for choice:

- careers: for the 40 saved real pages the values come from ``bls_ooh_occupations.csv`` except
  where the page prints none (then None: e.g. no hourly figure on the page); ``pay_p10``/``pay_p90``
  are annual dollars from the Pay prose (None when the prose gives hourly figures); ``title`` is the
  page's h1; ``soc_code`` is None for pages whose projections table starts with a '—' total row;
  ``accreditors`` are the acronyms the page names, in order of first mention; ``also_known_as``
  lists the A-Z index aliases that point to the occupation, in index order; ``summary`` is the
  meta description.
- institutions: ``state`` is the code; ``zip``, ``website``, ``phone`` as printed; ``aliases`` as
  listed after "Alias:" (split on " | "); ``control`` public / private nonprofit / private
  for-profit; ``level`` "4-year" / "2-year" / "Less than 2-year"; ``online`` = the page lists a
  "Distance education ... programs offered" line; ``military_friendly`` = the Servicemembers and
  Veterans section lists the Yellow Ribbon Program.
- accreditors: ``accreditor`` is the label ``model.accreditors.lookup_accreditor`` gives the agency
  name the page shows (an acronym such as "CAHIIM" for known agencies), ``accreditor_name`` the
  full name from the same table (the name as shown when the table does not know it); careers'
  ``accreditors`` use the same labels; ``website`` gets "http://" when the page shows no scheme.
- programs (College Navigator): ``military_friendly`` is True when the row's annotation says
  "military friendly" (the institution's services), else None;
  ``name`` is the program cell without its <em> annotation; ``field`` is the name up to " (";
  ``accredited_since`` is the date after "since (" or the start of "(start - end)";
  ``next_review`` None when blank; a CAHIIM program whose accreditation changed at this epoch
  shows its previous epoch's status and dates (College Navigator lags the directory one epoch);
  ``military_friendly`` is the institution's.
- programs (directory): ``program_id`` = ``cahiim-<directory id>``; ``accreditor`` "CAHIIM";
  ``institution_name`` as the directory writes it; ``institution_unitid`` = the true institution
  (what record linkage should find).
- reviews: ``institution_unitid`` = the true institution when it has a College Navigator page at
  that epoch, else None (linkage must leave it unmatched); ``url`` = the HTML review page holding it.

Functions that take ``scale`` describe the scaled site (``sample_site.scale``: N times the
programs and reviews); the default, 1, is the base site.
"""

from __future__ import annotations

import functools
import html as htmllib
import re
from collections.abc import Collection, Iterator, Mapping

from model.accreditors import lookup_accreditor
from model.items import item_from_dict
from sample_site import data_load, epochs, pages_cn, pages_directory, pages_ooh, pages_reviews
from sample_site import occupations as occ_mod
from sample_site import site as site_mod
from sample_site.core import CRAWLED_SOURCES, SOURCE_HOSTS, Page
from sample_site.institutions import AWARD_LEVEL, CAHIIM_NAME, CONTROL_VALUE, LEVEL_TEXT, institutions
from sample_site.reviewdata import REVIEWS_PER_PAGE, schools, schools_by_entity

DEFAULT_PORT = 8800


def default_base_urls(port: int = DEFAULT_PORT) -> dict[str, str]:
    """Base URLs of the standard multi-host layout on a port."""
    return {name: f"http://{ip}:{port}" for name, ip in SOURCE_HOSTS.items()}


def _base(base_urls: Mapping[str, str] | None) -> dict[str, str]:
    return dict(base_urls) if base_urls else default_base_urls()


@functools.cache
def also_known_as() -> dict[str, tuple[str, ...]]:
    """Occupation slug -> alternate titles from the real A-Z index, in index order."""
    text = (data_load.OOH_HTML_DIR / "a-z-index.html").read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    pattern = (r'<li><a href="https://www\.bls\.gov/ooh/[a-z0-9-]+/[a-z0-9-]+\.htm">([^<]*)</a>, see: '
               r'<a href="https://www\.bls\.gov/ooh/([a-z0-9-]+)/([a-z0-9-]+)\.htm">')
    for alias, _group, slug in re.findall(pattern, text):
        name = " ".join(htmllib.unescape(alias).split())
        if name not in out.setdefault(slug, []):
            out[slug].append(name)
    return {k: tuple(v) for k, v in out.items()}


def _career(occ: occ_mod.Occupation, st: epochs.EpochState, base: dict[str, str]) -> dict:
    annual, hourly, p10, p90 = st.pay(occ)
    page = Page("bls_ooh", "occupation", (occ.slug,), occ.path)
    return {
        "url": base["bls_ooh"] + occ.path, "source": "bls_ooh", "soc_code": occ.soc, "title": occ.title,
        "also_known_as": list(also_known_as().get(occ.slug, ())), "summary": occ.summary,
        "median_pay_annual": annual, "median_pay_hourly": hourly, "pay_p10": p10, "pay_p90": p90,
        "entry_education": occ.entry_education, "work_experience": occ.work_experience, "training": occ.training,
        "jobs": occ.jobs, "projected_employment": occ.projected, "outlook_pct": occ.outlook_pct,
        "outlook_desc": occ.outlook_desc, "employment_change": occ.employment_change,
        "accreditors": [_career_accreditor(a) for a in occ.accreditors],
        "similar_occupations": list(occ.similar) if occ.real else [occ_mod.by_slug()[s].title for s in occ.similar],
        "group": occ.group, "updated": site_mod.page_lastmod(page, st.epoch, st.scale).isoformat(),
    }


@functools.cache
def _label(agency: str | None) -> tuple[str | None, str | None]:
    """(accreditor label, full name) as the crawler normalises them (model/data/accreditors.csv)."""
    if not agency:
        return None, None
    acc = lookup_accreditor(agency)
    return (acc.label, acc.name) if acc else (agency, agency)


def _career_accreditor(acronym: str) -> str:
    """The label of an accreditor a career page names (its acronym when the crawler's table lacks it)."""
    label, _name = _label(occ_mod.ACCREDITOR_NAMES[acronym])
    return acronym if label == occ_mod.ACCREDITOR_NAMES[acronym] else label  # type: ignore[return-value]


def _website(value: str | None) -> str | None:
    if not value:
        return None
    return value if re.match(r"^https?://", value, re.I) else "http://" + value


def _institution(uid: str, base: dict[str, str]) -> dict:
    inst = institutions()[uid]
    return {
        "url": f"{base['collegenavigator']}/collegenavigator/?id={uid}", "source": "collegenavigator", "unitid": uid,
        "name": inst.name, "aliases": list(inst.aliases), "address": inst.addr or None, "city": inst.city, "state": inst.state,
        "zip": inst.zip, "latitude": inst.lat, "longitude": inst.lon, "website": _website(inst.website), "phone": inst.phone,
        "control": CONTROL_VALUE.get(inst.control), "level": LEVEL_TEXT.get(inst.iclevel) if inst.type_text else None,
        "online": inst.online, "military_friendly": inst.yellow_ribbon, "accreditor": _label(inst.accreditor)[0],
        "accreditation_status": inst.acc_status, "accredited_since": inst.acc_since.isoformat() if inst.acc_since else None,
        "next_review": inst.acc_next.isoformat() if inst.acc_next else None, "ope_id": inst.ope_id,
        "programs_offered": inst.programs_offered,
    }


def _cn_program(p, base: dict[str, str]) -> dict:  # type: ignore[no-untyped-def]
    inst = institutions()[p.unitid]
    return {
        "url": f"{base['collegenavigator']}/collegenavigator/?id={p.unitid}", "source": "collegenavigator",
        "program_id": p.pid, "institution_unitid": p.unitid, "institution_name": inst.name, "name": p.name,
        "field": p.field, "degree_level": AWARD_LEVEL[p.award], "accreditor": _label(p.agency)[0],
        "accreditor_name": _label(p.agency)[1],
        "accreditation_status": p.status, "accredited_since": p.since.isoformat(),
        "next_review": p.next_review.isoformat() if p.next_review else None, "delivery": p.delivery,
        "military_friendly": True if inst.yellow_ribbon else None, "state": inst.state, "city": inst.city,
    }


def _dir_program(p, base: dict[str, str]) -> dict:  # type: ignore[no-untyped-def]
    inst = institutions()[p.unitid]
    return {
        "url": f"{base['directory']}/cahiim/program-directory/program/{p.cahiim_id}", "source": "directory",
        "program_id": f"cahiim-{p.cahiim_id}", "institution_unitid": p.unitid, "institution_name": p.dir_name,
        "name": pages_directory.field_name(p), "field": p.field, "degree_level": p.degree_level, "accreditor": _label(CAHIIM_NAME)[0],
        "accreditor_name": _label(CAHIIM_NAME)[1], "accreditation_status": p.status, "accredited_since": p.since.isoformat(),
        "next_review": p.next_review.isoformat() if p.next_review else None, "delivery": p.delivery,
        "state": inst.state, "city": inst.city,
    }


_ID_FIELD = {"institution": "unitid", "program": "program_id", "review": "review_id"}


def _records(st: epochs.EpochState, base: dict[str, str], unitids: Collection[str] | None = None,
             entities: Collection[str] | None = None) -> Iterator[tuple[str, str, dict]]:
    """(kind, item id, fields) of the records the pages show: careers, institutions (each with its
    programs), directory programs, reviews; with ``unitids`` / ``entities`` only those institutions'
    and review-site schools' records (no careers)."""

    def record(kind: str, fields: dict) -> tuple[str, str, dict]:
        # Careers without a SOC code fall back to the item model's URL-based id.
        item_id = fields[_ID_FIELD[kind]] if kind in _ID_FIELD else item_from_dict({**fields, "kind": kind}).item_id
        return kind, item_id, fields

    whole = unitids is None and entities is None
    units, schools_wanted = set(unitids or ()), set(entities or ())
    if whole:
        for occ in occ_mod.occupations():
            yield record("career", _career(occ, st, base))
    for uid in sorted(st.present if whole else st.present & units, key=int):
        yield record("institution", _institution(uid, base))
        # College Navigator rows show the lagged view (the epoch before, for CAHIIM programs changed now).
        for p in st.cn_programs_of(uid):
            yield record("program", _cn_program(p, base))
    for p in st.cahiim_programs():
        if whole or p.unitid in units:
            yield record("program", _dir_program(p, base))
    by_e = schools_by_entity()
    for eid, reviews in sorted(st.reviews.items()):
        if not whole and eid not in schools_wanted:
            continue
        school = by_e[eid]
        unitid = school.unitid if school.unitid in st.present else None
        for i, r in enumerate(reviews):
            yield record("review", {
                "url": base["reviews"] + pages_reviews.school_url(school, i // REVIEWS_PER_PAGE + 1), "source": "reviews",
                "review_id": r.review_id, "institution_unitid": unitid, "institution_name": school.name,
                "institution_city": school.city, "institution_state": school.state, "entity_id": eid, "rating": r.rating,
                "body": r.body, "author_role": r.role, "category": r.category, "date": r.date.isoformat(), "origin": "crawled",
            })


@functools.lru_cache(maxsize=16)
def _expected(epoch: int, base_key: tuple[tuple[str, str], ...], scale: int = 1) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {"career": {}, "institution": {}, "program": {}, "review": {}}
    for kind, item_id, fields in _records(epochs.state(epoch, scale), dict(base_key)):
        if item_id in out[kind]:
            raise RuntimeError(f"duplicate {kind} id {item_id}")
        out[kind][item_id] = fields
    return out


def expected_items(epoch: int = 1, *, base_urls: Mapping[str, str] | None = None, scale: int = 1) -> dict[str, dict[str, dict]]:
    """kind -> item_id -> the fields the site's pages show at an epoch (item-model names and values).

    ``base_urls`` (source -> base URL, as in sources.json; default: the multi-host layout on port
    8800) sets the ``url`` fields, and the ids of careers without a SOC code (they fall back to a
    hash of the URL). Treat the returned dicts as read-only (they are cached).
    """
    return _expected(epoch, tuple(sorted(_base(base_urls).items())), scale)


def iter_expected_items(epoch: int = 1, *, base_urls: Mapping[str, str] | None = None,
                        scale: int = 1) -> Iterator[tuple[str, str, dict]]:
    """(kind, item_id, fields) of ``expected_items`` one at a time, nothing cached (for large scales)."""
    return _records(epochs.state(epoch, scale), _base(base_urls))


def expected_slice(epoch: int = 1, *, unitids: Collection[str] = (), entities: Collection[str] = (),
                   base_urls: Mapping[str, str] | None = None, scale: int = 1) -> dict[str, dict[str, dict]]:
    """``expected_items`` of part of the site: the institutions ``unitids`` (their profiles' and the
    directory's programs) and the review-site schools ``entities`` (their reviews); no careers.

    For checking a crawl of part of a large (scaled) site without building every record.
    """
    out: dict[str, dict[str, dict]] = {"career": {}, "institution": {}, "program": {}, "review": {}}
    for kind, item_id, fields in _records(epochs.state(epoch, scale), _base(base_urls), unitids, entities):
        out[kind][item_id] = fields
    return out


def review_links(epoch: int = 1, scale: int = 1) -> dict[str, str]:
    """Review-site entity id -> the true IPEDS unitid, for every school the review site lists at an epoch."""
    st = epochs.state(epoch, scale)
    return {s.entity_id: s.unitid for s in schools() if s.entity_id in st.reviews}


def unlinkable_review_entities(epoch: int = 1, scale: int = 1) -> set[str]:
    """Review-site schools whose institution has no College Navigator page at that epoch (must stay unmatched)."""
    st = epochs.state(epoch, scale)
    return {e for e, u in review_links(epoch, scale).items() if u not in st.present}


def review_name_variants(epoch: int = 1) -> dict[str, str]:
    """Entity id -> which naming quirk the review site applied (exact, univ_abbrev, campus, alias, misspelling...)."""
    return {s.entity_id: s.variant for s in schools() if s.entity_id in epochs.state(epoch).reviews}


def directory_links(epoch: int = 1, scale: int = 1) -> dict[str, str]:
    """Directory program id (``cahiim-<id>``) -> the true IPEDS unitid of its institution."""
    return {f"cahiim-{p.cahiim_id}": p.unitid for p in epochs.state(epoch, scale).cahiim_programs()}


def same_program_pairs(epoch: int = 1, scale: int = 1) -> set[tuple[str, str]]:
    """(College Navigator program id, directory program id ``cahiim-<id>``) of every program both sources list at an epoch."""
    st = epochs.state(epoch, scale)
    pairs = set()
    for p in st.cahiim_programs():
        # The directory lists only programs of present institutions; so does College Navigator (one page each).
        if p.unitid in st.present and any(q.pid == p.pid for q in st.cn_programs_of(p.unitid)):
            pairs.add((p.pid, f"cahiim-{p.cahiim_id}"))
    return pairs


DISAGREEMENT_FIELDS = ("accreditation_status", "accredited_since", "next_review")
"""Fields in which College Navigator's lagging row can differ from the accreditor's directory."""


def source_disagreements(epoch: int) -> dict[str, dict[str, tuple]]:
    """Directory program id -> field -> (directory value, College Navigator value), for programs whose two rows differ."""
    programs = expected_items(epoch)["program"]
    out: dict[str, dict[str, tuple]] = {}
    for cn_id, dir_id in sorted(same_program_pairs(epoch)):
        d, c = programs[dir_id], programs[cn_id]
        diff = {f: (d[f], c[f]) for f in DISAGREEMENT_FIELDS if d[f] != c[f]}
        if diff:
            out[dir_id] = diff
    return out


def page_paths(epoch: int = 1, *, sources: tuple[str, ...] = CRAWLED_SOURCES, scale: int = 1) -> dict[str, list[str]]:
    """source -> canonical path+query of every crawlable page (robots-allowed) at an epoch."""
    pages = site_mod.all_pages(epoch, sources, scale)
    return {s: [p.canonical for p in ps] for s, ps in pages.items() if s != site_mod.SITE}


def _host_of(page: Page) -> str:
    """Which host serves a page: its source, or for host-level files the host they describe."""
    if page.source != site_mod.SITE:
        return page.source
    if page.kind == "robots":
        return page.args[0]
    if page.kind == "sitemap_index":
        return page.args[0][0]
    if page.kind in ("sitemap", "source_sitemap_index"):
        return page.args[0]
    return "portal"


def _page_index(epoch: int) -> dict[tuple[str, str], Page]:
    return {(_host_of(p), p.canonical): p for ps in site_mod.all_pages(epoch).values() for p in ps}


def pages_by_host(epoch: int = 1) -> dict[str, list[str]]:
    """host ('portal' or a crawled source) -> every page path it serves at an epoch, host-level files included."""
    out: dict[str, list[str]] = {}
    for host, path in _page_index(epoch):
        out.setdefault(host, []).append(path)
    return out


def changed_pages_by_host(a: int, b: int) -> dict[str, dict[str, set[str]]]:
    """host ('portal' or a source) -> {"changed", "added", "removed"} -> paths, between epochs a and b."""
    ia, ib = _page_index(a), _page_index(b)
    out: dict[str, dict[str, set[str]]] = {}
    for key in sorted(set(ia) | set(ib)):
        host, path = key
        page = ia.get(key) or ib[key]
        ma, mb = site_mod.page_model(page, a), site_mod.page_model(page, b)
        bucket = out.setdefault(host, {"changed": set(), "added": set(), "removed": set()})
        if ma is None and mb is not None:
            bucket["added"].add(path)
        elif ma is not None and mb is None:
            bucket["removed"].add(path)
        elif ma != mb:
            bucket["changed"].add(path)
    return out


def changed_pages(a: int, b: int) -> dict[str, set[str]]:
    """{"changed", "added", "removed"} -> paths (with query) of pages that differ between epochs a and b.

    Covers every crawlable page of the four crawled sources (their paths are distinct) plus the
    portal's ``/`` and ``/sources.json``; per-host ``/robots.txt`` and ``/sitemap.xml`` are in
    ``changed_pages_by_host``. A page is "changed" when both epochs serve it and its content differs.
    """
    out: dict[str, set[str]] = {"changed": set(), "added": set(), "removed": set()}
    for host, buckets in changed_pages_by_host(a, b).items():
        for key, paths in buckets.items():
            for path in paths:
                if path in ("/robots.txt", "/sitemap.xml") and host != "portal":
                    continue
                out[key].add(path)
    return out


def robots_txt(source: str, port: int = DEFAULT_PORT) -> str:
    """The robots.txt a source's host serves (multi-host layout)."""
    return site_mod.robots_txt(source, default_base_urls(port), single_host=False)


def disallowed_paths() -> dict[str, list[str]]:
    """source -> robots.txt Disallow patterns of its host (each host also disallows everything outside its area)."""
    return {s: [*site_mod.disallow_rules(s), "/ (except " + ", ".join(site_mod.ALLOW_PREFIXES[s]) + ")"] for s in site_mod.MODULES}


@functools.cache
def _robot_parser(source: str):  # type: ignore[no-untyped-def]
    from protego import Protego

    return Protego.parse(robots_txt(source))


def is_disallowed(source: str, path: str, user_agent: str = "collegesearch") -> bool:
    """Whether the robots.txt of a source's host forbids fetching path (with query)."""
    return not _robot_parser(source).can_fetch(f"http://{SOURCE_HOSTS[source]}{path}", user_agent)


def fault_urls() -> dict[str, object]:
    """Where the deliberate faults are (active only with faults on)."""
    return {
        "not_found_links": {
            "bls_ooh": [pages_ooh.MISSING_OCCUPATION], "collegenavigator": [f"/collegenavigator/?id={pages_cn.MISSING_ID}"],
            "directory": [pages_directory.MISSING_PROGRAM], "reviews": [pages_reviews.MISSING_SCHOOL],
        },
        "transient_503": sorted(site_mod.Site(1, True, default_base_urls(), False).transient_paths),
        "slow": [f"/collegenavigator/?id={pages_cn.slow_unitid()}"],
        "slow_seconds": site_mod.SLOW_SECONDS,
        "malformed": [f"/collegenavigator/?id={pages_cn.malformed_unitid()}"],
        "latin1": [f"/collegenavigator/?id={pages_cn.LATIN1_UNITID}"],
        "redirects": {
            "/ooh/a-z-index.htm": "/ooh/a-z/index.htm", "/ooh/home.htm": "/ooh/",
            **{f"/ooh/{g}/{old}.htm": f"/ooh/{g}/{new}.htm" for (g, old), new in occ_mod.OLD_SLUGS.items()},
            "/cahiim/programs/1001": "/cahiim/program-directory/program/1001",
            f"/reviews/c/{schools()[0].entity_id}": schools()[0].path,
        },
        "tracking_parameters": ["utm_source", "utm_medium", "utm_campaign", "sessionid"],
        "crawl_traps": {"bls_ooh": pages_ooh.FINDER, "reviews": "/reviews/events/calendar/2025/09/"},
    }


def counts(epoch: int = 1, scale: int = 1) -> dict[str, int]:
    """Headline numbers of the site at an epoch (and scale): how many records ``expected_items`` has of each."""
    # Counted from the state, not from expected_items, so a large scale is counted without
    # building every record (expected_items holds one record per career, page and row counted here).
    st = epochs.state(epoch, scale)
    cn_programs = sum(len(st.programs_of(u)) for u in st.present)
    return {
        "careers": len(occ_mod.occupations()),
        "institution_pages": len(st.present),
        "programs_collegenavigator": cn_programs,
        "cahiim_programs": len(st.cahiim_programs()),
        # One record per program once both sources are fused: a pair counts once.
        "fused_programs": cn_programs + len(st.cahiim_programs()) - len(same_program_pairs(epoch, scale)),
        "review_schools": len(st.reviews),
        "reviews": sum(len(v) for v in st.reviews.values()),
        "ipeds_institutions": len(institutions()),
    }


def adversarial_expectations() -> list[dict]:
    """What a crawl of the adversarial area should do with each hostile page.

    Each entry: ``path``, ``attack``, ``kind`` (item kind or None), ``item_id`` (or None), ``expect``
    ("kept", "dropped", "no_items" or "any": the crawl must only finish without crashing), ``reason``
    (why an item must be dropped), ``fields`` (exact values a kept item must have), ``text`` (field ->
    checks: "equals_without_format_chars", "startswith", "contains"), ``forbidden`` (substrings that
    must appear in no field of any item from the page: script element contents and event-handler
    values are markup, never text). Text that *shows* markup (escaped on the page, e.g. a name
    containing "<script>") is kept as text; the web app must escape it.
    """
    from sample_site import pages_adversarial as adv

    out: list[dict] = []

    def add(path: str, attack: str, kind: str | None = None, item_id: str | None = None, expect: str = "kept",
            reason: str | None = None, fields: dict | None = None, text: dict | None = None, forbidden: list | None = None) -> None:
        out.append({"path": path, "attack": attack, "kind": kind, "item_id": item_id, "expect": expect, "reason": reason,
                    "fields": fields or {}, "text": text or {}, "forbidden": forbidden or []})

    careers = "/adversarial/ooh/healthcare/{}.htm"
    add(careers.format("script-in-title-nurses"), "script element, event handler and javascript: link in career text; markup shown in the title",
        "career", "29-9901", fields={"soc_code": "29-9901", "median_pay_annual": 81220},
        text={"title": {"startswith": "Registered Nurse"}}, forbidden=["document.cookie", "alert('career')"])
    add(careers.format("negative-pay-clerks"), "impossible value: negative pay", "career", "43-9902", expect="dropped",
        reason="negative pay")
    add(careers.format("zero-width-medical-coders"), "zero-width and right-to-left override characters in the title",
        "career", "29-9903", fields={"soc_code": "29-9903"},
        text={"title": {"equals_without_format_chars": "Medical Coders sredoc"}})
    add(careers.format("deeply-nested-technicians"), "content inside 5,000 nested <div>s", "career", "29-9904", expect="any")
    cn = "/adversarial/collegenavigator/?id={}"
    add(cn.format("990001"), "event-handler markup shown in the name and an onmouseover attribute", "institution", "990001",
        text={"name": {"equals_without_format_chars": "<img src=x onerror=alert('xss')>Evil College"}}, forbidden=["alert('hover')"])
    add(cn.format("990002"), "impossible value: unknown state ZZ", "institution", "990002", expect="dropped", reason="unknown state")
    add(cn.format("990003"), "zero-width and right-to-left override characters in the name", "institution", "990003",
        text={"name": {"equals_without_format_chars": "University of thguaN Hidden"}})
    add(cn.format("990004"), "wrong charset: declared UTF-8, encoded ISO-8859-1", "institution", "990004",
        text={"name": {"startswith": "Universidad T", "contains": ["Baja California"]}})
    add(cn.format("990005"), "missing charset (UTF-8 bytes, no declaration)", "institution", "990005",
        text={"name": {"contains": ["cole Sup", "de Sant"]}})
    add(cn.format("990006"), "wrong charset: meta says ISO-8859-1, bytes are UTF-8", "institution", "990006",
        text={"name": {"contains": ["Technical Institute"]}})
    add(cn.format("990007"), "script element that writes markup; markup shown in the name", "institution", "990007",
        text={"name": {"startswith": "Scripted Community College"}}, forbidden=["document.write", "owned"])
    page = f"/adversarial/reviews/colleges/{adv.REVIEW_SCHOOL[0]}/reviews/"
    checks = {
        9900001: ("script element inside a review", "kept", None, ["Great teachers", "small classes"]),
        9900002: ("javascript: link and markup in a review", "kept", None, ["tuition"]),
        9900003: ("impossible value: rating 9", "dropped", "invalid rating", []),
        9900004: ("impossible value: rating 0", "dropped", "invalid rating", []),
        9900005: ("empty review text", "dropped", "missing body", []),
        9900006: ("zero-width and right-to-left characters in a review", "kept", None, ["width and", "inside."]),
        9900007: ("10,000-character review", "kept", None, ["Long review."]),
        9900008: ("event-handler markup in a review", "kept", None, ["Image handler in text."]),
    }
    for rid, (attack, expect, reason, contains) in checks.items():
        add(page, attack, "review", f"reviews:{rid}", expect=expect, reason=reason,
            text={"body": {"contains": contains}} if contains else {})
    add("/adversarial/huge.html", "20 MB page", expect="any")
    add("/adversarial/broken.html", "broken HTML: NUL bytes, invalid UTF-8, unclosed tags and comment", expect="any")
    add("/adversarial/loop/a", "endless redirect loop (a -> b -> a)", expect="no_items")
    add("/adversarial/loop/chain", "endless redirect chain (?n=1, 2, 3, ...)", expect="no_items")
    add("/adversarial/trap/1/", "infinite link trap not covered by robots.txt", expect="any")
    return out
