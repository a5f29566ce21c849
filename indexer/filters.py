"""Filter values: one normalizer per filter, shared by URL parameters and the query language."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from indexer import vocab
from indexer.results import SearchError
from indexer.schema import FILTERS
from model.vocab import ACCREDITATION_STATUSES, DEGREE_LEVELS, DELIVERIES, KINDS, US_STATES

# Filters whose single parameter may list several values separated by commas ("state=GA,OH").
COMMA_LISTS = frozenset({"kind", "state", "degree_level", "accreditation_status", "delivery"})
MAX_VALUES = 20

_KIND_WORDS = {
    "career": "career", "careers": "career", "job": "career", "jobs": "career", "occupation": "career",
    "institution": "institution", "institutions": "institution", "college": "institution", "colleges": "institution",
    "school": "institution", "schools": "institution", "university": "institution", "universities": "institution",
    "program": "program", "programs": "program", "degree": "program", "degrees": "program",
    "review": "review", "reviews": "review",
}
# Filters whose values are a closed vocabulary: filter -> (normaliser, the refusal of a value it does not know).
_CHECKED: dict[str, tuple[Callable[[str], str | None], Callable[[str], str]]] = {
    "kind": (lambda text: _KIND_WORDS.get(text.lower()), lambda text: f"kind must be one of {', '.join(KINDS)}, got {text!r}"),
    "state": (vocab.normalize_state,
              lambda text: f"{text!r} is not a US state or territory (use a two-letter code such as GA)"),
    "degree_level": (vocab.normalize_degree,
                     lambda text: f"degree must be one of {', '.join(DEGREE_LEVELS)}, got {text!r}"),
    "accreditation_status": (vocab.normalize_status,
                             lambda text: f"accreditation status must be one of {', '.join(ACCREDITATION_STATUSES)}, got {text!r}"),
    "delivery": (vocab.normalize_delivery, lambda text: f"delivery must be one of {', '.join(DELIVERIES)}, got {text!r}"),
    "military_friendly": (vocab.normalize_yes_no, lambda text: f"military_friendly must be yes or no, got {text!r}"),
}
_RATING = re.compile(r"^(?:(>=|=>|>|<=|=<|<|=)?\s*(\d(?:\.\d+)?)\s*(\+|\s*stars?)?|(\d(?:\.\d+)?)\s*-\s*(\d(?:\.\d+)?))$")


@dataclass(frozen=True)
class RatingRange:
    """Inclusive bounds on a star rating."""

    low: float | None
    high: float | None

    def contains(self, value: float | None) -> bool:
        """Whether a rating falls in the range."""
        if value is None:
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


def normalize_value(name: str, value: str) -> str:
    """The canonical form of one filter value; ValueError with a user-facing message if it is not valid."""
    text = " ".join(str(value).split())
    if not text:
        raise ValueError(f"{name} is empty")
    if name in _CHECKED:
        normalise, refusal = _CHECKED[name]
        canonical = normalise(text)
        if canonical is None:
            raise ValueError(refusal(text))
        return canonical
    if name == "accreditor":
        return vocab.canonical_accreditor(text) or text
    if name == "rating":
        rng = parse_rating(text)
        return format_rating(rng)
    if name == "field_of_study":
        return vocab.canonical_field(text) or text
    if name == "city":
        return text.lower()
    return text


def parse_rating(text: str) -> RatingRange:
    """A rating filter: "4" or "4+" or ">=4" (at least 4), "<=2", ">3.5", "2-4"."""
    m = _RATING.match(str(text).strip().lower())
    if not m:
        raise ValueError(f"rating must look like 4, >=4, <=2 or 2-4 (stars from 1 to 5), got {str(text)[:40]!r}")
    if m.group(4) is not None:
        low, high = float(m.group(4)), float(m.group(5))
        rng = RatingRange(min(low, high), max(low, high))
    else:
        op, number = m.group(1) or ">=", float(m.group(2))
        if op == "=" and m.group(3) is None and not m.group(1):
            op = ">="
        # ">3" and "<3" are read as strict: nudge by less than the smallest rating step
        rng = {
            ">=": RatingRange(number, None), "=>": RatingRange(number, None), ">": RatingRange(number + 1e-6, None),
            "<=": RatingRange(None, number), "=<": RatingRange(None, number), "<": RatingRange(None, number - 1e-6),
            "=": RatingRange(number, number),
        }[op]
    for bound in (rng.low, rng.high):
        if bound is not None and (math.isnan(bound) or not 0 <= bound <= 5.000001):
            raise ValueError("rating must be between 1 and 5 stars")
    return rng


def format_rating(rng: RatingRange) -> str:
    """The canonical text of a rating range ("4" means 4 stars and up)."""
    def num(x: float) -> str:
        return f"{round(x, 2):g}"

    if rng.high is None and rng.low is not None:
        return num(rng.low)
    if rng.low is None and rng.high is not None:
        return f"<={num(rng.high)}"
    if rng.low is not None and rng.high is not None:
        return f"{num(rng.low)}-{num(rng.high)}"
    return "0"


def normalize_filters(filters: Mapping[str, str | Sequence[str] | None] | None) -> dict[str, list[str]]:
    """Validate filter parameters: unknown names or invalid values raise SearchError (the web app answers 400)."""
    result: dict[str, list[str]] = {}
    if not filters:
        return result
    if not isinstance(filters, Mapping):
        raise SearchError("filters must be a mapping of filter name to value(s)", param="filters")
    for name, raw in filters.items():
        if name not in FILTERS:
            raise SearchError(
                f"unknown filter {name!r}; filters are {', '.join(FILTERS)}", code="unknown_filter", param=str(name)
            )
        values: list[str] = []
        for item in vocab.as_list(raw):
            parts = item.split(",") if name in COMMA_LISTS else [item]
            values.extend(p.strip() for p in parts if p.strip())
        if len(values) > MAX_VALUES:
            raise SearchError(f"too many values for {name} (at most {MAX_VALUES})", param=name)
        for value in values:
            try:
                canonical = normalize_value(name, value)
            except ValueError as exc:
                raise SearchError(str(exc), code="bad_filter_value", param=name) from None
            bucket = result.setdefault(name, [])
            if canonical not in bucket:
                bucket.append(canonical)
    return result


def facet_label(name: str, value: str) -> str | None:
    """A human label for a facet value when the value alone is terse."""
    if name == "state":
        return US_STATES.get(value)
    if name == "rating":
        return f"{value}+ stars" if value.replace(".", "").isdigit() else f"{value} stars"
    if name == "military_friendly":
        return {"yes": "Military friendly", "no": "Not military friendly"}.get(value)
    if name == "accreditation_status":
        return value.replace("_", " ").capitalize()
    if name == "accreditor":
        return vocab.accreditor_name(value)
    if name in ("degree_level", "delivery", "kind"):
        return value.capitalize()
    return None
