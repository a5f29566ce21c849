"""search(), suggest() and programs_for_career() against a real index of a small linked corpus."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.results import SearchError
from indexer.search import Searcher, get_searcher, programs_for_career, reset_searchers, search, suggest
from indexer.snippets import snippet_html


def ids(result) -> list[str]:
    return [h.id for h in result.hits]


# -- hostile input -------------------------------------------------------------------------------------

HOSTILE = [
    '"unbalanced quote', 'nursing "', "AND", "OR", "NOT", "-", "--", "+", "a OR", "OR OR OR", "NOT NOT nursing",
    "()", "((nursing", "nursing)", "*", "?", "~", "^", "\\", "state:", ":", "::::", "state:ZZ", "rating:>=banana",
    "rating:9", "kind:spaceship", "unknownfield:value", "x" * 10_000, "nursing " * 2000, "\x00\x01\x02 nursing \x7f",
    "\u202e\u200b\ufeffnursing", "\ud800", "🎓 nursing 🎓", "<script>alert(1)</script>", "' OR 1=1 --",
    "field:", 'field:"', "near:", "near:99999", "online:maybe", "-state:GA", "title:", "state:GA state:GA",
    "\n\t\r", "ｎｕｒｓｉｎｇ", "İstanbul", "https://example.com/path?x=1",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_query_text_gives_a_result_never_an_exception(searcher, query):
    result = searcher.search(query)
    assert 0 <= result.total <= 18 and len(result.hits) <= result.per_page
    assert len(result.query) <= 500
    result.to_dict()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=300), page=st.integers(1, 5), sort=st.sampled_from(["relevance", "rating", "name"]))
def test_any_string_is_a_valid_query(searcher, query, page, sort):
    result = searcher.search(query, page=page, sort=sort)
    assert 0 <= result.total <= 18
    assert len(result.hits) <= result.per_page
    for hit in result.hits:
        assert "<script" not in hit.snippet.lower()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.text(max_size=60))
def test_any_string_is_a_valid_autocomplete_prefix(searcher, prefix):
    entries = searcher.suggest(prefix)
    assert len(entries) <= 8 and all(e["kind"] in ("career", "institution") for e in entries)


@pytest.mark.parametrize("kwargs,param", [
    ({"filters": {"colour": "red"}}, "colour"),
    ({"filters": {"state": "ZZ"}}, "state"),
    ({"filters": {"rating": "lots"}}, "rating"),
    ({"filters": {"kind": "spaceship"}}, "kind"),
    ({"filters": {"degree_level": "wizard"}}, "degree_level"),
    ({"sort": "cheapest"}, "sort"),
    ({"page": 0}, "page"),
    ({"page": "two"}, "page"),
    ({"per_page": 0}, "per_page"),
    ({"near": "00000"}, "near"),
    ({"near": "Atlantis, ZZ"}, "near"),
    ({"near": "91,200"}, "near"),
    ({"near": "30303", "radius": -5}, "radius"),
    ({"near": "30303", "radius": "far"}, "radius"),
    ({"sort": "distance"}, "sort"),
])
def test_invalid_parameters_raise_search_error(searcher, kwargs, param):
    with pytest.raises(SearchError) as info:
        searcher.search("nursing", **kwargs)
    assert info.value.param == param
    assert str(info.value)


# -- snippets --------------------------------------------------------------------------------------------


def test_snippets_escape_document_markup_and_add_only_mark_tags(searcher):
    result = searcher.search("great professors")
    hit = next(h for h in result.hits if h.id == "review:r3")
    assert "<mark>professors</mark>" in hit.snippet.lower()
    assert "&lt;img src=x onerror=alert(1)&gt;" in hit.snippet
    # nothing but the highlight tags is markup: remove them and no angle bracket is left
    assert "<" not in hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert ">" not in hit.snippet.replace("<mark>", "").replace("</mark>", "")
    # the query itself may be markup: it is never echoed unescaped
    attack = searcher.search("<script>alert(1)</script>")
    assert all("<script" not in h.snippet for h in attack.hits)


def test_snippet_function_escapes_when_nothing_matches():
    assert snippet_html('<a href="x">a & b</a>', set()) == "&lt;a href=&quot;x&quot;&gt;a &amp; b&lt;/a&gt;"
    assert snippet_html("technologists work", {"technologist"}) == "<mark>technologists</mark> work"


# -- relevance basics, synonyms, spelling ---------------------------------------------------------------------


def test_job_titles_abbreviations_and_aliases(searcher):
    assert ids(searcher.search("x-ray tech"))[0] == "career:29-2034"
    assert ids(searcher.search("medical coder"))[0] == "career:29-2072"
    assert ids(searcher.search("UCLA"))[0] == "institution:200"
    hit_programs = searcher.search("HIT", filters={"kind": "program"})
    assert set(ids(hit_programs)) == {"program:100-hit", "program:300-hit"}
    assert "program:200-him" in ids(searcher.search("RHIA"))


def test_did_you_mean_and_corrected_results(searcher):
    result = searcher.search("radiolgic technologists")
    assert result.suggestion == "radiologic technologists"
    assert ids(result)[0] == "career:29-2034"
    assert any("Showing results for" in m for m in result.messages)
    known = searcher.search("radiologic")
    assert known.suggestion is None


def test_strict_matching_falls_back_to_any_word(searcher):
    result = searcher.search("dietetics zebra")
    assert set(ids(result)[:3]) == {"program:200-diet", "program:300-diet", "career:29-1031"}
    assert any("match some" in m for m in result.messages)
    strict = searcher.search("health information online")
    assert ids(strict)[0] == "program:100-hit"


def test_reviews_are_found_by_their_words(searcher):
    assert ids(searcher.search("helpful financial aid office"))[0] == "review:r1"


# -- filters ----------------------------------------------------------------------------------------------


def test_query_language_filters_match_parameter_filters(searcher):
    typed = searcher.search("health information state:OH")
    passed = searcher.search("health information", filters={"state": "Ohio"})
    assert ids(typed) == ids(passed) and set(ids(typed)) >= {"program:300-hit"}
    assert typed.filters == {"state": ["OH"]} == passed.filters
    assert all(h.fields.get("state") == "OH" or h.kind == "institution" for h in typed.hits)


@pytest.mark.parametrize("typed,params,expected", [
    ("degree:associate kind:program", {"degree_level": "associate", "kind": "program"},
     {"program:100-hit", "program:300-hit", "program:400-rad", "program:300-diet"}),
    ("accreditor:CAHIIM kind:program", {"accreditor": "cahiim", "kind": "program"},
     {"program:100-hit", "program:300-hit", "program:200-him"}),
    ("online:yes kind:program", {"delivery": "online", "kind": "program"}, {"program:100-hit", "program:300-diet"}),
    ("military:yes", {"military_friendly": "yes"}, {"institution:100", "program:100-hit"}),
    ("rating:>=4 kind:institution", {"rating": "4", "kind": "institution"}, {"institution:100", "institution:200"}),
    ("status:probation", {"accreditation_status": "probation"}, {"program:300-hit", "institution:400"}),
    ("kind:review rating:<=3", {"kind": "review", "rating": "<=3"}, {"review:r2", "review:r4"}),
])
def test_each_filter_in_query_language_and_as_parameter(searcher, typed, params, expected):
    assert set(ids(searcher.search(typed))) == expected
    assert set(ids(searcher.search("", filters=params))) == expected


def test_multiple_values_of_a_filter_are_ored_and_negation_excludes(searcher):
    both = searcher.search("", filters={"state": ["GA", "OH"], "kind": "institution"})
    assert set(ids(both)) == {"institution:100", "institution:300", "institution:400"}
    assert set(ids(searcher.search("kind:institution -state:GA"))) == {"institution:200", "institution:300"}


def test_bad_filter_values_in_the_query_become_messages(searcher):
    result = searcher.search("nursing state:ZZ foo:bar")
    assert any("state:ZZ" in m for m in result.messages)
    assert any("foo:" in m for m in result.messages)
    assert result.filters == {}


# -- facets --------------------------------------------------------------------------------------------


def test_facet_counts_and_selected_values(searcher):
    result = searcher.search("", filters={"kind": "program", "state": "GA"})
    facets = {name: {v.value: (v.count, v.selected) for v in values} for name, values in result.facets.items()}
    # a facet with an active filter counts as if that filter were off, so other states stay visible
    assert facets["state"] == {"GA": (2, True), "OH": (2, False), "CA": (2, False)}
    assert facets["kind"]["program"] == (2, True) and facets["kind"]["institution"] == (2, False)
    assert facets["degree_level"] == {"associate": (2, False)}
    assert facets["accreditor"] == {"CAHIIM": (1, False), "JRCERT": (1, False)}
    assert result.kind_counts == {"career": 0, "institution": 2, "program": 2, "review": 2}
    labels = {v.value: v.label for v in result.facets["state"]}
    assert labels["GA"] == "Georgia"


def test_rating_facet_counts_bands_cumulatively(searcher):
    result = searcher.search("", filters={"kind": "review", "rating": "4"})
    bands = {v.value: (v.count, v.selected) for v in result.facets["rating"]}
    assert bands == {"4": (2, True), "3": (3, False), "2": (4, False), "1": (4, False)}
    assert result.total == 2


def test_kind_counts_ignore_the_kind_filter(searcher):
    result = searcher.search("health information", filters={"kind": "program"})
    assert all(h.kind == "program" for h in result.hits)
    assert result.kind_counts["career"] >= 1 and result.kind_counts["program"] == result.total


# -- near me ----------------------------------------------------------------------------------------------


def test_near_zip_code_filters_by_radius_and_sorts_by_distance(searcher):
    result = searcher.search("", near="30303", radius=25, sort="distance")
    assert result.near["label"].startswith("30303") and result.near["radius_miles"] == 25
    assert set(ids(result)) == {"institution:100", "institution:400", "program:100-hit", "program:400-rad",
                                "review:r1", "review:r2"}
    distances = [h.distance_miles for h in result.hits]
    assert distances == sorted(distances) and all(0 < d <= 25 for d in distances)
    assert ids(result)[0] in ("institution:400", "program:400-rad")  # Atlanta Tech is nearer downtown


def test_near_city_and_lat_lon_and_query_language(searcher):
    by_city = searcher.search("", filters={"kind": "institution"}, near="Columbus, OH", radius=10)
    assert ids(by_city) == ["institution:300"] and by_city.hits[0].distance_miles < 10
    by_point = searcher.search("", filters={"kind": "institution"}, near="34.07,-118.44", radius=5)
    assert ids(by_point) == ["institution:200"]
    typed = searcher.search("near:30303 kind:institution")
    assert set(ids(typed)) == {"institution:100", "institution:400"} and typed.near is not None
    assert searcher.search("", filters={"kind": "institution"}, near="30303", radius=1).total == 0


def test_radius_without_near_is_ignored(searcher):
    assert searcher.search("parking", radius=10).total == 1


# -- sorting and paging ----------------------------------------------------------------------------------


def test_sort_orders(searcher):
    careers = searcher.search("", filters={"kind": "career"}, sort="pay")
    assert ids(careers) == ["career:15-1252", "career:29-2034", "career:29-1031", "career:29-2072"]
    by_name = searcher.search("", filters={"kind": "institution"}, sort="name")
    assert [h.title for h in by_name.hits] == sorted(h.title for h in by_name.hits)
    by_rating = searcher.search("", filters={"kind": "review"}, sort="rating")
    assert [h.fields["rating"] for h in by_rating.hits] == [5, 4, 3, 2]
    by_date = searcher.search("", filters={"kind": "review"}, sort="date")
    assert [h.fields["date"] for h in by_date.hits] == ["2025-03-03", "2025-02-01", "2024-11-05", "2023-08-20"]
    relevance = searcher.search("dietetics")
    assert [h.score for h in relevance.hits] == sorted((h.score for h in relevance.hits), reverse=True)


def test_pagination_and_per_page_cap(searcher):
    everything = searcher.search("", per_page=50)
    assert everything.total == 18 and len(everything.hits) == 18
    pages = [searcher.search("", page=p, per_page=5) for p in (1, 2, 3, 4)]
    assert [len(p.hits) for p in pages] == [5, 5, 5, 3] and pages[0].pages == 4
    assert sum((ids(p) for p in pages), []) == ids(everything)
    assert searcher.search("", page=99).hits == []
    capped = Searcher(index_dir=searcher.store.root, max_per_page=7).search("", per_page=1000)
    assert capped.per_page == 7 and len(capped.hits) == 7


# -- autocomplete --------------------------------------------------------------------------------------------


def test_suggest_completes_names_and_aliases(searcher):
    entries = searcher.suggest("radiol")
    assert entries[0]["id"] == "career:29-2034" and entries[0]["detail_url"] == "/careers/29-2034"
    assert searcher.suggest("x-ray")[0]["matched_alias"] == "X-ray technician"
    assert [e["title"] for e in searcher.suggest("georgia pied")] == ["Georgia Piedmont Technical College"]
    assert searcher.suggest("ucl")[0]["id"] == "institution:200"
    assert searcher.suggest("") == [] and len(searcher.suggest("a", limit=2)) <= 2


# -- careers to programs ----------------------------------------------------------------------------------------


def test_programs_for_a_career_follow_its_fields_of_study(searcher):
    result = searcher.programs_for_career("29-2072")
    assert result.total == 3 and all(h.kind == "program" for h in result.hits)
    # HIT (the first field) before HIM; accredited before probation
    assert ids(result) == ["program:100-hit", "program:300-hit", "program:200-him"]
    assert result.filters["field_of_study"][:2] == ["Health Information Technology", "Health Information Management"]
    online = searcher.programs_for_career("29-2072", {"online": "yes"})
    assert ids(online) == ["program:100-hit"]
    in_ohio = searcher.programs_for_career("29-2072", {"state": "OH", "degree": "associate"})
    assert ids(in_ohio) == ["program:300-hit"]
    # other states' counts keep the degree filter: UCLA's HIM program is a bachelor's
    assert {v.value: v.count for v in in_ohio.facets["state"]} == {"OH": 1, "GA": 1}
    assert searcher.programs_for_career("29-2034").hits[0].id == "program:400-rad"
    missing = searcher.programs_for_career("00-0000")
    assert missing.total == 0 and missing.messages
    with pytest.raises(SearchError):
        searcher.programs_for_career("29-2072", {"state": "nowhere"})
    links = searcher.career_links("29-2072")
    assert "CAHIIM" in links["accreditors"]


# -- lifecycle ------------------------------------------------------------------------------------------------


def test_module_functions_share_one_searcher_per_index(built):
    reset_searchers()
    try:
        first = get_searcher(built)
        assert get_searcher(built) is first
        assert search("parking", settings=built).total == 1
        assert suggest("medical", settings=built)[0]["kind"] == "career"
        assert programs_for_career("29-1031", settings=built).total == 2
    finally:
        reset_searchers()


def test_searcher_is_thread_safe(searcher):
    errors: list[BaseException] = []
    totals: list[int] = []

    def work() -> None:
        try:
            for q in ("health information", "parking", "x-ray tech", "", "UCLA"):
                totals.append(searcher.search(q, filters={"kind": "program"} if not q else None).total)
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(totals) == 30


def test_status_reports_the_open_generation(searcher):
    status = searcher.status()
    assert status["state"] == "ok" and status["doc_count"] == 18 and status["by_kind"]["program"] == 6


# -- ranking details -----------------------------------------------------------------------------------------


def test_caches_do_not_change_answers(searcher):
    first = searcher.search("health information", filters={"state": ["GA", "OH"]})
    again = searcher.search("health information", filters={"state": ["GA", "OH"]})
    searcher.drop_query_caches()
    cold = searcher.search("health information", filters={"state": ["GA", "OH"]})
    assert ids(first) == ids(again) == ids(cold) and first.total == cold.total
    assert [round(h.score, 6) for h in first.hits] == [round(h.score, 6) for h in cold.hits]


def test_every_relevance_setting_runs(searcher):
    from indexer.parse import DEFAULT_RELEVANCE, PLAIN_BM25

    for relevance in [PLAIN_BM25, *(DEFAULT_RELEVANCE.without(f) for f in
                                    ("field_boosts", "phrase_boost", "synonyms", "matching", "fuzzy", "kind_hints"))]:
        result = searcher.search("x-ray tech programs", relevance=relevance)
        assert result.total >= 1
    # "RHIA" (the HIM credential) finds the HIM program only through the synonym table
    assert "program:200-him" in ids(searcher.search("RHIA"))
    assert searcher.search("RHIA", relevance=DEFAULT_RELEVANCE.without("synonyms")).total == 0


def test_exact_name_outranks_partial_names(searcher):
    assert ids(searcher.search("Atlanta Technical College"))[0] == "institution:400"
    assert ids(searcher.search("software developers"))[0] == "career:15-1252"


def test_program_words_favour_programs_and_program_filters_list_programs_first(searcher):
    assert searcher.search("online dietetics programs").hits[0].kind == "program"
    browse = searcher.search("accreditor:CAHIIM")
    assert [h.kind for h in browse.hits[:3]] == ["program", "program", "program"]
    assert browse.hits[0].kind == "program" and any(h.kind == "institution" for h in browse.hits)


def test_words_close_together_score_higher():
    from indexer.rank import window_closeness

    assert window_closeness("The financial aid office was helpful", ["financi", "aid", "offic"]) == 1.0
    spread = window_closeness("financial questions went to an office that gave aid", ["financi", "aid", "offic"])
    assert 0 < spread < 0.6
    assert window_closeness("only financial", ["financi", "aid"]) == 0.0


def test_a_sync_is_visible_to_an_open_searcher_at_once(corpus):
    from indexer.build import rebuild, sync
    from model.items import Review

    settings, catalog = corpus
    rebuild(settings)
    s = Searcher(settings)
    assert s.search("trombone").total == 0
    catalog.upsert(Review(url="https://reviews.example/t", review_id="t1", institution_unitid="100", rating=5,
                          body="The trombone ensemble is wonderful."))
    sync(settings)
    found = s.search("trombone")
    assert ids(found) == ["review:t1"] and found.hits[0].fields["institution_name"]
    s.close()


def test_programs_for_career_rejects_bad_shorthands(searcher):
    with pytest.raises(SearchError) as info:
        searcher.programs_for_career("29-2072", {"online": "perhaps"})
    assert info.value.param == "online"
    assert searcher.programs_for_career("29-2072", {"online": "no"}).total == 3


def test_filter_by_school_city_and_soc(searcher):
    at_school = searcher.search("", filters={"institution_unitid": "300"})
    assert set(ids(at_school)) == {"program:300-hit", "program:300-diet", "review:r4"}
    assert set(ids(searcher.search("kind:institution city:atlanta"))) == {"institution:400"}
    assert ids(searcher.search("", filters={"soc_code": "29-2072"})) == ["career:29-2072"]
