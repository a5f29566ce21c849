"""Jinja filters and helpers: money, dates, labels, safe links and URLs that toggle one search parameter."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit

from flask import Flask, request
from werkzeug.datastructures import MultiDict

from model.sources import source_label as _registry_label
from model.vocab import DEGREE_LABELS, DELIVERY_LABELS, KIND_LABELS, KIND_PLURALS, STATUS_LABELS, US_STATES

# How worrying a status is; the page shows a word and a symbol for it, never colour alone.
STATUS_SEVERITY: dict[str, str] = {
    "accredited": "ok",
    "preaccredited": "info",
    "candidate": "info",
    "monitoring": "info",
    "warning": "warn",
    "probation": "warn",
    "show_cause": "bad",
    "withdrawn": "bad",
    "closed": "bad",
    "no_longer_recognized": "bad",
}
SEVERITY_SYMBOL = {"ok": "\u2713", "info": "\u2139", "warn": "\u26a0", "bad": "\u2716"}


FACET_LABELS: dict[str, str] = {
    "kind": "Type",
    "state": "State",
    "degree_level": "Degree level",
    "accreditor": "Accreditor",
    "accreditation_status": "Accreditation status",
    "delivery": "Delivery",
    "military_friendly": "Military friendly",
    "rating": "Rating",
}

ONET_CREDIT = (
    "O*NET 27.x Database by the U.S. Department of Labor, Employment and Training Administration "
    "(USDOL/ETA), used under CC BY 4.0"
)
BLS_CREDIT = "U.S. Bureau of Labor Statistics, Occupational Outlook Handbook (public domain)"


def money(value: Any) -> str:
    """Whole dollars with thousands separators ("$50,250"); an em dash when unknown."""
    if value is None or value == "":
        return "\u2014"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    # Cents only where they say something (hourly pay), never "$0.00" on an axis.
    return f"${number:,.2f}" if number != int(number) and number < 1000 else f"${number:,.0f}"


def number(value: Any) -> str:
    """A count with thousands separators."""
    if value is None or value == "":
        return "\u2014"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def percent(value: Any) -> str:
    """A signed percentage ("+7%")."""
    if value is None or value == "":
        return "\u2014"
    try:
        number_ = float(value)
    except (TypeError, ValueError):
        return str(value)
    text = f"{number_:+.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _parse_date(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def nice_date(value: Any) -> str:
    """An ISO date or timestamp as "Jan 5, 2025" (unparseable text is shown as it is)."""
    parsed = _parse_date(value)
    if parsed is None:
        return str(value) if value else "\u2014"
    return f"{parsed:%b} {parsed.day}, {parsed.year}"


def nice_datetime(value: Any) -> str:
    """An ISO timestamp as "Jan 5, 2025 14:03 UTC"."""
    parsed = _parse_date(value)
    if parsed is None:
        return str(value) if value else "\u2014"
    suffix = " UTC" if parsed.tzinfo is not None else ""
    return f"{parsed:%b} {parsed.day}, {parsed.year} {parsed:%H:%M}{suffix}"


def state_name(code: Any) -> str:
    """The state's name for a two-letter code."""
    if not code:
        return ""
    return US_STATES.get(str(code).upper(), str(code))


def status_label(status: Any) -> str:
    """A readable accreditation status."""
    if not status:
        return "Unknown"
    return STATUS_LABELS.get(str(status), str(status).replace("_", " ").capitalize())


def status_severity(status: Any) -> str:
    """ok, info, warn or bad: drives the badge's symbol and style."""
    return STATUS_SEVERITY.get(str(status or ""), "info")


def status_symbol(status: Any) -> str:
    """The symbol that goes with a status (so the badge never relies on colour)."""
    return SEVERITY_SYMBOL[status_severity(status)]


def degree_label(value: Any) -> str:
    """A readable degree level."""
    if not value:
        return ""
    return DEGREE_LABELS.get(str(value), str(value).capitalize())


