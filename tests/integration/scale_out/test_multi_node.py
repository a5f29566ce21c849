"""Several machines on one: PostgreSQL, two crawl workers, two web nodes (`serve` + `index follow`, each its own index).

Every source is queued; one worker is killed outright (with its crawl, as when its machine dies)
in the middle of a crawl. Then: every source ran to a complete finish once, the catalog equals
the sample site's ground truth (nothing lost, nothing doubled), both web nodes reach the
catalog's last change and answer the same queries alike, and a review written on node A is
searchable on node B once approved.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import psutil
import pytest

from catalog import Catalog
from model.sources import BUILTIN_SOURCES
from sample_site import truth
from tests.integration.crawler.crawl_helpers import compare_with_truth
from tests.plugins.system import free_port
from tests.security.support import child_env, run_cli
from tests.unit.webapp.webapp_testdata import ADMIN_HASH

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

ROOT = Path(__file__).resolve().parents[3]
LINK_FIELDS = {"institution_unitid", "link_status", "link_confidence"}
QUERIES = ["nursing", "medical records", "radiologic technology online", "community college ohio", "dental"]


class Proc:
    """A `collegesearch` child process with its log."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.log_path = logs / f"{name}.log"
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "collegesearch", *args], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def tail(self) -> str:
        """The end of its log."""
        self.log.flush()
        return f"--- {self.name}\n" + self.log_path.read_text(errors="replace")[-3000:]

    def kill_tree(self) -> None:
        """SIGKILL it and everything it started (its machine died)."""
        try:
            procs = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            procs = []
        for p in procs:
            try:
                p.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        self.proc.wait(30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a while."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill_tree()
        self.log.close()


def _wait(what: str, check: Any, timeout: float, procs: list[Proc], every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        for p in procs:
            if p.proc.poll() is not None:
                pytest.fail(f"{p.name} exited with {p.proc.returncode} while waiting for {what}\n{p.tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n" + "\n".join(p.tail() for p in procs))
        time.sleep(every)


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read())


def _crawl_pid_of(worker: Proc) -> int | None:
    try:
        children = psutil.Process(worker.proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return None
    for child in children:
        try:
            if "crawl" in child.cmdline():
                return child.pid
        except psutil.NoSuchProcess:
            continue
    return None


def _lag(data_dir: Path, env: dict[str, str]) -> int | None:
    result = run_cli(["status", "--json"], env, timeout=60)
    if result.returncode != 0:
        return None
    index = json.loads(result.stdout).get("index") or {}
    behind = index.get("changes_behind")
    return int(behind) if behind is not None else None


def test_two_workers_two_web_nodes_one_killed_worker(tmp_path: Path, pg_url: str, fresh_sample_site: Any) -> None:
    site = fresh_sample_site()
    logs = tmp_path / "logs"
    logs.mkdir()

    def env_for(name: str, **extra: Any) -> dict[str, str]:
        return child_env(tmp_path / name, DATABASE_URL=pg_url, SAMPLE_SITE_URL=site.base_url, **extra)

    up = run_cli(["db", "upgrade"], env_for("admin"))
    assert up.returncode == 0, up.describe()

    procs: list[Proc] = []
    try:
        workers = [Proc(f"worker{i}", ["worker", "--concurrency", "1"], env_for(f"worker{i}"), logs) for i in (1, 2)]
        procs += workers
        queued = run_cli(["crawl", *BUILTIN_SOURCES, "--queue"], env_for("admin"))
        assert queued.returncode == 0, queued.describe()
        assert len(re.findall(r"\d+", queued.stdout)) >= len(BUILTIN_SOURCES), queued.stdout

        # Kill the worker crawling collegenavigator (the biggest source) once a quarter of it is stored.
        def navigator_midway() -> Proc | None:
            with Catalog(pg_url) as cat:
                if cat.count("institution", source="collegenavigator") < 1000:
                    return None
            return next((w for w in workers if _crawl_pid_of(w) is not None and w.proc.poll() is None
                         and any("collegenavigator" in " ".join(psutil.Process(c).cmdline())
                                 for c in [_crawl_pid_of(w)] if c)), None)

        victim = _wait("collegenavigator's crawl to be midway", navigator_midway, 900, procs)
        victim.kill_tree()
        procs.remove(victim)
        survivor = next(w for w in workers if w is not victim)

        def all_done() -> bool:
            with Catalog(pg_url) as cat:
                runs = cat.list_runs(limit=100)
            finished = {r.source for r in runs if r.status == "ok" and r.complete}
            return finished >= set(BUILTIN_SOURCES)

        _wait("every source to finish", all_done, 2400, [survivor], every=2)

        with Catalog(pg_url) as cat:
            runs = cat.list_runs(limit=100)
            for source in BUILTIN_SOURCES:
                ok = [r for r in runs if r.source == source and r.status == "ok" and r.complete]
                assert len(ok) == 1, (source, [(r.id, r.status, r.complete) for r in runs if r.source == source])
            killed = [r for r in runs if r.source == "collegenavigator" and r.status != "ok"]
            assert killed and all(r.status == "interrupted" for r in killed), [(r.id, r.status) for r in killed]
            [resumed] = [r for r in runs if r.source == "collegenavigator" and r.status == "ok"]
            assert resumed.stats.get("resumed_from"), resumed.stats
            expected = truth.expected_items(1, base_urls=dict(site.base_urls))
            problems = compare_with_truth(cat, expected, skip=LINK_FIELDS)
            counts = {kind: cat.count(kind) for kind in expected}
            last_change = cat.fused.max_change_seq()
        assert not problems, problems
        assert counts == {kind: len(items) for kind, items in expected.items()}

        # Two web nodes, each with its own data dir and index, following the catalog.
        nodes = {}
        for name in ("nodeA", "nodeB"):
            port = free_port()
            node_env = env_for(name, ADMIN_PASSWORD_HASH=ADMIN_HASH, WEB_WORKERS=1)
            follower = Proc(f"{name}-follow", ["index", "follow"], node_env, logs)
            server = Proc(f"{name}-serve", ["serve", "--host", "127.0.0.1", "--port", str(port)], node_env, logs)
            procs += [follower, server]
            nodes[name] = (f"http://127.0.0.1:{port}", node_env)
        for name, (base, node_env) in nodes.items():
            _wait(f"{name}'s index to reach the catalog", lambda e=node_env: _lag(tmp_path, e) == 0, 900, procs, 2)
            _wait(f"{name} to answer", lambda b=base: _get_json(b + "/api/search?q=nursing").get("total"), 120, procs)
        answers = {}
        for name, (base, _env) in nodes.items():
            answers[name] = [[h["id"] for h in _get_json(base + "/api/search?" + urllib.parse.urlencode(
                {"q": q, "per_page": 20}))["results"]] for q in QUERIES]
        assert answers["nodeA"] == answers["nodeB"]
        assert all(answers["nodeA"]), answers["nodeA"]

        # A review written on node A, approved there, is searchable on node B.
        base_a, _ = nodes["nodeA"]
        base_b, _ = nodes["nodeB"]
        unitid = _some_institution(pg_url)
        marker = "zygomorphic"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        form = opener.open(f"{base_a}/institutions/{unitid}/review").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        opener.open(f"{base_a}/institutions/{unitid}/review", data=urllib.parse.urlencode({
            "csrf_token": token, "rating": "4", "category": "academics", "author_role": "current_student",
            "title": "Labs", "body": f"The {marker} labs are open late and the instructors answer every question.",
        }).encode())
        with Catalog(pg_url) as cat:
            [pending] = cat.list_user_reviews("pending")
            assert marker in pending.body
            assert cat.moderate_user_review(pending.id, approve=True, moderator="test")
            cat.fuse_pending()
            assert cat.fused.max_change_seq() > last_change

        def searchable_on_b() -> bool:
            return _get_json(base_b + "/api/search?" + urllib.parse.urlencode({"q": marker}))["total"] > 0

        _wait("the approved review to be searchable on node B", searchable_on_b, 120, procs, 1)
    finally:
        for p in procs:
            p.stop()


def _some_institution(url: str) -> str:
    with Catalog(url) as cat:
        for stored in cat.fused.iter_items("institution"):
            return stored.item_id
    raise AssertionError("no institution")
