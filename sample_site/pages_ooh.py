"""Careers in the structure of the BLS Occupational Outlook Handbook (source ``bls_ooh``).

The 40 saved real pages and the real A-Z index are served as saved; absolute ``https://www.bls.gov/ooh/``
links to pages this site serves become root-relative so a crawler stays on the site (nothing else
changes). Every other occupation gets a page built on the real page's skeleton with the same ids
and classes. Half of the generated pages come in the raw server form, without the DOM changes the
page's JavaScript makes (no ``id="outlook-table"``, no DataTables classes, no ``display: none``).
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from sample_site import data_load
from sample_site import occupations as occ_mod
from sample_site.core import Body, Ctx, Page, Redirect
from sample_site.epochs import EpochState
from sample_site.occupations import ACCREDITOR_NAMES, CAREER_ACCREDITORS, GROUP_NAMES, OLD_SLUGS, Occupation
from sample_site.util import esc, h64, money

SOURCE = "bls_ooh"
PREFIXES = ("/ooh",)
SKELETON_SLUG = "medical-records-and-health-information-technicians"
ONET_CREDIT = ("O*NET 27.x Database by the U.S. Department of Labor, Employment and Training Administration "
               "(USDOL/ETA), used under CC BY 4.0")
REAL_DATE = dt.date(2025, 8, 28)
"""The saved real pages' own 'Last Modified Date'."""
MISSING_OCCUPATION = "/ooh/healthcare/medical-billing-specialists.htm"
"""A link (faults on) to an occupation page that does not exist."""
TRANSIENT_503 = "/ooh/sales/retail-sales-workers.htm"
FINDER = "/ooh/occupation-finder.htm"
EDU_CODES = {
    "No formal educational credential": 1, "High school diploma or equivalent": 2, "Some college, no degree": 3,
    "Postsecondary nondegree award": 4, "Associate's degree": 5, "Bachelor's degree": 6, "Master's degree": 7,
    "Doctoral or professional degree": 8, "See How to Become One": 9,
}
DISALLOW = ["/ooh/occupation-finder.htm", "/ooh/print/"]


# --- routing ----------------------------------------------------------------------------------
def resolve(path: str, params: dict[str, str]) -> Page | Redirect | None:
    """Map a request path to a page of this source."""
    if path in ("/ooh", "/ooh/home.htm"):
        return Redirect("/ooh/")
    if path == "/ooh/a-z-index.htm":
        return Redirect("/ooh/a-z/index.htm")
    if path == "/ooh/":
        return Page(SOURCE, "home", (), "/ooh/")
    if path == "/ooh/a-z/index.htm":
        return Page(SOURCE, "az", (), path)
    if path == "/ooh/ooh-site-map.htm":
        return Page(SOURCE, "sitemap_page", (), path)
    if path == "/ooh/about/ooh-faqs.htm":
        return Page(SOURCE, "faq", (), path)
    if path == "/ooh/how-to-find-a-job/home.htm":
        return Page(SOURCE, "findjob", (), path)
    if path == FINDER:
        keys = ("pay", "ed", "training", "growth", "page")
        args = tuple(params.get(k, "") for k in keys)
        query = "&".join(f"{k}={v}" for k, v in zip(keys, args, strict=True) if v)
        return Page(SOURCE, "finder", args, path + ("?" + query if query else ""))
    m = re.fullmatch(r"/ooh/([a-z0-9-]+)/([a-z0-9-]+)\.htm", path)
    if not m:
        return None
    group, slug = m.groups()
    if slug == "home" and group in GROUP_NAMES:
        return Page(SOURCE, "group", (group,), path)
    if (group, slug) in OLD_SLUGS:
        return Redirect(f"/ooh/{group}/{OLD_SLUGS[(group, slug)]}.htm")
    occ = occ_mod.by_slug().get(slug)
    if occ is None or occ.group != group:
        return None
    return Page(SOURCE, "occupation", (slug,), path)


def pages(st: EpochState) -> list[Page]:
    """Every crawlable page of the careers site (robots-allowed), in a stable order."""
    out = [Page(SOURCE, "home", (), "/ooh/"), Page(SOURCE, "az", (), "/ooh/a-z/index.htm"),
           Page(SOURCE, "sitemap_page", (), "/ooh/ooh-site-map.htm"), Page(SOURCE, "faq", (), "/ooh/about/ooh-faqs.htm"),
           Page(SOURCE, "findjob", (), "/ooh/how-to-find-a-job/home.htm")]
    out += [Page(SOURCE, "group", (g,), f"/ooh/{g}/home.htm") for g in occ_mod.groups()]
    out += [Page(SOURCE, "occupation", (o.slug,), o.path) for o in occ_mod.occupations()]
    return out


