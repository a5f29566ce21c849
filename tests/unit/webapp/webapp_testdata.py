"""Hand-made items for the web app tests (unit and browser): careers, schools, accredited programs, reviews.

Includes hostile text (script tags, attribute breakers, a ``javascript:`` website) so every page's
escaping is exercised, and a program whose accreditation status changes between two "crawls".
"""

from __future__ import annotations

import re

from werkzeug.security import generate_password_hash

from catalog import Catalog
from model.items import Career, Institution, Program, Review

ADMIN_PASSWORD = "correct horse battery staple"
# Few iterations: the tests check the logic, not the hash's strength.
ADMIN_HASH = generate_password_hash(ADMIN_PASSWORD, method="pbkdf2:sha256:1000")

XSS = '<script>alert(1)</script>'
ATTR = '" onmouseover="alert(2)'
HOSTILE = f"{XSS}{ATTR}"

MRS = "29-2072"  # Medical Records Specialists
RAD = "29-2034"  # Radiologic and MRI technologists
SWD = "15-1252"  # Software developers
EVIL_CAREER = "99-9999"

GHC = "100001"   # Georgia Health College: military friendly, online, several reviews
OVCC = "100002"  # Ohio Valley Community College: its HIT program goes on probation
EVIL = "100003"  # hostile names everywhere
UCB = "110635"   # UC Berkeley (alias "Cal")

HIT_GA = "100001-hitaas0001"
HIT_OH = "100002-hitaas0002"
HIM_CA = "110635-himbs00003"
RAD_GA = "100001-radaas0004"
EVIL_PROG = "100003-evilprog05"

BLS = "https://www.bls.gov/ooh/healthcare/"
NAV = "https://nces.ed.gov/collegenavigator/?id="
DIR = "https://www.cahiim.org/accredited-programs/"
REV = "https://reviews.example.org/school/"


def careers() -> list[Career]:
    """Three real-looking careers and one hostile one."""
    return [
        Career(
            url=BLS + "medical-records-and-health-information-technicians.htm", source="bls_ooh", soc_code=MRS,
            title="Medical Records Specialists",
            also_known_as=["Health information technician", "Medical coder", "Medical records technician"],
            summary="Medical records specialists compile, process, and maintain patient files.",
            median_pay_annual=50250, median_pay_annual_raw="$50,250 per year", median_pay_hourly=24.16,
            pay_p10=35780, pay_p90=80950,
            pay_raw="The lowest 10 percent earned less than $35,780, and the highest 10 percent earned more than $80,950.",
            entry_education="Postsecondary nondegree award", work_experience="None", training="None",
            jobs=194300, projected_employment=208700, outlook_pct=7.0, outlook_desc="Faster than average",
            employment_change=14400, accreditors=["CAHIIM"], group="healthcare",
            what_they_do="Medical records specialists review patient records for timeliness and completeness.",
            how_to_become="Medical records specialists typically need a postsecondary certificate; an associate "
                          "degree in health information technology from a CAHIIM-accredited program helps.",
            updated="2025-04-18",
        ),
        Career(
            url=BLS + "radiologic-technologists.htm", source="bls_ooh", soc_code=RAD,
            title="Radiologic and MRI Technologists", also_known_as=["X-ray technician", "Radiographer"],
            summary="Radiologic technologists perform diagnostic imaging examinations.",
            median_pay_annual=77660, pay_p10=54070, pay_p90=109960, entry_education="Associate's degree",
            outlook_pct=5.0, outlook_desc="Faster than average", jobs=250000, accreditors=["JRCERT"],
            group="healthcare", how_to_become="An associate degree in radiography from a JRCERT-accredited program.",
        ),
        Career(
            url="https://www.bls.gov/ooh/computer-and-information-technology/software-developers.htm",
            source="bls_ooh", soc_code=SWD, title="Software Developers",
            summary="Software developers design computer applications or programs.",
            median_pay_annual=133080, pay_p10=79850, pay_p90=211450, entry_education="Bachelor's degree",
            outlook_pct=15.0, outlook_desc="Much faster than average", jobs=1900000, group="computer",
        ),
        Career(
            url=BLS + "evil.htm", source="bls_ooh", soc_code=EVIL_CAREER, title=f"Evil {HOSTILE} Career",
            summary=f"Text with {HOSTILE} inside.", also_known_as=[HOSTILE], median_pay_annual=40000,
            accreditors=[HOSTILE], what_they_do=HOSTILE, how_to_become=HOSTILE, pay_raw=HOSTILE,
        ),
    ]


