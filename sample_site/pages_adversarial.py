"""The adversarial area (source ``adversarial``, host 127.0.0.6, not part of the default crawl).

Hostile pages in the same structures as the real sources, so the normal page modules parse them:
careers ``/adversarial/ooh/<group>/<slug>.htm`` (OOH structure), institutions
``/adversarial/collegenavigator/?id=<id>`` (College Navigator structure), reviews
``/adversarial/reviews/colleges/<slug>/reviews/`` and ``/adversarial/api/entity-reviews/?e=...``
(review-site structure); plus a 20 MB page, broken HTML, endless redirects and an infinite link
trap. ``sample_site.truth.adversarial_expectations()`` says what a crawl should do with each.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import re

from sample_site import occupations as occ_mod
from sample_site import pages_cn, pages_ooh
from sample_site.core import Body, Ctx, Page, Redirect
from sample_site.epochs import EpochState
from sample_site.institutions import Institution, institutions
from sample_site.util import esc, long_date

SOURCE = "adversarial"
PREFIXES = ("/adversarial",)
DISALLOW = ["/adversarial/private/"]
HUGE_BYTES = 20 * 1024 * 1024
PAGE_KINDS = {
    "bls_ooh": "/adversarial/ooh/",
    "collegenavigator": "/adversarial/collegenavigator/",
    "reviews": "/adversarial/reviews/",
    "reviews_api": "/adversarial/api/entity-reviews/",
}
"""Which page structure each adversarial path prefix uses (also in /sources.json)."""

SCRIPT = "<script>alert('xss')</script>"
IMG = "<img src=x onerror=alert('xss')>"
ZW = "\u200b"
RLO, PDF = "\u202e", "\u202c"

# slug -> (title, soc, annual pay, summary, injection kind)
CAREERS: dict[str, tuple[str, str, int, str, str]] = {
    "script-in-title-nurses": (f"Registered Nurse {SCRIPT}", "29-9901", 81220,
                               f"Nurses care for patients. {IMG}", "script"),
    "negative-pay-clerks": ("Negative Pay Clerks", "43-9902", -45000, "Clerks whose pay is impossible.", "plain"),
    "zero-width-medical-coders": (f"Medical{ZW} Cod{ZW}ers {RLO}sredoc{PDF}", "29-9903", 48500,
                                  f"Coders{ZW} assign codes.", "plain"),
    "deeply-nested-technicians": ("Deeply Nested Technicians", "29-9904", 52000, "Technicians inside many boxes.", "nested"),
}

# id -> (name, city, state, injection kind, charset mode)
INSTITUTIONS: dict[str, tuple[str, str, str, str, str]] = {
    "990001": (f"{IMG}Evil College", "Springfield", "IL", "handler", "utf-8"),
    "990002": ("Atlantis Institute of Technology", "Atlantis", "ZZ", "plain", "utf-8"),
    "990003": (f"Univ{ZW}ersity of {RLO}thguaN{PDF} Hidden{ZW}", "Austin", "TX", "plain", "utf-8"),
    "990004": ("Universidad Técnica de Baja California", "Calexico", "CA", "plain", "wrong-utf8-header"),
    "990005": ("École Supérieure de Santé", "New Orleans", "LA", "plain", "missing"),
    "990006": ("Ångström Technical Institute", "Duluth", "MN", "plain", "wrong-latin1-meta"),
    "990007": (f"Scripted Community College {SCRIPT}", "Reno", "NV", "script", "utf-8"),
}

REVIEW_SCHOOL = ("hostile-university", "e0000000-0000-4000-a000-000000000666", "Hostile University", "Springfield", "IL")
# (site review id, rating, category, role, date, body)
REVIEWS: list[tuple[int, int, str, str, str, str]] = [
    (9900001, 4, "Academics", "Alum", "2024-01-10", f"Great teachers {SCRIPT} and small classes."),
    (9900002, 5, "Campus Life", "College Senior", "2024-02-11", "Click <a href=\"javascript:alert('x')\">here</a> for <b>free</b> tuition!"),
    (9900003, 9, "Value", "Alum", "2024-03-12", "Rating nine out of five is impossible."),
    (9900004, 0, "Value", "Alum", "2024-03-13", "Rating zero is impossible."),
    (9900005, 3, "Overall Experience", "Online Student", "2024-04-14", ""),
    (9900006, 2, "Online Learning", "Online Student", "2024-05-15", f"Zero{ZW}width and {RLO}txet desrever{PDF} inside."),
    (9900007, 4, "Professors", "Graduate Student", "2024-06-16", "Long review. " + "The instructors were fine. " * 400),
    (9900008, 5, "Academics", "Alum", "2024-07-17", f"{IMG} Image handler in text."),
]


def resolve(path: str, params: dict[str, str]) -> Page | Redirect | None:
    """Map a request to an adversarial page."""
    if path in ("/adversarial", "/adversarial/"):
        return Page(SOURCE, "index", (), "/adversarial/") if path.endswith("/") else Redirect("/adversarial/")
    m = re.fullmatch(r"/adversarial/ooh/healthcare/([a-z0-9-]+)\.htm", path)
    if m and m.group(1) in CAREERS:
        return Page(SOURCE, "career", (m.group(1),), path)
    if path == "/adversarial/collegenavigator/" and params.get("id") in INSTITUTIONS:
        return Page(SOURCE, "institution", (params["id"],), f"/adversarial/collegenavigator/?id={params['id']}")
    if path == f"/adversarial/reviews/colleges/{REVIEW_SCHOOL[0]}/reviews/":
        return Page(SOURCE, "reviews", (), path)
    if path == "/adversarial/api/entity-reviews/" and params.get("e") == REVIEW_SCHOOL[1]:
        return Page(SOURCE, "reviews_api", (), f"/adversarial/api/entity-reviews/?e={REVIEW_SCHOOL[1]}&page=1&limit=20")
    if path == "/adversarial/huge.html":
        return Page(SOURCE, "huge", (), path)
    if path == "/adversarial/broken.html":
        return Page(SOURCE, "broken", (), path)
    if path == "/adversarial/loop/a":
        return Redirect("/adversarial/loop/b", 302)
    if path == "/adversarial/loop/b":
        return Redirect("/adversarial/loop/a", 302)
    if path == "/adversarial/loop/chain":
        n = int(params.get("n", "0")) if params.get("n", "0").isdigit() else 0
        return Redirect(f"/adversarial/loop/chain?n={n + 1}", 301)
    m = re.fullmatch(r"/adversarial/trap/((?:\d+/)+)", path)
    if m:
        return Page(SOURCE, "trap", (m.group(1),), path)
    if path.startswith("/adversarial/private/"):
        return Page(SOURCE, "private", (), path)
    return None


def pages(st: EpochState) -> list[Page]:
    """The adversarial pages a crawl can reach from the index (traps and loops excluded)."""
    out = [Page(SOURCE, "index", (), "/adversarial/")]
    out += [Page(SOURCE, "career", (s,), f"/adversarial/ooh/healthcare/{s}.htm") for s in CAREERS]
    out += [Page(SOURCE, "institution", (i,), f"/adversarial/collegenavigator/?id={i}") for i in INSTITUTIONS]
    out.append(Page(SOURCE, "reviews", (), f"/adversarial/reviews/colleges/{REVIEW_SCHOOL[0]}/reviews/"))
    return out


def sitemap_pages(st: EpochState) -> list[Page]:
    """Adversarial pages listed in its sitemap."""
    return pages(st)


def model(page: Page, st: EpochState) -> object | None:
    """Adversarial pages never change between epochs."""
    return (page.kind, page.args)


# --- careers ----------------------------------------------------------------------------------
def _career_html(slug: str, ctx: Ctx) -> str:
    title, soc, annual, summary, kind = CAREERS[slug]
    base = occ_mod.by_slug()["registered-nurses"]
    p10, p90 = (int(annual * 0.6), int(annual * 1.6)) if annual > 0 else (int(annual * 1.6), int(annual * 0.6))
    occ = dataclasses.replace(
        base, slug=slug, csv_title=title, title=title, soc=soc, real=False, annual=annual, hourly=round(annual / 2080, 2),
        p10=p10, p90=p90, summary=summary, similar=(), accreditors=(), raw_form=False, onet=(),
    )
    m = ("gen", slug, (annual, round(annual / 2080, 2), p10, p90), ())
    page = pages_ooh.render_occupation(occ, m, ctx)
    page = page.replace(f'href="/ooh/healthcare/{slug}.htm"', f'href="/adversarial/ooh/healthcare/{slug}.htm"')
    if kind == "script":
        page = page.replace('<div id="tab-2"', "<script>alert(document.cookie)</script>\n<div id=\"tab-2\"", 1)
        page = page.replace("<h3>Important Qualities</h3>",
                            '<img src="x" onerror="alert(\'career\')"><a href="javascript:alert(1)">apply</a>'
                            "<h3>Important Qualities</h3>", 1)
    if kind == "nested":
        start = page.index('<div id="panes">')
        end = page.index("<!-- BLS CITATION -->")
        depth = 5000
        page = page[:start] + "<div>" * depth + page[start:end] + "</div>" * depth + page[end:]
    return page


# --- institutions -----------------------------------------------------------------------------
def _institution(uid: str) -> Institution:
    name, city, state, _kind, _charset = INSTITUTIONS[uid]
    template = institutions()["110635"]
    return dataclasses.replace(
        template, unitid=uid, name=name, aliases=(), addr="1 Hostile Way", city=city, state=state, zip="00001",
        phone="(555) 010-0000", website="www.example.edu/", lat=None, lon=None, ope_id=None, programs=[],
    )


def _institution_body(uid: str, ctx: Ctx) -> Body:
    inst = _institution(uid)
    _name, _city, _state, kind, charset = INSTITUTIONS[uid]
    inner = pages_cn.render_profile(inst, (), ctx)
    head = pages_cn._head(inst.name, f"/adversarial/collegenavigator/?id={uid}")
    html = head + inner + pages_cn._FOOT
    if kind == "handler":
        html = html.replace('<span class="headerlg">', '<span class="headerlg" onmouseover="alert(\'hover\')">', 1)
    if kind == "script":
        html = html.replace('<div class="fadeyell"></div>', "<div class=\"fadeyell\"><script>document.write('<h1>owned</h1>')</script></div>", 1)
    if charset == "wrong-utf8-header":
        # Declared UTF-8 (header and meta) but encoded in Latin-1: é and – are not valid UTF-8 here.
        return Body(html.encode("iso-8859-1", errors="replace"), "text/html; charset=utf-8")
    if charset == "missing":
        html = html.replace('<meta http-equiv="Content-type" content="text/html;charset=UTF-8" />', "")
        return Body(html.encode("utf-8"), "text/html")
    if charset == "wrong-latin1-meta":
        html = html.replace("charset=UTF-8", "charset=ISO-8859-1")
        return Body(html.encode("utf-8"), "text/html")
    return Body(html.encode("utf-8"))


# --- reviews ----------------------------------------------------------------------------------
def _reviews_html() -> str:
    slug, eid, name, city, state = REVIEW_SCHOOL
    articles = []
    for rid, rating, category, role, date, body in REVIEWS:
        d = dt.date.fromisoformat(date)
        # Review text arrives as HTML from the site's own (unsafe) template: markup is NOT escaped here.
        articles.append(
            f'<article class="review" id="review-{rid}" data-review-id="{rid}">\n'
            f'  <div class="review-rating" data-rating="{rating}" aria-label="{rating} out of 5 stars">{"*" * max(rating, 0)}</div>\n'
            f'  <span class="review-category">{esc(category)}</span>\n'
            f'  <div class="review-body"><p>{body}</p></div>\n'
            f'  <footer class="review-meta"><span class="review-author">{esc(role)}</span> &middot; '
            f'<time datetime="{date}">{long_date(d)}</time></footer>\n</article>\n')
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{esc(name)} Reviews | CampusVoice</title>\n"
            f'<link rel="canonical" href="/adversarial/reviews/colleges/{slug}/reviews/">\n</head>\n<body>\n'
            f'<main class="school-reviews" data-entity-id="{eid}" data-reviews-api="/adversarial/api/entity-reviews/?e={eid}&amp;page=1&amp;limit=20">\n'
            f'<div class="profile-header"><h1 class="school-name">{esc(name)}</h1><div class="school-location">'
            f'<span class="city">{esc(city)}</span>, <span class="state">{state}</span></div></div>\n'
            f'<section class="reviews">\n{"".join(articles)}</section>\n</main>\n</body>\n</html>\n')


def _reviews_api() -> bytes:
    slug, eid, name, city, state = REVIEW_SCHOOL
    data = {"entity": {"id": eid, "name": name, "city": city, "state": state, "url": f"/adversarial/reviews/colleges/{slug}/reviews/"},
            "page": 1, "limit": 20, "total": len(REVIEWS), "pages": 1, "next": None,
            "reviews": [{"id": str(rid), "rating": rating, "category": category, "author": {"role": role}, "created": date, "body": body}
                        for rid, rating, category, role, date, body in REVIEWS]}
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


# --- odd pages --------------------------------------------------------------------------------
@functools.cache
def huge_page() -> bytes:
    """A 20 MB HTML page (a careers-like page padded with paragraphs)."""
    head = b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Huge page</title></head><body><h1>Huge Occupation</h1>\n"
    para = b"<p>" + b"This paragraph repeats to make the page enormous. " * 20 + b"</p>\n"
    n = (HUGE_BYTES - len(head)) // len(para) + 1
    return head + para * n + b"</body></html>\n"


BROKEN = (b"<html><head><title>Broken <b>page</title><meta charset='utf-8'></head><body>\n"
          b"<div id='panes'><table id='quickfacts'><tr><th>2024 Median Pay<td>$12,345 per year\n"
          b"<<<>>> </div></div></div> <p>unterminated <a href='/adversarial/broken.html'>self link\n"
          b"\x00\x00 NUL bytes and invalid UTF-8 \xff\xfe\xc3\x28 follow\n"
          b"</html> text after the end <script>alert('broken')\n<!-- an unclosed comment")


def _index_html() -> str:
    links = [f"/adversarial/ooh/healthcare/{s}.htm" for s in CAREERS]
    links += [f"/adversarial/collegenavigator/?id={i}" for i in INSTITUTIONS]
    links += [f"/adversarial/reviews/colleges/{REVIEW_SCHOOL[0]}/reviews/", "/adversarial/huge.html", "/adversarial/broken.html",
              "/adversarial/loop/a", "/adversarial/loop/chain", "/adversarial/trap/1/"]
    items = "".join(f'<li><a href="{esc(u)}">{esc(u)}</a></li>\n' for u in links)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Adversarial area</title></head><body>"
            f"<h1>Adversarial area</h1><p>Hostile pages for robustness tests.</p><ul>\n{items}</ul></body></html>\n")


def _trap_html(tail: str) -> str:
    parts = [int(p) for p in tail.strip("/").split("/")]
    nxt = "/".join(str(p) for p in [*parts[:-1], parts[-1] + 1]) + "/"
    deeper = tail + "1/"
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Trap {esc(tail)}</title></head><body>"
            f'<p>Page {esc(tail)} of an endless maze.</p><a href="/adversarial/trap/{nxt}">next</a> '
            f'<a href="/adversarial/trap/{deeper}">deeper</a></body></html>\n')


def render(page: Page, m: object, ctx: Ctx) -> Body:
    """Render an adversarial page."""
    if page.kind == "index":
        return Body(_index_html().encode("utf-8"))
    if page.kind == "career":
        return Body(_career_html(page.args[0], ctx).encode("utf-8"))
    if page.kind == "institution":
        return _institution_body(page.args[0], ctx)
    if page.kind == "reviews":
        return Body(_reviews_html().encode("utf-8"))
    if page.kind == "reviews_api":
        return Body(_reviews_api(), "application/json")
    if page.kind == "huge":
        return Body(huge_page())
    if page.kind == "broken":
        return Body(BROKEN, "text/html")
    if page.kind == "trap":
        return Body(_trap_html(page.args[0]).encode("utf-8"))
    if page.kind == "private":
        return Body(b"<html><body>Private</body></html>")
    raise KeyError(page.kind)
