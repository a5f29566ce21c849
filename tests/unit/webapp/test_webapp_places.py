"""Places in plain words (issue 17): a state or city after a field filters the results, shown as a removable chip."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from tests.unit.webapp.webapp_testdata import GHC, HIT_GA, HIT_OH, UCB

pytestmark = pytest.mark.both_backends


def test_a_state_after_a_field_becomes_a_location_filter_in_the_json(client):
    everywhere = client.get("/api/search?q=health+information+technology").get_json()
    assert {f"program:{HIT_GA}", f"program:{HIT_OH}"} <= {h["id"] for h in everywhere["results"]}
    assert "understood" not in everywhere
    body = client.get("/api/search?q=health+information+technology+georgia").get_json()
    place = body["understood"]["place"]
    assert place["state"] == "GA" and place["label"] == "Georgia" and place["filters"] == {"state": ["GA"]}
    assert place["remove_query"] == 'health information technology "georgia"'
    ids = {h["id"] for h in body["results"]}
    assert f"program:{HIT_GA}" in ids and f"program:{HIT_OH}" not in ids
    assert all(h["fields"].get("state") == "GA" for h in body["results"] if h["kind"] in ("program", "institution"))
    assert body["filters"] == {}  # the user's own filters stay the user's own


def test_a_city_with_its_state_filters_by_city(client):
    body = client.get("/api/search?q=health+information+technology+in+Columbus,+OH").get_json()
    assert body["understood"]["place"]["filters"] == {"state": ["OH"], "city": ["columbus"]}
    assert body["understood"]["place"]["label"] == "Columbus, OH"
    ids = {h["id"] for h in body["results"]}
    assert f"program:{HIT_OH}" in ids and f"program:{HIT_GA}" not in ids
    assert all(h["fields"].get("city") == "Columbus" for h in body["results"] if h["kind"] in ("program", "institution"))


def test_a_state_name_alone_or_in_a_school_name_stays_words(client):
    for q in ("georgia", "Georgia Health College", "University of California Berkeley"):
        assert "understood" not in client.get("/api/search", query_string={"q": q}).get_json(), q
    assert client.get("/api/search?q=georgia").get_json()["results"][0]["id"] == f"institution:{GHC}"
    assert client.get("/api/search?q=Cal").get_json()["results"][0]["id"] == f"institution:{UCB}"


def test_a_state_the_user_chose_is_not_overridden(client):
    body = client.get("/api/search?q=health+information+technology+georgia&state=OH").get_json()
    assert "understood" not in body and body["filters"] == {"state": ["OH"]}


def test_the_results_page_shows_the_place_as_a_chip_that_searches_it_as_words(client):
    page = client.get("/search?q=health+information+technology+georgia")
    chip = re.search(r'<a class="chip chip-understood" href="([^"]+)"[^>]*>(.*?)</a>', page.text, re.S)
    assert chip is not None and "Place: Georgia" in chip.group(2)
    removed = client.get(html_lib.unescape(chip.group(1)))
    assert removed.status_code == 200 and "chip-understood" not in removed.text
    assert "health information technology &#34;georgia&#34;" in removed.text or \
        "health information technology &quot;georgia&quot;" in removed.text
