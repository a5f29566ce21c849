"""The OpenAPI 3.1 description of every ``/api/*`` endpoint, served at ``/api/openapi.json``.

Written as data, but every enum and limit comes from the constant the code checks against
(``indexer.schema.FACETS``, ``indexer.request.SORTS``, ``webapp.params.MAX_PAGE``...) and the record
schemas come from the item dataclasses in ``model.items``, so the description cannot drift from
the code. ``tests/unit/webapp/test_webapp_openapi.py`` validates the document and checks live
responses of each endpoint against it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from collegesearch import __version__
from indexer.geo import DEFAULT_RADIUS_MILES, MAX_RADIUS_MILES
from indexer.request import SORTS
from indexer.schema import FACETS, FILTERS
from model.items import Career, Institution, Item, Program, Review
from model.vocab import ACCREDITATION_STATUSES, DEGREE_LEVELS, DELIVERIES, KINDS
from webapp.compare_data import MAX_COLUMNS
from webapp.compare_data import PARAMS as COMPARE_PARAMS
from webapp.page_data import ID_CHARS, PROGRAMS_PER_PAGE
from webapp.params import (
    DEFAULT_PER_PAGE,
    MAX_PAGE,
    SUGGEST_LIMIT_DEFAULT,
    SUGGEST_LIMIT_MAX,
    SUGGEST_MAX_CHARS,
)

# What a record id may contain: letters, digits and . _ : - (``page_data.check_id``).
ID_PATTERN = "^[" + "".join(sorted(ID_CHARS)).replace("-", "") + "-]{1,200}$"
_ID_CLASS = "[" + "".join(sorted(ID_CHARS)).replace("-", "") + "-]{1,200}"
# Up to MAX_COLUMNS ids joined by commas (``compare_data.parse_selection``).
ID_LIST_PATTERN = f"^{_ID_CLASS}(,{_ID_CLASS}){{0,{MAX_COLUMNS - 1}}}$"

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _type_schema(hint: Any) -> dict[str, Any]:
    """The JSON Schema of a dataclass field's type hint (``str | None``, ``list[str]``, ``int``...)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _type_schema(members[0]) if len(members) == 1 else {}
        return _nullable(inner) if len(members) < len(typing.get_args(hint)) else inner
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return {"type": "array", "items": _type_schema(item)}
    if origin is dict:
        return {"type": "object"}
    if hint in _JSON_TYPES:
        return {"type": _JSON_TYPES[hint]}
    return {}


def item_schema(cls: type[Item], *, complete: bool) -> dict[str, Any]:
    """A record of one kind: the item dataclass's fields, plus ``id`` and derived fields the pages add.

    ``complete`` records (a detail endpoint's main record) carry every field; summaries in lists
    carry a subset.
    """
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    properties: dict[str, Any] = {name: _type_schema(hints[name]) for name in fields}
    properties["kind"] = {"const": cls.kind}
    properties["id"] = {"type": "string"}
    schema: dict[str, Any] = {"type": "object", "description": f"A {cls.kind} record (model.items.{cls.__name__}).",
                              "properties": properties}
    if complete:
        schema["required"] = ["id", "kind", *fields]
    return schema


def _object(properties: dict[str, Any], *, required: list[str] | None = None, description: str | None = None
            ) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "required": list(properties) if required is None else required}
    if description:
        schema["description"] = description
    return schema


STRING = {"type": "string"}
OPT_STRING = _nullable(STRING)
COUNT = {"type": "integer", "minimum": 0}
PAGE_NUMBER = {"type": "integer", "minimum": 1}


def _paged(items: dict[str, Any]) -> dict[str, Any]:
    return _object({"total": COUNT, "page": PAGE_NUMBER, "pages": PAGE_NUMBER, "per_page": PAGE_NUMBER,
                    "items": {"type": "array", "items": items}})


