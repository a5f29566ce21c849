"""OOH page objects on the 40 saved real pages, checked against bls_ooh_occupations.csv."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import lxml.html
import pytest

from crawler.pages.bls_ooh import (
    AZIndexPage,
    CareerPage,
    OccupationIndexPage,
    is_occupation_url,
    occupation_key,
    page_for,
    with_aliases,
)
from model.items import Career

REAL_DATA = Path(__file__).resolve().parents[3] / "sample_site" / "data"
OOH_DIR = REAL_DATA / "bls_ooh_html"
SLUGS = sorted(p.stem for p in OOH_DIR.glob("*.html") if p.stem != "a-z-index")


@cache
def csv_rows() -> dict[str, dict[str, str]]:
    with (REAL_DATA / "bls_ooh_occupations.csv").open(encoding="utf-8") as fh:
        return {row["slug"]: row for row in csv.DictReader(fh)}


@cache
def career(slug: str) -> Career:
    row = csv_rows()[slug]
    page = page_for(row["url"], (OOH_DIR / f"{slug}.html").read_bytes())
    assert isinstance(page, CareerPage)
    items = page.to_items()
    assert len(items) == 1 and isinstance(items[0], Career)
    return items[0]


# Item field -> (CSV column, type). The CSV was scraped from these same pages by another project.
CSV_FIELDS = {
    "median_pay_annual": ("median_pay_annual", int),
    "median_pay_hourly": ("median_pay_hourly", float),
    "entry_education": ("entry_education", str),
    "work_experience": ("work_experience", str),
    "training": ("training", str),
    "jobs": ("num_jobs_2024", int),
    "projected_employment": ("projected_employment_2034", int),
    "outlook_pct": ("outlook_pct", float),
    "outlook_desc": ("outlook_desc", str),
    "employment_change": ("employment_change", int),
    "soc_code": ("soc_code", str),
    "group": ("category", str),
}

# Where the CSV fills in a value the page does not print, the page wins: these pages print
# only one of annual/hourly median pay in Quick Facts, and the CSV derived the other at 2,080
# hours a year. Each entry: (slug, field the page leaves empty, field the CSV derived it from).
PAGE_WINS = {
    ("kindergarten-and-elementary-school-teachers", "median_pay_hourly"): "median_pay_annual",
    ("umpires-referees-and-other-sports-officials", "median_pay_hourly"): "median_pay_annual",
    ("musicians-and-singers", "median_pay_annual"): "median_pay_hourly",
}


def expected(slug: str, field: str):
    column, typ = CSV_FIELDS[field]
    raw = csv_rows()[slug][column]
    return typ(raw) if raw != "" else None


def test_there_are_forty_saved_pages():
    assert len(SLUGS) == 40
    assert set(SLUGS) <= set(csv_rows())


@pytest.mark.parametrize("slug", SLUGS)
def test_page_matches_csv(slug):
    item = career(slug)
    mismatches = {}
    for field in CSV_FIELDS:
        got, want = getattr(item, field), expected(slug, field)
        if (slug, field) in PAGE_WINS:
            assert got is None, f"{slug}: the page prints no {field}, so the item must not invent one"
            continue
        if got != want:
            mismatches[field] = (got, want)
    assert not mismatches, f"{slug}: (page, csv) {mismatches}"


@pytest.mark.parametrize(("slug", "field"), sorted(PAGE_WINS))
def test_page_wins_cases_are_csv_derivations(slug, field):
    """The CSV value the page lacks is exactly the other figure converted at 2,080 hours."""
    source_field = PAGE_WINS[(slug, field)]
    csv_value = expected(slug, field)
    page_value = getattr(career(slug), source_field)
    assert page_value is not None and csv_value is not None
    derived = page_value / 2080 if field == "median_pay_hourly" else page_value * 2080
    assert csv_value == pytest.approx(derived, abs=0.51)


def test_page_wins_list_is_complete():
    """Every page prints both figures except the page-wins cases (so the list above is not stale)."""
    for slug in SLUGS:
        item = career(slug)
        missing = {f for f in ("median_pay_annual", "median_pay_hourly") if getattr(item, f) is None}
        assert missing == {f for (s, f) in PAGE_WINS if s == slug}, slug


def test_medical_records_specialists_contract():
    item = career("medical-records-and-health-information-technicians")
    assert item.median_pay_annual == 50250
    assert item.median_pay_hourly == 24.16
    assert item.pay_p10 == 35780
    assert item.pay_p90 == 80950
    assert item.soc_code == "29-2072"
    assert item.title == "Medical Records Specialists"
    assert item.summary == "Medical records specialists compile, process, and maintain patient files."
    assert item.outlook_pct == 7.0 and item.outlook_desc == "Much faster than average"
    assert item.employment_change == 13800
    assert item.group == "healthcare"
    assert item.updated == "2025-08-28"
    assert "Health Information Technologists and Medical Registrars" in item.similar_occupations
    assert "Medical Transcriptionists" in item.similar_occupations
    assert item.pay_raw and "lowest 10 percent earned less than $35,780" in item.pay_raw
    assert item.how_to_become and "postsecondary certificate" in item.how_to_become
    assert item.what_they_do and item.what_they_do.startswith("Medical records specialists compile")
    assert item.work_environment and "194,800 jobs" in item.work_environment
    assert item.source == "bls_ooh" and item.kind == "career"
    data = item.to_dict()
    assert data["kind"] == "career"


def test_percentiles_from_the_pay_prose():
    with_figures = 0
    for slug in SLUGS:
        item = career(slug)
        if item.pay_p10 is not None:
            with_figures += 1
            assert item.median_pay_annual is not None
            assert item.pay_p10 < item.median_pay_annual < item.pay_p90
            assert item.pay_raw and f"${item.pay_p10:,}" in item.pay_raw and f"${item.pay_p90:,}" in item.pay_raw
    # Musicians: the prose gives hourly percentiles, which are not annual wages.
    assert with_figures == 39
    assert career("musicians-and-singers").pay_p10 is None and career("musicians-and-singers").pay_p90 is None
    assert career("musicians-and-singers").pay_raw.startswith("The median hourly wage")
    assert career("architects").pay_p10 == 60510 and career("architects").pay_p90 == 159800
    # Pages whose prose only covers detailed occupations: the first passage, which names whom it describes.
    insulation = career("insulation-workers")
    assert (insulation.pay_p10, insulation.pay_p90) == (35950, 77160)
    assert insulation.pay_raw.startswith("The median annual wage for insulation workers, floor, ceiling, and wall")
    assert (career("software-developers").pay_p10, career("software-developers").pay_p90) == (79850, 211450)


def test_detailed_occupations_are_listed_but_are_not_aliases():
    masons = page_for(csv_rows()["brickmasons-blockmasons-and-stonemasons"]["url"],
                      (OOH_DIR / "brickmasons-blockmasons-and-stonemasons.html").read_bytes())
    assert masons.soc_code() is None  # the group row prints "—"
    assert "Stonemasons" in masons.detailed_occupations()
    # also_known_as holds other names for the occupation (the A-Z index adds them), not narrower ones.
    assert career("brickmasons-blockmasons-and-stonemasons").also_known_as == []
    assert career("architects").also_known_as == []


def test_every_page_has_the_long_texts_and_similar_occupations():
    for slug in SLUGS:
        item = career(slug)
        assert item.title and item.summary, slug
        assert item.what_they_do and item.work_environment and item.how_to_become, slug
        assert len(item.similar_occupations) >= 2, slug
        assert "About this section" not in (item.how_to_become or "")


def _unrender(html: bytes, reverse_similar: bool = False) -> bytes:
    """Undo what the page's JavaScript did: the outlook-table id, DataTables markup, hidden tabs."""
    doc = lxml.html.fromstring(html)
    for el in doc.xpath("//*[@id='outlook-table']"):
        del el.attrib["id"]
    for wrapper in doc.xpath("//div[contains(@class, 'dataTables_wrapper')]"):
        wrapper.drop_tag()
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("data-label", "role", "aria-sort", "aria-controls", "tabindex", "rowspan", "colspan"):
            if attr in el.attrib and (attr != "role" or el.attrib[attr] == "row"):
                if attr in ("rowspan", "colspan") and el.tag != "th":
                    continue
                del el.attrib[attr]
        classes = el.attrib.get("class", "").split()
        kept = [c for c in classes if not c.startswith(("sorting", "dataTable")) and c not in ("odd", "even", "no-footer")]
        if classes != kept:
            el.attrib["class"] = " ".join(kept)
        if el.attrib.get("style", "").replace(" ", "") == "display:none;" and (el.attrib.get("id") or "").startswith("tab-"):
            del el.attrib["style"]
    if reverse_similar:
        for tbody in doc.xpath("//table[@id='similar-occupations']/tbody"):
            rows = list(tbody)
            for row in rows:
                tbody.remove(row)
            for row in reversed(rows):
                tbody.append(row)
    return lxml.html.tostring(doc, encoding="utf-8", doctype="<!DOCTYPE html>")


