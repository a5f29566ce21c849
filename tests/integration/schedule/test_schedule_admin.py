"""An admin's "crawl now" on a live site: a detached `collegesearch crawl SOURCE --trigger admin --sync` child
(the web app never runs Scrapy), a second click while it runs is refused with a flash message, and the run
lands in the catalog with its index sync."""

from __future__ import annotations

import re

from werkzeug.security import generate_password_hash

from collegesearch.config import load_settings
from tests.integration.schedule.schedule_helpers import mini_sites, runs, wait_for

PASSWORD = "crawl it now please"


def token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_admin_crawl_now_starts_one_detached_crawl(tmp_path, fresh_sample_site):
    from webapp import create_app

    site = fresh_sample_site(faults=False)
    data = tmp_path / "data"
    sites = mini_sites(tmp_path / "sites.toml", site, {})
    settings = load_settings(env={}, config_file=None, overrides={
        "DATA_DIR": str(data), "SITES_FILE": str(sites), "SOURCES": "directory", "SAMPLE_SITE_URL": site.base_url,
        "ADMIN_PASSWORD_HASH": generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")})
    client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    login = client.get("/admin/login")
    assert client.post("/admin/login", data={"password": PASSWORD, "csrf_token": token(login.text)}).status_code == 302

    page = client.get("/admin/schedule").text
    assert "Crawl mini-a now" in page and "Crawl directory now" in page
    first = client.post("/admin/crawl/mini-a", data={"csrf_token": token(page)}, follow_redirects=True)
    assert "Crawl of mini-a started (process" in first.text
    pid = int(re.search(r"Crawl of mini-a started \(process (\d+)\)", first.text).group(1))
    # A second click while that crawl runs (or is still starting up) is refused: one crawl, not two.
    again = client.post("/admin/crawl/mini-a", data={"csrf_token": token(page)}, follow_redirects=True)
    assert f"mini-a is already being crawled (pid {pid}" in again.text, again.text
    assert "Crawl of mini-a started" not in again.text

    run = wait_for(lambda: next((r for r in runs(data, "mini-a") if r.status != "running" and r.index_sync), None),
                   120, "the admin's crawl and its index sync")
    assert run.trigger == "admin" and run.status == "ok" and run.pid == pid, (run.status, run.error)
    assert run.index_sync["status"] == "ok"
    assert [r.id for r in runs(data, "mini-a")] == [run.id]  # exactly one crawl ran
    log = (data / "logs" / "crawl-mini-a.log").read_text()
    assert "crawl mini-a (admin)" in log and "index sync:" in log
    # It is searchable at once (the child synced the index) and shows on the runs page with the chart.
    runs_page = client.get("/admin/runs").text
    assert f"Run #{run.id} mini-a (admin)" in runs_page
    hits = client.get("/api/search", query_string={"q": "janitors", "kind": "career"}).get_json()
    assert hits["total"] >= 1
