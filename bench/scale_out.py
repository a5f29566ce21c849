"""Scale-out benchmark: crawl workers on the PostgreSQL queue, and an index that follows the catalog.

    python -m bench.scale_out [--quick | --smoke] [--workdir DIR] [--keep]

A throwaway PostgreSQL server (the tests' ``initdb``/``pg_ctl`` helper) and one sample site (no
faults, with an access log) serve every phase. Each phase gets a new database (`db upgrade`) and
queues the same sources with ``collegesearch crawl SOURCE... --queue``:

1. **one worker** (``collegesearch worker --concurrency 1``) crawls them one after another. A
   web node's index, built on the empty catalog before the crawl, then catches up with one
   ``collegesearch index sync`` (what ``index follow`` does when it wakes): its documents per
   second are the follower's throughput on catch-up.
2. **two workers** (two processes, concurrency 1 each) crawl them at once, nothing else running:
   pages/s against phase 1 is the scaling figure.
3. **two workers and a follower**: the same crawl while ``collegesearch index follow`` keeps a
   web node's index current; the bench samples, every second, how many fused changes the
   follower has still to apply and how old the oldest of them is.

Pages are requests the site logged during the phase; seconds run from queueing to the last run's
end. The workers share this machine's cores with the site and the database, so the bench also
records how busy all cores were during each phase (``psutil.cpu_times``): when one worker already
keeps most of them busy, a second worker on the same machine cannot double the rate, and the
busy share gives the ceiling. ``--smoke`` crawls the accreditor directory only (about 260 pages;
a crawl stopped early would count as failed).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.common import (
    BenchError,
    Section,
    Target,
    child_env,
    cli,
    fmt,
    percentile,
    run_measured,
    sample_site,
    say,
    section_main,
    start,
    stop,
)

SOURCES = {"full": ("bls_ooh", "directory", "reviews", "collegenavigator"), "quick": ("bls_ooh", "directory", "reviews"),
           "smoke": ("directory",)}
TWO_WORKERS_TARGET = 1.5  # what two crawl processes on two shared cores should give over one (not in the issue)


@dataclass
class Phase:
    """One queue drained by some workers: pages the site logged, seconds, runs, and follower samples."""

    workers: int
    pages: int = 0
    seconds: float = 0.0
    runs: int = 0
    lag_changes: list[int] = field(default_factory=list)
    lag_seconds: list[float] = field(default_factory=list)
    catch_up_docs: int = 0
    catch_up_changes: int = 0
    catch_up_seconds: float = 0.0
    rows_written: int = 0
    """Rows the crawl left in the catalog's tables (observations, pages, change logs, entities): writes per page."""
    cpu_busy: float = 0.0
    """Share of all the machine's cores busy (not idle or waiting on I/O) while the queue drained."""

    @property
    def pages_per_s(self) -> float:
        """Pages fetched per second of the phase."""
        return self.pages / self.seconds if self.seconds else 0.0


def _pg(workdir: Path) -> tuple[Any, Path]:
    from tests.plugins.postgres import PgStartError, postgres_bin, start_server

    bin_dir = postgres_bin()
    if bin_dir is None:
        raise BenchError("PostgreSQL is not installed (Debian package postgresql): the scale-out section needs it")
    tmp = Path(tempfile.mkdtemp(prefix="collegesearch-bench-pg-"))
    tmp.chmod(0o755)
    try:
        return start_server(tmp, bin_dir), tmp
    except PgStartError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BenchError(str(exc)) from None


def _finished_runs(url: str) -> list[Any]:
    from catalog import Catalog

    with Catalog(url) as cat:
        return [r for r in cat.list_runs(limit=1000) if r.status != "running"]


def _follower_lag(url: str, index_dir: Path) -> tuple[int, float] | None:
    """(changes behind, age in seconds of the oldest of them) of the index in ``index_dir``."""
    from datetime import UTC, datetime

    from catalog import Catalog
    from catalog.changes import ChangeCursor
    from indexer.engine import IndexStore

    try:
        gen = IndexStore(index_dir).current()
    except Exception:  # noqa: BLE001 - a generation being published: sample again
        return None
    if gen is None:
        return None
    cursor = ChangeCursor.from_json(gen.meta.get("cursor"), gen.watermark)
    with Catalog(url, readonly=True) as cat:
        behind = cat.fused.changes_behind(cursor)
        if not behind:
            return 0, 0.0
        first, _ = cat.fused.changes_after(ChangeCursor(cursor.seq, cursor.xid if cursor.xid is not None else -1),
                                           limit=1)
    if not first:
        return behind, 0.0
    at = datetime.fromisoformat(first[0].at.replace("Z", "+00:00"))
    return behind, max(0.0, (datetime.now(UTC) - at).total_seconds())


