"""What the compare page shows: up to four schools or four programs side by side, one row per fact.

``/compare`` renders it as one table and ``/api/compare`` returns it as JSON; both call
``compare_data()`` with the query string, so the page and its JSON twin cannot drift apart.
The selection lives only in the URL (``institutions=`` or ``programs=``, ids joined by commas).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import url_for

from catalog import Catalog
from indexer import vocab
from indexer.geo import LocationError, miles_between, resolve
from indexer.results import SearchError
from webapp.db import get_catalog
from webapp.index import get_search_service
from webapp.page_data import ID_CHARS
from webapp.records import institution_detail

log = logging.getLogger(__name__)

MAX_COLUMNS = 4
# Which query parameter names which kind; one kind per comparison.
PARAMS: dict[str, str] = {"institutions": "institution", "programs": "program"}
KNOWN_PARAMS = frozenset({*PARAMS, "zip"})
TOP_TOPICS = 3
MAX_CAREERS = 5


class CompareError(ValueError):
    """A comparison that cannot be built from the query string (a 400); the message says what to fix."""


@dataclass(frozen=True)
class Selection:
    """The kind and the ids a compare URL names (in the URL's order, duplicates dropped)."""

    kind: str
    param: str
    ids: tuple[str, ...]
    zip_code: str | None = None


def parse_selection(args: Mapping[str, str]) -> Selection:
    """Read ``institutions=`` or ``programs=`` (and ``zip=``); ``CompareError`` for anything malformed."""
    unknown = sorted(k for k in args if k not in KNOWN_PARAMS and not k.startswith("_"))
    if unknown:
        raise CompareError(f"unknown parameter {unknown[0]!r}; use institutions=ID,ID or programs=ID,ID "
                           "(and zip= for distances)")
    given = [p for p in PARAMS if p in args]
    if len(given) > 1:
        raise CompareError("compare either schools (institutions=) or programs (programs=), not both at once")
    if not given:
        raise CompareError("nothing to compare: add institutions=ID,ID or programs=ID,ID to the address")
    param = given[0]
    raw = args.get(param, "")
    parts = [p.strip() for p in raw.split(",")]
    if not raw.strip() or any(not p for p in parts):
        raise CompareError(f"{param} must be ids separated by commas, with no empty entries")
    for part in parts:
        if len(part) > 200 or not set(part) <= ID_CHARS:
            raise CompareError(f"{param}: {part[:40]!r} is not an id (ids use only letters, digits and . _ : -)")
    ids = tuple(dict.fromkeys(parts))
    if len(ids) > MAX_COLUMNS:
        raise CompareError(f"compare at most {MAX_COLUMNS} {param} at a time; this address names {len(ids)}")
    zip_code = (args.get("zip") or "").strip() or None
    if zip_code is not None and PARAMS[param] != "institution":
        raise CompareError("zip= gives distances to schools; it only goes with institutions=")
    return Selection(kind=PARAMS[param], param=param, ids=ids, zip_code=zip_code)


def compare_data(args: Mapping[str, str]) -> dict[str, Any]:
    """``{kind, columns, rows: [{field, label, values, differs}]}`` for the query string; ``CompareError`` if bad."""
    selection = parse_selection(args)
    cat = get_catalog()
    if selection.kind == "institution":
        columns, rows = _institutions(cat, selection)
    else:
        columns, rows = _programs(cat, selection)
    for column in columns:
        column["remove_url"] = _compare_url(selection, [i for i in selection.ids if i != column["id"]])
    return {
        "kind": selection.kind,
        "param": selection.param,
        "ids": list(selection.ids),
        "zip": selection.zip_code,
        "max_columns": MAX_COLUMNS,
        "columns": columns,
        "rows": rows,
    }


def _compare_url(selection: Selection, ids: list[str]) -> str | None:
    """The compare page with these ids (None when none would be left)."""
    if not ids:
        return None
    args: dict[str, Any] = {selection.param: ",".join(ids)}
    if selection.zip_code:
        args["zip"] = selection.zip_code
    return url_for("views.compare", **args)


def _row(field: str, label: str, values: list[Any]) -> dict[str, Any]:
    # Values are compared as canonical JSON: dicts and lists (a histogram, a list of careers) compare by content.
    distinct = {json.dumps(v, sort_keys=True, default=str) for v in values}
    return {"field": field, "label": label, "values": values, "differs": len(distinct) > 1}


def _missing(kind: str, ids: list[str]) -> CompareError:
    what = "school" if kind == "institution" else "program"
    plural = "" if len(ids) == 1 else "s"
    return CompareError(f"no {what}{plural} with id{plural} {', '.join(repr(i) for i in ids)}: "
                        f"remove {'it' if len(ids) == 1 else 'them'} from the address")


# -- schools -----------------------------------------------------------------------------------


def _place(city: Any, state: Any) -> str | None:
    text = ", ".join(str(p) for p in (city, state) if p)
    return text or None


def _institutions(cat: Catalog, selection: Selection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    details = {i: institution_detail(cat, i, per_page=1) for i in selection.ids}
    missing = [i for i, d in details.items() if d is None]
    if missing:
        raise _missing("institution", missing)
    found = [details[i] or {} for i in selection.ids]
    origin = None
    if selection.zip_code:
        try:
            origin = resolve(selection.zip_code)
        except LocationError as exc:
            raise CompareError(f"zip: {exc}") from None
    insts = [d["institution"] for d in found]
    columns = [{"id": i["id"], "title": i.get("name") or i["id"], "subtitle": _place(i.get("city"), i.get("state")),
                "url": url_for("views.institution", unitid=i["id"])} for i in insts]
    rows = [_row("location", "Location", [_place(i.get("city"), i.get("state")) for i in insts])]
    if origin is not None:
        rows.append(_row("distance_miles", f"Distance from {origin.label}", [
            round(miles_between(origin.lat, origin.lon, float(i["latitude"]), float(i["longitude"])), 1)
            if i.get("latitude") is not None and i.get("longitude") is not None else None for i in insts]))
    rows += [
        _row("control", "Control", [i.get("control") for i in insts]),
        _row("level", "Level", [i.get("level") for i in insts]),
        _row("accreditor", "Institutional accreditor", [i.get("accreditor") for i in insts]),
        _row("accreditation_status", "Accreditation status", [i.get("accreditation_status") for i in insts]),
        _row("online", "Online programs", [i.get("online") for i in insts]),
        _row("military_friendly", "Military friendly", [i.get("military_friendly") for i in insts]),
        _row("accredited_programs", "Accredited programs",
             [sum(1 for p in d["programs"] if p.get("accreditor")) for d in found]),
        _row("rating", "Student rating", [d["rating"] for d in found]),
        _row("review_topics", "Topics students mention most", [_top_topics(d) for d in found]),
    ]
    return columns, rows


def _top_topics(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """The review topics with the most reviews, most first (ties by name, so the order is stable)."""
    counts = Counter({c["value"]: c["count"] for c in detail["reviews"]["categories"]})
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"value": value, "count": count} for value, count in ranked[:TOP_TOPICS]]


# -- programs ----------------------------------------------------------------------------------


def _programs(cat: Catalog, selection: Selection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    stored = {i: cat.fused.get("program", i) for i in selection.ids}
    missing = [i for i, s in stored.items() if s is None]
    if missing:
        raise _missing("program", missing)
    # ``stored`` keeps the URL's order (ids are unique) and, past the check above, holds no None.
    progs = [{**item.data, "id": item.item_id} for item in stored.values() if item is not None]
    schools = _school_names(cat, progs)
    # Two programs often share a name ("Health Information Technology"): the school tells the columns apart.
    columns = [{"id": p["id"], "title": p.get("name") or p["id"], "subtitle": schools[p["id"]],
                "url": url_for("views.program", program_id=p["id"]), "institution_unitid": p.get("institution_unitid")}
               for p in progs]
    careers = _careers_for(progs)
    rows = [
        _row("institution", "School", [schools[p["id"]] for p in progs]),
        _row("accreditor", "Accreditor", [p.get("accreditor") for p in progs]),
        _row("accreditation_status", "Accreditation status", [p.get("accreditation_status") for p in progs]),
        _row("accredited_since", "Accredited since", [p.get("accredited_since") for p in progs]),
        _row("next_review", "Next review", [p.get("next_review") for p in progs]),
        _row("degree_level", "Degree level", [p.get("degree_level") for p in progs]),
        _row("delivery", "Delivery", [p.get("delivery") for p in progs]),
        _row("state", "State", [p.get("state") for p in progs]),
        _row("careers", "Leads to (median pay)", [careers[p["id"]] for p in progs]),
    ]
    return columns, rows


def _school_names(cat: Catalog, progs: list[dict[str, Any]]) -> dict[str, str | None]:
    """Each program's school name: the linked institution's, else the name the program's source gave."""
    names: dict[str, str | None] = {}
    for p in progs:
        inst = cat.fused.get("institution", str(p["institution_unitid"])) if p.get("institution_unitid") else None
        names[p["id"]] = (inst.data.get("name") if inst is not None else None) or p.get("institution_name")
    return names


def _careers_for(progs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The careers each program's field of study leads to, best paid first, from the index.

    The link between fields of study and careers is the indexer's (``vocab.career_links``, stored
    on each career document), so the compare table names the same careers a career page lists
    this program under. Without an index the row is empty rather than the page an error.
    """
    search = get_search_service().searcher.search
    by_field: dict[str, list[dict[str, Any]]] = {}
    found: dict[str, list[dict[str, Any]]] = {}
    for p in progs:
        field = vocab.canonical_field(p.get("field"), p.get("name"))
        if not field:
            found[p["id"]] = []
            continue
        if field not in by_field:
            by_field[field] = _career_hits(search, field)
        found[p["id"]] = by_field[field]
    return found


def _career_hits(search: Callable[..., Any], field: str) -> list[dict[str, Any]]:
    try:
        result = search("", {"kind": ["career"], "field_of_study": [field]}, sort="pay", per_page=MAX_CAREERS,
                        facets=False)
    except SearchError as exc:  # a field name the index does not know: no careers, not a broken page
        log.info("no careers for field %r: %s", field, exc)
        return []
    return [{"soc_code": h.fields.get("soc_code") or h.id.split(":", 1)[-1], "title": h.title,
             "median_pay_annual": h.fields.get("median_pay_annual"),
             "url": url_for("views.career", soc_code=h.fields.get("soc_code") or h.id.split(":", 1)[-1])}
            for h in result.hits]