def delivery_label(value: Any) -> str:
    """A readable delivery mode."""
    if not value:
        return ""
    return DELIVERY_LABELS.get(str(value), str(value).capitalize())


def source_label(source: Any) -> str:
    """Which site a record came from."""
    if not source:
        return "unknown source"
    return _registry_label(str(source))


def safe_href(url: Any) -> str | None:
    """The URL when it is http(s) or a local path, else None: crawled links never become ``javascript:``."""
    if not url:
        return None
    text = str(url).strip()
    if text.startswith("/") and not text.startswith("//"):
        return text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme in ("http", "https") and parts.netloc:
        return text
    return None


def website_href(value: Any) -> str | None:
    """A school's website as a link: http(s) kept, a bare domain ("www.x.edu") gets https, anything else none."""
    href = safe_href(value)
    if href or not value:
        return href
    text = str(value).strip()
    if " " not in text and "." in text and ":" not in text.split("/")[0] and not text.startswith(("/", "\\")):
        return safe_href("https://" + text)
    return None


def facet_value_label(name: str, value: Any, label: Any = None) -> str:
    """How one facet value is shown in the sidebar."""
    if label:
        return str(label)
    text = str(value)
    if name == "state":
        return state_name(text)
    if name == "accreditation_status":
        return status_label(text)
    if name == "degree_level":
        return degree_label(text)
    if name == "delivery":
        return delivery_label(text)
    if name == "kind":
        return KIND_PLURALS.get(text, text)
    if name == "military_friendly":
        return {"true": "Yes", "yes": "Yes", "1": "Yes", "false": "No", "no": "No", "0": "No"}.get(text.lower(), text)
    if name == "rating":
        return f"{text}+ stars" if text.isdigit() else text
    return text


def _current_args() -> MultiDict[str, str]:
    return MultiDict(request.args.items(multi=True))


def _encode(args: MultiDict[str, str]) -> str:
    pairs = [(k, v) for k, v in args.items(multi=True) if v != ""]
    return "?" + urlencode(pairs) if pairs else ""


def url_with(_path: str | None = None, **changes: Any) -> str:
    """The current URL with some parameters set (None removes one); any change but ``page`` resets the page."""
    args = _current_args()
    for name, value in changes.items():
        args.poplist(name)
        if value is not None and value != "":
            if isinstance(value, (list, tuple)):
                for v in value:
                    args.add(name, str(v))
            else:
                args.add(name, str(value))
    if "page" not in changes:
        args.poplist("page")
    return (_path or request.path) + _encode(args)


class FilterToggles:
    """URLs that switch one filter value on or off (back to page 1), built from one reading of the query string.

    A results page links every value of every facet; reading and re-encoding the whole query string
    once per link was most of the page's rendering time, so the part that does not change (every
    other parameter) is encoded once per filter name and each link only adds its own values.
    """

    def __init__(self, path: str, args: MultiDict[str, str]) -> None:
        self.path = path
        self.args = args
        self._kept: dict[str, tuple[str, list[str]]] = {}

    def _others(self, name: str) -> tuple[str, list[str]]:
        """The encoded parameters other than ``name`` and ``page``, and ``name``'s current values."""
        found = self._kept.get(name)
        if found is None:
            kept = [(k, v) for k, v in self.args.items(multi=True) if k != name and k != "page" and v != ""]
            found = self._kept[name] = (urlencode(kept), self.args.getlist(name))
        return found

    def url(self, name: str, value: Any) -> str:
        """The URL with ``value`` of filter ``name`` switched: removed when on, added (last) when off."""
        others, current = self._others(name)
        text = str(value)
        if name == "page":  # not a filter: every switch drops it
            values = []
        elif text in current:
            values = [v for v in current if v != text]
        else:
            values = [*current, text]
        key = _quoted(name)
        own = "&".join([f"{key}={_quoted(v)}" for v in values if v != ""])
        query = f"{others}&{own}" if others and own else others or own
        return f"{self.path}?{query}" if query else self.path


# Facet names and values recur on every page (the states, the accreditors): quote each once per process.
_quoted = lru_cache(maxsize=4096)(quote_plus)


