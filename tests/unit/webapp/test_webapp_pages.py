"""HTML pages over a real catalog: content, links, 404s, and that hostile text is always escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from catalog import Catalog
from model.items import Review
from tests.unit.webapp.webapp_testdata import (
    EVIL,
    EVIL_CAREER,
    EVIL_PROG,
    GHC,
    HIM_CA,
    HIT_GA,
    HIT_OH,
    MRS,
    OVCC,
    RAD_GA,
    SWD,
    UCB,
)

# Each test runs with the catalog on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_backends

RAW_ATTACKS = ("<script>alert(1)</script>", '" onmouseover="alert(2)', 'href="javascript:', "href='javascript:")


def assert_escaped(html: str) -> None:
    """No hostile markup from the data reaches the page unescaped."""
    for attack in RAW_ATTACKS:
        assert attack not in html, f"unescaped {attack!r} in page"


def test_home_shows_search_quick_links_and_what_the_index_holds(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert '<label for="q">' in html and 'name="near"' in html and 'action="/search"' in html
    for href in ("/careers/", "/colleges/", "/military-friendly", "/online-programs"):
        assert f'href="{href}"' in html
    counts = {kind: int(n) for n, kind in re.findall(r'<span class="count">(\d+)</span> (\w+)', html)}
    assert counts == {"careers": 4, "programs": 5, "colleges": 4, "reviews": 6}
    assert "Last updated" in html and "never" not in html.split("Last updated")[1][:80]
    assert 'class="skip-link" href="#main"' in html and '<main id="main"' in html


def test_careers_az_lists_careers_and_filters_by_letter(client):
    html = client.get("/careers/").text
    assert 'href="/careers/29-2072">Medical Records Specialists</a>' in html
    assert "$50,250 median" in html
    assert_escaped(html)
    only_m = client.get("/careers/?letter=M").text
    assert "Medical Records Specialists" in only_m and "Software Developers" not in only_m
    assert 'aria-current="page">M</a>' in only_m


def test_career_page_shows_pay_picture_outlook_education_and_credits(client):
    page = client.get(f"/careers/{MRS}")
    assert page.status_code == 200
    html = page.text
    assert "<h1 id=\"career-title\">Medical Records Specialists</h1>" in html
    svg = html[html.index("<svg viewBox"):html.index("</svg>")]
    assert 'role="img"' in svg and 'aria-labelledby="pay-svg-title" aria-describedby="pay-svg-desc"' in svg
    for figure in ("$35,780", "$50,250", "$80,950"):
        assert figure in svg
    # The bar spans p10 to p90 and the median marker sits between them.
    bar_x = float(re.search(r'class="pay-range" x="([\d.]+)"', svg).group(1))
    bar_w = float(re.search(r'class="pay-range" x="[\d.]+" y="44" width="([\d.]+)"', svg).group(1))
    median_x = float(re.search(r'class="pay-median" x="([\d.]+)"', svg).group(1)) + 3
    assert bar_x < median_x < bar_x + bar_w
    assert "Lowest 10 percent earned less than</dt><dd>$35,780" in html
    assert "+7%" in html and "Faster than average" in html
    assert "Postsecondary nondegree award" in html
    assert 'href="/search?kind=program&amp;accreditor=CAHIIM">CAHIIM</a>' in html
    assert "U.S. Bureau of Labor Statistics" in html and "Last crawled" in html


def test_career_page_lists_the_accredited_programs_that_lead_to_it(client):
    html = client.get(f"/careers/{MRS}").text
    section = html[html.index('id="programs"'):]
    for program_id in (HIT_GA, HIT_OH, HIM_CA):
        assert f'href="/programs/{program_id}"' in section
    assert f'href="/programs/{RAD_GA}"' not in section  # radiography leads to another career
    # The reviews of each school are one click away.
    assert f'href="/institutions/{GHC}#reviews"' in section
    assert "Reviews of this school: 4.0 of 5 (3)" in section or "Reviews of this school: 4 of 5 (3)" in section


def test_career_programs_filter_by_state_degree_and_online(client):
    by_state = client.get(f"/careers/{MRS}?state=OH").text
    section = by_state[by_state.index('id="programs"'):]
    assert f"/programs/{HIT_OH}" in section and f"/programs/{HIT_GA}" not in section
    assert '<option value="OH" selected>' in by_state
    online = client.get(f"/careers/{MRS}?online=yes").text
    section = online[online.index('id="programs"'):]
    assert f"/programs/{HIT_GA}" in section and f"/programs/{HIT_OH}" not in section
    assert 'name="online" type="checkbox" value="yes" checked' in online
    bachelor = client.get(f"/careers/{MRS}?degree_level=bachelor").text
    section = bachelor[bachelor.index('id="programs"'):]
    assert f"/programs/{HIM_CA}" in section and f"/programs/{HIT_GA}" not in section


def test_unknown_and_malformed_ids_are_404_pages(client):
    for url in ("/careers/00-0000", "/institutions/999999", "/programs/nope", "/reviews/nope",
                "/careers/%3Cscript%3E", "/institutions/1%20OR%201=1", "/no/such/page"):
        page = client.get(url)
        assert page.status_code == 404, url
        assert "Page not found" in page.text and "<script>" not in page.text


def test_institution_page_shows_address_accreditation_programs_histogram_and_reviews(client):
    html = client.get(f"/institutions/{GHC}").text
    assert "<h1 id=\"inst-title\">Georgia Health College</h1>" in html
    assert "100 Peachtree St" in html and "Atlanta, GA 30303" in html
    assert 'href="https://www.ghc.example.edu" rel="noopener nofollow"' in html
    assert "SACSCOC" in html and "Jan 1, 1990" in html and "Jun 30, 2030" in html
    assert f'href="/programs/{HIT_GA}">Health Information Technology</a>' in html
    assert "CAHIIM" in html and "JRCERT" in html
    # Rating average 4.0 from 5, 4, 3 and one row per star count.
    assert "4 out of 5" in html and "(3 reviews)" in html
    rows = re.findall(r'<span class="hist-label">(\d) stars?</span>.*?<span class="hist-count">(\d+)', html, re.S)
    assert rows == [("5", "1"), ("4", "1"), ("3", "1"), ("2", "0"), ("1", "0")]
    assert "Great coding instructors" in html and "Helpful financial aid office" in html
    assert f'href="/institutions/{GHC}/review"' in html and "Write your own review" in html
    assert "NCES College Navigator" in html and "Last crawled" in html


def test_institution_reviews_filter_by_category_and_paginate(client, web_settings):
    with Catalog(web_settings.catalog_location) as cat:
        for i in range(12):
            cat.upsert(Review(url=f"https://reviews.example.org/ghc/x{i}", source="reviews", review_id=f"x{i:02d}",
                              institution_unitid=GHC, institution_name="Georgia Health College", rating=4,
                              title=f"Extra review {i:02d}", body="Plenty to say.", category="campus_life",
                              date=f"2023-01-{i + 1:02d}"))
        cat.fuse_pending()  # as the crawl that brought them does when it ends
    only_aid = client.get(f"/institutions/{GHC}?category=financial_aid").text
    assert "Helpful financial aid office" in only_aid and "Great coding instructors" not in only_aid
    assert 'aria-current="page">Financial aid (1)</a>' in only_aid
    first = client.get(f"/institutions/{GHC}").text
    assert 'aria-label="Review pages"' in first and 'aria-current="page"><span class="visually-hidden">Page </span>1<' in first
    second = client.get(f"/institutions/{GHC}?page=2").text
    titles_1 = set(re.findall(r"Extra review \d\d", first))
    titles_2 = set(re.findall(r"Extra review \d\d", second))
    assert titles_2 and not titles_1 & titles_2


def test_probation_and_withdrawn_are_marked_in_words_and_symbols(client):
    html = client.get(f"/institutions/{OVCC}").text
    badge = re.search(r'<span class="badge badge-warn"><span aria-hidden="true">(.)</span> On probation</span>', html)
    assert badge and badge.group(1) == "\u26a0"
    evil = client.get(f"/institutions/{EVIL}").text
    assert "Accreditation withdrawn" in evil and "badge-bad" in evil


def test_hostile_institution_is_escaped_and_javascript_links_are_dropped(client):
    html = client.get(f"/institutions/{EVIL}").text
    assert_escaped(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The javascript: "website" is shown as text, never as a link.
    assert "<dt>Website</dt><dd>javascript:alert(3)</dd>" in html


def test_program_page_shows_status_history_as_the_crawls_saw_it(client):
    page = client.get(f"/programs/{HIT_OH}")
    assert page.status_code == 200
    html = page.text
    assert "Ohio Valley Community College" in html and "Associate degree" in html and "CAHIIM" in html
    assert "Accreditation status: <span class=\"badge badge-warn\">" in html
    history = html[html.index('class="timeline"'):html.index("</ol>", html.index('class="timeline"'))]
    assert "first listed" in history and "Accredited" in history
    assert "status changed from" in history and "On probation" in history
    assert history.index("first listed") < history.index("status changed")
    assert "Dec 1, 2025" in html  # next review
    assert 'href="https://www.cahiim.org/accredited-programs/ovcc-hit"' in html
    assert f'href="/institutions/{OVCC}#reviews"' in html


def test_hostile_program_is_escaped(client):
    html = client.get(f"/programs/{EVIL_PROG}").text
    assert_escaped(html)
    assert "See this program on the source page" not in html  # its URL is javascript:


def test_review_page_and_unlinked_review(client):
    html = client.get("/reviews/r-ghc-2").text
    assert "Helpful financial aid office" in html and "The financial aid office answered" in html
    assert f'href="/institutions/{GHC}"' in html and "4 out of 5" in html
    unlinked = client.get("/reviews/r-unlinked-1").text
    assert "Unknown Institute of Somewhere" in unlinked and "(Nowhere, KS)" in unlinked
    evil = client.get("/reviews/r-evil-1").text
    assert_escaped(evil)
    assert "Body &lt;script&gt;" in evil


def test_colleges_az_with_state_filter(client):
    html = client.get("/colleges/").text
    for unitid in (GHC, OVCC, EVIL, UCB):
        assert f'href="/institutions/{unitid}"' in html
    assert_escaped(html)
    ga = client.get("/colleges/?state=GA").text
    assert f'href="/institutions/{GHC}"' in ga and f'href="/institutions/{OVCC}"' not in ga
    assert '<option value="GA" selected>Georgia (1)</option>' in ga


def test_military_friendly_and_online_listings(client):
    military = client.get("/military-friendly").text
    assert f"/institutions/{GHC}" in military and f"/institutions/{UCB}" in military
    assert f"/institutions/{OVCC}" not in military
    online = client.get("/online-programs").text
    assert f"/programs/{HIT_GA}" in online and f"/programs/{HIT_OH}" not in online
    assert_escaped(online)


def test_change_feed_page_json_and_atom(client):
    html = client.get("/changes?kind=program").text
    assert "Health Information Technology" in html and "On probation" in html
    data = client.get("/changes.json?kind=program&op=changed").get_json()
    assert [c["id"] for c in data["changes"]] == [HIT_OH]
    change = data["changes"][0]
    assert change["changes"]["accreditation_status"] == {"from": "accredited", "to": "probation"}
    assert change["detail_url"] == f"/programs/{HIT_OH}"
    atom = client.get("/changes.atom?state=OH")
    assert atom.mimetype == "application/atom+xml"
    root = ET.fromstring(atom.data)
    entries = root.findall("{http://www.w3.org/2005/Atom}entry")
    assert entries and all("OH" in (e.findtext("{http://www.w3.org/2005/Atom}summary") or "") for e in entries)
    bad = client.get("/changes.json?kind=spaceship")
    assert bad.status_code == 400 and bad.get_json()["error"] == "bad_parameter"


@pytest.mark.parametrize("url", [
    "/", "/careers/", f"/careers/{MRS}", f"/careers/{EVIL_CAREER}", f"/careers/{SWD}", "/colleges/",
    f"/institutions/{EVIL}", f"/institutions/{GHC}", f"/programs/{EVIL_PROG}", "/reviews/r-evil-1",
    "/military-friendly", "/online-programs", "/changes", f"/institutions/{EVIL}/review",
])
def test_no_page_lets_hostile_text_through(client, url):
    page = client.get(url)
    assert page.status_code == 200
    assert_escaped(page.text)


def test_hostile_career_page_escapes_every_field(client):
    html = client.get(f"/careers/{EVIL_CAREER}").text
    assert_escaped(html)
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4
