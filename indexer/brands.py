"""A university system's brand, read from its campuses' names: the flagship rule as data, not a list of schools.

IPEDS names a flagship "<System>-Main Campus" and, for some systems, every other campus
"<System>-<Brand> <Place>": "Pennsylvania State University-Penn State Altoona", "...-Penn State Berks".
The brand those campuses share ("Penn State") is what students type, and the flagship's own name does
not hold it, so the index gives the flagship the brand as one more alias (``system_brand``). Nothing
here names a school: a system whose campuses do not share a leading run of words gets no brand.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

CAMPUS_SUFFIX = re.compile(r"\s*-\s*Main Campus$")
"""A flagship's campus suffix: "Ohio State University-Main Campus" is the brand "Ohio State University"."""
FLAGSHIP_SUFFIX = "-Main Campus"
"""How IPEDS spells the flagship's suffix (the form searched for when a campus changes)."""
MIN_CAMPUSES = 3
"""A brand needs at least this many campuses sharing it (two alike could be chance: "Blue Ash College")."""
MAX_BRAND_WORDS = 3
"""The longest brand looked for ("Penn State", "Cal Poly Humboldt" would be three)."""
NOT_A_BRAND = frozenset({"campus", "college", "university", "school", "center", "institute", "of", "the", "at",
                         "in", "and", "for", "-"})
"""Words a brand cannot end with or consist of ("College of" shared by "College of Medicine" and "College of
Nursing" says nothing)."""


def flagship_base(name: str) -> str | None:
    """The system's name when ``name`` is a flagship's ("Pennsylvania State University-Main Campus"), else None."""
    base = CAMPUS_SUFFIX.sub("", name or "")
    return base if base != (name or "") and base else None


def campus_part(name: str, base: str) -> str | None:
    """What follows "<base>-" in a campus's name ("Penn State Altoona"), or None when it is not that system's campus."""
    if not name.startswith(base):
        return None
    rest = name[len(base):]
    if not rest.lstrip().startswith("-"):
        return None
    part = rest.lstrip()[1:].strip()
    return part if part and not CAMPUS_SUFFIX.search(name) else None


def system_brand(base: str, campus_names: Iterable[str]) -> str | None:
    """The leading words most of a system's campuses share after "<base>-", when at least ``MIN_CAMPUSES`` do.

    The brand must be followed by more words in each campus that has it (it names the system, the rest
    names the place), must not end with a generic word, and must say something the base does not.
    """
    parts = [p.split() for p in (campus_part(n, base) for n in campus_names) if p]
    if len(parts) < MIN_CAMPUSES:
        return None
    for size in range(MAX_BRAND_WORDS, 0, -1):
        counts = Counter(tuple(words[:size]) for words in parts if len(words) > size)
        if not counts:
            continue
        (brand, shared), = counts.most_common(1)
        if shared < MIN_CAMPUSES or 2 * shared < len(parts):
            continue
        lowered = [w.lower() for w in brand]
        if lowered[-1] in NOT_A_BRAND or all(w in NOT_A_BRAND for w in lowered):
            continue
        text = " ".join(brand)
        return None if text.lower() == base.lower() else text
    return None


def flagship_titles(name: str) -> list[str]:
    """The flagship names a campus called ``name`` could belong to: "A-B-C" -> "A-Main Campus", "A-B-Main Campus"."""
    if not name or CAMPUS_SUFFIX.search(name):
        return []
    found = []
    for match in re.finditer(r"\s*-", name):
        base = name[:match.start()].strip()
        if base:
            found.append(base + FLAGSHIP_SUFFIX)
    return found