def schemas() -> dict[str, Any]:
    """``components/schemas``: every response body and the error body."""
    program_summary = item_schema(Program, complete=False)
    return {
        "Error": _object({"error": {"type": "string", "description": "A stable snake_case code, e.g. bad_parameter, "
                                    "unknown_parameter, not_found, too_many_requests."},
                          "message": {"type": "string", "description": "What is wrong, for a person."}},
                         description="Every error of the API (webapp.errors.error_response)."),
        "Career": item_schema(Career, complete=True),
        "Institution": item_schema(Institution, complete=True),
        "Program": item_schema(Program, complete=True),
        "Review": item_schema(Review, complete=True),
        "ProgramSummary": program_summary,
        "ReviewSummary": item_schema(Review, complete=False),
        "RecordMeta": _object({"source": STRING, "source_url": OPT_STRING, "page_url": OPT_STRING,
                               "first_seen": OPT_STRING, "last_seen": OPT_STRING, "last_changed": OPT_STRING},
                              description="Where a record came from and when the crawls saw it."),
        "FacetValue": _object({"value": STRING, "count": COUNT, "selected": {"type": "boolean"},
                               "label": {"type": "string", "description": "Human label when it differs from value."}},
                              required=["value", "count", "selected"]),
        "Hit": _object({
            "id": {"type": "string", "pattern": f"^({'|'.join(KINDS)}):", "description": "<kind>:<record id>"},
            "kind": {"enum": list(KINDS)}, "title": STRING, "url": STRING, "detail_url": STRING,
            "snippet": {"type": "string", "description": "Escaped text; only <mark> tags are added."},
            "score": {"type": "number"},
            "fields": {"type": "object", "description": "The item model's fields plus derived ones."},
            "distance_miles": {"type": "number", "minimum": 0, "description": "Only with near."},
        }, required=["id", "kind", "title", "url", "detail_url", "snippet", "score", "fields"]),
        "Near": _object({"label": STRING, "lat": {"type": "number"}, "lon": {"type": "number"},
                         "radius_miles": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_MILES}}),
        "UnderstoodPlace": _object({
            "text": {"type": "string", "description": "The place as typed."},
            "label": {"type": "string", "description": "'Georgia' or 'Atlanta, GA'."},
            "state": {"type": "string", "pattern": "^[A-Z]{2}$"}, "city": OPT_STRING,
            "filters": {"type": "object", "propertyNames": {"enum": ["state", "city"]},
                        "additionalProperties": {"type": "array", "items": STRING}},
            "remove_query": {"type": "string", "description": "The query with the place searched as words."},
        }, required=["text", "label", "state", "city", "filters", "remove_query"],
            description="A state or city at the end of a query that names a field: a location filter."),
        "SearchResult": _object({
            "query": STRING, "total": COUNT, "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "per_page": PAGE_NUMBER,
            "results": {"type": "array", "items": _ref("Hit")},
            "facets": {"type": "object", "propertyNames": {"enum": list(FACETS)},
                       "additionalProperties": {"type": "array", "items": _ref("FacetValue")}},
            "suggestion": _nullable({"type": "string", "description": "A corrected query (did you mean)."}),
            "took_ms": {"type": "number", "minimum": 0},
            "filters": {"type": "object", "propertyNames": {"enum": list(FILTERS)},
                        "additionalProperties": {"type": "array", "items": STRING}},
            "sort": {"enum": list(SORTS)},
            "kind_counts": {"type": "object", "propertyNames": {"enum": list(KINDS)}, "additionalProperties": COUNT},
            "messages": {"type": "array", "items": STRING},
            "near": _ref("Near"),
            "understood": _object({"place": _ref("UnderstoodPlace")},
                                  description="What the search read from the query's words: only when it read something."),
        }, required=["query", "total", "page", "per_page", "results", "facets", "suggestion", "took_ms", "filters",
                     "sort", "kind_counts", "messages"]),
        "Suggestions": _object({
            "query": STRING,
            "suggestions": {"type": "array", "maxItems": SUGGEST_LIMIT_MAX, "items": _object(
                {"text": STRING, "kind": {"enum": list(KINDS)}, "url": STRING, "id": STRING,
                 "matched_alias": OPT_STRING}, required=["text", "kind", "url"])},
        }),
        "CareerPage": _object({
            "career": _ref("Career"), "meta": _ref("RecordMeta"),
            "accreditors": {"type": "array", "items": STRING},
            "programs": _paged({"allOf": [program_summary, _object(
                {"detail_url": STRING,
                 "school_rating": _nullable(_object({"count": COUNT, "average": _nullable({"type": "number"})}))},
                required=["id", "detail_url", "school_rating"])]}),
            "filters": _object({"state": OPT_STRING, "degree_level": OPT_STRING, "online": {"type": "boolean"}}),
            "credits": _object({"bls": {"type": "boolean"}, "onet": {"type": "boolean"}}),
        }),
        "InstitutionPage": _object({
            "institution": _ref("Institution"), "meta": _ref("RecordMeta"),
            "accreditation": _object({
                "institutional": _object({"accreditor": OPT_STRING, "status": OPT_STRING,
                                          "accredited_since": OPT_STRING, "next_review": OPT_STRING}),
                "programmatic": {"type": "array", "items": _object(
                    {"program_id": STRING, "program": OPT_STRING, "accreditor": OPT_STRING,
                     "accreditor_name": OPT_STRING, "status": OPT_STRING, "accredited_since": OPT_STRING,
                     "next_review": OPT_STRING})},
            }),
            "programs": {"type": "array", "items": {"allOf": [program_summary, _object(
                {"id": STRING, "sources": {"type": "array", "items": _object({"source": STRING, "label": STRING})}})]}},
            "programs_offered": {"type": "array", "items": STRING},
            "rating": _object({"count": COUNT, "average": _nullable({"type": "number", "minimum": 1, "maximum": 5}),
                               "histogram": _object({str(i): COUNT for i in range(1, 6)})}),
            "reviews": {"allOf": [_paged(_ref("ReviewSummary")), _object(
                {"category": OPT_STRING, "categories": {"type": "array", "items": _object(
                    {"value": STRING, "count": COUNT})}})]},
        }),
        "ProgramPage": _object({
            "program": _ref("Program"), "meta": _ref("RecordMeta"),
            "institution": _nullable(item_schema(Institution, complete=False)),
            "history": {"type": "array", "items": _object({
                "at": STRING, "op": STRING, "status": OPT_STRING, "previous_status": OPT_STRING,
                "status_changed": {"type": "boolean"}, "fields_changed": {"type": "array", "items": STRING},
                "run_id": _nullable({"type": "integer"})})},
            "sources": {"type": "array", "items": _object({
                "source": STRING, "label": STRING, "url": OPT_STRING, "last_seen": OPT_STRING,
                "first_seen": OPT_STRING, "fields": {"type": "array", "items": STRING}, "facts": {},
                "record_id": STRING, "live": {"type": "boolean"}, "removed_at": OPT_STRING})},
            "conflicts": {"type": "array", "items": _object({
                "field": STRING, "value": {}, "source": STRING, "since": OPT_STRING,
                "others": {"type": "array", "items": _object({"source": STRING, "value": {}, "since": OPT_STRING})},
                "message": STRING})},
        }),
        "ReviewPage": _object({"review": _ref("Review"), "meta": _ref("RecordMeta"),
                               "institution": _nullable(item_schema(Institution, complete=False))}),
        "Compare": _object({
            "kind": {"enum": sorted(set(COMPARE_PARAMS.values()))},
            "param": {"enum": list(COMPARE_PARAMS)},
            "ids": {"type": "array", "minItems": 1, "maxItems": MAX_COLUMNS, "items": STRING},
            "zip": OPT_STRING,
            "max_columns": {"const": MAX_COLUMNS},
            "columns": {"type": "array", "minItems": 1, "maxItems": MAX_COLUMNS, "items": _object(
                {"id": STRING, "title": STRING,
                 "subtitle": {**OPT_STRING, "description": "A program's school, a school's place."},
                 "url": STRING, "remove_url": OPT_STRING, "institution_unitid": OPT_STRING},
                required=["id", "title", "subtitle", "url", "remove_url"])},
            "rows": {"type": "array", "items": _object({
                "field": STRING, "label": STRING,
                "values": {"type": "array", "maxItems": MAX_COLUMNS,
                           "description": "One value per column, in the columns' order (null when unknown)."},
                "differs": {"type": "boolean", "description": "True when the columns' values are not all alike."}})},
        }, description="Schools or programs side by side, one column each (the /compare page as JSON)."),
        "Status": _object({
            "counts": {"type": "object", "propertyNames": {"enum": list(KINDS)}, "additionalProperties": COUNT},
            "last_updated": OPT_STRING,
            "catalog_change_seq": {"type": "integer", "minimum": 0},
            "index": {"type": "object", "required": ["available"], "properties": {
                "available": {"type": "boolean"}, "state": STRING, "message": OPT_STRING,
                "doc_count": COUNT, "lag": _nullable({"type": "integer"})},
                "description": "The index's state, generation, watermark, lag and cache figures."},
            "freshness": {"type": "array", "items": _ref("SourceFreshness"),
                          "description": "Per source with fetched pages, as `collegesearch status` shows it."},
        }, required=["counts", "last_updated", "catalog_change_seq", "index", "freshness"]),
        "SourceFreshness": _object({
            "source": STRING, "pages": {**COUNT, "description": "Live pages fetched at least once."},
            "fresh": {**COUNT, "description": "Pages fetched within their revisit interval."},
            "due": {**COUNT, "description": "Pages due for a fetch now, those never scheduled included."},
            "unscheduled": {**COUNT, "description": "Pages with no revisit schedule yet (fetched before it existed)."},
            "scheduled": {"type": "boolean", "description": "False when no page of the source has a schedule yet."},
            "fresh_share": {"type": "number", "minimum": 0, "maximum": 1, "description": "fresh / pages."},
            "fresh_text": {"type": "string", "description": "The share as a percentage, or 'not scheduled yet'."},
            "due_text": STRING, "oldest_url": OPT_STRING, "oldest_fetch": OPT_STRING,
            "oldest_age_s": _nullable({"type": "integer", "minimum": 0}), "oldest_age": OPT_STRING,
            "next_due": {**OPT_STRING, "description": "When the next page not due yet falls due (UTC)."},
            "next_due_local": {**OPT_STRING, "description": "The same in SCHEDULE_TIMEZONE."},
            "note": {**OPT_STRING, "description": "A sentence when some pages have no schedule yet."},
        }, description="How fresh one source's pages are (ops.status.source_freshness)."),
        "OpenAPI": {"type": "object", "required": ["openapi", "info", "paths"],
                    "properties": {"openapi": {"type": "string", "pattern": "^3\\.1\\."}}},
    }


