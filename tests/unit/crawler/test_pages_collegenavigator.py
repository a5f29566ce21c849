"""College Navigator page objects on the saved real pages (110635, AL, NY1) and annotated variants."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from crawler.pages.collegenavigator import InstitutionPage, ResultsPage, page_for, profile_url, unitid_from_url
from model.items import Institution, Program, make_program_id

CN_DIR = Path(__file__).resolve().parents[3] / "sample_site" / "data" / "nces_college_navigator_html"
BERKELEY_URL = "https://nces.ed.gov/collegenavigator/?id=110635"


@cache
def berkeley_items():
    page = page_for(BERKELEY_URL, (CN_DIR / "110635.html").read_bytes())
    assert isinstance(page, InstitutionPage)
    return page.to_items()


def test_berkeley_institution():
    inst = berkeley_items()[0]
    assert isinstance(inst, Institution)
    assert inst.unitid == "110635" and inst.ope_id == "00131200"
    assert inst.name == "University of California-Berkeley"
    assert (inst.address, inst.city, inst.state, inst.zip) == ("200 California Hall", "Berkeley", "CA", "94720")
    assert inst.website == "http://www.berkeley.edu/"
    assert inst.phone == "(510) 642-6000"
    assert (inst.level, inst.control) == ("4-year", "public")
    assert inst.accreditor == "WSCUC"
    assert (inst.accreditation_status, inst.accredited_since, inst.next_review) == ("accredited", "1949-01-01", "2024-12-31")
    # "Distance education – graduate programs offered"; the en dash survives the page's two charset declarations.
    assert inst.online is True
    assert inst.military_friendly is True  # Yellow Ribbon, a dedicated point of contact
    assert len(inst.programs_offered) > 150
    assert inst.programs_offered[:2] == ["Agricultural Economics",
                                         "Agricultural/Animal/Plant/Veterinary Science and Related Fields, Other"]
    assert "Category total" not in inst.programs_offered
    assert inst.source == "collegenavigator" and inst.item_id == "110635"


def test_berkeley_programmatic_accreditation():
    programs = [i for i in berkeley_items() if isinstance(i, Program)]
    assert [p.name for p in programs] == [
        "Didactic Program in Dietetics",
        "Dietetics (DIET) - Coordinated Program in Dietetics",
        "Law (LAW) - Professional schools",
        "Optometry (OPT) - Professional degree programs",
        "Clinical Psychology (CLPSY) - PhD Doctoral programs",
        "School Psychology (SCPSY) - PhD Doctoral programs",
        "Health Services Administration (HSA) - Graduate programs in health services administration",
        "Public Health (PHBG) - Baccalaureate and Graduate level school of public health",
    ]
    by_name = {p.name: p for p in programs}
    diet = by_name["Dietetics (DIET) - Coordinated Program in Dietetics"]
    assert diet.accreditor == "ACEND"
    assert diet.accreditor_name == ("Academy of Nutrition and Dietetics, Accreditation Council for Education in "
                                    "Nutrition and Dietetics")
    assert (diet.accreditation_status, diet.accredited_since, diet.next_review) == (
        "preaccredited", "2022-06-13", "2026-06-13")
    assert diet.field == "Dietetics"
    assert by_name["Didactic Program in Dietetics"].field == "Didactic Program in Dietetics"
    assert diet.program_id == make_program_id("110635", diet.accreditor_name, diet.name)
    law = by_name["Law (LAW) - Professional schools"]
    assert (law.accreditor, law.accredited_since) == ("ABA", "1923-01-01")  # "(!)" estimated date
    psych = by_name["Clinical Psychology (CLPSY) - PhD Doctoral programs"]
    assert psych.degree_level == "doctoral" and psych.accreditor == "APA"
    for program in programs:
        assert program.institution_unitid == "110635"
        assert program.institution_name == "University of California-Berkeley"
        assert (program.state, program.city) == ("CA", "Berkeley")
        assert program.program_id.startswith("110635-")
    assert len({p.program_id for p in programs}) == len(programs)


def test_no_longer_recognized_agency_is_marked_not_dropped():
    hsa = next(p for p in berkeley_items() if isinstance(p, Program) and p.name.startswith("Health Services"))
    assert hsa.accreditation_status == "no_longer_recognized"
    assert hsa.accreditor == "CAHME"
    assert hsa.accreditor_name == "Commission on Accreditation of Healthcare Management Education"
    assert hsa.accredited_since == "2001-07-01" and hsa.next_review is None
    assert hsa.accreditation_status_raw == "No Longer Recognized: Accredited (07/01/2001 - 08/26/2009)"
    # The id uses the name as shown, without the badge.
    assert hsa.program_id == make_program_id(
        "110635", "Commission on Accreditation of Healthcare Management Education", hsa.name)


def test_internships_and_residencies_are_not_programs():
    names = {p.name for p in berkeley_items() if isinstance(p, Program)}
    assert not any("Internship" in n or "Residency" in n for n in names)


def test_results_listing_alabama():
    page = page_for("https://nces.ed.gov/collegenavigator/?s=AL&p=38.0104&pg=1", (CN_DIR / "AL.html").read_bytes())
    assert isinstance(page, ResultsPage)
    assert page.ipeds_ids()[:2] == ["100858", "100937"]
    assert len(page.detail_links()) == 9 == page.total_results()
    assert page.detail_links()[0] == "https://nces.ed.gov/collegenavigator/?id=100858"
    assert page.rows()[0]["name"] == "Auburn University" and page.rows()[0]["ope_id"] == "00100900"
    assert page.next_page() is None and page.page_links() == []
    assert page.to_items() == []


def test_results_listing_new_york_paginates():
    base = "https://nces.ed.gov/collegenavigator/?s=NY&p=38.0104+38.0103+38.0102+38.0101+38.0199"
    body = (CN_DIR / "NY1.html").read_bytes()
    page = page_for(base + "&pg=1", body)
    assert len(page.detail_links()) == 15 and page.total_results() == 77
    assert page.next_page() == base + "&pg=2"
    assert page.page_links() == [f"{base}&pg={n}" for n in range(2, 7)]
    # The same markup fetched as the last page has no next page.
    assert page_for(base + "&pg=6", body.replace(b"Next Page", b"")).next_page() is None


def test_profile_url_helpers():
    assert profile_url("http://127.0.0.3:8800/collegenavigator/?s=AL&pg=2", "100858") == (
        "http://127.0.0.3:8800/collegenavigator/?id=100858")
    assert unitid_from_url("http://x/collegenavigator/?s=AL&id=100858") == "100858"
    assert unitid_from_url("http://x/collegenavigator/?s=AL") is None


ANNOTATED = """<html><head><meta charset="utf-8"><title>College Navigator - Example Community College</title></head>
<body><div class="dashboard"><div class="collegedash"><div class="mapngo">
<span class="ipeds">IPEDS ID: 999901<br />OPE ID: 01234500</span></div><div>
<span style="position:relative"><span class="headerlg">Example Community College</span><br />1 College Way, Springfield, Illinois 62701</span>
<table class="layouttab">
<tr><td scope="row" class="srb">General information:&nbsp;&nbsp;</td><td>(217) 555-0100</td></tr>
<tr><td scope="row" class="srb">Website:&nbsp;&nbsp;</td><td><a href="http://nces.ed.gov/transfer.asp?location=www.example.edu">www.example.edu</a></td></tr>
<tr><td scope="row" class="srb">Type:&nbsp;&nbsp;</td><td>2-year, Private for-profit</td></tr>
<tr><td scope="row" class="srb">Alias:&nbsp;&nbsp;</td><td>ECC | Example CC | Example Community College</td></tr>
<tr><td scope="row" class="srb">Military friendly:&nbsp;&nbsp;</td><td>Yes</td></tr>
<tr><td scope="row" class="srb">Online programs:&nbsp;&nbsp;</td><td>Yes</td></tr>
</table></div></div></div>
<div class="collapsing" id="accred"><div class="tabconstraint">
<div class="tablenames">Institutional Accreditation</div><table class="tabular"><thead class="mainrow"><tr><th>Accreditor</th><th>Status</th><th>Next Review Date</th></tr></thead>
<tbody><tr><td scope="row">Higher Learning Commission</td><td>Accredited - Probation since (03/01/2024)</td><td>03/01/2026</td></tr></tbody></table>
<div class="tablenames">Programmatic Accreditation</div><table class="tabular"><thead class="mainrow"><tr><th>Accreditor / Program</th><th>Status</th><th>Next Review Date</th></tr></thead><tbody>
<tr class="subrow"><td colspan="3">Commission on Accreditation for Health Informatics and Information Management Education</td></tr>
<tr class="level1indent"><td scope="row">Health Information Technology <em>Associate, Online, Military friendly</em></td><td>Accredited since (09/15/2015)</td><td>09/15/2025</td></tr>
<tr class="level1indent"><td scope="row">Health Information Management <em>Bachelor's degree</em> <em>Hybrid</em></td><td>Show Cause since (01/10/2025)</td><td>07/10/2025</td></tr>
<tr class="subrow"><td colspan="3">Joint Review Committee on Education in Radiologic Technology</td></tr>
<tr class="level1indent"><td scope="row">Radiologic Technology (RAD) - Programs for radiographers</td><td>Warning since (02/02/2024)</td><td>\u00a0</td></tr>
<tr class="level1indent"><td scope="row">Radiologic Technology (RAD) - Programs for radiographers</td><td>Warning since (02/02/2024)</td><td></td></tr>
</tbody></table></div></div></body></html>"""


def test_annotated_profile_in_the_sample_site_style():
    page = page_for("http://127.0.0.3:8800/collegenavigator/?id=999901", ANNOTATED.encode())
    inst, *programs = page.to_items()
    assert inst.aliases == ["ECC", "Example CC"]
    assert (inst.level, inst.control) == ("2-year", "private for-profit")
    assert inst.military_friendly is True and inst.online is True
    assert (inst.accreditor, inst.accreditation_status, inst.accredited_since) == ("HLC", "probation", "2024-03-01")
    assert inst.website == "http://www.example.edu"
    assert (inst.city, inst.state, inst.zip) == ("Springfield", "IL", "62701")
    assert inst.programs_offered == []
    # Duplicate rows collapse to one program (same id).
    assert len(programs) == 3
    hit, him, rad = programs
    assert hit.name == "Health Information Technology"
    assert (hit.accreditor, hit.degree_level, hit.delivery, hit.military_friendly) == ("CAHIIM", "associate", "online", True)
    assert hit.program_id == make_program_id(
        "999901", "Commission on Accreditation for Health Informatics and Information Management Education",
        "Health Information Technology")
    assert (him.degree_level, him.delivery, him.accreditation_status) == ("bachelor", "hybrid", "show_cause")
    assert him.military_friendly is None
    assert (rad.accreditor, rad.accreditation_status, rad.next_review, rad.field) == (
        "JRCERT", "warning", None, "Radiologic Technology")


@pytest.mark.parametrize("body", [b"", b"<html><body><p>Service unavailable</p>", b"\xff\xfe\x00<garbage>"])
def test_broken_pages_yield_nothing_without_crashing(body):
    page = page_for("https://nces.ed.gov/collegenavigator/?id=123456", body)
    assert page.to_items() == []
