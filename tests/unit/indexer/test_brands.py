"""A system's brand read from its campuses' names (``indexer.brands``), on IPEDS's own spellings."""

from __future__ import annotations

from indexer.brands import campus_part, flagship_base, flagship_titles, system_brand
from indexer.schema import StaticContext

# IPEDS 2023 names, as they are (the sample site's institution directory)
PENN_STATE = [
    "Pennsylvania State University-Penn State Altoona", "Pennsylvania State University-Penn State Berks",
    "Pennsylvania State University-Penn State Erie-Behrend College", "Pennsylvania State University-Penn State York",
    "Pennsylvania State University-Penn State Fayette- Eberly", "Pennsylvania State University-World Campus",
]
OHIO_STATE = ["Ohio State University-Lima Campus", "Ohio State University-Mansfield Campus",
              "Ohio State University-Marion Campus", "Ohio State University-Newark Campus"]


def test_a_flagship_is_named_by_its_main_campus_suffix() -> None:
    assert flagship_base("Pennsylvania State University-Main Campus") == "Pennsylvania State University"
    assert flagship_base("Ohio State University - Main Campus") == "Ohio State University"
    assert flagship_base("Pennsylvania State University-Penn State Altoona") is None
    assert flagship_base("Main Campus") is None and flagship_base("") is None


def test_a_campus_part_is_what_follows_the_system_name_and_a_dash() -> None:
    base = "Pennsylvania State University"
    assert campus_part("Pennsylvania State University-Penn State Altoona", base) == "Penn State Altoona"
    assert campus_part("Pennsylvania State University - World Campus", base) == "World Campus"
    assert campus_part("Pennsylvania State University-Main Campus", base) is None  # the flagship itself
    assert campus_part("Pennsylvania State University", base) is None
    assert campus_part("Pennsylvania State Universityx-Altoona", base) is None
    assert campus_part("Indiana University of Pennsylvania-Main Campus", base) is None


def test_the_brand_is_the_leading_words_most_campuses_share() -> None:
    assert system_brand("Pennsylvania State University", PENN_STATE) == "Penn State"
    # the campuses are named by place alone: no brand, however many there are
    assert system_brand("Ohio State University", OHIO_STATE) is None
    assert system_brand("University of New Mexico", ["University of New Mexico-Gallup Campus",
                                                     "University of New Mexico-Taos Campus"]) is None


def test_a_brand_needs_enough_campuses_and_a_word_that_says_something() -> None:
    two = PENN_STATE[:2]
    assert system_brand("Pennsylvania State University", two) is None  # two alike could be chance
    medicine = [f"Example University-College of {f} Campus" for f in ("Medicine", "Nursing", "Law", "Pharmacy")]
    assert system_brand("Example University", medicine) is None  # "College of" is no brand
    # a minority sharing words is not the system's brand
    mixed = [*PENN_STATE[:3], *(f"Pennsylvania State University-{p}" for p in ("Hershey", "Dickinson Law",
                                                                                  "College of Medicine", "Online"))]
    assert system_brand("Pennsylvania State University", mixed) is None
    # the brand must be followed by a place: a campus named only "Penn State" does not make it one
    bare = [f"Example State University-ESU {p}" for p in ("North", "South", "East")]
    assert system_brand("Example State University", bare) == "ESU"
    assert system_brand("Example State University", ["Example State University-ESU"] * 3) is None


def test_a_campus_names_the_flagships_it_could_belong_to() -> None:
    assert flagship_titles("Pennsylvania State University-Penn State Erie-Behrend College") == [
        "Pennsylvania State University-Main Campus", "Pennsylvania State University-Penn State Erie-Main Campus"]
    assert flagship_titles("Pennsylvania State University-Main Campus") == []
    assert flagship_titles("Purdue University") == []


def test_a_rebuild_context_finds_a_systems_campuses_among_all_names() -> None:
    names = ["Pennsylvania State University-Main Campus", *PENN_STATE, "Indiana University of Pennsylvania-Main Campus",
             "Pennsylvania College of Technology"]
    context = StaticContext(institutions={str(i): {"name": n} for i, n in enumerate(names)})
    assert context.campuses("Pennsylvania State University") == sorted(PENN_STATE)
    assert context.campuses("Indiana University of Pennsylvania") == []
