"""Crashes: SIGKILL the crawler mid-crawl, the index writer mid-commit (repeatedly, at random moments) and the web
server mid-request (a gunicorn worker, then the master). After a restart the catalog passes its integrity check,
the index opens or is rebuilt automatically, and nothing stored before the kill is lost: counts and content
hashes are compared with the sample site's ground truth (``sample_site.truth.expected_items``).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import random
import re
import shutil
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from catalog import Catalog
from sample_site import truth
from tests.plugins.system import free_port
from tests.security.support import (
    catalog_snapshot,
    child_env,
    content_hash,
    run_cli,
    start_cli,
    stop_group,
    wait_http,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("security_crawl")]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def live_count(catalog_path: Path, kind: str) -> int:
    if not catalog_path.exists():
        return 0
    try:
        with Catalog(catalog_path, readonly=True, timeout=1) as cat:
            return cat.count(kind)
    except Exception:  # the schema may not be there yet in the first milliseconds
        return 0


# -- the crawler ------------------------------------------------------------------------------------------


def test_crawler_killed_mid_crawl_loses_nothing_and_resumes(sample_site, tmp_path):
    expected = truth.expected_items(1, base_urls=sample_site.base_urls)["career"]
    fields = {item_id: sorted(data) for item_id, data in expected.items()}
    truth_hashes = {item_id: content_hash(data, fields[item_id]) for item_id, data in expected.items()}
    data = tmp_path / "data"
    env = child_env(data, LOG_LEVEL="INFO")
    proc = start_cli(["crawl", "bls_ooh", "--base-url", sample_site.base_url], env, tmp_path / "crawl1.log")
    catalog = data / "catalog.sqlite3"
    try:
        stored = wait_for(lambda: (n := live_count(catalog, "career")) >= 40 and n, 180, "the first careers")
    finally:
        stop_group(proc, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL, "the crawl ended before it could be killed"
    assert stored < len(expected), "the crawl finished before the kill: nothing was tested"

    with Catalog(catalog) as cat:  # opening for writing recovers the WAL like a restart would
        assert cat.integrity_check() == []
        [killed] = cat.list_runs()
    before = catalog_snapshot(catalog, "career", fields)
    assert len(before) >= 40
    wrong = {i: h for i, h in before.items() if truth_hashes.get(i) != h}
    assert not wrong, f"{len(wrong)} careers stored before the kill differ from truth: {sorted(wrong)[:5]}"

    again = run_cli(["crawl", "bls_ooh", "--base-url", sample_site.base_url], env, timeout=600)
    assert again.returncode == 0, again.describe()
    with Catalog(catalog, readonly=True) as cat:
        assert cat.integrity_check() == []
        runs = {r.id: r for r in cat.list_runs()}
    after = catalog_snapshot(catalog, "career", fields)
    lost = [i for i in before if after.get(i) != before[i]]
    assert not lost, f"careers stored before the kill were lost or changed: {lost[:5]}"
    assert after == truth_hashes, (f"{len(set(truth_hashes) - set(after))} missing, "
                                   f"{sum(after.get(i) != h for i, h in truth_hashes.items())} differ from truth")
    assert runs[killed.id].status != "running", "the killed run is still marked running"
    resumed = max(runs.values(), key=lambda r: r.id)
    assert resumed.status == "ok" and resumed.stats.get("resumed_from"), resumed.stats


# -- the index writer -----------------------------------------------------------------------------------


def index_matches_catalog(settings_env: dict[str, str], catalog: Path, index_dir: Path) -> None:
    from indexer.search import Searcher

    searcher = Searcher(index_dir=index_dir)
    try:
        status = searcher.status()
        with Catalog(catalog, readonly=True) as cat:
            counts, seq = cat.fused.counts_by_kind(), cat.fused.max_change_seq()  # the index holds fused records
        assert status["state"] == "ok", status
        assert status["doc_count"] == sum(counts.values()), (status, counts)
        assert status["by_kind"] == counts, (status["by_kind"], counts)
        assert int(status["watermark"]) == seq
    finally:
        searcher.close()


def touch_items(catalog: Path, round_no: int, n: int = 1000) -> str:
    """Change n programs so that a sync has real work; returns the marker word they now carry."""
    from model.items import item_from_dict

    marker = f"crashround{round_no}x"
    with Catalog(catalog) as cat, cat.transaction():
        run = cat.start_run("collegenavigator", "manual")
        for k, stored in enumerate(cat.iter_items("program")):
            if k >= n:
                break
            data = dict(stored.data)
            data["name"] = f"{data.get('name') or 'Program'} {marker}"
            cat.upsert(item_from_dict(data), run_id=run)
        cat.finish_run(run, status="ok", stats={}, complete=True)
    return marker


@pytest.mark.timeout(900)
def test_index_writer_killed_mid_commit_recovers(big_catalog, tmp_path):
    catalog = tmp_path / "catalog.sqlite3"
    shutil.copy(big_catalog, catalog)
    index_dir = tmp_path / "index"
    env = child_env(tmp_path / "data", CATALOG_PATH=catalog, INDEX_DIR=index_dir)
    start = time.monotonic()
    first = run_cli(["index", "rebuild"], env, timeout=600)
    full = time.monotonic() - start
    assert first.returncode == 0, first.describe()
    index_matches_catalog(env, catalog, index_dir)
    rng = random.Random(8)
    kills = 0
    for round_no, command in enumerate(["sync", "rebuild", "sync", "rebuild"]):
        marker = touch_items(catalog, round_no)
        proc = start_cli(["index", command], env, tmp_path / f"{command}-{round_no}.log")
        time.sleep(rng.uniform(0.2, max(0.5, full * 0.8)))
        if proc.poll() is None:
            stop_group(proc, signal.SIGKILL)
            kills += 1
        else:
            proc.wait()
        # Right after the kill: searching never raises; it answers from a complete generation or says why not.
        from indexer.search import Searcher

        searcher = Searcher(index_dir=index_dir)
        try:
            result = searcher.search("college")
            assert result.total > 0 or result.messages, "no results and no explanation after the kill"
        finally:
            searcher.close()
        # The next sync repairs whatever the kill left (or rebuilds), and the index equals the catalog again.
        repaired = run_cli(["index", "sync"], env, timeout=600)
        assert repaired.returncode == 0, repaired.describe()
        index_matches_catalog(env, catalog, index_dir)
        searcher = Searcher(index_dir=index_dir)
        try:
            assert searcher.search(marker, {"kind": "program"}).total == 1000, f"round {round_no}: changes missing"
        finally:
            searcher.close()
    assert kills >= 2, f"only {kills} of 4 writers were still running when killed"
    leftovers = [p.name for p in index_dir.parent.iterdir() if p.name.startswith(index_dir.name) and p != index_dir]
    assert len(leftovers) <= 2, f"half-built index folders pile up: {leftovers}"


# -- the web server --------------------------------------------------------------------------------------


class Browserish:
    """A tiny HTTP client with cookies, for forms with CSRF tokens."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect())

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def post(self, path: str, form: dict[str, str]) -> int:
        data = urllib.parse.urlencode(form).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: D102 - urllib API
        return None


