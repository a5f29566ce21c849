"""The OpenAPI description at /api/openapi.json: a valid 3.1 document that the live endpoints answer by.

Every path in the document is called over the hand-made catalog and its real index, with good
parameters and at least one error each, and every JSON body is checked against the schema the
document declares for that status code; an /api/* route missing from the document fails too.
"""

from __future__ import annotations

import re

import jsonschema
import pytest
from openapi_spec_validator import validate

from tests.unit.webapp.webapp_testdata import EVIL, EVIL_PROG, GHC, HIT_GA, HIT_OH, MRS, OVCC, RAD_GA, SWD

# Good and bad calls of every path; each must answer the status shown with a body matching the document.
CALLS: list[tuple[str, str, int]] = [
    ("/api/search", "/api/search?q=health+information", 200),
    ("/api/search", "/api/search?q=medical&kind=career&kind=program&state=GA&sort=pay&per_page=3", 200),
    ("/api/search", "/api/search?near=30303&radius=50&sort=distance", 200),
    ("/api/search", "/api/search?q=script", 200),  # hostile text in every field
    ("/api/search", "/api/search?q=medcal+recrds", 200),  # a suggestion and a message
    ("/api/search", "/api/search?q=health+information+technology+Atlanta+GA", 200),  # a place read from the words
    ("/api/search", "/api/search?shoe_size=9", 400),
    ("/api/search", "/api/search?sort=loudest", 400),
    ("/api/search", "/api/search?near=Atlantis", 400),
    ("/api/suggest", "/api/suggest?q=med", 200),
    ("/api/suggest", "/api/suggest?q=cal&limit=20", 200),
    ("/api/suggest", "/api/suggest?q=med&limit=lots", 400),
    ("/api/careers/{soc_code}", f"/api/careers/{MRS}", 200),
    ("/api/careers/{soc_code}", f"/api/careers/{MRS}?state=GA&degree_level=associate&online=yes", 200),
    ("/api/careers/{soc_code}", f"/api/careers/{SWD}", 200),
    ("/api/careers/{soc_code}", "/api/careers/00-0000", 404),
    ("/api/institutions/{unitid}", f"/api/institutions/{GHC}", 200),
    ("/api/institutions/{unitid}", f"/api/institutions/{GHC}?category=academics&page=2", 200),
    ("/api/institutions/{unitid}", f"/api/institutions/{EVIL}", 200),
    ("/api/institutions/{unitid}", "/api/institutions/999999", 404),
    ("/api/institutions/{unitid}", "/api/institutions/<b>", 404),
    ("/api/programs/{program_id}", f"/api/programs/{HIT_OH}", 200),
    ("/api/programs/{program_id}", f"/api/programs/{EVIL_PROG}", 200),
    ("/api/programs/{program_id}", "/api/programs/no-such-program", 404),
    ("/api/reviews/{review_id}", "/api/reviews/r-ghc-1", 200),
    ("/api/reviews/{review_id}", "/api/reviews/r-unlinked-1", 200),
    ("/api/reviews/{review_id}", "/api/reviews/r-nope", 404),
    ("/api/compare", f"/api/compare?institutions={GHC},{OVCC},{EVIL}&zip=30303", 200),
    ("/api/compare", f"/api/compare?programs={HIT_GA},{HIT_OH},{RAD_GA},{EVIL_PROG}", 200),
    ("/api/compare", f"/api/compare?programs={HIT_GA},{HIT_OH},{RAD_GA},{EVIL_PROG},x", 400),
    ("/api/compare", f"/api/compare?institutions={GHC}&programs={HIT_GA}", 400),
    ("/api/compare", f"/api/compare?institutions={GHC},999999", 400),
    ("/api/status", "/api/status", 200),
    ("/api/openapi.json", "/api/openapi.json", 200),
]
# /api/status takes no parameter: its error is the catalog outage below. /api/openapi.json has none.


