"""NCES College Navigator: institution profiles (``?id=<IPEDS id>``) and search-result listings.

A profile yields one ``Institution`` and one ``Program`` per row of its "Programmatic
Accreditation" table. Decisions, all visible in the items rather than hidden by skipping:

- Agencies marked "No Longer Recognized" (the Secretary withdrew their recognition) still
  yield their programs, with ``accreditation_status = "no_longer_recognized"``: the history is
  true and useful, and search can filter it out, but it must never read as "accredited".
- A past period, "Accredited (07/01/2001 - 08/26/2009)", is ``withdrawn``; the dates stay in
  ``accreditation_status_raw``.
- The "Internship/Residency" table (post-degree residencies such as a dietetic internship)
  yields no programs: nobody enrolls in those as a course of study.
- ``<em>`` annotations inside a program cell (degree level, delivery, military-friendly,
  online) fill those fields; the program name and the id come from the cell without them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from parsel import Selector

from crawler.pages.base import Page, unique
from crawler.processors import (
    accreditor_label,
    clean_text,
    lookup_accreditor,
    parse_accreditation,
    parse_address,
    parse_bool,
    parse_control,
    parse_date,
    parse_degree_level,
    parse_delivery,
    parse_number,
    split_aliases,
)
from model.items import Institution, Item, Program, make_program_id

SOURCE = "collegenavigator"

_IPEDS_RE = re.compile(r"IPEDS\s*ID:?\s*(\d{5,9})", re.I)
_OPE_RE = re.compile(r"OPE\s*ID:?\s*(\d{6,10})", re.I)
_FIELD_RE = re.compile(r"^(?P<field>.+?)\s*\((?P<code>[A-Z0-9]{2,8})\)\s*(?:-\s*(?P<rest>.*))?$")
_NLR = "No Longer Recognized"


def profile_url(base_url: str, unitid: str) -> str:
    """The canonical profile URL of an institution (``.../collegenavigator/?id=<unitid>``)."""
    return urljoin(base_url, "?" + urlencode({"id": unitid}))


def unitid_from_url(url: str) -> str | None:
    """The IPEDS id in a profile URL's ``id`` parameter."""
    values = parse_qs(urlsplit(url).query).get("id")
    return values[0] if values and values[0].isdigit() else None


@dataclass(frozen=True)
class AccreditationRow:
    """One row of an accreditation table, with the accreditor its subrow names."""

    section: str
    accreditor_name: str
    no_longer_recognized: bool
    program: str
    annotations: tuple[str, ...]
    status_raw: str
    next_review_raw: str


class CollegeNavigatorPage(Page):
    """Anything on College Navigator."""

    source = SOURCE

    def state_links(self) -> list[str]:
        """Links to per-state result listings (``?s=XX``), as the browse-by-state page shows them."""
        out = []
        for url in self.links():
            query = parse_qs(urlsplit(url).query)
            if "s" in query and not set(query) & {"id", "fv", "of", "od", "xp", "cx", "md", "pg"}:
                out.append(url)
        return unique(out)


