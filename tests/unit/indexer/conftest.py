"""A small hand-made catalog with linked records, and a real index built from it."""

from __future__ import annotations

import pytest

from collegesearch.config import load_settings
from model.items import Career, Institution, Program, Review

MEDICAL_RECORDS_HOW_TO = (
    "Medical records specialists typically need a postsecondary certificate to enter the occupation, although "
    "some may need an associate's degree. Certificate programs include courses in medical terminology and "
    "classification and coding systems."
)


def corpus_items() -> list:
    """Careers, institutions (with coordinates), their programs and reviews, including attack markup."""
    return [
        Career(url="https://ooh.example/medical-records", source="bls_ooh", soc_code="29-2072",
               title="Medical records specialists",
               also_known_as=["Health information technician", "Medical coder"],
               summary="Medical records specialists compile, process, and maintain patient files.",
               how_to_become=MEDICAL_RECORDS_HOW_TO, entry_education="Postsecondary nondegree award",
               median_pay_annual=50250, pay_p10=35780, pay_p90=80950, outlook_pct=7.0, updated="2025-04-18"),
        Career(url="https://ooh.example/radiologic", source="bls_ooh", soc_code="29-2034",
               title="Radiologic and MRI technologists", also_known_as=["X-ray technician", "Radiographer"],
               summary="Radiologic technologists perform diagnostic imaging examinations such as x rays.",
               how_to_become="Radiologic technologists typically need an associate's degree in radiography from a "
                             "program accredited by JRCERT.",
               accreditors=["JRCERT"], entry_education="Associate's degree", median_pay_annual=77660,
               updated="2025-04-18"),
        Career(url="https://ooh.example/dietitians", source="bls_ooh", soc_code="29-1031",
               title="Dietitians and nutritionists",
               summary="Dietitians and nutritionists plan food and nutrition programs.",
               how_to_become="Most dietitians need a master's degree in dietetics or clinical nutrition.",
               entry_education="Bachelor's degree", median_pay_annual=73850, updated="2024-09-01"),
        Career(url="https://ooh.example/software", source="bls_ooh", soc_code="15-1252",
               title="Software developers", summary="Software developers design computer applications.",
               how_to_become="Software developers typically need a bachelor's degree in computer science.",
               entry_education="Bachelor's degree", median_pay_annual=133080, updated="2025-01-10"),
        Institution(url="https://nav.example/?id=100", source="collegenavigator", unitid="100",
                    name="Georgia Piedmont Technical College", aliases=["GPTC"], city="Clarkston", state="GA",
                    zip="30021", latitude=33.8098, longitude=-84.2397, control="public", level="2-year",
                    military_friendly=True, accreditor="Council on Occupational Education",
                    accreditation_status="accredited"),
        Institution(url="https://nav.example/?id=200", source="collegenavigator", unitid="200",
                    name="University of California-Los Angeles", aliases=["UCLA"], city="Los Angeles", state="CA",
                    zip="90095", latitude=34.0689, longitude=-118.4452, control="public", level="4-year",
                    military_friendly=False, accreditor="WASC Senior College and University Commission",
                    accreditation_status="accredited"),
        Institution(url="https://nav.example/?id=300", source="collegenavigator", unitid="300",
                    name="Columbus State Community College", city="Columbus", state="OH", zip="43215",
                    latitude=39.9695, longitude=-82.9876, control="public", level="2-year", online=True,
                    accreditor="Higher Learning Commission", accreditation_status="accredited"),
        Institution(url="https://nav.example/?id=400", source="collegenavigator", unitid="400",
                    name="Atlanta Technical College", city="Atlanta", state="GA", zip="30310",
                    latitude=33.7115, longitude=-84.4102, control="public", level="2-year",
                    accreditor="Council on Occupational Education", accreditation_status="probation"),
        Program(url="https://dir.example/p/1", source="directory", program_id="100-hit", institution_unitid="100",
                institution_name="Georgia Piedmont Technical College",
                name="Health Information Technology (HIT) - Associate degree programs", degree_level="associate",
                accreditor="CAHIIM", accreditation_status="accredited", delivery="online", state="GA",
                city="Clarkston", accredited_since="2016-05-01", next_review="2027-05-01"),
        Program(url="https://dir.example/p/2", source="directory", program_id="300-hit", institution_unitid="300",
                institution_name="Columbus State Community College",
                name="Health Information Technology (HIT) - Associate degree programs", degree_level="associate",
                accreditor="CAHIIM", accreditation_status="probation", delivery="campus", state="OH",
                city="Columbus", accredited_since="2010-03-01"),
        Program(url="https://nav.example/?id=400#accred", source="collegenavigator", program_id="400-rad",
                institution_unitid="400", institution_name="Atlanta Technical College",
                name="Radiologic Technology (RAD) - Programs for radiographers", degree_level="associate",
                accreditor="Joint Review Committee on Education in Radiologic Technology",
                accreditation_status="accredited", delivery="campus", state="GA", city="Atlanta"),
        Program(url="https://nav.example/?id=200#accred", source="collegenavigator", program_id="200-diet",
                institution_unitid="200", institution_name="University of California-Los Angeles",
                name="Didactic Program in Dietetics", degree_level="bachelor",
                accreditor="Academy of Nutrition and Dietetics, Accreditation Council for Education in Nutrition "
                           "and Dietetics",
                accreditation_status="accredited", delivery="campus", state="CA", city="Los Angeles"),
        Program(url="https://nav.example/?id=300#accred", source="collegenavigator", program_id="300-diet",
                institution_unitid="300", institution_name="Columbus State Community College",
                name="Dietetics (DIETT) - Dietetic Technician Program", degree_level="associate",
                accreditor="ACEND", accreditation_status="accredited", delivery="online", state="OH",
                city="Columbus"),
        Program(url="https://dir.example/p/3", source="directory", program_id="200-him", institution_unitid="200",
                institution_name="University of California-Los Angeles",
                name="Health Information Management (HIM) - Baccalaureate degree programs",
                degree_level="bachelor", accreditor="CAHIIM", accreditation_status="withdrawn", delivery="hybrid",
                state="CA", city="Los Angeles"),
        Review(url="https://reviews.example/r/1", source="reviews", review_id="r1", institution_unitid="100",
               institution_name="Georgia Piedmont Technical College", rating=5, title="Great support",
               body="The financial aid office was really helpful and answered every question.",
               category="financial aid", date="2025-02-01"),
        Review(url="https://reviews.example/r/2", source="reviews", review_id="r2", institution_unitid="100",
               institution_name="Georgia Piedmont Technical College", rating=3, title="Parking",
               body="Parking is hard to find before morning classes.", category="campus", date="2024-11-05"),
        Review(url="https://reviews.example/r/3", source="reviews", review_id="r3", institution_unitid="200",
               institution_name="UCLA", rating=4, title="<b>Professors</b>",
               body="<script>alert('x')</script> Great professors & <img src=x onerror=alert(1)> labs.",
               category="academics", date="2025-03-03"),
        Review(url="https://reviews.example/r/4", source="reviews", review_id="r4", institution_unitid="300",
               institution_name="Columbus State Community College", rating=2, title="Disorganized",
               body="Online classes were disorganized and the advisors never called back.", category="online",
               date="2023-08-20"),
    ]


def make_settings(tmp_path):
    return load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(tmp_path / "data")})


def fill(catalog, items=None) -> None:
    """Store the items as a crawl would, and fuse them (what the index and users see)."""
    for item in items if items is not None else corpus_items():
        catalog.upsert(item)
    catalog.fuse_pending()


@pytest.fixture
def corpus(settings, catalog):
    """A filled catalog (function scope: tests may change it) and its settings; no index yet."""
    fill(catalog)
    return settings, catalog


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Settings of a module-wide catalog and index built from corpus_items() (read-only for tests)."""
    from catalog import Catalog
    from indexer.build import rebuild

    tmp = tmp_path_factory.mktemp("indexer")
    st = make_settings(tmp)
    with Catalog(st.catalog_path) as cat:
        fill(cat)
    rebuild(st)
    return st


@pytest.fixture(scope="module")
def searcher(built):
    """A Searcher over the module's index."""
    from indexer.search import Searcher

    s = Searcher(built)
    yield s
    s.close()