def sitemap_pages(st: EpochState) -> list[Page]:
    """Pages listed in the careers sitemap."""
    return [p for p in pages(st) if p.kind in ("home", "az", "group", "occupation")]


# --- models -----------------------------------------------------------------------------------
def _similar_entry(st: EpochState, slug: str) -> tuple:
    o = occ_mod.by_slug()[slug]
    annual = st.pay(o)[0]
    return (o.slug, o.group, o.title, o.summary, o.entry_education, annual)


def model(page: Page, st: EpochState) -> object | None:
    """The data a page shows at an epoch (None: the page does not exist then)."""
    if page.kind == "occupation":
        occ = occ_mod.by_slug()[page.args[0]]
        if occ.real:
            return ("real", occ.slug)
        return ("gen", occ.slug, st.pay(occ), tuple(_similar_entry(st, s) for s in occ.similar))
    if page.kind == "group":
        group = page.args[0]
        return ("group", group, tuple(_similar_entry(st, o.slug) for o in occ_mod.occupations() if o.group == group))
    return (page.kind, page.args)


# --- skeleton ---------------------------------------------------------------------------------
_BLS_OOH_HREF = re.compile(r'(href|content)="https://www\.bls\.gov(/ooh/[^"#]*)((?:#[^"]*)?)"')


def _served(path: str) -> bool:
    target = resolve(path, {})
    return target is not None


def rewrite_bls_links(text: str) -> str:
    """Absolute bls.gov/ooh links to pages this site serves become root-relative (nothing else changes)."""
    def sub(m: re.Match[str]) -> str:
        path = m.group(2)
        if _served(path):
            return f'{m.group(1)}="{path}{m.group(3)}"'
        return m.group(0)

    return _BLS_OOH_HREF.sub(sub, text)


@functools.cache
def skeleton() -> tuple[str, str]:
    """(head, tail) of the real page used as the template, with {placeholders}."""
    page = rewrite_bls_links(data_load.saved_ooh_page(SKELETON_SLUG))
    start = page.index('<div id="panes">')
    end = page.index("<!-- BLS CITATION -->")
    head, tail = page[:start], page[end:]
    head = head.replace("{", "{{").replace("}", "}}")
    tail = tail.replace("{", "{{").replace("}", "}}")
    head = re.sub(r'<meta name="description" content="[^"]*">', '<meta name="description" content="{summary}">', head)
    head = re.sub(r'<meta property="og:description" content="[^"]*">', '<meta property="og:description" content="{summary}">', head)
    head = re.sub(r'<meta name="date" content="[^"]*">', '<meta name="date" content="{date}">', head)
    for part in (0, 1):
        text = (head, tail)[part]
        text = re.sub(r'(aria-label=")(\s*)Healthcare Back to(\s*)Healthcare(">)(\s*)Healthcare</a>',
                      r"\1\2{group_name} Back to\3{group_name}\4\5{group_name}</a>", text)
        text = text.replace(f"/ooh/healthcare/mobile/{SKELETON_SLUG}.htm", "/ooh/{group}/mobile/{slug}.htm")
        text = text.replace(f"/ooh/healthcare/{SKELETON_SLUG}.htm", "/ooh/{group}/{slug}.htm")
        text = text.replace("/ooh/healthcare/home.htm", "/ooh/{group}/home.htm")
        text = text.replace("Medical Records Specialists", "{title}")
        if part == 0:
            head = text
        else:
            tail = text
    tail = re.sub(r"(<strong>\s*Last Modified Date:</strong>\s*)[A-Za-z]+, [A-Za-z]+ \d+, \d{4}", r"\1{long_date}", tail)
    leftover = re.search(r"medical.records|healthcare", head + tail, re.I)
    if leftover:
        raise RuntimeError(f"OOH skeleton still mentions the template occupation: {leftover.group(0)!r}")
    return head, tail


def _page(title: str, group: str, slug: str, summary: str, lastmod: dt.date, panes: str) -> str:
    head, tail = skeleton()
    fields = {
        "title": esc(title), "group": group, "slug": slug, "group_name": esc(GROUP_NAMES.get(group, "Occupational Outlook Handbook")),
        "summary": esc(summary), "date": lastmod.isoformat(), "long_date": lastmod.strftime("%A, %B %d, %Y").replace(" 0", " "),
    }
    return head.format(**fields) + panes + "\n\t\t" + tail.format(**fields)


