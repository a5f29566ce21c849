"""Institutions and accredited programs in the structure of NCES College Navigator (source ``collegenavigator``).

URLs as on the real site: ``/collegenavigator/?s=AL`` (results per state, ``&pg=N`` pages of 15),
``/collegenavigator/?id=UNITID`` (institution profile). Profiles keep only the sections the
crawler uses (header dashboard, General Information, Servicemembers and Veterans, Programs/Majors,
Accreditation) with the real ids and classes. Conventions that carry item fields:

- aliases: an "Alias:" row (``A | B``) in the dashboard table; lat/long: ``&ll=LAT,LON`` in the "View Full Map" link;
- online: "Distance education - ... programs offered" under Special Learning Opportunities (else a
  "courses offered, programs not offered" or "not offered" line);
- military_friendly: the Servicemembers and Veterans section lists services (Yellow Ribbon Program,
  credit for military training, ...); otherwise it says "Not reported";
- each programmatic accreditation row: ``<td>PROGRAM <em>AWARD, DELIVERY[, military friendly]</em></td><td>STATUS</td><td>NEXT REVIEW</td>``
  with AWARD in College Navigator's award vocabulary and DELIVERY one of "on campus", "online",
  "online and on campus" (hybrid); STATUS one of "Accredited since (mm/dd/yyyy)", "Preaccredited since (...)",
  "Candidate since (...)", "Accredited since (...); Probation since (...)" (also Warning, Show Cause,
  Heightened Monitoring), "Accredited (start - end); Voluntarily withdrawn", "Accredited (start - end);
  Program closed", and under a "No Longer Recognized" agency "Accredited (start - end)".

A CAHIIM program whose accreditation changed this epoch is shown as it was the epoch before
(``EpochState.cn_programs_of``): College Navigator lags the accreditor's own directory by one epoch.
"""

from __future__ import annotations

import functools
from urllib.parse import quote

from model.items import US_STATES
from sample_site.core import Body, Ctx, Page, Redirect
from sample_site.epochs import EpochState
from sample_site.institutions import (
    DELIVERY_TEXT,
    LOCALE_TEXT,
    SANCTION_TEXT,
    Institution,
    ProgramAcc,
    institutions,
)
from sample_site.util import esc, h64, mdy

SOURCE = "collegenavigator"
PREFIXES = ("/collegenavigator",)
PER_PAGE = 15
LATIN1_UNITID = "430935"
"""Colegio de CinematografÌa Artes y Television: served in ISO-8859-1 when faults are on."""
MISSING_ID = "999999"
DISALLOW = ["/collegenavigator/*fv=", "/collegenavigator/*of=", "/collegenavigator/*xp="]


@functools.cache
def _pick_unitid(tag: str, need_programs: int) -> str:
    insts = institutions()
    cands = sorted((u for u, i in insts.items() if len(i.programs) >= need_programs and not i.closed_2023 and not i.new_unit
                    and u != LATIN1_UNITID and all(p.cahiim_id is None for p in i.programs)),
                   key=lambda u: h64(tag, u))
    return cands[0]


def malformed_unitid() -> str:
    """The profile served as broken HTML (faults on)."""
    return _pick_unitid("malformed", 3)


def slow_unitid() -> str:
    """The profile that takes about 2.5 s (faults on)."""
    return _pick_unitid("slow", 1)


def transient_unitid() -> str:
    """The profile that answers 503 once, then 200 (faults on)."""
    return _pick_unitid("transient-503", 2)