class InstitutionPage(CollegeNavigatorPage):
    """An institution profile: dashboard, general information, programs, accreditation."""

    # -- dashboard -----------------------------------------------------------------------

    def unitid(self) -> str | None:
        """IPEDS unit id printed on the page (``IPEDS ID: 110635``), else the URL's ``id``."""
        match = _IPEDS_RE.search(self.text_of(self.css(".ipeds")) or "")
        return match.group(1) if match else unitid_from_url(self.url)

    def ope_id(self) -> str | None:
        """OPE id printed next to the IPEDS id."""
        match = _OPE_RE.search(self.text_of(self.css(".ipeds")) or "")
        return match.group(1) if match else None

    def name(self) -> str:
        """The institution's name as the page heads it."""
        return self.text_of(self.css(".headerlg")) or self.text_of(self.css("h1")) or ""

    def address_line(self) -> str | None:
        """The one-line postal address under the name."""
        parts = self.xpath("//span[contains(@class, 'headerlg')]/following-sibling::text()").getall()
        return clean_text(" ".join(parts)) or None

    @cached_property
    def info(self) -> dict[str, Selector]:
        """Dashboard and general-information label -> value cell ("Website", "Type", ...)."""
        rows: dict[str, Selector] = {}
        for tr in self.xpath("//table[contains(@class, 'layouttab')]//tr | //div[@id='general']//table//tr"):
            cells = tr.xpath("./td | ./th")
            if len(cells) < 2:
                continue
            label = (self.text_of(cells[0]) or "").rstrip(": ").strip().lower()
            if label and label not in rows:
                rows[label] = cells[1]
        return rows

    def _info_text(self, *labels: str) -> str | None:
        for label in labels:
            cell = self.info.get(label)
            if cell is not None:
                return self.text_of(cell)
        return None

    def coordinates(self) -> tuple[float | None, float | None]:
        """(latitude, longitude) from the map link's ``ll=`` parameter, when it has one."""
        for href in self.xpath("//a[contains(@href, 'maps.google') or contains(@href, 'google.com/maps')]/@href").getall():
            ll = parse_qs(urlsplit(href).query).get("ll", [""])[0]
            match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*", ll)
            if match:
                lat, lon = float(match.group(1)), float(match.group(2))
                if -90 <= lat <= 90 and -180 <= lon <= 180:
                    return lat, lon
        return None, None

    def website(self) -> str | None:
        """The institution's website (College Navigator links it through ``transfer.asp?location=``)."""
        cell = self.info.get("website")
        if cell is None:
            return None
        href = cell.xpath(".//a/@href").get() or ""
        location = parse_qs(urlsplit(href).query).get("location", [None])[0]
        address = clean_text(location) or self.text_of(cell)
        if not address:
            return None
        return address if re.match(r"^https?://", address, re.I) else "http://" + address

    def level_and_control(self) -> tuple[str | None, str | None]:
        """("4-year", "public") from "Type: 4-year, Public"."""
        text = self._info_text("type")
        if not text:
            return None, None
        level = re.search(r"(4-year|2-year|less than 2-year|less-than-2-year|less than 2 years?)", text, re.I)
        return (level.group(1) if level else None), parse_control(text)

    def aliases(self) -> list[str]:
        """Other names the institution goes by (an "Alias" row, when the page has one)."""
        text = self._info_text("alias", "aliases", "also known as", "other names")
        if text is None:
            alias_node = self.xpath("//*[contains(@class, 'alias')]")
            text = self.text_of(alias_node)
            if text:
                text = re.sub(r"^(aliases?|also known as)\s*:?\s*", "", text, flags=re.I)
        return split_aliases(text, exclude=[self.name()])

    def special_learning(self) -> list[str]:
        """Lines under "Special Learning Opportunities" (distance education, ROTC, ...)."""
        return self._lines_after("Special Learning Opportunities")

    def veteran_services(self) -> list[str]:
        """Lines under "Services and Programs for Servicemembers and Veterans"."""
        return self._lines_after("Services and Programs for Servicemembers and Veterans")

    def _lines_after(self, heading: str) -> list[str]:
        """Text lines (separated by ``<br>``) that follow a bold heading div, up to the next div."""
        heads = self.xpath("//div[normalize-space(.)=$h]", h=heading)
        if not heads:
            return []
        lines: list[str] = []
        current: list[str] = []
        for node in heads[0].xpath("following-sibling::node()"):
            root = node.root
            if isinstance(root, str):
                current.append(root)
                continue
            tag = getattr(root, "tag", "")
            if tag == "br":
                lines.append(" ".join(current))
                current = []
            elif tag in ("div", "table"):
                break
            else:
                current.append(self.text_of(node) or "")
        lines.append(" ".join(current))
        return [line for line in (clean_text(x) for x in lines) if line]

    def online(self) -> bool | None:
        """Whether it offers programs by distance education (explicit row first, else the learning list)."""
        explicit = parse_bool(self._info_text("online", "online programs", "fully online programs"))
        if explicit is not None:
            return explicit
        special = self.special_learning()
        if not special:
            return None
        lines = [line.lower() for line in special if "distance education" in line.lower()]
        return any(re.search(r"(?<!courses offered, )programs offered", line) for line in lines)

    def military_friendly(self) -> bool | None:
        """An explicit "Military friendly" row, else whether it lists services for servicemembers and veterans."""
        explicit = parse_bool(self._info_text("military friendly", "military-friendly"))
        if explicit is not None:
            return explicit
        services = self.veteran_services()
        if not self.xpath("//*[@id='service']") and not services:
            return None
        keywords = ("yellow ribbon", "point of contact", "veteran organization", "credit for military")
        return any(k in line.lower() for line in services for k in keywords)

    def programs_offered(self) -> list[str]:
        """Program names in the Programs/Majors completions table."""
        cells = self.xpath(
            "//table[contains(@class, 'pmtabular')]//tr[contains(@class, 'level1indent')]/td[1]"
            " | //div[@id='programs']//table//tr[contains(@class, 'level1indent')]/td[1]")
        return unique(self.text_of(cell) for cell in cells)

    # -- accreditation -------------------------------------------------------------------

    @cached_property
    def accreditation_rows(self) -> list[AccreditationRow]:
        """Rows of every accreditation table, each with its section heading and accreditor."""
        scope = self.xpath("//div[@id='accred']") or self.selector.xpath("/*")
        rows: list[AccreditationRow] = []
        for table in scope[0].xpath(".//table"):
            heading = self.text_of(table.xpath("preceding-sibling::div[contains(@class, 'tablenames')][1]")) or ""
            accreditor, nlr = "", False
            for tr in table.xpath("./tbody/tr | ./tr"):
                cells = tr.xpath("./td")
                classes = tr.attrib.get("class", "")
                if "subrow" in classes or (len(cells) == 1 and cells[0].attrib.get("colspan")):
                    accreditor, nlr = self._accreditor_cell(cells[0]) if cells else ("", False)
                    continue
                if len(cells) < 2:
                    continue
                name_cell = cells[0]
                annotations = tuple(t for t in (self.text_of(em) for em in name_cell.xpath(".//em")) if t)
                program = clean_text(" ".join(
                    name_cell.xpath(".//text()[not(ancestor::em) and not(ancestor::script)]").getall())) or ""
                rows.append(AccreditationRow(
                    section=heading,
                    # Institutional tables have no subrows: the first cell is the accreditor itself.
                    accreditor_name=accreditor or program,
                    no_longer_recognized=nlr,
                    program=program,
                    annotations=annotations,
                    status_raw=self.text_of(cells[1]) or "",
                    next_review_raw=self.text_of(cells[2]) or "" if len(cells) > 2 else "",
                ))
        return rows

    def _accreditor_cell(self, cell: Selector) -> tuple[str, bool]:
        text = self.text_of(cell) or ""
        if _NLR.lower() in text.lower():
            # The badge sits in its own span; the agency's name is the rest of the cell.
            name = re.sub(re.escape(_NLR), "", text, flags=re.I)
            return clean_text(name) or "", True
        return text, False

    def institutional_accreditation(self) -> AccreditationRow | None:
        """The first row of the "Institutional Accreditation" table."""
        for row in self.accreditation_rows:
            if row.section.lower().startswith("institutional"):
                return row
        return None

    def programmatic_rows(self) -> list[AccreditationRow]:
        """Rows of the "Programmatic Accreditation" table (not internships and residencies)."""
        return [r for r in self.accreditation_rows if r.section.lower().startswith("programmatic")]

    # -- items ---------------------------------------------------------------------------

    def to_institution(self) -> Institution:
        """The institution this profile describes."""
        address = parse_address(self.address_line())
        level, control = self.level_and_control()
        inst = self.institutional_accreditation()
        status = parse_accreditation(inst.status_raw) if inst else None
        latitude, longitude = self.coordinates()
        return Institution(
            url=self.url,
            source=self.source,
            unitid=self.unitid(),
            name=self.name(),
            aliases=self.aliases(),
            address=address["address"],
            city=address["city"],
            state=address["state"],
            zip=address["zip"],
            latitude=latitude,
            longitude=longitude,
            website=self.website(),
            phone=self._info_text("general information", "phone", "telephone"),
            control=control,
            level=level,
            online=self.online(),
            military_friendly=self.military_friendly(),
            accreditor=accreditor_label(inst.accreditor_name) if inst else None,
            accreditation_status=status.status if status else None,
            accredited_since=status.since if status else None,
            next_review=parse_date(inst.next_review_raw) if inst else None,
            ope_id=self.ope_id(),
            programs_offered=self.programs_offered(),
        )

    def to_programs(self, institution: Institution | None = None) -> list[Program]:
        """One Program per programmatic accreditation row."""
        inst = institution or self.to_institution()
        unitid = inst.unitid or ""
        programs: list[Program] = []
        seen: set[str] = set()
        for row in self.programmatic_rows():
            if not row.program or not row.accreditor_name:
                continue
            status = parse_accreditation(row.status_raw)
            status_word = "no_longer_recognized" if row.no_longer_recognized else status.status
            raw = f"{_NLR}: {row.status_raw}" if row.no_longer_recognized else row.status_raw
            program_id = make_program_id(unitid, row.accreditor_name, row.program)
            if program_id in seen:
                continue
            seen.add(program_id)
            field, level = _field_and_level(row.program)
            notes = " ".join(row.annotations)
            acc = lookup_accreditor(row.accreditor_name)
            programs.append(Program(
                url=self.url,
                source=self.source,
                program_id=program_id,
                institution_unitid=inst.unitid,
                institution_name=inst.name,
                name=row.program,
                field=field,
                degree_level=_annotation_level(row.annotations) or level,
                accreditor=acc.label if acc else clean_text(row.accreditor_name),
                accreditor_name=acc.name if acc else clean_text(row.accreditor_name),
                accreditation_status=status_word,
                accreditation_status_raw=clean_text(raw),
                accredited_since=status.since,
                next_review=parse_date(row.next_review_raw),
                delivery=_annotation_delivery(row.annotations),
                military_friendly=_annotation_flag(notes, "military"),
                state=inst.state,
                city=inst.city,
            ))
        return programs

    def to_items(self) -> list[Item]:
        """The Institution, then its Programs; nothing when the page is not a profile (an error page)."""
        institution = self.to_institution()
        if not institution.name or not institution.unitid:
            return []
        return [institution, *self.to_programs(institution)]


