"""The review site's schools and student reviews (generated, deterministic).

Like real review sites it names schools its own way (abbreviations, campus suffixes changed or
dropped, former names from IPEDS aliases, a few misspellings) and shows city and state but no
IPEDS id; ``ReviewSchool.unitid`` keeps the true institution as ground truth.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import random
import re
from dataclasses import dataclass

from sample_site.institutions import HELD_BACK_UNITIDS, Institution, institutions
from sample_site.util import frac, h64, slugify, uuid_like

N_SCHOOLS = 2200
REVIEWS_PER_PAGE = 20
FIRST_REVIEW_DATE = dt.date(2016, 1, 1)
LAST_BASE_REVIEW_DATE = dt.date(2025, 8, 15)

CATEGORIES = [
    ("Overall Experience", 30), ("Academics", 14), ("Value", 8), ("Campus Life", 8), ("Online Learning", 8),
    ("Financial Aid", 7), ("Professors", 9), ("Career Services", 5), ("Military & Veterans", 4), ("Housing", 3),
    ("Safety", 2), ("Diversity", 2),
]
ROLES = [
    ("College Freshman", 10), ("College Sophomore", 12), ("College Junior", 12), ("College Senior", 12),
    ("Alum", 22), ("Graduate Student", 8), ("Online Student", 7), ("Transfer Student", 5), ("Military veteran", 4),
    ("Recent graduate", 5), ("Parent", 3),
]
INSTRUCTORS = ["Professor Alvarez", "Dr. Chen", "Ms. Patel", "Professor Okafor", "Dr. Nguyen", "Mr. Johnson", "Professor Schmidt",
               "Dr. Williams", "Professor Rossi", "Dr. Kowalski", "Ms. Garcia", "Professor Haddad", "Dr. Brooks", "Mr. Tanaka"]
COURSES = ["anatomy and physiology", "medical terminology", "statistics", "organic chemistry", "composition", "accounting",
           "microbiology", "pharmacology", "calculus", "coding and classification", "intro to programming", "public speaking",
           "pathophysiology", "health data management", "US history", "psychology 101", "nursing fundamentals", "economics"]

SENTENCES: dict[str, dict[str, list[str]]] = {
    "Overall Experience": {
        "good": ["I have really enjoyed my time at {school}.", "{school} was the right choice for me and I would pick it again.",
                 "The community here is welcoming and I found my people quickly.", "Small class sizes meant the instructors knew my name.",
                 "I finished my {program} degree on time and felt ready for work.", "Advisors helped me plan every semester."],
        "bad": ["Registration is a mess every semester and classes fill up fast.", "I felt like just a number at {school}.",
                "The administration rarely answers emails.", "Parking is expensive and there is never a spot.",
                "Too many required classes had nothing to do with my {program} major."],
    },
    "Academics": {
        "good": ["The {program} program is rigorous but fair.", "{instructor} made {course} finally click for me.",
                 "Labs are well equipped and the clinical placements were great.", "Tutoring center helped me pass {course}.",
                 "Courses are challenging and the instructors really care about students."],
        "bad": ["Some instructors read straight from the slides.", "{course} was taught by an adjunct who canceled class often.",
                "The {program} curriculum feels outdated.", "Hard to get into the upper level courses for {program}."],
    },
    "Value": {
        "good": ["Tuition is affordable, about {cost} a semester, and worth every penny.", "Great value compared with other schools in {state}.",
                 "I graduated with very little debt.", "Cheaper than a four-year school and the credits transferred."],
        "bad": ["Costs keep going up, I paid around {cost} a semester plus fees.", "Textbooks and lab fees added up quickly.",
                "Not worth the price for the {program} program.", "Hidden fees every term."],
    },
    "Campus Life": {
        "good": ["Lots of clubs and events on campus.", "The library and student center are great places to study.",
                 "Campus in {city} is safe and easy to walk.", "Intramural sports were a highlight."],
        "bad": ["Not much to do on weekends.", "Dining hall food is bland.", "Commuter school, campus is empty after 3pm."],
    },
    "Online Learning": {
        "good": ["I took most of my {program} classes online and the platform was easy to use.",
                 "Online classes were flexible enough to work full time.", "{instructor} recorded every lecture for online students.",
                 "The online courses were just as rigorous as in person."],
        "bad": ["Online classes felt like teaching myself.", "The online portal crashed during finals week.",
                "Instructors took a week to answer questions in the online classes."],
    },
    "Financial Aid": {
        "good": ["The financial aid office was helpful and walked me through FAFSA.", "I got a scholarship that covered most of tuition.",
                 "Financial aid staff answered my questions the same day.", "Work-study jobs are easy to find."],
        "bad": ["Financial aid office lost my paperwork twice.", "My Pell grant was delayed and I had to pay late fees.",
                "Hard to reach anyone in financial aid."],
    },
    "Professors": {
        "good": ["{instructor} is the best teacher I have ever had.", "Professors hold office hours and actually show up.",
                 "Instructors in the {program} department have real industry experience."],
        "bad": ["{instructor} grades harshly and gives little feedback.", "Some professors seem not to care about teaching."],
    },
    "Career Services": {
        "good": ["Career services helped me land an internship in {city}.", "The job fair brought in a lot of employers for {program} students.",
                 "They reviewed my resume and set up mock interviews."],
        "bad": ["Career services was not helpful for {program} majors.", "Few employers recruit here."],
    },
    "Military & Veterans": {
        "good": ["As a veteran, my GI Bill benefits were processed quickly by the VA certifying official.",
                 "The veterans center is a great place to meet other military students.",
                 "They accepted credit for my military training.", "Very military friendly, the Yellow Ribbon program covered the gap."],
        "bad": ["My GI Bill payments were late two semesters in a row.", "Not much support for military and veteran students.",
                "They did not accept most of my military credits."],
    },
    "Housing": {
        "good": ["Dorms are clean and the RAs are friendly.", "On-campus housing is close to all classes."],
        "bad": ["Housing is overpriced and the dorms are old.", "Not enough housing for upperclassmen."],
    },
    "Safety": {
        "good": ["I always felt safe on campus, even at night.", "Campus police are responsive."],
        "bad": ["There were a few break-ins near campus.", "The parking lots are poorly lit."],
    },
    "Diversity": {
        "good": ["Very diverse student body with students of all ages.", "I met people from all over the world."],
        "bad": ["Not very diverse.", "The school could do more to support first-generation students."],
    },
}
CLOSERS = {
    "good": ["Highly recommend.", "Would recommend to anyone interested in {program}.", "Go {mascot}!", ""],
    "bad": ["Would not recommend.", "Look elsewhere if you can.", "Hope it improves.", ""],
    "mid": ["It is okay overall.", "Some good, some bad.", "Mixed feelings.", ""],
}
MASCOTS = ["Eagles", "Tigers", "Bulldogs", "Falcons", "Panthers", "Wildcats", "Hawks", "Lions", "Knights", "Rams"]


@dataclass(frozen=True, slots=True)
class Review:
    """One student review on the review site (its text is derived from its id on demand)."""

    rid: int
    entity_id: str
    rating: int
    category: str
    role: str
    date: dt.date

    @property
    def review_id(self) -> str:
        """Item id of the review (``reviews:<site id>``)."""
        return f"reviews:{self.rid}"

    @property
    def body(self) -> str:
        """The review text."""
        return review_body(self.rid, self.entity_id, self.category, self.rating)


@dataclass(slots=True)
class ReviewSchool:
    """A school as the review site lists it."""

    entity_id: str
    unitid: str
    name: str
    variant: str
    """Which naming quirk the site applied (exact, univ_abbrev, campus, drop_campus, alias, ...)."""
    city: str
    state: str
    slug: str
    jsonld: bool
    appear_epoch: int = 1

    @property
    def path(self) -> str:
        """Path of the school's first review page."""
        return f"/reviews/colleges/{self.slug}/reviews/"