# --- routing ----------------------------------------------------------------------------------
def resolve(path: str, params: dict[str, str]) -> Page | Redirect | None:
    """Map a request to a College Navigator page."""
    if path == "/collegenavigator":
        return Redirect("/collegenavigator/")
    if path != "/collegenavigator/":
        return None
    uid = params.get("id", "")
    if uid:
        if not uid.isdigit():
            return None
        return Page(SOURCE, "profile", (uid,), f"/collegenavigator/?id={uid}")
    state = params.get("s", "")
    if state:
        pg = params.get("pg", "1")
        if not pg.isdigit() or int(pg) < 1:
            return None
        of, od = params.get("of", "0"), params.get("od", "0")
        sort = (of if of in ("0", "1", "2") else "0", od if od in ("0", "1") else "0")
        canon = f"/collegenavigator/?s={state}" + (f"&pg={pg}" if pg != "1" else "")
        if sort != ("0", "0"):
            canon += f"&of={sort[0]}&od={sort[1]}"
        return Page(SOURCE, "listing", (state, int(pg), sort), canon)
    return Page(SOURCE, "home", (), "/collegenavigator/")


def _state_members(st: EpochState) -> dict[str, list[Institution]]:
    cache = _MEMBERS.get(st.key)
    if cache is None:
        insts = institutions()
        cache = {}
        for u in sorted(st.present):
            inst = insts[u]
            cache.setdefault(inst.state, []).append(inst)
        for members in cache.values():
            members.sort(key=lambda i: (i.name.lower(), i.unitid))
        _MEMBERS[st.key] = cache
    return cache


_MEMBERS: dict[tuple[int, int], dict[str, list[Institution]]] = {}


def pages(st: EpochState) -> list[Page]:
    """Every crawlable College Navigator page at an epoch."""
    out = [Page(SOURCE, "home", (), "/collegenavigator/")]
    for state, members in sorted(_state_members(st).items()):
        n = (len(members) + PER_PAGE - 1) // PER_PAGE
        for pg in range(1, n + 1):
            out.append(Page(SOURCE, "listing", (state, pg, ("0", "0")),
                            f"/collegenavigator/?s={state}" + (f"&pg={pg}" if pg > 1 else "")))
    out += [Page(SOURCE, "profile", (u,), f"/collegenavigator/?id={u}") for u in sorted(st.present, key=int)]
    return out


def sitemap_pages(st: EpochState) -> list[Page]:
    """Profiles (one sitemap per state, listed from a sitemap index)."""
    return [p for p in pages(st) if p.kind == "profile"]


# --- models -----------------------------------------------------------------------------------
def _program_view(p: ProgramAcc) -> tuple:
    return (p.agency, p.nlr, p.name, p.award, p.delivery, p.status, p.since, p.since_estimated, p.sanction_date,
            p.end_date, p.next_review)


def model(page: Page, st: EpochState) -> object | None:
    """The data a College Navigator page shows at an epoch (None: 404)."""
    if page.kind == "profile":
        uid = page.args[0]
        if uid not in st.present:
            return None
        return ("profile", uid, tuple(_program_view(p) for p in st.cn_programs_of(uid)))
    if page.kind == "listing":
        state, pg, sort = page.args
        members = _state_members(st).get(state)
        if not members:
            return None
        n = (len(members) + PER_PAGE - 1) // PER_PAGE
        if pg > n:
            return None
        ordered = _sorted(members, sort)
        return ("listing", state, pg, sort, n, len(members), tuple(i.unitid for i in ordered[(pg - 1) * PER_PAGE: pg * PER_PAGE]))
    if page.kind == "home":
        return ("home", tuple(sorted(_state_members(st))))
    return None


def _sorted(members: list[Institution], sort: tuple[str, str]) -> list[Institution]:
    of, od = sort
    if of == "1":
        out = sorted(members, key=lambda i: (i.city.lower(), i.name.lower(), i.unitid))
    elif of == "2":
        out = sorted(members, key=lambda i: (i.state, i.name.lower(), i.unitid))
    else:
        out = list(members)
    return out[::-1] if od == "1" else out


