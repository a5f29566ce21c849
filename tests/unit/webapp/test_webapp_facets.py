"""The results page's facet sidebar: a long facet shows its top values and folds the rest in place; the API does not."""

from __future__ import annotations

import html as html_lib
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from collegesearch.config import Settings, load_settings
from indexer.results import FacetValue
from tests.unit.webapp import facet_testdata, webapp_testdata
from webapp.facet_view import FOLD_AFTER, TOP_VALUES, fold
from webapp.templating import FilterToggles

LABEL = re.compile(r'<span class="facet-label">(?:<span class="visually-hidden">Selected, select to remove: </span>)?'
                   r'([^<]+)</span>')


@pytest.fixture(scope="module")
def lakeside_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made catalog plus the Lakeside colleges, indexed once for the module."""
    data = tmp_path_factory.mktemp("facet-data") / "data"
    facet_testdata.build(data)
    return data


@pytest.fixture
def web_settings(tmp_path: Path, lakeside_data: Path) -> Settings:
    """The app's settings over a private copy of the Lakeside data (overrides the shared fixture)."""
    data = tmp_path / "data"
    shutil.copytree(lakeside_data, data)
    return load_settings(env={}, config_file=None, overrides={
        "DATA_DIR": str(data), "ADMIN_PASSWORD_HASH": webapp_testdata.ADMIN_HASH, "MAX_PER_PAGE": 50,
    })


def facet_section(page: str, name: str) -> tuple[str, str | None]:
    """(the part always shown, the folded <details> or None) of one facet's sidebar section."""
    start = page.index(f'<h3 id="facet-{name}">')
    section = page[start:page.index("</section>", start)]
    if "<details" not in section:
        return section, None
    cut = section.index("<details")
    return section[:cut], section[cut:]


def labels(part: str) -> list[str]:
    return [html_lib.unescape(label) for label in LABEL.findall(part)]


def api_states(client, query: str) -> list[dict]:
    body = client.get(f"/api/search?{query}").get_json()
    return body["facets"]["state"]


def test_a_long_state_facet_shows_its_top_values_and_folds_the_rest_in_the_page(client):
    states = api_states(client, f"q={facet_testdata.QUERY}")
    # The API is not folded: every state is there, by count.
    assert sorted(v["value"] for v in states) == sorted(facet_testdata.STATES)
    assert len(states) > FOLD_AFTER
    shown, folded = facet_section(client.get(f"/search?q={facet_testdata.QUERY}").text, "state")
    assert folded is not None
    assert labels(shown) == [v["label"] for v in states[:TOP_VALUES]]
    assert {v["value"] for v in states[:TOP_VALUES]} == set(facet_testdata.TWO_SCHOOL_STATES)
    # The rest are in the page already (no new query to see them), behind a control that says how many.
    assert labels(folded) == [v["label"] for v in states[TOP_VALUES:]]
    hidden = len(states) - TOP_VALUES
    summary = re.search(r"<summary>(.*?)</summary>", folded, re.S)
    assert summary and f'<span class="when-closed">Show {hidden} more states</span>' in summary.group(1)
    assert '<span class="when-open">Show fewer states</span>' in summary.group(1)
    assert "<details open" not in folded


def test_a_selected_low_count_state_stays_visible_and_selected(client):
    states = api_states(client, f"q={facet_testdata.QUERY}")
    lowest = states[-1]
    assert lowest["count"] < states[TOP_VALUES - 1]["count"]  # it would be folded if it were not selected
    page = client.get(f"/search?q={facet_testdata.QUERY}&state={lowest['value']}").text
    shown, folded = facet_section(page, "state")
    assert folded is not None
    assert labels(shown) == [v["label"] for v in states[:TOP_VALUES]] + [lowest["label"]]
    assert lowest["label"] not in labels(folded)
    assert f"Show {len(states) - TOP_VALUES - 1} more states" in folded
    selected = re.findall(r'<a class="facet-link is-selected" href="([^"]+)" aria-current="true">', shown)
    assert len(selected) == 1 and "state=" not in html_lib.unescape(selected[0])
    # The facet still counts every state (its own filter is off for its counts), as the API says.
    assert [v["value"] for v in api_states(client, f"q={facet_testdata.QUERY}&state={lowest['value']}")] == \
        [v["value"] for v in states]


def test_short_facets_are_not_folded(client):
    page = client.get(f"/search?q={facet_testdata.QUERY}").text
    for name in ("accreditation_status", "degree_level", "delivery", "military_friendly", "rating"):
        if f'<h3 id="facet-{name}">' in page:
            assert facet_section(page, name)[1] is None, name
    # A state facet of a few values is shown whole.
    shown, folded = facet_section(client.get("/search?q=health+information").text, "state")
    assert folded is None and 1 < len(labels(shown)) <= FOLD_AFTER


def facet_values(n: int, selected: set[int] = frozenset()) -> list[FacetValue]:
    return [FacetValue(f"v{i:02d}", 100 - i, i in selected) for i in range(n)]


def test_fold_keeps_short_lists_whole_and_selected_values_shown():
    whole = facet_values(FOLD_AFTER)
    assert fold(whole) == (whole, [])
    long = facet_values(FOLD_AFTER + 1)
    assert fold(long) == (long[:TOP_VALUES], long[TOP_VALUES:])
    picked = facet_values(30, selected={2, 25})
    shown, folded = fold(picked)
    assert [v.value for v in shown] == [f"v{i:02d}" for i in range(TOP_VALUES)] + ["v25"]
    assert len(folded) == 30 - TOP_VALUES - 1 and all(not v.selected for v in folded)


def test_filter_toggles_switch_one_value_and_keep_the_rest():
    args = MultiDict([("q", "nursing & care"), ("state", "GA"), ("page", "3"), ("state", "OH"), ("kind", "program")])
    toggles = FilterToggles("/search", args)

    def pairs(url: str) -> list[tuple[str, str]]:
        parts = urlsplit(url)
        assert parts.path == "/search"
        return parse_qsl(parts.query)

    assert pairs(toggles.url("state", "GA")) == [("q", "nursing & care"), ("kind", "program"), ("state", "OH")]
    assert pairs(toggles.url("state", "NY")) == [("q", "nursing & care"), ("kind", "program"), ("state", "GA"),
                                                 ("state", "OH"), ("state", "NY")]
    assert pairs(toggles.url("delivery", "a+b=c")) == [("q", "nursing & care"), ("state", "GA"), ("state", "OH"),
                                                       ("kind", "program"), ("delivery", "a+b=c")]
    assert FilterToggles("/search", MultiDict([("state", "GA")])).url("state", "GA") == "/search"
