"""Generic extractors for sites without a profile of their own.

Two readers, so that a site can be added with a start URL and a link pattern alone:

1. schema.org data in JSON-LD and microdata (via extruct): CollegeOrUniversity /
   EducationalOrganization -> Institution, EducationalOccupationalProgram -> Program,
   Occupation -> Career, Review -> Review (also reviews nested in an organization, which
   gives them their school). AggregateRating is read for ``aggregate_rating()`` but is not
   an item: it summarises reviews, it is not one.
2. Career pages in plain HTML from older college portals, where pay appears only as text
   ("Lowest 10%: $21,480", "Median Salary $33,610", "Top 10% earn $52,900", "the median annual
   wage was $50,250"); the title is the page heading, "Also known as ..." gives aliases and
   accreditor names or acronyms in the text go to ``accreditors``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from crawler.pages.base import Page, unique
from crawler.processors import (
    accreditor_label,
    clean_text,
    find_accreditors,
    parse_date,
    parse_degree_level,
    parse_delivery,
    parse_int,
    parse_money,
    parse_number,
    parse_percent,
    split_aliases,
    state_or_raw,
)
from model.items import Career, Institution, Item, Program, Review

logger = logging.getLogger(__name__)

SOURCE = "generic"
MAX_TEXT = 300_000
"""Characters of a page's text the plain-text heuristics read (a career page has far fewer)."""

INSTITUTION_TYPES = {"CollegeOrUniversity", "EducationalOrganization", "School"}
PROGRAM_TYPES = {"EducationalOccupationalProgram", "WorkBasedProgram"}
CAREER_TYPES = {"Occupation"}
REVIEW_TYPES = {"Review", "UserReview", "CriticReview", "EmployerReview"}

_ID_SAFE = re.compile(r"[^A-Za-z0-9._:-]+")
_SOC_RE = re.compile(r"\b(\d{2}-\d{4})(?:\.\d{2})?\b")
_MONEY = r"\$\s?[\d,]+(?:\.\d{1,2})?(?:\s?[kK]\b)?"
# A label and its figure may sit in adjacent cells (one line apart), but no further.
_GAP = r"[^$\n]{0,40}?(?:\n[^$\n]{0,20}?)?"
_P10_RES = (
    re.compile(rf"\b(?:lowest|bottom)\s+10\s*(?:%|percent)(?:\s+of\s+\w+)?{_GAP}({_MONEY})", re.I),
    re.compile(rf"\b10(?:th)?\s*(?:%|percent)(?:ile)?\s*(?:wage|salary|pay)?\s*[:\-]?\s*({_MONEY})", re.I),
)
_P90_RES = (
    re.compile(rf"\b(?:highest|top)\s+10\s*(?:%|percent)(?:\s+of\s+\w+)?{_GAP}({_MONEY})", re.I),
    re.compile(rf"\b90(?:th)?\s*(?:%|percent)(?:ile)?\s*(?:wage|salary|pay)?\s*[:\-]?\s*({_MONEY})", re.I),
)
_MEDIAN_RE = re.compile(
    rf"\bmedian\s+(?:(?P<basis>annual|yearly|hourly)\s+)?(?:salary|wage|pay|earnings|income)s?\b{_GAP}"
    rf"(?P<amount>{_MONEY})(?P<after>[^.\n]{{0,24}})",
    re.I,
)
_ALSO_KNOWN_RE = re.compile(
    r"\b(?:also\s+(?:known|called|referred\s+to)\s+as|other\s+(?:job\s+)?titles?(?:\s+include)?|"
    r"sometimes\s+called|job\s+titles?\s+include)\s*:?\s*(?P<names>[^.;\n]+)",
    re.I,
)
_LABELS = {
    "entry_education": re.compile(
        r"\b(?:typical\s+)?(?:entry[- ]level\s+)?education(?:\s+(?:required|needed|level))?\s*:\s*([^\n.;]+)", re.I),
    "work_experience": re.compile(r"\bwork\s+experience(?:\s+in\s+a\s+related\s+occupation)?\s*:\s*([^\n.;]+)", re.I),
    "training": re.compile(r"\bon[- ]the[- ]job\s+training\s*:\s*([^\n.;]+)", re.I),
    "jobs": re.compile(r"\b(?:number\s+of\s+jobs|employment)(?:,?\s*\d{4})?\s*:\s*([\d,]+)", re.I),
    "outlook": re.compile(r"\b(?:job\s+outlook|projected\s+growth)(?:,?\s*\d{4}\s*[-\u2013]\s*\d{2,4})?\s*:\s*([^\n;]+)", re.I),
}


