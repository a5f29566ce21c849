"""Relevance is tested, not assumed: the judged queries over the sample site's ground truth.

The corpus (about 44,000 records) is built once and cached under pytest's cache folder, keyed by
a hash of the sample-site generator, the indexer and its data (see ``corpus.py``); the first run
takes a few minutes. ``bench/search_relevance.py`` prints the same scores as a table, against
plain BM25 and with each relevance feature turned off in turn.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.parse import DEFAULT_RELEVANCE, PLAIN_BM25
from tests.relevance.corpus import build_truth_index
from tests.relevance.judgments import JUDGMENTS
from tests.relevance.metrics import judge, run, summarize

MUST_PASS = [j for j in JUDGMENTS if j.must_pass]
"""Judgments the suite enforces; the measured ones (issue 17's new queries until tuned) are only scored."""

# One worker builds and reads the cached corpus; the first build can take several minutes.
pytestmark = [pytest.mark.xdist_group("relevance"), pytest.mark.timeout(3600)]

FEATURES = ("field_boosts", "phrase_boost", "synonyms", "matching", "fuzzy", "kind_hints", "places")
REQUIRED_CATEGORIES = {
    "career title", "job title", "abbreviation", "typo", "institution alias", "program + place", "filter",
    "accreditation status", "review", "one hit per program",
    # issue 17
    "name with or without The", "system vs campus", "brand name", "career title variant", "field + state",
    "field + city", "place word in a name",
}


@pytest.fixture(scope="session")
def relevance_settings(request, tmp_path_factory):
    """Settings whose catalog and index hold the truth corpus (built once, cached across runs)."""
    cache = getattr(request.config, "cache", None)
    # Without pytest's cache (``-p no:cacheprovider``) the corpus is built into this session's temp folder.
    root = Path(cache.mkdir("collegesearch-relevance")) if cache is not None else tmp_path_factory.mktemp("relevance")
    return build_truth_index(root)


@pytest.fixture(scope="session")
def relevance_searcher(relevance_settings):
    """A Searcher over the truth corpus."""
    from indexer.search import Searcher

    searcher = Searcher(relevance_settings)
    yield searcher
    searcher.close()


@pytest.fixture(scope="session")
def relevance_catalog(relevance_settings):
    """The truth corpus's catalog, read-only (observations and the fused records the index was built from)."""
    from catalog import Catalog

    with Catalog(relevance_settings.catalog_path, readonly=True) as catalog:
        yield catalog


def test_the_judged_set_covers_what_the_issue_asks():
    assert len(JUDGMENTS) >= 60
    assert REQUIRED_CATEGORIES <= {j.category for j in JUDGMENTS}
    assert all(j.top3 or j.top10 for j in JUDGMENTS)
    assert len({j.label for j in JUDGMENTS}) == len(JUDGMENTS)
    assert all(j.distinct for j in JUDGMENTS if j.category == "one hit per program")


@pytest.mark.parametrize("judgment", MUST_PASS, ids=[j.label for j in MUST_PASS])
def test_judged_query(relevance_searcher, judgment):
    result = relevance_searcher.search(judgment.q, dict(judgment.filters), per_page=10, near=judgment.near,
                                       radius=judgment.radius)
    outcome = judge(judgment, result.hits)
    assert not outcome.top3_missing, f"not in the top 3: {outcome.top3_missing}; got {outcome.ranked[:5]}"
    assert not outcome.top10_missing, f"not in the top 10: {outcome.top10_missing}; got {outcome.ranked}"
    assert not outcome.duplicates, f"shown twice in the top 10: {[str(d) for d in outcome.duplicates]}"


def test_issue_17_judged_queries_are_at_least_forty():
    issue_17 = {"name with or without The", "system vs campus", "brand name", "career title variant", "field + state",
                "field + city", "place word in a name"}
    assert len([j for j in JUDGMENTS if j.category in issue_17]) >= 40


def test_the_four_queries_of_issue_17_rank_the_way_the_student_means(relevance_searcher):
    # University of Texas: the system's campuses, not Texas A&M or DeVry-Texas
    texas = relevance_searcher.search("University of Texas", per_page=5).hits
    assert all(h.kind == "institution" and "University of Texas" in h.title for h in texas), [h.title for h in texas]
    # University of Michigan: Ann Arbor first, then the Dearborn and Flint campuses
    michigan = [h.id for h in relevance_searcher.search("University of Michigan", per_page=3).hits]
    assert michigan[0] == "institution:170976" and set(michigan[1:]) == {"institution:171137", "institution:171146"}
    # medical assistant: the career (the hub), then its programs
    assistant = relevance_searcher.search("medical assistant", per_page=5).hits
    assert assistant[0].id == "career:31-9092"
    assert all(h.kind == "program" and h.fields["field_of_study"] == "Medical Assisting" for h in assistant[1:])
    # nursing georgia: nursing programs in Georgia, the state read as a place
    nursing = relevance_searcher.search("nursing georgia", per_page=10)
    assert nursing.understood and nursing.understood["place"]["filters"] == {"state": ["GA"]}
    assert all(h.kind == "program" and h.fields["state"] == "GA" and h.fields["field_of_study"] == "Nursing"
               for h in nursing.hits[:3])
    assert all(h.fields.get("state") == "GA" for h in nursing.hits if h.kind in ("program", "institution"))
    # and a state alone, or in a school's name, stays a name search
    assert relevance_searcher.search("georgia").understood is None
    assert relevance_searcher.search("georgia tech").hits[0].id == "institution:139755"


def test_one_hit_per_program_queries_rank_programs_that_two_sources_list(relevance_searcher, relevance_catalog):
    # Otherwise a "one hit per program" judgment could not catch a program that comes back once per source.
    for judgment in (j for j in JUDGMENTS if j.category == "one hit per program"):
        result = relevance_searcher.search(judgment.q, dict(judgment.filters), per_page=10)
        program_ids = [h.id.split(":", 1)[1] for h in result.hits if h.kind == "program"]
        sources = relevance_catalog.fused.source_names("program", program_ids)
        listed_twice = [i for i in program_ids if {"collegenavigator", "directory"} <= set(sources.get(i, []))]
        assert listed_twice, f"{judgment.label}: no top-10 program is listed by both sources ({sources})"


def test_a_program_both_sources_list_is_one_index_document(relevance_searcher, relevance_catalog):
    from sample_site import truth

    pairs = truth.same_program_pairs(1)
    programs = truth.expected_items(1)["program"]
    assert len(pairs) >= 200
    every_program = relevance_searcher.search("", {"kind": "program"}, per_page=1)
    assert every_program.total == len(programs) - len(pairs)
    for cn_id, directory_id in sorted(pairs):
        entity = relevance_catalog.fused.current_id("program", cn_id)
        assert entity in (cn_id, directory_id), f"{cn_id}: fused into {entity}"
        assert relevance_catalog.fused.current_id("program", directory_id) == entity, f"{directory_id} is not {entity}"
        # Every document with the program's school, accreditor, level and field: exactly the fused one.
        p = programs[directory_id]
        same = relevance_searcher.search("", {
            "kind": "program", "institution_unitid": p["institution_unitid"], "accreditor": p["accreditor"],
            "degree_level": p["degree_level"], "field_of_study": p["field"],
        }, per_page=10)
        assert [h.id for h in same.hits] == [f"program:{entity}"], f"{cn_id} / {directory_id}"


def test_full_search_beats_plain_bm25_and_every_feature_pays_its_way(relevance_searcher):
    full = summarize(run(relevance_searcher, JUDGMENTS))
    plain = summarize(run(relevance_searcher, JUDGMENTS, PLAIN_BM25))
    assert full.ndcg10 > plain.ndcg10 and full.mrr > plain.mrr
    for feature in FEATURES:
        without = summarize(run(relevance_searcher, JUDGMENTS, DEFAULT_RELEVANCE.without(feature)))
        assert without.ndcg10 <= full.ndcg10, f"turning off {feature} improved nDCG@10"


def test_medical_records_specialists_lead_to_cahiim_health_information_programs(relevance_searcher):
    links = relevance_searcher.career_links("29-2072")
    assert links["fields_of_study"][0] == "Health Information Technology" and "CAHIIM" in links["accreditors"]
    result = relevance_searcher.programs_for_career("29-2072", per_page=10)
    assert result.total >= 100
    for hit in result.hits:
        assert hit.fields["accreditor"] == "CAHIIM"
        assert hit.fields["field_of_study"] == "Health Information Technology"
        assert hit.fields["accreditation_status"] == "accredited"
    in_georgia = relevance_searcher.programs_for_career("29-2072", {"state": "GA", "degree": "associate"})
    assert in_georgia.total >= 1 and all(h.fields["state"] == "GA" for h in in_georgia.hits)
    online = relevance_searcher.programs_for_career("29-2072", {"online": "yes"})
    assert online.total >= 1 and all(h.fields["delivery"] == "online" for h in online.hits)


def test_radiologic_technologists_lead_to_jrcert_radiography_programs(relevance_searcher):
    radiologic = relevance_searcher.search("Radiologic and MRI Technologists", {"kind": "career"}).hits[0]
    soc = radiologic.fields.get("soc_code") or radiologic.id.split(":", 1)[1]
    result = relevance_searcher.programs_for_career(soc, {"state": "GA"})
    assert result.total >= 5
    assert all(h.fields["field_of_study"] == "Radiography" and h.fields["accreditor"] == "JRCERT" for h in result.hits)


def _recorded_after() -> dict[str, tuple[float, float]]:
    """Each group's nDCG@10 and MRR "after" columns in ``RESULTS.md`` (the figures the closing note reports)."""
    recorded: dict[str, tuple[float, float]] = {}
    for line in (Path(__file__).parent / "RESULTS.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[1].isdigit():
            recorded[cells[0].strip("*")] = (float(cells[3]), float(cells[5]))
    return recorded


def test_each_group_scores_exactly_what_results_md_records(relevance_searcher):
    # a change that moves a judged query down inside its must-pass bounds (an IPEDS alias "Tech" once put a
    # Pharmacy program above the career for "pharmacy tech") fails here, and so does one that moves a query up
    # without RESULTS.md saying so: the figures the closing note reports are the ones the search gives
    recorded = _recorded_after()
    outcomes = run(relevance_searcher, JUDGMENTS)
    groups: dict[str, list] = {"all": outcomes}
    for o in outcomes:
        groups.setdefault(o.judgment.category, []).append(o)
    assert set(recorded) == set(groups), "RESULTS.md's table and the judged groups differ"
    for name, members in groups.items():
        s = summarize(members)
        ndcg, mrr = recorded[name]
        assert round(s.ndcg10, 3) == ndcg and round(s.mrr, 3) == mrr, (
            f"{name}: nDCG@10 {s.ndcg10:.3f} and MRR {s.mrr:.3f}, RESULTS.md records {ndcg:.3f} and {mrr:.3f}")