def toggle_url(name: str, value: Any) -> str:
    """The current URL with one filter value switched on or off (back to page 1)."""
    return FilterToggles(request.path, request.args).url(name, value)


def page_numbers(current: int, pages: int, width: int = 2) -> list[int | None]:
    """Page links to show: first, last and a window around the current page (None marks a gap)."""
    shown: list[int | None] = []
    for n in range(1, pages + 1):
        if n in (1, pages) or abs(n - current) <= width:
            shown.append(n)
        elif shown and shown[-1] is not None:
            shown.append(None)
    return shown


def pay_chart(career: dict[str, Any]) -> dict[str, Any] | None:
    """Geometry of the pay picture: 10th percentile, median and 90th percentile on one bar (SVG units)."""
    points = {k: career.get(k) for k in ("pay_p10", "median_pay_annual", "pay_p90")}
    known = {k: float(v) for k, v in points.items() if isinstance(v, (int, float)) and v > 0}
    if "median_pay_annual" not in known and len(known) < 2:
        return None
    top = max(known.values()) * 1.15
    step = 10_000 if top <= 200_000 else 50_000
    top = step * -(-top // step)
    left, width = 16.0, 608.0

    def x(value: float) -> float:
        return round(left + width * value / top, 1)

    chart: dict[str, Any] = {"width": 640, "height": 130, "top": top, "axis_y": 104, "left": left,
                             "right": left + width, "ticks": []}
    for i in range(0, 5):
        value = top * i / 4
        chart["ticks"].append({"x": x(value), "label": money(value)})
    lo, hi = known.get("pay_p10"), known.get("pay_p90")
    if lo is not None and hi is not None:
        chart["bar"] = {"x": x(lo), "width": round(x(hi) - x(lo), 1)}
    if lo is not None:
        chart["p10"] = {"x": x(lo), "label": money(lo), "anchor": "start" if x(lo) < 140 else "end"}
    if hi is not None:
        chart["p90"] = {"x": x(hi), "label": money(hi), "anchor": "end" if x(hi) > 500 else "start"}
    median = known.get("median_pay_annual")
    if median is not None:
        chart["median"] = {"x": x(median), "label": money(median),
                           "anchor": "start" if x(median) < 90 else ("end" if x(median) > 550 else "middle")}
    return chart


def histogram_rows(histogram: dict[Any, int]) -> list[dict[str, Any]]:
    """Rows of a 5-to-1 star histogram with each bar's share of the largest count."""
    counts = {int(k): int(v) for k, v in (histogram or {}).items()}
    biggest = max(counts.values(), default=0) or 1
    total = sum(counts.values()) or 1
    return [{"stars": s, "count": counts.get(s, 0), "width": round(100 * counts.get(s, 0) / biggest, 1),
             "percent": round(100 * counts.get(s, 0) / total)} for s in range(5, 0, -1)]


def init_app(app: Flask) -> None:
    """Register the filters and globals."""
    app.jinja_env.filters.update(
        money=money, number=number, percent=percent, nice_date=nice_date, nice_datetime=nice_datetime,
        state_name=state_name, status_label=status_label, status_severity=status_severity,
        status_symbol=status_symbol, degree_label=degree_label, delivery_label=delivery_label,
        source_label=source_label, safe_href=safe_href, website_href=website_href,
    )
    app.jinja_env.globals.update(
        url_with=url_with, toggle_url=toggle_url, pay_chart=pay_chart, histogram_rows=histogram_rows, page_numbers=page_numbers, facet_value_label=facet_value_label,
        KIND_LABELS=KIND_LABELS, KIND_PLURALS=KIND_PLURALS, FACET_LABELS=FACET_LABELS, US_STATES=US_STATES,
        DEGREE_LABELS=DEGREE_LABELS, DELIVERY_LABELS=DELIVERY_LABELS, ONET_CREDIT=ONET_CREDIT, BLS_CREDIT=BLS_CREDIT,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