@pytest.mark.parametrize("slug", ["medical-records-and-health-information-technicians", "dentists",
                                  "software-developers", "musicians-and-singers"])
def test_raw_and_rendered_pages_extract_the_same(slug):
    rendered = (OOH_DIR / f"{slug}.html").read_bytes()
    raw = _unrender(rendered, reverse_similar=True)
    stripped = lxml.html.fromstring(raw)
    assert not stripped.xpath("//*[@id='outlook-table'] | //*[@data-label] | //*[contains(@class, 'dataTable')]")
    assert lxml.html.fromstring(rendered).xpath("//*[@id='outlook-table']")
    url = csv_rows()[slug]["url"]
    [from_raw], [from_rendered] = page_for(url, raw).to_items(), page_for(url, rendered).to_items()
    # DataTables re-sorts the similar-occupations rows in the browser: same names, maybe another order.
    assert sorted(from_raw.similar_occupations) == sorted(from_rendered.similar_occupations)
    from_raw.similar_occupations = from_rendered.similar_occupations
    assert from_raw == from_rendered


def test_a_z_index_maps_job_titles_to_occupations():
    page = page_for("https://www.bls.gov/ooh/a-z-index.htm", (OOH_DIR / "a-z-index.html").read_bytes())
    assert isinstance(page, AZIndexPage)
    aliases = page.aliases()
    assert len(aliases) > 4000
    assert aliases["Computer Language Coder"] == (
        "https://www.bls.gov/ooh/computer-and-information-technology/computer-programmers.htm")
    by_key = page.aliases_by_key()
    assert "Health Information Coder" in by_key["/ooh/healthcare/medical-records-and-health-information-technicians.htm"]
    # Plain occupation entries (no "see:") are not aliases of themselves.
    assert "Computer hardware engineers" not in aliases
    assert page.to_items() == []
    assert len(page.occupation_links()) > 300