def _query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description, **extra}


def _list_param(name: str, values: tuple[str, ...] | None, description: str) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "string"} if values is None else {"enum": list(values)}
    return _query(name, {"type": "array", "items": items}, description, style="form", explode=True)


def search_parameters(max_per_page: int) -> list[dict[str, Any]]:
    """``/api/search``'s query parameters, with the limits ``webapp.params`` and the indexer enforce."""
    known: dict[str, tuple[str, ...] | None] = {
        "kind": KINDS, "degree_level": DEGREE_LEVELS, "accreditation_status": ACCREDITATION_STATUSES,
        "delivery": DELIVERIES,
    }
    params = [_query("q", {"type": "string"}, "Query text with the query language (state:OH degree:associate "
                     "online:yes, quotes, -word, OR); longer text is cut, never refused.")]
    for name in FILTERS:
        kind = "facet filter" if name in FACETS else "filter-only field"
        params.append(_list_param(name, known.get(name), f"{kind}; repeat the parameter for OR within it "
                                  "(kind, state, degree_level, accreditation_status, delivery also take "
                                  "comma-separated values; rating takes 4, >=4 or 3-5)."))
    params += [
        _query("near", {"type": "string", "maxLength": 200}, "A ZIP code, 'City, ST' or 'lat,lon'; results carry "
               "distance_miles. An unknown place is a 400."),
        _query("radius", {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_MILES,
                          "default": DEFAULT_RADIUS_MILES}, "Miles around near."),
        _query("sort", {"enum": list(SORTS), "default": "relevance"}, "Result order; distance needs near."),
        _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "1-based page."),
        _query("per_page", {"type": "integer", "minimum": 1, "default": min(DEFAULT_PER_PAGE, max_per_page)},
               f"Page size; values above {max_per_page} (MAX_PER_PAGE) are capped, not refused."),
    ]
    return params


IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
                 "description": "An ETag from an earlier response: 304 when the body would be the same."}


def _json(schema_name: str, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description,
                                "content": {"application/json": {"schema": _ref(schema_name)}}}
    if headers:
        response["headers"] = headers
    return response


def _operation(operation_id: str, summary: str, ok: str, *, parameters: list[dict[str, Any]] | None = None,
               errors: dict[str, str] | None = None, reads_catalog: bool = True,
               conditional: bool = True) -> dict[str, Any]:
    """One GET with its success body and the responses every endpoint may give (503 where it reads the catalog).

    ``conditional``: the view is wrapped by ``http_cache.cacheable``, so it sends an ETag and answers 304.
    """
    headers: dict[str, Any] = {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}
    if conditional:
        headers = {"ETag": {"$ref": "#/components/headers/ETag"}, **headers}
    responses: dict[str, Any] = {"200": _json(ok, "OK", headers)}
    if conditional:
        responses["304"] = {"$ref": "#/components/responses/NotModified"}
    for status, description in (errors or {}).items():
        responses[status] = _json("Error", description)
    responses["429"] = {"$ref": "#/components/responses/TooManyRequests"}
    if reads_catalog:
        responses["503"] = {"$ref": "#/components/responses/Unavailable"}
    return {"get": {"operationId": operation_id, "summary": summary, "tags": ["api"],
                    "parameters": [*(parameters or []), *([IF_NONE_MATCH] if conditional else [])],
                    "responses": responses}}


