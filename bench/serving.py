"""Serving benchmark: ``/search`` and ``/api/search`` under concurrent load, alone and while index syncs commit.

    python -m bench.serving [--quick | --smoke] [--data-dir DATA_DIR_WITH_INDEX] [--users N] [--duration S]

Starts the production server (``collegesearch serve --workers 4``: gunicorn, 4 worker processes)
on a copy of a crawled, indexed data dir, checks that every search of the mix answers 200, then
runs locust headless on loopback (``bench/locustfile.py``: a bounded number of visitors replaying
a mix of searches with a short think time) for 30 s. Each run is done twice: with the index
quiet, and while a loop changes records in the catalog (``Catalog.upsert``) and runs
``collegesearch index sync`` underneath, so the workers' searchers see new commits during the
load. Full mode repeats the pair three times and reports medians. Reported: requests/s, p50 / p95
/ p99 per endpoint, errors, the peak RSS of the gunicorn workers (psutil samples), the CPU the
server and the load generator used (they share the same two cores; locust's share is given). A
static file fetched in the same run is the baseline. Target: zero errors, results page p95
under 150 ms.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    PYTHON,
    ROOT,
    BenchError,
    Section,
    Target,
    TreeSampler,
    child_env,
    cli,
    copy_catalog,
    copy_data_dir,
    fmt,
    free_port,
    median,
    run_measured,
    say,
    section_main,
    start,
    stop,
    wait_http,
)

P95_PAGE_TARGET_MS = 150.0
WORKERS = 4
ENDPOINTS = ("/search", "/api/search", "static file (baseline)")


@dataclass
class Plan:
    """Load parameters for a mode."""

    users: int
    spawn_rate: float
    duration: int
    runs: int
    changes_per_sync: int


PLANS = {
    "full": Plan(users=10, spawn_rate=5, duration=30, runs=3, changes_per_sync=50),
    "quick": Plan(users=10, spawn_rate=5, duration=15, runs=1, changes_per_sync=50),
    "smoke": Plan(users=2, spawn_rate=2, duration=4, runs=1, changes_per_sync=2),
}


@dataclass
class EndpointStats:
    """Locust's figures for one endpoint."""

    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


@dataclass
class LoadRun:
    """One locust run."""

    phase: str
    endpoints: dict[str, EndpointStats]
    worker_peak_rss_mb: float
    workers_total_rss_mb: float
    server_cpu_s: float
    locust_cpu_s: float
    seconds: float
    syncs: int = 0
    sync_changes: int = 0
    sync_seconds: list[float] = field(default_factory=list)

    @property
    def requests(self) -> int:
        """Every request of the run (locust's aggregated row is not counted twice)."""
        return sum(e.requests for name, e in self.endpoints.items() if name != "all")

    @property
    def failures(self) -> int:
        """Every failed request (non-2xx, connection errors)."""
        return sum(e.failures for name, e in self.endpoints.items() if name != "all")


def read_locust_csv(path: Path) -> dict[str, EndpointStats]:
    """Locust's ``*_stats.csv`` by request name."""
    out: dict[str, EndpointStats] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            name = row.get("Name", "")
            if name == "Aggregated":
                name = "all"

            def num(key: str, row: dict[str, str] = row) -> float:
                value = row.get(key) or "0"
                return float(value) if value != "N/A" else 0.0

            out[name] = EndpointStats(int(num("Request Count")), int(num("Failure Count")), num("Requests/s"),
                                      num("50%"), num("95%"), num("99%"))
    return out


def check_mix(base: str) -> None:
    """Every search of the mix answers 200 on page and API (and warms each worker's searcher)."""
    from bench.query_mix import SEARCHES, STATIC

    bad = []
    for _ in range(2):
        for _what, params in SEARCHES:
            for path in ("/search", "/api/search"):
                url = f"{base}{path}?{urllib.parse.urlencode(params)}"
                try:
                    with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 - loopback
                        resp.read()
                except urllib.error.HTTPError as exc:
                    bad.append(f"{exc.code} {path}?{urllib.parse.urlencode(params)}")
        with urllib.request.urlopen(base + STATIC, timeout=60) as resp:  # noqa: S310 - loopback
            resp.read()
    if bad:
        raise BenchError("searches of the mix fail before any load: " + "; ".join(sorted(set(bad))[:10]))


