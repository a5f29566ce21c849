"""The scaled sample site (``--scale N``): scale 1 is the base site, scale N is N times the programs and reviews.

In-process through ``Site.respond`` (as ``tests/unit/crawler/test_pages_sample_site.py`` does) and,
for one slice, over HTTP from a ``python -m sample_site --scale 3`` server. Scale 3 keeps it fast.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from lxml import html as lxml_html

from catalog.fusion import fusion_key
from crawler.pages import collegenavigator, reviews
from sample_site import epochs, institutions, reviewdata, scale, truth
from sample_site import site as site_mod
from sample_site.core import SOURCE_HOSTS, Page
from sample_site.server import SampleSiteError, serve

pytestmark = pytest.mark.xdist_group("sample_site_world")  # build the generator's world once per worker

ROOT = Path(__file__).resolve().parents[2]
BASE = truth.default_base_urls()
N = 3
MODULES = {"collegenavigator": collegenavigator, "reviews": reviews}


def _get(site: site_mod.Site, source: str, path_query: str) -> site_mod.Response:
    path, _, query = path_query.partition("?")
    host = "127.0.0.1:8800" if source == "portal" else f"{SOURCE_HOSTS[source]}:8800"
    return site.respond("GET", host, path, query)


@cache
def scaled_site() -> site_mod.Site:
    return site_mod.Site(1, True, BASE, False, scale=N)


def _busiest(k: int) -> list[str]:
    """Unitids of the k present institutions with the most programs at scale 1 (and one CAHIIM one)."""
    st = epochs.state(1)
    ranked = sorted(st.present, key=lambda u: (-len(st.programs_of(u)), u))[:k]
    cahiim = st.cahiim_programs()[0].unitid
    return [*ranked, *([cahiim] if cahiim not in ranked else [])]


# --------------------------------------------------------------------------- scale 1


def test_scale_1_is_the_base_site():
    """Nothing is added at scale 1: the state is the base world's programs and reviews, the counts its records."""
    assert scale.extra_programs(1) == {}
    assert scale.scaled_reviews(1) == reviewdata.base_reviews()
    st = epochs.state(1, 1)
    assert st is epochs.state(1) and st.scale == 1
    assert st.programs == institutions.programs() and st.reviews == reviewdata.base_reviews()
    base_site = site_mod.Site(1, True, BASE, False)
    for uid in _busiest(5):
        page = Page("collegenavigator", "profile", (uid,), f"/collegenavigator/?id={uid}")
        shown = site_mod.page_model(page, 1)[2]  # type: ignore[index]
        assert len(shown) == len(institutions.institutions()[uid].programs)
        body = _get(base_site, "collegenavigator", page.canonical).body
        assert body == _get(site_mod.Site(1, True, BASE, False, scale=1), "collegenavigator", page.canonical).body
    # counts() are the number of records expected_items (the unscaled truth) has.
    counted, items = truth.counts(1), truth.expected_items(1)
    by_source = collections.Counter(i["source"] for i in items["program"].values())
    assert counted["careers"] == len(items["career"]) and counted["institution_pages"] == len(items["institution"])
    assert counted["programs_collegenavigator"] == by_source["collegenavigator"]
    assert counted["cahiim_programs"] == by_source["directory"] and counted["reviews"] == len(items["review"])
    sources = json.loads(_get(base_site, "portal", "/sources.json").body)
    assert "scale" not in sources and "scale" not in _get(base_site, "portal", "/").body.decode()


# --------------------------------------------------------------------------- counts


def test_programs_and_reviews_scale_institutions_and_careers_do_not():
    one, three = truth.counts(1), truth.counts(1, scale=N)
    assert three["programs_collegenavigator"] == N * one["programs_collegenavigator"]
    assert three["fused_programs"] == N * one["fused_programs"]
    assert three["reviews"] == N * one["reviews"]
    for same in ("careers", "institution_pages", "ipeds_institutions", "cahiim_programs", "review_schools"):
        assert three[same] == one[same], same
    # Later epochs apply the same kind of events on top: the same number of new reviews.
    assert truth.counts(2, scale=N)["reviews"] - three["reviews"] == truth.counts(2)["reviews"] - one["reviews"]
    sources = json.loads(_get(scaled_site(), "portal", "/sources.json").body)
    assert sources["scale"] == N