# --- generated occupation page ---------------------------------------------------------------
def _qf_row(i: int, key: str, label: str, value: str) -> str:
    return (f'                                <tr>\n                                    <th id="quickfacts-{i}-0" headers="quickfacts-0-0" role="rowheader" scope="row">'
            f'<a id="TB_inline?height=325&amp;width=325&amp;inlineId={key}" href="#TB_inline?height=325&amp;width=325&amp;inlineId={key}" '
            f'class="thickbox about-qf-section noprint" aria-label="    {label} more information on  {label}">    {label}</a></th>\n'
            f'                                    <td headers="quickfacts-{i}-0 quickfacts-0-0">{value}</td>\n                                </tr>\n')


def _tab(n: int, raw: bool, body: str, first: bool = False) -> str:
    style = "" if raw else (' style=""' if first else ' style="display: none;"')
    return f'        <div id="tab-{n}"{style}>\n{body}\n            <div class="clearfloat"></div>\n        </div>\n'


def _how_to_become(occ: Occupation) -> str:
    lower = occ.csv_title[0].lower() + occ.csv_title[1:] if not occ.csv_title[:2].isupper() else occ.csv_title
    edu = occ.entry_education or "See How to Become One"
    paras = []
    if edu == "See How to Become One":
        paras.append(f"<p>Education and training requirements for {esc(lower)} vary by specialty and employer.</p>")
    elif edu == "No formal educational credential":
        paras.append(f"<p>There are no formal educational requirements to become one of the {esc(lower)}.</p>")
    else:
        article = "an" if edu[0] in "AEIOU" else "a"
        paras.append(f"<p>{esc(occ.csv_title)} typically need {article} {esc(edu[0].lower() + edu[1:])} to enter the occupation.</p>")
    acc = CAREER_ACCREDITORS.get(occ.slug)
    if acc:
        acronyms, fields, credential = acc
        named = [f"the {ACCREDITOR_NAMES[a]} ({a})" for a in acronyms]
        who = named[0] if len(named) == 1 else " or ".join(named) if len(named) == 2 else ", ".join(named[:-1]) + ", or " + named[-1]
        paras.append("<h3>Education</h3>")
        paras.append(f"<p>{esc(occ.csv_title)} typically need {esc(credential)}. Colleges, universities, and technical schools "
                     f"offer programs in {esc(fields)}.</p>")
        paras.append(f"<p>Employers and licensing boards generally require graduation from a program accredited by {esc(who)}. "
                     "Prospective students should check a program's accreditation status before enrolling.</p>")
    if occ.training and occ.training not in ("None", "See How to Become One"):
        paras.append(f"<h3>Training</h3>\n<p>Workers typically receive {esc(occ.training[0].lower() + occ.training[1:])} "
                     "after they are hired.</p>")
    if occ.work_experience and occ.work_experience not in ("None", "See How to Become One"):
        paras.append(f"<h3>Work Experience in a Related Occupation</h3>\n<p>Employers often want {esc(occ.work_experience.lower())} "
                     "of experience in a related occupation.</p>")
    paras.append("<h3>Important Qualities</h3>\n<p><strong><em>Communication skills.</em></strong> "
                 f"{esc(occ.csv_title)} must explain their work clearly.</p>")
    return "\n".join(paras)


def _similar_rows(st_entries: tuple, raw: bool, ctx: Ctx) -> str:
    rows = []
    for i, (slug, group, title, summary, edu, annual) in enumerate(st_entries):
        href = f"/ooh/{group}/{slug}.htm"
        if ctx.faults:
            old = next((old for (g, old), new in OLD_SLUGS.items() if new == slug and g == group), None)
            if old:
                href = f"/ooh/{group}/{old}.htm"
        edu_text = edu or "See How to Become One"
        pay = (f'<span title="{annual}">{money(annual)}</span>' if annual else '<span title="0">This wage is not available.</span>')
        row_attr = "" if raw else f' role="row" class="{"odd" if i % 2 == 0 else "even"}"'
        dl = (lambda s: "") if raw else (lambda s: f' data-label="{s}"')
        sort_cls = "" if raw else ' class="sorting_1"'
        rows.append(
            f'                        <tr{row_attr}>\n'
            f'                            <td headers="similar-occupations-0-0"{dl("")}>\n'
            f'                                <a href="{href}" aria-label="{esc(title)} image"><img src="/ooh/images/{h64("img", slug) % 9000 + 1000}.jpg" width="70" height="50" alt="{esc(title)}"></a>\n'
            f'                            </td>\n'
            f'                            <td headers="similar-occupations-0-1"{dl(" ")}{sort_cls}>\n'
            f'                                <strong style="font-size:1.1em"><a href="{href}">    {esc(title)}</a></strong>\n'
            f'                            </td>\n'
            f'                            <td headers="similar-occupations-0-2"{dl("job duties:")}>\n<p>{esc(summary)}</p>\n                            </td>\n'
            f'                            <td style="width: 180px" headers="similar-occupations-0-3"{dl("entry-level education:")}>\n'
            f'                                <span title="{EDU_CODES.get(edu_text, 9)}.  {esc(edu_text)}">    {esc(edu_text)}</span>\n'
            f'                            </td>\n'
            f'                            <td style="width: 140px" headers="similar-occupations-0-4"{dl("2024 median pay:")}>\n'
            f'                                {pay}\n                            </td>\n                        </tr>')
    return "".join(rows)


