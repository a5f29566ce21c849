"""Forms and admin under attack: CSRF on every POST route, admin refuses anonymous users and forged or
replayed sessions, login rate limit, cookie flags, review spam limits, security headers on every page.

Routes are enumerated from ``app.url_map``, so a route added later is attacked too without editing this file.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie

import pytest
from lxml import html as lxml_html
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from catalog import Catalog

pytestmark = pytest.mark.usefixtures("no_unhandled_errors")

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


# -- route enumeration -------------------------------------------------------------------------


def sample_values(rule: Rule, testdata, review_id: int = 1) -> dict[str, object]:
    """A value for every argument of a rule: a real record where we have one, else any valid value."""
    known = {"unitid": testdata.GHC, "soc_code": testdata.MRS, "program_id": testdata.HIT_GA,
             "review_id": review_id, "run_id": 1, "filename": "css/app.css"}
    values: dict[str, object] = {}
    for arg in rule.arguments:
        converter = rule._converters.get(arg)
        if isinstance(converter, AnyConverter):
            values[arg] = sorted(converter.items)[0]
        elif arg in known:
            values[arg] = known[arg]
        elif isinstance(converter, IntegerConverter):
            values[arg] = 1
        else:
            values[arg] = "x"
    return values


def url_for_rule(app, rule: Rule, values: dict[str, object]) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def rules_with(app, methods) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if set(methods) & (r.methods or set())]


def add_pending_review(web_settings, testdata, body: str = "A pending review waiting for a moderator's decision.") -> int:
    with Catalog(web_settings.catalog_path) as cat:
        return cat.add_user_review(institution_unitid=testdata.GHC, institution_name="Georgia Health College",
                                   rating=4, body=body, category="academics", author_role="graduate",
                                   title="Pending", client_hash="t")


def state_of(web_settings) -> tuple:
    """Everything an unsafe request could change: user reviews and their status, items, index watermark."""
    with Catalog(web_settings.catalog_path) as cat:
        reviews = tuple((r.id, r.status) for r in cat.list_user_reviews(None, limit=1000))
        return reviews, cat.counts_by_kind(), cat.max_change_seq(), cat.integrity_check()


def index_token(web_settings) -> tuple:
    index = web_settings.index_dir
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in index.rglob("*") if p.is_file()))


def token_of(client, path: str, testdata) -> str:
    return testdata.csrf_token(client.get(path).text)


# -- CSRF -------------------------------------------------------------------------------------


def test_every_unsafe_route_is_enumerated(app):
    # The enumeration itself must see the known POST routes (a broken enumeration would test nothing).
    endpoints = {r.endpoint for r in rules_with(app, UNSAFE_METHODS)}
    assert {"reviews.write", "admin.login", "admin.logout", "admin.moderate", "admin.sync_now"} <= endpoints


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_csrf_is_enforced_on_every_unsafe_route(app, web_settings, testdata, who):
    review_id = add_pending_review(web_settings, testdata)
    client = app.test_client()
    if who == "admin":
        assert testdata.login(client).status_code == 302
    other = app.test_client()  # a token from another visitor's session is worth nothing here
    foreign_token = token_of(other, "/admin/login", testdata)
    before, index_before = state_of(web_settings), index_token(web_settings)
    checked = []
    for rule in rules_with(app, UNSAFE_METHODS):
        url = url_for_rule(app, rule, sample_values(rule, testdata, review_id))
        for method in sorted(set(UNSAFE_METHODS) & (rule.methods or set())):
            form = {"rating": "5", "category": "academics", "author_role": "graduate", "title": "Forged",
                    "body": "A forged request that must never be stored anywhere.", "password": testdata.ADMIN_PASSWORD}
            for attempt, extra in (("no token", {}), ("foreign token", {"csrf_token": foreign_token}),
                                   ("made-up token", {"csrf_token": "IjAwMCI.forged.token"})):
                response = client.open(url, method=method, data={**form, **extra},
                                       headers={"Origin": "https://evil.example", "Referer": "https://evil.example/"})
                assert response.status_code == 400, f"{method} {url} ({who}, {attempt}) -> {response.status_code}"
                checked.append((method, url, attempt))
    assert len(checked) >= 15
    assert state_of(web_settings) == before, "a request without a valid CSRF token changed the catalog"
    assert index_token(web_settings) == index_before, "a request without a valid CSRF token touched the index"
    if who == "admin":
        # Logging out without a token did not end the session either.
        assert client.get("/admin/").status_code == 200


def test_csrf_token_from_a_logged_out_session_cannot_approve(app, web_settings, testdata):
    review_id = add_pending_review(web_settings, testdata)
    client = app.test_client()
    testdata.login(client)
    token = token_of(client, "/admin/reviews", testdata)
    client.post("/admin/logout", data={"csrf_token": token})
    response = client.post(f"/admin/reviews/{review_id}/approve", data={"csrf_token": token})
    assert response.status_code in (400, 403)
    with Catalog(web_settings.catalog_path) as cat:
        assert [r.status for r in cat.list_user_reviews(None) if r.id == review_id] == ["pending"]


# -- admin refuses anonymous users, wrong passwords, forged and replayed sessions ----------------


def admin_rules(app) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    assert len(rules) >= 7
    return rules


def test_every_admin_route_refuses_anonymous_users(app, client, web_settings, testdata):
    review_id = add_pending_review(web_settings, testdata)
    token = token_of(client, "/admin/login", testdata)  # a VALID token: the admin guard itself must refuse
    before = state_of(web_settings)
    for rule in admin_rules(app):
        url = url_for_rule(app, rule, sample_values(rule, testdata, review_id))
        if rule.endpoint == "admin.login":
            continue
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token})
            if method in ("GET", "HEAD"):
                assert response.status_code == 302, f"{method} {url} -> {response.status_code}"
                assert response.headers["Location"].startswith("/admin/login"), url
            else:
                assert response.status_code == 403, f"{method} {url} -> {response.status_code}"
            assert b"Pending" not in response.data and b"moderat" not in response.data.lower()
    assert state_of(web_settings) == before


def test_wrong_passwords_get_nothing(app, client, testdata):
    passwords = ("", " ", "correct horse battery stapl", testdata.ADMIN_PASSWORD.upper(),
                  testdata.ADMIN_PASSWORD + " ", "' OR '1'='1", testdata.ADMIN_HASH, "\x00" + testdata.ADMIN_PASSWORD)
    for n, password in enumerate(passwords):
        env = {"REMOTE_ADDR": f"192.0.2.{n + 1}"}  # one guess per client, so the rate limit stays out of the way
        page = client.get("/admin/login", environ_base=env)
        response = client.post("/admin/login", environ_base=env,
                               data={"password": password, "csrf_token": testdata.csrf_token(page.text)})
        assert response.status_code in (400, 401), (password, response.status_code)
        assert client.get("/admin/", environ_base=env).status_code == 302, password


@pytest.mark.parametrize("configured", [None, "", "plaintext-password", "md5$abc$def"])
def test_admin_is_disabled_without_a_usable_hash(web_settings, configured, testdata):
    from webapp import create_app

    app = create_app({"SETTINGS": web_settings.replace(ADMIN_PASSWORD_HASH=configured), "TESTING": True})
    client = app.test_client()
    for rule in admin_rules(app):
        url = url_for_rule(app, rule, sample_values(rule, testdata))
        for method in ("GET", "POST"):
            if method in (rule.methods or set()):
                assert client.open(url, method=method, data={"password": configured or ""}).status_code in (400, 403)
    app.extensions["collegesearch_search"].close()


def forged_session_cookie(app, secret: str, payload: dict) -> str:
    from flask.sessions import SecureCookieSessionInterface

    interface = SecureCookieSessionInterface()

    class Fake:
        secret_key = secret
        config = app.config

    serializer = interface.get_signing_serializer(Fake())  # type: ignore[arg-type]
    assert serializer is not None
    return serializer.dumps(payload)


def test_forged_session_cookies_are_refused(app, testdata):
    name = app.config["SESSION_COOKIE_NAME"]
    for secret in ("", "dev", "secret", "changeme", "x" * 64):
        client = app.test_client()
        client.set_cookie(name, forged_session_cookie(app, secret or "k", {"admin": {"ok": True, "at": 1}}))
        assert client.get("/admin/").status_code == 302, secret
    # Unsigned JSON and garbage are refused too.
    for raw in ('{"admin": {"ok": true}}', "eyJhZG1pbiI6eyJvayI6dHJ1ZX19", "." * 500):
        client = app.test_client()
        client.set_cookie(name, raw)
        assert client.get("/admin/").status_code == 302, raw


def session_cookie(response, name: str) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        if name in cookie:
            return cookie[name].value
    return None


def test_a_session_cookie_replayed_after_logout_is_refused(app, testdata):
    """Someone who copied the admin's cookie (shared computer, leaked log) must lose access when the admin logs out."""
    name = app.config["SESSION_COOKIE_NAME"]
    client = app.test_client()
    login = testdata.login(client)
    stolen = session_cookie(login, name)
    assert stolen and client.get("/admin/").status_code == 200
    client.post("/admin/logout", data={"csrf_token": token_of(client, "/admin/", testdata)})
    thief = app.test_client()
    thief.set_cookie(name, stolen)
    assert thief.get("/admin/").status_code == 302, "the pre-logout session cookie still opens the admin"


