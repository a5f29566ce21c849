"""Each page's revisit interval: Apache Nutch's adaptive fetch schedule, as plain arithmetic.

A page found unchanged is visited less often (``interval * (1 + grow)``), one found changed more
often (``interval * (1 - shrink)``), always between a minimum and a maximum; a new page starts at
the first interval. The settings ``REVISIT_MIN``, ``REVISIT_MAX``, ``REVISIT_FIRST``,
``REVISIT_GROW`` and ``REVISIT_SHRINK`` give the defaults; a source overrides any of them with a
spec such as ``"min=1h max=7d"`` (setting ``REVISIT_<SOURCE>``, or a site profile's ``revisit``).
No imports of ours: the settings, the site profiles and the catalog all use this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.I)
SPEC_KEYS = ("min", "max", "first", "grow", "shrink")
MAX_SECONDS = 10 * 365 * 86400
"""Ten years: the longest interval any setting accepts."""
DUE_SLACK = 0.1
"""A page counts as due when less than this share of its interval is left, so a nightly crawl that
starts a few minutes earlier than yesterday's still fetches the pages yesterday's fetched."""


def parse_duration(text: object) -> int:
    """Seconds in a duration: a number of seconds, or a number with s, m, h, d or w ("90m", "6h", "30d")."""
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if not match:
            raise ValueError(f"not a duration (a number with s, m, h, d or w, such as 6h or 30d): {text!r}")
        seconds = float(match.group(1)) * UNITS[(match.group(2) or "s").lower()]
    if not 1 <= seconds <= MAX_SECONDS:
        raise ValueError(f"a duration must be from 1 s to 10 years, got {text!r}")
    return int(round(seconds))


def format_duration(seconds: float) -> str:
    """A duration the way people write it: the largest whole unit of d, h, m, s ("6h", "30d", "90m", "45s")."""
    whole = int(round(seconds))
    for unit in ("d", "h", "m"):  # (days, not weeks: "14d" reads better than "2w")
        if whole and whole % UNITS[unit] == 0:
            return f"{whole // UNITS[unit]}{unit}"
    return f"{whole}s"


def _rate(key: str, value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise ValueError(f"{key} must be a number from 0 to 1, got {value!r}") from None
    if not 0 <= rate <= (1 if key == "grow" else 0.99) or rate != rate:  # noqa: PLR0124 - NaN check
        raise ValueError(f"{key} must be a number from 0 to {'1' if key == 'grow' else '0.99'}, got {value!r}")
    return rate


def parse_spec(text: str) -> dict[str, float]:
    """A source's overrides ("min=1h max=7d first=6h grow=0.5 shrink=0.3", spaces or commas between): key -> value.

    Durations become seconds; grow (0-1) and shrink (0-0.99) stay rates. ``ValueError`` says what is wrong.
    """
    out: dict[str, float] = {}
    for part in re.split(r"[\s,;]+", text.strip()):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in SPEC_KEYS:
            raise ValueError(f"expected key=value pairs with keys {', '.join(SPEC_KEYS)} (such as 'min=1h max=7d'), "
                             f"got {part!r}")
        out[key] = _rate(key, value) if key in ("grow", "shrink") else parse_duration(value)
    return out


@dataclass(frozen=True)
class RevisitPolicy:
    """How one source's pages are revisited: interval bounds, the first interval, and the adaptive rates."""

    min_seconds: int = 6 * 3600
    max_seconds: int = 30 * 86400
    first_seconds: int = 86400
    grow: float = 0.4
    """After an unchanged fetch the interval becomes ``interval * (1 + grow)`` (Nutch's inc_rate)."""
    shrink: float = 0.2
    """After a fetch that found a change it becomes ``interval * (1 - shrink)`` (Nutch's dec_rate)."""

    def __post_init__(self) -> None:
        if self.min_seconds > self.max_seconds:
            raise ValueError(f"the minimum revisit interval ({format_duration(self.min_seconds)}) is longer than "
                             f"the maximum ({format_duration(self.max_seconds)})")

    def clamp(self, seconds: float) -> int:
        """An interval held between the minimum and the maximum."""
        return int(round(min(max(seconds, self.min_seconds), self.max_seconds)))

    def next_interval(self, previous: int | None, *, changed: bool) -> int:
        """The interval after a fetch: first for a page without one, grown when unchanged, shrunk when changed."""
        if previous is None or previous <= 0:
            return self.clamp(self.first_seconds)
        factor = (1 - self.shrink) if changed else (1 + self.grow)
        return self.clamp(previous * factor)

    def overridden(self, spec: str | dict[str, float] | None) -> RevisitPolicy:
        """This policy with a source's overrides applied (``ValueError`` when they contradict each other)."""
        values = parse_spec(spec) if isinstance(spec, str) else dict(spec or {})
        if not values:
            return self
        names = {"min": "min_seconds", "max": "max_seconds", "first": "first_seconds", "grow": "grow",
                 "shrink": "shrink"}
        changes: dict[str, float | int] = {names[k]: (int(v) if k in ("min", "max", "first") else float(v))
                                           for k, v in values.items()}
        return replace(self, **changes)  # type: ignore[arg-type]

    def describe(self) -> str:
        """The policy as a spec ("min=6h max=30d first=1d grow=0.4 shrink=0.2")."""
        return (f"min={format_duration(self.min_seconds)} max={format_duration(self.max_seconds)} "
                f"first={format_duration(self.first_seconds)} grow={self.grow:g} shrink={self.shrink:g}")
