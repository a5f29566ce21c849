"""The adversarial area: hostile pages exist as described and truth says what a crawl must do with them."""

from __future__ import annotations

import json

import pytest
from lxml import html as lxml_html

from sample_site import pages_adversarial, truth

pytestmark = pytest.mark.xdist_group("sample_site_http")


def test_every_expectation_names_a_reachable_page(sample_site, get):
    index = get(sample_site.url("adversarial", "/adversarial/"))
    links = set(lxml_html.fromstring(index.body).xpath("//a/@href"))
    expectations = truth.adversarial_expectations()
    assert {e["expect"] for e in expectations} == {"kept", "dropped", "any", "no_items"}
    for exp in expectations:
        assert exp["path"] in links, exp["path"]
        if exp["expect"] == "dropped":
            assert exp["reason"]
    data = json.loads(get(sample_site.base_url + "/sources.json").body)["sources"]["adversarial"]
    assert data["default_crawl"] is False and data["page_kinds"] == pages_adversarial.PAGE_KINDS


def test_hostile_markup_is_really_on_the_pages(sample_site, get):
    career = get(sample_site.url("adversarial", "/adversarial/ooh/healthcare/script-in-title-nurses.htm")).body
    assert b"<script>alert(document.cookie)</script>" in career  # a real script element
    assert b"Registered Nurse &lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in career  # markup shown as text
    assert b'onerror="alert(\'career\')"' in career and b'href="javascript:alert(1)"' in career
    inst = get(sample_site.url("adversarial", "/adversarial/collegenavigator/?id=990001")).body
    assert b"onmouseover=\"alert('hover')\"" in inst
    zero = get(sample_site.url("adversarial", "/adversarial/collegenavigator/?id=990003")).text
    assert "\u200b" in zero and "\u202e" in zero
    reviews = get(sample_site.url("adversarial", "/adversarial/reviews/colleges/hostile-university/reviews/")).body
    assert b'data-rating="9"' in reviews and b"<script>alert('xss')</script>" in reviews
    api = json.loads(get(sample_site.url("adversarial", f"/adversarial/api/entity-reviews/?e={pages_adversarial.REVIEW_SCHOOL[1]}")).body)
    assert {r["rating"] for r in api["reviews"]} >= {0, 9}
    nested = get(sample_site.url("adversarial", "/adversarial/ooh/healthcare/deeply-nested-technicians.htm")).body
    assert nested.count(b"<div>") >= 5000


def test_wrong_and_missing_charsets(sample_site, get):
    wrong = get(sample_site.url("adversarial", "/adversarial/collegenavigator/?id=990004"))
    assert wrong.headers["content-type"] == "text/html; charset=utf-8"
    with pytest.raises(UnicodeDecodeError):
        wrong.body.decode("utf-8")
    missing = get(sample_site.url("adversarial", "/adversarial/collegenavigator/?id=990005"))
    assert missing.headers["content-type"] == "text/html" and b"charset" not in missing.body.split(b"</head>")[0]
    assert "École".encode() in missing.body
    lying = get(sample_site.url("adversarial", "/adversarial/collegenavigator/?id=990006"))
    assert b"charset=ISO-8859-1" in lying.body and "Ångström".encode() in lying.body


def test_huge_page_redirect_loops_and_link_trap(sample_site, get):
    huge = get(sample_site.url("adversarial", "/adversarial/huge.html"), timeout=120)
    assert huge.status == 200 and len(huge.body) >= pages_adversarial.HUGE_BYTES
    assert int(huge.headers["content-length"]) == len(huge.body)
    seen = []
    url = sample_site.url("adversarial", "/adversarial/loop/a")
    for _ in range(6):
        resp = get(url)
        assert resp.status in (301, 302)
        url = resp.headers["location"]
        seen.append(url.rsplit("/", 1)[1])
    assert seen == ["b", "a", "b", "a", "b", "a"]
    chain = get(sample_site.url("adversarial", "/adversarial/loop/chain?n=41"))
    assert chain.headers["location"].endswith("/adversarial/loop/chain?n=42")
    trap = get(sample_site.url("adversarial", "/adversarial/trap/7/3/"))
    assert trap.status == 200 and b"/adversarial/trap/7/4/" in trap.body and b"/adversarial/trap/7/3/1/" in trap.body
    robots = get(sample_site.url("adversarial", "/robots.txt")).text
    assert "Disallow: /adversarial/trap" not in robots
    broken = get(sample_site.url("adversarial", "/adversarial/broken.html"))
    assert broken.status == 200 and b"\x00" in broken.body
