"""The compare page and /api/compare through the test client, over the hand-made catalog and its real index:
schools and programs side by side, rows marked where they differ, bad selections as 400s, the JSON twin,
the "Add to compare" links, and conditional requests."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from parsel import Selector

from tests.unit.webapp.webapp_testdata import (
    EVIL,
    EVIL_PROG,
    GHC,
    HIT_GA,
    HIT_OH,
    HOSTILE,
    MRS,
    OVCC,
    RAD,
    RAD_GA,
    UCB,
)


def rows_of(data: dict) -> dict[str, dict]:
    return {row["field"]: row for row in data["rows"]}


def table_of(html: str) -> Selector:
    table = Selector(text=html).css("table.compare-table")
    assert table, html[:500]
    return table[0]


def text(node: Selector) -> str:
    """All the text inside a node, whitespace collapsed."""
    return " ".join(node.xpath("string()").get().split())


def test_schools_side_by_side_with_distance_from_a_zip(client):
    response = client.get(f"/api/compare?institutions={GHC},{OVCC}&zip=30303")
    assert response.status_code == 200, response.text
    data = response.get_json()
    assert data["kind"] == "institution"
    assert [c["id"] for c in data["columns"]] == [GHC, OVCC]
    assert [c["title"] for c in data["columns"]] == ["Georgia Health College", "Ohio Valley Community College"]
    rows = rows_of(data)
    assert rows["location"]["values"] == ["Atlanta, GA", "Columbus, OH"]
    # 30303 is downtown Atlanta: GHC is next door, Columbus is hundreds of miles away.
    near, far = rows["distance_miles"]["values"]
    assert near < 5 and 400 < far < 600
    assert rows["control"] == {"field": "control", "label": "Control", "values": ["public", "public"],
                               "differs": False}
    assert rows["accreditor"]["values"] == ["SACSCOC", "HLC"] and rows["accreditor"]["differs"]
    assert rows["accreditation_status"]["values"] == ["accredited", "probation"]
    assert rows["online"]["values"] == [True, False] and rows["military_friendly"]["values"] == [True, False]
    # GHC has two accredited programs (HIT and radiography), OVCC one.
    assert rows["accredited_programs"]["values"] == [2, 1]
    ghc_rating, ovcc_rating = rows["rating"]["values"]
    assert ghc_rating["count"] == 3 and ghc_rating["average"] == pytest.approx(4.0)
    assert ghc_rating["histogram"] == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}
    assert ovcc_rating["count"] == 1 and ovcc_rating["histogram"]["2"] == 1
    topics = rows["review_topics"]["values"]
    assert {t["value"] for t in topics[0]} == {"academics", "financial_aid", "online_learning"}
    assert topics[1] == [{"value": "academics", "count": 1}]


def test_without_a_zip_there_is_no_distance_row(client):
    data = client.get(f"/api/compare?institutions={GHC},{UCB}").get_json()
    assert "distance_miles" not in rows_of(data)
    assert rows_of(data)["level"]["values"] == ["2-year", "4-year"]


def test_programs_side_by_side_with_the_careers_they_lead_to(client):
    data = client.get(f"/api/compare?programs={HIT_GA},{HIT_OH},{RAD_GA}").get_json()
    assert data["kind"] == "program"
    assert [c["id"] for c in data["columns"]] == [HIT_GA, HIT_OH, RAD_GA]
    assert [c["subtitle"] for c in data["columns"]] == ["Georgia Health College", "Ohio Valley Community College",
                                                        "Georgia Health College"]
    rows = rows_of(data)
    assert rows["institution"]["values"] == ["Georgia Health College", "Ohio Valley Community College",
                                             "Georgia Health College"]
    assert rows["accreditor"]["values"] == ["CAHIIM", "CAHIIM", "JRCERT"]
    # The second crawl put the Ohio program on probation.
    assert rows["accreditation_status"]["values"] == ["accredited", "probation", "accredited"]
    assert rows["accredited_since"]["values"] == ["2012-05-01", "2008-03-01", None]
    assert rows["next_review"]["values"] == ["2027-05-01", "2025-12-01", None]
    assert rows["degree_level"] == {"field": "degree_level", "label": "Degree level",
                                    "values": ["associate"] * 3, "differs": False}
    assert rows["delivery"]["values"] == ["online", "campus", "campus"]
    assert rows["state"]["values"] == ["GA", "OH", "GA"]
    careers = rows["careers"]["values"]
    assert [[c["soc_code"] for c in cs] for cs in careers] == [[MRS], [MRS], [RAD]]
    assert careers[0][0]["median_pay_annual"] == 50250 and careers[2][0]["median_pay_annual"] == 77660
    assert rows["careers"]["differs"]


def test_differs_is_false_only_where_every_column_agrees(client):
    data = client.get(f"/api/compare?programs={HIT_GA},{HIT_OH}").get_json()
    rows = rows_of(data)
    assert {f for f, r in rows.items() if not r["differs"]} == {"accreditor", "degree_level", "careers"}
    # One column differs from nothing.
    single = client.get(f"/api/compare?programs={HIT_GA}").get_json()
    assert not any(r["differs"] for r in single["rows"])


def test_the_page_marks_the_rows_that_differ(client):
    response = client.get(f"/compare?programs={HIT_GA},{HIT_OH}")
    assert response.status_code == 200
    table = table_of(response.text)
    headers = table.css("thead th[data-id]::attr(data-id)").getall()
    assert headers == [HIT_GA, HIT_OH]
    marked = set(table.css("tbody tr.row-differs::attr(data-field)").getall())
    assert marked == {"institution", "accreditation_status", "accredited_since", "next_review", "delivery", "state"}
    status_row = table.css('tr[data-field="accreditation_status"]')[0]
    # A visible marker and words for screen readers, not colour alone.
    assert "differs" in text(status_row.css("th")[0]) and status_row.css(".differs-mark")
    assert "not alike" in text(status_row.css("th .visually-hidden")[0])
    assert "differs" not in text(table.css('tr[data-field="degree_level"] th')[0])
    careers = table.css('tr[data-field="careers"]')[0]
    assert careers.css(f'a[href="/careers/{MRS}"]') and "$50,250" in text(careers)


def test_the_api_twin_holds_what_the_page_shows(client):
    query = f"institutions={GHC},{OVCC},{UCB}&zip=30303"
    data = client.get(f"/api/compare?{query}").get_json()
    table = table_of(client.get(f"/compare?{query}").text)
    assert table.css("thead th[data-id]::attr(data-id)").getall() == [c["id"] for c in data["columns"]]
    assert table.css("thead th[data-id] > a:first-child::text").getall() == [c["title"] for c in data["columns"]]
    page_rows = table.css("tbody tr")
    assert [tr.attrib["data-field"] for tr in page_rows] == [r["field"] for r in data["rows"]]
    assert [text(tr.css("th")[0]).startswith(r["label"]) for tr, r in zip(page_rows, data["rows"], strict=True)] \
        == [True] * len(data["rows"])
    assert ["row-differs" in tr.attrib.get("class", "") for tr in page_rows] == [r["differs"] for r in data["rows"]]
    location = table.css('tr[data-field="location"] td')
    assert [text(td) for td in location] == rows_of(data)["location"]["values"]
    # The page links its JSON twin with the same selection.
    page = Selector(text=client.get(f"/compare?{query}").text)
    href = page.xpath('//a[normalize-space()="This comparison as JSON"]/@href').get()
    assert parse_qs(urlsplit(href).query) == {"institutions": [f"{GHC},{OVCC},{UCB}"], "zip": ["30303"]}


def test_remove_links_drop_one_id_each(client):
    table = table_of(client.get(f"/compare?programs={HIT_GA},{HIT_OH},{RAD_GA}").text)
    removes = table.css("a.compare-remove::attr(href)").getall()
    assert [parse_qs(urlsplit(h).query)["programs"] for h in removes] == [
        [f"{HIT_OH},{RAD_GA}"], [f"{HIT_GA},{RAD_GA}"], [f"{HIT_GA},{HIT_OH}"]]
    assert client.get(removes[0]).status_code == 200
    # Removing the last one leads back to the empty compare page.
    last = table_of(client.get(f"/compare?programs={HIT_GA}").text).css("a.compare-remove::attr(href)").get()
    assert last == "/compare"
    empty = client.get("/compare")
    assert empty.status_code == 200 and "Add to compare" in empty.text


@pytest.mark.parametrize(("query", "words"), [
    (f"programs={HIT_GA},{HIT_OH},{RAD_GA},{EVIL_PROG},100002-other", "at most 4"),
    (f"institutions={GHC}&programs={HIT_GA}", "not both"),
    (f"institutions={GHC},999999", "'999999'"),
    (f"programs={HIT_GA},no-such-program", "'no-such-program'"),
    (f"programs={HIT_GA},,{HIT_OH}", "no empty entries"),
    ("programs=", "no empty entries"),
    (f"programs={HIT_GA},<b>", "is not an id"),
    (f"institutions={GHC}&zip=Atlantis", "zip"),
    (f"programs={HIT_GA}&zip=30303", "only goes with institutions"),
    (f"institutions={GHC}&colour=red", "unknown parameter 'colour'"),
    ("zip=30303", "nothing to compare"),
])
def test_bad_selections_are_a_clear_400_page_and_json_error(client, query, words):
    api = client.get(f"/api/compare?{query}")
    assert api.status_code == 400, api.text
    body = api.get_json()
    assert body["error"] == "bad_parameter" and words in body["message"]
    page = client.get(f"/compare?{query}")
    assert page.status_code == 400 and page.mimetype == "text/html"
    alert = Selector(text=page.text).css('[role="alert"]')
    assert alert and words in text(alert[0])
    assert "compare-table" not in page.text


def test_duplicates_count_once_and_hostile_text_is_escaped(client):
    data = client.get(f"/api/compare?institutions={GHC},{GHC},{EVIL}").get_json()
    assert [c["id"] for c in data["columns"]] == [GHC, EVIL]
    page = client.get(f"/compare?institutions={EVIL},{GHC}")
    assert page.status_code == 200
    assert HOSTILE not in page.text and "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_results_and_detail_pages_offer_add_to_compare(client):
    results = Selector(text=client.get("/search?q=health+information&kind=program").text)
    link = results.css(f'a.compare-add[data-compare-id="{HIT_GA}"]')
    assert link and link[0].attrib["data-compare-kind"] == "program"
    # Without JavaScript the button is a link to a comparison holding this program.
    href = link[0].attrib["href"]
    assert parse_qs(urlsplit(href).query) == {"programs": [HIT_GA]}
    assert client.get(href).status_code == 200
    schools = Selector(text=client.get("/search?q=college&kind=institution").text)
    assert schools.css(f'a.compare-add[data-compare-kind="institution"][data-compare-id="{GHC}"]')
    for url, kind, record in ((f"/institutions/{GHC}", "institution", GHC), (f"/programs/{HIT_OH}", "program", HIT_OH)):
        button = Selector(text=client.get(url).text).css("a.compare-add")[0]
        assert button.attrib["data-compare-kind"] == kind and button.attrib["data-compare-id"] == record
        assert text(button) == f"Add to compare: {Selector(text=client.get(url).text).css('h1::text').get()}"


@pytest.mark.parametrize("url", [f"/compare?programs={HIT_GA},{HIT_OH}", f"/api/compare?institutions={GHC},{OVCC}"])
def test_a_repeated_compare_with_its_etag_is_a_304(client, url):
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_without_javascript_a_comparison_grows_through_the_results_pages(client):
    """The compare page's "find another" link carries the selection to the results, whose links add to it."""
    compare = Selector(text=client.get(f"/compare?programs={HIT_GA}").text)
    find = compare.xpath('//a[normalize-space()="find another program"]/@href').get()
    assert parse_qs(urlsplit(find).query) == {"kind": ["program"], "programs": [HIT_GA]}
    results = Selector(text=client.get(find).text)
    assert results.css("ol.result-list > li")
    links = dict(zip(results.css("a.compare-add::attr(data-compare-id)").getall(),
                     results.css("a.compare-add::attr(href)").getall(), strict=True))
    assert parse_qs(urlsplit(links[HIT_OH]).query) == {"programs": [f"{HIT_GA},{HIT_OH}"]}
    assert parse_qs(urlsplit(links[HIT_GA]).query) == {"programs": [HIT_GA]}  # already in: not twice
    # The selection survives a facet toggle and a new search from the form.
    facet = results.css('a.facet-link[href*="state=OH"]::attr(href)').get()
    assert facet and parse_qs(urlsplit(facet).query)["programs"] == [HIT_GA]
    assert results.css(f'form[role="search"] input[type="hidden"][name="programs"][value="{HIT_GA}"]')
    grown = client.get(links[HIT_OH])
    assert grown.status_code == 200
    assert table_of(grown.text).css("thead th[data-id]::attr(data-id)").getall() == [HIT_GA, HIT_OH]


def test_without_an_index_programs_still_compare_with_no_careers(app, client, web_settings):
    import shutil

    app.extensions["collegesearch_search"].close()
    shutil.rmtree(web_settings.index_dir)
    response = client.get(f"/api/compare?programs={HIT_GA},{RAD_GA}")
    assert response.status_code == 200, response.text
    rows = rows_of(response.get_json())
    assert rows["careers"]["values"] == [[], []] and rows["accreditor"]["values"] == ["CAHIIM", "JRCERT"]
    assert client.get(f"/compare?programs={HIT_GA},{RAD_GA}").status_code == 200