def institutions() -> list[Institution]:
    """Four schools; one with hostile text and a ``javascript:`` website."""
    return [
        Institution(
            url=NAV + GHC, source="collegenavigator", unitid=GHC, name="Georgia Health College",
            aliases=["GHC"], address="100 Peachtree St", city="Atlanta", state="GA", zip="30303",
            latitude=33.7537, longitude=-84.3863, website="www.ghc.example.edu", phone="404-555-0100",
            control="public", level="2-year", online=True, military_friendly=True, accreditor="SACSCOC",
            accreditation_status="accredited", accredited_since="1990-01-01", next_review="2030-06-30",
            programs_offered=["Health Information Technology", "Radiography", "Nursing"],
        ),
        Institution(
            url=NAV + OVCC, source="collegenavigator", unitid=OVCC, name="Ohio Valley Community College",
            city="Columbus", state="OH", zip="43215", latitude=39.9612, longitude=-82.9988,
            website="https://www.ovcc.example.edu", control="public", level="2-year", online=False,
            military_friendly=False, accreditor="HLC", accreditation_status="probation",
            accredited_since="1975-09-01", next_review="2026-01-31",
        ),
        Institution(
            url=NAV + EVIL, source="collegenavigator", unitid=EVIL, name=f"Evil {HOSTILE} College",
            aliases=[HOSTILE], address=HOSTILE, city="Albany", state="NY", zip="12207",
            website="javascript:alert(3)", accreditor=HOSTILE, accreditation_status="withdrawn",
            programs_offered=[HOSTILE],
        ),
        Institution(
            url=NAV + UCB, source="collegenavigator", unitid=UCB, name="University of California-Berkeley",
            aliases=["UC Berkeley", "Cal"], address="200 California Hall", city="Berkeley", state="CA", zip="94720",
            latitude=37.8719, longitude=-122.2585, website="www.berkeley.edu", control="public", level="4-year",
            online=False, military_friendly=True, accreditor="WSCUC", accreditation_status="accredited",
        ),
    ]


def programs(*, hit_oh_status: str = "accredited") -> list[Program]:
    """CAHIIM and JRCERT programs; the Ohio HIT program's status is a parameter (it changes between crawls)."""
    return [
        Program(
            url=DIR + "ghc-hit", source="directory", program_id=HIT_GA, institution_unitid=GHC,
            institution_name="Georgia Health College", name="Health Information Technology",
            field="Health Information Technology", degree_level="associate", accreditor="CAHIIM",
            accreditor_name="Commission on Accreditation for Health Informatics and Information Management Education",
            accreditation_status="accredited", accredited_since="2012-05-01", next_review="2027-05-01",
            delivery="online", military_friendly=True, state="GA", city="Atlanta",
        ),
        Program(
            url=DIR + "ovcc-hit", source="directory", program_id=HIT_OH, institution_unitid=OVCC,
            institution_name="Ohio Valley Community College", name="Health Information Technology",
            field="Health Information Technology", degree_level="associate", accreditor="CAHIIM",
            accreditation_status=hit_oh_status, accredited_since="2008-03-01", next_review="2025-12-01",
            delivery="campus", state="OH", city="Columbus",
        ),
        Program(
            url=DIR + "ucb-him", source="directory", program_id=HIM_CA, institution_unitid=UCB,
            institution_name="University of California-Berkeley", name="Health Information Management",
            field="Health Information Management", degree_level="bachelor", accreditor="CAHIIM",
            accreditation_status="accredited", delivery="hybrid", state="CA", city="Berkeley",
        ),
        Program(
            url=DIR + "ghc-rad", source="directory", program_id=RAD_GA, institution_unitid=GHC,
            institution_name="Georgia Health College", name="Radiography", field="Radiologic Technology",
            degree_level="associate", accreditor="JRCERT", accreditation_status="accredited", delivery="campus",
            state="GA", city="Atlanta",
        ),
        Program(
            url="javascript:alert(4)", source="directory", program_id=EVIL_PROG, institution_unitid=EVIL,
            institution_name=f"Evil {HOSTILE} College", name=f"Health Information {HOSTILE} Technology",
            field="Health Information Technology", degree_level="associate", accreditor="CAHIIM",
            accreditation_status="withdrawn", accreditation_status_raw=HOSTILE, delivery="online",
            state="NY", city="Albany",
        ),
    ]


