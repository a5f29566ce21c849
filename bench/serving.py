"""Serving benchmark: the results page under 10 users, with the index quiet and with a sync every second.

    python -m bench.serving [--quick | --smoke] [--data-dir DATA_DIR_WITH_INDEX] [--scale N]
                            [--users N] [--duration S] [--workdir DIR] [--keep]

Starts the production server (``collegesearch serve --workers 2``: gunicorn, 2 worker processes)
on a copy of an indexed data dir (``--scale N``: of the sample site at N times the programs and
reviews, ``bench.scaled``), warms it with the common searches, then runs locust headless on
loopback (``bench/locustfile.py``): 10 users asking for the results page ``/search`` with no
think time, half of the queries a long tail of 1-3 words from the served catalog's career and
college names (each sent once: first-time for the server), the rest common queries with a state
or online filter and a page number (``bench/query_mix.py``); a static file, 1 request in 13, is the
same-run baseline. Each run is done with the index **quiet** and **under sync**: a loop changes
20 reviews with ``Catalog.upsert`` and runs ``collegesearch index sync``, one sync starting every
~1 s, for the whole run. Full mode repeats the pair three times (medians).

Reported per phase: results page p50 / p95, pages/s, static file p95, errors, and each gunicorn
worker's RSS after warm-up and after each run (the largest worker). Targets (issue 13): results
page p95 under sync <= 1.5x the quiet p95; pages/s under sync >= 0.6x quiet; results page p95
quiet < 100 ms; worker RSS after the load and syncs <= 350 MiB at 1x (<= 600 MiB at 10x).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    PYTHON,
    ROOT,
    BenchError,
    Section,
    Target,
    TreeSampler,
    build_indexed,
    child_env,
    cli,
    copy_data_dir,
    fmt,
    free_port,
    median,
    percentile,
    run_measured,
    say,
    scaled_dir,
    section_main,
    start,
    stop,
    wait_http,
)
from bench.request_log import failure_reasons, read_request_log

WORKERS = 2
P95_QUIET_TARGET_MS = 100.0
P95_SYNC_RATIO_LIMIT = 1.5
PAGES_SYNC_RATIO_MIN = 0.6
RSS_LIMIT_MIB = {1: 350.0, 10: 600.0}
SYNC_PERIOD_S = 1.0
WARM_LONG_TAIL = 40
# Long-tail queries set aside per run: more than the results pages the server can answer (half of them
# long-tail) at this many pages/s, so no query is sent twice
MAX_PAGES_PER_S = 500
SEED = 20260113
LONG_TAIL, COMMON, STATIC_NAME = "/search (long tail)", "/search (common)", "static file (baseline)"
PHASES = (("quiet", "index quiet"), ("sync", "under sync"))


@dataclass
class Plan:
    """Load parameters for a mode."""

    users: int
    duration: int
    runs: int
    reviews_per_sync: int


PLANS = {
    "full": Plan(users=10, duration=30, runs=3, reviews_per_sync=20),
    "quick": Plan(users=10, duration=20, runs=1, reviews_per_sync=20),
    "smoke": Plan(users=3, duration=5, runs=1, reviews_per_sync=2),
}


@dataclass
class LoadRun:
    """One locust run: latencies per request kind, throughput, syncs, worker memory."""

    phase: str
    tag: str
    window_s: float
    page_ms: list[float]
    long_tail_ms: list[float]
    common_ms: list[float]
    static_ms: list[float]
    requests: int
    failures: int
    failed: dict[str, int]
    """Failed requests by name (non-2xx answers, connection errors)."""
    failure_reasons: dict[str, int]
    """Failed requests by what failed ("name: error"), so a failure is reported with its cause."""
    repeated_long_tail: int
    rss_before: dict[int, float]
    rss_after: dict[int, float]
    worker_peak_rss_mb: float
    server_cpu_s: float
    locust_cpu_s: float
    syncs: int = 0
    sync_changes: int = 0
    sync_seconds: list[float] = field(default_factory=list)
    sync_period_s: float = 0.0
    sync_cpu_s: float = 0.0

    @property
    def pages_per_s(self) -> float:
        """Results pages answered per second over the run."""
        return len(self.page_ms) / self.window_s if self.window_s else 0.0

    def p(self, name: str, q: float) -> float:
        """A percentile of one request kind (``page``, ``long_tail``, ``common``, ``static``), ms."""
        return percentile(getattr(self, f"{name}_ms"), q)

    def summary(self) -> dict[str, Any]:
        """The run's figures without the raw latencies (for RESULTS.md's JSON-able figures)."""
        return {
            "phase": self.phase, "tag": self.tag, "window_s": round(self.window_s, 2), "pages": len(self.page_ms),
            "pages_per_s": round(self.pages_per_s, 2), "page_p50_ms": self.p("page", 0.5),
            "page_p95_ms": self.p("page", 0.95), "long_tail_p95_ms": self.p("long_tail", 0.95),
            "common_p95_ms": self.p("common", 0.95), "static_p95_ms": self.p("static", 0.95),
            "requests": self.requests, "failures": self.failures, "repeated_long_tail": self.repeated_long_tail,
            "rss_before_mb": self.rss_before, "rss_after_mb": self.rss_after, "syncs": self.syncs,
            "sync_changes": self.sync_changes, "sync_period_s": self.sync_period_s,
        }


def warm_up(base: str, long_tail: Sequence[str]) -> None:
    """Every common search answers 200 (twice, so both workers see them), a few long-tail ones warm the rest."""
    from bench.query_mix import STATIC, common_searches

    bad = []
    urls = [f"/search?{urllib.parse.urlencode(params)}" for _what, params in common_searches()]
    urls = urls * 2 + [f"/search?{urllib.parse.urlencode({'q': q})}" for q in long_tail] + [STATIC] * 4
    for url in urls:
        try:
            with urllib.request.urlopen(base + url, timeout=60) as resp:  # noqa: S310 - loopback
                resp.read()
        except urllib.error.HTTPError as exc:
            bad.append(f"{exc.code} {url}")
    if bad:
        raise BenchError("searches of the mix fail before any load: " + "; ".join(sorted(set(bad))[:10]))


class SyncLoop(threading.Thread):
    """Change records and run ``collegesearch index sync``, one sync starting every ``period`` s, until stopped."""

    def __init__(self, data_dir: Path, keys: list[tuple[str, str]], per_sync: int, logs: Path, tag: str,
                 period: float = SYNC_PERIOD_S) -> None:
        super().__init__(name="sync-loop", daemon=True)
        self.data_dir, self.keys, self.per_sync, self.logs, self.tag = data_dir, keys, per_sync, logs, tag
        self.period = period
        self.stopping = threading.Event()
        self.syncs = 0
        self.changes = 0
        self.seconds: list[float] = []
        self.starts: list[float] = []
        self.cpu_s = 0.0
        self.error: BaseException | None = None
        self.child: subprocess.Popen[Any] | None = None

    def _on_child(self, proc: subprocess.Popen[Any]) -> None:
        self.child = proc

    @property
    def mean_period(self) -> float:
        """Seconds from one sync's start to the next, on average (0 with fewer than two syncs)."""
        return (self.starts[-1] - self.starts[0]) / (len(self.starts) - 1) if len(self.starts) > 1 else 0.0

    def run(self) -> None:
        """Loop: change, sync, wait for the next period (at once when the sync took longer)."""
        from bench.index import change_records

        rng = random.Random(zlib.crc32(self.tag.encode()))
        count = min(self.per_sync, len(self.keys))
        try:
            while not self.stopping.is_set():
                began = time.monotonic()
                self.starts.append(began)
                self.changes += change_records(self.data_dir, self.keys, count, rng, 1000 + self.syncs)
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
                self.cpu_s += done.cpu_s
                self.stopping.wait(max(0.0, began + self.period - time.monotonic()))
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


