"""The web app in a real browser: search, facets, career -> programs -> school -> reviews, write and approve a
review, autocomplete, keyboard only, a phone screen, no console errors, CSP violations or injected script, and a
program page's sources and their disagreement."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import serve_in_thread


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_search_from_the_home_page(page, data, shoot):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Find a career")
    shoot(page, "home")
    page.get_by_label("Search careers, programs, colleges and reviews").fill("medical records")
    page.get_by_label("Near ZIP code").fill("")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/search?*")
    assert query_of(page.url)["q"] == ["medical records"]
    results = page.locator("ol.result-list > li")
    expect(results.first).to_be_visible()
    expect(results.first.get_by_role("link").first).to_have_text("Medical Records Specialists")
    expect(page.locator(".results-count")).to_contain_text("results")
    expect(page.locator("mark").first).to_be_visible()
    shoot(page, "results")
    # A results page with filters switched on (the README picture).
    page.goto("/search?q=health+information&accreditation_status=accredited&accreditation_status=probation")
    expect(page.locator("a.facet-link.is-selected")).to_have_count(2)
    shoot(page, "results-filtered", full_page=False)


def test_facets_toggle_filters_on_and_off(page, data):
    page.goto("/search?q=health+information&kind=program")
    state_facet = page.locator("section.facet", has=page.get_by_role("heading", name="State"))
    state_facet.get_by_role("link", name=re.compile("Georgia")).click()
    page.wait_for_url(re.compile(r"state=GA"))
    assert query_of(page.url)["q"] == ["health information"] and query_of(page.url)["kind"] == ["program"]
    expect(page.locator(f"#hit-program\\:{data.HIT_GA}")).to_be_visible()
    expect(page.locator(f"#hit-program\\:{data.HIT_OH}")).to_have_count(0)
    selected = page.locator("a.facet-link.is-selected")
    expect(selected).to_have_attribute("aria-current", "true")
    selected.click()
    page.wait_for_url(lambda url: "state=GA" not in url)
    expect(page.locator(f"#hit-program\\:{data.HIT_OH}")).to_be_visible()
    # Kind tabs switch too, and the sort menu submits itself (JavaScript) keeping the query.
    page.get_by_role("navigation", name="Result types").get_by_role("link", name=re.compile("Colleges")).click()
    page.wait_for_url(re.compile(r"kind=institution"))
    page.get_by_label("Sort by").select_option("name")
    page.wait_for_url(re.compile(r"sort=name"))
    assert query_of(page.url)["q"] == ["health information"]


def test_career_to_programs_to_school_to_reviews(page, data, shoot):
    page.goto("/careers/")
    page.get_by_role("link", name="Medical Records Specialists").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Medical Records Specialists")
    expect(page.get_by_role("img", name=re.compile("Annual pay for Medical Records Specialists"))).to_be_visible()
    shoot(page, "career")
    programs = page.locator("#programs")
    # Filter the programs to Georgia, online.
    programs.get_by_label("State").select_option("GA")
    programs.get_by_label("Online only").check()
    programs.get_by_role("button", name="Show programs").click()
    page.wait_for_url(re.compile(r"state=GA"))
    rows = page.locator("#programs li.program-row")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name="Health Information Technology").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Health Information Technology")
    expect(page.locator(".status-line")).to_contain_text("Accredited")
    page.locator(".lead").get_by_role("link", name="Georgia Health College").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Georgia Health College")
    shoot(page, "institution")
    page.get_by_role("navigation", name="On this page").get_by_role("link", name=re.compile("Reviews")).click()
    reviews = page.locator("#reviews .review-card")
    expect(reviews).to_have_count(3)
    expect(page.locator("#reviews")).to_contain_text("Helpful financial aid office")
    # Filter reviews by topic.
    page.get_by_role("navigation", name="Filter reviews by topic").get_by_role("link", name=re.compile("Financial aid")).click()
    expect(page.locator("#reviews .review-card")).to_have_count(1)


def test_reviews_one_click_from_the_career_page(page, data):
    page.goto(f"/careers/{data.MRS}")
    page.locator("#programs").get_by_role("link", name=re.compile("Reviews of this school")).first.click()
    page.wait_for_url(re.compile(r"/institutions/\d+#reviews"))
    expect(page.locator("#reviews h2")).to_have_text("Reviews")


def write_review(page, data, title: str, body: str) -> None:
    page.goto(f"/institutions/{data.GHC}")
    page.get_by_role("link", name="Write your own review").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Write a review of Georgia Health College")
    page.get_by_label("4 stars, good").check()
    page.get_by_label("What is your review mostly about?").select_option("academics")
    page.get_by_label("You are a").select_option("graduate")
    page.get_by_label(re.compile(r"^Title")).fill(title)
    page.get_by_label(re.compile(r"^Your review")).fill(body)
    page.get_by_role("button", name="Send review for moderation").click()


def test_write_a_review_shows_validation_and_keeps_values(page, data, shoot):
    page.goto(f"/institutions/{data.GHC}/review")
    page.get_by_label(re.compile(r"^Title")).fill("Short one")
    page.get_by_label(re.compile(r"^Your review")).fill("Too short")
    page.get_by_role("button", name="Send review for moderation").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("everything you typed is still here")
    expect(page.locator("#body-error")).to_contain_text("at least 30 characters")
    expect(page.locator("#rating-error")).to_contain_text("Choose a rating")
    expect(page.get_by_label(re.compile(r"^Title"))).to_have_value("Short one")
    expect(page.get_by_label(re.compile(r"^Your review"))).to_have_value("Too short")
    expect(page.get_by_label(re.compile(r"^Your review"))).to_have_attribute("aria-invalid", "true")
    shoot(page, "review-validation")
    # The error summary links to the fields.
    alert.get_by_role("link", name=re.compile("Your review")).click()
    expect(page.get_by_label(re.compile(r"^Your review"))).to_be_focused()
    write_review(page, data, "Fine labs", "Fine labs and patient instructors who explain every coding rule twice.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your review")


def test_admin_approves_a_review_and_it_is_found_by_search(page, data, shoot):
    word = "q" + uuid.uuid4().hex[:10]
    write_review(page, data, f"Great {word} tutoring", f"The {word} tutoring center helped me pass every course.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your review")
    page.goto(f"/search?q={word}")
    expect(page.locator(".no-results")).to_be_visible()  # pending: not public yet
    page.goto("/admin/")
    page.wait_for_url(re.compile(r"/admin/login"))
    page.get_by_label("Admin password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("That password is not right")
    page.get_by_label("Admin password").fill(data.ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    page.get_by_role("navigation", name="Admin").get_by_role("link", name=re.compile("Reviews to moderate")).click()
    card = page.locator(".moderation-list > li", has_text=word)
    expect(card).to_have_count(1)
    shoot(page, "admin-moderation")
    card.get_by_role("button", name=re.compile("Approve and publish")).click()
    expect(page.locator(".flash")).to_contain_text("the search index is up to date")
    page.goto(f"/search?q={word}")
    first = page.locator("ol.result-list > li").first
    expect(first).to_contain_text(f"Great {word} tutoring")
    first.get_by_role("link", name=f"Great {word} tutoring").click()
    expect(page.locator(".review-body")).to_contain_text(f"The {word} tutoring center")
    page.goto("/admin/runs")
    expect(page.locator("table.runs-table tbody tr")).to_have_count(2)


def test_autocomplete_with_mouse_and_keyboard(page, data):
    page.goto("/")
    box = page.get_by_role("combobox", name="Search careers, programs, colleges and reviews")
    box.press_sequentially("medi", delay=40)
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    option = listbox.get_by_role("option", name=re.compile("Medical Records Specialists"))
    expect(option).to_be_visible()
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", re.compile(r"q-suggestions-0"))
    expect(listbox.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("ArrowDown")  # reopen
    expect(listbox).to_be_visible()
    box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_url(f"**/careers/{data.MRS}")
    # An alias finds the career people mean.
    page.goto("/")
    page.get_by_role("combobox").first.press_sequentially("x-ray", delay=40)
    expect(page.get_by_role("option", name=re.compile("Radiologic and MRI Technologists"))).to_be_visible()
    page.get_by_role("option", name=re.compile("Radiologic")).click()
    page.wait_for_url(f"**/careers/{data.RAD}")


def test_keyboard_only(page, data):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    page.wait_for_url("**/#main")  # the fragment navigation lands a moment after the key press
    # Tab from the main landmark to the search box and search with the keyboard.
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("health information")
    page.keyboard.press("Enter")  # no suggestion is chosen, so Enter submits the form
    page.wait_for_url("**/search?*")
    # Reach a facet link by Tab and toggle it with Enter.
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('facet-link')"):
            break
    assert page.evaluate("document.activeElement.classList.contains('facet-link')")
    href = page.evaluate("document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith(href) or href.split("?")[1] in url)
    expect(page.locator("a.facet-link.is-selected").first).to_be_visible()


def test_phone_sized_screen(phone, data, shoot):
    for url, name in (("/", "phone-home"), ("/search?q=health+information", "phone-results"),
                      (f"/careers/{data.MRS}", "phone-career"), (f"/institutions/{data.GHC}", "phone-institution"),
                      (f"/institutions/{data.GHC}/review", "phone-review-form")):
        phone.goto(url)
        width, view = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        # innerWidth too: a page wider than the screen makes the browser zoom out, widening the viewport with it
        assert view == 375 and width <= 376, f"{url} scrolls sideways on a phone ({width}px in a {view}px viewport)"
        shoot(phone, name, full_page=False)
    # On a phone the filter panel starts folded and opens on demand.
    phone.goto("/search?q=health+information")
    panel = phone.locator("details.facet-panel")
    expect(panel).not_to_have_attribute("open", "")
    phone.get_by_text("Show or hide filters").click()
    expect(panel.get_by_role("heading", name="State")).to_be_visible()
    # Touch targets are big enough to hit.
    box = phone.locator(".pagination a, .facet-link").first.bounding_box()
    assert box is None or box["height"] >= 24


def test_no_errors_csp_violations_or_injected_script_on_any_page(page, data):
    urls = ["/", "/search?q=health", "/search?q=evil", "/careers/", f"/careers/{data.MRS}",
            f"/careers/{data.EVIL_CAREER}", "/colleges/", f"/institutions/{data.GHC}", f"/institutions/{data.EVIL}",
            f"/programs/{data.HIT_OH}", f"/programs/{data.EVIL_PROG}", "/reviews/r-evil-1", "/military-friendly",
            "/online-programs", "/changes", f"/institutions/{data.EVIL}/review", "/admin/login", "/no/such/page"]
    for url in urls:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        # Hostile names are shown as text: no element was injected, no handler attribute survived.
        assert page.locator("script:not([src])").count() == 0, url
        assert page.locator("[onmouseover]").count() == 0, url
        assert page.locator("a[href^='javascript:']").count() == 0, url
    assert page.problems.items == []


@pytest.fixture(scope="module")
def fused_site(tmp_path_factory):
    """The app over a catalog where two sources list one program and disagree on its status, served in-process."""
    from collegesearch.config import load_settings
    from indexer.build import rebuild
    from tests.unit.webapp.test_webapp_fusion import build_fused_catalog

    data = tmp_path_factory.mktemp("browser-fused") / "data"
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data)})
    build_fused_catalog(settings.catalog_path)
    rebuild(settings)
    with serve_in_thread(settings) as url:
        yield url


def test_program_page_shows_its_sources_and_their_disagreement_accessibly(page, fused_site, shoot):
    from tests.unit.webapp.test_webapp_fusion import CN_ID, CN_URL, DIR_ID, DIR_URL, PROBATION_DAY

    # The directory's own id leads to the one fused page.
    page.goto(f"{fused_site}/programs/{DIR_ID}")
    assert page.url == f"{fused_site}/programs/{CN_ID}"
    note = page.get_by_role("note", name="Sources disagree")
    expect(note).to_be_visible()
    expect(note).to_contain_text(f"Accreditor program directory: On probation since {PROBATION_DAY}; "
                                 "NCES College Navigator still lists Accredited")
    sources = page.get_by_role("region", name="Sources")
    table = sources.get_by_role("table")
    expect(table).to_be_visible()
    expect(table.get_by_role("columnheader")).to_have_text(["Source", "Last seen", "Facts shown from it"])
    expect(table.get_by_role("rowheader")).to_have_text(["NCES College Navigator", "Accreditor program directory"])
    expect(table.get_by_role("link", name="NCES College Navigator")).to_have_attribute("href", CN_URL)
    expect(table.get_by_role("link", name="Accreditor program directory")).to_have_attribute("href", DIR_URL)
    directory_row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Accreditor program directory"))
    expect(directory_row.get_by_role("cell").last).to_contain_text("Accreditation status")
    # The note stands out from the text around it (a border and a background of its own).
    style = note.evaluate("el => { const s = getComputedStyle(el); return [s.borderLeftStyle, s.backgroundColor]; }")
    assert style[0] != "none" and style[1] not in ("rgba(0, 0, 0, 0)", "transparent")
    shoot(page, "program-sources-conflict")
