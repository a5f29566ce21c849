"""Record fusion on the web: a program two sources list is one page, one line and one result, with its sources,
their disagreement, redirects from each source's own id, and what happens when a source stops listing it.

The catalog is built here: College Navigator lists a school and its CAHIIM program, the accreditor's directory
lists the same program (its own id ``cahiim-1006``), then a later directory crawl puts it on probation while
College Navigator still says accredited. A second program only the directory lists is the single-source
yardstick for the JSON shape.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from catalog import Catalog
from collegesearch.config import Settings, load_settings
from model.items import Institution, Program, make_program_id
from tests.unit.webapp.webapp_testdata import ATTR, HOSTILE, MRS, XSS, careers

UNITID = "200001"
SCHOOL = "Lakeshore Valley Community College"
CAHIIM = "CAHIIM"
CAHIIM_NAME = "Commission on Accreditation for Health Informatics and Information Management Education"
CN_NAME = "Health Information Technology (HIT) - Associate degree programs"
CN_ID = make_program_id(UNITID, CAHIIM_NAME, CN_NAME)
DIR_ID = "cahiim-1006"
SOLO_ID = "cahiim-2002"  # only the directory lists it
CN_URL = f"https://nces.ed.gov/collegenavigator/?id={UNITID}"
DIR_URL = "https://www.cahiim.org/programs/1006"

CN_DAY, DIR_DAY, PROBATION_DAY, LATER_DAY = "2025-01-10", "2025-01-11", "2025-03-02", "2025-04-01"
CN_LABEL, DIR_LABEL = "NCES College Navigator", "Accreditor program directory"


class DayClock:
    """A catalog clock on a chosen day whose timestamps still increase within it (change-log order)."""

    def __init__(self, day: str) -> None:
        self.day = day
        self._tick = 0

    def __call__(self) -> str:
        self._tick += 1
        return f"{self.day}T12:00:00.{self._tick:06d}Z"


def school() -> Institution:
    """The school as College Navigator lists it."""
    return Institution(url=CN_URL, source="collegenavigator", unitid=UNITID, name=SCHOOL, city="Toledo",
                       state="OH", zip="43604", control="public", level="2-year", accreditor="HLC",
                       accreditation_status="accredited", programs_offered=["Health Information Technology"])


def cn_program(**changes: Any) -> Program:
    """The HIT program as College Navigator lists it (DAPIP's name, the status it copied from CAHIIM)."""
    values: dict[str, Any] = dict(
        url=CN_URL, source="collegenavigator", program_id=CN_ID, institution_unitid=UNITID, institution_name=SCHOOL,
        name=CN_NAME, field="Health Information Technology", degree_level="associate", accreditor=CAHIIM,
        accreditor_name=CAHIIM_NAME, accreditation_status="accredited", accreditation_status_raw="Accredited",
        accredited_since="2010-05-01", next_review="2027-05-01", military_friendly=True, state="OH", city="Toledo",
    )
    values.update(changes)
    return Program(**values)


def dir_program(status: str = "accredited", **changes: Any) -> Program:
    """The HIT program as the accreditor's directory lists it (linked to the school by record linkage)."""
    values: dict[str, Any] = dict(
        url=DIR_URL, source="directory", program_id=DIR_ID, institution_unitid=UNITID, institution_name=SCHOOL,
        name="Health Information Technology", field="Health Information Technology", degree_level="associate",
        accreditor=CAHIIM, accreditor_name=CAHIIM_NAME, accreditation_status=status,
        accreditation_status_raw=status.capitalize(), accredited_since="2010-05-01", next_review="2027-05-01",
        delivery="online", state="OH", city="Toledo",
    )
    values.update(changes)
    return Program(**values)


def solo_program() -> Program:
    """A program only the directory lists, filled like the fused one (the single-source yardstick)."""
    return Program(
        url="https://www.cahiim.org/programs/2002", source="directory", program_id=SOLO_ID, institution_unitid=UNITID,
        institution_name=SCHOOL, name="Health Informatics", field="Health Informatics", degree_level="master",
        accreditor=CAHIIM, accreditor_name=CAHIIM_NAME, accreditation_status="accredited",
        accreditation_status_raw="Accredited", accredited_since="2015-01-01", next_review="2030-01-01",
        delivery="hybrid", military_friendly=False, state="OH", city="Toledo",
    )


def build_fused_catalog(path: Path) -> None:
    """Three crawls: College Navigator, the directory, then the directory again with the program on probation."""
    clock = DayClock(CN_DAY)
    with Catalog(path, clock=clock) as cat:
        run = cat.start_run("collegenavigator", "manual")
        for item in (school(), cn_program()):
            cat.upsert(item, run_id=run)
        cat.finish_run(run, status="ok", stats={"pages": 1}, complete=True)
        run = cat.start_run("bls_ooh", "manual")
        cat.upsert(careers()[0], run_id=run)  # Medical Records Specialists: its programs are HIT programs
        cat.finish_run(run, status="ok", stats={"pages": 1}, complete=True)
        clock.day = DIR_DAY
        run = cat.start_run("directory", "manual")
        for item in (dir_program(), solo_program()):
            cat.upsert(item, run_id=run)
        cat.finish_run(run, status="ok", stats={"pages": 2}, complete=True)
        clock.day = PROBATION_DAY
        run = cat.start_run("directory", "schedule")
        for item in (dir_program("probation"), solo_program()):
            cat.upsert(item, run_id=run)
        cat.finish_run(run, status="ok", stats={"pages": 2}, complete=True)
        cat.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture(scope="module")
def fused_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data dir with the fused catalog and its index, built once and copied per test."""
    from indexer.build import rebuild

    data = tmp_path_factory.mktemp("fused-web") / "data"
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data)})
    build_fused_catalog(settings.catalog_path)
    rebuild(settings)
    return data


@pytest.fixture
def web_settings(tmp_path: Path, fused_data: Path) -> Settings:
    """Settings over a private copy of the fused data dir (the shared app and client fixtures use it)."""
    data = tmp_path / "data"
    shutil.copytree(fused_data, data)
    return load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data)})


@pytest.fixture
def writer(web_settings: Settings) -> Iterator[Catalog]:
    """A writable connection to the app's catalog, its clock on a later day (a later crawl)."""
    with Catalog(web_settings.catalog_location, clock=DayClock(LATER_DAY)) as cat:
        yield cat


def assert_escaped(html: str) -> None:
    """No hostile markup from the data reaches the page unescaped."""
    for attack in (XSS, ATTR, 'href="javascript:', "href='javascript:"):
        assert attack not in html, f"unescaped {attack!r} in page"


def sources_rows(html: str) -> dict[str, dict[str, Any]]:
    """The program page's Sources table: source label -> its link, class, last-seen cell and facts."""
    doc = lxml.html.fromstring(html)
    (table,) = doc.xpath("//section[@aria-labelledby='sources-title']//table")
    headers = [th.text_content().strip() for th in table.xpath("./thead/tr/th")]
    assert headers == ["Source", "Last seen", "Facts shown from it"]
    rows = {}
    for tr in table.xpath("./tbody/tr"):
        head = tr.xpath("./th[@scope='row']")[0]
        cells = tr.xpath("./td")
        times = cells[0].xpath(".//time/@datetime")
        facts = cells[1].text_content().strip()
        rows[head.text_content().strip()] = {
            "href": (head.xpath("./a/@href") or [None])[0],
            "class": tr.get("class") or "",
            "last_seen_text": " ".join(cells[0].text_content().split()),
            "time": times[0] if times else None,
            "facts": [] if facts == "\u2014" else facts.split(", "),
        }
    return rows


def conflict_note(html: str) -> Any:
    """The "Sources disagree" note, or None."""
    found = lxml.html.fromstring(html).xpath("//div[@role='note' and contains(@class, 'conflicts')]")
    return found[0] if found else None


# -- one program, one line -------------------------------------------------------------


def test_institution_page_lists_the_program_once_naming_both_sources(client):
    page = client.get(f"/institutions/{UNITID}")
    assert page.status_code == 200
    doc = lxml.html.fromstring(page.text)
    lines = doc.xpath("//section[@id='programs']//ul[contains(@class, 'program-list')]/li")
    hrefs = [li.xpath("./a/@href")[0] for li in lines]
    assert sorted(hrefs) == sorted([f"/programs/{CN_ID}", f"/programs/{SOLO_ID}"])
    fused = next(li for li in lines if li.xpath("./a/@href")[0] == f"/programs/{CN_ID}")
    assert fused.xpath("./a")[0].text_content() == CN_NAME  # College Navigator is the authority for the name
    assert " ".join(fused.xpath(".//span[contains(@class, 'sources-line')]")[0].text_content().split()) == \
        f"(listed by {CN_LABEL} and {DIR_LABEL})"
    solo = next(li for li in lines if li is not fused)
    assert solo.xpath(".//span[contains(@class, 'sources-line')]")[0].text_content() == f"(listed by {DIR_LABEL})"
    # The programmatic accreditation table has one row for it too, with the directory's status.
    rows = doc.xpath("//table[ancestor::div[@aria-label='Programmatic accreditation']]/tbody/tr")
    assert [r.xpath("./th/a/@href")[0] for r in rows].count(f"/programs/{CN_ID}") == 1
    assert len(rows) == 2
    assert f"/programs/{DIR_ID}" not in page.text


def test_institution_api_lists_the_program_once_with_its_sources(client):
    body = client.get(f"/api/institutions/{UNITID}").get_json()
    by_id = {p["id"]: p for p in body["programs"]}
    assert set(by_id) == {CN_ID, SOLO_ID}
    assert by_id[CN_ID]["sources"] == [{"source": "collegenavigator", "label": CN_LABEL},
                                       {"source": "directory", "label": DIR_LABEL}]
    assert by_id[CN_ID]["accreditation_status"] == "probation"


def test_search_and_career_programs_show_the_program_once(client):
    search = client.get("/api/search?q=health+information+technology&kind=program").get_json()
    ids = [r["id"] for r in search["results"]]
    assert ids.count(f"program:{CN_ID}") == 1 and f"program:{DIR_ID}" not in ids
    career = client.get(f"/api/careers/{MRS}").get_json()
    program_ids = [p["id"] for p in career["programs"]["items"]]
    assert program_ids.count(CN_ID) == 1 and DIR_ID not in program_ids
    html = client.get(f"/careers/{MRS}").text
    assert html.count(f'href="/programs/{CN_ID}"') >= 1 and f"/programs/{DIR_ID}" not in html


# -- the program page: sources and their disagreement -----------------------------------


def test_program_page_shows_both_sources_with_links_last_seen_and_their_facts(client):
    page = client.get(f"/programs/{CN_ID}")
    assert page.status_code == 200
    rows = sources_rows(page.text)
    assert set(rows) == {CN_LABEL, DIR_LABEL}
    cn, directory = rows[CN_LABEL], rows[DIR_LABEL]
    assert cn["href"] == CN_URL and directory["href"] == DIR_URL
    assert cn["time"].startswith(CN_DAY) and cn["last_seen_text"] == "Jan 10, 2025"
    assert directory["time"].startswith(PROBATION_DAY) and directory["last_seen_text"] == "Mar 2, 2025"
    assert "muted" not in cn["class"] and "muted" not in directory["class"]
    # Each source's facts are the fields it is the authority for.
    # They are named as the page names them; bookkeeping fields (raw text, the school's id) are not listed.
    for fact in ("Accreditation status", "Accredited since", "Next review", "Delivery"):
        assert fact in directory["facts"] and fact not in cn["facts"]
    for fact in ("Name", "Field of study", "School", "Military friendly"):
        assert fact in cn["facts"] and fact not in directory["facts"]
    assert not any("raw" in f.lower() or "unitid" in f.lower() for f in cn["facts"] + directory["facts"])
    # The facts shown are the winners': the directory's status, College Navigator's name.
    doc = lxml.html.fromstring(page.text)
    assert doc.xpath("//h1")[0].text_content() == CN_NAME
    assert "On probation" in doc.xpath("//p[@class='status-line']")[0].text_content()


def test_program_page_says_which_sources_disagree(client):
    note = conflict_note(client.get(f"/programs/{CN_ID}").text)
    assert note is not None
    assert note.xpath(".//h2")[0].text_content() == "Sources disagree"
    (item,) = note.xpath(".//li")
    assert item.get("data-field") == "accreditation_status"
    assert " ".join(item.text_content().split()) == (
        f"Accreditation status: {DIR_LABEL}: On probation since {PROBATION_DAY}; {CN_LABEL} still lists Accredited"
    )


def test_single_source_program_has_no_conflict_note_and_one_source(client):
    html = client.get(f"/programs/{SOLO_ID}").text
    assert conflict_note(html) is None and "Sources disagree" not in html
    rows = sources_rows(html)
    assert list(rows) == [DIR_LABEL] and "Accreditation status" in rows[DIR_LABEL]["facts"]


def test_program_api_adds_sources_and_conflicts_and_keeps_every_field(client, web_settings):
    fused = client.get(f"/api/programs/{CN_ID}").get_json()
    solo = client.get(f"/api/programs/{SOLO_ID}").get_json()
    # The shape a single-source program had before fusion: same keys, same types, two new lists.
    assert list(fused) == list(solo) == ["program", "meta", "institution", "history", "sources", "conflicts"]
    for part in ("program", "meta", "institution"):
        assert set(fused[part]) == set(solo[part]), part
        for key, value in solo[part].items():
            if value is not None and fused[part][key] is not None:
                assert type(fused[part][key]) is type(value), (part, key)
    with Catalog(web_settings.catalog_location, readonly=True) as cat:
        observed = cat.get("program", DIR_ID)
    assert observed is not None
    assert set(fused["program"]) == set(observed.data) | {"id"}
    assert set(fused["history"][0]) == set(solo["history"][0])
    assert fused["program"]["id"] == fused["program"]["program_id"] == CN_ID
    assert fused["program"]["accreditation_status"] == "probation" and fused["program"]["delivery"] == "online"
    assert fused["program"]["name"] == CN_NAME
    assert fused["institution"]["id"] == UNITID
    assert fused["history"][-1]["status_changed"] and fused["history"][-1]["status"] == "probation"
    assert fused["history"][-1]["previous_status"] == "accredited"

    assert [s["source"] for s in fused["sources"]] == ["collegenavigator", "directory"]
    cn, directory = fused["sources"]
    assert set(cn) == {"source", "label", "url", "last_seen", "first_seen", "fields", "facts", "record_id", "live",
                       "removed_at"}
    assert cn["record_id"] == CN_ID and directory["record_id"] == DIR_ID
    assert cn["url"] == CN_URL and directory["url"] == DIR_URL and directory["label"] == DIR_LABEL
    assert cn["live"] is directory["live"] is True and cn["removed_at"] is directory["removed_at"] is None
    assert directory["first_seen"].startswith(DIR_DAY) and directory["last_seen"].startswith(PROBATION_DAY)
    assert "accreditation_status" in directory["fields"] and "name" in cn["fields"]

    (conflict,) = fused["conflicts"]
    assert conflict["field"] == "accreditation_status" and conflict["value"] == "probation"
    assert conflict["source"] == "directory" and conflict["since"].startswith(PROBATION_DAY)
    assert [(o["source"], o["value"]) for o in conflict["others"]] == [("collegenavigator", "accredited")]
    assert conflict["others"][0]["since"].startswith(CN_DAY)
    assert conflict["message"] == f"{DIR_LABEL}: On probation since {PROBATION_DAY}; {CN_LABEL} still lists Accredited"

    assert len(solo["sources"]) == 1 and solo["sources"][0]["record_id"] == SOLO_ID and solo["conflicts"] == []


# -- old ids ---------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/programs/", "/api/programs/"])
def test_a_sources_own_id_redirects_to_the_fused_program_keeping_the_query(client, prefix):
    response = client.get(f"{prefix}{DIR_ID}?from=old-link&x=1%202")
    assert response.status_code == 301
    assert response.headers["Location"] == f"{prefix}{CN_ID}?from=old-link&x=1%202"
    plain = client.get(f"{prefix}{DIR_ID}")
    assert plain.status_code == 301 and plain.headers["Location"] == f"{prefix}{CN_ID}"
    assert client.get(plain.headers["Location"]).status_code == 200


def test_following_a_sources_own_id_follows_the_fused_program(client):
    followed = client.get(f"/changes.json?program={DIR_ID}").get_json()["changes"]
    assert followed and {c["id"] for c in followed} == {CN_ID}
    assert followed == client.get(f"/changes.json?program={CN_ID}").get_json()["changes"]


def test_unknown_program_ids_are_404(client):
    assert client.get("/programs/cahiim-999999").status_code == 404
    response = client.get("/api/programs/cahiim-999999")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_a_program_merged_into_another_redirects_to_it(client, writer):
    # The directory lists the program a second time, first unlinked (it stands alone), then record
    # linkage names the school: it joins the fused program and its own entity is merged away.
    duplicate = dir_program("probation", program_id="cahiim-1099", url="https://www.cahiim.org/programs/1099",
                            institution_unitid=None)
    writer.upsert(duplicate)
    writer.fuse_pending()
    assert client.get("/programs/cahiim-1099").status_code == 200
    writer.upsert(dir_program("probation", program_id="cahiim-1099", url="https://www.cahiim.org/programs/1099"))
    writer.fuse_pending()
    for prefix in ("/programs/", "/api/programs/"):
        response = client.get(f"{prefix}cahiim-1099?page=2")
        assert response.status_code == 301 and response.headers["Location"] == f"{prefix}{CN_ID}?page=2"


# -- a source stops listing it -----------------------------------------------------------


def test_when_the_directory_stops_listing_it_college_navigator_keeps_the_page(client, writer):
    assert writer.tombstone("program", DIR_ID, reason="no longer listed")
    writer.fuse_pending()
    page = client.get(f"/programs/{CN_ID}")
    assert page.status_code == 200
    rows = sources_rows(page.text)
    assert set(rows) == {CN_LABEL, DIR_LABEL}
    assert "muted" in rows[DIR_LABEL]["class"] and "muted" not in rows[CN_LABEL]["class"]
    assert rows[DIR_LABEL]["last_seen_text"] == "no longer listed (since Apr 1, 2025)"
    assert rows[DIR_LABEL]["facts"] == [] and "Accreditation status" in rows[CN_LABEL]["facts"]
    assert conflict_note(page.text) is None  # one live source cannot disagree with itself
    body = client.get(f"/api/programs/{CN_ID}").get_json()
    assert body["program"]["accreditation_status"] == "accredited" and body["conflicts"] == []
    gone = next(s for s in body["sources"] if s["source"] == "directory")
    assert gone["live"] is False and gone["removed_at"].startswith(LATER_DAY) and gone["fields"] == []
    # The directory's old link still leads to the program College Navigator lists.
    assert client.get(f"/programs/{DIR_ID}").headers["Location"] == f"/programs/{CN_ID}"
    institution = client.get(f"/api/institutions/{UNITID}").get_json()
    fused = next(p for p in institution["programs"] if p["id"] == CN_ID)
    assert fused["sources"] == [{"source": "collegenavigator", "label": CN_LABEL}]


def test_when_no_source_lists_it_the_program_is_gone(client, writer):
    writer.tombstone("program", DIR_ID, reason="no longer listed")
    writer.tombstone("program", CN_ID, reason="no longer listed")
    writer.fuse_pending()
    assert writer.fused.get("program", CN_ID) is None
    for url in (f"/programs/{CN_ID}", f"/api/programs/{CN_ID}", f"/programs/{DIR_ID}", f"/api/programs/{DIR_ID}"):
        assert client.get(url).status_code == 404, url
    institution = client.get(f"/api/institutions/{UNITID}").get_json()
    assert [p["id"] for p in institution["programs"]] == [SOLO_ID]


# -- escaping --------------------------------------------------------------------------


def test_hostile_source_values_in_a_conflict_are_escaped(client, writer):
    writer.upsert(cn_program(accredited_since=HOSTILE, next_review=XSS, url="javascript:alert(5)"))
    writer.fuse_pending()
    page = client.get(f"/programs/{CN_ID}")
    assert page.status_code == 200
    html = page.text
    assert_escaped(html)
    note = conflict_note(html)
    assert note is not None
    texts = {li.get("data-field"): " ".join(li.text_content().split()) for li in note.xpath(".//li")}
    assert texts["accredited_since"] == (
        f"Accredited since: {DIR_LABEL}: 2010-05-01 since {DIR_DAY}; {CN_LABEL} still lists {HOSTILE}"
    )
    assert texts["next_review"].endswith(f"{CN_LABEL} still lists {XSS}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The hostile link is shown as text, never as a link.
    assert sources_rows(html)[CN_LABEL]["href"] is None
    body = client.get(f"/api/programs/{CN_ID}").get_json()
    values = {c["field"]: c["others"][0]["value"] for c in body["conflicts"]}
    assert values["accredited_since"] == HOSTILE and values["next_review"] == XSS