def worker_rss(server_pid: int) -> dict[int, float]:
    """RSS (MiB) of each gunicorn worker (the master's children) right now."""
    import psutil

    try:
        workers = psutil.Process(server_pid).children()
    except psutil.Error:
        return {}
    out = {}
    for w in workers:
        try:
            out[w.pid] = w.memory_info().rss / 2**20
        except psutil.Error:
            continue
    return out


def worker_uss(server_pid: int) -> float:
    """The largest private memory (USS, MiB: not shared with the master) of a worker right now."""
    import psutil

    best = 0.0
    try:
        workers = psutil.Process(server_pid).children()
    except psutil.Error:
        return 0.0
    for w in workers:
        try:
            best = max(best, w.memory_full_info().uss / 2**20)
        except psutil.Error:
            continue
    return best


def load_run(base: str, server_pid: int, plan: Plan, workdir: Path, phase: str, tag: str, data_dir: Path,
             keys: list[tuple[str, str]], long_tail: Sequence[str]) -> LoadRun:
    """One locust run against the server; with ``phase == "sync"``, index syncs commit underneath."""
    logs = workdir / "logs"
    tail_file = workdir / f"long-tail-{tag}.txt"
    tail_file.write_text("\n".join(long_tail) + "\n", encoding="utf-8")
    request_log = workdir / f"requests-{tag}.csv"
    env = child_env(BENCH_LONG_TAIL=str(tail_file), BENCH_REQUEST_LOG=str(request_log))
    cmd = [PYTHON, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
           "--users", str(plan.users), "--spawn-rate", str(plan.users), "--run-time", f"{plan.duration}s",
           "--host", base, "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
           "--stop-timeout", "5"]
    syncer = SyncLoop(data_dir, keys, plan.reviews_per_sync, logs, tag) if phase == "sync" else None
    rss_before = worker_rss(server_pid)
    cpu0 = _tree_cpu(server_pid)
    with TreeSampler(server_pid, interval=0.5) as sampler:
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
    if not request_log.exists():
        raise BenchError(f"locust wrote no request log (see {logs / f'locust-{tag}.err'})")
    rows = read_request_log(request_log)
    if not rows:
        raise BenchError(f"locust sent no request in {plan.duration} s (see {logs / f'locust-{tag}.err'})")
    window = max(start + ms / 1000 for _, start, ms, _, _ in rows) - min(start for _, start, _, _, _ in rows)

    def ok_ms(*names: str) -> list[float]:
        return [ms for name, _, ms, ok, _ in rows if ok and name in names]

    workers = {pid: rss for pid, rss in sampler.peak.items() if pid != server_pid}
    run = LoadRun(phase=phase, tag=tag, window_s=window, page_ms=ok_ms(LONG_TAIL, COMMON),
                  long_tail_ms=ok_ms(LONG_TAIL), common_ms=ok_ms(COMMON), static_ms=ok_ms(STATIC_NAME),
                  requests=len(rows), failures=sum(1 for r in rows if not r[3]),
                  failed={name: sum(1 for r in rows if r[0] == name and not r[3])
                          for name in (LONG_TAIL, COMMON, STATIC_NAME)},
                  failure_reasons=failure_reasons(request_log),
                  repeated_long_tail=sum(1 for r in rows if r[4]), rss_before=rss_before,
                  rss_after=worker_rss(server_pid), worker_peak_rss_mb=max(workers.values(), default=0.0),
                  server_cpu_s=_tree_cpu(server_pid) - cpu0, locust_cpu_s=done.cpu_s)
    if syncer is not None:
        run.syncs, run.sync_changes, run.sync_seconds = syncer.syncs, syncer.changes, syncer.seconds
        run.sync_period_s, run.sync_cpu_s = syncer.mean_period, syncer.cpu_s
    return run


