"""Whole-site sweeps over HTTP (slow): every page at epochs 1 and 2, compared with truth.changed_pages."""

from __future__ import annotations

import http.client
import queue
import threading
from urllib.parse import urlsplit

import pytest

from sample_site import truth

pytestmark = pytest.mark.slow


def _sweep(site, targets: list[tuple[str, str]], threads: int = 12) -> dict[tuple[str, str], tuple[int, bytes]]:
    """GET every (host, path) with keep-alive connections from a few threads."""
    work: queue.Queue = queue.Queue()
    for t in targets:
        work.put(t)
    results: dict[tuple[str, str], tuple[int, bytes]] = {}
    lock = threading.Lock()

    def worker() -> None:
        conns: dict[str, http.client.HTTPConnection] = {}
        while True:
            try:
                host, path = work.get_nowait()
            except queue.Empty:
                break
            base = urlsplit(site.url(host, ""))
            for _attempt in range(3):
                conn = conns.get(host) or http.client.HTTPConnection(base.hostname, base.port, timeout=60)
                conns[host] = conn
                try:
                    conn.request("GET", path)
                    resp = conn.getresponse()
                    body = resp.read()
                    break
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conns.pop(host, None)
            else:
                raise AssertionError(f"no answer for {host} {path}")
            with lock:
                results[(host, path)] = (resp.status, body)
        for conn in conns.values():
            conn.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return results


def test_exactly_the_expected_pages_differ_between_epoch_1_and_2(fresh_sample_site):
    site = fresh_sample_site(faults=False)
    targets = sorted({(h, p) for e in (1, 2) for h, paths in truth.pages_by_host(e).items() for p in paths})
    assert len(targets) > 12000
    first = _sweep(site, targets)
    site.restart(epoch=2)
    second = _sweep(site, targets)
    seen: dict[str, dict[str, set[str]]] = {}
    for key in targets:
        host, path = key
        (sa, ba), (sb, bb) = first[key], second[key]
        assert sa in (200, 404) and sb in (200, 404), (key, sa, sb)
        bucket = seen.setdefault(host, {"changed": set(), "added": set(), "removed": set()})
        if sa == 404 and sb == 200:
            bucket["added"].add(path)
        elif sa == 200 and sb == 404:
            bucket["removed"].add(path)
        elif sa == sb == 200 and ba != bb:
            bucket["changed"].add(path)
        else:
            assert sa == sb == 200, (key, sa, sb)  # nothing in the universe is missing at both epochs
    expected = truth.changed_pages_by_host(1, 2)
    for host in sorted(set(seen) | set(expected)):
        for kind in ("changed", "added", "removed"):
            got = seen.get(host, {}).get(kind, set())
            want = expected.get(host, {}).get(kind, set())
            assert got == want, (host, kind, sorted(got ^ want)[:10])
    assert sum(len(b["changed"]) for b in expected.values()) > 300


def test_every_page_of_epoch_1_answers_with_faults_on(sample_site):
    targets = sorted((h, p) for h, paths in truth.pages_by_host(1).items() for p in paths)
    results = _sweep(sample_site, targets)
    transient = set(truth.fault_urls()["transient_503"])
    bad = [(k, s) for k, (s, _b) in results.items() if s != 200 and not (s == 503 and k[1] in transient)]
    assert bad == []
    counts = truth.counts(1)
    profiles = [k for k in results if k[1].startswith("/collegenavigator/?id=")]
    assert len(profiles) == counts["institution_pages"]
    schools = {k[1].split("?")[0] for k in results if k[1].startswith("/reviews/colleges/") and k[1].split("?")[0].endswith("/reviews/")}
    assert len(schools) == counts["review_schools"] >= 2000
    assert len([k for k in results if k[1].startswith("/cahiim/program-directory/program/")]) == counts["cahiim_programs"] == 245