class SyncLoop(threading.Thread):
    """Change records and run ``collegesearch index sync`` in a loop until stopped."""

    def __init__(self, data_dir: Path, keys: list[tuple[str, str]], per_sync: int, logs: Path, tag: str) -> None:
        super().__init__(name="sync-loop", daemon=True)
        self.data_dir, self.keys, self.per_sync, self.logs, self.tag = data_dir, keys, per_sync, logs, tag
        self.stopping = threading.Event()
        self.syncs = 0
        self.changes = 0
        self.seconds: list[float] = []
        self.error: BaseException | None = None
        self.child: subprocess.Popen[Any] | None = None

    def _on_child(self, proc: subprocess.Popen[Any]) -> None:
        self.child = proc

    def run(self) -> None:
        """Loop: change, sync, pause a second."""
        from bench.index import change_records

        rng = random.Random(hash(self.tag) & 0xFFFF)
        try:
            while not self.stopping.is_set():
                self.changes += change_records(self.data_dir, self.keys, self.per_sync, rng, 1000 + self.syncs)
                if self.stopping.is_set():
                    break
                done = run_measured(cli(self.data_dir, "index", "sync"), logs=self.logs,
                                    name=f"serving-sync-{self.tag}-{self.syncs}", env=child_env(self.data_dir),
                                    started=self._on_child)
                if self.stopping.is_set() and done.returncode != 0:
                    break  # stopped by an interrupted run
                done.check("index sync under load")
                self.syncs += 1
                self.seconds.append(done.wall)
                self.stopping.wait(1.0)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            self.error = exc


def _tree_cpu(pid: int) -> float:
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                continue
    except psutil.Error:
        pass
    return total


def load_run(base: str, server_pid: int, plan: Plan, workdir: Path, phase: str, tag: str,
             data_dir: Path, keys: list[tuple[str, str]]) -> LoadRun:
    """One locust run against the server; with ``phase == "sync"``, index syncs commit underneath."""
    logs = workdir / "logs"
    prefix = workdir / f"locust-{tag}"
    env = child_env(BENCH_WAIT_MIN="0.2", BENCH_WAIT_MAX="1.0")
    cmd = [PYTHON, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
           "--users", str(plan.users), "--spawn-rate", str(plan.spawn_rate), "--run-time", f"{plan.duration}s",
           "--host", base, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
           "--exit-code-on-error", "0", "--stop-timeout", "5"]
    syncer = SyncLoop(data_dir, keys, plan.changes_per_sync, logs, tag) if phase == "sync" else None
    cpu0 = _tree_cpu(server_pid)
    with TreeSampler(server_pid, interval=0.25) as sampler:
        if syncer is not None:
            syncer.start()
        try:
            done = run_measured(cmd, logs=logs, name=f"locust-{tag}", env=env, timeout=plan.duration + 120)
        except BaseException:
            if syncer is not None:
                # interrupted: stop the sync child now rather than wait for it (the loop then ends)
                syncer.stopping.set()
                if syncer.child is not None:
                    stop(syncer.child, timeout=5)
            raise
        finally:
            if syncer is not None:
                syncer.stopping.set()
                syncer.join(300)
    done.check("locust")
    if syncer is not None and syncer.error is not None:
        raise BenchError(f"the sync loop failed: {syncer.error}")
    workers = {pid: rss for pid, rss in sampler.peak.items() if pid != server_pid}
    run = LoadRun(phase=phase, endpoints=read_locust_csv(Path(f"{prefix}_stats.csv")),
                  worker_peak_rss_mb=max(workers.values(), default=0.0),
                  workers_total_rss_mb=sampler.peak_total, server_cpu_s=_tree_cpu(server_pid) - cpu0,
                  locust_cpu_s=done.cpu_s, seconds=done.wall)
    if syncer is not None:
        run.syncs, run.sync_changes, run.sync_seconds = syncer.syncs, syncer.changes, syncer.seconds
    return run


def prepare(workdir: Path, mode: str, data_dir: Path | None, catalog_dir: Path | None = None) -> Path:
    """A private copy of an indexed data dir; from a crawled catalog (crawled here when none is given) it indexes."""
    target = workdir / "data-serving"
    if data_dir is None:
        if catalog_dir is None:
            from bench.crawl import crawl_catalog

            catalog_dir = crawl_catalog(workdir / "crawl", mode)
        copy_catalog(catalog_dir, target)
        say("serving: building the index ...")
        run_measured(cli(target, "index", "rebuild"), logs=workdir / "logs", name="serving-rebuild",
                     env=child_env(target)).check("index rebuild")
    else:
        copy_data_dir(data_dir, target)
        run_measured(cli(target, "index", "sync"), logs=workdir / "logs", name="serving-presync",
                     env=child_env(target)).check("index sync")
    return target


