
"""The results page: tabs, facet toggles, snippets, per-kind layouts, sort, pagination, did you mean, empty page."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from tests.unit.webapp.webapp_testdata import GHC, HIT_GA, HIT_OH, MRS

# Each test runs with the catalog on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_backends


def links(html: str) -> list[str]:
    return [html_lib.unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def test_empty_search_prompts_instead_of_listing_everything(client):
    page = client.get("/search")
    assert page.status_code == 200
    assert "Type what you are looking for" in page.text and 'class="result-list"' not in page.text


def test_results_have_kind_tabs_with_counts(client):
    html = client.get("/search?q=medical+records").text
    tabs = html[html.index('aria-label="Result types"'):html.index("</nav>", html.index('aria-label="Result types"'))]
    counts = dict(re.findall(r'kind=(\w+)">\w+ <span class="tab-count">(\d+)</span>', tabs))
    assert counts["career"] == "1" and int(counts["program"]) >= 3
    assert re.search(r'aria-current="page">All <span class="tab-count">\d+</span>', tabs)
    only_programs = client.get("/search?q=medical+records&kind=program").text
    assert re.search(r'kind=program" aria-current="page">Programs', only_programs)
    assert 'class="result result-career"' not in only_programs


def test_facet_links_toggle_filters_and_keep_the_rest_of_the_url(client):
    html = client.get("/search?q=health+information&kind=program").text
    ga = next(h for h in links(html) if "state=GA" in h)
    assert ga.startswith("/search?") and "q=health+information" in ga and "kind=program" in ga
    selected = client.get(ga).text
    assert f"/programs/{HIT_OH}" not in selected and f"/programs/{HIT_GA}" in selected
    # The selected value is marked for screen readers and its link removes the filter again.
    link = re.search(r'<a class="facet-link is-selected" href="([^"]+)" aria-current="true">', selected)
    assert link and "state=GA" not in html_lib.unescape(link.group(1))
    assert "Selected, select to remove: </span>Georgia" in selected
    chip = re.search(r'<a class="chip" href="([^"]+)"><span class="visually-hidden">Remove filter </span>State: Georgia', selected)
    assert chip and "state=GA" not in html_lib.unescape(chip.group(1))


def test_one_layout_per_kind(client):
    html = client.get("/search?q=health&per_page=50").text
    program = html[html.index(f'id="hit-program:{HIT_OH}"'):]
    program = program[:program.index("</article>")]
    assert "Ohio Valley Community College" in program and "Columbus, OH" in program
    assert "Associate degree" in program and "CAHIIM" in program and "On probation" in program
    career = client.get("/search?q=medical+records&kind=career").text
    assert "Median pay <strong>$50,250</strong>" in career and "+7%" in career and "Faster than average" in career
    review = client.get("/search?q=helpful+financial+aid+office&kind=review").text
    first = review[review.index('class="result result-review"'):]
    assert "4 out of 5" in first[:800] and f'href="/institutions/{GHC}#reviews">Georgia Health College' in first


def test_snippets_are_highlighted_and_escaped(client):
    html = client.get("/search?q=coding+instructors").text
    assert "<mark>" in html
    evil = client.get("/search?q=evil").text
    assert "<script>alert(1)</script>" not in evil and '" onmouseover="alert(2)' not in evil
    assert "&lt;script&gt;" in evil


def test_sort_menu_keeps_the_query_and_filters(client):
    html = client.get("/search?q=health&state=GA&sort=name").text
    form = html[html.index('class="sort-form"'):html.index("</form>", html.index('class="sort-form"'))]
    assert '<input type="hidden" name="q" value="health">' in form
    assert '<input type="hidden" name="state" value="GA">' in form
    assert '<option value="name" selected>' in form and 'name="sort" value' not in form
    assert 'value="distance"' not in form  # only offered with a location


def test_pagination_marks_the_current_page(client):
    html = client.get("/search?q=health&per_page=2").text
    nav = html[html.index('aria-label="Result pages"'):]
    nav = nav[:nav.index("</nav>")]
    assert 'aria-current="page"><span class="visually-hidden">Page </span>1<' in nav
    assert 'rel="next"' in nav and "page=2" in nav
    second = client.get("/search?q=health&per_page=2&page=2").text
    assert 'aria-current="page"><span class="visually-hidden">Page </span>2<' in second
    assert '<ol class="result-list" start="3">' in second


def test_did_you_mean(client):
    html = client.get("/search?q=medcal+recrds").text
    assert re.search(r'Did you mean <a href="[^"]*q=medical\+records[^"]*">medical records</a>\?', html)
    assert f"/careers/{MRS}" in html


def test_nothing_found_page_helps(client):
    html = client.get("/search?q=zzqxjv+wvxq&state=GA").text
    assert "Nothing matched" in html and "Search again without filters" in html and "Careers" in html
    assert 'class="result-list"' not in html


def test_near_zip_shows_distances(client):
    html = client.get("/search?near=30303&radius=25").text
    assert "miles away" in html and "Georgia Health College" in html
    assert "Ohio Valley" not in html
    assert '<option value="25" selected>25 miles</option>' in html
    assert '<option value="distance"' in html


def test_bad_parameters_give_a_400_page_that_keeps_the_query(client):
    page = client.get("/search?q=nursing&sort=bogus")
    assert page.status_code == 400
    assert 'role="alert"' in page.text and "sort must be one of" in page.text
    assert 'value="nursing"' in page.text
    assert client.get("/search?q=x&near=not-a-place").status_code == 400


def test_query_language_filters_work_from_the_box(client):
    body = client.get("/search?q=health+state:OH").text
    assert f"/programs/{HIT_OH}" in body and f"/programs/{HIT_GA}" not in body


def test_hostile_query_is_escaped_everywhere_it_is_shown(client):
    attack = '"><script>alert(1)</script>'
    page = client.get("/search", query_string={"q": attack})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&#34;&gt;&lt;script&gt;" in page.text or "&quot;&gt;&lt;script&gt;" in page.text
    long = client.get("/search", query_string={"q": "x" * 20000})
    assert long.status_code == 200
