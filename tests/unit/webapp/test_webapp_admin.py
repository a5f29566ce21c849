"""Admin: disabled without a hash, refuses anonymous users and wrong passwords, login rate limit, cookie flags,
CSRF on every form, moderation that publishes and syncs the index, runs and index status."""

from __future__ import annotations

import pytest

from catalog import Catalog
from tests.unit.webapp.webapp_testdata import ADMIN_PASSWORD, GHC, csrf_token, login

# Each test runs with the catalog on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_backends

ADMIN_GET_PAGES = ("/admin/", "/admin/reviews", "/admin/reviews?status=approved", "/admin/runs", "/admin/runs/1",
                   "/admin/index")
ADMIN_POSTS = ("/admin/reviews/1/approve", "/admin/reviews/1/reject", "/admin/index/sync", "/admin/logout")


def make_app(web_settings, **overrides):
    from webapp import create_app

    return create_app({"SETTINGS": web_settings.replace(**overrides), "TESTING": True})


def add_pending(web_settings, **kw) -> int:
    data = dict(institution_unitid=GHC, institution_name="Georgia Health College", rating=5,
                body="Zyzzogeton lab equipment is modern and the teachers care.", category="academics",
                author_role="graduate", title="Wonderful zyzzogeton labs", client_hash="abc")
    data.update(kw)
    with Catalog(web_settings.catalog_location) as cat:
        return cat.add_user_review(**data)


@pytest.mark.parametrize("value, problem", [(None, "No admin password is configured"),
                                             ("plaintext-password", "not a Werkzeug password hash")])
def test_admin_is_disabled_until_a_valid_hash_is_set(web_settings, value, problem):
    client = make_app(web_settings, ADMIN_PASSWORD_HASH=value).test_client()
    for url in ADMIN_GET_PAGES + ("/admin/login",):
        page = client.get(url)
        assert page.status_code == 403, url
        assert problem in page.text and "flask --app webapp hash-password" in page.text
    post = client.post("/admin/login", data={"password": "plaintext-password"})
    assert post.status_code in (400, 403)


def test_anonymous_users_are_sent_to_login_and_refused_on_post(client):
    for url in ADMIN_GET_PAGES:
        page = client.get(url)
        assert page.status_code == 302, url
        assert "/admin/login?next=" in page.headers["Location"]
    token = csrf_token(client.get("/admin/login").text)
    for url in ADMIN_POSTS:
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url
        assert client.post(url).status_code == 400, url  # and without a token, CSRF stops it first