def _program_label(cip_title: str) -> str:
    return re.split(r"[/,]", cip_title)[0].strip()


def _with_campus(name: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"(.+?)\s*-\s*([^-]+)", name)
    if not m or len(m.group(1)) < 6:
        return None
    return m.group(1).strip(), m.group(2).strip()


def review_name(inst: Institution, unique_bases: frozenset[tuple[str, str, str]]) -> tuple[str, str]:
    """The review site's name for an institution and which quirk produced it."""
    name = inst.name
    uid = inst.unitid
    x = frac("revname", uid)
    campus = _with_campus(name)
    options: list[tuple[str, str]] = []
    if x < 0.40:
        return name, "exact"
    if "University" in name:
        options.append((name.replace("University", "Univ.", 1), "univ_abbrev"))
    if campus:
        base, place = campus
        options.append((f"{base} - {place}" if frac("dash", uid) < 0.5 else f"{base} ({place})", "campus"))
        if (base.lower(), inst.city.lower(), inst.state) in unique_bases:
            options.append((base, "drop_campus"))
    long_aliases = [a for a in inst.aliases if len(a) >= 12 and not a.isupper() and a.lower() != name.lower()]
    if long_aliases and frac("alias-ok", uid) < 0.5:
        options.append((long_aliases[0], "alias"))
    if "Saint " in name:
        options.append((name.replace("Saint ", "St. "), "saint"))
    elif "St. " in name:
        options.append((name.replace("St. ", "Saint "), "saint"))
    if " and " in name:
        options.append((name.replace(" and ", " & "), "ampersand"))
    if name.startswith("The "):
        options.append((name[4:], "the"))
    if "Community College" in name and frac("cc", uid) < 0.3:
        options.append((name.replace("Community College", "CC"), "cc"))
    if frac("misspell-ok", uid) < 0.06:
        words = [w for w in name.split() if len(w) >= 7 and w.isalpha()]
        if words:
            w = words[h64("mw", uid) % len(words)]
            i = 2 + h64("mi", uid) % (len(w) - 4)
            options.append((name.replace(w, w[:i] + w[i + 1] + w[i] + w[i + 2:], 1), "misspelling"))
    if not options:
        return name, "exact"
    return options[h64("revname-pick", uid) % len(options)]


