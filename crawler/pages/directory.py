"""An accreditor's program directory in the style of CAHIIM's: listings and program detail pages.

The listing (``/cahiim/program-directory?state=&degree=&delivery=&page=``) shows one row per
program with a link to its detail page (``.../program/<id>``); the detail page carries every
field. Only detail pages yield items: a listing row lacks the dates, and two partial copies of
one program would make it look changed on every crawl. ``program_id`` is ``cahiim-<id>`` (the
directory's own number); the institution name is kept as the directory writes it, with no IPEDS
id, for record linkage to resolve later.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urlsplit

from parsel import Selector

from crawler.pages.base import Page, unique
from crawler.processors import (
    accreditor_label,
    clean_text,
    lookup_accreditor,
    parse_accreditation,
    parse_date,
    parse_degree_level,
    parse_delivery,
    state_or_raw,
)
from model.items import Item, Program

SOURCE = "directory"
ID_PREFIX = "cahiim"
DEFAULT_ACCREDITOR = "Commission on Accreditation for Health Informatics and Information Management Education"
_DETAIL_RE = re.compile(r"/program(?:-directory/program|s)/(\d+)/?$")


def program_id_for(directory_id: str | int, prefix: str = ID_PREFIX) -> str:
    """The item id of a directory program: ``cahiim-<directory id>``."""
    return f"{prefix}-{directory_id}"


class DirectoryPage(Page):
    """Anything on the directory site."""

    source = SOURCE

    def detail_links(self) -> list[str]:
        """Links to program detail pages, in page order."""
        return unique(url for url in self.links() if _DETAIL_RE.search(urlsplit(url or "").path))

    def to_items(self) -> list[Item]:
        """Only program pages carry items."""
        return []


class DirectoryListingPage(DirectoryPage):
    """A page of the program list, with filter (state, degree, delivery) and page links."""

    def rows(self) -> list[dict[str, Any]]:
        """The listed programs as the table shows them (id, institution, program, degree, ...)."""
        out: list[dict[str, Any]] = []
        for tr in self.xpath("//table[contains(@class, 'program-list')]//tr[td]"):
            link = tr.xpath(".//a/@href").get()
            url = self.urljoin(link)
            match = _DETAIL_RE.search(urlsplit(url or "").path)
            pid = tr.attrib.get("data-program-id") or (match.group(1) if match else None)
            cells = {c.attrib.get("class", f"col{i}"): self.text_of(c) for i, c in enumerate(tr.xpath("./td"))}
            out.append({"directory_id": pid, "url": url, **cells})
        return out

    def next_page(self) -> str | None:
        """The next listing page (``rel=next``), None on the last."""
        for a in self.xpath("//a[@rel='next' or contains(concat(' ', @class, ' '), ' next ')]"):
            return self.urljoin(a.attrib.get("href"))
        return None

    def page_links(self) -> list[str]:
        """Pagination links (previous and next)."""
        return unique(self.urljoin(a.attrib.get("href")) for a in self.xpath(
            "//nav[contains(@class, 'pagination')]//a | //a[@rel='next' or @rel='prev']"))

    def filter_links(self) -> list[str]:
        """Listing pages per state, degree level and delivery (the facet links)."""
        out = []
        for url in self.links():
            parts = urlsplit(url)
            query = parse_qs(parts.query)
            if parts.path.rstrip("/").endswith("program-directory") and set(query) & {"state", "degree", "delivery"}:
                out.append(url)
        return unique(out)


class DirectoryProgramPage(DirectoryPage):
    """One program's detail page."""

    @cached_property
    def facts(self) -> dict[str, Selector]:
        """The fact list: lower-case label -> value cell (also keyed by the cell's class)."""
        facts: dict[str, Selector] = {}
        for dt in self.xpath("//dl//dt"):
            dd = dt.xpath("following-sibling::dd[1]")
            label = (self.text_of(dt) or "").rstrip(":").lower()
            if dd and label:
                facts.setdefault(label, dd[0])
                for cls in dd[0].attrib.get("class", "").split():
                    facts.setdefault(cls, dd[0])
        return facts

    def _fact(self, *keys: str) -> str | None:
        for key in keys:
            cell = self.facts.get(key)
            if cell is not None:
                text = self.text_of(cell)
                if text and text not in ("\u2014", "-", "N/A", "n/a"):
                    return text
        return None

    def directory_id(self) -> str | None:
        """The directory's number for the program (``data-program-id``, else the URL)."""
        value = self.xpath("//*[contains(@class, 'program-detail')]/@data-program-id").get()
        if value and value.strip().isdigit():
            return value.strip()
        match = _DETAIL_RE.search(urlsplit(self.url).path)
        return match.group(1) if match else None

    def to_item(self) -> Program | None:
        """The program, or None when the page lacks an id or a name (an error page)."""
        pid = self.directory_id()
        name = self.text_of(self.css(".program-title")) or self.text_of(self.xpath("(//h1)[1]"))
        if not pid or not name:
            return None
        status_raw = self._fact("accreditation status", "status")
        status = parse_accreditation(status_raw)
        accreditor_text = self._fact("accreditor") or DEFAULT_ACCREDITOR
        acc = lookup_accreditor(accreditor_text)
        since = self._fact("accredited since", "candidacy since", "accredited-since")
        return Program(
            url=self.url,
            source=self.source,
            program_id=program_id_for(pid),
            institution_name=self._fact("institution") or self.text_of(self.css(".institution-name")),
            name=name,
            field=name,
            degree_level=parse_degree_level(self._fact("degree level", "degree", "degree-level")),
            accreditor=acc.label if acc else accreditor_label(accreditor_text),
            accreditor_name=acc.name if acc else clean_text(accreditor_text),
            accreditation_status=status.status,
            accreditation_status_raw=status_raw,
            accredited_since=parse_date(since),
            next_review=parse_date(self._fact("next review", "next-review")),
            delivery=parse_delivery(self._fact("delivery")),
            state=state_or_raw(self._fact("state")),
            city=self._fact("city"),
        )

    def to_items(self) -> list[Item]:
        """One Program (none for a page that is not a program)."""
        item = self.to_item()
        return [item] if item else []

    def listing_links(self) -> list[str]:
        """Links back to listings (e.g. "More programs in <state>")."""
        return [u for u in self.links() if urlsplit(u).path.rstrip("/").endswith("program-directory")]


def page_for(url: str, body: bytes | str, headers: Any = None, encoding: str | None = None,
             source: str | None = None) -> DirectoryPage:
    """The right page object for a directory URL or saved file (by content, then URL)."""
    page = DirectoryPage(url, body, headers, encoding, source=source)
    if page.xpath("//*[contains(@class, 'program-detail')]"):
        return page.as_page(DirectoryProgramPage)
    if page.xpath("//table[contains(@class, 'program-list')]"):
        return page.as_page(DirectoryListingPage)
    if _DETAIL_RE.search(urlsplit(url).path):
        return page.as_page(DirectoryProgramPage)
    return page.as_page(DirectoryListingPage)