def render_occupation(occ: Occupation, m: tuple, ctx: Ctx) -> str:
    """A generated occupation page in the real page's structure."""
    _kind, _slug, pay, similar = m
    annual, hourly, p10, p90 = pay
    raw = occ.raw_form
    title = occ.title
    lower = occ.csv_title[0].lower() + occ.csv_title[1:] if not occ.csv_title[:2].isupper() else occ.csv_title
    # Quick facts
    rows = []
    if annual is not None:
        rows.append(("qf-wage", "2024 Median Pay", f"\n                                        {money(annual)}     per year\n"
                     f"                                        <br>${hourly:,.2f}     per hour\n                                    "))
    else:
        rows.append(("qf-wage", "2024 Median Pay", "The annual wage is not available."))
    if occ.entry_education:
        rows.append(("qf-education", "Typical Entry-Level Education", f"    {esc(occ.entry_education)}"))
    if occ.work_experience:
        rows.append(("qf-experience", "Work Experience in a Related Occupation", f"    {esc(occ.work_experience)}"))
    if occ.training:
        rows.append(("qf-training", "On-the-job Training", f"    {esc(occ.training)}"))
    if occ.jobs is not None:
        rows.append(("qf-number-jobs", "Number of Jobs, 2024", f"    {occ.jobs:,}"))
    if occ.outlook_pct is not None:
        rows.append(("qf-outlook", "Job Outlook, 2024–34", f"{int(occ.outlook_pct)}% ({esc(occ.outlook_desc or '')})"))
    if occ.employment_change is not None:
        rows.append(("qf-emp-change", "Employment Change, 2024–34", f"    {occ.employment_change:,}"))
    qf = "".join(_qf_row(i + 1, *r) for i, r in enumerate(rows))
    pay_sentence = (f"<p>The median annual wage for {esc(lower)} was {money(annual)} in May 2024.</p>" if annual is not None
                    else f"<p>Wage data for {esc(lower)} are not available.</p>")
    tab1 = f"""            <article aria-labelledby="Summary">
            <h2 id="Summary"><span>    Summary</span></h2>
                        <div id="center-content">
                        <table class="regular-text tooltips" id="quickfacts">
                            <thead>
                                <tr>
                                    <th colspan="2" id="quickfacts-0-0" role="columnheader" scope="colgroup">    Quick Facts:     {esc(title)}</th>
                                </tr>
                            </thead>
                            <tbody>
{qf}                            </tbody>
                        </table>
                        <!--QF-->
                        <h3><a class="tab_link" href="#tab-2">What {esc(title)} Do</a> </h3>
<p>{esc(occ.summary)}</p>
                        <h3><a class="tab_link" href="#tab-5">    Pay</a></h3>
{pay_sentence}
                        </div>
            </article>"""
    onet_html = "".join(f"<p><strong>{esc(t)}</strong>: {esc(d)}</p>\n" for _c, t, d in occ.onet)
    credit = (f'<p class="onet-credit"><em>Source: {esc(ONET_CREDIT)}. Descriptions from '
              f'<a class="external" href="https://www.onetonline.org/" target="_blank" rel="noopener noreferrer">O*NET OnLine</a>.</em></p>'
              if occ.onet else "")
    tab2 = f"""            <article aria-labelledby="what-they-do">
            <h2 id="what-they-do"><span> What {esc(title)} Do</span></h2>
<p>{esc(occ.summary)}</p>
<h3>Duties</h3>
{onet_html}{credit}
            </article>"""
    jobs_text = f"{esc(occ.csv_title)} held about {occ.jobs:,} jobs in 2024." if occ.jobs else f"{esc(occ.csv_title)} work in many settings."
    tab3 = f"""            <article aria-labelledby="work-environment">
            <h2 id="work-environment"><span>    Work Environment</span></h2>
<p>{jobs_text} Most work full time.</p>
            </article>"""
    tab4 = f"""            <article aria-labelledby="become-one">
            <h2 id="become-one"><span>How to Become One</span> <a id="TB_inline?height=325&amp;width=325&amp;inlineId=about-become-one" href="#TB_inline?height=325&amp;width=325&amp;inlineId=about-become-one" class="thickbox about-this-section noprint" aria-label="About this section (How to Become One)">    About this section</a></h2>
{_how_to_become(occ)}
            </article>"""
    if annual is not None:
        chart = (f'<!-- CMS Bar Graph --><div class="ooh-chart"><div style="min-height:270.89px;"><h3>    {esc(title)}</h3>'
                 f'<p>        Median annual wages, May 2024</p><dl>  <dt style="top: -5px;"><span>    {esc(occ.csv_title)} </span></dt>'
                 f'<dd style="height: 5em;"><div style="height: 5em;" class="value"><p class="positive cms-bar-color-light-blue">'
                 f'<span><span> {money(annual)} </span></span></p></div></dd>  <dt style="top: -5px;"><span>    Total, all occupations </span></dt>'
                 f'<dd style="height: 5em;"><div style="height: 5em;" class="value"><p class="positive cms-bar-color-red"><span><span> $49,500 </span></span></p></div></dd></dl>'
                 '<div class="clearfloat"></div><p class="footer">    Note: All Occupations includes all occupations in the U.S. Economy.<br>'
                 'Source: U.S. Bureau of Labor Statistics, Occupational Employment and Wage Statistics</p></div></div><!-- CMS Bar Graph -->')
        if p10 is not None and p90 is not None:
            prose = (f"<p>\nThe median annual wage for {esc(lower)} was {money(annual)} in May 2024. \nThe median wage is the wage at which "
                     "half the workers in an occupation earned more than that amount and half earned less. "
                     f"The lowest 10 percent earned less than {money(p10)}, and the highest 10 percent earned more than {money(p90)}.\n</p>")
        else:
            prose = (f"<p>\nThe median annual wage for {esc(lower)} was equal to or greater than {money(annual)} in May 2024.\n</p>"
                     if annual >= occ_mod.TOP_CODED_WAGE else
                     f"<p>\nThe median annual wage for {esc(lower)} was {money(annual)} in May 2024.\n</p>")
    else:
        chart = ""
        prose = f"<p>Wage data for {esc(lower)} are not available.</p>"
    tab5 = f"""            <article aria-labelledby="pay">
            <h2 id="pay"><span>    Pay</span> <a id="TB_inline?height=325&amp;width=325&amp;inlineId=about-pay" href="#TB_inline?height=325&amp;width=325&amp;inlineId=about-pay" class="thickbox about-this-section noprint" aria-label="About this section (Pay)">    About this section</a></h2>
                {chart}
{prose}
<p>Most {esc(lower)} work full time.</p>
            </article>"""
    pct = int(occ.outlook_pct) if occ.outlook_pct is not None else 0
    pace = {"Much faster than average": "much faster than the average", "Faster than average": "faster than the average",
            "As fast as average": "about as fast as the average", "Slower than average": "slower than the average"}
    if pct > 0:
        outlook_sentence = (f"Employment of {esc(lower)} is projected to grow {pct} percent from 2024 to 2034, "
                            f"{pace.get(occ.outlook_desc or '', 'about as fast as the average')} for all occupations.")
    elif pct < 0:
        outlook_sentence = f"Employment of {esc(lower)} is projected to decline {abs(pct)} percent from 2024 to 2034."
    else:
        outlook_sentence = f"Employment of {esc(lower)} is projected to show little or no change from 2024 to 2034."
    table_attrs = ' class="regular"' if raw else ' class="regular" id="outlook-table"'
    dl = (lambda s: "") if raw else (lambda s: f' data-label="{s}"')
    soc = occ.soc or "—"
    proj_row = ""
    if occ.jobs is not None:
        proj_row = f"""		<tr class="greenbar">
                            <th id="table1-3-0" headers="table1-0-0" role="rowheader" scope="row"{dl(" ")}><p><strong>    {esc(occ.csv_title)}</strong></p></th>
                            <td style="align: right" headers="table1-3-0 table1-0-1"{dl("SOC Code:")}>{esc(soc)}</td>
                            <td style="align: right" headers="table1-3-0 table1-0-2"{dl("employment, 2024:")}>{occ.jobs:,}</td>
                            <td style="align: right" headers="table1-3-0 table1-0-3"{dl("projected employment, 2034:")}>{(occ.projected or 0):,}</td>
                            <td style="align: right" headers="table1-3-0 table1-0-4 table1-1-0"{dl("change, 2024–34 (percent):")}>{pct}</td>
                            <td style="align: right" headers="table1-3-0 table1-0-4 table1-1-1"{dl("change, 2024–34 (numeric):")}>{(occ.employment_change or 0):,}</td>
                            <td style="align: right" headers="table1-3-0 table1-0-5"{dl("employment by industry:")}><a href="https://data.bls.gov/projections/nationalMatrix?queryParams={esc(soc)}&amp;ioType=o">    Get data</a></td>
		</tr>
"""
    tab6 = f"""            <article aria-labelledby="job-outlook">
            <h2 id="job-outlook"><span>    Job Outlook</span> <a id="TB_inline?height=325&amp;width=325&amp;inlineId=about-job-outlook" href="#TB_inline?height=325&amp;width=325&amp;inlineId=about-job-outlook" class="thickbox about-this-section noprint" aria-label="About this section (Job Outlook)">    About this section</a></h2>
			<p>{outlook_sentence}
						</p>
                    <table{table_attrs}>
                        <caption><span class="tableTitle">    Employment projections data for     {esc(lower)}, 2024–34</span></caption>
                        <thead>
                            <tr>
                                <th rowspan="2" id="table1-0-0" role="columnheader" scope="col">    Occupational Title</th>
                                <th rowspan="2" style="align: center;" id="table1-0-1" role="columnheader" scope="col">    SOC Code</th>
                                <th rowspan="2" style="align: center;" id="table1-0-2" role="columnheader" scope="col">    Employment, 2024</th>
                                <th rowspan="2" style="align: center;" id="table1-0-3" role="columnheader" scope="col">    Projected Employment, 2034</th>
                                <th colspan="2" style="align: center; white-space:nowrap;" id="table1-0-4" role="columnheader" scope="colgroup">    Change, 2024–34</th>
                                <th rowspan="2" colspan="2" style="align: center;" id="table1-0-5" role="columnheader" scope="col">    Employment by Industry</th>
                            </tr>
                            <tr>
                                <th style="align: center;" id="table1-1-0" role="columnheader" scope="col">    Percent</th>
                                <th style="align: center;" id="table1-1-1" role="columnheader" scope="col">    Numeric</th>
                            </tr>
                        </thead>
                        <tfoot>
                            <tr>
                                <td colspan="8"><p class="footnotes">    SOURCE: U.S. Bureau of Labor Statistics, Employment Projections program</p></td>
                            </tr>
                        </tfoot>
                        <tbody>
{proj_row}                        </tbody>
                    </table>
            </article>"""
    tab7 = f"""            <article aria-labelledby="state-area-data">
            <h2 id="state-area-data"><span>    State &amp; Area Data</span></h2>
<p>    Explore resources for employment and wages by state and area for     {esc(lower)}.</p>
            </article>"""
    if raw:
        table_open = '<table class="display" id="similar-occupations">'
        table_close = "</table>"
        head_row = ('<tr><th id="similar-occupations-0-0" role="columnheader" scope="col"> </th><th id="similar-occupations-0-1" role="columnheader" scope="col">    Occupation</th>'
                    '<th id="similar-occupations-0-2" role="columnheader" scope="col">    Job Duties</th><th style="width: 180px" id="similar-occupations-0-3" role="columnheader" scope="col">    ENTRY-LEVEL EDUCATION </th>'
                    '<th style="width: 140px" id="similar-occupations-0-4" role="columnheader" scope="col">2024  MEDIAN PAY </th></tr>')
    else:
        table_open = ('<div id="similar-occupations_wrapper" class="dataTables_wrapper no-footer">'
                      '<table class="display dataTable no-footer" id="similar-occupations" role="grid">')
        table_close = "</table></div>"
        head_row = ('<tr role="row"><th id="similar-occupations-0-0" role="columnheader" scope="col" class="sorting_disabled" rowspan="1" colspan="1" aria-label="" style="width: 72px;"> </th>'
                    '<th id="similar-occupations-0-1" role="columnheader" scope="col" class="sorting_asc" tabindex="0" aria-controls="similar-occupations" rowspan="1" colspan="1" aria-sort="ascending" aria-label="Occupation: activate to sort column descending" style="width: 188.477px;">    Occupation</th>'
                    '<th id="similar-occupations-0-2" role="columnheader" scope="col" class="sorting_disabled" rowspan="1" colspan="1" aria-label="Job Duties" style="width: 311.695px;">    Job Duties</th>'
                    '<th style="width: 180px" id="similar-occupations-0-3" role="columnheader" scope="col" class="sorting" tabindex="0" aria-controls="similar-occupations" rowspan="1" colspan="1">    ENTRY-LEVEL EDUCATION </th>'
                    '<th style="width: 140px" id="similar-occupations-0-4" role="columnheader" scope="col" class="sorting" tabindex="0" aria-controls="similar-occupations" rowspan="1" colspan="1">2024  MEDIAN PAY </th></tr>')
    tab8 = f"""            <h2 id="similar-jobs"><span>    Similar Occupations</span></h2>
<p>    This table shows a list of occupations with job duties that are similar to those of {esc(lower)}.</p>
                    {table_open}
                        <thead>
                            {head_row}
                        </thead>
                        <tbody>
{_similar_rows(similar, raw, ctx)}</tbody>
                    {table_close}"""
    onet_links = "".join(
        f'<p><a class="external" target="_blank" href="https://www.onetonline.org/link/summary/{esc(c)}" rel="noopener noreferrer">{esc(t)}</a></p>\n'
        for c, t, _d in occ.onet)
    tab9 = f"""            <article aria-labelledby="more-information">
            <h2 id="more-information"><span>    Contacts for More Information</span></h2>
<p>For information about certifications, visit <a class="external" href="https://www.careeronestop.org/Toolkit/Training/find-certifications.aspx?newsearch=true" target="_blank" rel="noopener noreferrer">CareerOneStop</a>.</p>
<h3>O*NET</h3>
{onet_links}{credit}
            </article>"""
    tabs = [tab1, tab2, tab3, tab4, tab5, tab6, tab7, tab8, tab9]
    panes = '<div id="panes">\n' + "".join(_tab(i + 1, raw, t, first=(i == 0)) for i, t in enumerate(tabs)) + "    </div>"
    return _page(title, occ.group, occ.slug, occ.summary, ctx.lastmod, panes)


