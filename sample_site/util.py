"""Small deterministic helpers shared by the sample-site generator (hashing, dates, text)."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")

SEED = "collegesearch-sample-site-v1"
"""Every generated choice derives from this string, so two builds are byte-identical."""

EPOCH1_DATE = dt.date(2025, 9, 1)
EPOCH_STEP_DAYS = 14


_blake2b = hashlib.blake2b


def h64(*parts: object) -> int:
    """A stable 64-bit hash of the parts (independent of PYTHONHASHSEED; parts are str/int/float)."""
    return int.from_bytes(_blake2b(f"{SEED}{parts!r}".encode(), digest_size=8).digest(), "big")


def frac(*parts: object) -> float:
    """A stable number in [0, 1) for the parts."""
    return h64(*parts) / 18446744073709551616.0


def pick(seq: Sequence[T], *parts: object) -> T:
    """A stable choice from a non-empty sequence."""
    return seq[h64(*parts) % len(seq)]


def weighted(pairs: Sequence[tuple[T, float]], *parts: object) -> T:
    """A stable weighted choice from (value, weight) pairs."""
    total = sum(w for _, w in pairs)
    x = frac(*parts) * total
    for value, w in pairs:
        x -= w
        if x < 0:
            return value
    return pairs[-1][0]


def sample(seq: Sequence[T], k: int, *parts: object) -> list[T]:
    """A stable sample of k items, in the hash order of the items."""
    ranked = sorted(range(len(seq)), key=lambda i: h64(*parts, i))
    return [seq[i] for i in ranked[:k]]


def stable_sorted(items: Iterable[T], *parts: object, key=str) -> list[T]:  # type: ignore[no-untyped-def]
    """Items in a stable pseudo-random order (by hash of key(item))."""
    return sorted(items, key=lambda it: (h64(*parts, key(it)), key(it)))


def uuid_like(*parts: object) -> str:
    """A deterministic UUID-shaped id."""
    hexd = hashlib.blake2b("\x1f".join(str(p) for p in (SEED, *parts)).encode(), digest_size=16).hexdigest()
    return f"{hexd[:8]}-{hexd[8:12]}-4{hexd[13:16]}-a{hexd[17:20]}-{hexd[20:32]}"


def epoch_date(epoch: int) -> dt.date:
    """The calendar date the site reaches at an epoch (epoch 1 is the base)."""
    return EPOCH1_DATE + dt.timedelta(days=EPOCH_STEP_DAYS * (epoch - 1))


def http_date(day: dt.date, hour: int = 12) -> str:
    """RFC 7231 date for Last-Modified."""
    moment = dt.datetime(day.year, day.month, day.day, hour, 0, 0, tzinfo=dt.UTC)
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def mdy(day: dt.date) -> str:
    """mm/dd/yyyy, as College Navigator prints dates."""
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


def long_date(day: dt.date) -> str:
    """'March 5, 2024'."""
    return f"{day.strftime('%B')} {day.day}, {day.year}"


def date_between(start: dt.date, end: dt.date, *parts: object) -> dt.date:
    """A stable date in [start, end]."""
    span = (end - start).days
    return start + dt.timedelta(days=int(frac(*parts) * (span + 1)) if span > 0 else 0)


def esc(text: object) -> str:
    """HTML-escape text for element content and attributes."""
    return html.escape(str(text), quote=True)


def money(n: int | float) -> str:
    """$12,345 (no cents) or $12.34 when fractional."""
    if isinstance(n, float) and not n.is_integer():
        return f"${n:,.2f}"
    return f"${int(n):,}"


def slugify(text: str) -> str:
    """Lower-case ASCII slug with hyphens."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-") or "x"


_SMALL_WORDS = {"and", "or", "of", "the", "in", "for", "a", "an", "to", "on", "at", "by", "with", "except", "nor"}


def title_case(text: str) -> str:
    """OOH-style heading case: 'Heavy and tractor-trailer truck drivers' -> 'Heavy and Tractor-trailer Truck Drivers'."""
    words = text.split(" ")
    out = []
    for i, word in enumerate(words):
        if i > 0 and word.lower() in _SMALL_WORDS:
            out.append(word.lower() if word.islower() else word)
            continue
        parts = word.split("/")
        out.append("/".join(p[:1].upper() + p[1:] if p else p for p in parts))
    return " ".join(out)
