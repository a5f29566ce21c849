"""The schema is declared once and to_document fills all of it."""

from __future__ import annotations

from whoosh import fields as wf

from indexer import vocab
from indexer.build import preload_context
from indexer.paging import SORT_COLUMNS
from indexer.schema import FACET_FIELDS, FACETS, FILTERS, SCHEMA, StaticContext, to_document
from indexer.search import SORTS


def _docs(catalog):
    context = preload_context(catalog)
    return {s.kind + ":" + s.item_id: to_document(s, context) for s in catalog.fused.iter_items()}


def test_every_schema_field_is_filled_for_some_kind(corpus):
    _settings, catalog = corpus
    docs = _docs(catalog)
    filled = set().union(*(d.keys() for d in docs.values()))
    assert set(SCHEMA.names()) - filled == set()
    assert filled - set(SCHEMA.names()) == set()  # and nothing outside the schema


def test_ids_are_kind_and_item_id_and_unique(corpus):
    _settings, catalog = corpus
    docs = _docs(catalog)
    assert all(doc["id"] == key for key, doc in docs.items())
    assert SCHEMA["id"].unique


def test_every_facet_is_an_indexed_keyword_field_and_every_sort_is_sortable():
    for name in FACETS:
        field = SCHEMA[FACET_FIELDS[name]]
        assert isinstance(field, (wf.ID, wf.KEYWORD)), name
        assert field.indexed, name
    assert SCHEMA["rating"].column_type  # the rating facet's bands come from a sortable number
    for columns in SORT_COLUMNS.values():
        for name in columns:
            assert SCHEMA[name].column_type, name
    assert set(SORT_COLUMNS) | {"relevance", "distance"} == set(SORTS)
    for name in FILTERS:
        assert FACET_FIELDS.get(name, name) in SCHEMA.names(), name


def test_linked_records_fold_into_documents(corpus):
    _settings, catalog = corpus
    docs = _docs(catalog)
    program = docs["program:100-hit"]
    assert "Georgia Piedmont Technical College" in program["institution"] and "GPTC" in program["institution"]
    assert (program["lat"], program["lon"]) == (33.8098, -84.2397)  # from its institution
    assert program["rating"] == 4.0 and program["review_count"] == 2  # its institution's reviews
    assert program["field_of_study"] == "Health Information Technology"
    assert program["accreditor"] == "CAHIIM" and program["military_friendly"] == "yes"
    inst = docs["institution:100"]
    assert inst["rating"] == 4.0 and inst["review_count"] == 2 and inst["rating_band"] == "4"
    assert "CAHIIM" in inst["accreditor"].split(",") and "COE" in inst["accreditor"].split(",")
    assert inst["data"]["program_count"] == 1
    dpd = docs["program:200-diet"]
    assert dpd["accreditor"] == "ACEND" and dpd["field_of_study"] == "Dietetics"  # full agency name normalized
    review = docs["review:r3"]
    assert "UCLA" in review["institution"] and review["state"] == "CA"


def test_career_fields_of_study_come_from_data_not_special_cases(corpus):
    _settings, catalog = corpus
    docs = _docs(catalog)
    mrs = docs["career:29-2072"]
    # the SOC table maps 29-2072 to health information fields; CAHIIM accredits the first of them
    assert mrs["field_of_study"].split(",")[:2] == ["Health Information Technology", "Health Information Management"]
    assert "CAHIIM" in mrs["accreditor"].split(",")
    rad = docs["career:29-2034"]
    assert "Radiography" in rad["field_of_study"].split(",") and rad["accreditor"].split(",")[0] == "JRCERT"
    # an occupation the SOC table does not know still gets fields from its "How to Become One" text
    links = vocab.career_links({"soc_code": "99-9999", "title": "Test occupation",
                                "how_to_become": "Workers need an associate's degree in dental hygiene."})
    assert links.fields == ["Dental Hygiene"] and links.reasons["Dental Hygiene"] == "How to Become One"
    assert "CODA" in links.accreditors


def test_missing_links_and_odd_values_still_make_a_document(catalog):
    from model.items import Program, Review

    catalog.upsert(Review(url="https://r.example/9", review_id="r9", institution_unitid=None, rating=9, body="x"))
    catalog.upsert(Program(url="https://p.example/9", program_id="p9", institution_unitid="nope", name="Welding",
                           degree_level="weird", accreditation_status="???", delivery="mail"))
    review = to_document(catalog.get("review", "r9"), StaticContext())
    assert "rating" not in review and review["kind"] == "review"
    program = to_document(catalog.get("program", "p9"), StaticContext())
    assert program["title"] == "Welding" and "degree_level" not in program and "delivery" not in program


def test_long_sections_stay_out_of_hit_fields(corpus):
    _settings, catalog = corpus
    doc = _docs(catalog)["career:29-2072"]
    assert "how_to_become" not in doc["data"] and doc["data"]["median_pay_annual"] == 50250
    assert doc["data"]["fields_of_study"][0] == "Health Information Technology"