# --- listing pages ---------------------------------------------------------------------------
def _simple(title: str, group: str, body: str, ctx: Ctx, slug: str = "home") -> str:
    panes = f'<div id="panes">\n        <div id="tab-1">\n{body}\n        </div>\n    </div>'
    return _page(title, group, slug, title, ctx.lastmod, panes)


def render_group(m: tuple, ctx: Ctx) -> str:
    """An occupation group page: table#landing-page-table like the real one."""
    _kind, group, entries = m
    rows = []
    for slug, _g, title, summary, edu, annual in entries:
        href = f"/ooh/{group}/{slug}.htm"
        if ctx.faults and h64("utm", slug) % 8 == 0:
            href += "?utm_source=ooh&utm_medium=group-page"
        pay = f"{money(annual)} per year" if annual else "This wage is not available."
        rows.append(f'<tr><td><img src="/ooh/images/{h64("img", slug) % 9000 + 1000}.jpg" alt="{esc(title)}" width="100" height="70"></td>'
                    f'<td><h4><a href="{href}">{esc(title)}</a></h4></td><td><p>{esc(summary)}</p></td>'
                    f'<td>{esc(edu or "See How to Become One")}</td><td>{pay}</td></tr>\n')
    if ctx.faults and group == "healthcare":
        rows.append(f'<tr><td></td><td><h4><a href="{MISSING_OCCUPATION}">Medical Billing Specialists</a></h4></td>'
                    "<td><p>Medical billing specialists prepare insurance claims.</p></td><td>Postsecondary nondegree award</td><td>$48,780 per year</td></tr>\n")
    name = GROUP_NAMES[group]
    body = (f'<h2>{esc(name)} Occupations</h2>\n<table id="landing-page-table" class="display">\n<thead><tr><th>&nbsp;</th><th>OCCUPATION</th>'
            f'<th>JOB SUMMARY</th><th>ENTRY-LEVEL EDUCATION</th><th>2024 MEDIAN PAY</th></tr></thead>\n<tbody>\n{"".join(rows)}</tbody>\n</table>')
    return _simple(f"{name} Occupations", group, body, ctx)