def test_extra_programs_are_new_programs_not_copies():
    """Every extra row is a different program of its institution, even after fusion, with realistic variety."""
    extra = scale.extra_programs(N)
    st = epochs.state(1, N)
    insts = institutions.institutions()
    grew = [u for u in _busiest(40) if len(st.programs_of(u)) == N * len(insts[u].programs)]
    assert len(grew) >= 30  # most institutions list N times their own; the rest pass rows on
    names = collections.Counter(p.name for p in extra.values())
    assert len(names) >= 150 and names.most_common(1)[0][1] < 0.05 * len(extra)
    assert {p.degree_level for p in extra.values()} == {"certificate", "associate", "bachelor", "master", "doctoral"}
    assert {p.status for p in extra.values()} >= {"accredited", "probation", "closed", "preaccredited"}
    # The catalog's own fusion key keeps every row of an institution apart (checked on the busiest ones).
    sliced = truth.expected_slice(1, unitids=_busiest(40), scale=N)
    keys = collections.Counter(fusion_key("program", pid, p) for pid, p in sliced["program"].items()
                               if p["source"] == "collegenavigator")
    assert keys and max(keys.values()) == 1
    assert sum(keys.values()) == sum(len(st.programs_of(u)) for u in _busiest(40))


def test_extra_reviews_are_new_text_from_the_same_material():
    st = epochs.state(1, N)
    base = reviewdata.base_reviews()
    entity = max(base, key=lambda e: len(base[e]))
    school = st.reviews[entity]
    assert len(school) == N * len(base[entity])
    assert [r.date for r in school] == sorted(r.date for r in school)  # oldest first, base and extra mixed
    assert set(base[entity]) <= set(school)
    bodies = [r.body for r in school]
    assert len(set(bodies)) > 0.9 * len(bodies)
    base_words = {w for r in base[entity] for w in re.findall(r"[a-z]+", r.body.lower())}
    extra_words = {w for r in school if r not in base[entity] for w in re.findall(r"[a-z]+", r.body.lower())}
    assert len(extra_words & base_words) > 0.5 * len(extra_words)  # the same sentence material...
    rids = [r.rid for v in st.reviews.values() for r in v]
    assert len(set(rids)) == len(rids)  # ...under ids of their own
    assert st.next_rid == 100001 + len(rids)


# --------------------------------------------------------------------------- pages


def _parse(site: site_mod.Site, source: str, path_query: str) -> list:
    response = _get(site, source, path_query)
    if response.status == 503:  # the transient fault: a retry succeeds
        response = _get(site, source, path_query)
    assert response.status == 200, (path_query, response.status)
    page = MODULES[source].page_for(BASE[source] + path_query, response.body, dict(response.headers))
    return page.to_items()


def _check(items: list, want: dict[str, dict[str, dict]]) -> set[str]:
    """Every extracted item equals its truth record (the crawler links reviews later); returns the ids."""
    seen = set()
    for item in items:
        expected = want[item.kind].get(item.item_id)
        assert expected is not None, f"unexpected {item.kind} {item.item_id}"
        got = item.to_dict()
        diff = {f: (got.get(f), v) for f, v in expected.items()
                if got.get(f) != v and not (item.kind == "review" and f == "institution_unitid")}
        assert not diff, f"{item.kind} {item.item_id}: (extracted, truth) {diff}"
        seen.add(item.item_id)
    return seen


