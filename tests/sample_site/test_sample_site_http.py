"""The sample site over HTTP (shared server, epoch 1, faults on): page kinds, structure, robots, sitemaps, faults, 304s."""

from __future__ import annotations

import gzip
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree
from lxml import html as lxml_html
from protego import Protego

from sample_site import pages_cn, pages_reviews, reviewdata, truth
from sample_site.core import CRAWLED_SOURCES

pytestmark = pytest.mark.xdist_group("sample_site_http")


def _doc(body: bytes):
    return lxml_html.fromstring(body)


def _text(node) -> str:
    return " ".join(node.text_content().split())


@pytest.fixture(scope="module")
def items(sample_site):
    return truth.expected_items(1, base_urls=sample_site.base_urls)


def test_portal_lists_every_source_and_sources_json_describes_them(sample_site, get):
    index = get(sample_site.base_url + "/")
    assert index.status == 200
    links = _doc(index.body).xpath("//ul[@class='sources']//a/@href")
    assert len(links) == 5
    data = json.loads(get(sample_site.base_url + "/sources.json").body)
    assert data["epoch"] == 1 and data["faults"] is True
    assert set(data["sources"]) == {"bls_ooh", "collegenavigator", "directory", "reviews", "adversarial"}
    hosts = {urlsplit(s["base_url"]).hostname for s in data["sources"].values()}
    assert hosts == {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"}
    for name, src in data["sources"].items():
        assert src["base_url"].endswith(f":{sample_site.port}")
        for url in src["start_urls"] + src["sitemap_urls"]:
            assert get(url).status == 200, url
        assert src["default_crawl"] == (name != "adversarial")


@pytest.mark.parametrize("source,path,ctype,marker", [
    ("bls_ooh", "/ooh/", "text/html", b"Occupation Groups"),
    ("bls_ooh", "/ooh/a-z/index.htm", "text/html", b"Computer Language Coder"),
    ("bls_ooh", "/ooh/healthcare/home.htm", "text/html", b'id="landing-page-table"'),
    ("bls_ooh", "/ooh/healthcare/medical-records-and-health-information-technicians.htm", "text/html", b'id="quickfacts"'),
    ("bls_ooh", "/ooh/healthcare/registered-nurses.htm", "text/html", b'id="quickfacts"'),
    ("bls_ooh", "/ooh/ooh-site-map.htm", "text/html", b"OOH Site Map"),
    ("collegenavigator", "/collegenavigator/", "text/html", b'class="statelist"'),
    ("collegenavigator", "/collegenavigator/?s=NY&pg=2", "text/html", b"resultsTable"),
    ("collegenavigator", "/collegenavigator/?id=110635", "text/html", b'id="accred"'),
    ("directory", "/cahiim/", "text/html", b"program-directory"),
    ("directory", "/cahiim/program-directory?state=TX", "text/html", b'class="program-list"'),
    ("directory", "/cahiim/program-directory/program/1001", "text/html", b'class="program-detail"'),
    ("reviews", "/reviews/", "text/html", b"Browse colleges"),
    ("reviews", "/reviews/colleges/?page=2", "text/html", b'class="school-list"'),
    ("adversarial", "/adversarial/", "text/html", b"Adversarial"),
    ("collegenavigator", "/robots.txt", "text/plain", b"Disallow: /collegenavigator/*fv="),
    ("reviews", "/sitemap.xml", "application/xml", b"<sitemapindex"),
])
def test_every_page_kind_answers(sample_site, get, source, path, ctype, marker):
    resp = get(sample_site.url(source, path))
    assert resp.status == 200
    assert resp.headers["content-type"].startswith(ctype)
    assert marker in resp.body
    assert resp.headers["etag"] and resp.headers["last-modified"]


def test_college_navigator_listing_has_the_real_structure(sample_site, get, items):
    resp = get(sample_site.url("collegenavigator", "/collegenavigator/?s=NY"))
    doc = _doc(resp.body)
    rows = doc.xpath("//table[contains(@class,'resultsTable')]/tr")
    assert len(rows) == pages_cn.PER_PAGE
    assert [r.get("class") for r in rows[:2]] == ["resultsW", "resultsY"]
    ids = re.findall(r"IPEDS ID: (\d+)", _text(doc))
    assert len(ids) == pages_cn.PER_PAGE and all(i in items["institution"] for i in ids)
    assert all(items["institution"][i]["state"] == "NY" for i in ids)
    pages = doc.xpath("//div[@id='ctl00_cphCollegeNavBody_ucResultsMain_divPagingControls']//a/@href")
    assert "?s=NY&pg=2" in pages
    ny = sorted((i for i in items["institution"].values() if i["state"] == "NY"), key=lambda i: (i["name"].lower(), i["unitid"]))
    last = (len(ny) + pages_cn.PER_PAGE - 1) // pages_cn.PER_PAGE
    assert get(sample_site.url("collegenavigator", f"/collegenavigator/?s=NY&pg={last}")).status == 200
    assert get(sample_site.url("collegenavigator", f"/collegenavigator/?s=NY&pg={last + 1}")).status == 404


def _cn_rows(doc):
    out = []
    current = None
    for tr in doc.xpath("//div[@id='accred']//table")[1].xpath(".//tr"):
        cells = tr.xpath("./td")
        if "subrow" in (tr.get("class") or ""):
            current = _text(cells[0])
        elif len(cells) == 3:
            name = " ".join(" ".join(cells[0].xpath("./text()")).split())
            out.append((current, name, _text(cells[0].xpath("./em")[0]), _text(cells[1]), _text(cells[2])))
    return out


@pytest.mark.parametrize("unitid", ["110635", "100654", "190594"])
def test_college_navigator_profile_shows_what_the_items_need(sample_site, get, items, unitid):
    doc = _doc(get(sample_site.url("collegenavigator", f"/collegenavigator/?id={unitid}")).body)
    inst = items["institution"][unitid]
    assert _text(doc.xpath("//span[@class='headerlg']")[0]) == inst["name"]
    assert f"IPEDS ID: {unitid}" in _text(doc.xpath("//span[@class='ipeds']")[0])
    assert doc.xpath("//div[@id='programs']//table[contains(@class,'pmtabular')]//tr[contains(@class,'subrow')]")
    programs = [_text(td) for td in doc.xpath("//table[contains(@class,'pmtabular')]//tr[contains(@class,'level1indent')]/td[1]")]
    assert programs == inst["programs_offered"]
    inst_row = [_text(td) for td in doc.xpath("//div[@id='accred']//table")[0].xpath(".//tbody/tr/td")]
    assert inst_row[1].startswith(("Accredited since (", "Candidate since ("))
    expected = [p for p in items["program"].values() if p["source"] == "collegenavigator" and p["institution_unitid"] == unitid]
    rows = _cn_rows(doc) if expected else []
    assert len(rows) == len(expected)
    for _agency, _name, _note, status, next_review in rows:
        assert re.match(r"(Accredited|Preaccredited|Candidate)( since)? \(", status), status
        assert next_review == "" or re.fullmatch(r"\d{2}/\d{2}/\d{4}", next_review)
    names = {p["name"] for p in expected}
    assert {r[1] for r in rows} == names
    for _agency, name, note, _status, _next in rows:
        prog = next(p for p in expected if p["name"] == name)
        level_word = {"certificate": "Certificate", "associate": "Associate", "bachelor": "Bachelor", "master": "Master", "doctoral": "Doctor"}
        assert note.startswith(level_word[prog["degree_level"]])
        delivery = {"campus": "on campus", "online": "online", "hybrid": "online and on campus"}[prog["delivery"]]
        assert f", {delivery}" in note
        assert ("military friendly" in note) == bool(prog["military_friendly"])


def test_directory_listing_filters_and_detail_pages(sample_site, get, items):
    listing = _doc(get(sample_site.url("directory", "/cahiim/program-directory")).body)
    rows = listing.xpath("//tr[@class='program-row']")
    assert len(rows) == 21  # 20 programs and, with faults on, one link to a missing program
    assert listing.xpath("//a[@rel='next']/@href") == ["/cahiim/program-directory?page=2"]
    online = _doc(get(sample_site.url("directory", "/cahiim/program-directory?delivery=online")).body)
    assert {_text(td) for td in online.xpath("//td[@class='delivery']")} == {"Online"}
    tx = _doc(get(sample_site.url("directory", "/cahiim/program-directory?state=TX&degree=associate")).body)
    assert {_text(td) for td in tx.xpath("//td[@class='state']")} == {"TX"}
    assert {_text(td) for td in tx.xpath("//td[@class='degree']")} == {"Associate"}
    directory = {k: v for k, v in items["program"].items() if v["source"] == "directory"}
    assert len(directory) == 245
    for pid in sorted(directory)[:12]:
        prog = directory[pid]
        doc = _doc(get(prog["url"]).body)
        facts = {_text(dt): _text(dd) for dt, dd in zip(doc.xpath("//dl[@class='program-facts']/dt"), doc.xpath("//dl[@class='program-facts']/dd"), strict=True)}
        assert facts["Institution"] == prog["institution_name"]
        assert (facts["City"], facts["State"]) == (prog["city"], prog["state"])
        assert facts["Degree Level"].lower().startswith({"associate": "associate", "bachelor": "baccalaureate", "master": "master"}[prog["degree_level"]])
        assert facts["Delivery"].lower() == prog["delivery"]
        assert "IPEDS" not in _text(doc)
    assert get(sample_site.url("directory", "/cahiim/program-directory?state=ZZ")).status == 404


def test_review_pages_api_and_json_ld_agree_with_the_truth(sample_site, get, items):
    by_entity: dict[str, list[dict]] = {}
    for review in items["review"].values():
        by_entity.setdefault(review["entity_id"], []).append(review)
    school = next(s for s in reviewdata.schools() if s.jsonld and s.entity_id in by_entity and len(by_entity[s.entity_id]) > 25)
    reviews = sorted(by_entity[school.entity_id], key=lambda r: (r["date"], r["review_id"]))
    page1 = get(sample_site.url("reviews", school.path))
    doc = _doc(page1.body)
    assert _text(doc.xpath("//h1[@class='school-name']")[0]) == school.name
    shown = doc.xpath("//article[@class='review']")
    assert len(shown) == 20
    first = shown[0]
    assert first.get("data-review-id") == reviews[0]["review_id"].split(":")[1]
    assert _text(first.xpath(".//div[@class='review-body']")[0]) == reviews[0]["body"]
    assert first.xpath(".//time/@datetime") == [reviews[0]["date"]]
    assert int(first.xpath(".//div[@class='review-rating']/@data-rating")[0]) == reviews[0]["rating"]
    assert _text(doc.xpath("//span[@class='review-count']")[0]) == str(len(reviews))
    ld = json.loads(doc.xpath("//script[@type='application/ld+json']/text()")[0])
    assert ld["@type"] == "CollegeOrUniversity" and ld["aggregateRating"]["reviewCount"] == len(reviews)
    assert [r["reviewBody"] for r in ld["review"]] == [r["body"] for r in reviews[:20]]
    assert doc.xpath("//a[@rel='next']/@href") == [school.path + "?page=2"]
    api = json.loads(get(sample_site.url("reviews", pages_reviews.api_url(school.entity_id, 2))).body)
    assert api["total"] == len(reviews) and api["page"] == 2 and api["limit"] == 20
    assert [f"reviews:{r['id']}" for r in api["reviews"]] == [r["review_id"] for r in reviews[20:40]]
    assert [r["body"] for r in api["reviews"]] == [r["body"] for r in reviews[20:40]]
    assert get(sample_site.url("reviews", pages_reviews.api_url(school.entity_id, 99))).status == 404
    bad = get(sample_site.url("reviews", "/api/entity-reviews/?e=nope&page=1&limit=20"))
    assert bad.status == 400 and json.loads(bad.body)["error"] == "bad_request"


def test_robots_txt_per_host_and_crawl_traps(sample_site, get):
    for source in CRAWLED_SOURCES:
        text = get(sample_site.url(source, "/robots.txt")).text
        robots = Protego.parse(text)
        base = sample_site.url(source, "")
        for start in sample_site.sources[source]["start_urls"]:
            assert robots.can_fetch(start, "collegesearch")
        assert list(robots.sitemaps) == [base + "/sitemap.xml"]
        for rule in truth.disallowed_paths()[source][:-1]:
            assert f"Disallow: {rule}" in text
    reviews = Protego.parse(get(sample_site.url("reviews", "/robots.txt")).text)
    school_page = get(sample_site.url("reviews", reviewdata.schools()[0].path))
    calendar = _doc(school_page.body).xpath("//a[contains(@href, '/events/calendar/')]/@href")[0]
    assert not reviews.can_fetch(sample_site.url("reviews", calendar), "collegesearch")
    # The trap is endless: every month links to the next one, forever.
    trap = get(sample_site.url("reviews", "/reviews/events/calendar/2999/12/"))
    assert trap.status == 200 and b"/reviews/events/calendar/3000/01/" in trap.body
    finder = get(sample_site.url("bls_ooh", "/ooh/occupation-finder.htm?pay=2&page=40"))
    assert finder.status == 200 and b"page=41" in finder.body


def test_sitemaps_list_every_sitemap_page_with_lastmod(sample_site, get):
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = etree.fromstring(get(sample_site.url("collegenavigator", "/sitemap.xml")).body)
    # The host's index lists a second index whose URL has no ".xml"; that one lists the state sitemaps.
    assert index.xpath("//s:sitemap/s:loc/text()", namespaces=ns) == [sample_site.url("collegenavigator", "/collegenavigator/sitemaps")]
    nested = get(sample_site.url("collegenavigator", "/collegenavigator/sitemaps"))
    assert nested.status == 200 and etree.fromstring(nested.body).tag == f"{{{ns['s']}}}sitemapindex"
    leaves = etree.fromstring(nested.body).xpath("//s:sitemap/s:loc/text()", namespaces=ns)
    assert sample_site.url("collegenavigator", "/collegenavigator/sitemap-AL.xml") in leaves
    al = etree.fromstring(get(sample_site.url("collegenavigator", "/collegenavigator/sitemap-AL.xml")).body)
    locs = al.xpath("//s:url/s:loc/text()", namespaces=ns)
    lastmods = al.xpath("//s:url/s:lastmod/text()", namespaces=ns)
    al_ids = {i["unitid"] for i in truth.expected_items(1)["institution"].values() if i["state"] == "AL"}
    assert {parse_qs(urlsplit(u).query)["id"][0] for u in locs} == al_ids
    assert len(lastmods) == len(locs) and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in lastmods)
    ooh = etree.fromstring(get(sample_site.url("bls_ooh", "/ooh/sitemap.xml")).body)
    assert len(ooh.xpath("//s:url", namespaces=ns)) >= 342


