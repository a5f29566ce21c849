"""Web side of scheduled crawls: the change feed as sentences grouped by run, admin schedule page, items-per-run
chart, "crawl now" (refused while the source's lock is held; a real detached child otherwise), dashboard health."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import pytest
from werkzeug.security import generate_password_hash

from catalog import Catalog
from collegesearch.config import load_settings
from model.items import Career, Institution, Program, Review
from ops.locks import crawl_lock_name, hold

PASSWORD = "scheduled crawls are fun"
HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = '<script>alert(1)</script>" onmouseover="x'


def program(pid: str, name: str, school: str, status: str = "accredited", **kw) -> Program:
    return Program(url=f"https://dir.example/program/{pid}", source="directory", program_id=pid, name=name,
                   institution_name=school, degree_level=kw.pop("degree_level", "associate"), accreditor="CAHIIM",
                   accreditation_status=status, state=kw.pop("state", "OH"), city=kw.pop("city", "Dayton"), **kw)


def career(pay: int) -> Career:
    return Career(url="https://ooh.example/mrs.htm", source="bls_ooh", soc_code="29-2072",
                  title="Medical Records Specialists", median_pay_annual=pay)


def institution(unitid: str, name: str) -> Institution:
    return Institution(url=f"https://nav.example/?id={unitid}", source="collegenavigator", unitid=unitid, name=name,
                       city="Macon", state="GA")


def review(rid: str, school: str, title: str) -> Review:
    return Review(url=f"https://reviews.example/{rid}", source="reviews", review_id=rid, institution_name=school,
                  institution_state="OH", rating=2, title=title, body="The labs were closed all term.")


def stats(new=0, changed=0, unchanged=0, removed=0, pages=10):
    return {"pages": pages, "items": {"new": new, "changed": changed, "unchanged": unchanged, "revived": 0,
                                      "removed": removed, "touched": 0}, "http_status": {"200": pages}}


@pytest.fixture
def web_settings(tmp_path):
    settings = load_settings(env={}, config_file=None, overrides={
        "DATA_DIR": str(tmp_path / "data"), "ADMIN_PASSWORD_HASH": HASH, "SOURCES": "directory,bls_ooh,reviews",
        "SCHEDULE_REVIEWS": "", "RETRY_MAX": 1, "SAMPLE_SITE_URL": "http://127.0.0.1:9"})
    with Catalog(settings.catalog_path) as cat:
        run1 = cat.start_run("directory", "schedule")
        cat.upsert(program("cahiim-1006", "Health Information Technology", "Ohio Valley Community College"),
                   run_id=run1)
        cat.upsert(program("cahiim-1143", "Health Information Management", "Lakeshore College", state="WI"),
                   run_id=run1)
        cat.upsert(program("cahiim-1200", HOSTILE, HOSTILE), run_id=run1)
        cat.upsert(career(50250), run_id=run1)
        cat.upsert(institution("100009", "Closing College"), run_id=run1)
        cat.finish_run(run1, status="ok", stats=stats(new=5), complete=True)
        run2 = cat.start_run("directory", "schedule")
        cat.upsert(program("cahiim-1006", "Health Information Technology", "Ohio Valley Community College",
                           "probation"), run_id=run2)
        cat.upsert(program("cahiim-1143", "Health Information Management", "Lakeshore College", "closed",
                           state="WI"), run_id=run2)
        cat.upsert(program("cahiim-2002", "Medical Coding", "Ohio Valley Community College",
                           degree_level="certificate"), run_id=run2)
        cat.upsert(career(52000), run_id=run2)
        cat.tombstone("institution", "100009", reason="page answered 404", run_id=run2)
        cat.upsert(review("r-1", "Ohio Valley Community College", "Labs closed"), run_id=run2)
        cat.finish_run(run2, status="ok", stats=stats(new=2, changed=3, unchanged=2, removed=1), complete=True)
        for trigger in ("schedule", "retry"):
            bad = cat.start_run("reviews", trigger)
            cat.finish_run(bad, status="failed", stats=stats(pages=3), error="mostly 5xx answers: 9 of 10 failed")
    add_pages(settings)
    return settings


HOSTILE_URL = f"https://reviews.example/r?q={HOSTILE}"
FAR_AHEAD, LONG_AGO = "2099-01-01T00:00:00.000000Z", "2001-01-01T00:00:00.000000Z"


def add_pages(settings) -> None:
    """Directory: one page within its interval, one overdue, one never scheduled; reviews: never scheduled."""
    clock = ["2026-01-01T00:00:00.000000Z"]
    with Catalog(settings.catalog_path, clock=lambda: clock[0]) as cat:
        cat.record_page("https://dir.example/program/cahiim-1006", source="directory", status=200, run_id=1,
                        body=b"a")
        cat.record_page(HOSTILE_URL, source="reviews", status=200, run_id=3, body=b"b")
        clock[0] = "2026-01-05T00:00:00.000000Z"
        for url in ("https://dir.example/program/cahiim-1143", "https://dir.example/program/cahiim-2002"):
            cat.record_page(url, source="directory", status=200, run_id=2, body=url.encode())
        cat.record_page("https://reviews.example/r-1", source="reviews", status=200, run_id=3, body=b"c")
        cat.set_page_schedule("https://dir.example/program/cahiim-1006", 86400, LONG_AGO)
        cat.set_page_schedule("https://dir.example/program/cahiim-1143", 7 * 86400, FAR_AHEAD)
        # A fetch schedules its page; these stand for pages fetched before the schedule existed.
        for url in ("https://dir.example/program/cahiim-2002", HOSTILE_URL, "https://reviews.example/r-1"):
            assert cat.set_page_schedule(url, None, None)


# ``app``, ``client`` and ``admin_client`` come from tests/plugins/webapp.py, over this module's web_settings.


@pytest.fixture
def admin_password() -> str:
    """The password whose hash this module's ``web_settings`` holds."""
    return PASSWORD


