"""Where "near" is: a ZIP code, "City, ST" or "lat,lon", resolved with the ``zipcodes`` package's data."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.vocab import normalize_state

EARTH_RADIUS_MILES = 3958.8
DEFAULT_RADIUS_MILES = 25.0
MAX_RADIUS_MILES = 500.0

_LATLON = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*[, ]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
_ZIP = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")
_lock = threading.Lock()
_tables: tuple[dict[str, tuple[float, float, str, str]], dict[tuple[str, str], tuple[float, float, str]],
               dict[str, tuple[tuple[float, float, str, str, int], ...]]] | None = None


class LocationError(ValueError):
    """A near-me location that cannot be resolved; the message says what is accepted."""


@dataclass(frozen=True)
class Location:
    """A resolved place."""

    label: str
    lat: float
    lon: float

    def to_dict(self, radius: float) -> dict[str, Any]:
        """JSON form for SearchResult.near."""
        return {"label": self.label, "lat": round(self.lat, 5), "lon": round(self.lon, 5), "radius_miles": radius}


_cache_path: Path | None = None
CACHE_NAME = "zipcodes-table.json"


def set_cache_path(path: Path | None) -> None:
    """Where the compact ZIP table is kept between processes (next to the index)."""
    global _cache_path
    _cache_path = path


def _zip_rows() -> dict[str, tuple[float, float, str, str]]:
    import zipcodes  # its data loads in seconds on a busy machine, so the result is cached on disk

    version = getattr(zipcodes, "__version__", "?")
    if _cache_path is not None:
        try:
            cached = json.loads(_cache_path.read_text(encoding="utf-8"))
            if cached.get("version") == version:
                return {z: (float(r[0]), float(r[1]), str(r[2]), str(r[3])) for z, r in cached["zips"].items()}
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            pass  # missing or unreadable: rebuild it from the package below
    rows: dict[str, tuple[float, float, str, str]] = {}
    for row in zipcodes.list_all():
        try:
            rows[row["zip_code"]] = (float(row["lat"]), float(row["long"]), row.get("city") or "", row.get("state") or "")
        except (KeyError, TypeError, ValueError):
            continue
    if _cache_path is not None:
        with contextlib.suppress(OSError):
            tmp = _cache_path.with_name(f"{_cache_path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"version": version, "zips": rows}), encoding="utf-8")
            os.replace(tmp, _cache_path)
    return rows


def _load() -> tuple[dict[str, tuple[float, float, str, str]], dict[tuple[str, str], tuple[float, float, str]],
                     dict[str, tuple[tuple[float, float, str, str, int], ...]]]:
    global _tables
    with _lock:
        if _tables is None:
            by_zip = _zip_rows()
            sums: dict[tuple[str, str], list[float]] = {}
            names: dict[tuple[str, str], str] = {}
            for lat, lon, city, state in by_zip.values():
                key = (city.lower(), state.upper())
                acc = sums.setdefault(key, [0.0, 0.0, 0.0])
                acc[0] += lat
                acc[1] += lon
                acc[2] += 1
                names[key] = city
            by_city = {k: (v[0] / v[2], v[1] / v[2], names[k]) for k, v in sums.items()}
            grouped: dict[str, list[tuple[float, float, str, str, int]]] = {}
            for (city, state), (lat, lon, name) in by_city.items():
                grouped.setdefault(city, []).append((lat, lon, name, state, int(sums[(city, state)][2])))
            # tuples, not lists: the garbage collector does not track tuples of plain values
            by_name = {city: tuple(options) for city, options in grouped.items()}
            _tables = (by_zip, by_city, by_name)
        return _tables


def warm(cache_path: Path | None = None) -> None:
    """Load the ZIP table now rather than on the first near-me search (and write its cache file)."""
    if cache_path is not None and _cache_path is None:
        set_cache_path(cache_path)
    _load()


def resolve(near: str) -> Location:
    """A Location for a ZIP code, "City, ST" / "City, State" or "lat,lon"; LocationError otherwise."""
    text = " ".join(str(near).split())
    if not text:
        raise LocationError("near is empty; give a ZIP code, a city such as “Atlanta, GA”, or “lat,lon”")
    if len(text) > 100:
        raise LocationError("near is too long; give a ZIP code, a city such as “Atlanta, GA”, or “lat,lon”")
    m = _LATLON.match(text)
    if m:
        lat, lon = float(m.group(1)), float(m.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise LocationError(f"near {text!r}: latitude must be -90..90 and longitude -180..180")
        return Location(f"{lat:.4f}, {lon:.4f}", lat, lon)
    m = _ZIP.match(text)
    by_zip, by_city, by_name = _load()
    if m:
        found = by_zip.get(m.group(1))
        if not found:
            raise LocationError(f"unknown ZIP code {m.group(1)}")
        lat, lon, zip_city, zip_state = found
        return Location(f"{m.group(1)} ({zip_city}, {zip_state})" if zip_city else m.group(1), lat, lon)
    city, _, state_text = text.rpartition(",")
    if not city:
        parts = text.rsplit(" ", 1)
        if len(parts) == 2 and normalize_state(parts[1]):
            city, state_text = parts
        else:
            city, state_text = text, ""
    city_key = city.strip().lower()
    state = normalize_state(state_text.strip()) if state_text.strip() else None
    if state_text.strip() and not state:
        raise LocationError(f"near {text!r}: {state_text.strip()!r} is not a US state")
    if state:
        hit = by_city.get((city_key, state))
        if hit:
            return Location(f"{hit[2]}, {state}", hit[0], hit[1])
        raise LocationError(f"near {text!r}: no city of that name in {state}")
    options = by_name.get(city_key)
    if options:
        lat, lon, name, st, _ = max(options, key=lambda o: o[4])  # the city with the most ZIP codes
        return Location(f"{name}, {st}", lat, lon)
    raise LocationError(f"near {text!r} is not a ZIP code, a city such as “Atlanta, GA”, or “lat,lon”")


def parse_radius(value: Any) -> float:
    """Miles for a radius parameter (default 25, at most 500); LocationError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_RADIUS_MILES
    try:
        if isinstance(value, bool):
            raise ValueError
        miles = float(str(value).strip().removesuffix("mi").strip())
    except ValueError:
        raise LocationError(f"radius must be a number of miles, got {str(value)[:40]!r}") from None
    if not (0 < miles <= MAX_RADIUS_MILES) or math.isnan(miles):
        raise LocationError(f"radius must be more than 0 and at most {MAX_RADIUS_MILES:g} miles")
    return miles


def miles_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, miles: float) -> tuple[float, float, float, float]:
    """(min lat, max lat, min lon, max lon) around a point (a superset of the circle)."""
    dlat = miles / 69.0
    coslat = max(0.01, math.cos(math.radians(lat)))
    dlon = miles / (69.17 * coslat)
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