def submit_review(base: str, unitid: str, title: str) -> int:
    client = Browserish(base)
    status, page = client.get(f"/institutions/{unitid}/review")
    assert status == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post(f"/institutions/{unitid}/review", {
        "csrf_token": token, "rating": "4", "category": "academics", "author_role": "graduate", "title": title,
        "body": "Written just before the server was killed; it must survive the crash.", "website": ""})


class Load:
    """Threads that keep requesting pages; records every status (0 for a broken connection)."""

    PATHS = ["/search?q=medical+records", "/api/search?q=nurse", "/institutions/100001", "/careers/29-2072", "/"]

    def __init__(self, base: str, threads: int = 4) -> None:
        self.base = base
        self.results: list[tuple[float, int]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(threads)]

    def run(self, n: int) -> None:
        i = n
        while not self.stop.is_set():
            path = self.PATHS[i % len(self.PATHS)]
            i += 1
            try:
                with urllib.request.urlopen(self.base + path, timeout=20) as resp:
                    resp.read()
                    status = resp.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except (OSError, http.client.HTTPException):  # reset or cut short by the kill
                status = 0
            self.results.append((time.monotonic(), status))

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)


def test_web_server_killed_mid_request_loses_nothing(built_web_data, tmp_path, testdata):
    import psutil

    data = tmp_path / "data"
    shutil.copytree(built_web_data, data)
    port = free_port()
    # The load runs hundreds of searches from one address: the search and API limits (tested on
    # their own) would answer 429 to it.
    env = child_env(data, SEARCH_RATE_LIMIT="", API_RATE_LIMIT="")
    base = f"http://127.0.0.1:{port}"
    server = start_cli(["serve", "--port", port, "--workers", "2"], env, tmp_path / "serve1.log")
    try:
        wait_http(base + "/", server)
        assert submit_review(base, testdata.GHC, "Before the worker was killed") == 302
        with Load(base) as load:
            time.sleep(1.0)
            workers = psutil.Process(server.pid).children()
            assert len(workers) == 2
            victim = workers[0]
            victim.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            # gunicorn's master replaces the worker; the site keeps answering meanwhile.
            wait_for(lambda: len([w for w in psutil.Process(server.pid).children() if w.pid != victim.pid]) == 2,
                     30, "a replacement worker")
            replaced_at = time.monotonic()
            time.sleep(2.0)
            assert submit_review(base, testdata.GHC, "After the worker was killed") == 302
            time.sleep(1.0)
            # Now the whole server dies mid-request: master and workers at once.
            master_killed_at = time.monotonic()
            stop_group(server, signal.SIGKILL)
        assert killed_at < replaced_at
        late = [s for t, s in load.results if replaced_at + 0.5 < t < master_killed_at - 0.1]
        assert late and all(s == 200 for s in late), f"not answering after the worker was replaced: {late[:20]}"
        assert sum(s == 200 for _, s in load.results) > 50
        assert all(s in (0, 200) for _, s in load.results), sorted({s for _, s in load.results})
    finally:
        stop_group(server, signal.SIGKILL)

    with Catalog(data / "catalog.sqlite3") as cat:
        assert cat.integrity_check() == []
        titles = sorted(r.title for r in cat.list_user_reviews("pending"))
    assert titles == ["After the worker was killed", "Before the worker was killed"]

    # A restart on the same data serves pages and forms again (same secret key: old tokens stay valid).
    restarted = start_cli(["serve", "--port", port, "--workers", "1"], env, tmp_path / "serve2.log")
    try:
        wait_http(base + "/", restarted, timeout=60)
        for path in Load.PATHS:
            with urllib.request.urlopen(base + path, timeout=20) as resp:
                assert resp.status == 200, path
        assert submit_review(base, testdata.OVCC, "After the restart") == 302
    finally:
        stop_group(restarted)
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        assert cat.count_user_reviews("pending") == 3
