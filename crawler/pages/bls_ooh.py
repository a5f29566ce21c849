"""BLS Occupational Outlook Handbook: occupation profiles, the A-Z index, home and group pages.

The saved real pages are the DOM *after* the page's JavaScript ran: an inline jQuery script
sets ``id="outlook-table"``, DataTables adds classes, wrappers, ``role``/``data-label``
attributes and re-sorts the similar-occupations table, and the tabs get ``display:none``.
Every selector here therefore keys on what the server sends (``table#quickfacts``, the
``h2`` ids of each tab, the last table of the Job Outlook article), never on what the script
adds, so a plain HTTP fetch and a rendered save read the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector

from crawler.pages.base import Page, unique
from crawler.processors import (
    clean_text,
    find_accreditors,
    parse_date,
    parse_int,
    parse_money,
    parse_number,
    parse_percent,
)
from model.items import Career, Item

SOURCE = "bls_ooh"

# /ooh/<group>/<slug>.htm, minus the handbook's own sections that share that shape.
_NOT_GROUPS = ("about", "how-to-find-a-job", "field-of-degree", "mobile", "images", "javascripts", "stylesheets",
               "a-z", "print")
OCCUPATION_PATH_RE = re.compile(
    r"/ooh/(?!(?:" + "|".join(_NOT_GROUPS) + r")/)(?P<group>[a-z0-9-]+)/(?!home\.html?$)(?P<slug>[a-z0-9-]+)\.html?$",
    re.I,
)
GROUP_PATH_RE = re.compile(r"/ooh/(?!(?:" + "|".join(_NOT_GROUPS) + r")/)(?P<group>[a-z0-9-]+)/home\.html?$", re.I)
_SOC_RE = re.compile(r"\b(\d{2}-\d{4})\b")


def occupation_key(url: str) -> str:
    """The part of an occupation URL that identifies it on any host: ``/ooh/<group>/<slug>.htm``.

    The real handbook links to ``https://www.bls.gov/ooh/...``; the sample site serves the same
    paths on a loopback host, so aliases from the A-Z index are matched to careers by this key.
    """
    path = urlsplit(url).path.replace("/mobile/", "/")
    match = OCCUPATION_PATH_RE.search(path)
    if not match:
        return path.lower()
    return f"/ooh/{match.group('group').lower()}/{match.group('slug').lower()}.htm"


def is_occupation_url(url: str) -> bool:
    """True for an occupation profile URL (not a group home page or a handbook section)."""
    return bool(OCCUPATION_PATH_RE.search(urlsplit(url).path)) and "/mobile/" not in url


@dataclass(frozen=True)
class Projection:
    """One row of the employment projections table."""

    title: str
    soc_code: str | None
    employment: int | None
    projected_employment: int | None
    change_pct: float | None
    change_numeric: int | None


@dataclass(frozen=True)
class PayFigures:
    """Median and percentile wages read from one passage of the Pay section's prose."""

    who: str
    basis: str
    """annual or hourly."""
    median: float
    p10: float | None
    p90: float | None
    text: str


_PAY_MEDIAN_RE = re.compile(
    r"The median (?P<basis>annual|hourly) wage for (?P<who>.+?) was \$(?P<median>[\d,]+(?:\.\d+)?)", re.I)
_P10_RE = re.compile(r"lowest 10 percent earned less than \$([\d,]+(?:\.\d+)?)", re.I)
_P90_RE = re.compile(r"highest 10 percent earned more than \$([\d,]+(?:\.\d+)?)", re.I)


class OOHPage(Page):
    """Anything on the handbook: navigation links shared by every OOH page."""

    source = SOURCE

    def occupation_links(self) -> list[str]:
        """Links to occupation profiles, in page order."""
        return [url for url in self.links() if is_occupation_url(url)]

    def group_links(self) -> list[str]:
        """Links to occupation group home pages (``/ooh/<group>/home.htm``)."""
        return [url for url in self.links() if GROUP_PATH_RE.search(urlsplit(url).path)]

    def index_links(self) -> list[str]:
        """Links to the handbook's A-Z index and site map."""
        return [url for url in self.links()
                if re.search(r"/ooh/(a-z-index|a-z/index|ooh-site-map)\.html?$", urlsplit(url).path)]


class OccupationIndexPage(OOHPage):
    """OOH home, a group home page, the occupation finder or site map: lists of occupations."""

    def to_items(self) -> list[Item]:
        """Index pages carry no item of their own."""
        return []