def prepare(workdir: Path, mode: str, data_dir: Path | None, catalog_dir: Path | None = None,
            scale: int = 1) -> Path:
    """A private copy of an indexed data dir (the syncs change it): ``data_dir``'s, else the scaled sample's, else built here."""
    target = workdir / "data-serving"
    if data_dir is None and scale > 1:
        data_dir = scaled_dir(scale)
    elif data_dir is None:
        data_dir = build_indexed(workdir, mode, catalog_dir)
    say(f"serving: copying {data_dir} and syncing the copy's index ...")
    copy_data_dir(data_dir, target)
    run_measured(cli(target, "index", "sync"), logs=workdir / "logs", name="serving-presync",
                 env=child_env(target)).check("index sync")
    return target


def sync_keys(data_dir: Path) -> tuple[list[tuple[str, str]], str]:
    """The records the sync loop changes: the catalog's reviews (any record when it has none), and what they are."""
    from bench.index import record_keys

    keys = record_keys(data_dir)
    reviews = [k for k in keys if k[0] == "review"]
    return (reviews, "reviews") if reviews else (keys, "records (the catalog has no review)")


def long_tail_pool(data_dir: Path, runs: int, duration: int) -> tuple[list[str], list[list[str]]]:
    """Warm-up long-tail queries and one disjoint slice per run, from the served catalog's names (seeded)."""
    from bench.query_mix import catalog_names, long_tail_queries

    per_run = math.ceil(duration * MAX_PAGES_PER_S / 2)
    pool = long_tail_queries(catalog_names(data_dir), WARM_LONG_TAIL + runs * per_run, SEED)
    warm, rest = pool[:min(WARM_LONG_TAIL, len(pool) // 4)], pool[min(WARM_LONG_TAIL, len(pool) // 4):]
    per_run = min(per_run, len(rest) // runs) if runs else 0
    say(f"serving: {len(pool):,} long-tail queries from the catalog's names, {per_run:,} per run")
    return warm, [rest[i * per_run:(i + 1) * per_run] for i in range(runs)]


def run(workdir: Path, mode: str = "full", data_dir: Path | None = None, plan: Plan | None = None,
        catalog_dir: Path | None = None, scale: int = 1, reference: dict[str, Any] | None = None) -> Section:
    """Serve, load, report: on a copy of ``data_dir``, of the sample site at ``scale``x, or of a catalog indexed here.

    ``reference``: the 1x section's figures, shown beside a scaled run's.
    """
    started = time.perf_counter()
    plan = plan or PLANS[mode]
    data = prepare(workdir, mode, data_dir, catalog_dir, scale)
    keys, changed_what = sync_keys(data)
    warm_tail, tails = long_tail_pool(data, 2 * plan.runs, plan.duration)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    out, err = (logs / "serve.out").open("w"), (logs / "serve.err").open("w")
    # Every simulated user comes from 127.0.0.1, one client to the rate limits: turn them off, the
    # benchmark measures serving, not how fast the limiter answers 429.
    unlimited = {"COLLEGESEARCH_SEARCH_RATE_LIMIT": "", "COLLEGESEARCH_API_RATE_LIMIT": ""}
    server = start(cli(data, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)),
                   env={**child_env(data), **unlimited}, stdout=out, stderr=err)
    runs: list[LoadRun] = []
    try:
        wait_http(base + "/search?q=nursing", timeout=300, proc=server)
        say(f"serving: {WORKERS} gunicorn workers at {base}; warming up with the common searches ...")
        warm_up(base, warm_tail)
        warm_rss = worker_rss(server.pid)
        for i in range(plan.runs):
            for phase, label in PHASES:
                tag = f"{phase}-{i + 1}"
                say(f"serving: locust {plan.users} users, {plan.duration} s, {label}, run {i + 1}/{plan.runs}")
                runs.append(load_run(base, server.pid, plan, workdir, phase, tag, data, keys, tails[len(runs)]))
                r = runs[-1]
                say(f"serving: {len(r.page_ms):,} pages ({r.pages_per_s:.1f}/s), p95 {r.p('page', 0.95):.0f} ms, "
                    f"{r.failures} failures" + (f", {r.syncs} syncs" if r.syncs else "")
                    + f"; worker RSS {max(r.rss_after.values(), default=0):.0f} MiB")
        final_uss = worker_uss(server.pid)
    finally:
        stop(server)
        out.close()
        err.close()
    section = report(runs, plan, mode, warm_rss, scale=scale, changed_what=changed_what, final_uss=final_uss,
                     reference=reference)
    section.seconds = time.perf_counter() - started
    return section


def _phase_figures(these: Sequence[LoadRun]) -> dict[str, float]:
    """Medians over a phase's runs."""
    return {
        "page_p50": median(r.p("page", 0.5) for r in these), "page_p95": median(r.p("page", 0.95) for r in these),
        "page_p99": median(r.p("page", 0.99) for r in these),
        "long_tail_p95": median(r.p("long_tail", 0.95) for r in these),
        "common_p95": median(r.p("common", 0.95) for r in these),
        "static_p50": median(r.p("static", 0.5) for r in these), "static_p95": median(r.p("static", 0.95) for r in these),
        "pages_per_s": median(r.pages_per_s for r in these),
        "worker_rss_end": max(these[-1].rss_after.values(), default=0.0),
    }


def report(runs: list[LoadRun], plan: Plan, mode: str, warm_rss: dict[int, float], *, scale: int = 1,
           changed_what: str = "reviews", final_uss: float = 0.0,
           reference: dict[str, Any] | None = None) -> Section:
    """The serving section: per phase, medians over runs; the issue's targets; each run's own row."""
    section = Section("Serving" if scale == 1 else f"Serving, {scale}x corpus")
    cores = os.cpu_count() or 1
    section.add_text(
        f"`collegesearch serve --workers {WORKERS}` (gunicorn, gthread) on loopback"
        + (f", on the sample site at {scale}x the programs and reviews" if scale > 1 else "")
        + f"; locust headless, {plan.users} users with no think time, {plan.duration} s per run, on the results "
        "page `/search`: half long-tail queries (1-3 words from the catalog's career and college names, each sent "
        "once: first-time for the server), half common searches with a state or online filter and a page number; "
        "a static file (1 request in 13) is the same-run baseline. *Under sync*: a loop changes "
        f"{plan.reviews_per_sync} {changed_what} with `Catalog.upsert` and runs `collegesearch index sync`, one sync "
        "starting every ~1 s (at once when the previous one took longer), for the whole run. "
        "Worker RSS: each gunicorn worker's, after warm-up and after each run; the largest worker is shown."
        + (f" Medians of {plan.runs} runs per phase (alternating quiet and sync)." if plan.runs > 1 else ""))
    decided = mode != "smoke"
    at_1x = scale == 1
    figures: dict[str, dict[str, float]] = {}
    rows = []
    names = {"page": (LONG_TAIL, COMMON), "long_tail": (LONG_TAIL,), "common": (COMMON,), "static": (STATIC_NAME,)}
    for phase, label in PHASES:
        these = [r for r in runs if r.phase == phase]
        if not these:
            continue
        f = figures[phase] = _phase_figures(these)
        static_p95 = f["static_p95"]
        for name, what in (("page", "/search (results page, all)"), ("long_tail", LONG_TAIL), ("common", COMMON),
                           ("static", STATIC_NAME)):
            count = sum(len(getattr(r, f"{name}_ms")) for r in these)
            p95 = median(r.p(name, 0.95) for r in these)
            rate = median(len(getattr(r, f"{name}_ms")) / r.window_s if r.window_s else 0.0 for r in these)
            rows.append([label, what, f"{count:,}", fmt(rate), fmt(median(r.p(name, 0.5) for r in these), 0),
                         fmt(p95, 0), fmt(median(r.p(name, 0.99) for r in these), 0),
                         str(sum(sum(r.failed.get(n, 0) for n in names[name]) for r in these)),
                         "(baseline)" if name == "static" else (f"{p95 / static_p95:.1f}x" if static_p95 else "-")])
    section.add_table(["Phase", "Endpoint", "Requests (all runs)", "Req/s", "p50 ms", "p95 ms", "p99 ms", "Errors",
                       "p95 vs static file"], rows, align="llrrrrrrr")
    per_run = []
    for r in runs:
        per_run.append([r.tag, f"{len(r.page_ms):,}", fmt(r.pages_per_s), fmt(r.p("page", 0.5), 0),
                        fmt(r.p("page", 0.95), 0), fmt(r.p("static", 0.95), 0),
                        f"{r.syncs} (every {r.sync_period_s:.1f} s, median {median(r.sync_seconds):.1f} s each)"
                        if r.syncs else "-",
                        fmt(max(r.rss_before.values(), default=0.0), 0), fmt(max(r.rss_after.values(), default=0.0), 0),
                        fmt(r.worker_peak_rss_mb, 0),
                        f"{r.server_cpu_s / (cores * r.window_s):.0%} / {r.locust_cpu_s / (cores * r.window_s):.0%}"
                        + (f" / {r.sync_cpu_s / (cores * r.window_s):.0%}" if r.syncs else "")
                        if r.window_s else "-"])
    section.add_text("Each run (CPU: share of the cores x the run's time used by the server / locust / the syncs; "
                     "they all share the same cores):")
    section.add_table(["Run", "Pages", "Pages/s", "p50 ms", "p95 ms", "Static p95 ms", "Syncs",
                       "Worker RSS before MiB", "after MiB", "peak MiB", "CPU server / locust / syncs"], per_run,
                      align="lrrrrrlrrrr")
    reasons: dict[str, int] = {}
    for r in runs:
        for reason, count in r.failure_reasons.items():
            reasons[f"{r.tag}, {reason}"] = reasons.get(f"{r.tag}, {reason}", 0) + count
    if reasons:
        section.add_text("**Failed requests** (run, request, error): "
                         + "; ".join(f"{count} x {reason}" for reason, count in sorted(reasons.items())))
    repeated = sum(r.repeated_long_tail for r in runs)
    if repeated:
        section.add_text(f"**{repeated:,} long-tail requests repeated a query** (the catalog's names ran out): "
                         "those were not first-time for the server.")
    section.targets = targets(figures, runs, plan, decided, at_1x, scale, warm_rss, final_uss, reference)
    section.figures = {"scale": scale, "phases": figures, "runs": [r.summary() for r in runs],
                       "worker_rss_after_warmup_mb": warm_rss,
                       "worker_rss_end_mb": runs[-1].rss_after if runs else {}, "worker_uss_end_mb": final_uss}
    return section


def targets(figures: dict[str, dict[str, float]], runs: Sequence[LoadRun], plan: Plan, decided: bool, at_1x: bool,
            scale: int, warm_rss: dict[int, float], final_uss: float,
            reference: dict[str, Any] | None) -> list[Target]:
    """The issue's serving figures, each against its same-run baseline (at 10x, the 1x run's figure when given)."""
    out: list[Target] = []
    quiet, sync = figures.get("quiet"), figures.get("sync")
    ref = (reference or {}).get("phases", {})
    shown = "(1x target; shown)"
    if quiet:
        p95 = quiet["page_p95"]
        target = f"< {P95_QUIET_TARGET_MS:.0f} ms"
        out.append(Target(f"Results page p95, index quiet ({plan.users} users, long-tail mix)", f"{p95:.0f} ms",
                          f"static file p95 {quiet['static_p95']:.0f} ms", target if at_1x else shown,
                          (p95 < P95_QUIET_TARGET_MS if decided else None) if at_1x else None,
                          ratio=f"{p95 / quiet['static_p95']:.1f}x" if quiet["static_p95"] else "", info=not at_1x))
        if not at_1x and ref.get("quiet"):
            base = ref["quiet"]["page_p95"]
            out.append(Target(f"Results page p95 at {scale}x vs 1x, index quiet", f"{p95:.0f} ms", f"1x {base:.0f} ms",
                              "(none; shown)", None, ratio=f"{p95 / base:.1f}x" if base else "", info=True))
    if quiet and sync:
        ratio = sync["page_p95"] / quiet["page_p95"] if quiet["page_p95"] else math.inf
        out.append(Target(f"Results page p95, under sync (every ~1 s, {plan.reviews_per_sync} reviews) vs index quiet",
                          f"{sync['page_p95']:.0f} ms", f"index quiet {quiet['page_p95']:.0f} ms",
                          f"<= {P95_SYNC_RATIO_LIMIT:g}x" if at_1x else shown,
                          (ratio <= P95_SYNC_RATIO_LIMIT if decided else None) if at_1x else None,
                          ratio=f"{ratio:.2f}x", info=not at_1x))
        share = sync["pages_per_s"] / quiet["pages_per_s"] if quiet["pages_per_s"] else 0.0
        out.append(Target("Pages/s, under sync vs index quiet", f"{sync['pages_per_s']:.1f} pages/s",
                          f"index quiet {quiet['pages_per_s']:.1f} pages/s",
                          f">= {PAGES_SYNC_RATIO_MIN:g}x" if at_1x else shown,
                          (share >= PAGES_SYNC_RATIO_MIN if decided else None) if at_1x else None,
                          ratio=f"{share:.2f}x", info=not at_1x))
        out.append(Target("Static file p95, under sync", f"{sync['static_p95']:.0f} ms",
                          f"index quiet {quiet['static_p95']:.0f} ms", "(none; shown)", None,
                          ratio=f"{sync['static_p95'] / quiet['static_p95']:.1f}x" if quiet["static_p95"] else "",
                          info=True))
    limit = RSS_LIMIT_MIB.get(scale)
    end = max(runs[-1].rss_after.values(), default=0.0) if runs else 0.0
    warm = max(warm_rss.values(), default=0.0)
    out.append(Target("Worker RSS after the load and syncs (largest worker)", f"{end:.0f} MiB",
                      f"after warm-up {warm:.0f} MiB", f"<= {limit:.0f} MiB" if limit else "(none; shown)",
                      (end <= limit if decided else None) if limit else None,
                      ratio=f"{end / warm:.2f}x" if warm else "", info=limit is None))
    if not at_1x and reference:
        base_end = max(reference.get("worker_rss_end_mb", {}).values(), default=0.0)
        if base_end:
            out.append(Target(f"Worker RSS at {scale}x vs 1x, after the load and syncs", f"{end:.0f} MiB",
                              f"1x {base_end:.0f} MiB", "(none; shown)", None, ratio=f"{end / base_end:.2f}x",
                              info=True))
    peak = max((r.worker_peak_rss_mb for r in runs), default=0.0)
    out.append(Target("Web worker peak RSS (sampled every 0.5 s, all runs)", f"{peak:.0f} MiB",
                      f"after warm-up {warm:.0f} MiB", "(none; shown)", None,
                      ratio=f"{peak / warm:.2f}x" if warm else "", info=True))
    if final_uss:
        out.append(Target("Worker private memory (USS) after the load and syncs", f"{final_uss:.0f} MiB",
                          f"RSS {end:.0f} MiB", "(none; shown)", None, ratio=f"{final_uss / end:.0%}" if end else "",
                          info=True))
    for phase, label in PHASES:
        these = [r for r in runs if r.phase == phase]
        if not these:
            continue
        failures, total = sum(r.failures for r in these), sum(r.requests for r in these)
        out.append(Target(f"Errors, {label}", f"{failures} of {total:,} requests", "-", "0",
                          failures == 0 if decided else None, ratio=f"{failures / total:.2%}" if total else ""))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the serving benchmark alone and print its section."""

    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--data-dir", type=Path, default=None,
                            help="a data dir with a catalog and an index (copied, never changed); default: crawl and index")
        parser.add_argument("--scale", type=int, default=1,
                            help="serve the sample site at N times the programs and reviews (built once and cached "
                                 "by bench.scaled); default 1: --data-dir or a crawl")
        parser.add_argument("--users", type=int, default=None, help="locust users (default: 10)")
        parser.add_argument("--duration", type=int, default=None, help="seconds per locust run (default: 30)")

    def run_section(workdir: Path, args: argparse.Namespace) -> Section:
        plan = PLANS[args.mode]
        if args.users or args.duration:
            plan = Plan(args.users or plan.users, args.duration or plan.duration, plan.runs, plan.reviews_per_sync)
        return run(workdir, args.mode, args.data_dir, plan, scale=args.scale)

    return section_main(argv, __doc__, "cs-bench-serving-", run_section, options)


if __name__ == "__main__":
    sys.exit(main())
