"""Page modules on pages rendered in-process by the sample-site generator, against its ground truth.

No server: ``sample_site.site.Site.respond`` renders a page exactly as the HTTP server would
(faults on: the Latin-1 and malformed profiles, tracking parameters, redirects). Expected items
come from ``sample_site.truth.expected_items``. A sample of every page kind is checked here; the
crawl tests compare the whole site.
"""

from __future__ import annotations

import json
from functools import cache

import pytest

from crawler.pages import bls_ooh, collegenavigator, directory, reviews
from model.items import item_from_dict
from sample_site import pages_cn, truth
from sample_site import site as site_mod
from sample_site.core import SOURCE_HOSTS
from sample_site.reviewdata import schools_by_entity

pytestmark = pytest.mark.xdist_group("sample_site_world")  # build the generator's world once per worker

BASE = truth.default_base_urls()
MODULES = {"bls_ooh": bls_ooh, "collegenavigator": collegenavigator, "directory": directory, "reviews": reviews}


@cache
def site():
    return site_mod.Site(1, True, BASE, False)


@cache
def expected():
    return truth.expected_items(1)


def fetch(source: str, path_query: str):
    """(url, body, headers) of a page, following redirects like a crawler would."""
    for _ in range(5):
        path, _, query = path_query.partition("?")
        response = site().respond("GET", f"{SOURCE_HOSTS[source]}:8800", path, query)
        headers = dict(response.headers)
        if response.status in (301, 302):
            path_query = headers["Location"].split("8800", 1)[-1]
            continue
        if response.status == 503:  # the transient fault: a retry succeeds
            continue
        assert response.status == 200, (path_query, response.status)
        return BASE[source] + path_query, response.body, headers
    raise AssertionError(f"too many redirects for {path_query}")


def page(source: str, path_query: str):
    url, body, headers = fetch(source, path_query)
    return MODULES[source].page_for(url, body, headers)


def check_items(items, source: str, skip: tuple[str, ...] = ()) -> int:
    """Every item equals its ground-truth record field by field; returns how many were checked."""
    assert items
    for item in items:
        want = expected()[item.kind].get(item.item_id)
        assert want is not None, f"{source}: unexpected {item.kind} {item.item_id}"
        got = item.to_dict()
        diff = {f: (got.get(f), v) for f, v in want.items() if f not in skip and got.get(f) != v}
        assert not diff, f"{item.kind} {item.item_id}: (extracted, truth) {diff}"
    return len(items)


# --------------------------------------------------------------------------- careers


@cache
def az_aliases():
    az = page("bls_ooh", "/ooh/a-z-index.htm")  # 301 to /ooh/a-z/index.htm
    assert isinstance(az, bls_ooh.AZIndexPage)
    return az.aliases_by_key()


def careers_sample() -> list[str]:
    """Paths of saved real pages and generated pages (raw and rendered forms)."""
    paths = sorted(v["url"].split("8800", 1)[1] for v in expected()["career"].values())
    return sorted(set(paths[::20] + [
        "/ooh/healthcare/medical-records-and-health-information-technicians.htm",
        "/ooh/construction-and-extraction/insulation-workers.htm",
        "/ooh/entertainment-and-sports/musicians-and-singers.htm",
    ]))


def test_career_pages_match_truth():
    checked = 0
    for path in careers_sample():
        p = page("bls_ooh", path)
        assert isinstance(p, bls_ooh.CareerPage), path
        items = bls_ooh.with_aliases(p.to_items(), az_aliases().get(bls_ooh.occupation_key(p.url), []))
        checked += check_items(items, "bls_ooh")
    assert checked >= 18


def test_generated_careers_name_their_accreditors():
    with_accreditors = [v for v in expected()["career"].values() if v["accreditors"]]
    assert with_accreditors
    for want in with_accreditors[:8]:
        [item] = page("bls_ooh", want["url"].split("8800", 1)[1]).to_items()
        assert item.accreditors == want["accreditors"]


def test_ooh_index_pages_yield_navigation_not_items():
    home = page("bls_ooh", "/ooh/")
    assert isinstance(home, bls_ooh.OccupationIndexPage) and home.to_items() == []
    groups = home.group_links()
    assert len(groups) >= 20 and all(u.endswith("/home.htm") for u in groups)
    group = page("bls_ooh", groups[0].split("8800", 1)[1])
    assert isinstance(group, bls_ooh.OccupationIndexPage)
    assert group.occupation_links() and all(bls_ooh.is_occupation_url(u) for u in group.occupation_links())
    assert not any("/a-z/" in u for u in group.occupation_links())


