"""Scale-out benchmark: crawl workers on the PostgreSQL queue, and an index that follows the catalog.

    python -m bench.scale_out [--quick | --smoke] [--workdir DIR] [--keep]

A throwaway PostgreSQL server (the tests' ``initdb``/``pg_ctl`` helper) and one sample site (no
faults, with an access log) serve every phase. Each phase gets a new database (`db upgrade`) and
queues its crawls with ``collegesearch crawl SOURCE... --queue``:

1. **one worker** (``collegesearch worker --concurrency 1``) drains a queue of equal sites: copies
   of the career site (``type = "bls_ooh"`` profiles in a sites file, about 370 pages each), as a
   deployment of many sites of a few hundred pages queues them;
2. **two workers** (two processes, concurrency 1 each) drain the same queue: pages/s against
   phase 1 is the scaling figure. (The built-in sources would not show it: one of them, the
   reviews, is four fifths of the pages, and one crawl runs on one worker.)
3. **two workers and a follower** crawl the mode's built-in sources while ``collegesearch index
   follow`` keeps a web node's index current; the bench samples, every second, how many fused
   changes the follower has still to apply and how old the oldest of them is. Then a second node,
   whose index was built on the empty catalog before the crawl, catches up with one ``collegesearch
   index sync`` (what ``index follow`` does when it wakes) with nothing else running: its documents
   per second are the follower's throughput on catch-up. The catalog's rows per page come from
   this phase too.

Pages are requests the site logged during the phase; seconds run from queueing to the last run's
end. The workers share this machine's cores with the site and the database, so the bench also
records how busy all cores were during each phase (``psutil.cpu_times``): when one worker already
keeps most of them busy, a second worker on the same machine cannot double the rate, and the
busy share gives the ceiling. ``--smoke`` crawls fewer copies and the accreditor directory only
(about 260 pages; a crawl stopped early would count as failed).
"""

from __future__ import annotations

import json
import re
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
COPIES = {"full": 12, "quick": 8, "smoke": 2}  # equal sites queued for phases 1 and 2
# The copies are user profiles, paced as real sites (about a page a second per host). At that pace a
# worker waits, and any number of them scale; the sample site's own pace (8 at a time, no delay) makes
# the crawl CPU-bound, which is the case the figure is about.
LOOPBACK_PACE = {"COLLEGESEARCH_DOWNLOAD_DELAY": "0", "COLLEGESEARCH_AUTOTHROTTLE": "false",
                 "COLLEGESEARCH_CONCURRENT_REQUESTS_PER_HOST": "8"}
TWO_WORKERS_TARGET = 1.5  # what two crawl processes on two shared cores should give over one (not in the issue)


@dataclass
class Phase:
    """One queue drained by some workers: pages the site logged, seconds, runs, and follower samples."""

    workers: int
    sources: tuple[str, ...] = ()
    pages: int = 0
    seconds: float = 0.0
    runs: int = 0
    lag_changes: list[int] = field(default_factory=list)
    lag_seconds: list[float] = field(default_factory=list)
    catch_up_docs: int = 0
    catch_up_changes: int = 0
    catch_up_seconds: float = 0.0
    catch_up_written: int = 0
    """Documents the catch-up wrote: added, updated, and linked records re-indexed (from the sync's own line)."""
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


def run_phase(workdir: Path, site: Any, server: Any, sources: Sequence[str], workers: int, follow: bool,
              sites_file: Path, deadline_s: float) -> Phase:
    """Drain one queue of ``sources`` with ``workers`` worker processes (see the module docstring)."""
    name = f"bench_w{workers}_{'f' if follow else 'n'}_{int(time.time())}"
    url = server.create_database(name)
    logs = workdir / "logs"
    shared = {"COLLEGESEARCH_DATABASE_URL": url, "COLLEGESEARCH_SAMPLE_SITE_URL": site.url,
              "COLLEGESEARCH_SITES_FILE": str(sites_file), **LOOPBACK_PACE}
    env = child_env(workdir / "admin", **shared)
    run_measured(cli(workdir / "admin", "db", "upgrade"), logs=logs, name="upgrade", env=env).check("db upgrade")
    node, late = workdir / "node", workdir / "late-node"
    node_env, late_env = child_env(node, **shared), child_env(late, **shared)
    if follow:
        for folder, folder_env in ((node, node_env), (late, late_env)):
            run_measured(cli(folder, "index", "rebuild"), logs=logs, name=f"rebuild-empty-{folder.name}",
                         env=folder_env).check("index rebuild on the empty catalog")
    phase = Phase(workers, tuple(sources))
    procs = []
    sampling = threading.Event()
    try:
        for i in range(workers):
            wenv = child_env(workdir / f"worker{i}", **shared)
            out = (logs / f"worker{i}.log").open("w")
            procs.append(start(cli(workdir / f"worker{i}", "worker", "--concurrency", "1"), env=wenv, stdout=out,
                               stderr=out))
        if follow:
            out = (logs / "follow.log").open("w")
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
        cpu0 = psutil.cpu_times()
        pages0, t0 = site.log_lines(), time.perf_counter()
        run_measured(cli(workdir / "admin", "crawl", *sources, "--queue"), logs=logs, name="queue",
                     env=env).check("crawl --queue")
        deadline = t0 + deadline_s
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
    if follow:  # the late node catches up alone, with the follower and the workers stopped
        from indexer.engine import IndexStore

        before = IndexStore(late / "index").current()
        done = run_measured(cli(late, "index", "sync"), logs=logs, name="catch-up", env=late_env)
        done.check("index sync (catch-up)")
        after = IndexStore(late / "index").current()
        phase.catch_up_seconds = done.wall
        phase.catch_up_docs = int((after.meta if after else {}).get("doc_count") or _doc_count(late / "index"))
        phase.catch_up_changes = (after.watermark if after else 0) - (before.watermark if before else 0)
        phase.catch_up_written = _documents_written(done.stdout + done.stderr) or phase.catch_up_docs
    return phase