def test_wrong_password_is_refused(client):
    response = login(client, "not the password")
    assert response.status_code == 401 and "That password is not right" in response.text
    assert client.get("/admin/").status_code == 302


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/admin/login", data={"password": ADMIN_PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_login_rate_limit_per_client(client, app):
    for _ in range(4):  # LOGIN_RATE_LIMIT is 4 in these tests
        assert login(client, "guess").status_code == 401
    blocked = login(client, ADMIN_PASSWORD)  # even the right password waits now
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "Too many login attempts" in blocked.text
    assert client.get("/admin/").status_code == 302
    other = app.test_client()
    page = other.get("/admin/login", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    ok = other.post("/admin/login", data={"password": ADMIN_PASSWORD, "csrf_token": csrf_token(page.text)},
                    environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert ok.status_code == 302


def test_login_sets_a_session_cookie_with_safe_flags(client):
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("collegesearch_session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags and "samesite=lax" in flags and "secure" not in flags
    assert client.get("/admin/").status_code == 200


def test_secure_cookies_setting_adds_the_secure_flag(web_settings):
    client = make_app(web_settings, SECURE_COOKIES=True).test_client()
    response = login(client)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("collegesearch_session="))
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_login_does_not_redirect_off_site(client):
    page = client.get("/admin/login?next=https://evil.example/")
    response = client.post("/admin/login?next=https://evil.example/",
                           data={"password": ADMIN_PASSWORD, "csrf_token": csrf_token(page.text)})
    assert response.headers["Location"] == "/admin/"


def test_logout_needs_post_with_token(admin_client):
    assert admin_client.get("/admin/logout").status_code == 405
    assert admin_client.post("/admin/logout").status_code == 400
    token = csrf_token(admin_client.get("/admin/").text)
    assert admin_client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert admin_client.get("/admin/").status_code == 302


def test_dashboard_runs_and_index_pages(admin_client):
    html = admin_client.get("/admin/").text
    assert "Reviews to moderate" in html and "Latest crawl runs" in html
    assert "19 documents" in html and "(up to date)" in html
    runs = admin_client.get("/admin/runs").text
    assert 'href="/admin/runs/2">#2</a>' in runs and 'href="/admin/runs/1">#1</a>' in runs
    assert "<td>directory</td><td>schedule</td>" in runs
    detail = admin_client.get("/admin/runs/2").text
    assert "items_changed" in detail and "complete crawl" in detail
    assert admin_client.get("/admin/runs/999").status_code == 404
    index = admin_client.get("/admin/index").text
    assert "Sync the index now" in index and "(up to date)" in index
    # how far this server's index trails the change log, and whether `index follow` keeps it in step
    assert "This server's index, lag: up to date (last sync " in index and "follower not running" in index
    # the worker's own search cache: its segments, its use of SEARCH_CACHE_MB, its hit rate
    assert "1 segment;" in index and "of 256 MB" in index and "hit rate" in index


def test_admin_pages_are_not_cached(admin_client):
    assert admin_client.get("/admin/").headers["Cache-Control"] == "no-store"


def test_moderation_queue_approve_publishes_and_syncs_the_index(admin_client, web_settings):
    review_id = add_pending(web_settings)
    queue = admin_client.get("/admin/reviews").text
    assert "Wonderful zyzzogeton labs" in queue and f"/admin/reviews/{review_id}/approve" in queue
    token = csrf_token(queue)
    response = admin_client.post(f"/admin/reviews/{review_id}/approve", data={"csrf_token": token})
    assert response.status_code == 302
    flashed = admin_client.get(response.headers["Location"]).text
    assert "approved and published; the search index is up to date" in flashed
    published = admin_client.get(f"/reviews/user:{review_id}")
    assert published.status_code == 200 and "Wonderful zyzzogeton labs" in published.text
    assert "Wonderful zyzzogeton labs" in admin_client.get(f"/institutions/{GHC}").text
    found = admin_client.get("/api/search?q=zyzzogeton").get_json()
    assert [r["id"] for r in found["results"]] == [f"review:user:{review_id}"]
    # Approving twice does nothing.
    again = admin_client.post(f"/admin/reviews/{review_id}/approve", data={"csrf_token": token})
    assert "already moderated" in admin_client.get(again.headers["Location"]).text


def test_reject_keeps_it_off_the_site(admin_client, web_settings):
    review_id = add_pending(web_settings, title="Spammy zyzzogeton", body="Buy cheap zyzzogeton pills online now!!")
    token = csrf_token(admin_client.get("/admin/reviews").text)
    response = admin_client.post(f"/admin/reviews/{review_id}/reject", data={"csrf_token": token, "note": "spam"})
    assert response.status_code == 302
    assert admin_client.get(f"/reviews/user:{review_id}").status_code == 404
    rejected = admin_client.get("/admin/reviews?status=rejected").text
    assert "Spammy zyzzogeton" in rejected and "spam" in rejected


def test_moderation_escapes_hostile_reviews(admin_client, web_settings):
    add_pending(web_settings, title="<script>alert(1)</script>", body='" onmouseover="alert(2) and more text here')
    html = admin_client.get("/admin/reviews").text
    assert "<script>alert(1)</script>" not in html and '" onmouseover="alert(2)' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_sync_now_button(admin_client):
    token = csrf_token(admin_client.get("/admin/index").text)
    response = admin_client.post("/admin/index/sync", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Index synced: index sync: up to date" in admin_client.get("/admin/index").text


def test_runs_table_reads_the_crawlers_nested_item_counts(admin_client, web_settings):
    from catalog import Catalog

    with Catalog(web_settings.catalog_location) as cat:
        run = cat.start_run("reviews", "manual")
        cat.finish_run(run, status="ok", complete=True, stats={
            "pages": 77, "items": {"new": 5, "revived": 1, "changed": 3, "unchanged": 40, "touched": 2, "removed": 4}})
    html = admin_client.get("/admin/runs").text
    row = html[html.index(f'href="/admin/runs/{run}"'):]
    row = row[:row.index("</tr>")]
    assert "<td>77</td>" in row
    assert "<td>6</td><td>3</td>" in row and "<td>42</td><td>4</td>" in row


def _guess(client, forwarded_for: str):
    page = client.get("/admin/login", environ_base={"REMOTE_ADDR": "10.0.0.2"},
                      headers={"X-Forwarded-For": forwarded_for})
    return client.post("/admin/login", data={"password": "guess", "csrf_token": csrf_token(page.text)},
                       environ_base={"REMOTE_ADDR": "10.0.0.2"}, headers={"X-Forwarded-For": forwarded_for})


def test_behind_a_trusted_proxy_the_login_limit_counts_visitors_not_the_proxy(web_settings):
    client = make_app(web_settings, PROXY_HOPS=1).test_client()
    for _ in range(4):  # LOGIN_RATE_LIMIT is 4 in these tests; every request comes from the proxy 10.0.0.2
        assert _guess(client, "203.0.113.7").status_code == 401
    assert _guess(client, "203.0.113.7").status_code == 429
    assert _guess(client, "198.51.100.9").status_code == 401  # another visitor through the same proxy


def test_without_proxy_hops_a_forwarded_header_cannot_dodge_the_limit(web_settings):
    client = make_app(web_settings).test_client()
    for i in range(4):
        assert _guess(client, f"203.0.113.{i}").status_code == 401
    assert _guess(client, "198.51.100.9").status_code == 429  # the header is ignored: same socket address
