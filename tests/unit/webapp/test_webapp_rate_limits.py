"""Rate limits on searches and the API (Flask-Limiter): 429 with Retry-After, per client address, settings."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def make_app(web_settings):
    """An app over the test catalog with some settings changed; closed at the end."""
    from webapp import create_app

    apps = []

    def make(**settings):
        app = create_app({"SETTINGS": web_settings, "TESTING": True, **settings})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["collegesearch_search"].close()


def test_searches_over_the_limit_get_429_with_retry_after_and_the_error_page(make_app):
    client = make_app(SEARCH_RATE_LIMIT="3 per minute").test_client()
    first = client.get("/search?q=health")
    assert first.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == "3" and first.headers["X-RateLimit-Remaining"] == "2"
    assert "Retry-After" not in first.headers  # it means something only on a 429
    # The results page and its JSON twin run the same search: they share one count.
    assert client.get("/search.json?q=health").status_code == 200
    assert client.get("/search?q=nurse").status_code == 200
    limited = client.get("/search?q=health")
    assert limited.status_code == 429
    assert limited.mimetype == "text/html"
    assert "Too many requests" in limited.text and "Too many searches from your address" in limited.text
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    # Pages that do not search are not limited.
    assert client.get("/").status_code == 200
    assert client.get(f"/careers/{'29-2072'}").status_code == 200


def test_api_over_the_limit_gets_429_with_the_json_error_body(make_app):
    client = make_app(API_RATE_LIMIT="2 per minute").test_client()
    assert client.get("/api/search?q=health").status_code == 200
    # Every /api/ endpoint counts against the same limit.
    assert client.get("/api/suggest?q=hea").status_code == 200
    limited = client.get("/api/status")
    assert limited.status_code == 429
    assert limited.json == {"error": "too_many_requests", "message": "Too many API requests from your address in a "
                                                                     "short time; wait until Retry-After has passed."}
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # The API's limit is not the search page's: people on the site are not locked out by a script.
    assert client.get("/search?q=health").status_code == 200


def test_proxy_hops_counts_forwarded_clients_apart(make_app):
    client = make_app(API_RATE_LIMIT="2 per minute", PROXY_HOPS=1).test_client()
    alice = {"X-Forwarded-For": "203.0.113.7"}
    bob = {"X-Forwarded-For": "198.51.100.9"}
    assert [client.get("/api/search?q=health", headers=alice).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/search?q=health", headers=bob).status_code == 200


def test_without_proxy_hops_the_forwarded_header_is_ignored(make_app):
    client = make_app(API_RATE_LIMIT="2 per minute").test_client()
    codes = [client.get("/api/search?q=health", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
             for n in range(3)]
    assert codes == [200, 200, 429]  # three "clients" by header, one by socket: the socket counts


def test_each_socket_address_has_its_own_count(make_app):
    client = make_app(API_RATE_LIMIT="1 per minute").test_client()
    assert client.get("/api/search?q=health", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200
    assert client.get("/api/search?q=health", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 429
    assert client.get("/api/search?q=health", environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 200


def test_probes_metrics_and_static_files_are_never_limited(make_app):
    app = make_app(API_RATE_LIMIT="1 per minute", SEARCH_RATE_LIMIT="1 per minute")
    client = app.test_client()
    assert client.get("/api/search?q=health").status_code == 200
    assert client.get("/api/search?q=health").status_code == 429
    assert client.get("/search?q=health").status_code == 200
    assert client.get("/search?q=health").status_code == 429
    for _ in range(3):
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and "X-RateLimit-Limit" not in metrics.headers
    for _ in range(3):
        assert client.get("/static/css/app.css").status_code == 200


def test_an_empty_setting_turns_a_limit_off(make_app):
    client = make_app(SEARCH_RATE_LIMIT="", API_RATE_LIMIT="").test_client()
    for _ in range(5):
        response = client.get("/api/search?q=health")
        assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers
        assert client.get("/search.json?q=health").status_code == 200


def test_limits_are_counted_in_the_configured_storage(make_app, web_settings):
    from webapp.rate_limits import storage_uri

    assert storage_uri(web_settings) == "memory://"
    assert storage_uri(web_settings.replace(REDIS_URL="redis://cache:6379/0")) == "redis://cache:6379/0"
    assert storage_uri(web_settings.replace(REDIS_URL="redis://cache:6379/0",
                                            RATE_LIMIT_STORAGE_URL="memory://")) == "memory://"


@pytest.mark.redis
def test_with_redis_every_worker_and_node_shares_one_count(make_app, redis_url):
    # Two apps are two workers (or two web nodes): with REDIS_URL they count one client together.
    first = make_app(REDIS_URL=redis_url, API_RATE_LIMIT="3 per minute").test_client()
    second = make_app(REDIS_URL=redis_url, API_RATE_LIMIT="3 per minute").test_client()
    client = {"environ_base": {"REMOTE_ADDR": "192.0.2.77"}}
    codes = [c.get("/api/search?q=health", **client).status_code for c in (first, second, first, second)]
    assert codes == [200, 200, 200, 429]
    # In memory each worker counts alone.
    alone = [make_app(API_RATE_LIMIT="3 per minute").test_client() for _ in range(2)]
    assert [c.get("/api/search?q=health", **client).status_code for c in alone * 2] == [200] * 4


def test_an_unreachable_counter_store_lets_requests_through(make_app, caplog):
    with socket.socket() as sock:  # a port that was free a moment ago: nobody answers there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_app(RATE_LIMIT_STORAGE_URL=f"redis://127.0.0.1:{port}/0", API_RATE_LIMIT="1 per minute").test_client()
    assert [client.get("/api/search?q=health").status_code for _ in range(2)] == [200, 200]
    assert any("Connection refused" in (r.exc_text or r.getMessage()) for r in caplog.records)


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("SEARCH_RATE_LIMIT", "lots", "COLLEGESEARCH_SEARCH_RATE_LIMIT must be a rate limit such as '60 per minute'"),
    ("API_RATE_LIMIT", "5 per fortnight", "COLLEGESEARCH_API_RATE_LIMIT must be a rate limit"),
    ("RATE_LIMIT_STORAGE_URL", "mysql://db/x", "COLLEGESEARCH_RATE_LIMIT_STORAGE_URL must be memory:// or a Redis URL"),
])
def test_a_bad_limit_setting_is_one_clear_line_from_the_cli(tmp_path, name, value, expected):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "COLLEGESEARCH_DATA_DIR": str(tmp_path),
           f"COLLEGESEARCH_{name}": value}
    result = subprocess.run([sys.executable, "-m", "collegesearch", "serve", "--port", "1"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
