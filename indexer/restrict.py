"""What the filters and the near-me radius allow, as docnum masks (``Restriction``).

The masks are built from the snapshot's per-generation data (facet values, the rating column,
the sorted coordinates) and remembered per generation, so a filter costs one AND per search.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import Any

from indexer import geo
from indexer.filters import parse_rating
from indexer.postings import iter_bits, mask_of
from indexer.schema import FACET_FIELDS
from indexer.snapshot import Snapshot

EXACT_FILTERS = frozenset({"city", "institution_unitid", "soc_code"})
"""Filters with many distinct values: their masks are read per value asked for, not per field."""


def rated(snap: Snapshot, ws: Any) -> tuple[int, Any]:
    """(mask of the docs that have a rating, the rating column)."""
    def build() -> tuple[int, Any]:
        mask = 0
        for m in snap.value_sets(ws, "rating_band").values():
            mask |= m
        return mask, snap.index(ws).column("rating")

    return snap.cached("rated", build)


def geo_points(snap: Snapshot, ws: Any) -> tuple[array, array, array]:
    """Latitudes (sorted), longitudes and docnums of the docs with coordinates (arrays: cheap to keep)."""
    def build() -> tuple[array, array, array]:
        cache = snap.index(ws)
        lats, lons = cache.column("lat"), cache.column("lon")
        points = sorted((lats[d], d) for d in iter_bits(snap.live(ws)) if -90.0 <= lats[d] <= 90.0)
        return (array("d", (p[0] for p in points)), array("d", (lons[p[1]] for p in points)),
                array("I", (p[1] for p in points)))

    return snap.cached("geo", build)


def within(snap: Snapshot, ws: Any, loc: geo.Location, miles: float) -> dict[int, float]:
    """Docnum -> distance in miles for every doc within the radius."""
    lats, lons, docnums = geo_points(snap, ws)
    lat0, lat1, lon0, lon1 = geo.bounding_box(loc.lat, loc.lon, miles)
    found: dict[int, float] = {}
    for i in range(bisect_left(lats, lat0), bisect_right(lats, lat1)):
        lon = lons[i]
        if lon0 <= lon <= lon1:
            d = geo.miles_between(loc.lat, loc.lon, lats[i], lon)
            if d <= miles:
                found[docnums[i]] = d
    return found


def filter_set(snap: Snapshot, ws: Any, name: str, values: list[str]) -> int:
    """The mask of docs matching any of a filter's values."""
    def build() -> int:
        if name == "rating":
            rated_docs, rating = rated(snap, ws)
            ranges = [parse_rating(v) for v in values]
            return mask_of((d for d in iter_bits(rated_docs) if any(rng.contains(rating[d]) for rng in ranges)),
                           snap.size(ws))
        if name in EXACT_FILTERS:
            # many distinct values (a school's id, a city): read just the ones asked for
            cache = snap.index(ws)
            mask = 0
            for value in values:
                mask |= cache.postings(FACET_FIELDS.get(name, name), value).mask
            return mask
        sets = snap.value_sets(ws, FACET_FIELDS.get(name, name))
        # accreditor and field values are matched without regard to case ("cahiim" = "CAHIIM")
        lowered = {k.lower(): v for k, v in sets.items()} if name in ("accreditor", "field_of_study") else sets
        mask = 0
        for value in values:
            mask |= sets.get(value) or lowered.get(value.lower(), 0)
        return mask

    return snap.query_cached(("filter", name, tuple(values)), build)


class Restriction:
    """The active filters, the excluded values and the radius of one search: ``restriction(ids)`` narrows a set."""

    def __init__(self, snap: Snapshot, ws: Any, active: dict[str, list[str]], negative: dict[str, list[str]],
                 location: geo.Location | None, miles: float | None) -> None:
        self.distances = within(snap, ws, location, miles or geo.DEFAULT_RADIUS_MILES) if location else None
        """Docnum -> miles from the location (None without a location)."""
        self.near_mask = mask_of(self.distances, snap.size(ws)) if self.distances is not None else None
        self.filter_masks = {name: filter_set(snap, ws, name, values) for name, values in active.items()}
        self.excluded = 0
        for name, values in negative.items():
            self.excluded |= filter_set(snap, ws, name, values)

    def __call__(self, ids: int, skip: str | None = None) -> int:
        """The docs of ``ids`` that pass every filter (but the one named ``skip``) and the radius."""
        out = ids
        for name, mask in self.filter_masks.items():
            if name != skip:
                out &= mask
        if self.near_mask is not None:
            out &= self.near_mask
        return out & ~self.excluded if self.excluded else out
