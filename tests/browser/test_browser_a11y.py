"""Every page issue 18 lists (and the other page templates), checked in a real browser: axe-core finds no serious or critical WCAG 2.2 AA violation
(desktop and 390 px phone, with the panels and lists that open on demand opened), the page never scrolls sideways at
390 px while the compare table scrolls inside its own box, and the charts have text equivalents.

axe runs under the app's own Content-Security-Policy: see tests/browser/axe_check.py for how it is injected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser.axe_check import axe_violations, blocking, describe
from tests.unit.webapp import webapp_testdata as td


def _open_facets(tab) -> None:
    """Results with facets open: the filter panel (folded on phones) and every folded facet's "Show N more"."""
    panel = tab.locator("details.facet-panel")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    expect(panel).to_have_attribute("open", "")
    for more in tab.locator("details.facet-more:not([open]) > summary").all():
        more.click()
    expect(panel.locator("a.facet-link").first).to_be_visible()


def _choose_for_compare(tab) -> None:
    """A program chosen for comparison, so the compare bar is on screen too."""
    tab.locator("button.compare-add").first.click()
    expect(tab.get_by_role("region", name="Your comparison")).to_be_visible()


def _open_suggestions(tab) -> None:
    """The autocomplete list open with an option highlighted."""
    box = tab.get_by_role("combobox", name="Search careers, programs, colleges and reviews")
    box.press_sequentially("medi", delay=40)
    expect(tab.get_by_role("listbox", name="Suggestions")).to_be_visible()
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", re.compile("suggestions-0"))


def _send_empty_review(tab) -> None:
    """The review form after a failed send: error summary, messages beside the fields, aria-invalid."""
    tab.get_by_role("button", name="Send review for moderation").click()
    expect(tab.get_by_role("alert")).to_be_visible()


def _wrong_password(tab) -> None:
    tab.get_by_label("Admin password").fill("not the password")
    tab.get_by_role("button", name="Log in").click()
    expect(tab.get_by_role("alert")).to_be_visible()


@dataclass(frozen=True)
class Checked:
    """A page to check: its name (the test id), its address, and what to do on it for a second look."""

    name: str
    url: str
    prepare: Callable | None = None

    def __str__(self) -> str:
        return self.name


# The pages of issue 18, some in more than one state. Each is checked as it first loads and, where it has a
# `prepare`, again after that (open panels, error messages).
PAGES = [
    Checked("home", "/", _open_suggestions),
    Checked("results", "/search?q=health+information", _open_facets),
    Checked("results-programs", "/search?q=health+information&kind=program&state=GA", _choose_for_compare),
    Checked("career", f"/careers/{td.MRS}"),
    Checked("school", f"/institutions/{td.GHC}"),
    Checked("program", f"/programs/{td.HIT_OH}"),
    Checked("review-form", f"/institutions/{td.GHC}/review", _send_empty_review),
    Checked("compare-schools", f"/compare?institutions={td.GHC},{td.OVCC},{td.UCB}&zip=30303"),
    Checked("compare-programs", f"/compare?programs={td.HIT_GA},{td.HIT_OH},{td.RAD_GA}"),
    Checked("changes", "/changes"),
    Checked("changes-followed", f"/changes?institution={td.OVCC}"),
    Checked("admin-login", "/admin/login", _wrong_password),
    # The other public templates.
    Checked("careers-az", "/careers/"),
    Checked("colleges-az", "/colleges/?state=GA"),
    Checked("military-friendly", "/military-friendly"),
    Checked("online-programs", "/online-programs"),
    Checked("review", "/reviews/r-ghc-1"),
    Checked("compare-intro", "/compare"),
    Checked("no-results", "/search?q=zzzqqqxxx"),
    Checked("not-found", "/no/such/page"),
    Checked("api-docs", "/api"),
]
# Behind the login: every admin page, checked in one test per width (logging in once).
ADMIN_PAGES = ["/admin/", "/admin/reviews", "/admin/runs", "/admin/runs/1", "/admin/index", "/admin/schedule",
               "/admin/changes"]


def _assert_no_blocking_violations(tab, where: str) -> None:
    found = axe_violations(tab)
    bad = blocking(found)
    assert not bad, f"axe-core on {where} ({tab.url}):\n{describe(bad)}"


# The contrast of what is typed into each visible text field and of its placeholder, against the field's own
# background (or the nearest opaque one behind it). axe-core leaves empty fields out of its color-contrast rule
# (and calls a 1:1 ratio "incomplete", not a violation), so white text typed on white went unnoticed by it.
FIELD_CONTRAST = """() => {
    const rgba = c => (c.match(/[\\d.]+/g) || []).map(Number);
    const channel = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
    const background = el => {
        for (let node = el; node; node = node.parentElement) {
            const c = rgba(getComputedStyle(node).backgroundColor);
            if (c.length === 3 || c[3] === 1) return c;
        }
        return [255, 255, 255];
    };
    const fields = document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea');
    const bad = [];
    for (const el of fields) {
        if (!el.checkVisibility() || el.closest('[aria-hidden=true]')) continue;
        const bg = background(el);
        const text = ratio(rgba(getComputedStyle(el).color), bg);
        if (text < 4.5) bad.push(`#${el.id} text ${text.toFixed(2)}:1`);
        if (el.placeholder) {
            const hint = ratio(rgba(getComputedStyle(el, '::placeholder').color), bg);
            if (hint < 4.5) bad.push(`#${el.id} placeholder ${hint.toFixed(2)}:1`);
        }
    }
    return bad;
}"""