@pytest.fixture
def doc(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def check_body(doc, path, status, response):
    """The body matches the schema the document declares for this path and status."""
    declared = doc["paths"][path]["get"]["responses"].get(str(status))
    assert declared is not None, f"{path} answered {status}, which the document does not declare"
    if "$ref" in declared:
        declared = doc["components"]["responses"][declared["$ref"].rsplit("/", 1)[1]]
    assert response.mimetype == "application/json", (path, status, response.mimetype)
    schema = {**declared["content"]["application/json"]["schema"], "components": doc["components"]}
    jsonschema.Draft202012Validator(schema).validate(response.get_json())


def test_the_document_is_valid_openapi_3_1(doc):
    validate(doc)
    assert doc["openapi"].startswith("3.1.") and doc["info"]["version"]
    import importlib.metadata

    assert doc["info"]["version"] == importlib.metadata.version("collegesearch")
    # Every schema in the document is itself a valid JSON Schema 2020-12.
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_every_api_route_is_described_and_nothing_else(app, doc):
    rules = {re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()
             if rule.rule.startswith("/api/")}
    assert rules == set(doc["paths"])
    assert {path for path, _, _ in CALLS} == set(doc["paths"]), "every described path is called below"


@pytest.mark.parametrize(("path", "url", "status"), CALLS, ids=[f"{u} {s}" for _, u, s in CALLS])
def test_live_responses_match_the_declared_schema(client, doc, path, url, status):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    check_body(doc, path, status, response)


def test_a_catalog_outage_is_the_declared_503(client, doc, web_settings):
    path = web_settings.catalog_path
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    path.write_bytes(b"this is not a database" * 100)
    for described, url in (("/api/status", "/api/status"), ("/api/careers/{soc_code}", f"/api/careers/{MRS}"),
                           ("/api/reviews/{review_id}", "/api/reviews/r-ghc-1")):
        response = client.get(url)
        assert response.status_code == 503, response.get_data(as_text=True)[:300]
        check_body(doc, described, 503, response)
        assert response.get_json()["error"] == "catalog_unavailable"


def test_limits_in_the_document_are_the_ones_the_code_enforces(client, doc):
    """Each integer query limit of search and suggest: the edge passes, one past it is a 400 error body."""
    checked = 0
    for path, base in (("/api/search", "/api/search?q=health&"), ("/api/suggest", "/api/suggest?q=g&")):
        for param in doc["paths"][path]["get"]["parameters"]:
            schema = param["schema"]
            if param["in"] != "query" or schema.get("type") != "integer":
                continue
            edges = [(schema["minimum"], 200), (schema["minimum"] - 1, 400)]
            if "maximum" in schema:
                edges += [(schema["maximum"], 200), (schema["maximum"] + 1, 400)]
            for value, status in edges:
                response = client.get(f"{base}{param['name']}={value}")
                assert response.status_code == status, (param["name"], value, response.get_data(as_text=True))
                check_body(doc, path, status, response)
                checked += 1
    assert checked >= 8  # page, per_page, limit


def test_enums_in_the_document_are_accepted_and_others_refused(client, doc):
    params = {p["name"]: p["schema"] for p in doc["paths"]["/api/search"]["get"]["parameters"]}
    for sort in params["sort"]["enum"]:
        extra = "&near=30303" if sort == "distance" else ""
        response = client.get(f"/api/search?q=health&sort={sort}{extra}")
        assert response.status_code == 200, sort
        assert response.get_json()["sort"] == sort
    for kind in params["kind"]["items"]["enum"]:
        body = client.get(f"/api/search?kind={kind}").get_json()
        assert body["total"] > 0 and {r["kind"] for r in body["results"]} == {kind}
    assert client.get("/api/search?kind=spaceship").status_code == 400
    # The facets the search answers are exactly the ones the document names.
    facets = set(client.get("/api/search?q=health").get_json()["facets"])
    assert facets == set(doc["components"]["schemas"]["SearchResult"]["properties"]["facets"]["propertyNames"]["enum"])


def test_a_record_missing_a_field_fails_the_schema(client, doc):
    """The checks above can fail: a career without its SOC code, or with a number as its title, is refused."""
    body = client.get(f"/api/careers/{MRS}").get_json()
    schema = {"$ref": "#/components/schemas/CareerPage", "components": doc["components"]}
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(body)
    del body["career"]["soc_code"]
    assert not validator.is_valid(body)
    body = client.get(f"/api/careers/{MRS}").get_json()
    body["career"]["title"] = 42
    assert not validator.is_valid(body)


def test_docs_page_lists_every_endpoint_and_links_the_document(client, doc):
    page = client.get("/api")
    assert page.status_code == 200 and page.mimetype == "text/html"
    for path in doc["paths"]:
        assert f"GET {path}" in page.text
    assert 'href="/api/openapi.json"' in page.text
    assert "Retry-After" in page.text and "If-None-Match" in page.text
    home = client.get("/")
    assert 'href="/api"' in home.text  # the footer links the docs page


def test_the_document_is_cross_origin_like_the_rest_of_the_api(app, client):
    app.config["CORS_ORIGINS"] = ("https://example.org",)
    response = client.get("/api/openapi.json", headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://example.org"
    other = client.get("/api/openapi.json", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers



@pytest.mark.parametrize(("path", "url"), sorted({(p, u) for p, u, s in CALLS if s == 200}))
def test_a_call_repeated_with_its_etag_is_the_declared_304(client, doc, path, url):
    """Caching and the document agree: a path declares 304 exactly when it sends an ETag, and honours it."""
    first = client.get(url)
    etag = first.headers.get("ETag")
    declares_304 = "304" in doc["paths"][path]["get"]["responses"]
    assert declares_304 == (etag is not None), (path, etag)
    if etag:
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["ETag"] == etag


@pytest.mark.parametrize("path", sorted({p for p, _u, _s in CALLS}))
def test_a_call_over_the_rate_limit_is_the_declared_429(web_settings, doc, path):
    """Flask-Limiter's refusal has the body and the Retry-After header the document promises."""
    from webapp import create_app

    app = create_app({"SETTINGS": web_settings, "TESTING": True, "API_RATE_LIMIT": "1 per minute"})
    try:
        client = app.test_client()
        url = next(u for p, u, s in CALLS if p == path and s == 200)
        assert client.get(url).status_code == 200
        limited = client.get(url)
        assert limited.status_code == 429
        check_body(doc, path, 429, limited)
        declared = doc["paths"][path]["get"]["responses"]["429"]
        if "$ref" in declared:
            declared = doc["components"]["responses"][declared["$ref"].rsplit("/", 1)[1]]
        assert "Retry-After" in declared["headers"] and int(limited.headers["Retry-After"]) >= 1
    finally:
        app.extensions["collegesearch_search"].close()