@pytest.fixture
def admin(admin_client):
    """A logged-in admin client."""
    return admin_client


def token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match
    return match.group(1)


# -- change feed -------------------------------------------------------------------------------------


def test_feed_entries_read_as_sentences_with_categories(client):
    data = client.get("/changes.json?limit=100").get_json()
    by_id = {(c["id"], c["op"]): c for c in data["changes"]}
    hit = by_id[("cahiim-1006", "changed")]
    assert hit["sentence"] == "Probation: Health Information Technology at Ohio Valley Community College (was Accredited)"
    assert hit["category"] == "status_change" and hit["headline"] == "Probation"
    closed = by_id[("cahiim-1143", "changed")]
    assert closed["category"] == "closed_program"
    assert closed["sentence"] == "Closed: Health Information Management at Lakeshore College (was Accredited)"
    new = by_id[("cahiim-2002", "new")]
    assert new["category"] == "new_program"
    assert new["sentence"] == ("New program: Medical Coding at Ohio Valley Community College (Certificate, "
                               "Dayton, OH); accredited by CAHIIM")
    # A program that changed since it was new: its status now is not quoted as its status back then.
    first = by_id[("cahiim-1006", "new")]
    assert first["sentence"].endswith("(Associate degree, Dayton, OH); CAHIIM"), first["sentence"]
    pay = by_id[("29-2072", "changed")]
    assert pay["sentence"] == "Pay: Medical Records Specialists median pay $50,250 \u2192 $52,000 (+3.5%)"
    gone = by_id[("100009", "deleted")]
    assert gone["category"] == "institution_removed" and gone["sentence"].startswith("College removed: Closing College")
    assert gone["detail_url"] is None
    assert by_id[("r-1", "new")]["sentence"] == ("New review of Ohio Valley Community College rated 2 out of 5: "
                                                 "\u201cLabs closed\u201d")


def test_feed_is_grouped_by_run_and_day_with_counts(client, web_settings):
    data = client.get("/changes.json?limit=100").get_json()
    groups = data["groups"]
    assert [g["run_id"] for g in groups] == [2, 1]
    newest = groups[0]
    assert newest["run"]["source"] == "directory" and newest["run"]["trigger"] == "schedule"
    assert newest["counts"] == {"status_change": 1, "closed_program": 1, "new_program": 1, "pay_change": 1,
                                "institution_removed": 1, "new_review": 1}
    assert "1 status change" in newest["summary"] and "1 new review" in newest["summary"]
    assert sorted(newest["seqs"]) == sorted(c["seq"] for c in data["changes"] if c["run_id"] == 2)
    html = client.get("/changes").text
    assert "run #2 (schedule)" in html and "Probation: Health Information Technology" in html


