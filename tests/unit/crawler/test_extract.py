"""`collegesearch extract`: files and URLs, profile choice, one-line errors, exit codes.

URL targets are served by a small HTTP server on 127.0.0.1 started in the test (loopback only;
nothing leaves the machine).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from collegesearch.cli import main
from crawler.extract import ExtractError, extract_targets

REAL_DATA = Path(__file__).resolve().parents[3] / "sample_site" / "data"
MEDICAL = REAL_DATA / "bls_ooh_html" / "medical-records-and-health-information-technicians.html"
BERKELEY = REAL_DATA / "nces_college_navigator_html" / "110635.html"


class _Handler(BaseHTTPRequestHandler):
    """Serves: /ooh/healthcare/<slug>.htm and /collegenavigator/?id=110635 (saved real pages),
    /image.png (binary), /latin1 (a Latin-1 career page), anything else 404."""

    seen_agents: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        type(self).seen_agents.append(self.headers.get("User-Agent", ""))
        if self.path.startswith("/ooh/healthcare/"):
            slug = self.path.rsplit("/", 1)[-1].replace(".htm", "")
            file = REAL_DATA / "bls_ooh_html" / f"{slug}.html"
            if file.exists():
                return self._send(200, file.read_bytes(), "text/html; charset=utf-8")
        if self.path == "/collegenavigator/?id=110635":
            return self._send(200, BERKELEY.read_bytes(), "text/html")
        if self.path == "/image.png":
            return self._send(200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png")
        if self.path == "/latin1":
            body = "<h1>Caf\u00e9 Manager</h1><p>Median salary: $48,000 per year.</p>".encode("latin-1")
            return self._send(200, body, "text/html; charset=ISO-8859-1")
        self._send(404, b"not here", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def run(targets, settings, profile=None, kind=None):
    return list(extract_targets([str(t) for t in targets], profile=profile, kind=kind, settings=settings))


def test_saved_ooh_file_with_profile(settings):
    [(target, item)] = run([MEDICAL], settings, profile="bls_ooh", kind="career")
    assert target == str(MEDICAL)
    assert item["kind"] == "career" and item["source"] == "bls_ooh"
    assert (item["median_pay_annual"], item["pay_p10"], item["pay_p90"], item["soc_code"]) == (50250, 35780, 80950, "29-2072")
    assert item["url"].startswith("file://")


def test_kind_filter_and_institution_file(settings):
    results = run([BERKELEY], settings, profile="collegenavigator")
    kinds = [r["kind"] for _, r in results]
    assert kinds[0] == "institution" and kinds.count("program") == 8
    [(_, only)] = run([BERKELEY], settings, profile="collegenavigator", kind="institution")
    assert only["unitid"] == "110635"
    [(_, error)] = run([BERKELEY], settings, profile="collegenavigator", kind="review")
    assert isinstance(error, ExtractError) and "no review items found" in str(error)


def test_local_file_without_profile_uses_generic_extractors(settings):
    [(_, item)] = run([MEDICAL], settings)
    assert item["source"] == "generic" and item["kind"] == "career"
    assert item["median_pay_annual"] == 50250  # from "the median annual wage ... was $50,250"


def test_errors_are_per_target_and_one_line(settings, tmp_path):
    binary = tmp_path / "photo.html"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000)
    results = run([tmp_path / "missing.html", tmp_path, binary, MEDICAL], settings, profile="bls_ooh")
    errors = [(t, r) for t, r in results if isinstance(r, ExtractError)]
    messages = [str(e) for _, e in errors]
    assert messages[0].startswith("no such file:")
    assert messages[1] == f"{tmp_path} is a directory; name an HTML file or a URL"
    assert messages[2].startswith("cannot read the page: the content is binary")
    assert all("\n" not in str(e) for _, e in errors)
    assert sum(1 for _, r in results if isinstance(r, dict)) == 1


def test_unknown_profile_is_an_error_for_the_whole_command(settings):
    with pytest.raises(ExtractError, match="unknown profile 'nope'; known profiles: bls_ooh"):
        run([MEDICAL], settings, profile="nope")


def test_urls_pick_their_profile_by_path_and_send_the_user_agent(settings, server):
    _Handler.seen_agents.clear()
    results = run([f"{server}/ooh/healthcare/dentists.htm", f"{server}/collegenavigator/?id=110635"], settings)
    sources = [r["source"] for _, r in results]
    assert sources[0] == "bls_ooh" and set(sources[1:]) == {"collegenavigator"}
    assert results[0][1]["soc_code"] == "29-1020"
    assert results[0][1]["url"] == f"{server}/ooh/healthcare/dentists.htm"
    assert _Handler.seen_agents and all(a == settings.user_agent for a in _Handler.seen_agents)
    assert "collegesearch" in settings.user_agent


def test_url_errors(settings, server):
    results = dict(run([f"{server}/nope", f"{server}/image.png", "http://127.0.0.1:9/closed"], settings))
    assert str(results[f"{server}/nope"]) == "HTTP 404 Not Found"
    assert str(results[f"{server}/image.png"]) == "not a web page (Content-Type: image/png)"
    assert str(results["http://127.0.0.1:9/closed"]).startswith("cannot fetch:")


def test_url_in_latin1_without_profile(settings, server):
    [(_, item)] = run([f"{server}/latin1"], settings)
    assert item["title"] == "Caf\u00e9 Manager" and item["median_pay_annual"] == 48000


def test_sites_file_profile_by_name(settings, tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text('[[site]]\nname = "mirror"\ntype = "bls_ooh"\nstart_urls = ["https://m.example/ooh/"]\n')
    with_sites = settings.replace(SITES_FILE=str(sites))
    [(_, item)] = run([MEDICAL], with_sites, profile="mirror")
    assert item["source"] == "mirror" and item["soc_code"] == "29-2072"
    broken = tmp_path / "broken.toml"
    broken.write_text("[[site]]\nname = 'x'\n")
    with pytest.raises(ExtractError, match=r"broken\.toml: site #1 \('x'\): 'start_urls' is required"):
        run([MEDICAL], settings.replace(SITES_FILE=str(broken)))


def test_cli_prints_json_lines_and_exit_codes(tmp_path, monkeypatch):
    monkeypatch.setenv("COLLEGESEARCH_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    ok = runner.invoke(main, ["extract", "--profile", "bls_ooh", "--kind", "career", str(MEDICAL)])
    assert ok.exit_code == 0, ok.output
    lines = [json.loads(line) for line in ok.stdout.splitlines()]
    assert len(lines) == 1 and lines[0]["pay_p90"] == 80950
    bad = runner.invoke(main, ["extract", "--profile", "bls_ooh", str(tmp_path / "nope.html"), str(MEDICAL)])
    assert bad.exit_code == 1
    assert "error: " in bad.stderr and "no such file" in bad.stderr and "Traceback" not in bad.output
    assert len(bad.stdout.splitlines()) == 1  # the good target still prints
    unknown = runner.invoke(main, ["extract", "--profile", "nope", str(MEDICAL)])
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error: unknown profile 'nope'")
