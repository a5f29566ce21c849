"""Generic extractors: schema.org (JSON-LD, microdata) and plain-text career pages, on fixture pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.pages.generic import GenericPage, page_for
from model.items import Career, Institution, Program, Review

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "generic"


def items_of(name: str, url: str | None = None, **kwargs):
    page = page_for(url or f"https://careers.example.edu/{name}", (FIXTURES / name).read_bytes(), **kwargs)
    assert isinstance(page, GenericPage)
    return page.to_items()


def only(items, cls):
    found = [i for i in items if isinstance(i, cls)]
    assert len(found) == 1, found
    return found[0]


def test_old_portal_career_with_pay_in_a_table():
    career = only(items_of("career_portal_table.html"), Career)
    assert career.title == "Medical Coding Specialist"
    assert (career.pay_p10, career.median_pay_annual, career.pay_p90) == (21480, 33610, 52900)
    assert career.also_known_as == ["Medical Coder", "Coding Specialist", "Health Information Clerk"]
    assert career.accreditors == ["CAHIIM"]  # AHIMA is a certifying body, not an accreditor
    assert career.soc_code == "29-2072"
    assert career.entry_education == "Associate's degree"
    assert career.outlook_pct == 7.0
    assert career.pay_raw == "Median Salary $33,610 | Lowest 10%: $21,480 | Top 10% earn $52,900"
    # The Latin-1 page declared its charset; the en dash entity and NBSPs do not leak into text.
    assert "\u00a0" not in (career.summary or "")


def test_career_prose_ignores_navigation_and_footer_figures():
    career = only(items_of("career_portal_prose.html"), Career)
    assert career.title == "Surgical Technologist"
    assert (career.median_pay_annual, career.pay_p10, career.pay_p90) == (60610, 44350, 83730)
    assert career.also_known_as == ["operating room technicians", "scrub techs"]
    assert career.accreditors == ["CAAHEP", "ABHES"]
    assert career.outlook_pct == 5.0
    assert career.summary == "Surgical technologists assist in operations, preparing operating rooms and arranging equipment."
    assert career.source == "generic" and career.soc_code is None


def test_hourly_only_page_in_latin1():
    career = only(items_of("latin1_hourly.html"), Career)
    assert career.title == "Cajero de banco (Bank Teller)"
    assert career.median_pay_hourly == 18.57
    # Hourly percentiles are not annual wages and are not converted.
    assert career.median_pay_annual is None and career.pay_p10 is None
    assert career.also_known_as[0] == "Teller"
    assert "Se\u00f1or" in (career.summary or "")


def test_college_json_ld_with_reviews_programs_and_broken_blocks():
    page = page_for("https://reviews.example.org/college/riverside", (FIXTURES / "college_jsonld.html").read_bytes(),
                    source="myreviews")
    items = page.to_items()
    inst = only(items, Institution)
    assert inst.name == "Riverside Technical College" and inst.unitid == "999902"
    assert inst.aliases == ["RTC", "Riverside Tech"]
    assert (inst.city, inst.state, inst.zip, inst.address) == ("Riverside", "CA", "92501", "100 River Rd")
    assert (inst.latitude, inst.longitude) == (33.98, -117.37)
    assert inst.website == "https://www.riverside.example.edu/" and inst.source == "myreviews"

    reviews = [i for i in items if isinstance(i, Review)]
    assert [r.review_id for r in reviews] == ["myreviews:reviews.example.org:8812",
                                              "myreviews:reviews.example.org:8813",
                                              "myreviews:reviews.example.org:r-8814"]
    veteran, sophomore, aid = reviews
    assert (veteran.rating, veteran.author_role, veteran.category, veteran.date) == (
        5, "Military veteran", "Online classes", "2024-03-02")
    assert veteran.institution_name == "Riverside Technical College"
    assert (veteran.institution_city, veteran.institution_state) == ("Riverside", "CA")
    assert veteran.institution_unitid is None  # record linkage happens later, in the pipeline
    assert sophomore.rating == 3 and sophomore.date == "2024-03-05"  # 6 on a 0-10 scale
    # A block with a comment and a trailing comma is read leniently; an unreadable block is skipped alone.
    assert aid.rating == 2 and aid.institution_name == "Riverside Technical College"
    assert page.aggregate_rating() == {"rating": 4.2, "count": 37}

    programs = [i for i in items if isinstance(i, Program)]
    hit, coding = programs
    assert hit.program_id == "myreviews:reviews.example.org:rtc-hit-aas"
    assert (hit.degree_level, hit.delivery, hit.accreditor) == ("associate", "online", "CAHIIM")
    assert (hit.institution_name, hit.city, hit.state) == ("Riverside Technical College", "Riverside", "CA")
    assert (coding.degree_level, coding.delivery) == ("certificate", "hybrid")
    assert coding.program_id.startswith("myreviews:reviews.example.org:")
    # No pay text on the page: no career is invented.
    assert not [i for i in items if isinstance(i, Career)]


def test_microdata_occupation_and_program():
    items = items_of("occupation_microdata.html")
    career = only(items, Career)
    assert career.title == "Pharmacy Technician" and career.soc_code == "29-2052"
    assert (career.median_pay_annual, career.pay_p10, career.pay_p90) == (43460, 35100, 59450)
    assert career.also_known_as == ["Pharmacy Tech", "Pharmaceutical Technician"]
    assert career.accreditors == ["ASHP", "ACPE"]
    assert career.entry_education == "High school diploma or equivalent"
    program = only(items, Program)
    assert (program.name, program.institution_name, program.city, program.state) == (
        "Pharmacy Technician Certificate", "Northgate Community College", "Tacoma", "WA")
    assert (program.degree_level, program.delivery) == ("certificate", "campus")


def test_ids_are_stable_and_url_safe():
    first = items_of("college_jsonld.html")
    again = items_of("college_jsonld.html")
    assert [i.item_id for i in first] == [i.item_id for i in again]
    import re

    for item in first:
        assert re.fullmatch(r"[A-Za-z0-9._:-]+", item.item_id), item.item_id


def test_pages_without_data_yield_nothing():
    assert items_of("no_data.html") == []


@pytest.mark.parametrize("body", [
    b"",
    b"<script type='application/ld+json'>[1, 2, \"x\"]</script>",
    b"<script type='application/ld+json'>{\"@type\": \"Review\"}</script>",
    b"<script type='application/ld+json'>{\"@type\": [\"CollegeOrUniversity\"], \"name\": {\"x\": 1}}</script>",
    b"<div itemscope itemtype='https://schema.org/Occupation'><span itemprop='name'></span></div>",
    b"<h1>Pay</h1><p>Median salary: $</p>",
])
def test_odd_structured_data_does_not_crash(body):
    assert page_for("http://x/", body).to_items() == []


def test_json_ld_career_wins_over_text_heuristics():
    body = b"""<html><head><script type="application/ld+json">{"@context": "https://schema.org",
      "@type": "Occupation", "name": "Dental Hygienist", "alternateName": "Hygienist",
      "estimatedSalary": {"@type": "MonetaryAmountDistribution", "median": 94260, "unitText": "YEAR"}}</script></head>
      <body><h1>Dental Hygienist</h1><p>The median annual wage was $94,260.</p></body></html>"""
    [career] = page_for("http://x/dh", body).to_items()
    assert career.median_pay_annual == 94260 and career.also_known_as == ["Hygienist"]
