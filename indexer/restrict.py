"""What the filters and the near-me radius allow, as docnum masks (``Restriction``).

The masks are built from the snapshot's facet value masks, and the rating and coordinate columns
of each segment (their sorted coordinates and rating ranges are kept per segment, so they survive
index syncs); a filter's mask is remembered per generation, so it costs one AND per search.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import Any

from indexer import geo
from indexer.filters import parse_rating
from indexer.postings import IndexCache, SegmentView, iter_bits, mask_of
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


def geo_points(cache: IndexCache, view: SegmentView) -> tuple[array, array, array]:
    """A segment's latitudes (sorted), longitudes and local docnums of the docs with coordinates (kept across syncs)."""
    def build() -> tuple[array, array, array]:
        lats = view.data.column(view.leaf, cache._io, "lat")
        lons = view.data.column(view.leaf, cache._io, "lon")
        points = sorted((lats[d], d) for d in range(view.count) if -90.0 <= lats[d] <= 90.0)
        return (array("d", (p[0] for p in points)), array("d", (lons[p[1]] for p in points)),
                array("I", (p[1] for p in points)))

    return view.data.cached("geo", build=build)  # type: ignore[no-any-return]


def within(snap: Snapshot, ws: Any, loc: geo.Location, miles: float) -> dict[int, float]:
    """Docnum -> distance in miles for every live doc within the radius."""
    cache = snap.index(ws)
    lat0, lat1, lon0, lon1 = geo.bounding_box(loc.lat, loc.lon, miles)
    found: dict[int, float] = {}
    for view in cache.segments:
        lats, lons, docnums = geo_points(cache, view)
        live = view.live
        for i in range(bisect_left(lats, lat0), bisect_right(lats, lat1)):
            lon = lons[i]
            if lon0 <= lon <= lon1 and live >> docnums[i] & 1:
                d = geo.miles_between(loc.lat, loc.lon, lats[i], lon)
                if d <= miles:
                    found[view.offset + docnums[i]] = d
    return found


def rating_mask(snap: Snapshot, ws: Any, values: list[str]) -> int:
    """The live docs whose rating falls in any of the given ranges (each segment's part kept across syncs)."""
    cache = snap.index(ws)
    ranges = [parse_rating(v) for v in values]
    mask = 0
    for view in cache.segments:
        def build(view: SegmentView = view) -> int:
            rating = view.data.column(view.leaf, cache._io, "rating")
            local = 0
            for band in view.data.terms(view.leaf, cache._io, "rating_band"):
                local |= view.data.postings(view.leaf, cache._io, "rating_band", band).mask
            return mask_of((d for d in iter_bits(local) if any(rng.contains(rating[d]) for rng in ranges)), view.count)

        mask |= view.data.cached("filter", "rating", tuple(values), build=build) << view.offset
    return mask & cache.live


def filter_set(snap: Snapshot, ws: Any, name: str, values: list[str]) -> int:
    """The mask of docs matching any of a filter's values."""
    def build() -> int:
        if name == "rating":
            return rating_mask(snap, ws, values)
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

    return snap.query_cached(("filter", name, tuple(values)), build)  # type: ignore[no-any-return]


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
