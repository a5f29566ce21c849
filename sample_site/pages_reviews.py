"""A student review site (source ``reviews``), built like real review sites.

``/reviews/colleges/?page=N`` is the A-Z school index (50 per page); each school has review pages
``/reviews/colleges/<slug>/reviews/?page=N`` (20 reviews per page, OLDEST FIRST, so new reviews
only change the last page; the first page also carries the rating summary) and a JSON API
``/api/entity-reviews/?e=<entity id>&page=N&limit=20``. About 30% of schools also embed schema.org
JSON-LD (CollegeOrUniversity with AggregateRating on the first page, and a Review per review).
"""

from __future__ import annotations

import json
import re

from sample_site.core import Body, Ctx, Page, Redirect
from sample_site.epochs import EpochState
from sample_site.reviewdata import REVIEWS_PER_PAGE, Review, ReviewSchool, schools, schools_by_entity
from sample_site.util import esc, h64, long_date

SOURCE = "reviews"
PREFIXES = ("/reviews", "/api/entity-reviews")
INDEX_PER_PAGE = 50
SITE_NAME = "CampusVoice"
API = "/api/entity-reviews/"
MISSING_SCHOOL = "/reviews/colleges/westbrook-technical-institute/reviews/"
DISALLOW = ["/reviews/events/", "/reviews/write/", "/reviews/search"]


def _by_slug() -> dict[str, ReviewSchool]:
    cache = _SLUGS.get("x")
    if cache is None:
        cache = {s.slug: s for s in schools()}
        _SLUGS["x"] = cache
    return cache


_SLUGS: dict[str, dict[str, ReviewSchool]] = {}


def transient_school() -> ReviewSchool:
    """The school whose first review page answers 503 once (faults on)."""
    return sorted((s for s in schools() if s.appear_epoch == 1), key=lambda s: h64("rv-503", s.entity_id))[0]


def school_url(school: ReviewSchool, page: int = 1) -> str:
    """Canonical URL of a school's review page."""
    return school.path + (f"?page={page}" if page > 1 else "")


def api_url(entity_id: str, page: int, limit: int = REVIEWS_PER_PAGE) -> str:
    """Canonical URL of the review API."""
    return f"{API}?e={entity_id}&page={page}&limit={limit}"


def resolve(path: str, params: dict[str, str]) -> Page | Redirect | None:
    """Map a request to a review-site page."""
    if path in ("/reviews", "/reviews/"):
        return Page(SOURCE, "home", (), "/reviews/") if path.endswith("/") else Redirect("/reviews/")
    if path == "/reviews/colleges":
        return Redirect("/reviews/colleges/")
    if path == "/reviews/colleges/":
        page = params.get("page", "1")
        if not page.isdigit() or int(page) < 1:
            return None
        return Page(SOURCE, "index", (int(page),), "/reviews/colleges/" + (f"?page={page}" if page != "1" else ""))
    if path in (API, API.rstrip("/")):
        eid, page, limit = params.get("e", ""), params.get("page", "1"), params.get("limit", str(REVIEWS_PER_PAGE))
        if not (page.isdigit() and limit.isdigit() and 1 <= int(limit) <= 100 and int(page) >= 1 and re.fullmatch(r"[0-9a-f-]{36}", eid)):
            return Page(SOURCE, "api_error", (), API)
        return Page(SOURCE, "api", (eid, int(page), int(limit)), api_url(eid, int(page), int(limit)))
    m = re.fullmatch(r"/reviews/c/([0-9a-f-]{36})/?", path)
    if m:
        school = schools_by_entity().get(m.group(1))
        return Redirect(school.path) if school else None
    m = re.fullmatch(r"/reviews/colleges/([a-z0-9-]+)/reviews/", path)
    if m:
        school = _by_slug().get(m.group(1))
        page = params.get("page", "1")
        if school is None or not page.isdigit() or int(page) < 1:
            return None
        return Page(SOURCE, "school", (school.entity_id, int(page)), school_url(school, int(page)))
    m = re.fullmatch(r"/reviews/colleges/([a-z0-9-]+)/?", path)
    if m and m.group(1) in _by_slug():
        return Redirect(_by_slug()[m.group(1)].path)
    m = re.fullmatch(r"/reviews/events/calendar/(\d{4})/(\d{2})/", path)
    if m:
        return Page(SOURCE, "calendar", (int(m.group(1)), int(m.group(2))), path)
    m = re.fullmatch(r"/reviews/write/([a-z0-9-]+)/", path)
    if m and m.group(1) in _by_slug():
        return Page(SOURCE, "write", (m.group(1),), path)
    if path == "/reviews/search":
        return Page(SOURCE, "search", (params.get("q", ""),), path)
    return None