def _id_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "pattern": ID_PATTERN}}


def build_document(max_per_page: int) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document (``max_per_page`` is this deployment's MAX_PER_PAGE)."""
    not_found = {"404": "No record has that id (an id with other characters is a 404 without a lookup)."}
    bad = {"400": "A bad parameter: unknown name, bad value or out of range."}
    page = _query("page", {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1},
                  "Page of the list; a bad value shows page 1.")
    paths = {
        "/api/search": _operation(
            "search", "Full-text faceted search (the results page as JSON).", "SearchResult",
            parameters=search_parameters(max_per_page),
            errors={"400": "A bad parameter: unknown parameter (code unknown_parameter), unknown facet value, "
                           "bad sort, page out of range, unknown place or radius (code bad_parameter)."}),
        "/api/suggest": _operation(
            "suggest", "Autocomplete for the search box.", "Suggestions",
            parameters=[_query("q", {"type": "string", "maxLength": SUGGEST_MAX_CHARS}, "What was typed so far."),
                        _query("limit", {"type": "integer", "minimum": 1, "maximum": SUGGEST_LIMIT_MAX,
                                         "default": SUGGEST_LIMIT_DEFAULT}, "How many suggestions at most.")],
            errors=bad),
        "/api/careers/{soc_code}": _operation(
            "career", "A career with pay, outlook, accreditors and the programs that lead to it.", "CareerPage",
            parameters=[_id_param("soc_code", "SOC code, e.g. 29-2072."),
                        _query("state", {"type": "string"}, "Only programs in this state (two letters)."),
                        _query("degree_level", {"enum": list(DEGREE_LEVELS)}, "Only programs of this level."),
                        _query("online", {"type": "string", "enum": ["1", "true", "yes", "on"]},
                               "Only online programs."),
                        {**page, "description": f"Page of the programs ({PROGRAMS_PER_PAGE} a page)."}],
            errors=not_found),
        "/api/institutions/{unitid}": _operation(
            "institution", "An institution with accreditation, programs, ratings and a page of reviews.",
            "InstitutionPage",
            parameters=[_id_param("unitid", "IPEDS unit id, e.g. 100654."),
                        _query("category", {"type": "string"}, "Only reviews of this topic."),
                        {**page, "description": "Page of the reviews."}],
            errors=not_found),
        "/api/programs/{program_id}": _operation(
            "program", "A program with its institution, status history, sources and conflicts.", "ProgramPage",
            parameters=[_id_param("program_id", "The fused program id; a source's own id or a merged program's "
                                  "id answers 301 to the current one.")],
            errors=not_found),
        "/api/reviews/{review_id}": _operation(
            "review", "One review with its institution.", "ReviewPage",
            parameters=[_id_param("review_id", "Review id; user reviews are user:<n>.")], errors=not_found),
        "/api/compare": _operation(
            "compare", f"Up to {MAX_COLUMNS} schools or {MAX_COLUMNS} programs side by side (the compare page).",
            "Compare",
            parameters=[
                _query(name, {"type": "string", "pattern": ID_LIST_PATTERN},
                       f"Up to {MAX_COLUMNS} {name} ids joined by commas; give institutions or programs, "
                       "not both.")
                for name in COMPARE_PARAMS
            ] + [_query("zip", {"type": "string", "maxLength": 100},
                        "A ZIP code (or 'City, ST', 'lat,lon'): adds each school's distance; institutions only.")],
            errors={"400": "A bad comparison (code bad_parameter): no ids, more than four, an unknown id, both "
                           "kinds at once, an empty or malformed entry, an unknown ZIP or parameter."}),
        # Not conditional: status is read to learn freshness, and the description changes only with a deploy.
        "/api/status": _operation("status", "What the index holds and how fresh it is.", "Status", conditional=False),
        "/api/openapi.json": _operation("openapi", "This description.", "OpenAPI", reads_catalog=False,
                                        conditional=False),
    }
    moved = {"description": "Moved: an old program id; Location names the current one.",
             "headers": {"Location": {"schema": {"type": "string"}}}}
    paths["/api/programs/{program_id}"]["get"]["responses"]["301"] = moved
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "collegesearch JSON API",
            "version": __version__,
            "summary": "Careers, accredited programs, colleges and student reviews: the same search and records "
                       "as the HTML pages.",
            "description": "Read-only; GET only. Errors are {\"error\": code, \"message\": text}. CORS only for the "
                           "origins in COLLEGESEARCH_CORS_ORIGINS.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "headers": {
                "ETag": {"description": "Validator of this body; send it back in If-None-Match.",
                         "schema": {"type": "string"}},
                "Retry-After": {"description": "Seconds to wait before the next request.",
                                "schema": {"type": "integer", "minimum": 0}},
                "X-Request-ID": {"description": "The request's id in the logs: the caller's X-Request-ID when it "
                                                "is a sane token, else a new one.", "schema": {"type": "string"}},
            },
            "responses": {
                "NotModified": {"description": "Not modified: the If-None-Match ETag still matches; no body.",
                                "headers": {"ETag": {"$ref": "#/components/headers/ETag"}}},
                "TooManyRequests": {"description": "Rate limited; wait Retry-After seconds.",
                                    "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
                                    "content": {"application/json": {"schema": _ref("Error")}}},
                "Unavailable": {"description": "The catalog cannot be read right now (code catalog_unavailable).",
                                "content": {"application/json": {"schema": _ref("Error")}}},
            },
        },
    }
