"""Two web nodes on one PostgreSQL catalog share what a load balancer may send to either: the signing key,
admin sessions (a logout ends them everywhere) and login rate limits (counted across nodes)."""

from __future__ import annotations

import shutil

from collegesearch.config import load_settings
from tests.unit.webapp.webapp_testdata import ADMIN_HASH, login


def _node(tmp_path, name, built_web_pg, url):
    from webapp import create_app

    built, _template = built_web_pg
    data = tmp_path / name
    shutil.copytree(built, data)
    settings = load_settings(env={}, config_file=None, overrides={
        "DATA_DIR": str(data), "DATABASE_URL": url, "ADMIN_PASSWORD_HASH": ADMIN_HASH, "LOGIN_RATE_LIMIT": 3})
    return create_app({"SETTINGS": settings, "TESTING": True})


def test_a_session_made_on_one_node_works_on_the_other_and_a_logout_ends_it_on_both(tmp_path, pg_server, built_web_pg):
    name = "shared_sessions"
    pg_server.psql(f'CREATE DATABASE "{name}" TEMPLATE "{built_web_pg[1]}"')
    url = pg_server.url(name)
    a, b = _node(tmp_path, "a", built_web_pg, url), _node(tmp_path, "b", built_web_pg, url)
    assert a.config["SECRET_KEY"] == b.config["SECRET_KEY"]  # made once, by the first node, in the database
    on_a = a.test_client()
    assert login(on_a).status_code == 302
    cookie = on_a.get_cookie("collegesearch_session")
    on_b = b.test_client()
    on_b.set_cookie("collegesearch_session", cookie.value)
    assert on_b.get("/admin/").status_code == 200  # the load balancer sent the next request to node B
    page = on_b.get("/admin/")
    from tests.unit.webapp.webapp_testdata import csrf_token

    assert on_b.post("/admin/logout", data={"csrf_token": csrf_token(page.text)}).status_code == 302
    assert on_a.get("/admin/").status_code == 302  # logged out on B: node A sends it to the login page


def test_login_attempts_are_counted_across_nodes(tmp_path, pg_server, built_web_pg):
    name = "shared_limits"
    pg_server.psql(f'CREATE DATABASE "{name}" TEMPLATE "{built_web_pg[1]}"')
    url = pg_server.url(name)
    a, b = _node(tmp_path, "a", built_web_pg, url), _node(tmp_path, "b", built_web_pg, url)
    codes = []
    for app in (a, b, a, b):
        codes.append(login(app.test_client(), password="wrong password").status_code)
    assert 429 not in codes[:3] and codes[3] == 429, codes  # the limit is 3 per client, whichever node counts


def test_crawl_now_on_a_web_node_queues_the_crawl_for_the_workers(tmp_path, pg_server, built_web_pg):
    from ops.queue import apply_queue_schema
    from tests.unit.webapp.webapp_testdata import csrf_token

    name = "crawl_now_queues"
    pg_server.psql(f'CREATE DATABASE "{name}" TEMPLATE "{built_web_pg[1]}"')
    url = pg_server.url(name)
    app = _node(tmp_path, "a", built_web_pg, url)
    apply_queue_schema(app.config["SETTINGS"])
    client = app.test_client()
    assert login(client).status_code == 302
    page = client.get("/admin/schedule")
    done = client.post("/admin/crawl/directory", data={"csrf_token": csrf_token(page.text)}, follow_redirects=True)
    assert done.status_code == 200 and "queued as job" in done.text
    jobs = pg_server.psql("SELECT task_name, status, args->>'source' FROM procrastinate_jobs", name).split()
    assert len(jobs) == 1 and jobs[0].endswith("|todo|directory"), jobs
    again = client.post("/admin/crawl/directory", data={"csrf_token": csrf_token(page.text)}, follow_redirects=True)
    assert "was already queued" in again.text  # a double click queues one crawl, not two