def test_with_aliases_adds_a_z_titles_without_duplicates():
    item = career("medical-records-and-health-information-technicians")
    copy = Career(**{k: v for k, v in item.__dict__.items()})
    copy.also_known_as = list(item.also_known_as)
    [merged] = with_aliases([copy], ["Medical Coder", "medical coder", "Medical Records Specialists", "Coder"])
    assert merged.also_known_as == ["Medical Coder", "Coder"]


def test_occupation_urls_and_keys():
    assert is_occupation_url("https://www.bls.gov/ooh/healthcare/dentists.htm")
    assert is_occupation_url("http://127.0.0.2:8800/ooh/healthcare/dentists.htm")
    assert not is_occupation_url("https://www.bls.gov/ooh/healthcare/home.htm")
    assert not is_occupation_url("https://www.bls.gov/ooh/about/ooh-faqs.htm")
    assert not is_occupation_url("https://www.bls.gov/ooh/a-z-index.htm")
    assert occupation_key("https://www.bls.gov/ooh/Healthcare/dentists.htm#tab-4") == "/ooh/healthcare/dentists.htm"
    assert occupation_key("http://127.0.0.2:9/ooh/healthcare/dentists.htm") == "/ooh/healthcare/dentists.htm"


def test_career_page_navigation():
    page = page_for("https://www.bls.gov/ooh/healthcare/medical-records-and-health-information-technicians.htm",
                    (OOH_DIR / "medical-records-and-health-information-technicians.html").read_bytes())
    links = page.similar_occupation_links()
    assert "https://www.bls.gov/ooh/healthcare/health-information-technologists-and-medical-registrars.htm" in links
    assert all(is_occupation_url(u) for u in links)
    assert "https://www.bls.gov/ooh/healthcare/home.htm" in page.group_links()
    assert set(links) <= set(page.occupation_links())


def test_group_page_lists_occupations():
    html = b"""<html><body><h1>Healthcare Occupations</h1><table id="landing-page-table"><tbody>
      <tr><td><a href="/ooh/healthcare/dentists.htm">Dentists</a></td></tr>
      <tr><td><a href="/ooh/healthcare/pharmacy-technicians.htm">Pharmacy Technicians</a></td></tr>
      <tr><td><a href="/ooh/healthcare/home.htm">Healthcare</a> <a href="/ooh/about/ooh-faqs.htm">FAQ</a></td></tr>
    </tbody></table></body></html>"""
    page = page_for("http://127.0.0.2:8800/ooh/healthcare/home.htm", html)
    assert isinstance(page, OccupationIndexPage)
    assert page.occupation_links() == ["http://127.0.0.2:8800/ooh/healthcare/dentists.htm",
                                       "http://127.0.0.2:8800/ooh/healthcare/pharmacy-technicians.htm"]
    assert page.group_links() == ["http://127.0.0.2:8800/ooh/healthcare/home.htm"]
    assert page.to_items() == []


def test_accreditors_named_on_a_career_page():
    html = (OOH_DIR / "medical-records-and-health-information-technicians.html").read_text(encoding="utf-8")
    html = html.replace("<h3>Education</h3>", "<h3>Education</h3><p>Programs accredited by the Commission on "
                        "Accreditation for Health Informatics and Information Management Education (CAHIIM) "
                        "prepare students for the RHIT exam; some hold CAAHEP accreditation.</p>", 1)
    item = page_for("https://www.bls.gov/ooh/healthcare/x.htm", html.encode()).to_items()[0]
    assert item.accreditors == ["CAHIIM", "CAAHEP"]
    assert career("medical-records-and-health-information-technicians").accreditors == []