def test_sessions_end_when_the_admin_password_changes(web_settings, testdata):
    from werkzeug.security import generate_password_hash

    from webapp import create_app

    app = create_app({"SETTINGS": web_settings, "TESTING": True})
    name = app.config["SESSION_COOKIE_NAME"]
    client = app.test_client()
    cookie = session_cookie(testdata.login(client), name)
    assert cookie
    new_hash = generate_password_hash("a brand new password", method="pbkdf2:sha256:1000")
    changed = create_app({"SETTINGS": web_settings.replace(ADMIN_PASSWORD_HASH=new_hash), "TESTING": True})
    other = changed.test_client()
    other.set_cookie(name, cookie)
    assert other.get("/admin/").status_code == 302, "a session from before the password change still works"
    for a in (app, changed):
        a.extensions["collegesearch_search"].close()


def test_login_rate_limit_holds_and_cannot_be_dodged_with_headers(app, testdata):
    client = app.test_client()
    for _ in range(4):  # LOGIN_RATE_LIMIT=4
        response = client.post("/admin/login", data={"password": "guess",
                                                     "csrf_token": token_of(client, "/admin/login", testdata)})
        assert response.status_code == 401
    # Even the right password is refused now, and proxy headers do not make a new client.
    for headers in ({}, {"X-Forwarded-For": "203.0.113.9"}, {"X-Real-IP": "203.0.113.10"},
                    {"Forwarded": "for=203.0.113.11"}, {"Client-IP": "203.0.113.12"}):
        response = client.post("/admin/login", headers=headers, data={
            "password": testdata.ADMIN_PASSWORD, "csrf_token": token_of(client, "/admin/login", testdata)})
        assert response.status_code == 429, headers
        assert int(response.headers["Retry-After"]) > 0
        assert client.get("/admin/").status_code == 302
    # Another client (another address) is not locked out by the first one's guesses.
    other = app.test_client()
    env = {"REMOTE_ADDR": "198.51.100.7"}
    page = other.get("/admin/login", environ_base=env)
    response = other.post("/admin/login", environ_base=env, data={"password": testdata.ADMIN_PASSWORD,
                                                                  "csrf_token": testdata.csrf_token(page.text)})
    assert response.status_code == 302


