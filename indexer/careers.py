"""From a career to the accredited programs that lead to it: the request and the program order.

Programs in the career's first field of study come first, then accredited before probation or
withdrawn, then by their school's rating. ``Searcher.programs_for_career`` runs the search.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from indexer.filters import normalize_filters
from indexer.parse import parse_query
from indexer.postings import iter_bits
from indexer.request import Request, check_near, check_paging, check_sort
from indexer.restrict import rated
from indexer.results import SearchError
from indexer.snapshot import Snapshot
from indexer.vocab import as_list, normalize_yes_no

_STATUS_RANK = {
    "accredited": 0, "preaccredited": 1, "candidate": 1, "monitoring": 2, "warning": 2, "probation": 3,
    "show_cause": 3, "withdrawn": 4, "closed": 4, "no_longer_recognized": 4,
}


def check_soc_code(soc_code: Any) -> str:
    """A SOC code as given, stripped (a non-empty string of at most 64 characters)."""
    if not isinstance(soc_code, str) or not soc_code.strip() or len(soc_code) > 64:
        raise SearchError("soc_code must be a non-empty string", param="soc_code")
    return soc_code.strip()


def career_request(filters: Mapping[str, str | Sequence[str]] | None, page: Any, per_page: Any, sort: Any,
                   near: Any, radius: Any, max_per_page: int) -> Request:
    """The checked parameters of a career's program list (no query words; kind is always program).

    ``filters`` takes the search filters plus two shorthands: ``degree`` (= degree_level) and
    ``online`` ("yes" = delivery online).
    """
    given = dict(filters or {})
    if "degree" in given:
        given.setdefault("degree_level", given.pop("degree"))
    if "online" in given:
        online = given.pop("online")
        values = [v for v in as_list(online) if v.strip()]
        if values:
            flag = normalize_yes_no(values[0])
            if flag is None:
                raise SearchError(f"online must be yes or no, got {values[0][:40]!r}", param="online")
            if flag == "yes":
                given.setdefault("delivery", "online")
    given.pop("kind", None)
    page, per_page = check_paging(page, per_page, max_per_page)
    sort = check_sort(sort)
    active = normalize_filters(given)
    location, miles = check_near(near, radius)
    if sort == "distance" and location is None:
        raise SearchError("sort=distance needs near", param="sort")
    return Request(parse_query(""), page, per_page, sort, active, location=location, miles=miles)


def program_filters(active: dict[str, list[str]], fields: list[str]) -> dict[str, list[str]]:
    """The filters of a career's programs: programs only, in the career's fields unless a field was asked for."""
    active = {"kind": ["program"], **active}
    active.setdefault("field_of_study", list(fields))
    return active


def career_ranker(snap: Snapshot, ws: Any, fields: list[str]) -> Callable[[int], list[int]]:
    """The program order for a career: its first field first, accredited first, then the school's rating."""
    by_field = snap.value_sets(ws, "field_of_study")
    statuses = snap.value_sets(ws, "accreditation_status")
    _rated, ratings = rated(snap, ws)
    lowered = {k.lower(): v for k, v in by_field.items()}

    def rank(ids: int) -> list[int]:
        field_rank: dict[int, int] = {}
        for i, name in enumerate(fields):
            for d in iter_bits(lowered.get(name.lower(), 0) & ids):
                field_rank.setdefault(d, i)
        status_rank: dict[int, int] = {}
        for status, docs in statuses.items():
            for d in iter_bits(docs & ids):
                status_rank[d] = min(status_rank.get(d, 9), _STATUS_RANK.get(status, 5))
        return sorted(iter_bits(ids), key=lambda d: (field_rank.get(d, 99), status_rank.get(d, 5), -ratings[d], d))

    return rank