def run_phase(workdir: Path, site: Any, server: Any, mode: str, workers: int, follow: bool) -> Phase:
    """Drain one queue of the mode's sources with ``workers`` worker processes (see the module docstring)."""
    name = f"bench_w{workers}_{int(time.time())}"
    url = server.create_database(name)
    logs = workdir / "logs"
    env = child_env(workdir / "admin", COLLEGESEARCH_DATABASE_URL=url, COLLEGESEARCH_SAMPLE_SITE_URL=site.url)
    run_measured(cli(workdir / "admin", "db", "upgrade"), logs=logs, name=f"upgrade-{workers}", env=env).check(
        "db upgrade")
    node = workdir / f"node-w{workers}"
    node_env = child_env(node, COLLEGESEARCH_DATABASE_URL=url, COLLEGESEARCH_SAMPLE_SITE_URL=site.url)
    run_measured(cli(node, "index", "rebuild"), logs=logs, name=f"rebuild-empty-{workers}", env=node_env).check(
        "index rebuild on the empty catalog")
    phase = Phase(workers)
    procs = []
    sampling = threading.Event()
    try:
        for i in range(workers):
            wenv = child_env(workdir / f"worker{i}", COLLEGESEARCH_DATABASE_URL=url,
                             COLLEGESEARCH_SAMPLE_SITE_URL=site.url)
            out = (logs / f"worker{workers}-{i}.log").open("w")
            procs.append(start(cli(workdir / f"worker{i}", "worker", "--concurrency", "1"), env=wenv, stdout=out,
                               stderr=out))
        if follow:
            out = (logs / f"follow-{workers}.log").open("w")
            procs.append(start(cli(node, "index", "follow"), env=node_env, stdout=out, stderr=out))

            def sample() -> None:
                while True:
                    lag = _follower_lag(url, node / "index")
                    if lag is not None:
                        phase.lag_changes.append(lag[0])
                        phase.lag_seconds.append(lag[1])
                    if sampling.wait(1.0):
                        return

            threading.Thread(target=sample, daemon=True).start()
        sources = SOURCES[mode]
        cpu0 = psutil.cpu_times()
        pages0, t0 = site.log_lines(), time.perf_counter()
        run_measured(cli(workdir / "admin", "crawl", *sources, "--queue"), logs=logs, name=f"queue-{workers}",
                     env=env).check("crawl --queue")
        deadline = t0 + (3600 if mode == "full" else 1200)
        while True:
            runs = _finished_runs(url)
            if {r.source for r in runs if r.status == "ok"} >= set(sources):
                break
            failed = [r for r in runs if r.status == "failed"]
            if failed:
                raise BenchError(f"a queued crawl failed: {failed[0].source}: {failed[0].error}")
            if any(p.poll() is not None for p in procs):
                raise BenchError(f"a worker or the follower exited (see {logs})")
            if time.perf_counter() > deadline:
                raise BenchError(f"the queue was not drained in time (see {logs})")
            time.sleep(0.5)
        phase.seconds = time.perf_counter() - t0
        phase.cpu_busy = _busy_share(cpu0, psutil.cpu_times())
        phase.pages = site.log_lines() - pages0
        phase.runs = len(runs)
        phase.rows_written = _rows_written(url)
        if follow:  # until the follower has caught up, so the samples cover the whole crawl and its tail
            catch_up = time.perf_counter() + 600
            while phase.lag_changes[-1:] != [0] and time.perf_counter() < catch_up:
                time.sleep(1.0)
    finally:
        sampling.set()
        for p in procs:
            stop(p, timeout=60)
    if not follow:
        from indexer.engine import IndexStore

        before = IndexStore(node / "index").current()
        done = run_measured(cli(node, "index", "sync"), logs=logs, name=f"catch-up-{workers}", env=node_env)
        done.check("index sync (catch-up)")
        after = IndexStore(node / "index").current()
        phase.catch_up_seconds = done.wall
        phase.catch_up_docs = int((after.meta if after else {}).get("doc_count") or _doc_count(node / "index"))
        phase.catch_up_changes = (after.watermark if after else 0) - (before.watermark if before else 0)
    return phase


def _busy_share(before: Any, after: Any) -> float:
    """Share of all cores' time between two ``psutil.cpu_times()`` that was spent working."""
    spent = {name: getattr(after, name) - getattr(before, name) for name in after._fields}
    total = sum(spent.values())
    idle = spent.get("idle", 0.0) + spent.get("iowait", 0.0)
    return (total - idle) / total if total else 0.0


def _rows_written(url: str) -> int:
    from catalog import Catalog

    with Catalog(url, readonly=True) as cat:
        return (cat.count(include_deleted=True) + cat.fused.count(include_deleted=True) + cat.max_change_seq()
                + cat.fused.max_change_seq() + cat.count_pages())


