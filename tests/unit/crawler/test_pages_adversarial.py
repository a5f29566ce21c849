"""Page modules on the sample site's adversarial pages (rendered in-process), against its expectations.

Each hostile page must parse without an exception; markup in scripts and event handlers never
becomes text; zero-width and bidi controls vanish; wrong or missing charsets still give the right
names; impossible values (negative pay, state ZZ, rating 9, empty review) are reported as the page
shows them so that the validation pipeline drops them with a counted reason.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import pytest

from crawler.pages import bls_ooh, collegenavigator, generic, reviews
from sample_site import site as site_mod
from sample_site import truth

pytestmark = pytest.mark.xdist_group("sample_site_world")

BASE = {**truth.default_base_urls(), "adversarial": "http://127.0.0.6:8800"}
MODULE_BY_PREFIX = {
    "/adversarial/ooh/": bls_ooh,
    "/adversarial/collegenavigator/": collegenavigator,
    "/adversarial/reviews/": reviews,
    "/adversarial/api/entity-reviews/": reviews,
}


@cache
def site():
    return site_mod.Site(1, True, BASE, False)


@cache
def items_of(path_query: str):
    path, _, query = path_query.partition("?")
    response = site().respond("GET", "127.0.0.6:8800", path, query)
    assert response.status == 200, (path_query, response.status)
    module = next((m for prefix, m in MODULE_BY_PREFIX.items() if path.startswith(prefix)), generic)
    page = module.page_for(BASE["adversarial"] + path_query, response.body, dict(response.headers))
    return page.to_items()


def _without_format_chars(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def expectations(kinds=("kept", "dropped")):
    return [e for e in truth.adversarial_expectations() if e["expect"] in kinds]


def _id(e):
    return f"{e['path'].rsplit('/', 2)[-2:]}-{e['item_id']}"


@pytest.mark.parametrize("case", range(len(expectations())))
def test_hostile_item_pages(case):
    from crawler.validation import validate_item

    e = expectations()[case]
    items = items_of(e["path"])
    [item] = [i for i in items if i.item_id == e["item_id"]]
    reason = validate_item(item)
    if e["expect"] == "kept":
        assert reason is None, f"{e['attack']}: dropped as {reason}"
    else:
        assert reason is not None, f"{e['attack']}: the page's impossible value was lost, so validation kept it"
    for field, value in e["fields"].items():
        assert getattr(item, field) == value, field
    for field, checks in e["text"].items():
        value = getattr(item, field) or ""
        assert value == _without_format_chars(value), f"{field} still holds format characters"
        if "equals_without_format_chars" in checks:
            assert value == checks["equals_without_format_chars"]
        if "startswith" in checks:
            assert value.startswith(checks["startswith"])
        for part in checks.get("contains", []):
            assert part in value
    for forbidden in e["forbidden"]:
        for other in items:
            assert not any(forbidden in str(v) for v in other.to_dict().values()), forbidden


def test_reasons_match_the_attacks():
    from crawler.validation import validate_item

    reasons = {}
    for e in expectations(("dropped",)):
        [item] = [i for i in items_of(e["path"]) if i.item_id == e["item_id"]]
        reasons[e["item_id"]] = validate_item(item)
    assert reasons == {"43-9902": "negative_pay", "990002": "unknown_state", "reviews:9900003": "bad_rating",
                       "reviews:9900004": "bad_rating", "reviews:9900005": "missing_body"}


def test_deeply_nested_career_keeps_its_structure():
    [career] = items_of("/adversarial/ooh/healthcare/deeply-nested-technicians.htm")
    assert career.soc_code == "29-9904" and career.median_pay_annual == 52000


@pytest.mark.parametrize("path", [e["path"] for e in truth.adversarial_expectations()
                                  if e["expect"] == "any" and "/loop/" not in e["path"]])
def test_odd_pages_parse_without_crashing(path):
    items = items_of(path)
    assert all(item.url.startswith("http://127.0.0.6") for item in items)


def test_review_api_gives_the_same_hostile_reviews():
    entity = "e0000000-0000-4000-a000-000000000666"
    from_api = {i.review_id: i for i in items_of(f"/adversarial/api/entity-reviews/?e={entity}&page=1&limit=20")}
    from_html = {i.review_id: i for i in items_of("/adversarial/reviews/colleges/hostile-university/reviews/")}
    assert from_api.keys() == from_html.keys()
    for rid, item in from_api.items():
        # The API sends the page's own (unescaped) markup in its bodies; read as HTML, it gives the same text.
        assert item.to_dict() == from_html[rid].to_dict()
    assert "alert" not in from_api["reviews:9900001"].body