def render_home(ctx: Ctx) -> str:
    """The OOH home page: links to every occupation group and the A-Z index."""
    items = "".join(f'<li><a href="/ooh/{g}/home.htm">{esc(GROUP_NAMES[g])}</a></li>\n' for g in occ_mod.groups())
    body = (f'<h2>Occupation Groups</h2>\n<ul class="ooh-groups">\n{items}</ul>\n'
            '<p><a href="/ooh/a-z/index.htm">A-Z Index</a> | <a href="/ooh/ooh-site-map.htm">OOH Site Map</a> | '
            f'<a href="{FINDER}">Occupation Finder</a></p>')
    return _simple("Occupational Outlook Handbook", "", body, ctx, slug="home")


def render_site_map(ctx: Ctx) -> str:
    """Every group and occupation, like the OOH site map."""
    parts = []
    for g in occ_mod.groups():
        occs = "".join(f'<li><a href="{o.path}">{esc(o.title)}</a></li>' for o in occ_mod.occupations() if o.group == g)
        parts.append(f'<h3><a href="/ooh/{g}/home.htm">{esc(GROUP_NAMES[g])}</a></h3>\n<ul>{occs}</ul>\n')
    return _simple("OOH Site Map", "", "<h2>OOH Site Map</h2>\n" + "".join(parts), ctx, slug="ooh-site-map")


