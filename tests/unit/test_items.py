"""The item model: field names are the public contract; no Scrapy import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from model.items import Career, Institution, Program, Review, field_names, item_from_dict

CONTRACT = {
    "career": ["url", "source", "soc_code", "title", "also_known_as", "summary", "median_pay_annual",
               "median_pay_hourly", "pay_p10", "pay_p90", "entry_education", "work_experience", "training", "jobs",
               "projected_employment", "outlook_pct", "outlook_desc", "employment_change", "accreditors",
               "similar_occupations"],
    "institution": ["url", "source", "unitid", "name", "aliases", "city", "state", "zip", "latitude", "longitude",
                    "website", "control", "level", "online", "military_friendly"],
    "program": ["url", "source", "program_id", "institution_unitid", "institution_name", "name", "field",
                "degree_level", "accreditor", "accreditation_status", "accredited_since", "next_review", "delivery",
                "military_friendly", "state", "city"],
    "review": ["url", "source", "review_id", "institution_unitid", "institution_name", "rating", "body",
               "author_role", "category", "date", "origin"],
}


@pytest.mark.parametrize("kind", sorted(CONTRACT))
def test_contract_fields_present(kind):
    missing = set(CONTRACT[kind]) - set(field_names(kind))
    assert not missing, f"{kind} lacks {missing}"


def test_items_module_does_not_import_scrapy():
    code = "import sys, model.items, catalog; sys.exit(1 if 'scrapy' in sys.modules or 'twisted' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_round_trip_and_ids():
    career = Career(url="https://www.bls.gov/ooh/x.htm", soc_code="29-2072", title="Medical records specialists",
                    also_known_as=["Medical coder"])
    data = career.to_dict()
    assert data["kind"] == "career"
    assert item_from_dict(data) == career
    assert career.item_id == "29-2072"
    assert Institution(url="u", unitid="110635", name="UC Berkeley").item_id == "110635"
    assert Program(url="u", program_id="p1", name="HIT").item_id == "p1"
    assert Review(url="u", review_id="r1").item_id == "r1"
    # OOH pages without a SOC code are keyed by their slug, whatever host and port served them.
    assert Career(url="http://127.0.0.2:8800/ooh/transportation/water-transportation-occupations.htm",
                  source="bls_ooh").item_id == "ooh-water-transportation-occupations"
    assert Career(url="https://www.bls.gov/ooh/transportation/water-transportation-occupations.htm",
                  source="bls_ooh").item_id == "ooh-water-transportation-occupations"
    # Without a natural key the id is a stable hash of the URL.
    assert Career(url="http://a/b").item_id == Career(url="http://a/b").item_id != Career(url="http://a/c").item_id


def test_unknown_kind_rejected():
    with pytest.raises(ValueError, match="unknown item kind"):
        item_from_dict({"kind": "spaceship", "url": "u"})


def test_list_defaults_are_not_shared():
    a, b = Career(url="a"), Career(url="b")
    a.also_known_as.append("x")
    assert b.also_known_as == []