def test_directory_sitemap_is_gzipped_and_announced_only_by_robots_txt(sample_site, get):
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    assert sample_site.sources["directory"]["sitemap_urls"] == []  # crawlers must read robots.txt
    robots = Protego.parse(get(sample_site.url("directory", "/robots.txt")).text)
    (announced,) = robots.sitemaps
    index = etree.fromstring(get(announced).body)
    (leaf,) = index.xpath("//s:sitemap/s:loc/text()", namespaces=ns)
    assert leaf == sample_site.url("directory", "/cahiim/sitemap.xml.gz")
    resp = get(leaf)
    assert resp.status == 200 and resp.headers["content-type"] == "application/x-gzip"
    assert "content-encoding" not in resp.headers  # a gzip file, not a compressed transfer
    urlset = etree.fromstring(gzip.decompress(resp.body))
    locs = urlset.xpath("//s:url/s:loc/text()", namespaces=ns)
    programs = [u for u in locs if "/program-directory/program/" in u]
    assert len(programs) == truth.counts(1)["cahiim_programs"] == 245
    assert len(urlset.xpath("//s:url/s:lastmod", namespaces=ns)) == len(locs)
    assert get(leaf).body == resp.body  # same bytes every time (a stable ETag)


def test_links_to_missing_pages_answer_404(sample_site, get):
    pages = {"bls_ooh": "/ooh/healthcare/home.htm", "collegenavigator": "/collegenavigator/",
             "directory": "/cahiim/program-directory", "reviews": "/reviews/colleges/"}
    for source, targets in truth.fault_urls()["not_found_links"].items():
        linking = get(sample_site.url(source, pages[source])).text
        for target in targets:
            href = target.removeprefix("/collegenavigator/") if source == "collegenavigator" else target
            assert f'href="{href}"' in linking, target
            assert get(sample_site.url(source, target)).status == 404