def cookie_attributes(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")]
    attrs = {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        attrs[key.lower()] = value
    return attrs


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_flags(web_settings, testdata, secure):
    from webapp import create_app

    app = create_app({"SETTINGS": web_settings.replace(SECURE_COOKIES=secure), "TESTING": True})
    client = app.test_client()
    response = testdata.login(client)
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(app.config["SESSION_COOKIE_NAME"])]
    assert headers, "login set no session cookie"
    attrs = cookie_attributes(headers[-1])
    assert "httponly" in attrs
    assert attrs.get("samesite", "").lower() in ("lax", "strict")
    assert attrs.get("path") == "/"
    assert ("secure" in attrs) is secure
    assert "domain" not in attrs  # host-only: no sibling subdomain receives it
    # Admin sessions expire within a working day (Flask's own default would be 31 days).
    expires = parsedate_to_datetime(attrs["expires"])
    assert expires - datetime.now(UTC) <= timedelta(hours=8, minutes=1)
    # No cookie at all for anonymous readers of public pages (nothing to steal, caches stay shared).
    reader = app.test_client()
    for path in ("/", "/search?q=nurse", f"/institutions/{testdata.GHC}", "/api/search?q=x"):
        assert not reader.get(path).headers.getlist("Set-Cookie"), path
    app.extensions["collegesearch_search"].close()


# -- review spam ---------------------------------------------------------------------------------


def review_form(client, testdata, **fields) -> dict[str, str]:
    page = client.get(f"/institutions/{testdata.GHC}/review")
    data = {"rating": "4", "category": "academics", "author_role": "graduate", "title": "Solid program",
            "body": "The instructors were patient and the labs were well equipped for practice.", "website": "",
            "csrf_token": testdata.csrf_token(page.text)}
    data.update(fields)
    return data


def user_review_count(web_settings) -> int:
    with Catalog(web_settings.catalog_path) as cat:
        return cat.count_user_reviews(None)


def test_review_honeypot_stores_nothing(client, web_settings, testdata):
    for value in ("http://spam.example", " ", "x"):
        response = client.post(f"/institutions/{testdata.GHC}/review", data=review_form(client, testdata, website=value))
        assert response.status_code == 302  # looks like success to the bot
    assert user_review_count(web_settings) == 0


@pytest.mark.parametrize("field,value", [
    ("title", "t" * 121),
    ("body", "b" * 5001),
    ("body", "short review"),
    ("body", "\u200b" * 60),
    ("body", "\x00\x01\x02" * 20),
    ("body", "a\u200b" * 20),  # 40 characters typed, 20 once the invisible ones are removed
    ("title", "\u202e\u202c\u200d"),
    ("rating", "6"), ("rating", "0"), ("rating", "-1"), ("rating", "4.5"), ("rating", "five"),
    ("category", "'; DROP TABLE items; --"), ("author_role", "admin"),
])
def test_review_length_and_value_limits(client, web_settings, testdata, field, value):
    response = client.post(f"/institutions/{testdata.GHC}/review", data=review_form(client, testdata, **{field: value}))
    assert response.status_code == 422, (field, value[:20], response.status_code)
    assert user_review_count(web_settings) == 0


def test_review_rate_limit_cannot_be_dodged(app, client, web_settings, testdata):
    url = f"/institutions/{testdata.GHC}/review"
    for i in range(3):  # REVIEW_RATE_LIMIT=3
        assert client.post(url, data=review_form(client, testdata, title=f"Review {i}")).status_code == 302
    for headers in ({}, {"X-Forwarded-For": "203.0.113.9"}, {"X-Real-IP": "203.0.113.10"}):
        response = client.post(url, headers=headers, data=review_form(client, testdata, title="One too many"))
        assert response.status_code == 429, headers
        assert "One too many" in response.text  # what was typed is kept
    # A new session (cookies dropped) from the same address is the same client.
    fresh = app.test_client()
    assert fresh.post(url, data=review_form(fresh, testdata, title="Fresh cookie")).status_code == 429
    assert user_review_count(web_settings) == 3
    # Another review on another school from the same client is limited too (the limit is per client).
    page = client.get(f"/institutions/{testdata.OVCC}/review")
    data = review_form(client, testdata, csrf_token=testdata.csrf_token(page.text))
    assert client.post(f"/institutions/{testdata.OVCC}/review", data=data).status_code == 429


def test_oversized_bodies_are_refused_before_parsing(client, web_settings, testdata):
    big = review_form(client, testdata, body="x" * 300_000)
    assert client.post(f"/institutions/{testdata.GHC}/review", data=big).status_code == 413
    files = {"body": (__import__("io").BytesIO(b"x" * 300_000), "x.txt")}
    response = client.post(f"/institutions/{testdata.GHC}/review", data=files, content_type="multipart/form-data")
    assert response.status_code == 413
    assert user_review_count(web_settings) == 0


# -- security headers on every page -------------------------------------------------------------


def csp_directives(value: str) -> dict[str, list[str]]:
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def check_headers(response, what: str) -> None:
    csp = response.headers.get("Content-Security-Policy")
    assert csp, f"{what}: no Content-Security-Policy"
    policy = csp_directives(csp)
    script = policy.get("script-src", policy.get("default-src"))
    assert script is not None and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, what
    assert "data:" not in script and "*" not in script, what
    assert policy.get("frame-ancestors") == ["'none'"], what
    assert policy.get("object-src") == ["'none'"], what
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what


def check_no_inline_script(body: bytes, what: str) -> None:
    if not body.strip():
        return
    doc = lxml_html.fromstring(body)
    for script in doc.iter("script"):
        assert script.get("src"), f"{what}: inline <script> {lxml_html.tostring(script)[:120]!r}"
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), f"{what}: event handler {name}={value!r} on <{element.tag}>"
            if name.lower() in ("href", "src", "action", "formaction"):
                assert not value.strip().lower().startswith(("javascript:", "data:text", "vbscript:")), \
                    f"{what}: {name}={value!r}"