def run(workdir: Path, mode: str = "full", data_dir: Path | None = None, plan: Plan | None = None,
        catalog_dir: Path | None = None) -> Section:
    """Serve, load, report: on a copy of ``data_dir`` (catalog and index), or of ``catalog_dir`` indexed here."""
    from bench.index import record_keys

    started = time.perf_counter()
    plan = plan or PLANS[mode]
    data = prepare(workdir, mode, data_dir, catalog_dir)
    keys = record_keys(data)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    out, err = (logs / "serve.out").open("w"), (logs / "serve.err").open("w")
    server = start(cli(data, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)),
                   env=child_env(data), stdout=out, stderr=err)
    runs: list[LoadRun] = []
    try:
        wait_http(base + "/api/search?q=nursing", timeout=180, proc=server)
        say(f"serving: {WORKERS} gunicorn workers at {base}; checking the query mix ...")
        check_mix(base)
        idle_rss = _worker_rss(server.pid)
        for i in range(plan.runs):
            for phase in ("steady", "sync"):
                say(f"serving: locust {plan.users} users, {plan.duration} s, {phase} index, run {i + 1}/{plan.runs}")
                runs.append(load_run(base, server.pid, plan, workdir, phase, f"{phase}-{i + 1}", data, keys))
                r = runs[-1]
                page = r.endpoints.get("/search")
                say(f"serving: {r.requests:,} requests, {r.failures} failures, page p95 "
                    f"{page.p95 if page else float('nan'):.0f} ms" + (f", {r.syncs} syncs" if r.syncs else ""))
    finally:
        stop(server)
        out.close()
        err.close()
    section = report(runs, plan, mode, idle_rss)
    section.seconds = time.perf_counter() - started
    return section


def _worker_rss(server_pid: int) -> float:
    """The largest RSS (MiB) of the server's worker processes right now."""
    import psutil

    try:
        workers = psutil.Process(server_pid).children(recursive=True)
    except psutil.Error:
        return 0.0
    rss = []
    for w in workers:
        try:
            rss.append(w.memory_info().rss / 2**20)
        except psutil.Error:
            continue
    return max(rss, default=0.0)