def test_redirects_from_old_urls(sample_site, get):
    for old, new in truth.fault_urls()["redirects"].items():
        source = next(s for s in CRAWLED_SOURCES if old.startswith(tuple(p for p in sample_site.sources[s]["allowed_prefixes"])))
        resp = get(sample_site.url(source, old))
        assert resp.status == 301, old
        assert resp.headers["location"] == sample_site.url(source, new)
    # A path asked of the wrong host is sent to the right one.
    moved = get(sample_site.url("bls_ooh", "/collegenavigator/?id=110635"))
    assert moved.status == 301 and moved.headers["location"] == sample_site.url("collegenavigator", "/collegenavigator/?id=110635")


def test_tracking_parameter_duplicates_serve_the_same_page(sample_site, get):
    index = get(sample_site.url("reviews", "/reviews/colleges/")).text
    assert "utm_source=index" in index
    listing = get(sample_site.url("collegenavigator", "/collegenavigator/?s=CA")).text + "".join(
        get(sample_site.url("collegenavigator", f"/collegenavigator/?s=CA&pg={n}")).text for n in range(2, 6))
    assert "&amp;sessionid=" in listing
    plain = get(sample_site.url("reviews", "/reviews/colleges/?page=3"))
    tracked = get(sample_site.url("reviews", "/reviews/colleges/?utm_source=newsletter&page=3&utm_medium=email"))
    assert tracked.body == plain.body and tracked.headers["etag"] == plain.headers["etag"]
    profile = get(sample_site.url("collegenavigator", "/collegenavigator/?id=110635"))
    assert get(sample_site.url("collegenavigator", "/collegenavigator/?id=110635&sessionid=abc123")).body == profile.body