def _cum(pairs: list[tuple[str, int]]) -> tuple[list[str], list[float]]:
    values, cum, total = [], [], 0.0
    for value, w in pairs:
        total += w
        values.append(value)
        cum.append(total)
    return values, cum


_CATS = _cum(CATEGORIES)
_ROLES = _cum(ROLES)


def _draw(rng: random.Random, table: tuple[list[str], list[float]]) -> str:
    values, cum = table
    return values[bisect.bisect_right(cum, rng.random() * cum[-1])]


@functools.cache
def _school_context(entity_id: str) -> tuple[str, str, str, tuple[str, ...]]:
    school = schools_by_entity()[entity_id]
    inst = institutions()[school.unitid]
    labels = tuple(dict.fromkeys(_program_label(p) for p in inst.programs_offered)) or ("General Studies",)
    return school.name, inst.city, inst.state, labels


class _Stream:
    """A tiny deterministic number stream (splitmix64): far cheaper than seeding a Random per review."""

    __slots__ = ("x",)
    MASK = (1 << 64) - 1

    def __init__(self, seed: int) -> None:
        self.x = seed

    def below(self, n: int) -> int:
        """A number in [0, n)."""
        self.x = x = (self.x + 0x9E3779B97F4A7C15) & self.MASK
        z = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return (z ^ (z >> 31)) % n


_OTHER_CATEGORIES = {c: [o for o, _ in CATEGORIES if o != c] for c, _ in CATEGORIES}


@functools.lru_cache(maxsize=65536)
def review_body(rid: int, entity_id: str, category: str, rating: int) -> str:
    """Generated review text: 2-4 sentences for the category and mood, plus an optional closer."""
    rng = _Stream(h64("body", rid))
    name, city, state, labels = _school_context(entity_id)
    ctx = {"school": name, "program": labels[rng.below(len(labels))], "instructor": INSTRUCTORS[rng.below(len(INSTRUCTORS))],
           "course": COURSES[rng.below(len(COURSES))], "cost": f"${(12 + rng.below(248)) * 50:,}", "city": city,
           "state": state, "mascot": MASCOTS[rng.below(len(MASCOTS))]}
    mood = "good" if rating >= 4 else "bad" if rating <= 2 else "mid"
    pools = SENTENCES[category]
    main = list(pools["good"] if mood == "good" else pools["bad"] if mood == "bad" else pools["good"] + pools["bad"])
    picked = []
    for _ in range(min(2 + rng.below(3), len(main))):
        picked.append(main.pop(rng.below(len(main))))
    if rng.below(100) < 45:
        others = _OTHER_CATEGORIES[category]
        extra = SENTENCES[others[rng.below(len(others))]]["good" if mood != "bad" else "bad"]
        picked.append(extra[rng.below(len(extra))])
    closers = CLOSERS[mood]
    picked.append(closers[rng.below(len(closers))])
    return " ".join(t.format(**ctx) for t in picked if t)


def generate_review(rng: random.Random, rid: int, entity_id: str, date: dt.date, quality: float) -> Review:
    """One review's metadata, deterministic for the rng state."""
    category = _draw(rng, _CATS)
    if category == "Military & Veterans" and rng.random() < 0.7:
        role = "Military veteran"
    elif category == "Online Learning" and rng.random() < 0.6:
        role = "Online Student"
    else:
        role = _draw(rng, _ROLES)
    x = rng.random()
    # quality shifts the star distribution: 0 -> mostly low ratings, 1 -> mostly high.
    cut = [0.08 * (1.6 - quality), 0.16 * (1.6 - quality), 0.16 * (1.6 - quality) + 0.17]
    cut.append(cut[2] + (1 - cut[2]) * 0.45)
    rating = 1 if x < cut[0] else 2 if x < cut[1] else 3 if x < cut[2] else 4 if x < cut[3] else 5
    return Review(rid=rid, entity_id=entity_id, rating=rating, category=category, role=role, date=date)