def test_scaled_pages_parse_with_the_crawler_page_modules():
    """Profiles and review pages (HTML and API) at scale 3 give exactly the scaled truth's records."""
    site = scaled_site()
    unitids = _busiest(12)
    schools = sorted(truth.review_links(), key=lambda e: -len(reviewdata.base_reviews()[e]))[:3]
    want = truth.expected_slice(1, unitids=unitids, entities=schools, scale=N)
    seen = set()
    for uid in unitids:
        seen |= _check(_parse(site, "collegenavigator", f"/collegenavigator/?id={uid}"), want)
    by_entity = reviewdata.schools_by_entity()
    st = epochs.state(1, N)
    for eid in schools:
        pages = -(-len(st.reviews[eid]) // reviewdata.REVIEWS_PER_PAGE)
        for k in range(1, pages + 1):
            html = _check(_parse(site, "reviews", by_entity[eid].path + (f"?page={k}" if k > 1 else "")), want)
            api = _check(_parse(site, "reviews", f"/api/entity-reviews/?e={eid}&page={k}&limit=20"), want)
            assert html == api
            seen |= html
    cn_programs = {i for i, p in want["program"].items() if p["source"] == "collegenavigator"}
    assert seen == set(want["institution"]) | cn_programs | set(want["review"])


def test_a_scaled_site_keeps_a_bounded_number_of_rendered_pages(monkeypatch):
    monkeypatch.setattr(site_mod, "SCALED_PAGES", 4)
    site = site_mod.Site(1, False, BASE, False, scale=N)
    paths = [f"/collegenavigator/?id={u}" for u in _busiest(8)]
    first = [_get(site, "collegenavigator", p).body for p in paths]
    assert len(site._rendered) == 4
    assert [_get(site, "collegenavigator", p).body for p in paths] == first  # evicted pages render the same again
    assert isinstance(site_mod.Site(1, False, BASE, False)._rendered, dict)  # the base site keeps them all


def test_bounded_cache_drops_the_least_recently_used():
    cache_ = site_mod.BoundedCache(2)
    cache_.put("a", 1)
    cache_.put("b", 2)
    assert cache_.get("a") == 1
    cache_.put("c", 3)
    assert cache_.get("b", "gone") == "gone" and cache_.get("a") == 1 and cache_.get("c") == 3
    cache_.put("d", None)
    assert cache_.get("d", "gone") is None and len(cache_) == 2


# --------------------------------------------------------------------------- determinism


def _scaled_digest(fresh: bool = False) -> str:
    """Hash of the scale-3 extras (built now when ``fresh``, else as served) and a sample of its pages."""
    programs = scale._build_programs(N) if fresh else scale.extra_programs(N)
    review_rows = scale._build_reviews(N) if fresh else scale.scaled_reviews(N)
    h = hashlib.sha256()
    for pid, p in sorted(programs.items()):
        h.update(repr((pid, p.agency, p.name, p.award, p.delivery, p.status, p.since, p.next_review)).encode())
    for eid, rows in sorted(review_rows.items()):
        h.update(repr((eid, [(r.rid, r.rating, r.category, r.role, r.date, r.body) for r in rows[::7]])).encode())
    site = site_mod.Site(1, True, BASE, False, scale=N)
    pages = site_mod.all_pages(1, ("collegenavigator", "reviews"), N)
    for source in ("collegenavigator", "reviews"):
        for page in pages[source][::211]:
            h.update(_get(site, source, page.canonical).body)
    return h.hexdigest()


def test_two_scaled_builds_in_separate_processes_are_identical():
    """The extras built afresh in a child under another PYTHONHASHSEED are the ones served here (the base
    world's own determinism is test_sample_site_generation's; the child may load it from the disk cache)."""
    seed = "4242" if os.environ.get("PYTHONHASHSEED") != "4242" else "7"
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
    code = "from tests.sample_site.test_sample_site_scale import _scaled_digest; print(_scaled_digest(fresh=True))"
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    mine = _scaled_digest()
    theirs = child.communicate(timeout=300)[0].strip()
    assert child.returncode == 0
    assert theirs == mine and len(mine) == 64


# --------------------------------------------------------------------------- validation and HTTP


@pytest.mark.parametrize("bad", [0, 51, -1, 2.0, "3", True])
def test_out_of_range_scales_are_refused(bad):
    with pytest.raises(ValueError, match="scale must be a whole number from 1 to 50"):
        scale.check_scale(bad)
    with pytest.raises(ValueError, match="scale"):
        epochs.state(1, bad)
    with pytest.raises(SampleSiteError, match="scale must be a whole number from 1 to 50"):
        serve(host="127.0.0.1", port=0, epoch=1, faults=True, access_log=None, announce=lambda url: None, scale=bad)


def test_commands_refuse_a_bad_scale_in_one_line():
    proc = subprocess.run([sys.executable, "-m", "sample_site", "--port", "0", "--scale", "51"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip() == "error: scale must be a whole number from 1 to 50, got 51"
    proc = subprocess.run([sys.executable, "-m", "collegesearch", "sample-site", "--port", "0", "--scale", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == "" and "'--scale': 0 is not in the range 1<=x<=50" in proc.stderr


def test_a_crawl_of_a_scaled_site_slice_over_http_matches_the_truth(fresh_sample_site, get):
    """A server started with --scale 3: follow one school's review pages and some profiles like a crawler."""
    server = fresh_sample_site(scale=N, faults=False)
    assert json.loads(get(server.base_url + "/sources.json").body)["scale"] == N
    eid = max(truth.review_links(), key=lambda e: len(reviewdata.base_reviews()[e]))
    unitids = _busiest(4)
    want = truth.expected_slice(1, unitids=unitids, entities=[eid], base_urls=server.base_urls, scale=N)
    seen: set[str] = set()
    url = server.url("reviews", reviewdata.schools_by_entity()[eid].path)
    pages = 0
    while url:  # rel=next links, as the crawler follows them
        fetched = get(url)
        assert fetched.status == 200, url
        seen |= _check(reviews.page_for(url, fetched.body, fetched.headers).to_items(), want)
        nxt = lxml_html.fromstring(fetched.body).xpath("//a[@rel='next']/@href")
        url = server.url("reviews", nxt[0]) if nxt else ""
        pages += 1
    assert pages == -(-N * len(reviewdata.base_reviews()[eid]) // reviewdata.REVIEWS_PER_PAGE)
    st = epochs.state(1, N)
    for uid in unitids:
        url = server.url("collegenavigator", f"/collegenavigator/?id={uid}")
        fetched = get(url)
        items = collegenavigator.page_for(url, fetched.body, fetched.headers).to_items()
        assert len(items) == 1 + len(st.programs_of(uid)) > N * len(institutions.institutions()[uid].programs) / 2
        seen |= _check(items, want)
    cn_programs = {i for i, p in want["program"].items() if p["source"] == "collegenavigator"}
    assert seen == set(want["institution"]) | cn_programs | set(want["review"])
