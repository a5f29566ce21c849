"""Follow a career, school, program or search: filtered change feeds read by a real feed parser, their links
on the pages, the review threshold, conditional requests and bad filters."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit

import feedparser
import pytest

from catalog import Catalog
from collegesearch.config import ConfigError, load_settings
from tests.unit.webapp.webapp_testdata import (
    GHC,
    HIM_CA,
    HIT_GA,
    HIT_OH,
    MRS,
    OVCC,
    RAD,
    RAD_GA,
    UCB,
    programs,
)

# Each test runs with the catalog on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_backends

TAG_URI = re.compile(r"tag:[a-z0-9.-]+,\d{4}-\d{2}-\d{2}:change/(?P<seq>\d+)")
HEAD_FEED = re.compile(r'<link rel="alternate" type="application/atom\+xml" title="([^"]+)" href="([^"]+)">')
FOLLOW_LINK = re.compile(r'<a class="follow-link" href="([^"]+)"')


def _feed(client, url: str):
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml", response.text[:300]
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    for entry in feed.entries:
        assert TAG_URI.fullmatch(entry.id), entry.id
    return feed


def _records(client, query: str) -> list[tuple[str, str]]:
    """(kind, id) of each entry of the filtered feed, newest first, with the Atom feed saying the same."""
    changes = client.get(f"/changes.json?{query}&limit=500").get_json()["changes"]
    feed = _feed(client, f"/changes.atom?{query}&limit=500")
    assert [int(TAG_URI.fullmatch(e.id)["seq"]) for e in feed.entries] == [c["seq"] for c in changes]
    return [(c["kind"], c["id"]) for c in changes]


def test_a_programs_feed_holds_only_that_programs_changes_including_its_status_change(client):
    records = _records(client, f"program={HIT_OH}")
    assert records and set(records) == {("program", HIT_OH)}
    changes = client.get(f"/changes.json?program={HIT_OH}").get_json()["changes"]
    assert changes[0]["category"] == "status_change" and changes[0]["changes"]["accreditation_status"] == {
        "from": "accredited", "to": "probation"}
    feed = _feed(client, f"/changes.atom?program={HIT_OH}")
    assert "Health Information Technology" in feed.feed.title
    assert feed.entries[0].title.startswith("Probation: Health Information Technology")


def test_a_schools_feed_covers_the_school_its_programs_and_good_reviews_only(client):
    records = set(_records(client, f"institution={GHC}"))
    assert ("institution", GHC) in records and {("program", HIT_GA), ("program", RAD_GA)} <= records
    # Reviews rated 4 and 5 are in (FOLLOW_REVIEW_MIN_RATING defaults to 4); the 3-star one is not.
    assert {("review", "r-ghc-1"), ("review", "r-ghc-2")} <= records
    assert ("review", "r-ghc-3") not in records
    assert records <= {("institution", GHC), ("program", HIT_GA), ("program", RAD_GA),
                       ("review", "r-ghc-1"), ("review", "r-ghc-2")}
    ohio = set(_records(client, f"institution={OVCC}"))
    # Ohio's only review has 2 stars; its program's status change is in.
    assert ohio == {("institution", OVCC), ("program", HIT_OH)}


def test_the_review_threshold_is_a_setting(web_settings):
    from webapp import create_app

    app = create_app({"SETTINGS": dataclasses.replace(web_settings, FOLLOW_REVIEW_MIN_RATING=3), "TESTING": True})
    try:
        records = set(_records(app.test_client(), f"institution={GHC}"))
        assert ("review", "r-ghc-3") in records
    finally:
        app.extensions["collegesearch_search"].close()
    settings = load_settings(env={"COLLEGESEARCH_FOLLOW_REVIEW_MIN_RATING": "5"}, config_file=None)
    assert settings.FOLLOW_REVIEW_MIN_RATING == 5
    with pytest.raises(ConfigError, match="COLLEGESEARCH_FOLLOW_REVIEW_MIN_RATING"):
        load_settings(env={"COLLEGESEARCH_FOLLOW_REVIEW_MIN_RATING": "6"}, config_file=None)


def test_a_careers_feed_covers_the_career_and_the_programs_its_page_lists(client):
    records = set(_records(client, f"career={MRS}"))
    listed = {p["id"] for p in client.get(f"/api/careers/{MRS}?per_page=50").get_json()["programs"]["items"]}
    assert HIT_OH in listed and RAD_GA not in listed
    assert ("career", MRS) in records and ("program", HIT_OH) in records
    assert {("program", HIM_CA), ("program", HIT_GA)} <= records
    assert all(kind == "career" and item == MRS or kind == "program" and item in listed for kind, item in records)
    radiology = set(_records(client, f"career={RAD}"))
    assert ("career", RAD) in radiology and ("program", RAD_GA) in radiology
    assert ("program", HIT_OH) not in radiology


def test_a_searchs_feed_follows_what_the_search_matches(client):
    hits = client.get("/api/search?q=health+information&state=OH&per_page=50").get_json()["results"]
    matched = {(h["kind"], h["id"].split(":", 1)[1]) for h in hits}
    assert ("program", HIT_OH) in matched
    records = _records(client, "q=health+information&state=OH")
    assert ("program", HIT_OH) in records
    schools = {item for kind, item in matched if kind == "institution"}
    for kind, item in records:
        if (kind, item) in matched:
            continue
        # A matched school brings its programs and good reviews, as the school's own feed does.
        assert kind in ("program", "review"), (kind, item)
        record = client.get(f"/api/{kind}s/{item}").get_json()[kind]
        assert str(record["institution_unitid"]) in schools, (kind, item)
    # A search with only the change log's own filters needs no search: state and kind filter directly.
    by_state = client.get("/changes.json?state=CA&kind=program&limit=500").get_json()["changes"]
    assert by_state and {(c["kind"], c["id"]) for c in by_state} == {("program", HIM_CA)}


def test_pages_offer_a_follow_link_and_announce_the_feed_in_the_head(client):
    pages = {f"/careers/{MRS}": f"career={MRS}", f"/institutions/{GHC}": f"institution={GHC}",
             f"/programs/{HIT_OH}": f"program={HIT_OH}", "/search?q=health+information&state=OH": None}
    for page, query in pages.items():
        html = client.get(page).text
        head = html.split("</head>", 1)[0]
        announced = HEAD_FEED.findall(head)
        assert len(announced) == 1, page
        title, href = announced[0]
        link = FOLLOW_LINK.search(html)
        assert link and link.group(1) == href, page
        assert title.startswith("What changed for ")
        href = href.replace("&amp;", "&")
        assert urlsplit(href).path == "/changes.atom"
        if query:
            assert urlsplit(href).query == query
        else:
            assert "q=health+information" in href and "state=OH" in href and "page=" not in href
        assert _feed(client, href).entries, page


def test_changes_page_takes_the_same_filters_and_says_what_it_follows(client):
    html = client.get(f"/changes?institution={OVCC}").text
    assert "What changed for Ohio Valley Community College" in html
    assert f'<input type="hidden" name="institution" value="{OVCC}">' in html
    assert "Probation: Health Information Technology at Ohio Valley Community College" in html
    assert "Georgia Health College" not in html.split("<main", 1)[-1]
    # Follow filters combine with the other filters.
    only_status = client.get(f"/changes.json?institution={OVCC}&what=status").get_json()["changes"]
    assert [(c["kind"], c["id"]) for c in only_status] == [("program", HIT_OH)]
    assert client.get(f"/changes.json?institution={UCB}&kind=review").get_json()["changes"] == []


def test_a_followed_feed_answers_304_until_something_changes(client, web_settings):
    url = f"/changes.atom?program={HIT_OH}"
    first = client.get(url)
    assert first.status_code == 200
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    before = _feed(client, url)
    with Catalog(web_settings.catalog_location) as cat:
        run = cat.start_run("directory", "manual")
        for item in programs(hit_oh_status="accredited"):
            cat.upsert(item, run_id=run)
        cat.finish_run(run, status="ok", stats={"pages": 1}, complete=True)
    fresh = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != first.headers["ETag"]
    after = feedparser.parse(fresh.data)
    assert len(after.entries) == len(before.entries) + 1
    assert after.entries[0].title.startswith("Accredited: Health Information Technology")


@pytest.mark.parametrize("query", [
    "institution=%3Cscript%3E", "institution=999999", "program=no-such-program", "career=00-0000",
    f"career={MRS}&institution={GHC}", f"program={HIT_OH}&q=nursing", "q=nursing&degree_level=wizard",
    "institution=" + "9" * 300,
])
def test_bad_follow_filters_are_a_400_not_a_500(client, query):
    for path in ("/changes", "/changes.json", "/changes.atom"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query, response.status_code)
    body = client.get(f"/changes.json?{query}").get_json()
    assert body["error"] and body["message"]