def test_security_headers_on_every_route_and_error(app, admin_client, client, testdata):
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        url = url_for_rule(app, rule, sample_values(rule, testdata))
        for who, c in (("anonymous", client), ("admin", admin_client)):
            response = c.get(url)
            check_headers(response, f"{who} GET {url} ({response.status_code})")
            if response.mimetype == "text/html":
                check_no_inline_script(response.data, f"{who} GET {url}")
            checked += 1
    errors = {
        "404": client.get("/no/such/page"), "404 id": client.get("/institutions/%27%3Bdrop"),
        "405": client.post("/search"), "400": client.get("/api/search?per_page=abc"),
        "400 html": client.get("/search?page=-1"), "413": client.post(f"/institutions/{testdata.GHC}/review",
                                                                      data={"body": "x" * 300_000}),
        "csrf": client.post("/admin/login", data={"password": "x"}),
    }
    for name, response in errors.items():
        check_headers(response, f"error page {name} ({response.status_code})")
        assert response.status_code < 500, name
    assert checked >= 40


@pytest.mark.parametrize("path", ["/institutions/{EVIL}", "/careers/{EVIL_CAREER}", "/programs/{EVIL_PROG}",
                                  "/search?q=alert", "/search?q=script", "/colleges/", "/careers/",
                                  "/institutions/{EVIL}/review", "/changes", "/api/suggest?q=%3Cscript"])
