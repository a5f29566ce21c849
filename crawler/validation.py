"""Item validation: which items are impossible, and the reason code each drop is counted under.

``validate_item`` returns a short reason (``missing_title``, ``bad_rating``...) or None; the
``ValidationPipeline`` (``crawler.pipelines``) raises ``InvalidItem`` with it, and the crawl
store counts the drop under ``collegesearch/dropped/<reason>``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from scrapy.exceptions import DropItem

from model.items import (
    ACCREDITATION_STATUSES,
    CONTROLS,
    DEGREE_LEVELS,
    DELIVERIES,
    LINK_STATUSES,
    REVIEW_ORIGINS,
    US_STATES,
    Career,
    Institution,
    Item,
    Program,
    Review,
)

_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")
_SOC_RE = re.compile(r"^\d{2}-\d{4}(\.\d{2})?$")
_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_ZIP_RE = re.compile(r"^\d{5}(-\d{4})?$")
MAX_PAY = 5_000_000
MAX_HOURLY = 2_500


def _valid_date(value: str) -> bool:
    if not _DATE_RE.match(value):
        return False
    parts = [int(p) for p in value.split("-")]
    try:
        date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        return False
    return 1800 <= parts[0] <= 2200


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # NaN check


def validate_item(item: Any) -> str | None:
    """Why an item must be dropped (a short reason code), or None when it is acceptable."""
    if not isinstance(item, Item):
        return "not_an_item"
    if not isinstance(item.url, str) or not item.url.startswith(("http://", "https://", "file:")):
        return "bad_url"
    for name in ("also_known_as", "accreditors", "similar_occupations", "aliases", "programs_offered"):
        value = getattr(item, name, None)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            return f"bad_{name}"
    if isinstance(item, Career):
        return _validate_career(item)
    if isinstance(item, Institution):
        return _validate_institution(item)
    if isinstance(item, Program):
        return _validate_program(item)
    if isinstance(item, Review):
        return _validate_review(item)
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_state(value: Any) -> str | None:
    if value is not None and value not in US_STATES:
        return "unknown_state"
    return None


def _check_dates(item: Any, *names: str) -> str | None:
    for name in names:
        value = getattr(item, name, None)
        if value is not None and (not isinstance(value, str) or not _valid_date(value)):
            return f"bad_date_{name}"
    return None


def _validate_career(item: Career) -> str | None:
    if _blank(item.title):
        return "missing_title"
    if item.soc_code is not None and not _SOC_RE.match(str(item.soc_code)):
        return "bad_soc_code"
    for name in ("median_pay_annual", "pay_p10", "pay_p90"):
        value = getattr(item, name)
        if value is None:
            continue
        if not _is_number(value):
            return "bad_pay"
        if value < 0:
            return "negative_pay"
        if value > MAX_PAY:
            return "implausible_pay"
    hourly = item.median_pay_hourly
    if hourly is not None:
        if not _is_number(hourly):
            return "bad_pay"
        if hourly < 0:
            return "negative_pay"
        if hourly > MAX_HOURLY:
            return "implausible_pay"
    ordered = [v for v in (item.pay_p10, item.median_pay_annual, item.pay_p90) if v is not None]
    if ordered != sorted(ordered):
        return "pay_percentiles_out_of_order"
    for name in ("jobs", "projected_employment"):
        value = getattr(item, name)
        if value is not None and (not _is_number(value) or value < 0):
            return f"bad_{name}"
    if item.employment_change is not None and not _is_number(item.employment_change):
        return "bad_employment_change"
    if item.outlook_pct is not None and (not _is_number(item.outlook_pct) or not -100 <= item.outlook_pct <= 1000):
        return "bad_outlook_pct"
    return _check_dates(item, "updated")


def _validate_institution(item: Institution) -> str | None:
    if _blank(item.name):
        return "missing_name"
    if item.unitid is not None and not str(item.unitid).isdigit():
        return "bad_unitid"
    if (reason := _check_state(item.state)) is not None:
        return reason
    if item.zip is not None and not _ZIP_RE.match(str(item.zip)):
        return "bad_zip"
    if item.latitude is not None and (not _is_number(item.latitude) or not -90 <= item.latitude <= 90):
        return "bad_coordinates"
    if item.longitude is not None and (not _is_number(item.longitude) or not -180 <= item.longitude <= 180):
        return "bad_coordinates"
    if item.control is not None and item.control not in CONTROLS:
        return "bad_control"
    if item.accreditation_status is not None and item.accreditation_status not in ACCREDITATION_STATUSES:
        return "bad_accreditation_status"
    return _check_dates(item, "accredited_since", "next_review")


def _validate_program(item: Program) -> str | None:
    if _blank(item.name):
        return "missing_name"
    if _blank(item.institution_name) and _blank(item.institution_unitid):
        return "missing_institution"
    if item.program_id is not None and not _ID_RE.match(str(item.program_id)):
        return "bad_id"
    if item.institution_unitid is not None and not str(item.institution_unitid).isdigit():
        return "bad_unitid"
    if item.degree_level is not None and item.degree_level not in DEGREE_LEVELS:
        return "bad_degree_level"
    if item.accreditation_status is not None and item.accreditation_status not in ACCREDITATION_STATUSES:
        return "bad_accreditation_status"
    if item.delivery is not None and item.delivery not in DELIVERIES:
        return "bad_delivery"
    if (reason := _check_state(item.state)) is not None:
        return reason
    return _check_dates(item, "accredited_since", "next_review")


def _validate_review(item: Review) -> str | None:
    if item.review_id is not None and not _ID_RE.match(str(item.review_id)):
        return "bad_id"
    if _blank(item.institution_name) and _blank(item.institution_unitid) and _blank(item.entity_id):
        return "missing_institution"
    if _blank(item.body):
        return "missing_body"
    if item.rating is None:
        return "missing_rating"
    if not _is_number(item.rating) or item.rating != int(item.rating) or not 1 <= item.rating <= 5:
        return "bad_rating"
    if item.origin not in REVIEW_ORIGINS:
        return "bad_origin"
    if item.link_status is not None and item.link_status not in LINK_STATUSES:
        return "bad_link_status"
    if item.institution_unitid is not None and not str(item.institution_unitid).isdigit():
        return "bad_unitid"
    if (reason := _check_state(item.institution_state)) is not None:
        return reason
    return _check_dates(item, "date")


class InvalidItem(DropItem):
    """An item dropped by validation; ``reason`` is the code counted in the run's stats."""

    def __init__(self, reason: str, item: Any) -> None:
        self.reason = reason
        url = getattr(item, "url", None) or "?"
        kind = getattr(item, "kind", "") or type(item).__name__
        super().__init__(f"{reason}: {kind} from {url}", log_level="WARNING")

