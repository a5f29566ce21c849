"""The source registry: every built-in source declared once.

The CLI, the scheduler, the settings defaults, the web app's labels and the sample site read
this table; the crawler turns ``page_module`` and ``spider`` (dotted names, so this module
imports no Scrapy) into classes, and ``site`` into the source's built-in site profile. A new
built-in source is one entry here plus its page module.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.items import US_STATES


@dataclass(frozen=True)
class SiteRules:
    """Where a source's real site is and which of its links a crawl follows (plain data).

    ``crawler.profiles.builtin_profiles`` turns these into the built-in ``SiteProfile``s; the
    regular expressions are kept as strings here and compiled there.
    """

    start_urls: tuple[str, ...] = ()
    """Where a crawl of the real site starts (empty: only the sample site serves it)."""
    allowed_hosts: tuple[str, ...] = ()
    follow: tuple[str, ...] = ()
    """Regular expressions; links matching one are followed."""
    deny: tuple[str, ...] = ()
    """Regular expressions; links matching one are never followed."""
    url_patterns: tuple[str, ...] = ()
    """Regular expressions on the URL path (and query) that recognise the site's pages."""
    max_pages: int = 1000


@dataclass(frozen=True)
class Source:
    """One built-in source: what it brings, how it is read and when it is crawled."""

    name: str
    """Source name: the value of items' ``source``, the Scrapy spider name and the CLI name."""
    label: str
    """Who publishes it, as shown to users."""
    kinds: tuple[str, ...]
    """Item kinds it brings."""
    page_module: str
    """The page module (``crawler/pages/<page_module>.py``) that extracts its pages."""
    spider: str
    """Dotted ``module:Class`` of its spider (navigation only)."""
    schedule: str | None
    """Default cron schedule (setting ``SCHEDULE_<NAME>``)."""
    schedule_help: str
    """What the schedule setting says about the cadence."""
    site: SiteRules
    """The real site and its link rules (the source's built-in site profile)."""
    needs_linkage: bool = False
    """Whether its records are linked to IPEDS institutions after the crawl."""
    institutions: bool = False
    """Whether it is the source of IPEDS institutions that others link to."""
    description: str = ""
    authority: tuple[str, ...] = ()
    """Item fields this source is the authority for: when sources disagree, its value wins (record fusion)."""


_OOH_OCCUPATION = r"/ooh/(?!about/|how-to-find-a-job/|field-of-degree/)[a-z0-9-]+/[a-z0-9-]+\.htm$"

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            name="bls_ooh",
            label="U.S. Bureau of Labor Statistics, Occupational Outlook Handbook",
            kinds=("career",),
            page_module="bls_ooh",
            spider="crawler.spiders.bls_ooh:BlsOohSpider",
            schedule="0 3 1 * *",
            schedule_help="Cron schedule for careers (monthly by default).",
            site=SiteRules(
                start_urls=("https://www.bls.gov/ooh/a-z-index.htm", "https://www.bls.gov/ooh/home.htm"),
                allowed_hosts=("www.bls.gov",),
                follow=(_OOH_OCCUPATION, r"/ooh/[a-z0-9-]+/home\.htm$", r"/ooh/(?:a-z-index|a-z/index|home)\.htm$",
                        r"/ooh/$"),
                deny=(r"/ooh/[^?#]*/mobile/", r"/ooh/about/", r"/ooh/occupation-finder\.htm", r"/ooh/print/",
                      r"/ooh/[^?#]*\.htm\?"),
                url_patterns=(r"^/ooh/",),
                max_pages=2000,
            ),
            description="BLS Occupational Outlook Handbook: careers, pay, outlook, A-Z job titles",
        ),
        Source(
            name="collegenavigator",
            label="NCES College Navigator",
            kinds=("institution", "program"),
            page_module="collegenavigator",
            spider="crawler.spiders.collegenavigator:CollegenavigatorSpider",
            schedule="0 2 * * *",
            schedule_help="Cron schedule for institutions and programs (nightly).",
            site=SiteRules(
                start_urls=tuple(f"https://nces.ed.gov/collegenavigator/?s={st}" for st in sorted(US_STATES)),
                allowed_hosts=("nces.ed.gov",),
                follow=(r"/collegenavigator/(?:default\.aspx)?\?(?:[^#]*&)?(?:id|pg|s)=\w+",),
                deny=(r"[?&](?:fv|cx|md|xp|of|od|ct)=",),
                url_patterns=(r"^/collegenavigator/",),
                max_pages=20000,
            ),
            institutions=True,
            description="NCES College Navigator: institutions and their programmatic accreditations",
            # The school's own facts come from IPEDS through College Navigator; its program names are
            # DAPIP's official wording.
            authority=("name", "field", "institution_name", "city", "state", "military_friendly"),
        ),
        Source(
            name="directory",
            label="Accreditor program directory",
            kinds=("program",),
            page_module="directory",
            spider="crawler.spiders.directory:DirectorySpider",
            schedule="30 2 * * *",
            schedule_help="Cron schedule for the accreditor program directory (nightly).",
            site=SiteRules(
                start_urls=("https://www.cahiim.org/programs/program-directory",),
                allowed_hosts=("www.cahiim.org",),
                follow=(r"/program-directory(?:/program/\d+)?/?(?:\?|$)", r"/programs/\d+/?$"),
                deny=(r"/program-directory/export", r"/admin/"),
                url_patterns=(r"^/cahiim/", r"/program-directory"),
                max_pages=2000,
            ),
            needs_linkage=True,
            description="An accreditor's program directory (CAHIIM): accredited programs by state, level, delivery",
            # The accreditor's own directory is the primary record of its decisions; College Navigator
            # copies them later.
            authority=("accreditation_status", "accreditation_status_raw", "accredited_since", "next_review",
                       "delivery"),
        ),
        Source(
            name="reviews",
            label="Student reviews site",
            kinds=("review",),
            page_module="reviews",
            spider="crawler.spiders.reviews:ReviewsSpider",
            schedule="0 */6 * * *",
            schedule_help="Cron schedule for student reviews (every six hours).",
            # A review site in the style of the big commercial ones; only the sample site serves it.
            site=SiteRules(
                follow=(r"/reviews/colleges/", r"/reviews/c/", r"/api/entity-reviews/"),
                deny=(r"/reviews/events/", r"/reviews/write/", r"/reviews/search"),
                url_patterns=(r"^/api/entity-reviews/", r"^/reviews/"),
                max_pages=50000,
            ),
            needs_linkage=True,
            description="Student reviews of colleges: HTML review pages and the JSON review API",
        ),
    )
}
"""Built-in sources, in crawl order (institutions before the sources linked to them)."""

BUILTIN_SOURCES: tuple[str, ...] = tuple(SOURCES)
INSTITUTION_SOURCE: str = next(s.name for s in SOURCES.values() if s.institutions)
LINKING_SOURCES: tuple[str, ...] = tuple(s.name for s in SOURCES.values() if s.needs_linkage)

OTHER_SOURCE_LABELS: dict[str, str] = {
    "user": "Written by a visitor to this site",
    "onet": "O*NET",
}
"""Labels of record origins that are not crawled sources."""


def field_rank(source: str, field: str) -> int:
    """How much a source is trusted for one field when sources disagree: 0 its authority, 1 a built-in, 2 other."""
    found = SOURCES.get(source)
    if found is None:
        return 2
    return 0 if field in found.authority else 1


def source_label(name: str) -> str:
    """How a source (or another record origin) is named to users; unknown names as they are."""
    if name in SOURCES:
        return SOURCES[name].label
    return OTHER_SOURCE_LABELS.get(name, name)