def _check_page(tab, spec: Checked, width: str) -> None:
    tab.goto(spec.url)
    tab.wait_for_load_state("networkidle")
    _assert_no_blocking_violations(tab, f"{spec.name} at {width}")
    low = tab.evaluate(FIELD_CONTRAST)
    assert not low, f"text fields on {spec.name} at {width} below 4.5:1: {low}"
    if spec.prepare:
        spec.prepare(tab)
        _assert_no_blocking_violations(tab, f"{spec.name} at {width}, after {spec.prepare.__name__.strip('_')}")


@pytest.mark.parametrize("spec", PAGES, ids=str)
def test_no_serious_or_critical_axe_violations_on_a_desktop(page, spec):
    _check_page(page, spec, "1280 px")


def _assert_no_sideways_scroll(tab, where: str) -> None:
    """Nothing wider than the 390 px screen. A mobile browser shrinks a too-wide page to fit, which widens the layout
    viewport (innerWidth) with it: so innerWidth must still be the screen's 390 px, and nothing may scroll past it."""
    sizes = _sideways(tab)
    assert sizes["view"] == 390 and sizes["scroll"] <= sizes["view"], f"{where} scrolls sideways at 390 px: {sizes}"


def _sideways(tab) -> dict:
    return tab.evaluate("""() => ({scroll: document.scrollingElement.scrollWidth, view: window.innerWidth,
        wide: [...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right > window.innerWidth
            && !el.closest('.compare-scroll, .visually-hidden')).slice(0, 5).map(el => el.outerHTML.slice(0, 120))})""")


@pytest.mark.parametrize("spec", PAGES, ids=str)
def test_phone_width_no_sideways_scroll_and_no_axe_violations(phone390, spec):
    tab = phone390
    _check_page(tab, spec, "390 px")
    # After `prepare` too: open filters, an open suggestion list or error messages must not widen the page.
    _assert_no_sideways_scroll(tab, spec.name)
    if spec.prepare:  # and as first loaded
        tab.goto(spec.url)
        _assert_no_sideways_scroll(tab, spec.name)
    if spec.name in ("compare-schools", "compare-programs"):
        # Three columns do not fit 390 px: the table scrolls inside its own (focusable, labelled) box instead.
        box = tab.get_by_role("region", name=re.compile("side by side"))
        expect(box).to_be_visible()
        expect(box).to_have_attribute("tabindex", "0")
        inside = box.evaluate("b => ({scroll: b.scrollWidth, view: b.clientWidth, overflow: getComputedStyle(b).overflowX})")
        assert inside["scroll"] > inside["view"] and inside["overflow"] in ("auto", "scroll"), inside


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_pages_after_login(page, phone390, data, width):
    tab = page if width == 1280 else phone390
    tab.goto("/admin/login")
    tab.get_by_label("Admin password").fill(data.ADMIN_PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Overview")
    for url in ADMIN_PAGES:
        tab.goto(url)
        tab.wait_for_load_state("networkidle")
        _assert_no_blocking_violations(tab, f"{url} at {width} px")
        if width == 390:
            _assert_no_sideways_scroll(tab, url)


def test_charts_have_text_equivalents(page, data):
    # The pay range: an SVG image named by its <title>, described by its <desc> with the same figures as the caption.
    page.goto(f"/careers/{data.MRS}")
    chart = page.get_by_role("img", name="Annual pay for Medical Records Specialists")
    expect(chart).to_be_visible()
    assert chart.evaluate("el => el.tagName.toLowerCase()") == "svg"
    median = page.locator(".pay-figures").get_by_text("Median annual pay").locator("xpath=following-sibling::dd")
    median_figure = re.match(r"\$[\d,]+", median.inner_text()).group(0)
    expect(chart).to_have_accessible_description(re.compile(rf"Median pay {re.escape(median_figure)}\b"))
    expect(chart).to_have_accessible_description(re.compile(r"Lowest 10 percent earned less than \$[\d,]+"))
    # The rating histogram: each bar an image named by its share of the reviews, beside the printed count.
    page.goto(f"/institutions/{data.GHC}")
    rows = page.get_by_role("list", name="Ratings by number of stars").first.get_by_role("listitem")
    expect(rows).to_have_count(5)
    counts = [int(re.match(r"\d+", rows.nth(i).locator(".hist-count").inner_text()).group(0)) for i in range(5)]
    total = sum(counts)
    assert total > 0
    for i, count in enumerate(counts):
        stars = 5 - i
        bar = rows.nth(i).get_by_role("img")
        expect(bar).to_have_count(1)
        expect(bar).to_have_accessible_name(f"{round(100 * count / total)}% of the reviews")
        # Printed too, for everyone: the stars and the count stay on screen beside the bar.
        expect(rows.nth(i)).to_contain_text(f"{stars} star")
        expect(rows.nth(i).locator(".hist-count")).to_contain_text(str(count))