def _field_and_level(program: str) -> tuple[str | None, str | None]:
    """ "Nursing (ADNUR) - Associate degree programs" -> ("Nursing", "associate").

    DAPIP program names put the field before the bracketed code; a name without a code is its
    own field ("Didactic Program in Dietetics").
    """
    match = _FIELD_RE.match(program)
    if match:
        return clean_text(match.group("field")), parse_degree_level(match.group("rest") or "")
    return clean_text(program.split(" (")[0]), parse_degree_level(program)


def _annotation_level(annotations: tuple[str, ...]) -> str | None:
    for note in annotations:
        level = parse_degree_level(note)
        if level:
            return level
    return None


def _annotation_delivery(annotations: tuple[str, ...]) -> str | None:
    for note in annotations:
        delivery = parse_delivery(note)
        if delivery:
            return delivery
    return None


def _annotation_flag(notes: str, word: str) -> bool | None:
    """True when an annotation names the flag, False when it negates it ("not military friendly")."""
    lowered = notes.lower()
    if word not in lowered:
        return None
    return not re.search(rf"\b(not|no|non)[\s-]+{word}", lowered)


class ResultsPage(CollegeNavigatorPage):
    """A search-results listing: institutions (name, city, IPEDS id) and page links (``pg=``)."""

    def rows(self) -> list[dict[str, Any]]:
        """One dict per listed institution: unitid, name, city_state, ope_id, detail URL."""
        out: list[dict[str, Any]] = []
        for tr in self.xpath("//table[contains(@class, 'resultsTable')]/tr[td] | "
                             "//table[contains(@class, 'resultsTable')]/tbody/tr[td]"):
            link = tr.xpath(".//td/a[contains(@href, 'id=')][.//strong or not(.//img)]")
            href = link.attrib.get("href") if link else None
            hover = self.text_of(tr.css(".hoverID, .ipeds")) or ""
            unitid = (_IPEDS_RE.search(hover).group(1) if _IPEDS_RE.search(hover)  # type: ignore[union-attr]
                      else unitid_from_url(self.urljoin(href) or ""))
            if not unitid:
                continue
            ope = _OPE_RE.search(hover)
            out.append({
                "unitid": unitid,
                "name": self.text_of(link) if link else None,
                "city_state": clean_text(" ".join(link[0].xpath("../text()").getall())) if link else None,
                "ope_id": ope.group(1) if ope else None,
                "url": profile_url(self.url, unitid),
            })
        return out

    def ipeds_ids(self) -> list[str]:
        """IPEDS ids listed on this page, in order."""
        return unique(row["unitid"] for row in self.rows())

    def detail_links(self) -> list[str]:
        """Canonical profile URLs (``?id=<unitid>``) of the listed institutions.

        The listing links carry the search parameters (``s=``, ``p=``, ``pg=``); the same
        institution appears under many searches, so the canonical form avoids refetching it.
        """
        return unique(row["url"] for row in self.rows())

    def _paging(self) -> list[Selector]:
        """Pager links: numbered pages and Next/Previous (not sort, favourites or mode links)."""
        pager = [a for a in self.xpath("//a[contains(@href, 'pg=')]")
                 if re.fullmatch(r"\d+|.*\b(next|previous|prev)\b.*|[«»‹›]+", (self.text_of(a) or "").lower())]
        return pager

    def current_page(self) -> int:
        """The page number of this listing (``pg=``, default 1)."""
        value = parse_qs(urlsplit(self.url).query).get("pg", ["1"])[0]
        return int(value) if value.isdigit() else 1

    def page_links(self) -> list[str]:
        """Other listing pages to visit: the pager's pages, or on the browse-by-state page, each state's listing."""
        pager = unique(self.urljoin(a.attrib.get("href")) for a in self._paging())
        if pager or self.xpath("//table[contains(@class, 'resultsTable')]"):
            return pager
        return self.state_links()

    def next_page(self) -> str | None:
        """The "Next Page" link, else the pager link to the page after this one; None on the last page."""
        for a in self._paging():
            if "next" in (self.text_of(a) or "").lower():
                return self.urljoin(a.attrib.get("href"))
        want = self.current_page() + 1
        for url in self.page_links():
            value = parse_qs(urlsplit(url).query).get("pg", [""])[0]
            if value.isdigit() and int(value) == want:
                return url
        return None

    def total_results(self) -> int | None:
        """The result count the listing reports ("1–15 of 77 Results" -> 77)."""
        text = self.text_of(self.xpath("//div[contains(@id, 'divMsg')]")) or ""
        match = re.search(r"of\s+([\d,]+)\s+Results", text, re.I) or re.search(r"([\d,]+)\s+Results", text, re.I)
        value = parse_number(match.group(1)) if match else None
        return int(value) if value is not None else None

    def to_items(self) -> list[Item]:
        """None: listing rows are partial; the profile page is the one source of an institution."""
        return []


def page_for(url: str, body: bytes | str, headers: Any = None, encoding: str | None = None,
             source: str | None = None) -> CollegeNavigatorPage:
    """The right page object for a College Navigator URL or saved file (by content, then URL)."""
    page = CollegeNavigatorPage(url, body, headers, encoding, source=source)
    if page.css(".headerlg") or page.xpath("//div[@id='accred']"):
        return page.as_page(InstitutionPage)
    if page.css("table.resultsTable") or page.xpath("//table[contains(@class, 'resultsTable')]"):
        return page.as_page(ResultsPage)
    if unitid_from_url(url):
        return page.as_page(InstitutionPage)
    return page.as_page(ResultsPage)