def report(runs: list[LoadRun], plan: Plan, mode: str, idle_rss: float = 0.0) -> Section:
    """The serving section: per phase, medians over runs of each endpoint's figures."""
    section = Section("Serving")
    cores = os.cpu_count() or 1
    section.add_text(
        f"`collegesearch serve --workers {WORKERS}` (gunicorn, gthread) on loopback; locust headless, "
        f"{plan.users} users (spawn rate {plan.spawn_rate:g}/s), think time 0.2-1.0 s, {plan.duration} s per run, "
        "replaying a mix of 28 searches (careers, programs + place, filters, typos, near-me, reviews, paging) on "
        "the results page and the JSON API, plus a static file as the same-run baseline. *Under sync*: a loop "
        f"changes {plan.changes_per_sync} records with `Catalog.upsert` and runs `collegesearch index sync`, "
        "pausing 1 s between syncs, for the whole run."
        + (f" Medians of {plan.runs} runs per phase." if plan.runs > 1 else ""))
    rows = []
    targets: list[Target] = []
    decided = mode != "smoke"
    quiet_page_p95: float | None = None
    for phase, label in (("steady", "index quiet"), ("sync", "under sync")):
        these = [r for r in runs if r.phase == phase]
        if not these:
            continue
        for name in ENDPOINTS:
            stats = [r.endpoints[name] for r in these if name in r.endpoints]
            if not stats:
                continue
            p95 = median(s.p95 for s in stats)
            base = [r.endpoints.get("static file (baseline)") for r in these]
            base_p95 = median(b.p95 for b in base if b)
            rows.append([label, name, f"{sum(s.requests for s in stats):,}", fmt(median(s.rps for s in stats)),
                         fmt(median(s.p50 for s in stats), 0), fmt(p95, 0), fmt(median(s.p99 for s in stats), 0),
                         str(sum(s.failures for s in stats)),
                         "(baseline)" if name.startswith("static") else (f"{p95 / base_p95:.1f}x" if base_p95 else "-")])
        page = [r.endpoints["/search"] for r in these if "/search" in r.endpoints]
        api = [r.endpoints["/api/search"] for r in these if "/api/search" in r.endpoints]
        failures = sum(r.failures for r in these)
        total = sum(r.requests for r in these)
        base_p95 = median(r.endpoints["static file (baseline)"].p95 for r in these
                          if "static file (baseline)" in r.endpoints)
        # a short run may not have fetched the static file at all
        static_label = f"static file p95 {base_p95:.0f} ms" if base_p95 else "no static request"
        if page:
            p95 = median(s.p95 for s in page)
            if phase == "steady" or quiet_page_p95 is None:
                baseline, ratio = static_label, p95 / base_p95 if base_p95 else None
                quiet_page_p95 = p95
            else:
                baseline, ratio = f"index quiet {quiet_page_p95:.0f} ms", p95 / quiet_page_p95 if quiet_page_p95 else None
            targets.append(Target(f"Results page p95, {label}", f"{p95:.0f} ms", baseline,
                                  f"< {P95_PAGE_TARGET_MS:.0f} ms", p95 < P95_PAGE_TARGET_MS if decided else None,
                                  ratio=f"{ratio:.1f}x" if ratio is not None else ""))
        if api:
            api_p95 = median(s.p95 for s in api)
            targets.append(Target(f"/api/search p95, {label}", f"{api_p95:.0f} ms", static_label,
                                  "(none; shown)", None, ratio=f"{api_p95 / base_p95:.1f}x" if base_p95 else "",
                                  info=True))
        agg = [r.endpoints["all"].rps for r in these if "all" in r.endpoints]
        targets.append(Target(f"Requests/s, {label} ({plan.users} users)", f"{median(agg):.1f} req/s",
                              "-", "(none; shown)", None, info=True))
        targets.append(Target(f"Errors, {label}", f"{failures} of {total:,} requests", "-", "0",
                              failures == 0 if decided else None,
                              ratio=f"{failures / total:.2%}" if total else ""))
    worker_peak = max((r.worker_peak_rss_mb for r in runs), default=0.0)
    targets.append(Target("Web worker peak RSS (one gunicorn worker, all runs)", f"{worker_peak:.0f} MiB",
                          f"after warm-up {idle_rss:.0f} MiB", "(none; shown)", None,
                          ratio=f"{worker_peak / idle_rss:.1f}x" if idle_rss else "", info=True))
    section.add_table(["Phase", "Endpoint", "Requests (all runs)", "Req/s", "p50 ms", "p95 ms", "p99 ms", "Errors",
                       "p95 vs static file"], rows, align="llrrrrrrr")
    resources = []
    for phase, label in (("steady", "index quiet"), ("sync", "under sync")):
        these = [r for r in runs if r.phase == phase]
        if not these:
            continue
        budget = cores * median(r.seconds for r in these)
        server_cpu, locust_cpu = median(r.server_cpu_s for r in these), median(r.locust_cpu_s for r in these)
        syncs = sum(r.syncs for r in these)
        sync_secs = [s for r in these for s in r.sync_seconds]
        resources.append([label, fmt(median(r.worker_peak_rss_mb for r in these), 0),
                          fmt(median(r.workers_total_rss_mb for r in these), 0),
                          f"{server_cpu:.1f} s ({server_cpu / budget:.0%})", f"{locust_cpu:.1f} s ({locust_cpu / budget:.0%})",
                          f"{syncs} ({sum(r.sync_changes for r in these):,} records; median {median(sync_secs):.1f} s)"
                          if syncs else "-"])
    section.add_text(f"Resources per run (CPU share of the {cores} cores x run time):")
    section.add_table(["Phase", "Peak RSS of one worker MiB", "Peak RSS master + workers MiB", "Server CPU",
                       "Locust CPU (same cores)", "Index syncs committed"], resources, align="lrrrrl")
    section.targets = targets
    section.figures = {"runs": [asdict(r) for r in runs],
                       "worker_peak_rss_mb": worker_peak, "worker_rss_after_warmup_mb": idle_rss}
    return section


def main(argv: Sequence[str] | None = None) -> int:
    """Run the serving benchmark alone and print its section."""

    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--data-dir", type=Path, default=None,
                            help="a data dir with a catalog and an index (copied, never changed); default: crawl and index")
        parser.add_argument("--users", type=int, default=None, help="locust users (default: 10)")
        parser.add_argument("--duration", type=int, default=None, help="seconds per locust run (default: 30)")

    def run_section(workdir: Path, args: argparse.Namespace) -> Section:
        plan = PLANS[args.mode]
        if args.users or args.duration:
            plan = Plan(args.users or plan.users, min(plan.spawn_rate, args.users or plan.users),
                        args.duration or plan.duration, plan.runs, plan.changes_per_sync)
        return run(workdir, args.mode, args.data_dir, plan)

    return section_main(argv, __doc__, "cs-bench-serving-", run_section, options)


if __name__ == "__main__":
    sys.exit(main())