@functools.cache
def schools() -> tuple[ReviewSchool, ...]:
    """The review site's schools at epoch 1 (plus those that appear later, with appear_epoch > 1)."""
    return _cached_reviews()[0]


@functools.cache
def _cached_reviews() -> tuple[tuple[ReviewSchool, ...], dict[str, tuple[Review, ...]]]:
    from sample_site.cache import cached

    def build() -> tuple[tuple[ReviewSchool, ...], dict[str, tuple[Review, ...]]]:
        built = _build_schools()
        return built, _build_reviews(built)

    return cached("reviews", build)


def _build_schools() -> tuple[ReviewSchool, ...]:
    insts = institutions()
    cands = [i for i in insts.values() if i.iclevel in ("1", "2") and not i.new_unit and not i.closed_2023]
    big = sorted((i for i in cands if i.instsize >= 3), key=lambda i: h64("rs-big", i.unitid))
    rest = sorted((i for i in cands if i.instsize < 3), key=lambda i: h64("rs", i.unitid))
    closed = sorted((i for i in insts.values() if i.closed_2023 and i.iclevel in ("1", "2")), key=lambda i: h64("rs-c", i.unitid))
    chosen = big + rest[: N_SCHOOLS - len(big) - 2 - len(HELD_BACK_UNITIDS)] + closed[:2] + [insts[u] for u in HELD_BACK_UNITIDS]
    later = rest[N_SCHOOLS - len(big) - 2 - len(HELD_BACK_UNITIDS):][:40]
    bases: dict[tuple[str, str], list[str]] = {}
    for i in insts.values():
        c = _with_campus(i.name)
        bases.setdefault(((c[0] if c else i.name).lower(), i.state), []).append(i.unitid)
    unique_bases = frozenset((b, insts[u[0]].city.lower(), st) for (b, st), u in bases.items() if len(u) == 1)
    out: list[ReviewSchool] = []
    slugs: set[str] = set()
    for epoch_of, group in ((1, chosen), (0, later)):
        for inst in sorted(group, key=lambda i: i.unitid):
            name, variant = review_name(inst, unique_bases)
            slug = slugify(name)
            if slug in slugs:
                slug = f"{slug}-{slugify(inst.city)}"
            n = 2
            while slug in slugs:
                slug = f"{slugify(name)}-{n}"
                n += 1
            slugs.add(slug)
            out.append(ReviewSchool(
                entity_id=uuid_like("entity", inst.unitid), unitid=inst.unitid, name=name, variant=variant,
                city=inst.city, state=inst.state, slug=slug, jsonld=frac("jsonld", inst.unitid) < 0.3,
                appear_epoch=epoch_of if epoch_of else 2 + h64("appear", inst.unitid) % 8,
            ))
    return tuple(out)


def base_reviews() -> dict[str, tuple[Review, ...]]:
    """Reviews of each epoch-1 school (entity id -> reviews, oldest first)."""
    return _cached_reviews()[1]


def _build_reviews(all_schools: tuple[ReviewSchool, ...]) -> dict[str, tuple[Review, ...]]:
    insts = institutions()
    out: dict[str, tuple[Review, ...]] = {}
    rid = 100001
    for school in all_schools:
        if school.appear_epoch != 1:
            continue
        inst = insts[school.unitid]
        rng = random.Random(h64("reviews", school.entity_id))
        u = rng.random()
        n = 1 + int(22 * u ** 1.6) + (10 + rng.randrange(20) if inst.instsize >= 4 else 0)
        quality = school_quality(school.entity_id)
        span = (LAST_BASE_REVIEW_DATE - FIRST_REVIEW_DATE).days
        dates = sorted(FIRST_REVIEW_DATE + dt.timedelta(days=rng.randrange(span + 1)) for _ in range(n))
        reviews = []
        for d in dates:
            reviews.append(generate_review(rng, rid, school.entity_id, d, quality))
            rid += 1
        out[school.entity_id] = tuple(reviews)
    return out


def school_quality(entity_id: str) -> float:
    """The school's rating tendency (0 bad .. 1 good)."""
    return frac("quality", entity_id)


@functools.cache
def schools_by_entity() -> dict[str, ReviewSchool]:
    """Review-site schools keyed by entity id."""
    return {s.entity_id: s for s in schools()}
