"""The validation pipeline: impossible items are dropped with a reason code; good ones pass."""

from __future__ import annotations

import pytest

from crawler.validation import InvalidItem, validate_item
from model.items import Career, Institution, Program, Review

URL = "http://127.0.0.2/x.htm"


def career(**kw):
    base = dict(url=URL, source="bls_ooh", soc_code="29-2072", title="Medical records specialists",
                median_pay_annual=48780, pay_p10=35010, pay_p90=79660, median_pay_hourly=23.45,
                jobs=194600, projected_employment=209700, outlook_pct=8.0, employment_change=15100)
    base.update(kw)
    return Career(**base)


def institution(**kw):
    base = dict(url=URL, source="collegenavigator", unitid="100654", name="Alabama A & M University",
                city="Normal", state="AL", zip="35762", latitude=34.78, longitude=-86.57, control="public")
    base.update(kw)
    return Institution(**base)


def program(**kw):
    base = dict(url=URL, source="directory", program_id="100654-abc", institution_name="Alabama A & M University",
                name="Health Information Management", degree_level="bachelor", accreditor="CAHIIM",
                accreditation_status="accredited", accredited_since="2015-06-01", delivery="campus", state="AL")
    base.update(kw)
    return Program(**base)


def review(**kw):
    base = dict(url=URL, source="reviews", review_id="r-1", institution_name="Alabama A&M", rating=4,
                body="Great instructors.", date="2024-05-01", institution_state="AL")
    base.update(kw)
    return Review(**base)


def test_good_items_pass() -> None:
    for item in (career(), institution(), program(), review()):
        assert validate_item(item) is None, item


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (review(rating=9), "bad_rating"),
        (review(rating=0), "bad_rating"),
        (review(rating=None), "missing_rating"),
        (review(body="   "), "missing_body"),
        (review(institution_name=None), "missing_institution"),
        (review(institution_state="ZZ"), "unknown_state"),
        (review(review_id="bad id/with slash"), "bad_id"),
        (review(date="2024-13-45"), "bad_date_date"),
        (career(median_pay_annual=-5), "negative_pay"),
        (career(median_pay_hourly=-1.0), "negative_pay"),
        (career(pay_p10=90000, pay_p90=50000), "pay_percentiles_out_of_order"),
        (career(median_pay_annual=99_000_000), "implausible_pay"),
        (career(title=""), "missing_title"),
        (career(soc_code="29.2072"), "bad_soc_code"),
        (career(outlook_pct=5000.0), "bad_outlook_pct"),
        (career(also_known_as="not a list"), "bad_also_known_as"),
        (institution(state="XX"), "unknown_state"),
        (institution(name=" "), "missing_name"),
        (institution(latitude=123.0), "bad_coordinates"),
        (institution(control="sort of public"), "bad_control"),
        (institution(unitid="12a"), "bad_unitid"),
        (program(degree_level="masterful"), "bad_degree_level"),
        (program(accreditation_status="great"), "bad_accreditation_status"),
        (program(delivery="carrier pigeon"), "bad_delivery"),
        (program(institution_name=None, institution_unitid=None), "missing_institution"),
        (program(next_review="next year"), "bad_date_next_review"),
        (program(url="ftp://x/y"), "bad_url"),
    ],
)
def test_impossible_values_have_reasons(item, reason: str) -> None:
    assert validate_item(item) == reason


def test_invalid_item_message_names_url_and_reason() -> None:
    exc = InvalidItem("bad_rating", review(rating=9))
    assert exc.reason == "bad_rating"
    assert "bad_rating" in str(exc) and URL in str(exc) and "review" in str(exc)


def test_not_an_item() -> None:
    assert validate_item({"url": URL}) == "not_an_item"
