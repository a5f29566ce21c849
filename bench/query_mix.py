"""The query mix of the serving and first-query benchmarks, kept apart from the locustfile.

Importing ``locust`` monkey-patches the process with gevent (which then reaps child processes
itself), so the benchmark process builds the mix here and only locust's own process imports
``bench.locustfile``; locust reads the long tail from a file the benchmark writes.

Two halves, as in issue 13:

* the **long tail**: 1-3 words from career titles and college names of the data dir being
  served (``long_tail_queries``), each query used once, so every one is first-time for the
  server (the pool is deduplicated and drawn without repetition, in a seeded order);
* **common queries** (``common_searches``): the fixed ``SEARCHES`` below and a few more popular
  ones, each with a state or online filter and a page number; they repeat, as popular searches do.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

# (what it stands for, query parameters); every one answers 200 (checked before any load)
SEARCHES: list[tuple[str, dict[str, Any]]] = [
    ("career", {"q": "x-ray tech"}),
    ("career", {"q": "medical records specialist"}),
    ("career", {"q": "software developers salary"}),
    ("career", {"q": "registered nurse"}),
    ("career", {"q": "what does a dental hygienist do"}),
    ("program + place", {"q": "associate radiography Georgia"}),
    ("program + place", {"q": "health information technology Ohio"}),
    ("program + place", {"q": "nursing programs in Texas"}),
    ("program + place", {"q": "online dietetics programs"}),
    ("filters", {"q": "nursing", "kind": "program", "state": "CA"}),
    ("filters", {"q": "state:OH degree:associate nursing"}),
    ("filters", {"kind": "program", "accreditor": "CAHIIM"}),
    ("filters", {"kind": "institution", "state": "NY"}),
    ("filters", {"q": "accreditor:CAHIIM online:yes"}),
    ("filters", {"q": "physical therapy", "degree_level": "doctoral", "sort": "name"}),
    ("typo", {"q": "radiolgy technologist"}),
    ("typo", {"q": "medical asistant"}),
    ("typo", {"q": "nursng"}),
    ("typo", {"q": "univercity of michigan"}),
    ("near me", {"q": "nursing", "near": "30303"}),
    ("near me", {"q": "community college", "near": "Columbus, OH"}),
    ("near me", {"q": "dental hygiene", "near": "10001", "radius": "50"}),
    ("reviews", {"q": "helpful financial aid office"}),
    ("reviews", {"q": "professors really care", "kind": "review"}),
    ("reviews", {"q": "parking", "kind": "review", "rating": "4"}),
    ("reviews", {"q": "online classes military", "kind": "review", "sort": "rating"}),
    ("paging", {"q": "nursing", "page": "2"}),
    ("paging", {"q": "university", "page": "3"}),
]
# More popular searches for the common half (short, broad, many hits: the ones a site sees most)
MORE_COMMON: tuple[str, ...] = (
    "nursing", "medical assistant", "community college", "radiology", "dental hygiene", "respiratory therapy",
    "physical therapist assistant", "pharmacy technician", "surgical technology", "health information",
    "occupational therapy", "paramedic", "university", "online degree", "sonography", "dietitian",
)
STATES: tuple[str, ...] = ("CA", "TX", "NY", "FL", "OH", "PA", "IL", "GA", "NC", "MI")
STATIC = "/static/css/app.css"
# Filter and page values of the common half: a state (most of the time) or the online filter; pages 1-3
PAGES: tuple[int, ...] = (1, 1, 1, 2, 3)
COMMON_SEED = 13


def common_searches(seed: int = COMMON_SEED) -> list[tuple[str, dict[str, Any]]]:
    """The common half: each popular search with a state or an online filter and a page number (fixed order)."""
    rng = random.Random(seed)
    out: list[tuple[str, dict[str, Any]]] = []
    bases = [(what, params) for what, params in SEARCHES if params.get("q")] \
        + [("popular", {"q": q}) for q in MORE_COMMON]
    for what, params in bases:
        for _ in range(2):
            query = dict(params)
            if "state" not in query and "delivery" not in query and "near" not in query:
                if rng.random() < 0.7:
                    query["state"] = rng.choice(STATES)
                else:
                    query["delivery"] = "online"
            query.setdefault("page", str(rng.choice(PAGES)))
            out.append((what, query))
    rng.shuffle(out)
    return out


# -- the long tail ---------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z0-9']+")
# Words a query never starts or ends with (nobody types "of the"); kept inside ("coaches and scouts")
_EDGE_STOP = frozenset({"a", "an", "and", "at", "de", "for", "in", "of", "on", "the", "to", "s"})


def catalog_names(data_dir: Path) -> list[str]:
    """Career titles and college names of a data dir's catalog, in the catalog's order.

    A catalog with neither careers nor colleges (a smoke crawl of one program directory) gives its
    programs' college and program names instead.
    """
    from catalog import Catalog

    names: list[str] = []
    with Catalog(data_dir / "catalog.sqlite3", readonly=True) as catalog:
        for kinds in ((("career", "title"), ("institution", "name")), (("program", "institution_name"),
                                                                        ("program", "name"))):
            for kind, key in kinds:
                for stored in catalog.iter_items(kind):
                    name = stored.data.get(key)
                    if isinstance(name, str) and name.strip():
                        names.append(name)
            if names:
                break
    return list(dict.fromkeys(names))


def _windows(words: Sequence[str]) -> Iterable[str]:
    """Contiguous runs of 1-3 words, not starting or ending on a stop word."""
    for size in (1, 2, 3):
        for i in range(len(words) - size + 1):
            run = words[i:i + size]
            if run[0] in _EDGE_STOP or run[-1] in _EDGE_STOP or (size == 1 and len(run[0]) < 3):
                continue
            yield " ".join(run)


def _pairs(words: Sequence[str]) -> Iterable[str]:
    """Two words of one name with others between them ("pearl academy"), for when the windows run out."""
    content = [w for w in words if w not in _EDGE_STOP and len(w) > 1]
    for i, first in enumerate(content):
        for second in content[i + 2:]:
            yield f"{first} {second}"


def long_tail_queries(names: Iterable[str], count: int, seed: int, exclude: Iterable[str] = ()) -> list[str]:
    """``count`` distinct 1-3 word queries from ``names`` in a seeded order (fewer if the names run out).

    Contiguous runs of words come first ("raritan valley", "language pathologists"), then pairs of
    words of one name with a gap; lower case and single-spaced, so two queries differ after the
    analyzer too. ``exclude`` (the warm-up's queries) is never drawn.
    """
    tokenized = [[w.lower() for w in _WORD.findall(name)] for name in names]
    seen = {" ".join(q.lower().split()) for q in exclude}
    out: list[str] = []
    rng = random.Random(seed)
    for make in (_windows, _pairs):
        if len(out) >= count:
            break
        tier = sorted({q for words in tokenized for q in make(words)} - seen)
        rng.shuffle(tier)
        take = tier[:count - len(out)]
        out += take
        seen.update(take)
    return out