def render_static(kind: str, ctx: Ctx) -> str:
    """The FAQ and the how-to-find-a-job pages."""
    if kind == "faq":
        body = ("<h2>Frequently Asked Questions</h2>\n<h3>What is the Occupational Outlook Handbook?</h3>\n"
                "<p>The Occupational Outlook Handbook describes what workers do, their pay, and the education they need.</p>\n"
                '<h3>How can I find an occupation?</h3>\n<p>Browse the <a href="/ooh/a-z/index.htm">A-Z Index</a> or an occupation group.</p>')
        return _simple("OOH FAQs", "", body, ctx, slug="ooh-faqs")
    body = ("<h2>How to Find a Job</h2>\n<p>Research occupations, prepare a resume, and use your network.</p>\n"
            '<p>Start with the <a href="/ooh/">Occupational Outlook Handbook</a>.</p>')
    return _simple("How to Find a Job", "", body, ctx, slug="how-to-find-a-job")


def render_finder(args: tuple, ctx: Ctx) -> str:
    """The occupation finder: an endless faceted space (robots.txt keeps crawlers out)."""
    pay, ed, training, growth, page = args
    n = int(page) if page.isdigit() else 1
    facets = {"pay": ["1", "2", "3", "4", "5"], "ed": [str(i) for i in range(1, 9)], "training": ["1", "2", "3", "4"],
              "growth": ["1", "2", "3", "4", "5"]}
    current = {"pay": pay, "ed": ed, "training": training, "growth": growth}
    links = []
    for name, values in facets.items():
        for v in values:
            q = dict(current, **{name: v})
            links.append(f'<a href="{FINDER}?' + "&amp;".join(f"{k}={q[k]}" for k in facets if q[k]) + f'">{name} {v}</a>')
    shown = sorted(occ_mod.occupations(), key=lambda o: h64("finder", pay, ed, training, growth, n, o.slug))[:10]
    results = "".join(f'<li><a href="{o.path}">{esc(o.title)}</a></li>' for o in shown)
    query = "&amp;".join(f"{k}={current[k]}" for k in facets if current[k])
    nxt = f'{FINDER}?{query + "&amp;" if query else ""}page={n + 1}'
    body = (f'<h2>Occupation Finder</h2>\n<div class="facets">{" | ".join(links)}</div>\n<ul>{results}</ul>\n'
            f'<p><a href="{nxt}">Next page</a></p>')
    return _simple("Occupation Finder", "", body, ctx, slug="occupation-finder")


