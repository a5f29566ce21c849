"""A long facet in a real browser: the folded states unfold in place, by mouse or keyboard, with no request."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import serve_in_thread
from tests.unit.webapp import facet_testdata
from webapp.facet_view import TOP_VALUES


@pytest.fixture(scope="module")
def lakeside_site(tmp_path_factory):
    """The app over the hand-made catalog plus Lakeside colleges in sixteen states, served in-process."""
    settings = facet_testdata.build(tmp_path_factory.mktemp("browser-facets") / "data")
    with serve_in_thread(settings) as url:
        yield url


def test_more_unfolds_the_hidden_states_in_place_without_a_request(page, lakeside_site, shoot):
    # Louisiana has the fewest colleges: selected, it stays in view although it is not a top value.
    page.goto(f"{lakeside_site}/search?q={facet_testdata.QUERY}&state=LA")
    page.wait_for_load_state("networkidle")
    address = page.url
    facet = page.locator("section.facet", has=page.get_by_role("heading", name="State", exact=True))
    expect(facet.locator("a.facet-link.is-selected")).to_have_text(re.compile("Louisiana"))
    expect(facet.locator("a.facet-link.is-selected")).to_be_visible()
    folded = facet.get_by_role("group").locator("a.facet-link")
    hidden = len(facet_testdata.STATES) - TOP_VALUES - 1
    expect(folded).to_have_count(hidden)
    for i in range(hidden):
        expect(folded.nth(i)).to_be_hidden()

    requests: list[str] = []
    navigations: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    more = facet.locator("summary")
    expect(more).to_have_accessible_name(f"Show {hidden} more states")
    more.click()
    for i in range(hidden):
        expect(folded.nth(i)).to_be_visible()
    expect(more).to_have_accessible_name("Show fewer states")
    shoot(page, "results-state-facet-unfolded", full_page=False)
    # The keyboard folds and unfolds it too (a native <summary>: focusable, Enter and Space work).
    more.focus()
    page.keyboard.press("Enter")
    expect(folded.first).to_be_hidden()
    expect(more).to_have_accessible_name(f"Show {hidden} more states")
    page.keyboard.press("Space")
    expect(folded.last).to_be_visible()
    page.wait_for_timeout(300)  # a request the click started would have gone out by now
    assert requests == [] and navigations == [] and page.url == address
