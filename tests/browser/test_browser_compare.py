"""Compare in a real browser: add programs from results (mouse and keyboard) and schools from their pages, remove a
column, share the URL with a browser that has no saved selection, the /api/compare twin, and a 390 px phone where
the page never scrolls sideways while the table scrolls inside its own box."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def compare_bar(tab):
    return tab.get_by_role("region", name="Your comparison")


def table_snapshot(tab) -> dict:
    """What the compare table shows: column ids and titles, row fields, which rows are marked, and the cell text."""
    return tab.locator("table.compare-table").evaluate("""t => ({
        ids: [...t.querySelectorAll('thead th[data-id]')].map(th => th.dataset.id),
        titles: [...t.querySelectorAll('thead th[data-id] > a:first-child')].map(a => a.textContent.trim()),
        fields: [...t.querySelectorAll('tbody tr')].map(tr => tr.dataset.field),
        differs: [...t.querySelectorAll('tbody tr')].map(tr => tr.classList.contains('row-differs')),
        cells: [...t.querySelectorAll('tbody td')].map(td => td.innerText.trim()),
    })""")


def test_add_programs_from_the_results_and_open_the_comparison(page, data, shoot):
    page.goto("/search?q=health+information&kind=program")
    expect(compare_bar(page)).to_be_hidden()
    first = page.locator(f'button.compare-add[data-compare-id="{data.HIT_GA}"]')
    first.click()
    expect(first).to_contain_text("Remove from compare")
    expect(compare_bar(page)).to_contain_text("1 program chosen")
    # Keys alone: the enhanced control is a real button, so Enter (and Space) work.
    second = page.locator(f'button.compare-add[data-compare-id="{data.HIT_OH}"]')
    second.focus()
    page.keyboard.press("Enter")
    expect(compare_bar(page)).to_contain_text("2 programs chosen")
    expect(compare_bar(page).get_by_role("status")).to_contain_text("Added Health Information Technology")
    # The choice survives going to another page.
    page.goto("/")
    link = compare_bar(page).get_by_role("link", name="Compare 2 programs")
    link.click()
    page.wait_for_url(re.compile(r"/compare\?"))
    assert query_of(page.url) == {"programs": [f"{data.HIT_GA},{data.HIT_OH}"]}
    shown = table_snapshot(page)
    assert shown["ids"] == [data.HIT_GA, data.HIT_OH]
    status = page.locator('tr[data-field="accreditation_status"]')
    expect(status).to_have_class(re.compile("row-differs"))
    expect(status.get_by_role("rowheader")).to_contain_text("differs")
    expect(status).to_contain_text("On probation")
    expect(page.locator('tr[data-field="degree_level"]')).not_to_have_class(re.compile("row-differs"))
    expect(page.locator('tr[data-field="careers"]').get_by_role("link", name="Medical Records Specialists").first) \
        .to_be_visible()
    shoot(page, "compare")


def test_a_fifth_program_is_refused_with_a_message(page, data):
    page.goto("/search?kind=program")
    buttons = page.locator("button.compare-add")
    expect(buttons.first).to_be_visible()
    assert buttons.count() == 5, "the hand-made data has five programs"
    for i in range(4):
        buttons.nth(i).click()
    expect(compare_bar(page)).to_contain_text("4 programs chosen")
    buttons.nth(4).click()
    expect(compare_bar(page)).to_contain_text("up to 4 programs: remove one first")
    expect(buttons.nth(4)).to_contain_text("Add to compare")


def test_add_schools_from_their_pages(page, data):
    page.goto(f"/institutions/{data.GHC}")
    page.get_by_role("button", name="Add to compare: Georgia Health College").click()
    page.goto(f"/institutions/{data.OVCC}")
    expect(compare_bar(page)).to_contain_text("1 school chosen (up to 4): Georgia Health College")
    page.get_by_role("button", name="Add to compare: Ohio Valley Community College").click()
    compare_bar(page).get_by_role("link", name="Compare 2 schools").click()
    page.wait_for_url(re.compile(r"/compare\?"))
    assert query_of(page.url) == {"institutions": [f"{data.GHC},{data.OVCC}"]}
    assert table_snapshot(page)["titles"] == ["Georgia Health College", "Ohio Valley Community College"]
    rating = page.locator('tr[data-field="rating"]')
    expect(rating.get_by_role("list", name="Ratings by number of stars")).to_have_count(2)
    # Distances from a ZIP code, asked for on the page.
    page.get_by_label("Distance from ZIP code").fill("30303")
    page.get_by_role("button", name="Show distances").click()
    page.wait_for_url(re.compile(r"zip=30303"))
    expect(page.locator('tr[data-field="distance_miles"]')).to_contain_text("miles")


def test_remove_a_column_and_the_pending_selection_follows(page, data):
    page.goto(f"/compare?programs={data.HIT_GA},{data.HIT_OH},{data.RAD_GA}")
    assert len(table_snapshot(page)["ids"]) == 3
    remove = page.locator(f'thead th[data-id="{data.HIT_OH}"]').get_by_role(
        "link", name="Remove Health Information Technology (Ohio Valley Community College) from the comparison")
    remove.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: data.HIT_OH not in url)
    assert query_of(page.url) == {"programs": [f"{data.HIT_GA},{data.RAD_GA}"]}
    assert table_snapshot(page)["ids"] == [data.HIT_GA, data.RAD_GA]
    # The compare page wrote its selection back: elsewhere the bar offers exactly these two.
    page.goto("/")
    link = compare_bar(page).get_by_role("link", name="Compare 2 programs")
    assert query_of(link.get_attribute("href")) == {"programs": [f"{data.HIT_GA},{data.RAD_GA}"]}


def test_a_shared_url_shows_the_same_table_in_another_browser(page, browser, live_server, data):
    url = f"/compare?institutions={data.GHC},{data.OVCC},{data.UCB}&zip=30303"
    page.goto(url)
    mine = table_snapshot(page)
    # A fresh context: no cookies, no localStorage, nothing but the URL.
    other = browser.new_context(base_url=live_server)
    try:
        theirs_tab = other.new_page()
        theirs_tab.goto(url)
        assert table_snapshot(theirs_tab) == mine
        assert theirs_tab.evaluate("localStorage.getItem('collegesearch.compare')") is not None
    finally:
        other.close()


def test_the_api_twin_returns_the_table_as_json(page, data):
    query = f"programs={data.HIT_GA},{data.HIT_OH},{data.RAD_GA}"
    page.goto(f"/compare?{query}")
    shown = table_snapshot(page)
    page.get_by_role("link", name="This comparison as JSON").click()
    page.wait_for_url(re.compile(r"/api/compare\?"))
    body = page.evaluate("JSON.parse(document.body.innerText)")
    assert body["kind"] == "program"
    assert [c["id"] for c in body["columns"]] == shown["ids"]
    assert [c["title"] for c in body["columns"]] == shown["titles"]
    assert [r["field"] for r in body["rows"]] == shown["fields"]
    assert [r["differs"] for r in body["rows"]] == shown["differs"]
    response = page.request.get(f"/api/compare?{query}")
    assert response.status == 200 and response.json() == body


def test_phone_width_table_scrolls_in_its_box_not_the_page(phone390, data):
    tab = phone390
    tab.goto(f"/compare?institutions={data.GHC},{data.OVCC},{data.UCB},{data.EVIL}")
    box = tab.locator(".compare-scroll")
    expect(box).to_be_visible()
    sizes = tab.evaluate("""() => {
        const box = document.querySelector('.compare-scroll');
        return {page: document.documentElement.scrollWidth, view: document.documentElement.clientWidth,
                box: box.scrollWidth, boxView: box.clientWidth};
    }""")
    # A mobile browser widens its layout viewport to fit a too-wide page: it must stay the screen's 390 px.
    assert sizes["view"] == 390 and sizes["page"] <= sizes["view"], f"the page scrolls sideways at 390 px: {sizes}"
    assert sizes["box"] > sizes["boxView"], f"four columns should overflow their box at 390 px: {sizes}"
    # The box scrolls with the keyboard (it is focusable) and the page stays put.
    box.focus()
    tab.keyboard.press("ArrowRight")
    tab.keyboard.press("ArrowRight")
    # Polled from here: wait_for_function would evaluate its predicate with eval(), which the CSP forbids.
    for _ in range(50):
        if box.evaluate("b => b.scrollLeft") > 0:
            break
        tab.wait_for_timeout(100)
    assert box.evaluate("b => b.scrollLeft") > 0, "the arrow keys did not scroll the focused table box"
    assert tab.evaluate("window.scrollX") == 0
    # Results with the compare bar showing do not scroll sideways either.
    tab.goto("/search?q=health+information&kind=program")
    tab.locator("button.compare-add").first.click()
    expect(compare_bar(tab)).to_be_visible()
    assert tab.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_without_javascript_add_to_compare_links_build_the_url(browser, live_server, data):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(f"/programs/{data.HIT_GA}")
        tab.get_by_role("link", name=re.compile("^Add to compare")).click()
        tab.wait_for_url(re.compile(r"/compare\?"))
        assert query_of(tab.url) == {"programs": [data.HIT_GA]}
        tab.get_by_role("link", name="find another program").click()
        tab.locator(f'a.compare-add[data-compare-id="{data.RAD_GA}"]').click()
        tab.wait_for_url(re.compile(r"/compare\?"))
        assert query_of(tab.url) == {"programs": [f"{data.HIT_GA},{data.RAD_GA}"]}
        assert table_snapshot(tab)["ids"] == [data.HIT_GA, data.RAD_GA]
        expect(tab.locator(".compare-bar")).to_have_count(0)  # no script, no bar: the links did it all
    finally:
        context.close()