def render(page: Page, m: object, ctx: Ctx) -> Body:
    """Render a careers page."""
    if page.kind == "occupation":
        occ = occ_mod.by_slug()[page.args[0]]
        if occ.real:
            return Body(real_page(occ.slug).encode("utf-8"))
        return Body(render_occupation(occ, m, ctx).encode("utf-8"))  # type: ignore[arg-type]
    if page.kind == "az":
        return Body(az_page().encode("utf-8"))
    if page.kind == "group":
        return Body(render_group(m, ctx).encode("utf-8"))  # type: ignore[arg-type]
    if page.kind == "home":
        return Body(render_home(ctx).encode("utf-8"))
    if page.kind == "sitemap_page":
        return Body(render_site_map(ctx).encode("utf-8"))
    if page.kind in ("faq", "findjob"):
        return Body(render_static(page.kind, ctx).encode("utf-8"))
    if page.kind == "finder":
        return Body(render_finder(page.args, ctx).encode("utf-8"))
    raise KeyError(page.kind)


@functools.cache
def real_page(slug: str) -> str:
    """A saved real OOH page with its bls.gov/ooh links made root-relative."""
    return rewrite_bls_links(data_load.saved_ooh_page(slug))


@functools.cache
def az_page() -> str:
    """The real A-Z index with its bls.gov/ooh links made root-relative."""
    return rewrite_bls_links((data_load.OOH_HTML_DIR / "a-z-index.html").read_text(encoding="utf-8"))


def static_lastmod(page: Page) -> dt.date | None:
    """Pages whose date never changes (the saved real pages), else None."""
    if page.kind == "az" or (page.kind == "occupation" and occ_mod.by_slug()[page.args[0]].real):
        return REAL_DATE
    return None
