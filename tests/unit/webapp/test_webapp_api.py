"""The JSON API contract over a real index: body shape, filters, near, errors, per_page cap, CORS."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.webapp.webapp_testdata import GHC, HIM_CA, HIT_GA, HIT_OH, MRS, OVCC

# Each test runs with the catalog on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_backends

RESULT_KEYS = {"id", "kind", "title", "url", "detail_url", "snippet", "score", "fields"}


def test_search_body_is_the_contract(client):
    response = client.get("/api/search?q=medical+records")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert {"query", "total", "page", "per_page", "results", "facets", "suggestion", "took_ms"} <= set(body)
    assert body["query"] == "medical records" and body["page"] == 1 and body["total"] >= 4
    assert body["results"][0]["id"] == f"career:{MRS}"
    for result in body["results"]:
        assert RESULT_KEYS <= set(result) and "distance_miles" not in result
        prefix = {"career": "/careers/", "institution": "/institutions/", "program": "/programs/",
                  "review": "/reviews/"}[result["kind"]]
        assert result["detail_url"].startswith(prefix)
    career = body["results"][0]
    assert career["fields"]["soc_code"] == MRS and career["fields"]["median_pay_annual"] == 50250
    assert career["detail_url"] == f"/careers/{MRS}"
    for name, values in body["facets"].items():
        assert all({"value", "count", "selected"} <= set(v) for v in values), name
    assert {"state", "degree_level", "accreditor", "accreditation_status", "delivery"} <= set(body["facets"])


def test_filters_narrow_and_mark_facets_selected(client):
    body = client.get("/api/search?q=health+information&kind=program&state=OH").get_json()
    assert [r["id"] for r in body["results"]] == [f"program:{HIT_OH}"]
    assert body["filters"]["state"] == ["OH"] and body["filters"]["kind"] == ["program"]
    oh = [v for v in body["facets"]["state"] if v["value"] == "OH"]
    assert oh and oh[0]["selected"] is True
    both = client.get("/api/search?q=health+information&kind=program&state=OH&state=CA").get_json()
    assert {r["id"] for r in both["results"]} == {f"program:{HIT_OH}", f"program:{HIM_CA}"}
    probation = client.get("/api/search?kind=program&accreditation_status=probation").get_json()
    assert [r["id"] for r in probation["results"]] == [f"program:{HIT_OH}"]
    online = client.get("/api/search?kind=program&delivery=online&accreditor=CAHIIM&degree_level=associate").get_json()
    assert f"program:{HIT_GA}" in [r["id"] for r in online["results"]]
    military = client.get("/api/search?kind=institution&military_friendly=yes").get_json()
    assert {r["id"] for r in military["results"]} == {f"institution:{GHC}", "institution:110635"}


def test_near_adds_distance_and_sorts_by_it(client):
    body = client.get("/api/search?near=30303&radius=50&sort=distance").get_json()
    assert body["total"] > 0 and body["near"]["label"]
    distances = [r["distance_miles"] for r in body["results"]]
    assert distances == sorted(distances) and max(distances) <= 50
    assert all(r["fields"].get("state") in (None, "GA") or r["kind"] == "review" for r in body["results"])


@pytest.mark.parametrize("query, status, code", [
    ("per_page=notanumber", 400, "bad_parameter"),
    ("page=0", 400, "bad_parameter"),
    ("page=-3", 400, "bad_parameter"),
    ("page=99999999999999999999", 400, "bad_parameter"),
    ("sort=bogus", 400, None),
    ("state=ZZ", 400, None),
    ("kind=spaceship", 400, None),
    ("near=garbage", 400, None),
    ("near=30303&radius=abc", 400, None),
    ("sort=distance", 400, None),
    ("colour=blue", 400, "unknown_parameter"),
])
def test_bad_parameters_are_400_with_an_error_body(client, query, status, code):
    response = client.get(f"/api/search?{query}")
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error", "message"} and body["message"]
    if code:
        assert body["error"] == code


def test_per_page_is_capped(client):
    body = client.get("/api/search?per_page=1000").get_json()
    assert body["per_page"] == 50
    small = client.get("/api/search?q=health&per_page=2&page=2").get_json()
    assert small["per_page"] == 2 and small["page"] == 2 and len(small["results"]) <= 2


def test_cache_buster_parameters_are_ignored(client):
    assert client.get("/api/search?q=nursing&_=12345").status_code == 200


def test_html_page_and_api_call_the_same_search(client):
    api = client.get("/api/search?q=health+information&kind=program").get_json()
    html = client.get("/search?q=health+information&kind=program").text
    page_ids = re.findall(r'<h3 id="hit-([^"]+)">', html)
    assert page_ids == [r["id"] for r in api["results"]]
    assert client.get("/search.json?q=health+information&kind=program").get_json()["results"] == api["results"]


def test_suggest(client):
    body = client.get("/api/suggest?q=medi").get_json()
    assert body["query"] == "medi"
    first = body["suggestions"][0]
    assert first == {"text": "Medical Records Specialists", "kind": "career", "url": f"/careers/{MRS}",
                     "id": f"career:{MRS}", "matched_alias": None}
    alias = client.get("/api/suggest?q=x-ray").get_json()["suggestions"]
    assert alias and alias[0]["matched_alias"] == "X-ray technician"
    assert client.get("/api/suggest?q=").get_json()["suggestions"] == []
    assert client.get("/api/suggest?q=" + "a" * 500).status_code == 400
    assert client.get("/api/suggest?q=med&limit=x").get_json()["error"] == "bad_parameter"


def test_career_api_returns_what_the_page_shows(client):
    body = client.get(f"/api/careers/{MRS}").get_json()
    assert body["career"]["title"] == "Medical Records Specialists" and body["career"]["pay_p10"] == 35780
    assert body["meta"]["source"] == "bls_ooh" and body["meta"]["last_seen"]
    assert "CAHIIM" in body["accreditors"]
    ids = {p["id"] for p in body["programs"]["items"]}
    assert {HIT_GA, HIT_OH, HIM_CA} <= ids
    ga = client.get(f"/api/careers/{MRS}?state=GA").get_json()
    assert {p["id"] for p in ga["programs"]["items"]} == {HIT_GA}


def test_institution_api(client):
    body = client.get(f"/api/institutions/{GHC}").get_json()
    assert body["institution"]["name"] == "Georgia Health College"
    assert body["rating"] == {"count": 3, "average": 4.0, "histogram": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}}
    assert body["reviews"]["total"] == 3 and len(body["reviews"]["items"]) == 3
    assert body["accreditation"]["institutional"]["accreditor"] == "SACSCOC"
    assert {p["program_id"] for p in body["accreditation"]["programmatic"]} == {HIT_GA, "100001-radaas0004"}
    aid = client.get(f"/api/institutions/{GHC}?category=financial_aid").get_json()
    assert [r["id"] for r in aid["reviews"]["items"]] == ["r-ghc-2"]


def test_program_api_has_status_history(client):
    body = client.get(f"/api/programs/{HIT_OH}").get_json()
    assert body["program"]["accreditation_status"] == "probation"
    assert body["institution"]["id"] == OVCC
    assert [h["status"] for h in body["history"]] == ["accredited", "probation"]
    assert body["history"][1]["status_changed"] and body["history"][1]["previous_status"] == "accredited"


def test_review_api(client):
    body = client.get("/api/reviews/r-ghc-1").get_json()
    assert body["review"]["rating"] == 5 and body["institution"]["id"] == GHC


@pytest.mark.parametrize("url", ["/api/careers/00-0000", "/api/institutions/999", "/api/programs/nope",
                                 "/api/reviews/nope", "/api/programs/%3Cscript%3E", "/api/nothing"])
def test_unknown_ids_are_json_404(client, url):
    response = client.get(url)
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert response.get_json()["error"] == "not_found" and response.get_json()["message"]


def test_wrong_method_is_json_405(client):
    response = client.post("/api/search")
    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_status_endpoint(client):
    body = client.get("/api/status").get_json()
    assert body["counts"] == {"career": 4, "institution": 4, "program": 5, "review": 6}
    assert body["index"]["available"] is True and body["index"]["doc_count"] == 19 and body["index"]["lag"] == 0


def test_cors_is_off_by_default(client):
    response = client.get("/api/search?q=x", headers={"Origin": "https://other.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_origins_setting_allows_listed_origins_only(web_settings):
    from webapp import create_app

    app = create_app({"SETTINGS": web_settings.replace(CORS_ORIGINS="https://ok.example"), "TESTING": True})
    client = app.test_client()
    ok = client.get("/api/search?q=x", headers={"Origin": "https://ok.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://ok.example" and "Origin" in ok.headers["Vary"]
    other = client.get("/api/search?q=x", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    page = client.get("/", headers={"Origin": "https://ok.example"})
    assert "Access-Control-Allow-Origin" not in page.headers  # HTML pages never


PARAM_NAMES = st.sampled_from(["q", "kind", "state", "degree_level", "accreditor", "accreditation_status",
                               "delivery", "military_friendly", "rating", "near", "radius", "sort", "page",
                               "per_page", "bogus"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.lists(st.tuples(PARAM_NAMES, st.text(max_size=40)), max_size=5))
def test_no_parameter_combination_gives_a_500(client, params):
    response = client.get("/api/search", query_string=params)
    assert response.status_code in (200, 400), (params, response.text)
    body = response.get_json()
    assert ("results" in body) if response.status_code == 200 else (set(body) == {"error", "message"})
    page = client.get("/search", query_string=params)
    assert page.status_code in (200, 400)
