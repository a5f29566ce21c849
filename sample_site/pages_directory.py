"""An accreditor's program directory in the style of CAHIIM's (source ``directory``).

``/cahiim/program-directory`` lists accredited Health Information Technology / Management and
Health Informatics programs (20 per page, sorted by state, institution, program), filterable by
``state``, ``degree`` (associate, baccalaureate, masters) and ``delivery`` (campus, online, hybrid);
``/cahiim/program-directory/program/<id>`` is a program's detail page (``program_id`` of the item
is ``cahiim-<id>``). The directory writes institution names its own way and shows no IPEDS id.
"""

from __future__ import annotations

import re

from model.items import US_STATES
from sample_site.core import Body, Ctx, Page, Redirect
from sample_site.epochs import EpochState
from sample_site.institutions import CAHIIM_NAME, ProgramAcc, institutions
from sample_site.util import esc, h64, long_date

SOURCE = "directory"
PREFIXES = ("/cahiim",)
PER_PAGE = 20
LISTING = "/cahiim/program-directory"
DEGREES = {"associate": "Associate", "baccalaureate": "Baccalaureate", "masters": "Master's"}
DEGREE_OF_LEVEL = {"associate": "associate", "bachelor": "baccalaureate", "master": "masters"}
DELIVERIES = {"campus": "Campus", "online": "Online", "hybrid": "Hybrid"}
STATUS_TEXT = {
    "accredited": "Accredited", "candidate": "Candidacy", "preaccredited": "Candidacy", "probation": "Probation",
    "warning": "Warning", "show_cause": "Show Cause", "monitoring": "Monitoring", "withdrawn": "Voluntary Withdrawal",
    "closed": "Closed",
}
MISSING_PROGRAM = "/cahiim/program-directory/program/1000"
DISALLOW = ["/cahiim/program-directory/export", "/cahiim/admin/"]


def resolve(path: str, params: dict[str, str]) -> Page | Redirect | None:
    """Map a request to a directory page."""
    if path in ("/cahiim", "/cahiim/"):
        return Page(SOURCE, "home", (), "/cahiim/") if path.endswith("/") else Redirect("/cahiim/")
    if path in (LISTING, LISTING + "/"):
        state = params.get("state", "").upper()
        degree = params.get("degree", "").lower()
        delivery = params.get("delivery", "").lower()
        page = params.get("page", "1")
        if (state and state not in US_STATES) or (degree and degree not in DEGREES) or (delivery and delivery not in DELIVERIES):
            return None
        if not page.isdigit() or int(page) < 1:
            return None
        return Page(SOURCE, "listing", (state, degree, delivery, int(page)), listing_url(state, degree, delivery, int(page)))
    if path == LISTING + "/export":
        return Page(SOURCE, "export", (), path)
    if path.startswith("/cahiim/admin"):
        return Page(SOURCE, "admin", (), "/cahiim/admin/")
    m = re.fullmatch(r"/cahiim/program-directory/program/(\d+)", path)
    if m:
        return Page(SOURCE, "program", (int(m.group(1)),), path)
    m = re.fullmatch(r"/cahiim/programs/(\d+)/?", path)
    if m:
        return Redirect(f"/cahiim/program-directory/program/{int(m.group(1))}")
    return None


def listing_url(state: str, degree: str, delivery: str, page: int) -> str:
    """Canonical listing URL with its filters in a fixed order."""
    q = [f"{k}={v}" for k, v in (("state", state), ("degree", degree), ("delivery", delivery)) if v]
    if page > 1:
        q.append(f"page={page}")
    return LISTING + ("?" + "&".join(q) if q else "")


def _entries(st: EpochState) -> list[ProgramAcc]:
    hit = _ENTRIES.get(st.key)
    if hit is None:
        insts = institutions()
        hit = _ENTRIES[st.key] = sorted(st.cahiim_programs(),
                                        key=lambda p: (insts[p.unitid].state, (p.dir_name or "").lower(), p.name, p.cahiim_id))
    return hit


_ENTRIES: dict[tuple[int, int], list[ProgramAcc]] = {}


def _filtered(st: EpochState, state: str, degree: str, delivery: str) -> list[ProgramAcc]:
    insts = institutions()
    return [p for p in _entries(st)
            if (not state or insts[p.unitid].state == state)
            and (not degree or DEGREE_OF_LEVEL.get(p.degree_level) == degree)
            and (not delivery or p.delivery == delivery)]