def _listed(st: EpochState) -> list[ReviewSchool]:
    cache = _LISTED.get(st.key)
    if cache is None:
        cache = sorted((s for s in schools() if s.entity_id in st.reviews), key=lambda s: (s.name.lower(), s.entity_id))
        _LISTED[st.key] = cache
    return cache


_LISTED: dict[tuple[int, int], list[ReviewSchool]] = {}


def _n(count: int, per: int) -> int:
    return max(1, (count + per - 1) // per)


def pages(st: EpochState) -> list[Page]:
    """Every crawlable review-site page: home, index pages, school review pages, API pages (limit 20)."""
    listed = _listed(st)
    out = [Page(SOURCE, "home", (), "/reviews/")]
    out += [Page(SOURCE, "index", (k,), "/reviews/colleges/" + (f"?page={k}" if k > 1 else ""))
            for k in range(1, _n(len(listed), INDEX_PER_PAGE) + 1)]
    for school in sorted(listed, key=lambda s: s.slug):
        n = _n(len(st.reviews[school.entity_id]), REVIEWS_PER_PAGE)
        out += [Page(SOURCE, "school", (school.entity_id, k), school_url(school, k)) for k in range(1, n + 1)]
        out += [Page(SOURCE, "api", (school.entity_id, k, REVIEWS_PER_PAGE), api_url(school.entity_id, k)) for k in range(1, n + 1)]
    return out


def sitemap_pages(st: EpochState) -> list[Page]:
    """First review page of every school, and the index pages."""
    return [p for p in pages(st) if p.kind == "index" or (p.kind == "school" and p.args[1] == 1)]


def _review_view(r: Review) -> tuple:
    return (r.rid, r.rating, r.category, r.role, r.date)


def model(page: Page, st: EpochState) -> object | None:
    """The data a review-site page shows at an epoch (None: 404)."""
    if page.kind == "index":
        listed = _listed(st)
        k = page.args[0]
        n = _n(len(listed), INDEX_PER_PAGE)
        if k > n:
            return None
        return ("index", k, k < n, tuple(s.entity_id for s in listed[(k - 1) * INDEX_PER_PAGE: k * INDEX_PER_PAGE]))
    if page.kind in ("school", "api"):
        eid, k = page.args[0], page.args[1]
        per = page.args[2] if page.kind == "api" else REVIEWS_PER_PAGE
        reviews = st.reviews.get(eid)
        if reviews is None:
            return None
        n = _n(len(reviews), per)
        if k > n:
            return None
        chunk = tuple(_review_view(r) for r in reviews[(k - 1) * per: k * per])
        if page.kind == "api":
            return ("api", eid, k, per, len(reviews), n, chunk)
        summary = (len(reviews), round(sum(r.rating for r in reviews) / len(reviews), 1)) if k == 1 else None
        return ("school", eid, k, k < n, summary, chunk)
    if page.kind == "write":
        return ("write", page.args) if _by_slug()[page.args[0]].entity_id in st.reviews else None
    return (page.kind, page.args)


_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | {site}</title>
<link rel="canonical" href="{canonical}">
<link rel="stylesheet" href="/reviews/static/app.css">
{jsonld}</head>
<body>
<header class="site-header"><a class="logo" href="/reviews/">{site}</a>
<nav><a href="/reviews/colleges/">Colleges</a> <a href="/reviews/search">Search</a></nav></header>
"""
_FOOT = """<footer class="site-footer"><p>Reviews are the opinions of students and alumni. &copy; {site}</p></footer>
</body>
</html>
"""


def _stars(n: int) -> str:
    return "\u2605" * n + "\u2606" * (5 - n)


def _review_html(school: ReviewSchool, view: tuple) -> str:
    rid, rating, category, role, date = view
    body = Review(rid, school.entity_id, rating, category, role, date).body
    return (f'<article class="review" id="review-{rid}" data-review-id="{rid}">\n'
            f'  <div class="review-rating" data-rating="{rating}" aria-label="{rating} out of 5 stars">{_stars(rating)}</div>\n'
            f'  <span class="review-category">{esc(category)}</span>\n'
            f'  <div class="review-body"><p>{esc(body)}</p></div>\n'
            f'  <footer class="review-meta"><span class="review-author">{esc(role)}</span> &middot; '
            f'<time datetime="{date.isoformat()}">{long_date(date)}</time></footer>\n</article>\n')


def _jsonld(school: ReviewSchool, summary: tuple | None, chunk: tuple) -> str:
    data: dict = {"@context": "https://schema.org", "@type": "CollegeOrUniversity", "name": school.name,
                  "address": {"@type": "PostalAddress", "addressLocality": school.city, "addressRegion": school.state}}
    if summary:
        data["aggregateRating"] = {"@type": "AggregateRating", "ratingValue": summary[1], "reviewCount": summary[0],
                                   "bestRating": 5, "worstRating": 1}
    data["review"] = [{
        "@type": "Review", "@id": f"#review-{rid}", "author": {"@type": "Person", "name": role}, "datePublished": date.isoformat(),
        "reviewBody": Review(rid, school.entity_id, rating, category, role, date).body,
        "reviewRating": {"@type": "Rating", "ratingValue": rating, "bestRating": 5, "worstRating": 1},
    } for rid, rating, category, role, date in chunk]
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>\n'


def render_school(page: Page, m: tuple, ctx: Ctx) -> str:
    """A page of a school's reviews."""
    _k, eid, k, has_next, summary, chunk = m
    school = schools_by_entity()[eid]
    header = (f'<div class="profile-header"><h1 class="school-name">{esc(school.name)}</h1>'
              f'<div class="school-location"><span class="city">{esc(school.city)}</span>, <span class="state">{school.state}</span></div>')
    if summary:
        header += (f'<div class="rating-summary"><span class="avg-rating">{summary[1]:.1f}</span> out of 5 &middot; '
                   f'<span class="review-count">{summary[0]}</span> reviews</div>')
    header += "</div>\n"
    nav = []
    if k > 1:
        nav.append(f'<a rel="prev" class="prev" href="{school_url(school, k - 1)}">Previous</a>')
    if has_next:
        nav.append(f'<a rel="next" class="next" href="{school_url(school, k + 1)}">Next</a>')
    aside = (f'<aside class="sidebar"><a href="/reviews/write/{school.slug}/">Write a review</a> '
             '<a href="/reviews/events/calendar/2025/09/">Campus visit calendar</a></aside>\n')
    main = (f'<main class="school-reviews" data-entity-id="{eid}" data-reviews-api="{esc(api_url(eid, k))}">\n{header}'
            f'<section class="reviews">\n{"".join(_review_html(school, v) for v in chunk)}</section>\n'
            f'<nav class="pagination">{" ".join(nav)}</nav>\n</main>\n{aside}')
    jsonld = _jsonld(school, summary, chunk) if school.jsonld else ""
    title = f"{school.name} Reviews" + (f" - Page {k}" if k > 1 else "")
    return _HEAD.format(title=esc(title), site=SITE_NAME, canonical=page.canonical, jsonld=jsonld) + main + _FOOT.format(site=SITE_NAME)


def render_index(m: tuple, ctx: Ctx) -> str:
    """A page of the A-Z school index."""
    _k, k, has_next, eids = m
    items = []
    by_e = schools_by_entity()
    for eid in eids:
        school = by_e[eid]
        href = school.path
        if ctx.faults:
            x = h64("rv-link", eid) % 20
            if x == 0:
                href += "?utm_source=index&amp;utm_medium=list"
            elif x == 1:
                href = f"/reviews/c/{eid}"
        items.append(f'<li class="school-card"><a href="{href}">{esc(school.name)}</a> <span class="location">{esc(school.city)}, {school.state}</span></li>')
    if ctx.faults and k == 1:
        items.append(f'<li class="school-card"><a href="{MISSING_SCHOOL}">Westbrook Technical Institute</a> <span class="location">Westbrook, ME</span></li>')
    nav = []
    if k > 1:
        nav.append('<a rel="prev" href="/reviews/colleges/' + (f"?page={k - 1}" if k > 2 else "") + '">Previous</a>')
    if has_next:
        nav.append(f'<a rel="next" href="/reviews/colleges/?page={k + 1}">Next</a>')
    body = ('<main><h1>Colleges A-Z</h1>\n<ul class="school-list">\n' + "\n".join(items) + "\n</ul>\n"
            f'<nav class="pagination">{" ".join(nav)}</nav></main>\n')
    canonical = "/reviews/colleges/" + (f"?page={k}" if k > 1 else "")
    return _HEAD.format(title="Colleges A-Z", site=SITE_NAME, canonical=canonical, jsonld="") + body + _FOOT.format(site=SITE_NAME)


def render_api(m: tuple) -> bytes:
    """The JSON review API (like real review sites' entity-reviews endpoints)."""
    _k, eid, k, per, total, n, chunk = m
    school = schools_by_entity()[eid]
    data = {
        "entity": {"id": eid, "name": school.name, "city": school.city, "state": school.state, "url": school.path},
        "page": k, "limit": per, "total": total, "pages": n,
        "next": api_url(eid, k + 1, per) if k < n else None,
        "reviews": [{"id": str(rid), "rating": rating, "category": category, "author": {"role": role},
                     "created": date.isoformat(), "body": Review(rid, eid, rating, category, role, date).body}
                    for rid, rating, category, role, date in chunk],
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render_calendar(year: int, month: int) -> str:
    """An endless events calendar: every month links to the next and previous one (a crawl trap)."""
    prev_y, prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
    next_y, next_m = (year, month + 1) if month < 12 else (year + 1, 1)
    body = (f"<main><h1>Campus visit calendar: {year}-{month:02d}</h1>\n<p>No events scheduled.</p>\n"
            f'<nav><a href="/reviews/events/calendar/{prev_y:04d}/{prev_m:02d}/">Previous month</a> '
            f'<a href="/reviews/events/calendar/{next_y:04d}/{next_m:02d}/">Next month</a></nav></main>\n')
    return _HEAD.format(title="Calendar", site=SITE_NAME, canonical=f"/reviews/events/calendar/{year:04d}/{month:02d}/", jsonld="") + body + _FOOT.format(site=SITE_NAME)


def render(page: Page, m: object, ctx: Ctx) -> Body:
    """Render a review-site page."""
    if page.kind == "school":
        return Body(render_school(page, m, ctx).encode("utf-8"))  # type: ignore[arg-type]
    if page.kind == "api":
        return Body(render_api(m), "application/json")  # type: ignore[arg-type]
    if page.kind == "api_error":
        return Body(b'{"error":"bad_request","message":"e must be an entity id, page >= 1, 1 <= limit <= 100"}', "application/json", 400)
    if page.kind == "index":
        return Body(render_index(m, ctx).encode("utf-8"))  # type: ignore[arg-type]
    if page.kind == "calendar":
        return Body(render_calendar(*page.args).encode("utf-8"))
    if page.kind == "home":
        body = (f'<main><h1>{SITE_NAME}: real reviews from real students</h1>\n'
                '<p><a href="/reviews/colleges/">Browse colleges A-Z</a></p></main>\n')
        return Body((_HEAD.format(title="Home", site=SITE_NAME, canonical="/reviews/", jsonld="") + body + _FOOT.format(site=SITE_NAME)).encode("utf-8"))
    if page.kind == "write":
        body = f'<main><h1>Write a review</h1><form method="post" action="/reviews/write/{page.args[0]}/"><textarea name="body"></textarea></form></main>'
        return Body((_HEAD.format(title="Write a review", site=SITE_NAME, canonical=page.canonical, jsonld="") + body + _FOOT.format(site=SITE_NAME)).encode("utf-8"))
    if page.kind == "search":
        body = f'<main><h1>Search</h1><p>Results for {esc(page.args[0])}</p></main>'
        return Body((_HEAD.format(title="Search", site=SITE_NAME, canonical="/reviews/search", jsonld="") + body + _FOOT.format(site=SITE_NAME)).encode("utf-8"))
    raise KeyError(page.kind)