def test_hostile_records_render_inert(client, testdata, path):
    url = path.format(EVIL=testdata.EVIL, EVIL_CAREER=testdata.EVIL_CAREER, EVIL_PROG=testdata.EVIL_PROG)
    response = client.get(url)
    assert response.status_code == 200, url
    if response.mimetype == "text/html":
        check_no_inline_script(response.data, url)
        assert b"<script>alert" not in response.data
    else:  # JSON carries the text as data; the content type and nosniff keep browsers from running it
        assert response.mimetype == "application/json"
    check_headers(response, url)


def test_json_and_feeds_are_not_sniffable_as_html(client, testdata):
    for url in ("/api/search?q=%3Cscript%3Ealert(1)%3C/script%3E", f"/api/institutions/{testdata.EVIL}",
                "/changes.json", "/changes.atom", "/api/suggest?q=%3Cscript%3E", "/search.json?q=x"):
        response = client.get(url)
        assert response.mimetype in ("application/json", "application/atom+xml"), url
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/static/../config.py", "/static/..%2f..%2fconfig.py", "/static/%2e%2e/%2e%2e/cli.py",
                                  "/static/../../data/secret_key", "/static//etc/passwd", "/static/css/../../__init__.py",
                                  "/static/%00", "/static/css/app.css%00.py"])
def test_static_files_cannot_escape_their_folder(client, web_settings, path):
    response = client.get(path, follow_redirects=True)  # '//' is merged by a redirect, then refused
    assert response.status_code in (400, 404), (path, response.status_code)
    secret = (web_settings.data_dir / "secret_key").read_text().strip()
    assert secret.encode() not in response.data
    assert b"def load_settings" not in response.data and b"root:" not in response.data


def test_cors_is_off_by_default(client, testdata):
    evil = {"Origin": "https://evil.example"}
    for url in ("/api/search?q=nurse", f"/api/institutions/{testdata.GHC}", "/changes.json", "/search.json?q=x"):
        response = client.get(url, headers=evil)
        assert "Access-Control-Allow-Origin" not in response.headers, url
        preflight = client.options(url, headers={**evil, "Access-Control-Request-Method": "POST"})
        assert "Access-Control-Allow-Origin" not in preflight.headers, url
        assert "Access-Control-Allow-Credentials" not in preflight.headers