def _n_pages(n: int) -> int:
    return max(1, (n + PER_PAGE - 1) // PER_PAGE)


def pages(st: EpochState) -> list[Page]:
    """Every crawlable directory page: the home page, listings (all, per state/degree/delivery), details."""
    out = [Page(SOURCE, "home", (), "/cahiim/")]
    entries = _entries(st)
    insts = institutions()
    filters = [("", "", "")]
    filters += [(s, "", "") for s in sorted({insts[p.unitid].state for p in entries})]
    filters += [("", d, "") for d in DEGREES] + [("", "", d) for d in DELIVERIES]
    for state, degree, delivery in filters:
        n = _n_pages(len(_filtered(st, state, degree, delivery)))
        out += [Page(SOURCE, "listing", (state, degree, delivery, k), listing_url(state, degree, delivery, k)) for k in range(1, n + 1)]
    out += [Page(SOURCE, "program", (p.cahiim_id,), f"/cahiim/program-directory/program/{p.cahiim_id}") for p in entries]
    return out


def sitemap_pages(st: EpochState) -> list[Page]:
    """Program detail pages and the unfiltered listing."""
    return [p for p in pages(st) if p.kind == "program" or (p.kind == "listing" and p.args[:3] == ("", "", ""))]


def _row(p: ProgramAcc) -> tuple:
    inst = institutions()[p.unitid]
    return (p.cahiim_id, p.dir_name, field_name(p), p.degree_level, p.delivery, inst.city, inst.state, p.status)


def field_name(p: ProgramAcc) -> str:
    """The directory's name for a program (its field of study)."""
    return p.field


def model(page: Page, st: EpochState) -> object | None:
    """The data a directory page shows at an epoch (None: 404)."""
    if page.kind == "listing":
        state, degree, delivery, k = page.args
        rows = _filtered(st, state, degree, delivery)
        n = _n_pages(len(rows))
        if k > n:
            return None
        states = tuple(sorted({institutions()[p.unitid].state for p in _entries(st)}))
        return ("listing", page.args, k < n, tuple(_row(p) for p in rows[(k - 1) * PER_PAGE: k * PER_PAGE]), states)
    if page.kind == "program":
        pid = page.args[0]
        prog = next((p for p in st.cahiim_programs() if p.cahiim_id == pid), None)
        if prog is None:
            return None
        return ("program", _row(prog), prog.since, prog.next_review, institutions()[prog.unitid].website)
    return (page.kind,)


_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | CAHIIM</title>
<link rel="canonical" href="{canonical}">
<link rel="stylesheet" href="/cahiim/assets/site.css">
</head>
<body class="{body_class}">
<header class="site-header">
  <a class="brand" href="/cahiim/">CAHIIM</a>
  <span class="tagline">Commission on Accreditation for Health Informatics and Information Management Education</span>
  <nav class="main-nav"><a href="/cahiim/">About</a> <a href="/cahiim/program-directory">Program Directory</a> <a href="/cahiim/admin/">Program Login</a></nav>
</header>
<main id="content">
"""
_FOOT = """</main>
<footer class="site-footer"><p>&copy; CAHIIM. Directory information is provided by accredited programs.</p></footer>
</body>
</html>
"""


def _detail_href(pid: int, ctx: Ctx) -> str:
    if ctx.faults and h64("old-dir-link", pid) % 9 == 0:
        return f"/cahiim/programs/{pid}"
    return f"/cahiim/program-directory/program/{pid}"


def render_listing(m: tuple, ctx: Ctx) -> str:
    """A page of the program list with its filter links."""
    _k, (state, degree, delivery, k), has_next, rows, states = m
    trs = []
    for pid, inst_name, name, level, deliv, city, st_code, status in rows:
        trs.append(f'<tr class="program-row" data-program-id="{pid}"><td class="institution"><a href="{_detail_href(pid, ctx)}">{esc(inst_name)}</a></td>'
                   f'<td class="program">{esc(name)}</td><td class="degree">{DEGREES[DEGREE_OF_LEVEL[level]]}</td>'
                   f'<td class="delivery">{DELIVERIES[deliv]}</td><td class="city">{esc(city)}</td><td class="state">{st_code}</td>'
                   f'<td class="status">{STATUS_TEXT[status]}</td></tr>')
    if ctx.faults and (state, degree, delivery, k) == ("", "", "", 1):
        trs.append(f'<tr class="program-row"><td class="institution"><a href="{MISSING_PROGRAM}">New program (details coming soon)</a></td>'
                   '<td class="program">Health Information Technology</td><td class="degree">Associate</td><td class="delivery">Campus</td>'
                   '<td class="city"></td><td class="state"></td><td class="status">Candidacy</td></tr>')
    opts_state = "".join(f'<option value="{s}"{" selected" if s == state else ""}>{esc(US_STATES[s])}</option>' for s in states)
    opts_degree = "".join(f'<option value="{d}"{" selected" if d == degree else ""}>{t}</option>' for d, t in DEGREES.items())
    opts_delivery = "".join(f'<option value="{d}"{" selected" if d == delivery else ""}>{t}</option>' for d, t in DELIVERIES.items())
    facets = ('<aside class="facets"><h2>Browse by state</h2><ul class="facet-state">'
              + "".join(f'<li><a href="{listing_url(s, "", "", 1)}">{esc(US_STATES[s])}</a></li>' for s in states)
              + '</ul><h2>Degree level</h2><ul class="facet-degree">'
              + "".join(f'<li><a href="{listing_url("", d, "", 1)}">{t}</a></li>' for d, t in DEGREES.items())
              + '</ul><h2>Delivery</h2><ul class="facet-delivery">'
              + "".join(f'<li><a href="{listing_url("", "", d, 1)}">{t}</a></li>' for d, t in DELIVERIES.items())
              + "</ul></aside>")
    nav = []
    if k > 1:
        nav.append(f'<a class="prev" rel="prev" href="{esc(listing_url(state, degree, delivery, k - 1))}">&laquo; Previous</a>')
    nav.append(f'<span class="current">Page {k}</span>')
    if has_next:
        nav.append(f'<a class="next" rel="next" href="{esc(listing_url(state, degree, delivery, k + 1))}">Next &raquo;</a>')
    body = (
        '<h1>Accredited Program Directory</h1>\n'
        f'<form class="directory-filters" method="get" action="{LISTING}">'
        f'<label>State <select name="state"><option value="">All states</option>{opts_state}</select></label> '
        f'<label>Degree <select name="degree"><option value="">All degrees</option>{opts_degree}</select></label> '
        f'<label>Delivery <select name="delivery"><option value="">All</option>{opts_delivery}</select></label> '
        '<button type="submit">Search</button></form>\n'
        + facets +
        '\n<table class="program-list"><thead><tr><th>Institution</th><th>Program</th><th>Degree</th><th>Delivery</th><th>City</th><th>State</th><th>Status</th></tr></thead>\n<tbody>\n'
        + "\n".join(trs) + '\n</tbody></table>\n<nav class="pagination">' + " ".join(nav) + "</nav>\n"
        f'<p class="export"><a href="{LISTING}/export">Download the directory (CSV)</a></p>\n'
    )
    canonical = listing_url(state, degree, delivery, k)
    return _HEAD.format(title="Program Directory", canonical=esc(canonical), body_class="directory") + body + _FOOT


def render_program(page: Page, m: tuple, ctx: Ctx) -> str:
    """A program's detail page."""
    _k, row, since, next_review, website = m
    pid, inst_name, name, level, deliv, city, st_code, status = row
    since_label = "Candidacy Since" if status in ("candidate", "preaccredited") else "Accredited Since"
    link = f'<p class="program-website"><a href="http://{esc(website.removeprefix("http://").removeprefix("https://"))}">Program website</a></p>' if website else ""
    body = (
        f'<article class="program-detail" data-program-id="{pid}">\n'
        f'<h1 class="program-title">{esc(name)}</h1>\n<p class="institution-name">{esc(inst_name)}</p>\n<dl class="program-facts">\n'
        f'<dt>Institution</dt><dd class="institution">{esc(inst_name)}</dd>\n'
        f'<dt>City</dt><dd class="city">{esc(city)}</dd>\n<dt>State</dt><dd class="state">{st_code}</dd>\n'
        f'<dt>Degree Level</dt><dd class="degree-level">{DEGREES[DEGREE_OF_LEVEL[level]]}</dd>\n'
        f'<dt>Delivery</dt><dd class="delivery">{DELIVERIES[deliv]}</dd>\n'
        f'<dt>Accreditation Status</dt><dd class="status">{STATUS_TEXT[status]}</dd>\n'
        f'<dt>{since_label}</dt><dd class="accredited-since">{long_date(since)}</dd>\n'
        f'<dt>Next Review</dt><dd class="next-review">{long_date(next_review) if next_review else "&mdash;"}</dd>\n'
        f'<dt>Accreditor</dt><dd class="accreditor">{esc(CAHIIM_NAME)} (CAHIIM)</dd>\n</dl>\n{link}'
        f'<p><a href="{LISTING}?state={st_code}">More programs in {esc(US_STATES[st_code])}</a></p>\n</article>\n'
    )
    return _HEAD.format(title=esc(f"{name} - {inst_name}"), canonical=page.canonical, body_class="program") + body + _FOOT


def render(page: Page, m: object, ctx: Ctx) -> Body:
    """Render a directory page."""
    if page.kind == "listing":
        return Body(render_listing(m, ctx).encode("utf-8"))  # type: ignore[arg-type]
    if page.kind == "program":
        return Body(render_program(page, m, ctx).encode("utf-8"))  # type: ignore[arg-type]
    if page.kind == "home":
        body = ("<h1>About CAHIIM</h1>\n<p>The Commission on Accreditation for Health Informatics and Information Management Education "
                "accredits degree programs in health informatics and health information management.</p>\n"
                f'<p><a class="button" href="{LISTING}">Find an accredited program</a></p>\n'
                + (f'<p><a href="{LISTING}?utm_source=home&amp;utm_medium=button">Program Directory</a></p>\n' if ctx.faults else ""))
        return Body((_HEAD.format(title="About", canonical="/cahiim/", body_class="home") + body + _FOOT).encode("utf-8"))
    if page.kind == "export":
        return Body(b"program_id,institution,program\n", "text/csv; charset=utf-8")
    if page.kind == "admin":
        body = '<h1>Program Login</h1><form method="post" action="/cahiim/admin/"><input name="user"><input name="password" type="password"></form>'
        return Body((_HEAD.format(title="Login", canonical="/cahiim/admin/", body_class="login") + body + _FOOT).encode("utf-8"))
    raise KeyError(page.kind)