# --- rendering --------------------------------------------------------------------------------
def _head(title: str, canonical: str | None, charset: str = "UTF-8") -> str:
    canon = f'<link rel="canonical" href="{esc(canonical)}" />' if canonical else ""
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="en" xml:lang="en" ><head id="ctl00_hd">'
        f'<meta http-equiv="Content-type" content="text/html;charset={charset}" /><title>\n\tCollege Navigator - {esc(title)}\n</title>'
        '<link href="/collegenavigator/css/md0.css" type="text/css" rel="stylesheet" /><meta name="robots" content="noindex,nofollow"></meta>'
        f'<link href="/collegenavigator/css/collegenav.css?v=2.4" type="text/css" rel="stylesheet" />{canon}</head>\n'
        '<body id="ctl00_bodyMain">\n<div id="ctl00_cphCollegeNavBody_divWidth" class="cnWidth">\n'
        '<div id="SiteBanner"><a href="/collegenavigator/"><img src="/collegenavigator/images/cnlogo.png" alt="College Navigator" /></a>'
        ' <span class="nces">National Center for Education Statistics</span></div>\n'
        '<div id="ctl00_cphCollegeNavBody_divTopLogo"></div>\n<div id="RightContent">\n'
    )


_FOOT = ('\n</div>\n<div id="ctl00_cphCollegeNavBody_divFooter" class="collegenavfooter colorful"><div style="float:right;text-align:left">'
         '<a href="/collegenavigator/" id="ctl00_cphCollegeNavBody_aHomeFooter">College Navigator Home</a>&nbsp;&nbsp;|&nbsp;&nbsp;'
         '<a href="http://collegecost.ed.gov/" target="_blank">College Costs</a>&nbsp;&nbsp;|&nbsp;&nbsp;'
         '<a href="https://studentaid.gov/h/apply-for-aid/fafsa/" target="_blank">Financial Aid</a></div></div>\n</div>\n</body>\n</html>\n')


def _collapsing(section_id: str, ctl: str, title: str, inner: str) -> str:
    return (f'<div>\n\t<div class="collapsing" id="{section_id}"><div class="collapsing2" onclick="stoggle(this.nextSibling.id,event)">'
            f'<a href="#{section_id}" class="tabtitles"><img class="vam" width="11" height="12" src="images/open.gif" '
            f'id="divctl00_cphCollegeNavBody_ucInstitutionMain_{ctl}_toggle" alt="open-close" />&nbsp;{title}</a></div>'
            f'<div id="divctl00_cphCollegeNavBody_ucInstitutionMain_{ctl}" class="detailOff"><div class="tabconstraint">{inner}</div></div></div>\n</div>')


def status_text(p: ProgramAcc | tuple) -> str:
    """The Status cell of an accreditation row."""
    if isinstance(p, tuple):
        _agency, nlr, _name, _award, _delivery, status, since, est, sanction, end, _next = p
    else:
        nlr, status, since, est, sanction, end = p.nlr, p.status, p.since, p.since_estimated, p.sanction_date, p.end_date
    since_txt = ("<sup>(!)</sup>" if est else "") + mdy(since)
    if nlr:
        return f"Accredited ({since_txt} - {mdy(end)})"
    if status == "accredited":
        return f"Accredited since ({since_txt})"
    if status == "preaccredited":
        return f"Preaccredited since ({since_txt})"
    if status == "candidate":
        return f"Candidate since ({since_txt})"
    if status in SANCTION_TEXT:
        return f"Accredited since ({since_txt}); {SANCTION_TEXT[status]} since ({mdy(sanction)})"
    if status == "withdrawn":
        return f"Accredited ({since_txt} - {mdy(end)}); Voluntarily withdrawn"
    if status == "closed":
        return f"Accredited ({since_txt} - {mdy(end)}); Program closed"
    raise ValueError(status)


def _inst_status_text(inst: Institution) -> str:
    since = mdy(inst.acc_since) if inst.acc_since else ""
    if inst.acc_status == "candidate":
        return f"Candidate since ({since})"
    if inst.acc_status in SANCTION_TEXT:
        return f"Accredited since ({since}); {SANCTION_TEXT[inst.acc_status]} since ({mdy(inst.acc_sanction_date)})"  # type: ignore[arg-type]
    return f"Accredited since ({since})"