def _documents_written(output: str) -> int:
    """Added + updated + linked re-indexed, summed over the sync lines in a command's output."""
    written = 0
    for added, updated, _deleted, linked in re.findall(
            r"([\d,]+) added, ([\d,]+) updated, ([\d,]+) deleted, ([\d,]+) linked records re-indexed", output):
        written += sum(int(n.replace(",", "")) for n in (added, updated, linked))
    return written


def write_sites_file(path: Path, site_url: str, copies: int) -> list[str]:
    """A sites file of ``copies`` equal sites (the sample career site under other names); returns their names."""
    from crawler.sources import discover_sample_site

    ooh = discover_sample_site(site_url)["bls_ooh"]
    names = [f"ooh-copy-{i + 1}" for i in range(copies)]
    start_urls = ", ".join(json.dumps(u) for u in ooh["start_urls"])
    follow = ", ".join(json.dumps(re.escape(p)) for p in ooh["allowed_prefixes"])
    path.write_text("".join(f'[[site]]\nname = "{n}"\ntype = "bls_ooh"\nstart_urls = [{start_urls}]\n'
                            f"follow = [{follow}]\n\n" for n in names), encoding="utf-8")
    return names


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
    """The three phases on one PostgreSQL server and one sample site; the section with its figures."""
    workdir.mkdir(parents=True, exist_ok=True)
    server, tmp = _pg(workdir)
    deadline = 3600.0 if mode == "full" else 1200.0
    try:
        with sample_site(workdir) as site:
            sites_file = workdir / "sites.toml"
            copies = write_sites_file(sites_file, site.url, COPIES[mode])
            say(f"scale_out: one worker, {len(copies)} equal sites")
            one = run_phase(workdir / "one", site, server, copies, 1, False, sites_file, deadline)
            say(f"scale_out: two workers, {len(copies)} equal sites")
            two = run_phase(workdir / "two", site, server, copies, 2, False, sites_file, deadline)
            say(f"scale_out: two workers and a follower, {', '.join(SOURCES[mode])}")
            followed = run_phase(workdir / "followed", site, server, SOURCES[mode], 2, True, sites_file, deadline)
    finally:
        from tests.plugins.postgres import stop_server

        stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)
    return report(one, two, followed, mode)


def report(one: Phase, two: Phase, followed: Phase, mode: str) -> Section:
    """The tables and figures of the three phases."""
    section = Section("Scale out: crawl workers and index follow")
    section.add_text(f"PostgreSQL {_pg_version()} on this machine (Unix socket, fsync off); the sample site, the "
                     "database, the workers and the follower share its cores. Phases 1 and 2 queue "
                     f"{len(one.sources)} equal sites (copies of the career site); phase 3 the built-in sources.")
    phases = [(one, "1 worker"), (two, "2 workers"), (followed, "2 workers + index follow")]
    section.add_table(["Phase", "Crawled", "Pages", "Seconds", "Pages/s", "Runs", "All cores busy"],
                      [[label, _crawled(p.sources), f"{p.pages:,}", fmt(p.seconds), fmt(p.pages_per_s), str(p.runs),
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
    per_page = followed.rows_written / followed.pages if followed.pages else 0.0
    section.targets.append(Target("Catalog rows written per page fetched (built-in sources)", f"{per_page:.1f} rows",
                                  f"{followed.rows_written:,} rows for {followed.pages:,} pages", "(none; shown)",
                                  None, info=True))
    # Documents written, not the index's final count: a change to an institution re-indexes its programs
    # too, and a record linked after its first indexing is written twice.
    docs_s = followed.catch_up_written / followed.catch_up_seconds if followed.catch_up_seconds else 0.0
    section.targets.append(Target("Index follow catch-up throughput", f"{docs_s:,.0f} docs/s",
                                  f"{followed.catch_up_changes:,} changes: {followed.catch_up_written:,} documents "
                                  f"written ({followed.catch_up_docs:,} in the index) in "
                                  f"{followed.catch_up_seconds:.1f} s", "(none; shown)", None, info=True))
    section.figures = {"one": one.__dict__ | {"pages_per_s": one.pages_per_s},
                       "two": two.__dict__ | {"pages_per_s": two.pages_per_s},
                       "followed": {k: v for k, v in followed.__dict__.items() if k not in ("lag_changes", "lag_seconds")}
                       | {"pages_per_s": followed.pages_per_s, "lag_samples": len(followed.lag_changes)},
                       "follow_docs_per_s": docs_s}
    section.add_text("Raw figures: " + json.dumps({k: v for k, v in section.figures.items() if k != "one"}))
    return section


def _crawled(sources: Sequence[str]) -> str:
    copies = [s for s in sources if s.startswith("ooh-copy-")]
    return f"{len(copies)} career-site copies" if copies else ", ".join(sources)


def _pg_version() -> str:
    from tests.plugins.postgres import postgres_bin

    folder = postgres_bin()
    return folder.parent.name if folder else "?"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scale-out benchmark alone."""
    return section_main(argv, __doc__, "collegesearch-bench-scale-out-", lambda workdir, args: run(workdir, args.mode))


if __name__ == "__main__":
    raise SystemExit(main())