# --------------------------------------------------------------------------- College Navigator


def cn_sample() -> list[str]:
    """Profiles with every programmatic status, a CAHIIM program, Berkeley, the fault pages, and a spread."""
    programs = expected()["program"].values()
    with_status: dict[str, str] = {}
    for p in programs:
        if p["source"] == "collegenavigator":
            with_status.setdefault(p["accreditation_status"], p["institution_unitid"])
    cahiim = next(p["institution_unitid"] for p in programs if p["accreditor"] == "CAHIIM" and p["source"] == "collegenavigator")
    uids = set(with_status.values()) | {cahiim, "110635", pages_cn.LATIN1_UNITID, pages_cn.malformed_unitid()}
    uids |= set(sorted(expected()["institution"])[::700])
    return sorted(u for u in uids if u in expected()["institution"])


def test_institution_profiles_match_truth():
    programs_by_unitid: dict[str, set[str]] = {}
    for key, value in expected()["program"].items():
        if value["source"] == "collegenavigator":
            programs_by_unitid.setdefault(value["institution_unitid"], set()).add(key)
    sample = cn_sample()
    for unitid in sample:
        p = page("collegenavigator", f"/collegenavigator/?id={unitid}")
        assert isinstance(p, collegenavigator.InstitutionPage), unitid
        items = p.to_items()
        assert items[0].kind == "institution" and items[0].unitid == unitid
        assert {i.item_id for i in items[1:]} == programs_by_unitid.get(unitid, set()), unitid
        check_items(items, "collegenavigator")
    assert len(sample) >= 15


def test_every_status_word_is_covered_by_the_sample():
    statuses = {p["accreditation_status"] for p in expected()["program"].values() if p["source"] == "collegenavigator"}
    assert {"accredited", "probation", "withdrawn", "closed", "no_longer_recognized"} <= statuses


def test_latin1_and_malformed_profiles_are_read():
    latin = page("collegenavigator", f"/collegenavigator/?id={pages_cn.LATIN1_UNITID}")
    assert latin.encoding == "cp1252"
    assert latin.to_items()[0].name == expected()["institution"][pages_cn.LATIN1_UNITID]["name"]
    broken = page("collegenavigator", f"/collegenavigator/?id={pages_cn.malformed_unitid()}")
    assert len(broken.to_items()) >= 4  # the institution and its three or more programs


def test_listings_and_pagination():
    home = page("collegenavigator", "/collegenavigator/")
    assert isinstance(home, collegenavigator.ResultsPage)
    states = home.page_links()
    assert any(u.endswith("?s=CA") for u in states) and len(states) >= 50
    ca = page("collegenavigator", "/collegenavigator/?s=CA")
    assert len(ca.detail_links()) == 15
    assert all("sessionid" not in u and collegenavigator.unitid_from_url(u) for u in ca.detail_links())
    second = ca.next_page()
    assert second and second.endswith("?s=CA&pg=2")
    assert second in ca.page_links()
    page2 = page("collegenavigator", second.split("8800", 1)[1])
    assert set(page2.detail_links()).isdisjoint(ca.detail_links())
    assert all(u.split("id=")[1] in expected()["institution"] for u in ca.detail_links())


# --------------------------------------------------------------------------- directory


def test_directory_program_pages_match_truth():
    wanted = [v for v in expected()["program"].values() if v["source"] == "directory"]
    assert len(wanted) == 245
    checked = 0
    for want in wanted[::6]:
        p = page("directory", want["url"].split("8800", 1)[1])
        assert isinstance(p, directory.DirectoryProgramPage)
        # institution_unitid is set by record linkage in the pipeline, not by the page.
        checked += check_items(p.to_items(), "directory", skip=("institution_unitid",))
        assert p.to_items()[0].institution_unitid is None
    assert checked >= 40


