"""The program-name normaliser on the real names the sources use (DAPIP names on College Navigator, CAHIIM's fields)."""

from __future__ import annotations

import re
from itertools import combinations

import pytest

from model import program_fields
from model.program_fields import field_key, field_rules
from sample_site.institutions import AWARD_LEVEL, CAHIIM_KINDS, field_of
from sample_site.program_types import PROGRAM_TYPES

# DAPIP's program names as College Navigator prints them (real data, copied into the sample site).
REAL_NAMES = sorted({name for _agency, name, *_rest in PROGRAM_TYPES} | {name for name, *_ in CAHIIM_KINDS.values()})


@pytest.mark.parametrize("kind", sorted(CAHIIM_KINDS))
def test_college_navigator_and_the_cahiim_directory_name_one_program_the_same(kind):
    name, _award, _cip = CAHIIM_KINDS[kind]
    # The directory prints the field only ("Health Information Technology"), College Navigator the DAPIP name.
    assert field_key(name) == field_key(field_of(name)) != ""


def test_every_program_code_in_the_real_names_is_in_the_table():
    codes = {m for name in REAL_NAMES for m in re.findall(r"\(([A-Z][A-Z0-9]*)\)", name)}
    assert codes and codes <= set(field_rules().codes), sorted(codes - set(field_rules().codes))


def test_programs_one_accreditor_runs_under_one_heading_stay_apart():
    # Same agency, overlapping credential levels: fusion would merge them if their keys agreed.
    by_agency: dict[str, list[tuple[str, set[str]]]] = {}
    for agency, name, _kinds, awards, *_ in PROGRAM_TYPES:
        by_agency.setdefault(agency, []).append((name, {AWARD_LEVEL[a] for a in awards}))
    clashes = [(a, x, y) for a, rows in by_agency.items() for (x, lx), (y, ly) in combinations(rows, 2)
               if lx & ly and field_key(x) == field_key(y)]
    assert not clashes
    assert field_key("Radiologic Technology (RAD) - Programs for radiographers") != field_key(
        "Radiologic Technology (RADTT) - Programs for radiation therapists")


def test_spelling_and_level_words_do_not_matter_but_subjects_do():
    assert field_key("Health Information Management (HIMM) - Master's degree programs") == field_key(
        "Health Information Management")
    assert field_key("Associate Degree Nursing Programs") == field_key("Nursing")
    assert field_key("Art & Design") == field_key("art and design")
    assert field_key("Health Informatics") != field_key("Health Information Management")
    assert field_key(None, "Dental Hygiene") == field_key("Dental Hygiene (DH)")
    assert field_key("") == field_key(None) == ""


def test_an_unknown_code_stays_in_the_key():
    assert field_key("Imaging (ZZQ) - Programs") == "imaging zzq"
    assert field_key("Imaging (ZZQ) - Programs") != field_key("Imaging (ZZR) - Programs")


def test_a_broken_rules_file_is_a_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "program_fields.csv"
    bad.write_text("rule,match,field\nsynonym,x,y\n", encoding="utf-8")
    monkeypatch.setattr(program_fields, "DATA_FILE", bad)
    field_rules.cache_clear()
    try:
        with pytest.raises(ValueError, match="unknown rule 'synonym'"):
            field_rules()
    finally:
        field_rules.cache_clear()