def _slug(text: str) -> str:
    return _ID_SAFE.sub("-", text).strip("-")[:60] or "x"


def _digest(*parts: str | None) -> str:
    return hashlib.sha1("|".join(p or "" for p in parts).encode("utf-8")).hexdigest()[:12]


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type") or node.get("type") or []
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values if v}


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _text(value: Any) -> str | None:
    """A schema.org value as text: strings as is, objects by their name / value / text."""
    value = _first(value)
    if isinstance(value, dict):
        for key in ("name", "value", "text", "codeValue", "@value", "credentialCategory", "description"):
            if value.get(key) not in (None, ""):
                return _text(value[key])
        return None
    if value is None or isinstance(value, bool):
        return None
    return clean_text(str(value))


def _texts(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return unique(_text(v) for v in values)


def _local_id(ident: str | None) -> str | None:
    """The site's own id: a bare identifier, or the last part of an ``@id`` URL (fragment or path)."""
    if not ident:
        return None
    if re.match(r"^https?://", ident):
        parts = urlsplit(ident)
        return parts.fragment or parts.path.rstrip("/").rsplit("/", 1)[-1] or None
    return ident


def _non_soc(text: str | None) -> str | None:
    """A category name, unless it is only an SOC code."""
    return None if not text or _SOC_RE.fullmatch(text.strip()) else text


def _float(value: Any) -> float | None:
    number = parse_number(_text(value))
    return None if number is None else float(number)


class GenericPage(Page):
    """Any HTML page: schema.org items first, plain-text career heuristics second."""

    source = SOURCE

    # -- structured data -------------------------------------------------------------------

    @cached_property
    def structured_data(self) -> list[dict[str, Any]]:
        """Top-level schema.org objects from JSON-LD and microdata (``@graph`` unrolled)."""
        nodes: list[dict[str, Any]] = []
        for script in self.xpath("//script[contains(translate(@type, 'LDJSON', 'ldjson'), 'ld+json')]"):
            nodes.extend(self._json_ld(script.xpath("string()").get() or ""))
        try:
            import extruct

            data = extruct.extract(self.selector.root, base_url=self.url, syntaxes=["microdata"], uniform=True,
                                   errors="ignore")
            nodes.extend(n for n in data.get("microdata", []) if isinstance(n, dict))
        except Exception as exc:  # noqa: BLE001 - a third-party parser must not take the page down
            logger.debug("microdata extraction failed on %s: %s", self.url, exc)
        out: list[dict[str, Any]] = []
        for node in nodes:
            graph = node.get("@graph")
            if isinstance(graph, list):
                out.extend(g for g in graph if isinstance(g, dict))
            else:
                out.append(node)
        return out

    def _json_ld(self, script: str) -> list[dict[str, Any]]:
        """One JSON-LD block; a broken block is skipped alone (extruct would drop the whole page's)."""
        text = re.sub(r"^\s*(<!--|//[^\n]*\n)|-->\s*$", "", script.strip())
        text = re.sub(r"^\s*<!\[CDATA\[|\]\]>\s*$", "", text)
        try:
            data = json.loads(text, strict=False)
        except ValueError:
            try:
                import jstyleson  # extruct's own fallback for JSON with comments and trailing commas

                data = jstyleson.loads(text, strict=False)
            except Exception:  # noqa: BLE001
                logger.debug("skipping unreadable JSON-LD block on %s", self.url)
                return []
        if isinstance(data, dict):
            return [data]
        if isinstance(data, list):
            return [d for d in data if isinstance(d, dict)]
        return []

    def _walk(self) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        """Every schema.org object with the object it sits in (reviews inside a college)."""
        stack: list[tuple[Any, dict[str, Any] | None]] = [(n, None) for n in reversed(self.structured_data)]
        seen: set[int] = set()
        while stack:
            node, parent = stack.pop()
            if isinstance(node, list):
                stack.extend((n, parent) for n in reversed(node))
                continue
            if not isinstance(node, dict) or id(node) in seen:
                continue
            seen.add(id(node))
            yield node, parent
            for key, value in node.items():
                if key.startswith("@"):
                    continue
                if isinstance(value, (dict, list)):
                    stack.append((value, node))

    def aggregate_rating(self) -> dict[str, float | int | None] | None:
        """The page's AggregateRating (value on a 1-5 scale, count), if it has one."""
        for node, _ in self._walk():
            if "AggregateRating" in _types(node):
                value = _float(node.get("ratingValue"))
                best = _float(node.get("bestRating")) or 5.0
                count = parse_int(_text(node.get("reviewCount")) or _text(node.get("ratingCount")))
                return {"rating": round(value * 5.0 / best, 2) if value is not None and best else None,
                        "count": count}
        return None

    # -- schema.org -> items ---------------------------------------------------------------

    def _item_id(self, ident: str | None, *fallback: str | None) -> str:
        """``<source>:<host>:<the site's id>``, or a digest of what identifies the record on the page."""
        host = _slug(urlsplit(self.url).netloc or "local")
        return f"{_slug(self.source)}:{host}:{_slug(ident) if ident else _digest(*fallback)}"

    def _institution(self, node: dict[str, Any]) -> Institution | None:
        name = _text(node.get("name")) or _text(node.get("legalName"))
        if not name:
            return None
        address = _first(node.get("address"))
        geo = _first(node.get("geo")) or {}
        website = _text(node.get("url")) or _text(node.get("sameAs"))
        unitid = None
        identifiers = node.get("identifier")
        for ident in identifiers if isinstance(identifiers, list) else [identifiers]:
            if isinstance(ident, dict) and re.search(r"ipeds|unitid", str(ident.get("propertyID", "")), re.I):
                unitid = _text(ident.get("value"))
        aliases: list[str] = []
        for alias in _texts(node.get("alternateName")):
            aliases.extend(split_aliases(alias, exclude=[name, *aliases]) if "|" in alias else [alias])
        return Institution(
            url=self.url,
            source=self.source,
            unitid=unitid,
            name=name,
            aliases=[a for a in unique(aliases) if a != name],
            address=_text(address.get("streetAddress")) if isinstance(address, dict) else _text(address),
            city=_text(address.get("addressLocality")) if isinstance(address, dict) else None,
            state=state_or_raw(_text(address.get("addressRegion"))) if isinstance(address, dict) else None,
            zip=_text(address.get("postalCode")) if isinstance(address, dict) else None,
            latitude=_float(geo.get("latitude")) if isinstance(geo, dict) else None,
            longitude=_float(geo.get("longitude")) if isinstance(geo, dict) else None,
            website=website if website and website.rstrip("/") != self.url.rstrip("/") else None,
            phone=_text(node.get("telephone")),
        )

    def _program(self, node: dict[str, Any], parent: dict[str, Any] | None) -> Program | None:
        name = _text(node.get("name"))
        if not name:
            return None
        provider = _first(node.get("provider")) or (parent if parent and _types(parent) & INSTITUTION_TYPES else None)
        provider = provider if isinstance(provider, dict) else {"name": provider} if provider else {}
        address = _first(provider.get("address")) if isinstance(provider, dict) else None
        institution_name = _text(provider.get("name"))
        credential = node.get("educationalCredentialAwarded") or node.get("programType") or node.get("hasCredential")
        mode = node.get("educationalProgramMode") or node.get("courseMode") or node.get("deliveryMode")
        accreditor = _text(node.get("recognizedBy")) or _text(node.get("accreditedBy"))
        ident = _local_id(_text(node.get("identifier")) or _text(node.get("@id")))
        program_id = self._item_id(ident, institution_name, name)
        return Program(
            url=self.url,
            source=self.source,
            program_id=program_id,
            institution_name=institution_name,
            name=name,
            field=_text(node.get("about")) or _non_soc(_text(node.get("occupationalCategory"))),
            degree_level=parse_degree_level(_text(credential) or name),
            accreditor=accreditor_label(accreditor) if accreditor else None,
            accreditor_name=accreditor,
            delivery=parse_delivery(" ".join(_texts(mode))),
            state=state_or_raw(_text(address.get("addressRegion"))) if isinstance(address, dict) else None,
            city=_text(address.get("addressLocality")) if isinstance(address, dict) else None,
        )

    def _career(self, node: dict[str, Any]) -> Career | None:
        title = _text(node.get("name")) or _text(node.get("title"))
        if not title:
            return None
        salary = _first(node.get("estimatedSalary")) or {}
        unit = (_text(salary.get("unitText")) or "YEAR").upper() if isinstance(salary, dict) else "YEAR"
        median = _float(salary.get("median") or salary.get("value")) if isinstance(salary, dict) else None
        p10 = _float(salary.get("percentile10")) if isinstance(salary, dict) else None
        p90 = _float(salary.get("percentile90")) if isinstance(salary, dict) else None
        annual = unit.startswith("YEAR") or unit.startswith("ANNUAL")
        category = _text(node.get("occupationalCategory")) or ""
        soc = _SOC_RE.search(category)
        description = _text(node.get("description"))
        education = node.get("educationRequirements")
        return Career(
            url=self.url,
            source=self.source,
            soc_code=soc.group(1) if soc else None,
            title=title,
            also_known_as=[a for a in _texts(node.get("alternateName")) if a != title],
            summary=description,
            median_pay_annual=int(median) if median is not None and annual else None,
            median_pay_hourly=median if median is not None and unit.startswith("HOUR") else None,
            pay_p10=int(p10) if p10 is not None and annual else None,
            pay_p90=int(p90) if p90 is not None and annual else None,
            entry_education=_text(education),
            work_experience=_text(node.get("experienceRequirements")),
            accreditors=find_accreditors(" ".join(filter(None, [description, _text(node.get("qualifications"))]))),
            what_they_do=_text(node.get("responsibilities")),
        )

    def _review(self, node: dict[str, Any], parent: dict[str, Any] | None) -> Review | None:
        body = _text(node.get("reviewBody")) or _text(node.get("text")) or _text(node.get("description"))
        rating_node = _first(node.get("reviewRating")) or {}
        value = _float(rating_node.get("ratingValue")) if isinstance(rating_node, dict) else _float(rating_node)
        best = (_float(rating_node.get("bestRating")) if isinstance(rating_node, dict) else None) or 5.0
        worst = (_float(rating_node.get("worstRating")) if isinstance(rating_node, dict) else None) or 1.0
        rating = None
        if value is not None and best > worst:
            # Sites rate on other scales (0-10, 1-100); the item model's is 1-5.
            scaled = value if (best, worst) == (5.0, 1.0) else 1 + (value - worst) * 4.0 / (best - worst)
            rating = int(round(scaled))
        if not body and rating is None:
            return None
        reviewed = _first(node.get("itemReviewed")) or parent or {}
        reviewed = reviewed if isinstance(reviewed, dict) else {"name": reviewed}
        address = _first(reviewed.get("address"))
        author = _first(node.get("author"))
        role = (_text(author.get("jobTitle")) or _text(author.get("description")) or _text(author.get("name"))
                if isinstance(author, dict) else _text(author))
        date = parse_date(_text(node.get("datePublished")) or _text(node.get("dateCreated")))
        ident = _local_id(_text(node.get("identifier")) or _text(node.get("@id")))
        review_id = self._item_id(ident, self.url, role, date, body)
        return Review(
            url=self.url,
            source=self.source,
            review_id=review_id,
            institution_name=_text(reviewed.get("name")),
            institution_city=_text(address.get("addressLocality")) if isinstance(address, dict) else None,
            institution_state=state_or_raw(_text(address.get("addressRegion"))) if isinstance(address, dict) else None,
            rating=rating,
            title=_text(node.get("name")) or _text(node.get("headline")),
            body=body or "",
            author_role=role,
            category=_text(node.get("reviewAspect")) or _text(node.get("about")),
            date=date,
        )

    def structured_items(self) -> list[Item]:
        """Items from the page's schema.org data."""
        items: list[Item] = []
        for node, parent in self._walk():
            types = _types(node)
            item: Item | None = None
            if types & PROGRAM_TYPES:
                item = self._program(node, parent)
            elif types & CAREER_TYPES:
                item = self._career(node)
            elif types & REVIEW_TYPES:
                item = self._review(node, parent)
            elif types & INSTITUTION_TYPES and not (parent and _types(parent) & (PROGRAM_TYPES | REVIEW_TYPES)):
                item = self._institution(node)
            if item is not None:
                items.append(item)
        return items

    # -- plain-text careers ----------------------------------------------------------------

    @cached_property
    def main_text(self) -> str:
        """The page's readable text, one block or ``<br>`` line per line, without nav, header and footer."""
        scope = (self.xpath("//main | //*[@role='main'] | //article") or self.xpath("//body")
                 or self.selector.xpath("/*"))
        lines = self.lines_of(scope[0], skip={"nav", "header", "footer", "aside", "form", "select"}, limit=MAX_TEXT)
        return "\n".join(lines)[:MAX_TEXT]

    def heading(self) -> str | None:
        """The page heading (first ``h1``), else the ``<title>`` up to a site-name separator."""
        h1 = self.text_of(self.xpath("(//h1)[1]"))
        if h1:
            return h1
        title = self.text_of(self.xpath("//title"))
        return clean_text(re.split(r"\s+[|\u2013\u2014-]\s+", title)[0]) if title else None

    @cached_property
    def _text_pay(self) -> tuple[int | None, float | None, int | None, int | None, str | None]:
        return self._read_text_pay()

    def text_pay(self) -> tuple[int | None, float | None, int | None, int | None, str | None]:
        """(median annual, median hourly, p10, p90, the text they came from) found in running text."""
        return self._text_pay

    def _read_text_pay(self) -> tuple[int | None, float | None, int | None, int | None, str | None]:
        """(median annual, median hourly, p10, p90, the text they came from) found in running text."""
        text = self.main_text
        annual: int | None = None
        hourly: float | None = None
        sources: list[str] = []
        for match in _MEDIAN_RE.finditer(text):
            value = parse_money(match.group("amount"))
            if value is None:
                continue
            basis = (match.group("basis") or "").lower()
            hourly_hint = basis == "hourly" or re.search(r"per\s+hour|an\s+hour|/\s*h(ou)?r|hourly", match.group("after"), re.I)
            if hourly_hint or (not basis and value < 200):
                hourly = hourly if hourly is not None else float(value)
            elif annual is None:
                annual = int(round(value))
            sources.append(text[match.start():match.end("amount")])
        p10 = self._percentile(_P10_RES, text, sources)
        p90 = self._percentile(_P90_RES, text, sources)
        raw = " | ".join(unique(clean_text(s) for s in sources)) or None
        return annual, hourly, p10, p90, raw

    @staticmethod
    def _percentile(patterns: tuple[re.Pattern[str], ...], text: str, sources: list[str]) -> int | None:
        for pattern in patterns:
            for match in pattern.finditer(text):
                value = parse_money(match.group(1))
                # Hourly percentiles are not annual wages; leave them out rather than guess.
                if value is not None and value >= 200:
                    sources.append(match.group(0))
                    return int(round(value))
        return None

    def text_aliases(self, title: str | None) -> list[str]:
        """Names from "Also known as ..." / "Other job titles: ..." sentences."""
        names: list[str] = []
        text = self.main_text
        for match in _ALSO_KNOWN_RE.finditer(text):
            chunk = match.group("names")
            if text[:match.start()].rstrip().endswith(","):
                # An aside ("Surgical technologists, sometimes called scrub techs, assist ...") ends at its comma.
                chunk = chunk.split(",")[0]
            chunk = re.sub(r"\s*\((?:or|e\.g\.)[^)]*\)", "", chunk)
            for part in re.split(r",\s*(?:and\s+|or\s+)?|\s+or\s+|\s+and\s+|/", chunk):
                name = clean_text(part.strip(" \"'\u201c\u201d"))
                if name and 1 < len(name) <= 80 and (not title or name.lower() != title.lower()):
                    names.append(name)
        return unique(names)

    def looks_like_career(self) -> bool:
        """True when the text talks pay the way career pages do (a median or a 10th/90th percentile)."""
        annual, hourly, p10, p90, _ = self.text_pay()
        return any(v is not None for v in (annual, hourly, p10, p90))

    def text_career(self) -> Career | None:
        """A Career read from plain text, or None when the page shows no pay figures."""
        if not self.looks_like_career():
            return None
        title = self.heading()
        if not title:
            return None
        annual, hourly, p10, p90, raw = self.text_pay()
        text = self.main_text
        soc = re.search(r"\b(?:SOC|O\*NET)(?:[- ]SOC)?(?:\s+code)?\s*:?\s*(\d{2}-\d{4})", text, re.I) or None
        fields: dict[str, str | None] = {}
        for name, pattern in _LABELS.items():
            match = pattern.search(text)
            fields[name] = clean_text(match.group(1)) if match else None
        outlook = fields.get("outlook")
        growth = re.search(r"projected to (?:grow|decline|change)\s+(-?\d+(?:\.\d+)?)\s*(?:%|percent)", text, re.I)
        outlook_pct = parse_percent(outlook) if outlook else None
        if outlook_pct is None and growth:
            outlook_pct = float(growth.group(1)) * (-1 if "decline" in growth.group(0).lower() else 1)
        summary = self.meta("description") or self.text_of(self.xpath("(//h1)[1]/following::p[1]"))
        return Career(
            url=self.url,
            source=self.source,
            soc_code=soc.group(1) if soc else None,
            title=title,
            also_known_as=self.text_aliases(title),
            summary=summary,
            median_pay_annual=annual,
            median_pay_hourly=hourly,
            pay_p10=p10,
            pay_p90=p90,
            pay_raw=raw,
            entry_education=fields.get("entry_education"),
            work_experience=fields.get("work_experience"),
            training=fields.get("training"),
            jobs=parse_int(fields.get("jobs")),
            outlook_pct=outlook_pct,
            accreditors=find_accreditors(text),
        )

    # -- the contract ----------------------------------------------------------------------

    def to_items(self) -> list[Item]:
        """schema.org items; a plain-text Career when the page has no structured one."""
        items = self.structured_items()
        if not any(isinstance(i, Career) for i in items):
            career = self.text_career()
            if career is not None:
                items.append(career)
        return items


def page_for(url: str, body: bytes | str, headers: Any = None, encoding: str | None = None,
             source: str | None = None) -> GenericPage:
    """A generic page object (there is only one kind)."""
    return GenericPage(url, body, headers, encoding, source=source)