def test_directory_listing_navigation():
    listing = page("directory", "/cahiim/program-directory")
    assert isinstance(listing, directory.DirectoryListingPage)
    assert listing.to_items() == []
    assert 20 <= len(listing.detail_links()) <= 21  # one extra "coming soon" link with faults on
    assert listing.next_page().endswith("/cahiim/program-directory?page=2")
    filters = listing.filter_links()
    assert any("state=" in u for u in filters) and any("degree=" in u for u in filters)
    assert any("delivery=online" in u for u in filters)
    rows = listing.rows()
    assert rows[0]["directory_id"] and rows[0]["institution"]
    last = page("directory", "/cahiim/program-directory?page=13")
    assert last.next_page() is None
    # The old /cahiim/programs/<id> links redirect to the detail page, which the module recognises.
    assert all(directory._DETAIL_RE.search(u) for u in listing.detail_links())


# --------------------------------------------------------------------------- reviews


def review_sample() -> list[str]:
    """Entities: a spread, two with several pages, two with JSON-LD."""
    from collections import Counter

    counts = Counter(v["entity_id"] for v in expected()["review"].values())
    by_e = schools_by_entity()
    entities = sorted(counts)
    many = [e for e in entities if counts[e] > 20]
    jsonld = [e for e in entities if by_e[e].jsonld]
    return sorted(set(entities[::400] + many[:2] + jsonld[:2]))


def test_review_pages_and_api_give_the_truth():
    by_entity: dict[str, set[str]] = {}
    for key, value in expected()["review"].items():
        by_entity.setdefault(value["entity_id"], set()).add(key)
    for entity in review_sample():
        school = schools_by_entity()[entity]
        html_items, api_items = [], []
        path = school.path
        while path:
            p = page("reviews", path)
            assert isinstance(p, reviews.SchoolReviewsPage)
            html_items += p.to_items()
            nxt = p.next_page()
            path = nxt.split("8800", 1)[1] if nxt else None
        api = f"/api/entity-reviews/?e={entity}&page=1&limit=20"
        while api:
            p = page("reviews", api)
            assert isinstance(p, reviews.ReviewsApiPage)
            api_items += p.to_items()
            nxt = p.next_page()
            api = nxt.split("8800", 1)[1] if nxt else None
        assert {i.item_id for i in html_items} == by_entity[entity] == {i.item_id for i in api_items}
        check_items(html_items, "reviews", skip=("institution_unitid",))
        check_items(api_items, "reviews", skip=("institution_unitid",))
        assert [i.to_dict() for i in html_items] == [i.to_dict() for i in api_items]


def test_json_ld_reviews_agree_with_the_markup():
    school = next(s for s in schools_by_entity().values() if s.jsonld and s.entity_id in
                  {v["entity_id"] for v in expected()["review"].values()})
    url, body, headers = fetch("reviews", school.path)
    p = reviews.page_for(url, body, headers)
    from_markup = {i.review_id: i for i in p.to_items()}
    from_json_ld = {i.review_id: i for i in p._json_ld_reviews()}
    assert from_json_ld.keys() == from_markup.keys()
    for rid, item in from_json_ld.items():
        assert (item.rating, item.body, item.date, item.author_role) == (
            from_markup[rid].rating, from_markup[rid].body, from_markup[rid].date, from_markup[rid].author_role)


def test_school_index_navigation():
    index = page("reviews", "/reviews/colleges/")
    assert isinstance(index, reviews.SchoolIndexPage)
    links = index.school_links()
    assert len(links) >= 50 and index.to_items() == []
    assert index.next_page().endswith("/reviews/colleges/?page=2")
    # Faults on: some cards link through /reviews/c/<entity id> or with utm parameters; all are schools.
    assert all(reviews._SCHOOL_PATH_RE.search(u.split("?")[0]) for u in links)


def test_api_errors_are_not_items():
    url, body = "http://127.0.0.5:8800/api/entity-reviews/?e=x", b'{"error":"bad_request","message":"nope"}'
    p = reviews.page_for(url, body, {"Content-Type": "application/json"})
    assert isinstance(p, reviews.ReviewsApiPage) and p.to_items() == [] and p.error() == "nope"
    assert reviews.page_for(url, b"not json", {"Content-Type": "application/json"}).to_items() == []
    assert json.loads(json.dumps([i.to_dict() for i in p.to_items()])) == []
    assert item_from_dict({"kind": "review", "url": "u", "review_id": "reviews:1"}).item_id == "reviews:1"