class AZIndexPage(OOHPage):
    """The A-Z index: thousands of job titles people use, each pointing at its occupation."""

    def entries(self) -> list[tuple[str, str]]:
        """``(alternate title, occupation URL)`` for every "X, see: Occupation" line, in page order."""
        return list(self._entries)

    @cached_property
    def _entries(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for li in self.xpath("//li[a][contains(normalize-space(.), 'see:')]"):
            anchors = li.xpath("./a")
            if len(anchors) < 2:
                continue
            alias = self.text_of(anchors[0])
            target = self.urljoin(anchors[-1].attrib.get("href")) or self.urljoin(anchors[0].attrib.get("href"))
            occupation = self.text_of(anchors[-1])
            if not alias or not target or not is_occupation_url(target):
                continue
            if occupation and alias.lower() == occupation.lower():
                continue
            out.append((alias, target))
        return out

    def aliases(self) -> dict[str, str]:
        """Alternate title -> occupation URL (the first one, when a title points at several)."""
        mapping: dict[str, str] = {}
        for alias, url in self.entries():
            mapping.setdefault(alias, url)
        return mapping

    def aliases_by_key(self) -> dict[str, list[str]]:
        """``occupation_key(url)`` -> its alternate titles; what a spider adds to ``also_known_as``."""
        grouped: dict[str, list[str]] = {}
        for alias, url in self.entries():
            titles = grouped.setdefault(occupation_key(url), [])
            if alias not in titles:
                titles.append(alias)
        return grouped

    def to_items(self) -> list[Item]:
        """The index yields no item itself; its aliases join the careers (see ``with_aliases``)."""
        return []


class CareerPage(OOHPage):
    """An occupation profile: Quick Facts, the nine tabs, the projections table."""

    # -- sections ------------------------------------------------------------------------

    def _section(self, h2_id: str, tab_id: str) -> Selector | None:
        """A tab's content, found by its heading id (which survives the mobile accordion script)."""
        for query in (
            f"//*[@id='{h2_id}']/ancestor::article[1]",
            f"//*[@id='{h2_id}']/ancestor::div[starts-with(@id, 'tab-')][1]",
            f"//div[@id='{tab_id}']",
            f"//*[@id='{h2_id}']/..",
        ):
            found = self.xpath(query)
            if found:
                return found[0]
        return None

    def _prose(self, section: Selector | None) -> str | None:
        """Paragraphs, list items and subheadings of a section, without charts, tables and captions."""
        if section is None:
            return None
        blocks = section.xpath(
            ".//*[self::p or self::li[not(.//p)] or self::h3]"
            "[not(ancestor::table or ancestor::*[contains(concat(' ', normalize-space(@class), ' '), ' ooh-chart ')]"
            " or ancestor::*[contains(@class, 'ooh_right_img')] or ancestor::*[contains(@class, 'image-caption')])]"
        )
        parts = [self.text_of(block) for block in blocks]
        return "\n\n".join(p for p in parts if p) or None

    @cached_property
    def quick_facts(self) -> dict[str, tuple[str, Selector]]:
        """Quick Facts rows: lower-case label -> (cell text, cell)."""
        table = self.css("table#quickfacts")
        if not table:
            table = self.xpath("//table[.//th[contains(normalize-space(.), 'Quick Facts')]]")
        rows: dict[str, tuple[str, Selector]] = {}
        for tr in table[:1].xpath(".//tbody/tr | ./tr"):
            label = self.text_of(tr.xpath("./th"))
            cell = tr.xpath("./td")
            if label and cell:
                rows[label.lower()] = (self.text_of(cell[0]) or "", cell[0])
        return rows

    def _fact(self, *needles: str) -> str | None:
        for label, (value, _) in self.quick_facts.items():
            if all(needle in label for needle in needles):
                return value or None
        return None

    @cached_property
    def projections(self) -> list[Projection]:
        """Rows of the employment projections table (the occupation first, then its detailed occupations)."""
        table = self.xpath("(//*[@id='job-outlook']/ancestor::article[1]//table)[last()]")
        if not table or "soc" not in (self.text_of(table.xpath(".//thead")) or "").lower():
            table = self.xpath("//table[@id='outlook-table'] | //table[.//thead//th[contains(., 'SOC Code')]]")
        rows: list[Projection] = []
        for tr in table[:1].xpath("./tbody/tr | ./tr[td]"):
            title = self.text_of(tr.xpath("./th"))
            cells = [self.text_of(td) or "" for td in tr.xpath("./td")]
            if not title or len(cells) < 5:
                continue
            soc = _SOC_RE.search(cells[0])
            if not soc:
                # A group heading row prints "—"; the Get-data link may still carry the code.
                link = tr.xpath(".//a[contains(@href, 'queryParams=')]/@href").get() or ""
                soc = _SOC_RE.search(link.split("queryParams=")[-1]) if "queryParams=" in link else None
            rows.append(Projection(
                title=title,
                soc_code=soc.group(1) if soc else None,
                employment=parse_int(cells[1]),
                projected_employment=parse_int(cells[2]),
                change_pct=_as_float(parse_number(cells[3])),
                change_numeric=parse_int(cells[4]),
            ))
        return rows

    @cached_property
    def pay_figures(self) -> list[PayFigures]:
        """Every "The median ... wage for X was $M ... lowest 10 percent ... highest 10 percent" passage."""
        section = self._section("pay", "tab-5")
        text = " ".join(
            part for part in (self.text_of(p) for p in (section.xpath(".//p") if section is not None else [])) if part
        )
        matches = list(_PAY_MEDIAN_RE.finditer(text))
        out: list[PayFigures] = []
        for i, match in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            passage = text[match.start():end]
            # The passage ends at the industry table's lead-in ("In May 2024, the median annual wages ...").
            passage = re.split(r"\s(?=In [A-Z][a-z]+ \d{4}, the median)", passage)[0].strip()
            p10, p90 = _P10_RE.search(passage), _P90_RE.search(passage)
            out.append(PayFigures(
                who=match.group("who"),
                basis=match.group("basis").lower(),
                median=float(match.group("median").replace(",", "")),
                p10=float(p10.group(1).replace(",", "")) if p10 else None,
                p90=float(p90.group(1).replace(",", "")) if p90 else None,
                text=passage,
            ))
        return out

    # -- fields ----------------------------------------------------------------------------

    def title(self) -> str:
        """The occupation as the page heads it."""
        return (self.text_of(self.xpath("//h1")) or self.meta("og:title")
                or (self.projections[0].title if self.projections else "") or "")

    def soc_code(self) -> str | None:
        """SOC code of the occupation (first projections row); None for a group printed as "—"."""
        return self.projections[0].soc_code if self.projections else None

    def summary(self) -> str | None:
        """The page's meta description (BLS's one-line summary), else the Summary tab's "What they do" paragraph."""
        para = self.xpath("//div[@id='tab-1']//h3[.//a[@href='#tab-2']]/following-sibling::p[1]")
        return self.meta("description") or self.meta("og:description") or self.text_of(para)

    def median_pay(self) -> tuple[int | None, float | None, str | None]:
        """(annual, hourly, raw cell text) from Quick Facts, falling back to the Pay prose."""
        raw = self._fact("median pay")
        annual: int | None = None
        hourly: float | None = None
        if raw:
            money = r"([-\u2212]?\s*\$\s*[-\u2212]?[\d,.]+)"
            year = re.search(money + r"\s*per\s*year", raw, re.I)
            hour = re.search(money + r"\s*per\s*hour", raw, re.I)
            if year:
                annual = _whole(parse_money(year.group(1)))
            if hour:
                value = parse_money(hour.group(1))
                hourly = float(value) if value is not None else None
            if not year and not hour:
                annual = _whole(parse_money(raw))
            return annual, hourly, raw
        for figures in self.pay_figures[:1]:
            if figures.basis == "annual":
                annual = int(figures.median)
            else:
                hourly = figures.median
            return annual, hourly, figures.text
        return None, None, None

    def percentiles(self) -> tuple[int | None, int | None, str | None]:
        """(p10, p90 annual, passage) from the Pay prose.

        Pages with detailed occupations give one passage per detail: the passage whose median is
        the occupation's own median wins; without one, the first passage (which names the
        detailed occupation it describes, kept in ``pay_raw``). Hourly-only figures are not
        annual wages, so they are neither converted nor guessed.
        """
        annual, hourly, _ = self.median_pay()
        figures = self.pay_figures
        chosen = None
        for fig in figures:
            if (fig.basis == "annual" and annual is not None and int(fig.median) == annual) or (
                    fig.basis == "hourly" and hourly is not None and abs(fig.median - hourly) < 0.005):
                chosen = fig
                break
        if chosen is None and figures:
            chosen = figures[0]
        if chosen is None:
            return None, None, None
        if chosen.basis != "annual":
            return None, None, chosen.text
        return _whole(chosen.p10), _whole(chosen.p90), chosen.text

    def outlook(self) -> tuple[float | None, str | None]:
        """(percent change over ten years, BLS's words for it) from Quick Facts or the projections."""
        raw = self._fact("job outlook")
        pct = parse_percent(raw) if raw else None
        desc = None
        if raw:
            words = re.search(r"\(([^)]*[A-Za-z][^)]*)\)", raw)
            desc = clean_text(words.group(1)) if words else None
        if pct is None and self.projections:
            pct = self.projections[0].change_pct
        return pct, desc

    def group(self) -> str | None:
        """Occupation group slug, e.g. ``healthcare`` (breadcrumb, else the URL path)."""
        for href in reversed(self.xpath(
                "//*[@id='ooh-breadcrumbs' or contains(@class, 'breadcrumb')]//a/@href").getall()):
            match = GROUP_PATH_RE.search(urlsplit(self.urljoin(href) or "").path)
            if match:
                return match.group("group").lower()
        for url in (self.url, self.canonical_url()):
            match = OCCUPATION_PATH_RE.search(urlsplit(url).path)
            if match:
                return match.group("group").lower()
        return None

    def similar_occupations(self) -> list[str]:
        """Names in the Similar Occupations table, in page order (the server sends them sorted by name)."""
        return unique(self.text_of(a) for a in self._similar_anchors())

    def _similar_anchors(self) -> list[Selector]:
        table = self.css("table#similar-occupations")
        if not table:
            section = self._section("similar-jobs", "tab-8")
            table = section.xpath(".//table") if section is not None else table
        # Column 2 holds the name; column 1 the picture link to the same page.
        return list(table[:1].xpath(".//tbody/tr/td[2]//a[@href]"))

    def similar_occupation_links(self) -> list[str]:
        """Links to the similar occupations' profiles."""
        return unique(self.urljoin(a.attrib.get("href")) for a in self._similar_anchors())

    def detailed_occupations(self) -> list[str]:
        """Detailed occupations from the projections table (e.g. "Stonemasons" under Masonry workers).

        Not copied into ``also_known_as``: they are narrower occupations, not other names for this
        one, and the A-Z index already lists the job titles people use for them.
        """
        title = self.title().lower()
        return unique(p.title for p in self.projections[1:] if p.title.lower() != title)

    def accreditors(self) -> list[str]:
        """Accreditors the profile names anywhere in its tabs."""
        scope = (self.xpath("//div[@id='panes']") or self.xpath("//div[starts-with(@id, 'tab-')]")
                 or self.xpath("//*[@id='bodytext'] | //main | //body"))
        return find_accreditors(self.text_of(scope))

    def to_item(self) -> Career:
        """The career this page describes."""
        annual, hourly, pay_raw_cell = self.median_pay()
        p10, p90, pay_raw = self.percentiles()
        pct, desc = self.outlook()
        first = self.projections[0] if self.projections else None
        jobs = parse_int(self._fact("number of jobs"))
        change = parse_int(self._fact("employment change"))
        return Career(
            url=self.url,
            source=self.source,
            soc_code=self.soc_code(),
            title=self.title(),
            also_known_as=[],
            summary=self.summary(),
            median_pay_annual=annual,
            median_pay_annual_raw=pay_raw_cell,
            median_pay_hourly=hourly,
            pay_p10=p10,
            pay_p90=p90,
            pay_raw=pay_raw,
            entry_education=self._fact("entry-level education") or self._fact("education"),
            work_experience=self._fact("work experience"),
            training=self._fact("training"),
            jobs=jobs if jobs is not None else (first.employment if first else None),
            projected_employment=first.projected_employment if first else None,
            outlook_pct=pct,
            outlook_desc=desc,
            employment_change=change if change is not None else (first.change_numeric if first else None),
            accreditors=self.accreditors(),
            similar_occupations=self.similar_occupations(),
            group=self.group(),
            what_they_do=self._prose(self._section("what-they-do", "tab-2")),
            work_environment=self._prose(self._section("work-environment", "tab-3")),
            how_to_become=self._prose(self._section("become-one", "tab-4")),
            updated=parse_date(self.meta("date")),
        )

    def to_items(self) -> list[Item]:
        """One Career (none when the page carries no occupation data at all, e.g. an error page)."""
        if not self.title() or not (self.quick_facts or self.projections or self.pay_figures):
            return []
        return [self.to_item()]


def _as_float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _whole(value: float | int | None) -> int | None:
    return None if value is None else int(round(value))


def with_aliases(items: Iterable[Item], aliases: Iterable[str]) -> list[Item]:
    """Add alternate titles (from the A-Z index) to the careers' ``also_known_as``, without duplicates."""
    extra = list(aliases)
    out: list[Item] = []
    for item in items:
        if isinstance(item, Career) and extra:
            have = {a.lower() for a in item.also_known_as} | {item.title.lower()}
            for alias in extra:
                if alias.lower() not in have:
                    item.also_known_as.append(alias)
                    have.add(alias.lower())
        out.append(item)
    return out


def page_for(url: str, body: bytes | str, headers: Any = None, encoding: str | None = None,
             source: str | None = None) -> OOHPage:
    """The right page object for an OOH URL or saved file, judged by its content, then its URL."""
    page = OOHPage(url, body, headers, encoding, source=source)
    # Index pages built on the profile template carry its tabs too; the Quick Facts table (or an
    # occupation URL with a Job Outlook tab) is what makes a page an occupation profile.
    if page.css("table#quickfacts") or (is_occupation_url(url) and page.xpath("//*[@id='job-outlook']")):
        return page.as_page(CareerPage)
    if page.css(".a-z-list") or re.search(r"/a-z-index\.html?$", urlsplit(url).path):
        return page.as_page(AZIndexPage)
    return page.as_page(OccupationIndexPage)
