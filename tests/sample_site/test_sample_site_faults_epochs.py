"""Private sample-site servers: transient 503, slow page, faults off, epoch changes on the same port, CLI errors."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sample_site import truth
from sample_site.server import SampleSiteError, serve

ROOT = Path(__file__).resolve().parents[2]


def _when(header: str) -> dt.datetime:
    return dt.datetime.strptime(header, "%a, %d %b %Y %H:%M:%S GMT")


def test_transient_503_succeeds_on_retry_and_slow_page_blocks_nothing(fresh_sample_site, get):
    site = fresh_sample_site()
    for path in truth.fault_urls()["transient_503"]:
        source = "bls_ooh" if path.startswith("/ooh/") else "reviews" if path.startswith("/reviews/") else "collegenavigator"
        first = get(site.url(source, path))
        assert first.status == 503 and first.headers["retry-after"] == "1"
        assert get(site.url(source, path)).status == 200
    slow_path = truth.fault_urls()["slow"][0]
    done: list[str] = []

    def slow() -> None:
        started = time.monotonic()
        resp = get(site.url("collegenavigator", slow_path))
        assert resp.status == 200
        done.append(f"slow:{time.monotonic() - started:.1f}")

    worker = threading.Thread(target=slow)
    worker.start()
    time.sleep(0.3)
    for _ in range(5):  # other pages, even on the same host, answer while the slow one is still pending
        assert get(site.url("collegenavigator", "/collegenavigator/?id=110635")).status == 200
        done.append("fast")
    worker.join(timeout=30)
    assert done[:5] == ["fast"] * 5
    assert float(done[5].split(":")[1]) >= truth.fault_urls()["slow_seconds"] - 0.1


def test_faults_off_turns_every_fault_off(fresh_sample_site, get):
    site = fresh_sample_site(faults=False)
    faults = truth.fault_urls()
    for path in faults["transient_503"]:
        source = "bls_ooh" if path.startswith("/ooh/") else "reviews" if path.startswith("/reviews/") else "collegenavigator"
        assert get(site.url(source, path)).status == 200
    latin = get(site.url("collegenavigator", faults["latin1"][0]))
    assert latin.headers["content-type"] == "text/html; charset=utf-8"
    latin.body.decode("utf-8")
    assert b"</td>" in get(site.url("collegenavigator", faults["malformed"][0])).body
    index = get(site.url("reviews", "/reviews/colleges/")).text
    assert "utm_" not in index and faults["not_found_links"]["reviews"][0] not in index
    assert "sessionid" not in get(site.url("collegenavigator", "/collegenavigator/?s=CA")).text
    assert json.loads(get(site.base_url + "/sources.json").body)["faults"] is False


def test_epoch_change_on_the_same_port_updates_exactly_the_changed_pages(fresh_sample_site, get):
    site = fresh_sample_site(faults=False)
    port = site.port
    changes = truth.changed_pages(1, 2)
    changed = sorted(p for p in changes["changed"] if p.startswith("/collegenavigator/?id="))[:3]
    changed += sorted(p for p in changes["changed"] if p.startswith("/reviews/colleges/"))[:2]
    unchanged = ["/collegenavigator/?id=110635", "/ooh/healthcare/dentists.htm", "/cahiim/program-directory/program/1001"]
    unchanged = [p for p in unchanged if p not in changes["changed"]]
    removed = sorted(changes["removed"])[0]
    added = sorted(p for p in changes["added"] if p.startswith("/collegenavigator/"))[0]

    def source_of(path: str) -> str:
        return {"/collegenavigator": "collegenavigator", "/reviews": "reviews", "/ooh/": "bls_ooh", "/cahiim": "directory"}[
            next(k for k in ("/collegenavigator", "/reviews", "/ooh/", "/cahiim") if path.startswith(k))]

    before = {p: get(site.url(source_of(p), p)) for p in changed + unchanged + [removed]}
    assert get(site.url("collegenavigator", added)).status == 404
    site.restart(epoch=2)
    assert site.port == port and json.loads(get(site.base_url + "/sources.json").body)["epoch"] == 2
    for path in changed:
        old = before[path]
        resp = get(site.url(source_of(path), path), headers={"If-None-Match": old.headers["etag"]})
        assert resp.status == 200, path
        assert _when(resp.headers["last-modified"]) > _when(old.headers["last-modified"])
        again = get(site.url(source_of(path), path), headers={"If-Modified-Since": old.headers["last-modified"]})
        assert again.status == 200
    for path in unchanged:
        old = before[path]
        assert get(site.url(source_of(path), path), headers={"If-None-Match": old.headers["etag"]}).status == 304
        assert get(site.url(source_of(path), path), headers={"If-Modified-Since": old.headers["last-modified"]}).status == 304
    assert before[removed].status == 200 and get(site.url(source_of(removed), removed)).status == 404
    assert get(site.url("collegenavigator", added)).status == 200


def test_single_host_mode_serves_every_source_by_path(fresh_sample_site, get):
    site = fresh_sample_site(host="127.0.0.9")
    assert site.base_url.startswith("http://127.0.0.9:")
    data = json.loads(get(site.base_url + "/sources.json").body)
    assert data["single_host"] is True
    assert {s["base_url"] for s in data["sources"].values()} == {site.base_url}
    for path in ("/ooh/healthcare/registered-nurses.htm", "/collegenavigator/?id=110635", "/cahiim/program-directory",
                 "/reviews/colleges/", "/adversarial/"):
        assert get(site.base_url + path).status == 200, path
    robots = get(site.base_url + "/robots.txt").text
    assert "Disallow: /reviews/events/" in robots and "Disallow: /ooh/occupation-finder.htm" in robots
    assert robots.count("Sitemap:") == 1


def _busy_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock, sock.getsockname()[1]


def test_cli_reports_a_busy_port_in_one_line():
    sock, port = _busy_port()
    try:
        exe = Path(sys.executable).with_name("collegesearch")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "collegesearch"]
        proc = subprocess.run([*cmd, "sample-site", "--port", str(port)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        sock.close()
    assert proc.returncode != 0
    assert proc.stderr.strip() == f"error: port {port} on 127.0.0.1 is already in use; pick another with --port"
    assert proc.stdout == ""


def test_serve_refuses_bad_epochs_and_unavailable_addresses():
    with pytest.raises(SampleSiteError, match="epoch"):
        serve(host="127.0.0.1", port=0, epoch=0, faults=True, access_log=None, announce=lambda url: None)
    with pytest.raises(SampleSiteError, match="not available on this machine"):
        serve(host="192.0.2.1", port=0, epoch=1, faults=True, access_log=None, announce=lambda url: None)
    sock, port = _busy_port()
    try:
        with pytest.raises(SampleSiteError, match=f"port {port} on 127.0.0.1 is already in use"):
            serve(host="127.0.0.1", port=port, epoch=1, faults=True, access_log=None, announce=lambda url: None)
    finally:
        sock.close()
