"""Record fusion, the pure part: which observations are one entity, and the one record made of them.

Observations are what each source said (rows of ``items``); an entity is the record users see.
``fusion_key`` groups observations: a program by institution (IPEDS unitid, after linkage),
accreditor, credential level and field of study (``model.program_fields``); an institution by its
unitid; a career by its SOC code; a review is its own entity. ``fuse`` picks one value per field:
the source that is the field's authority (``model.sources.field_rank``) wins, then the observation
that reported its value most recently. Disagreements on accreditation status and dates are kept
as conflicts. No SQL here: ``catalog.entities`` stores what this decides.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from model.accreditors import lookup_accreditor
from model.items import normalize_text_key
from model.program_fields import field_key
from model.sources import SOURCES, field_rank

FUSION_VERSION = "1"
"""Bump when the keys or the merge rules in this module change shape (forces a replay, see ``rules_fingerprint``)."""

CONFLICT_FIELDS: tuple[str, ...] = ("accreditation_status", "accredited_since", "next_review")
"""Fields whose disagreement between sources is shown to users (the ranked value wins meanwhile)."""

# Fields that say where a record came from rather than what it is: set from the primary observation.
_BOOKKEEPING = frozenset({"kind", "url", "source", "program_id"})

_SOURCE_ORDER = {name: i for i, name in enumerate(SOURCES)}


@dataclass(frozen=True)
class Observation:
    """One source's record as fusion needs it."""

    item_id: str
    source: str
    url: str
    data: dict[str, Any]
    last_changed: str
    """When the source last reported a different value (newer reports win ties)."""


@dataclass
class Fused:
    """One entity's fused fields, which observation gave each, and where sources disagree."""

    data: dict[str, Any]
    provenance: dict[str, str]
    """Field -> item id of the observation whose value was kept."""
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    primary: str = ""
    """Item id of the observation that gives the record its url and source."""


def rules_fingerprint() -> str:
    """A hash of everything that decides fusion (name rules, accreditor table, source authorities).

    Stored with the entities: when it changes (an upgrade, an edited rules file), the next fusion
    replays every observation under the new rules; ids stay, since they are kept per key.
    """
    from model.accreditors import DATA_FILE as ACCREDITORS
    from model.program_fields import DATA_FILE as PROGRAM_FIELDS

    digest = hashlib.sha256(FUSION_VERSION.encode())
    for path in (PROGRAM_FIELDS, ACCREDITORS):
        digest.update(path.read_bytes())
    digest.update(repr(sorted((s.name, s.authority) for s in SOURCES.values())).encode())
    return digest.hexdigest()[:16]


def accreditor_key(value: str | None) -> str:
    """One spelling per accreditor: its table label when the table knows it, else the normalised text."""
    if not value:
        return ""
    found = lookup_accreditor(value)
    return normalize_text_key(found.label if found else value)


def fusion_key(kind: str, item_id: str, data: dict[str, Any]) -> str:
    """Which entity an observation belongs to (equal keys are one entity).

    A program not linked to an institution, or without an accreditor, cannot be matched safely and
    keeps a key of its own, so it stays visible by itself and is never merged across schools.
    """
    if kind == "program":
        unitid = str(data.get("institution_unitid") or "").strip()
        accreditor = accreditor_key(data.get("accreditor_name") or data.get("accreditor"))
        subject = field_key(data.get("name"), data.get("field"))
        if unitid and accreditor and subject:
            level = normalize_text_key(data.get("degree_level"))
            return f"program|{unitid}|{accreditor}|{level}|{subject}"
        return f"program-alone|{data.get('source') or ''}|{item_id}"
    if kind == "institution" and data.get("unitid"):
        return f"institution|{data['unitid']}"
    if kind == "career" and data.get("soc_code"):
        return f"career|{data['soc_code']}"
    return f"{kind}|{item_id}"


def entity_id_candidates(kind: str, key: str, item_id: str) -> tuple[str, ...]:
    """Ids a new entity may take, best first: its first observation's own id, then ids derived from its key.

    The id is stored with the key, so it stays put as sources come and go: a second source listing
    the program joins it by key, and it keeps its id when the first source stops. Taking the first
    observation's id keeps the links people already have (a College Navigator program id, a
    directory's ``cahiim-<n>``) pointing at the same program; the derived ids are for when that id is
    taken (the observation's old entity still lives on through other sources).
    """
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()
    if kind == "program" and key.startswith("program|"):
        unitid = key.split("|", 2)[1]
        return item_id, f"{unitid}-p{digest[:10]}", f"{item_id}-{digest[:12]}"
    return item_id, f"{item_id}-{digest[:12]}"


def _filled(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _order(obs: Observation, name: str) -> tuple[int, str, int, str]:
    # Lower sorts first: the field's authority, then the newest report, then a fixed source order.
    newest_first = "".join(chr(0x10FFFF - ord(ch)) for ch in obs.last_changed)
    return field_rank(obs.source, name), newest_first, _SOURCE_ORDER.get(obs.source, len(_SOURCE_ORDER)), obs.item_id


def fuse(kind: str, entity_id: str, observations: Sequence[Observation]) -> Fused:
    """The one record an entity shows, built from its live observations (at least one)."""
    if not observations:
        raise ValueError("an entity needs at least one observation")
    # Field names in first-seen order (a dict keeps order and tests membership in one step).
    names = list(dict.fromkeys(k for obs in observations for k in obs.data if k not in _BOOKKEEPING))
    known = set(names)
    data: dict[str, Any] = {}
    provenance: dict[str, str] = {}
    chosen: dict[str, Observation] = {}
    for name in names:
        if name.endswith("_raw") and name[:-4] in known:
            continue  # the text a value was read from follows the value
        ranked = [o for o in observations if _filled(o.data.get(name))]
        if len(ranked) > 1:  # (most entities have one observation: nothing to rank, and _order is not cheap)
            ranked.sort(key=lambda o: _order(o, name))
        if not ranked:
            data[name] = next((o.data[name] for o in observations if name in o.data), None)
            continue
        chosen[name] = ranked[0]
        data[name] = ranked[0].data[name]
        provenance[name] = ranked[0].item_id
    for name in names:
        if name.endswith("_raw") and name[:-4] in known:
            source = chosen.get(name[:-4])
            data[name] = source.data.get(name) if source else None
            if source is not None:
                provenance[name] = source.item_id
    # The record's url and source come from one observation chosen by a fixed order, not by recency,
    # so a source re-reporting the same values does not flip them.
    primary = min(observations, key=lambda o: (_SOURCE_ORDER.get(o.source, len(_SOURCE_ORDER)), o.item_id))
    data["kind"] = kind
    data["url"] = primary.url
    data["source"] = primary.source
    if kind == "program":
        data["program_id"] = entity_id
    return Fused(data=data, provenance=provenance, conflicts=_conflicts(observations, chosen), primary=primary.item_id)


def _conflicts(observations: Sequence[Observation], chosen: dict[str, Observation]) -> list[dict[str, Any]]:
    found = []
    for name in CONFLICT_FIELDS:
        winner = chosen.get(name)
        if winner is None:
            continue
        others = [o for o in observations if _filled(o.data.get(name)) and o.data[name] != winner.data[name]]
        if others:
            found.append({
                "field": name,
                "value": winner.data[name],
                "source": winner.source,
                "item_id": winner.item_id,
                "others": [{"source": o.source, "item_id": o.item_id, "value": o.data[name]}
                           for o in sorted(others, key=lambda o: (o.source, o.item_id))],
            })
    return found