def _address_line(inst: Institution) -> str:
    return f"{inst.addr}, {inst.city}, {inst.state_name} {inst.zip}"


def render_profile(inst: Institution, programs: tuple, ctx: Ctx) -> str:
    """An institution's profile page."""
    uid = inst.unitid
    map_q = f"{inst.addr}, {inst.city}, {inst.state}, {inst.zip}"
    ll = f"&amp;ll={inst.lat},{inst.lon}" if inst.lat is not None and inst.lon is not None else ""
    rows = []
    if inst.aliases:
        rows.append(("Alias", esc(" | ".join(inst.aliases))))
    if inst.phone:
        rows.append(("General information", esc(inst.phone)))
    if inst.website:
        location = quote(inst.website, safe="/:")
        rows.append(("Website", f'<a href="http://nces.ed.gov/transfer.asp?location={esc(location)}" target="_blank">{esc(inst.website)}</a>'))
    if inst.type_text:
        rows.append(("Type", esc(inst.type_text)))
    if inst.awards:
        rows.append(("Awards offered", "<br />".join(esc(a) for a in inst.awards)))
    if inst.locale in LOCALE_TEXT:
        rows.append(("Campus setting", LOCALE_TEXT[inst.locale]))
    layout = "".join(f'<tr><td scope="row" class="srb">{k}:&nbsp;&nbsp;</td><td>{v}</td></tr>' for k, v in rows)
    ope = f"<br />OPE ID: {inst.ope_id}  " if inst.ope_id else ""
    dash = (
        '<div class="dashboard">\n    <div class="collegedash">\n        <div class="mapngo">\n'
        '            <div id="map" class="GoogleMap"></div>\n'
        f'            <div id="ctl00_cphCollegeNavBody_ucInstitutionMain_divGMapLink" style="text-align:right"><a href="http://maps.google.com/?hl=en&amp;q={esc(quote(map_q, safe=",/"))}{ll}" target="_blank">View Full Map</a></div>\n'
        f'            <br /><span class="ipeds">IPEDS ID: {uid}{ope}</span>\n        </div>\n        <div>\n'
        f'            <span style="position:relative"><span class="headerlg">{esc(inst.name)}</span><br />{esc(_address_line(inst))}</span>'
        f'<table class="layouttab">{layout}</table><div style="clear:both"></div>\n        </div>\n    </div>\n</div>\n'
    )
    # General information
    special = []
    if inst.online:
        special.append("Distance education \u2013 undergraduate programs offered")
        if inst.hloffer >= 7:
            special.append("Distance education \u2013 graduate programs offered")
    elif h64("dist-courses", uid) % 2:
        special.append("Distance education \u2013 undergraduate courses offered, programs not offered")
    else:
        special.append("Distance education \u2013 not offered")
    if inst.iclevel == "1" and h64("rotc", uid) % 5 == 0:
        special.append("ROTC (Army)")
    special.append("Study abroad" if h64("abroad", uid) % 3 == 0 else "Weekend/evening college")
    general = ('<div style="font-weight:bold;padding-top:6px">Special Learning Opportunities</div>'
               + "".join(f"{esc(s)}<br />" for s in special)
               + '<div style="font-weight:bold;padding-top:6px">Student Services</div>Academic/career counseling service<br />Employment services for students<br />'
               + '<div style="font-weight:bold;padding-top:6px">Credit Accepted</div>Advanced placement (AP) credits<br />'
               + ("Credit for military training<br />" if inst.yellow_ribbon else ""))
    sections = [_collapsing("general", "dtpGeneral", "General Information", f'<div class="detailseparate">{general}</div>')]
    # Servicemembers and Veterans
    if inst.yellow_ribbon:
        vet = ('<div style="font-weight:bold;padding-top:6px;">Services and Programs for Servicemembers and Veterans</div>'
               "Yellow Ribbon Program (officially known as Post-9/11 GI Bill, Yellow Ribbon Program)<br />"
               "Credit for military training<br />Dedicated point of contact for support services for veterans, military servicemembers, and their families<br />"
               "Recognized student veteran organization")
    else:
        vet = '<div style="font-weight:bold;padding-top:6px;">Services and Programs for Servicemembers and Veterans</div>Not reported'

    sections.append(_collapsing("service", "ctl08", "Servicemembers and Veterans", vet))
    # Programs / majors
    if inst.cip_rows:
        cols = inst.cip_columns
        head = "".join(f'<th scope="col"><a href="#" title="sort by {c}" onclick="psc(this);return(false);">{c}</a></th>' for c in cols)
        body = []
        for family, progs in inst.cip_rows:
            body.append(f'<tr class="subrow nb"><td colspan="{len(cols) + 1}">{esc(family)}</td></tr>')
            for prog, cells in progs:
                body.append(f'<tr class="level1indent"><td scope="row">{esc(prog)}</td>' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            totals = []
            for j in range(len(cols)):
                vals = [int(c[j]) for _p, c in progs if c[j] != "-"]
                totals.append(str(sum(vals)) if vals else "-")
            body.append('<tr class="pmsubtotal odd"><td scope="row" style="padding-left:10px">Category total</td>' + "".join(f"<td>{t}</td>" for t in totals) + "</tr>")
        col2 = '<col class="col2" />' * len(cols)
        table = (f'<div class="tablenames">Completions (Number of awards conferred) 2022-2023</div>Completions are the number of awards conferred by program and award level.'
                 f'<table class="pmtabular"><colgroup><col class="col1" />{col2}</colgroup>'
                 f'<thead class="mainrow"><tr><th scope="col"><a title="sort by Program" onclick="psc(this);return(false);">Program</a></th>{head}</tr></thead>'
                 f'<tfoot><tr><td colspan="{len(cols) + 1}"><ul><li>Data shown are for first majors.</li><li>(-) Program is not offered at this award level.</li></ul></td></tr></tfoot>'
                 f'<tbody>{"".join(body)}</tbody></table>')
        sections.append(_collapsing("programs", "ctl07", "Programs/Majors", table))
    # Accreditation
    acc = ['<div class="tablenames">Institutional Accreditation</div><table class="tabular"><colgroup><col class="col1" /><col class="col2" /><col class="col2" /></colgroup>'
           '<thead class="mainrow"><tr><th scope="col">Accreditor</th><th scope="col">Status</th><th scope="col">Next Review Date</th></tr></thead><tbody>']
    if inst.accreditor:
        acc.append(f'<tr><td scope="row">{esc(inst.accreditor)} </td><td>{_inst_status_text(inst)}</td><td>{mdy(inst.acc_next) if inst.acc_next else " "}</td></tr>')
    else:
        acc.append('<tr><td scope="row" colspan="3">This institution is not accredited by an agency recognized by the U.S. Department of Education.</td></tr>')
    acc.append("</tbody></table>")
    estimated = False
    if programs:
        acc.append('<div class="tablenames">Programmatic Accreditation</div><table class="tabular"><colgroup><col class="col1" /><col class="col2" /><col class="col2" /></colgroup>'
                   '<thead class="mainrow"><tr><th scope="col">Accreditor / Program</th><th scope="col">Status</th><th scope="col">Next Review Date</th></tr></thead><tbody>')
        current = None
        for view in programs:
            agency, nlr, name, award, delivery, status, _since, est, _sanc, _end, next_review = view
            if (agency, nlr) != current:
                current = (agency, nlr)
                if nlr:
                    acc.append('<tr class="subrow"><td colspan="3"><span style="border:solid 1px;background-color:#eee"><strong>&nbsp;No Longer Recognized</strong>&nbsp;</span> '
                               f'<span style="font-size:0.8em">{esc(agency)}</span></td></tr>')
                else:
                    acc.append(f'<tr class="subrow"><td colspan="3">{esc(agency)}</td></tr>')
            estimated = estimated or est
            military = ", military friendly" if inst.yellow_ribbon else ""
            acc.append(f'<tr class="level1indent"><td scope="row">{esc(name)} <em>{esc(award)}, {DELIVERY_TEXT[delivery]}{military}</em></td>'
                       f'<td>{status_text(view)}</td><td>{mdy(next_review) if next_review else " "}</td></tr>')
        acc.append("</tbody></table>")
    if estimated:
        acc.append("<div><ul><li>(!) Estimated date</li></ul></div>")
    acc.append("<div><ul><li>For more detailed information on accreditation for this institution, including all actions and justification for actions, "
               "visit OPE's Database of Accredited Postsecondary Institutions and Programs: "
               f'<a href="https://ope.ed.gov/dapip/#/institution-profile/{uid}" target="_blank">ope.ed.gov/dapip/#/institution-profile/{uid}</a>.</li></ul></div>')
    sections.append(_collapsing("accred", "ctl10", "Accreditation", "".join(acc)))
    page = dash + '<div class="fadeyell"></div>\n<div id="divpredt"></div>' + "\n".join(sections)
    return page


def _malform(html: str) -> str:
    """Break the HTML the way hand-edited pages break, while the data stays readable."""
    html = html.replace("</td>", "").replace("</tr>", "").replace("</tbody>", "").replace("<br />", "<br>")
    html = html.replace('<div class="fadeyell"></div>', '<div class="fadeyell"><p><b>Notice: <i>data & updates</b></i> <span>see below</div>')
    html = html.replace("</body>\n</html>\n", '<div class="footnote"><p>Last updated <b>2025</p>\n')
    return html


def render_listing(m: tuple, ctx: Ctx) -> str:
    """A results page for one state (results table and pagination like AL.html / NY1.html)."""
    _k, state, pg, sort, n, total, uids = m
    insts = institutions()
    rows = []
    for k, uid in enumerate(uids):
        inst = insts[uid]
        href = f"?id={uid}"
        if ctx.faults and h64("sessionid", uid) % 12 == 0:
            href += f"&amp;sessionid={h64('sid', uid) % 16**12:012x}"
        state_name = US_STATES.get(inst.state, inst.state)
        pop = (f'<table class="itables"><tr><td class="pbe" scope="row" colspan="2"> <h2>{esc(inst.name)}</h2>{esc(inst.addr)}, {esc(inst.city)}, {esc(state_name)} {esc(inst.zip)}</td></tr>'
               + (f'<tr><td scope="row" class="srb">General information:&nbsp;&nbsp;</td><td class="sra">{esc(inst.phone)}</td></tr>' if inst.phone else "")
               + (f'<tr><td scope="row" class="srb">Type:&nbsp;&nbsp;</td><td class="sra">{esc(inst.type_text)}</td></tr>' if inst.type_text else "")
               + f'<tr><td scope="row" colspan="2"><p class="ipeds hoverID" >IPEDS ID: {uid}&nbsp;|&nbsp;OPE ID:&nbsp;{inst.ope_id or ""}  </p></td></tr></table>')
        rows.append(
            f'<tr class="{"resultsW" if k % 2 == 0 else "resultsY"}">\n\t\t<td class="infobutton" scope="row"><div><div class="infoimage"></div>'
            f'<div class="iPop"><div class="iBack">{pop}</div></div></div></td><td><a href="{href}"><strong>{esc(inst.name)}</strong></a><br />'
            f'{esc(inst.city)}, {esc(state_name)}</td><td class="addbutton"><a href="?s={state}&amp;pg={pg}&amp;fv={uid}">'
            '<img src="images/addfavs.gif" alt="add to favorites" width="52" height="31" border="0" /></a></td>\n\t</tr>')
    def link(p: int) -> str:
        return f"?s={state}" + (f"&amp;pg={p}" if p > 1 else "")
    prev = f'<a href="{link(pg - 1)}">« Previous Page</a>' if pg > 1 else "Previous Page"
    nxt = f'<a href="{link(pg + 1)}">Next Page »</a>' if pg < n else "Next Page"
    nums = "&nbsp;&nbsp;|&nbsp;&nbsp;".join(str(p) if p == pg else f'<a href="{link(p)}"><strong>{p}</strong></a>' for p in range(1, n + 1))
    sort_links = (f'<a href="?s={state}&amp;of=0&amp;od=1">Name</a> <a href="?s={state}&amp;of=1&amp;od=0">City</a> '
                  f'<a href="?s={state}&amp;of=2&amp;od=0">State</a>')
    body = (
        f'<div id="ctl00_cphCollegeNavBody_ucResultsMain_divResultsTop" class="resultsTop">'
        f'<div id="ctl00_cphCollegeNavBody_ucResultsMain_divMsg" style="float:right;font-weight:bold;font-size:11px;">{total} <span style="font-weight:normal;text-transform:none;">Results</span></div>'
        f'<div class="resultssort colorful"><span>Sort by:</span>&nbsp;&nbsp;{sort_links}</div></div>\n'
        '<div class="resultCon"><table id="ctl00_cphCollegeNavBody_ucResultsMain_tblResults" class="resultsTable" width="100%" cellpadding="4" cellspacing="0" border="0">\n\t'
        + "".join(rows) + "\n</table></div>\n"
        f'<div id="ctl00_cphCollegeNavBody_ucResultsMain_divPagingControls" style="text-align:right" class="colorful">'
        f'<div class="colorful" style="float:left;">{prev} | {nxt}</div>Pages: {nums}</div>'
    )
    return _head(f"{US_STATES.get(state, state)} results", f"/collegenavigator/{link(pg).replace('&amp;', '&')}") + body + _FOOT


def render_home(m: tuple, ctx: Ctx) -> str:
    """College Navigator's start page: browse by state."""
    _k, states = m
    items = "".join(f'<li><a href="?s={s}">{esc(US_STATES.get(s, s))}</a></li>' for s in states)
    extra = (f'<p class="news">Recently closed: <a href="?id={MISSING_ID}">Former institution profile</a></p>' if ctx.faults else "")
    body = (f'<div id="BrowseWrap"><h1>Browse institutions by state</h1><ul class="statelist">{items}</ul></div>{extra}')
    return _head("Home", "/collegenavigator/") + body + _FOOT


def render(page: Page, m: object, ctx: Ctx) -> Body:
    """Render a College Navigator page (the Latin-1 and malformed faults live here)."""
    if page.kind == "profile":
        uid = page.args[0]
        inst = institutions()[uid]
        programs: tuple = m[2]  # type: ignore[index]
        inner = render_profile(inst, programs, ctx)
        if ctx.faults and uid == LATIN1_UNITID:
            text = _head(inst.name, page.canonical, charset="ISO-8859-1") + inner + _FOOT
            return Body(text.encode("iso-8859-1", errors="xmlcharrefreplace"), "text/html; charset=ISO-8859-1")
        text = _head(inst.name, page.canonical) + inner + _FOOT
        if ctx.faults and uid == malformed_unitid():
            text = _malform(text)
        return Body(text.encode("utf-8"))
    if page.kind == "listing":
        return Body(render_listing(m, ctx).encode("utf-8"))  # type: ignore[arg-type]
    if page.kind == "home":
        return Body(render_home(m, ctx).encode("utf-8"))  # type: ignore[arg-type]
    raise KeyError(page.kind)
