"""Pure normalisers shared by every page module: text, money, numbers, dates, statuses, levels.

Each function takes the text as a site printed it and returns the item model's value, or
``None`` when the text does not hold one: a normaliser never raises on odd input, because a
page that prints "N/A" where a number belongs must still yield its other fields. The words that
name statuses, degree levels, deliveries, states and accreditors come from ``model`` (the index
reads filters with the same tables).
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from model.accreditors import Accreditor, accreditor_key, accreditors, lookup_accreditor
from model.vocab import US_STATES, state_code
from model.wording import degree_level_in, delivery_in, status_in

__all__ = [
    "Accreditor",
    "accreditor_label",
    "accreditors",
    "clean_text",
    "clean_multiline",
    "find_accreditors",
    "lookup_accreditor",
    "parse_accreditation",
    "parse_address",
    "parse_bool",
    "parse_control",
    "parse_date",
    "parse_degree_level",
    "parse_delivery",
    "parse_money",
    "parse_number",
    "parse_percent",
    "parse_state",
    "split_aliases",
    "state_or_raw",
]

# --------------------------------------------------------------------------- text

# Characters that render as nothing (zero-width space/joiners, BOM, soft hyphen, bidi marks: Unicode
# category Cf) and control characters (Cc) other than tab and newlines; they break equality and search.
_INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def _drop_invisible(text: str) -> str:
    return _INVISIBLE_RE.sub("", text)


def clean_text(text: str | None) -> str | None:
    """Collapse whitespace (incl. NBSP), drop zero-width and control characters; None for blank."""
    if text is None:
        return None
    # NFC, not NFKC: compatibility folding would rewrite real names ("Mayag\u00b8ez" -> "Mayag \u0327ez").
    cleaned = " ".join(_drop_invisible(unicodedata.normalize("NFC", str(text))).split())
    return cleaned or None


def clean_multiline(parts: Iterable[str | None]) -> str | None:
    """Clean each paragraph and join the non-empty ones with blank lines."""
    paragraphs = [p for p in (clean_text(part) for part in parts) if p]
    return "\n\n".join(paragraphs) or None


# --------------------------------------------------------------------------- numbers

_MINUS = "-\u2212\u2012\u2013\u2014\ufe63\uff0d"
_NUMBER_RE = re.compile(
    rf"(?P<neg>[{_MINUS}]\s*)?(?P<cur>\$\s*)?(?P<neg2>[{_MINUS}]\s*)?(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s*(?P<mult>[kK]\b|thousand\b|million\b|[mM]\b))?"
)
_MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}


def _as_number(value: float) -> int | float:
    """Whole values become int so "$50,250" compares equal to 50250 in JSON and SQL."""
    return int(value) if float(value).is_integer() else round(value, 4)


def _first_number(text: str, need_currency: bool) -> int | float | None:
    normalised = _drop_invisible(unicodedata.normalize("NFKC", text)).replace("\u00a0", " ")
    for match in _NUMBER_RE.finditer(normalised):
        if need_currency and not match.group("cur"):
            continue
        # A minus right after a word character is a hyphen ("2024-34"), not a sign.
        neg = bool(match.group("neg"))
        if match.group("neg2") and match.group("cur"):
            neg = True  # "$-45,000"
        elif neg:
            start = match.start("neg")
            if start > 0 and normalised[start - 1].isalnum():
                neg = False
        value = float(match.group("num").replace(",", ""))
        mult = (match.group("mult") or "").lower()
        if mult:
            value *= _MULTIPLIERS[mult]
        return _as_number(-value if neg else value)
    return None


def parse_money(text: str | None) -> int | float | None:
    """First dollar amount in the text: "$50,250 per year" -> 50250, "$24.16 per hour" -> 24.16.

    Falls back to a bare number ("50,250") when the text has no "$" at all.
    """
    if not text:
        return None
    value = _first_number(text, need_currency=True)
    if value is None and "$" not in text:
        value = _first_number(text, need_currency=False)
    return value


def parse_number(text: str | None) -> int | float | None:
    """A count or quantity with thousands separators: "1,539,800" -> 1539800, "-17,500" -> -17500."""
    if text is None:
        return None
    return _first_number(str(text), need_currency=False)


def parse_int(text: str | None) -> int | None:
    """Like parse_number, rounded to a whole number."""
    value = parse_number(text)
    return None if value is None else int(round(value))


_PERCENT_RE = re.compile(rf"([{_MINUS}+]?\s*\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s*cent\b)", re.IGNORECASE)


def parse_percent(text: str | None) -> float | None:
    """A percentage as a number: "5%" -> 5.0, "-3%" -> -3.0, "grow 7 percent" -> 7.0."""
    if not text:
        return None
    normalised = _drop_invisible(unicodedata.normalize("NFKC", text))
    match = _PERCENT_RE.search(normalised)
    if not match:
        return None
    raw = match.group(1).replace(" ", "")
    negative = raw[0] in _MINUS
    value = float(raw.lstrip(_MINUS + "+"))
    return -value if negative and value else value


# --------------------------------------------------------------------------- dates

_MONTHS = {
    name.lower(): i
    for i, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")],
        start=1,
    )
    for name in names
}
_MDY_RE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b")
_ISO_RE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d|\b)")
_MONTH_NAME_RE = re.compile(
    r"\b(?P<month>[A-Za-z]{3,9})\.?\s+(?:(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+)?(?P<year>\d{4})\b"
)
_DAY_MONTH_RE = re.compile(r"\b(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]{3,9})\.?,?\s+(?P<year>\d{4})\b")
_YEAR_MONTH_RE = re.compile(r"\b(\d{4})-(\d{1,2})\b")


def _iso(year: int, month: int, day: int | None) -> str | None:
    try:
        if day is None:
            _dt.date(year, month, 1)
            return f"{year:04d}-{month:02d}"
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _all_dates(text: str) -> list[tuple[int, str]]:
    """Every date in the text with its position, in reading order."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, iso: str | None) -> None:
        if iso and not any(s < end and start < e for s, e in taken):
            found.append((start, iso))
            taken.append((start, end))

    for m in _ISO_RE.finditer(text):
        add(m.start(), m.end(), _iso(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in _MDY_RE.finditer(text):
        year = int(m.group(3))
        if len(m.group(3)) == 2:
            # Two-digit years: the sites we read print accreditation dates back to the 1900s.
            year += 2000 if year <= (_dt.date.today().year % 100) + 10 else 1900
        add(m.start(), m.end(), _iso(year, int(m.group(1)), int(m.group(2))))
    for m in _DAY_MONTH_RE.finditer(text):
        month = _MONTHS.get(m.group("month").lower())
        if month:
            add(m.start(), m.end(), _iso(int(m.group("year")), month, int(m.group("day"))))
    for m in _MONTH_NAME_RE.finditer(text):
        month = _MONTHS.get(m.group("month").lower().rstrip("."))
        if month:
            day = int(m.group("day")) if m.group("day") else None
            add(m.start(), m.end(), _iso(int(m.group("year")), month, day))
    for m in _YEAR_MONTH_RE.finditer(text):
        add(m.start(), m.end(), _iso(int(m.group(1)), int(m.group(2)), None))
    found.sort()
    return found


def parse_date(text: str | None) -> str | None:
    """First date in the text as ISO 8601: "01/26/2018" -> "2018-01-26", "May 2024" -> "2024-05"."""
    if not text:
        return None
    dates = _all_dates(_drop_invisible(unicodedata.normalize("NFKC", str(text))))
    return dates[0][1] if dates else None


def parse_dates(text: str | None) -> list[str]:
    """Every date in the text, ISO 8601, in reading order."""
    if not text:
        return []
    return [iso for _, iso in _all_dates(_drop_invisible(unicodedata.normalize("NFKC", str(text))))]


# --------------------------------------------------------------------------- accreditation status


@dataclass(frozen=True)
class AccreditationStatus:
    """A parsed status cell: status word, start date and (for past periods) end date, ISO."""

    status: str | None
    since: str | None
    end: str | None

    def __iter__(self):  # type: ignore[no-untyped-def]
        """Unpack as ``status, since, end``."""
        return iter((self.status, self.since, self.end))


def parse_accreditation(text: str | None) -> AccreditationStatus:
    """Status text -> (status, since, end), e.g. "Accredited since (01/01/1949)" -> accredited, 1949-01-01.

    A period with an end date ("Accredited (07/01/2001 - 08/26/2009)") is over, so it reads as
    ``withdrawn`` unless the text names a more specific end (closed, no longer recognized).
    Estimated-date markers such as "(!)" are ignored.
    """
    cleaned = (clean_text(text) or "").replace("(!)", " ")
    dates = parse_dates(cleaned)
    status = status_in(cleaned)
    since = dates[0] if dates else None
    end = None
    if len(dates) >= 2 and (
        not re.search(r"\bsince\b", cleaned, re.I)
        or re.search(r"\b(until|through|ended|expired?)\b|\d\)?\s*[-\u2013\u2014]\s*\(?\d", cleaned, re.I)
    ):
        end = dates[1]
    if end and status in ("accredited", "preaccredited", "candidate", None):
        status = "withdrawn"
    return AccreditationStatus(status, since, end)


# --------------------------------------------------------------------------- degree level, delivery


def parse_degree_level(text: str | None) -> str | None:
    """Degree words or acronyms -> certificate | associate | bachelor | master | doctoral."""
    return degree_level_in(clean_text(text))


def parse_delivery(text: str | None) -> str | None:
    """Delivery words -> online | campus | hybrid ("100% online" -> online, "blended" -> hybrid)."""
    return delivery_in(clean_text(text))


# --------------------------------------------------------------------------- places, control, booleans


def parse_state(text: str | None) -> str | None:
    """A US state (or DC, territory) name or code -> two-letter code; None if not a state."""
    return state_code(clean_text(text))


_STATE_ALT = "|".join(sorted((re.escape(n) for n in list(US_STATES.values()) + list(US_STATES)), key=len, reverse=True))
_ADDRESS_RE = re.compile(
    rf"^(?:(?P<street>.*?),\s*)?(?P<city>[^,]+?),\s*(?P<state>{_STATE_ALT})\.?,?\s+(?P<zip>\d{{5}}(?:-\d{{4}})?)\s*$",
    re.I,
)
# The same shape with any state word, so an impossible state ("Atlantis, ZZ 00001") is still reported.
_ADDRESS_ANY_RE = re.compile(
    r"^(?:(?P<street>.*?),\s*)?(?P<city>[^,]+?),\s*(?P<state>[A-Za-z][A-Za-z .]{0,30}?)\.?,?\s+(?P<zip>\d{5}(?:-\d{4})?)\s*$"
)


def state_or_raw(text: str | None) -> str | None:
    """The state code when the text names a state, else the text as shown (for validation to reject).

    Page modules report what a page says; turning an impossible state ("ZZ") into None would
    hide it from the validation pipeline, which drops such items with a counted reason.
    """
    return parse_state(text) or clean_text(text)


def parse_address(text: str | None) -> dict[str, str | None]:
    """ "200 California Hall, Berkeley, California 94720" -> street address, city, state code, zip."""
    out: dict[str, str | None] = {"address": None, "city": None, "state": None, "zip": None}
    cleaned = clean_text(text)
    if not cleaned:
        return out
    match = _ADDRESS_RE.match(cleaned) or _ADDRESS_ANY_RE.match(cleaned)
    if not match:
        out["address"] = cleaned
        return out
    out["address"] = clean_text(match.group("street"))
    out["city"] = clean_text(match.group("city"))
    out["state"] = state_or_raw(match.group("state"))
    out["zip"] = match.group("zip")
    return out


def parse_control(text: str | None) -> str | None:
    """IPEDS control words -> public | private nonprofit | private for-profit."""
    cleaned = (clean_text(text) or "").lower()
    if not cleaned:
        return None
    if "public" in cleaned:
        return "public"
    if re.search(r"for[- ]profit|proprietary", cleaned) and not re.search(r"not[- ]for[- ]profit|non-?profit", cleaned):
        return "private for-profit"
    if re.search(r"not[- ]for[- ]profit|non-?profit|private", cleaned):
        return "private nonprofit"
    return None


def parse_bool(text: str | None) -> bool | None:
    """Yes/No, true/false, check marks -> bool; None when the text says neither."""
    cleaned = (clean_text(text) or "").lower().strip(" .!")
    if cleaned in {"yes", "y", "true", "1", "\u2713", "\u2714", "offered", "available"}:
        return True
    if cleaned in {"no", "n", "false", "0", "none", "not offered", "not available"}:
        return False
    return None


def split_aliases(text: str | None, exclude: Iterable[str] = ()) -> list[str]:
    """Split an alias list ("AAMU | Alabama A&M", "UAH  University of ...", "A, B, C") into names."""
    cleaned = _drop_invisible(unicodedata.normalize("NFC", text or "")).replace("\u00a0", " ")
    if not cleaned.strip():
        return []
    if re.search(r"[|;]", cleaned):
        parts = re.split(r"\s*[|;]+\s*", cleaned)
    elif re.search(r"\S\s{2,}\S", cleaned.strip()):
        parts = re.split(r"\s{2,}", cleaned)
    elif "," in cleaned and not re.search(r",\s*(inc|llc|the)\b", cleaned, re.I):
        parts = cleaned.split(",")
    else:
        parts = [cleaned]
    # Exact comparisons: "ECC" and "Ecc" are both shown, so both are kept.
    skip = {clean_text(e) for e in exclude}
    out: list[str] = []
    for part in parts:
        name = clean_text(part)
        if name and name not in skip and name not in out:
            out.append(name)
    return out


# --------------------------------------------------------------------------- accreditors


def accreditor_label(name: str | None) -> str | None:
    """The acronym of a known accreditor, else the cleaned name as given."""
    acc = lookup_accreditor(name)
    if acc:
        return acc.label
    return clean_text(name)


_ACRONYM_RE = re.compile(r"(?=(?:.*[A-Z]){2})[A-Z][A-Za-z&/ -]{1,11}")


@lru_cache(maxsize=1)
def _accreditor_patterns() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, Accreditor], dict[str, Accreditor]]:
    by_name: dict[str, Accreditor] = {}
    by_acronym: dict[str, Accreditor] = {}
    for acc in accreditors():
        for name in (acc.name, *acc.aliases):
            key = accreditor_key(name)
            # Very short aliases ("Commission on Accreditation") would match other bodies' names.
            if len(key.split()) >= 3:
                by_name.setdefault(key, acc)
        if acc.acronym and not acc.ambiguous_acronym:
            by_acronym.setdefault(acc.acronym, acc)
            # Former or alternate acronyms listed as aliases ("NLNAC" for ACEN) count as well.
            for alias in acc.aliases:
                if _ACRONYM_RE.fullmatch(alias):
                    by_acronym.setdefault(alias, acc)
    # Words of a name may be separated by any punctuation or spacing in running text.
    name_alt = "|".join(
        r"[^A-Za-z0-9&]+".join(re.escape(word) for word in key.split())
        for key in sorted(by_name, key=len, reverse=True)
    )
    names_re = re.compile(rf"(?<![A-Za-z0-9])(?:the\s+)?(?:{name_alt})(?![A-Za-z0-9])", re.I)
    acronym_alt = "|".join(re.escape(a) for a in sorted(by_acronym, key=len, reverse=True))
    acronyms_re = re.compile(rf"(?<![A-Za-z0-9-])(?:{acronym_alt})(?![A-Za-z0-9])")
    return names_re, acronyms_re, by_name, by_acronym


def find_accreditors(text: str | None) -> list[str]:
    """Accreditors a text names (full names, aliases or unambiguous acronyms), as labels in text order."""
    cleaned = clean_text(text)
    if not cleaned:
        return []
    names_re, acronyms_re, by_name, by_acronym = _accreditor_patterns()
    hits: list[tuple[int, str]] = []
    for match in names_re.finditer(cleaned):
        acc = by_name.get(accreditor_key(match.group(0)))
        if acc:
            hits.append((match.start(), acc.label))
    for match in acronyms_re.finditer(cleaned):
        acc = by_acronym.get(match.group(0))
        if acc:
            hits.append((match.start(), acc.label))
    seen: set[str] = set()
    out: list[str] = []
    for _, label in sorted(hits):
        if label not in seen:
            seen.add(label)
            out.append(label)
    return out
