"""Keys alone, as a keyboard or switch user works: the suggestion list, the facet toggles, the result-type tabs and
the compare selection are reached with Tab and used with Enter, Space and the arrows, and whatever has focus shows
it (a visible outline or box-shadow, not the browser's default that the stylesheet could have removed)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

# What the focused element looks like: its outline and box-shadow as computed, and whether it matches
# :focus-visible (the state a keyboard user's focus is in, which the stylesheet styles).
FOCUS_STYLE = """() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    return {tag: el.tagName.toLowerCase(), text: (el.innerText || el.value || '').trim().slice(0, 60),
            focusVisible: el.matches(':focus-visible'), outlineStyle: s.outlineStyle,
            outlineWidth: parseFloat(s.outlineWidth) || 0, outlineColor: s.outlineColor, boxShadow: s.boxShadow};
}"""


def assert_visible_focus(tab) -> dict:
    """The focused element shows it: a solid outline at least 2 px wide in a colour, or a box-shadow."""
    style = tab.evaluate(FOCUS_STYLE)
    assert style["tag"] != "body", "nothing has focus"
    assert style["focusVisible"], f"focus is not :focus-visible: {style}"
    outlined = style["outlineStyle"] not in ("none", "hidden") and style["outlineWidth"] >= 2 \
        and style["outlineColor"] not in ("transparent", "rgba(0, 0, 0, 0)")
    shadowed = style["boxShadow"] not in ("", "none")
    assert outlined or shadowed, f"the focused element shows no focus: {style}"
    return style


def tab_to(tab, predicate: str, *, limit: int = 150, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches ``predicate`` (a JS expression on ``el``)."""
    check = f"() => {{ const el = document.activeElement; return !!(el && ({predicate})); }}"
    for _ in range(limit):
        tab.keyboard.press("Shift+Tab" if backwards else "Tab")
        if tab.evaluate(check):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {predicate!r} on {tab.url}")


def test_the_suggestion_list_by_keys_alone(page, data):
    page.goto("/")
    tab_to(page, "el.id === 'q'")
    assert_visible_focus(page)
    page.keyboard.type("health", delay=40)
    box = page.get_by_role("combobox", name="Search careers, programs, colleges and reviews")
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    options = listbox.get_by_role("option")
    count = options.count()
    assert count >= 2
    # The arrows move the highlight (focus stays in the box: aria-activedescendant), and wrap around.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", options.nth(1).get_attribute("id"))
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    # The highlighted option is visibly different from the others, and the box keeps its focus ring.
    look = "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.color]; }"
    assert options.nth(1).evaluate(look) != options.nth(0).evaluate(look)
    assert_visible_focus(page)
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(options.nth(count - 1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    # Escape closes the list and leaves the words; Enter on a highlighted option opens it.
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("health")
    expect(box).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(listbox).to_be_visible()
    option = listbox.get_by_role("option", name=re.compile("Georgia Health College"))
    for _ in range(count):
        if option.get_attribute("aria-selected") == "true":
            break
        page.keyboard.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/institutions/{data.GHC}")


def test_result_tabs_and_facet_toggles_by_keys_alone(page, data):
    page.goto("/search?q=health+information")
    # The result-type tabs are links in a labelled navigation: Tab to one, Enter follows it.
    tab_to(page, "el.closest('nav.kind-tabs') && el.textContent.trim().startsWith('Programs')")
    assert_visible_focus(page)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"kind=program"))
    tabs = page.get_by_role("navigation", name="Result types")
    expect(tabs.get_by_role("link", name=re.compile("^Programs"))).to_have_attribute("aria-current", "page")
    # A facet value switches its filter on with Enter ...
    tab_to(page, "el.classList.contains('facet-link') && el.textContent.includes('Georgia')")
    assert_visible_focus(page)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"state=GA"))
    expect(page.locator(f"#hit-program\\:{data.HIT_OH}")).to_have_count(0)
    # ... and, once selected, off again (it says so to a screen reader: aria-current and hidden words).
    tab_to(page, "el.classList.contains('facet-link') && el.classList.contains('is-selected')")
    assert_visible_focus(page)
    expect(page.locator("a.facet-link.is-selected")).to_have_accessible_name(re.compile("Selected, select to remove"))
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "state=GA" not in url)
    expect(page.locator(f"#hit-program\\:{data.HIT_OH}")).to_be_visible()
    assert "kind=program" in page.url


def test_the_folded_filter_panel_opens_by_keys_on_a_phone(phone390):
    tab = phone390
    tab.goto("/search?q=health+information")
    panel = tab.locator("details.facet-panel")
    expect(panel).not_to_have_attribute("open", "")
    tab_to(tab, "el.tagName === 'SUMMARY' && el.parentElement.classList.contains('facet-panel')")
    assert_visible_focus(tab)
    tab.keyboard.press("Enter")
    expect(panel).to_have_attribute("open", "")
    expect(panel.get_by_role("heading", name="State")).to_be_visible()
    # The first filter is the next stop for Tab, and Space folds the panel again.
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.classList.contains('facet-link')")
    assert_visible_focus(tab)
    tab.keyboard.press("Shift+Tab")
    tab.keyboard.press("Space")
    expect(panel).not_to_have_attribute("open", "")


def test_compare_selection_by_keys_alone(page, data):
    page.goto("/search?q=health+information&kind=program")
    bar = page.get_by_role("region", name="Your comparison")
    # Tab to the first "Add to compare" button: Space adds, and it turns into "Remove from compare".
    tab_to(page, "el.matches('button.compare-add')")
    assert_visible_focus(page)
    first_id = page.evaluate("document.activeElement.dataset.compareId")
    page.keyboard.press("Space")
    focused = page.locator("button.compare-add:focus")
    expect(focused).to_have_accessible_name(re.compile("^Remove from compare"))
    expect(bar).to_contain_text("1 program chosen")
    # The next one with Enter.
    tab_to(page, f"el.matches('button.compare-add') && el.dataset.compareId !== {first_id!r}")
    second_id = page.evaluate("document.activeElement.dataset.compareId")
    page.keyboard.press("Enter")
    expect(bar).to_contain_text("2 programs chosen")
    expect(bar.get_by_role("status")).to_contain_text("to the comparison (2 of 4)")
    # Enter again takes it back out; then once more in.
    page.keyboard.press("Enter")
    expect(bar).to_contain_text("1 program chosen")
    page.keyboard.press("Enter")
    expect(bar).to_contain_text("2 programs chosen")
    # The bar (at the end of the page) is reached by Tab, its link opened by Enter.
    tab_to(page, "el.closest('.compare-bar') && el.tagName === 'A'")
    assert_visible_focus(page)
    # The fixed bar never hides what has focus: the focused link lies inside the viewport.
    inside = page.evaluate("() => { const r = document.activeElement.getBoundingClientRect();"
                           " return r.top >= 0 && r.bottom <= window.innerHeight; }")
    assert inside
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/compare\?"))
    ids = page.locator("table.compare-table thead th[data-id]")
    expect(ids).to_have_count(2)
    assert [ids.nth(i).get_attribute("data-id") for i in range(2)] == [first_id, second_id]
    # On the compare page a column is removed with Tab and Enter too.
    tab_to(page, f"el.matches('a.compare-remove') && el.closest('th').dataset.id === {second_id!r}")
    assert_visible_focus(page)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: second_id not in url)
    expect(ids).to_have_count(1)
    # The scrolling table box takes focus from the keyboard (so its arrows scroll it) and shows it.
    tab_to(page, "el.classList.contains('compare-scroll')", backwards=True)
    assert_visible_focus(page)