def reviews() -> list[Review]:
    """Reviews of three schools (one hostile) and one the linker could not match."""
    return [
        Review(url=REV + "ghc/1", source="reviews", review_id="r-ghc-1", institution_unitid=GHC,
               institution_name="Georgia Health College", rating=5, title="Great coding instructors",
               body="The health information technology instructors really prepared me for the RHIT exam.",
               author_role="graduate", category="academics", date="2024-05-01", link_status="matched"),
        Review(url=REV + "ghc/2", source="reviews", review_id="r-ghc-2", institution_unitid=GHC,
               institution_name="Georgia Health College", rating=4, title="Helpful financial aid office",
               body="The financial aid office answered every question quickly and kindly.",
               author_role="current_student", category="financial_aid", date="2024-06-01", link_status="matched"),
        Review(url=REV + "ghc/3", source="reviews", review_id="r-ghc-3", institution_unitid=GHC,
               institution_name="Georgia Health College", rating=3, title="Online classes are fine",
               body="Online classes are well organised but the forums are quiet.",
               author_role="current_student", category="online_learning", date="2024-07-01", link_status="matched"),
        Review(url=REV + "ovcc/1", source="reviews", review_id="r-ovcc-1", institution_unitid=OVCC,
               institution_name="Ohio Valley Community College", rating=2, title="Program under review",
               body="Our HIT program was put on probation and nobody explained why.",
               author_role="current_student", category="academics", date="2024-08-01", link_status="matched"),
        Review(url=REV + "evil/1", source="reviews", review_id="r-evil-1", institution_unitid=EVIL,
               institution_name=f"Evil {HOSTILE} College", rating=1, title=f"Title {HOSTILE}",
               body=f"Body {HOSTILE} end", author_role=HOSTILE, category=HOSTILE, date="2024-09-01",
               link_status="matched"),
        Review(url=REV + "nowhere/1", source="reviews", review_id="r-unlinked-1", institution_unitid=None,
               institution_name="Unknown Institute of Somewhere", institution_city="Nowhere", institution_state="KS",
               rating=4, title="Nice place", body="Small classes and friendly staff.", date="2024-10-01",
               link_status="unmatched"),
    ]


def fill_catalog(cat: Catalog) -> None:
    """Two "crawls": everything, then the Ohio HIT program moves from accredited to probation."""
    run1 = cat.start_run("directory", "manual")
    for item in careers() + institutions() + programs() + reviews():
        cat.upsert(item, run_id=run1)
    cat.finish_run(run1, status="ok", stats={"pages": 12, "items_new": 19, "items_changed": 0,
                                             "items_unchanged": 0, "items_removed": 0}, complete=True)
    run2 = cat.start_run("directory", "schedule")
    for item in programs(hit_oh_status="probation"):
        cat.upsert(item, run_id=run2)
    cat.finish_run(run2, status="ok", stats={"pages": 5, "items_new": 0, "items_changed": 1,
                                             "items_unchanged": 4, "items_removed": 0}, complete=True)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, password: str = ADMIN_PASSWORD):
    """Log in as admin; returns the POST response."""
    page = client.get("/admin/login")
    return client.post("/admin/login", data={"password": password, "csrf_token": csrf_token(page.text)})