def test_malformed_page_still_carries_its_institution(sample_site, get, items):
    path = truth.fault_urls()["malformed"][0]
    body = get(sample_site.url("collegenavigator", path)).body
    assert b"</td>" not in body and b"</html>" not in body
    doc = _doc(body)
    unitid = path.rsplit("=", 1)[1]
    assert _text(doc.xpath("//span[@class='headerlg']")[0]) == items["institution"][unitid]["name"]
    assert [_text(td) for td in doc.xpath("//table[contains(@class,'pmtabular')]//tr[contains(@class,'level1indent')]/td[1]")] == \
        items["institution"][unitid]["programs_offered"]


def test_latin1_page_is_declared_and_encoded_as_latin1(sample_site, get, items):
    path = truth.fault_urls()["latin1"][0]
    resp = get(sample_site.url("collegenavigator", path))
    assert resp.headers["content-type"] == "text/html; charset=ISO-8859-1"
    assert b'charset=ISO-8859-1' in resp.body[:1000]
    name = items["institution"][pages_cn.LATIN1_UNITID]["name"]
    assert "\u00cc" in name
    assert name.encode("iso-8859-1") in resp.body
    with pytest.raises(UnicodeDecodeError):
        resp.body.decode("utf-8")
    assert name in resp.text


def test_conditional_get(sample_site, get):
    url = sample_site.url("collegenavigator", "/collegenavigator/?id=100654")
    first = get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert get(url, headers={"If-None-Match": etag}).status == 304
    assert get(url, headers={"If-None-Match": f'W/{etag}, "other"'}).status == 304
    assert get(url, headers={"If-Modified-Since": modified}).status == 304
    assert get(url, headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}).status == 200
    assert get(url, headers={"If-None-Match": '"stale"', "If-Modified-Since": modified}).status == 200
    not_modified = get(url, headers={"If-None-Match": etag})
    assert not_modified.body == b"" and not_modified.headers["etag"] == etag
    head = get(url, method="HEAD")
    assert head.status == 200 and head.body == b"" and int(head.headers["content-length"]) == len(first.body)
    real = get(sample_site.url("bls_ooh", "/ooh/healthcare/dentists.htm"))
    assert real.headers["last-modified"] == "Thu, 28 Aug 2025 12:00:00 GMT"


def test_access_log_records_every_request(sample_site, get):
    mark = sample_site.log_mark()
    get(sample_site.url("directory", "/cahiim/program-directory?page=2"), headers={"User-Agent": "collegesearch-test/1.0"})
    records = sample_site.access_records(mark)
    mine = [r for r in records if r["path"] == "/cahiim/program-directory?page=2"]
    assert mine, records[-3:]
    rec = mine[-1]
    assert {"time", "client", "host", "method", "path", "status", "user_agent", "duration"} <= set(rec)
    assert rec["user_agent"] == "collegesearch-test/1.0" and rec["status"] == 200
    assert rec["host"] == f"127.0.0.4:{sample_site.port}" and rec["client"] == "127.0.0.1"