@pytest.mark.parametrize("query, expected", [
    ("what=status", {("cahiim-1006", "changed"), ("cahiim-1143", "changed")}),
    ("what=pay", {("29-2072", "changed")}),
    ("what=removed", {("100009", "deleted")}),
    ("what=reviews", {("r-1", "new")}),
    ("what=status&state=WI", {("cahiim-1143", "changed")}),
    ("what=new&kind=program&run_id=2", {("cahiim-2002", "new")}),
    ("what=pay&kind=program", set()),
    ("kind=institution", {("100009", "new"), ("100009", "deleted")}),
])
def test_feed_filters(client, query, expected):
    data = client.get(f"/changes.json?{query}").get_json()
    assert {(c["id"], c["op"]) for c in data["changes"]} == expected


def test_bad_filters_are_400_json(client):
    response = client.get("/changes.json?what=everything")
    assert response.status_code == 400 and response.get_json()["error"] == "bad_parameter"


def test_atom_titles_are_the_sentences_and_text_is_escaped(client):
    atom = client.get("/changes.atom?kind=program")
    root = ET.fromstring(atom.data)
    titles = [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    assert "Probation: Health Information Technology at Ohio Valley Community College (was Accredited)" in titles
    assert any(HOSTILE in (t or "") for t in titles)  # kept as text, parsed back intact: it was escaped
    html = client.get("/changes?kind=program").text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- admin ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/admin/schedule", "/admin/changes"])
def test_new_admin_pages_refuse_anonymous_users(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert client.post("/admin/crawl/directory", data={}).status_code in (400, 403)


def test_schedule_page_shows_next_runs_health_chart_and_buttons(admin):
    html = admin.get("/admin/schedule").text
    assert "Times are in America/New_York" in html
    assert re.search(r"<code>30 2 \* \* \*</code></td>\s*<td>\w{3} \d{4}-\d\d-\d\d 02:30:00 E[SD]T", html)
    assert "reviews failing" in html and "mostly 5xx answers" in html  # RETRY_MAX=1: two failures = failing
    assert 'action="/admin/crawl/directory"' in html and "Crawl directory now" in html
    assert "Scheduler:" in html and "not running" in html
    svg = re.search(r"<svg viewBox=\"0 0 720 260\".*?</svg>", html, re.S).group(0)
    assert "style=" not in svg and "<script" not in svg
    assert svg.count("<title>Run #") == 4
    assert "Run #4 reviews (retry)" in svg and "failed" in svg
    assert 'stroke="#b00020"' in svg  # failed runs are marked
    assert "<polyline" in svg  # two runs of one source make a line


def test_runs_page_and_dashboard_get_their_blocks_filled(admin):
    runs = admin.get("/admin/runs").text
    assert "Items per run" in runs and "<svg" in runs and "Crawl a source now" in runs
    assert "#1" in runs  # the original runs table is still there
    only = admin.get("/admin/runs?source=reviews").text
    assert "Items per run: reviews" in only and only.count("<title>Run #") == 2
    dashboard = admin.get("/admin/").text
    assert "Crawl health" in dashboard and "reviews failing" in dashboard
    assert "Next runs" in dashboard and "directory:" in dashboard
    assert "What changed in the last day" in dashboard
    # The digest counts in the feed's own categories (a pay change, a closure, a status change...).
    digest = re.search(r'<h2 id="last-day-title">.*?</p>', dashboard, re.S).group(0)
    for part in ("1 status change", "1 closed program", "1 pay change", "1 college removed", "1 new review",
                 "4 new programs"):
        assert part in digest, (part, digest)
    changes = admin.get("/admin/changes").text
    assert "In the last day" in changes and "Probation: Health Information Technology" in changes
    assert 'href="/admin/changes?run_id=2"' in changes


def freshness_rows(html: str) -> dict[str, str]:
    """The rows of the page freshness table, by source."""
    table = re.search(r'<table class="data-table freshness-table">.*?</table>', html, re.S)
    assert table, "no page freshness table"
    return {re.search(r'<th scope="row">([^<]+)</th>', row).group(1): row
            for row in re.findall(r"<tr>.*?</tr>", table.group(0), re.S) if 'scope="row"' in row}


def test_schedule_page_shows_page_freshness_per_source(admin, web_settings):
    html = admin.get("/admin/schedule").text
    rows = freshness_rows(html)
    assert set(rows) == {"directory", "reviews"}
    directory = rows["directory"]
    assert "<td>3</td>" in directory and "33.3% <span class=\"muted\">(1 within their interval)" in directory
    assert "<td>2 <span class=\"muted\">(1 never scheduled)</span></td>" in directory  # overdue + never scheduled
    assert f'<time datetime="{FAR_AHEAD}">' in directory
    assert re.search(r"fetched [\d,]+ days ago, <time datetime=\"2026-01-01T00:00:00.000000Z\">Jan 1, 2026 00:00 UTC"
                     r"</time>:\s*<a href=\"https://dir.example/program/cahiim-1006\"", directory)
    # Reviews' pages were fetched before the schedule existed: said plainly, not 0%.
    reviews = rows["reviews"]
    assert "not scheduled yet" in reviews and "%" not in reviews and "<td>2 " in reviews
    assert "reviews: none of its 2 page(s) has a revisit schedule yet" in html
    assert "directory: 1 of 3 page(s) have no revisit schedule yet and count as due." in html
    # The oldest page's URL is crawled text: escaped like everything else.
    assert "<script>alert(1)" not in html and "q=&lt;script&gt;alert(1)&lt;/script&gt;" in reviews


def test_runs_page_freshness_and_api_status_read_the_same_figures(admin, client, web_settings):
    from ops.status import status_report

    only = admin.get("/admin/runs?source=directory").text
    assert "Page freshness: directory" in only and set(freshness_rows(only)) == {"directory"}
    assert set(freshness_rows(admin.get("/admin/runs").text)) == {"directory", "reviews"}
    api = client.get("/api/status").get_json()["freshness"]
    report = status_report(web_settings).freshness
    steady = ("source", "pages", "fresh", "due", "unscheduled", "scheduled", "fresh_share", "oldest_url",
              "oldest_fetch", "next_due", "next_due_local", "note")
    assert [{k: f[k] for k in steady} for f in api] == [{k: f[k] for k in steady} for f in report]
    assert [(f["source"], f["fresh"], f["due"]) for f in api] == [("directory", 1, 2), ("reviews", 0, 2)]


def test_crawl_now_is_refused_while_the_source_is_being_crawled(admin, web_settings):
    page = admin.get("/admin/schedule").text
    with hold(web_settings, crawl_lock_name("directory"), purpose="crawl (schedule)"):
        busy_page = admin.get("/admin/schedule").text
        assert "Crawl directory now" not in busy_page and "running" in busy_page
        response = admin.post("/admin/crawl/directory", data={"csrf_token": token(page)}, follow_redirects=True)
    assert response.status_code == 200
    assert "directory is already being crawled" in response.text and "(crawl (schedule))" in response.text
    assert not (web_settings.data_dir / "logs" / "crawl-directory.log").exists()  # nothing was started


def test_crawl_now_needs_csrf_and_a_known_source(admin):
    page = admin.get("/admin/schedule").text
    assert admin.post("/admin/crawl/directory", data={}).status_code == 400
    assert admin.post("/admin/crawl/no-such-source", data={"csrf_token": token(page)}).status_code == 404


def test_crawl_now_starts_a_detached_crawl_child(admin, web_settings):
    page = admin.get("/admin/schedule").text
    response = admin.post("/admin/crawl/directory", data={"csrf_token": token(page), "next": "/admin/runs"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/runs")
    flashed = admin.get("/admin/runs").text
    assert "Crawl of directory started (process" in flashed
    # The child is a real `collegesearch crawl directory --trigger admin --sync`; the sample site URL points
    # at a dead port, so it fails at once, and the failure is recorded as an admin run.
    log = web_settings.data_dir / "logs" / "crawl-directory.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with Catalog(web_settings.catalog_path, readonly=True) as cat:
            runs = [r for r in cat.list_runs("directory") if r.trigger == "admin"]
        if runs:
            break
        time.sleep(0.2)
    assert runs and runs[0].status == "failed" and "no sample site answers at http://127.0.0.1:9" in runs[0].error
    assert "error: no sample site answers" in log.read_text()
    with Catalog(web_settings.catalog_path, readonly=True) as cat:
        requested = cat.list_schedule_events("directory", events=["requested"])
    assert requested and "admin: crawl now" in requested[0].detail
