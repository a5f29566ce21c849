"""The judging itself: a duplicate in the top 10 fails a distinct judgment, so the check cannot pass silently."""

from __future__ import annotations

from typing import Any

from indexer.results import Hit
from tests.relevance.judgments import programs
from tests.relevance.metrics import Judgment, duplicate_hits, judge, summarize

HIT_OH = programs(accreditor="CAHIIM", state="OH")


def program_hit(item_id: str, source: str, **fields: Any) -> Hit:
    """A program hit as the index returns it (the fields a College Navigator or directory row carries)."""
    data = {
        "program_id": item_id, "source": source, "institution_unitid": "204796", "accreditor": "CAHIIM",
        "degree_level": "associate", "field": "Health Information Technology",
        "field_of_study": "Health Information Technology", "state": "OH", **fields,
    }
    return Hit(id=f"program:{item_id}", kind="program", title=item_id, url="", detail_url="", snippet="",
               score=1.0, fields=data)


def test_one_program_listed_by_two_sources_is_a_duplicate_naming_both_ids():
    college_navigator = program_hit("204796-51.0707-02", "collegenavigator")
    directory = program_hit("cahiim-1234", "directory", degree_level="Associate", field="Health information technology")
    other = program_hit("204796-51.0706-03", "collegenavigator", degree_level="bachelor",
                        field="Health Information Management", field_of_study="Health Information Management")

    outcome = judge(Judgment("health information", "one hit per program", top3=(HIT_OH,)),
                    [college_navigator, other, directory])

    assert not outcome.top3_missing and not outcome.passed
    assert [(d.first, d.second) for d in outcome.duplicates] == [
        ("program:204796-51.0707-02", "program:cahiim-1234")]
    assert "same program" in str(outcome.duplicates[0])
    assert summarize([outcome]).distinct_pass == 0.0


def test_the_same_record_twice_is_a_duplicate():
    hit = program_hit("204796-51.0707-02", "collegenavigator")
    twin = program_hit("204796-51.0707-02", "collegenavigator")
    career = Hit(id="career:29-2072", kind="career", title="Medical Records Specialists", url="", detail_url="",
                 snippet="", score=1.0, fields={})

    found = duplicate_hits([career, hit, twin, career])

    assert [(d.first, d.second) for d in found] == [
        ("program:204796-51.0707-02", "program:204796-51.0707-02"), ("career:29-2072", "career:29-2072")]
    assert all("same source record" in d.reason for d in found)


def test_programs_that_differ_in_school_accreditor_level_or_field_are_distinct():
    base = program_hit("a", "collegenavigator")
    variants = [
        program_hit("b", "collegenavigator", institution_unitid="110662"),
        program_hit("c", "collegenavigator", accreditor="ACEN"),
        program_hit("d", "collegenavigator", degree_level="bachelor"),
        program_hit("e", "collegenavigator", field="Health Informatics", field_of_study="Health Informatics"),
    ]

    outcome = judge(Judgment("health information", "one hit per program", top3=(HIT_OH,)), [base, *variants])

    assert outcome.duplicates == [] and outcome.passed


def test_programs_without_a_school_are_not_merged_by_guess():
    loose = [program_hit(i, "directory", institution_unitid=None) for i in ("x", "y")]
    assert duplicate_hits(loose) == []


def test_a_judgment_that_allows_duplicates_is_not_failed_by_them():
    twins = [program_hit("204796-51.0707-02", "collegenavigator"), program_hit("cahiim-1234", "directory")]

    outcome = judge(Judgment("health information", "filter", top3=(HIT_OH,), distinct=False), twins)

    assert outcome.passed and outcome.duplicates == []