def _doc_count(index_dir: Path) -> int:
    from indexer.engine import IndexStore

    ix, _gen = IndexStore(index_dir).open(mapped=False)
    try:
        return int(ix.doc_count())
    finally:
        ix.close()


def run(workdir: Path, mode: str = "full") -> Section:
    """Both phases on one PostgreSQL server and one sample site; the section with its figures."""
    workdir.mkdir(parents=True, exist_ok=True)
    server, tmp = _pg(workdir)
    try:
        with sample_site(workdir) as site:
            say("scale_out: one worker")
            one = run_phase(workdir / "one", site, server, mode, workers=1, follow=False)
            say("scale_out: two workers")
            two = run_phase(workdir / "two", site, server, mode, workers=2, follow=False)
            say("scale_out: two workers and a follower")
            followed = run_phase(workdir / "followed", site, server, mode, workers=2, follow=True)
    finally:
        from tests.plugins.postgres import stop_server

        stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)
    return report(one, two, followed, mode)


def report(one: Phase, two: Phase, followed: Phase, mode: str) -> Section:
    """The tables and figures of the three phases."""
    section = Section("Scale out: crawl workers and index follow")
    section.add_text(f"Sources queued: {', '.join(SOURCES[mode])}. PostgreSQL {_pg_version()} on this machine "
                     "(Unix socket, fsync off), the sample site and the workers share its cores.")
    phases = [(one, "1 worker"), (two, "2 workers"), (followed, "2 workers + index follow")]
    section.add_table(["Phase", "Pages", "Seconds", "Pages/s", "Runs", "All cores busy"],
                      [[label, f"{p.pages:,}", fmt(p.seconds), fmt(p.pages_per_s), str(p.runs),
                        f"{p.cpu_busy:.0%}"] for p, label in phases])
    ratio = two.pages_per_s / one.pages_per_s if one.pages_per_s else 0.0
    ceiling = 1 / one.cpu_busy if one.cpu_busy else 0.0
    decided = mode != "smoke"  # a 20-second crawl of one source decides nothing
    section.targets.append(Target("Crawl pages/s, two workers vs one (same machine)",
                                  f"{two.pages_per_s:.1f} pages/s", f"one worker {one.pages_per_s:.1f} pages/s",
                                  f">= {TWO_WORKERS_TARGET:g}x (ours)", ratio >= TWO_WORKERS_TARGET if decided else None,
                                  ratio=f"{ratio:.2f}x"))
    section.add_text(f"One worker kept {one.cpu_busy:.0%} of the machine's cores busy (worker, site, database), "
                     f"so a second worker on this machine could give at most {ceiling:.2f}x; two gave "
                     f"{ratio:.2f}x with {two.cpu_busy:.0%} of the cores busy.")
    if followed.lag_changes:
        p95_changes, p95_s = percentile(followed.lag_changes, 0.95), percentile(followed.lag_seconds, 0.95)
        section.targets.append(Target("Index follower lag p95 during the two-worker crawl", f"{p95_s:.1f} s",
                                      f"{p95_changes:.0f} changes behind at p95 ({len(followed.lag_changes)} samples)",
                                      "(none; shown)", None, info=True))
    per_page = one.rows_written / one.pages if one.pages else 0.0
    section.targets.append(Target("Catalog rows written per page fetched (one-worker crawl)", f"{per_page:.1f} rows",
                                  f"{one.rows_written:,} rows for {one.pages:,} pages", "(none; shown)", None,
                                  info=True))
    docs_s = one.catch_up_docs / one.catch_up_seconds if one.catch_up_seconds else 0.0
    section.targets.append(Target("Index follow catch-up throughput", f"{docs_s:,.0f} docs/s",
                                  f"{one.catch_up_changes:,} changes, {one.catch_up_docs:,} documents in "
                                  f"{one.catch_up_seconds:.1f} s", "(none; shown)", None, info=True))
    section.figures = {"one": one.__dict__ | {"pages_per_s": one.pages_per_s},
                       "two": two.__dict__ | {"pages_per_s": two.pages_per_s},
                       "followed": {k: v for k, v in followed.__dict__.items() if k not in ("lag_changes", "lag_seconds")}
                       | {"pages_per_s": followed.pages_per_s, "lag_samples": len(followed.lag_changes)},
                       "follow_docs_per_s": docs_s}
    section.add_text("Raw figures: " + json.dumps({k: v for k, v in section.figures.items() if k != "one"}))
    return section


def _pg_version() -> str:
    from tests.plugins.postgres import postgres_bin

    folder = postgres_bin()
    return folder.parent.name if folder else "?"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scale-out benchmark alone."""
    return section_main(argv, __doc__, "collegesearch-bench-scale-out-", lambda workdir, args: run(workdir, args.mode))


if __name__ == "__main__":
    raise SystemExit(main())
