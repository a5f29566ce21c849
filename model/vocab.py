"""Controlled vocabularies: the values item fields may hold, the labels pages show for them, and US states.

The crawler normalises what pages print into these values and the index normalises filters and
queries into the same ones (see ``model.wording`` for the words that name them and
``model.accreditors`` for the accreditor table); ``tests/unit/test_vocabulary.py`` checks both
sides agree.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "ACCREDITATION_STATUSES",
    "CONTROLS",
    "DEGREE_LABELS",
    "DEGREE_LEVELS",
    "DELIVERIES",
    "DELIVERY_LABELS",
    "KINDS",
    "KIND_LABELS",
    "KIND_PLURALS",
    "Kind",
    "LINK_STATUSES",
    "REVIEW_ORIGINS",
    "STATE_NAME_VARIANTS",
    "STATUS_LABELS",
    "US_STATES",
    "state_code",
]

# --------------------------------------------------------------------------- kinds of document

Kind = Literal["career", "institution", "program", "review"]
KINDS: tuple[str, ...] = ("career", "institution", "program", "review")
KIND_LABELS: dict[str, str] = {
    "career": "Career", "institution": "College", "program": "Program", "review": "Review",
}
KIND_PLURALS: dict[str, str] = {
    "career": "Careers", "institution": "Colleges", "program": "Programs", "review": "Reviews",
}

# --------------------------------------------------------------------------- programs and accreditation

DEGREE_LEVELS: tuple[str, ...] = ("certificate", "associate", "bachelor", "master", "doctoral")
DEGREE_LABELS: dict[str, str] = {
    "certificate": "Certificate",
    "associate": "Associate degree",
    "bachelor": "Bachelor's degree",
    "master": "Master's degree",
    "doctoral": "Doctoral degree",
}

ACCREDITATION_STATUSES: tuple[str, ...] = (
    "accredited",
    "preaccredited",
    "candidate",
    "probation",
    "warning",
    "show_cause",
    "monitoring",
    "withdrawn",
    "closed",
    "no_longer_recognized",
)
STATUS_LABELS: dict[str, str] = {
    "accredited": "Accredited",
    "preaccredited": "Pre-accredited",
    "candidate": "Candidate",
    "probation": "On probation",
    "warning": "Warning",
    "show_cause": "Show cause",
    "monitoring": "Monitoring",
    "withdrawn": "Accreditation withdrawn",
    "closed": "Closed",
    "no_longer_recognized": "Accreditor no longer recognized",
}

DELIVERIES: tuple[str, ...] = ("online", "campus", "hybrid")
DELIVERY_LABELS: dict[str, str] = {"online": "Online", "campus": "On campus", "hybrid": "Hybrid"}

# --------------------------------------------------------------------------- institutions and reviews

CONTROLS: tuple[str, ...] = ("public", "private nonprofit", "private for-profit")
REVIEW_ORIGINS: tuple[str, ...] = ("crawled", "user")
LINK_STATUSES: tuple[str, ...] = ("matched", "ambiguous", "unmatched")

# --------------------------------------------------------------------------- places

# Two-letter codes of the states, DC and the territories IPEDS covers.
US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "AS": "American Samoa", "FM": "Federated States of Micronesia", "GU": "Guam",
    "MH": "Marshall Islands", "MP": "Northern Mariana Islands", "PR": "Puerto Rico",
    "PW": "Palau", "VI": "Virgin Islands",
}

# Other names pages and people use for a state or territory (lower case).
STATE_NAME_VARIANTS: dict[str, str] = {
    "washington dc": "DC", "washington, dc": "DC", "washington d.c.": "DC", "washington, d.c.": "DC", "d.c.": "DC",
    "us virgin islands": "VI", "u.s. virgin islands": "VI", "virgin islands of the u.s.": "VI",
    "commonwealth of the northern mariana islands": "MP", "micronesia": "FM",
}


def _bare(key: str) -> str:
    return re.sub(r"\s+", " ", key.replace(".", "").replace(",", "")).strip()


_STATE_BY_NAME: dict[str, str] = {name.lower(): code for code, name in US_STATES.items()} | STATE_NAME_VARIANTS
_STATE_BY_BARE_NAME: dict[str, str] = {_bare(name): code for name, code in _STATE_BY_NAME.items()}


def state_code(text: str | None) -> str | None:
    """The two-letter code of a state (or DC, territory) code, name or variant; None if it names none.

    Case, surrounding dots and commas, and the dots and commas inside ("Washington, D.C.") are ignored.
    """
    key = (text or "").strip(" .,").lower()
    if not key:
        return None
    if len(key) == 2 and key.upper() in US_STATES:
        return key.upper()
    if key in _STATE_BY_NAME:
        return _STATE_BY_NAME[key]
    key = _bare(key)
    if len(key) == 2 and key.upper() in US_STATES:
        return key.upper()  # "D.C."
    return _STATE_BY_BARE_NAME.get(key)
