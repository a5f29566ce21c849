"""Facet counts of a result set: per value of each facet, and per kind for the result tabs."""

from __future__ import annotations

from typing import Any

from indexer.filters import facet_label
from indexer.restrict import Restriction
from indexer.results import FacetValue
from indexer.schema import FACET_FIELDS, FACETS, KIND_ORDER
from indexer.snapshot import Snapshot


def count_facets(snap: Snapshot, ws: Any, text_ids: int, matched: int, restrict: Restriction,
                 active: dict[str, list[str]]) -> dict[str, list[FacetValue]]:
    """Counts per facet value; a facet with an active filter counts as if that filter were off."""
    out: dict[str, list[FacetValue]] = {}
    for name in FACETS:
        base = restrict(text_ids, skip=name) if name in active else matched
        selected = set(active.get(name, []))
        values: list[FacetValue] = []
        sets = snap.value_sets(ws, FACET_FIELDS[name])
        if name == "rating":
            bands = {int(k): (base & s).bit_count() for k, s in sets.items() if k.isdigit()}
            for band in (4, 3, 2, 1):
                count = sum(n for b, n in bands.items() if b >= band)
                if count or str(band) in selected:
                    values.append(FacetValue(str(band), count, str(band) in selected, facet_label(name, str(band))))
            for value in selected - {"1", "2", "3", "4"}:
                values.append(FacetValue(value, 0, True, facet_label(name, value)))
        else:
            for value, s in sets.items():
                count = (base & s).bit_count()
                if count or value in selected:
                    values.append(FacetValue(value, count, value in selected, facet_label(name, value)))
            for value in selected - {v.value for v in values}:
                values.append(FacetValue(value, 0, True, facet_label(name, value)))
            if name == "kind":
                values.sort(key=lambda v: KIND_ORDER.index(v.value) if v.value in KIND_ORDER else 9)
            else:
                values.sort(key=lambda v: (-v.count, v.value))
        out[name] = values
    return out


def kind_counts(snap: Snapshot, ws: Any, text_ids: int, matched: int, restrict: Restriction) -> dict[str, int]:
    """Matches per kind as if the kind filter were off (the result tabs)."""
    base = restrict(text_ids, skip="kind") if "kind" in restrict.filter_masks else matched
    kinds = snap.value_sets(ws, "kind")
    return {k: (base & kinds.get(k, 0)).bit_count() for k in KIND_ORDER}
