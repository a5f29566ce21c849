"""Index benchmark: full rebuild (docs/s, peak memory; one process and both cores) against incremental syncs of
0%, 0.1%, 1% and 5% changes.

    python -m bench.index [--quick | --smoke] [--data-dir CRAWLED_DATA_DIR] [--workdir DIR] [--keep]

On a copy of a crawled catalog (the crawl benchmark's, or ``--data-dir``, or a crawl made for
the purpose), it runs ``indexer.build.rebuild`` several times, each in its own process
(``python -m bench.index_op``), for docs/s and the peak RSS the kernel reports: alternately with
``INDEX_BUILD_PROCS=1`` (one process, the baseline) and ``=2`` (both cores; target: at least 1.7x
the one-process docs/s, same catalog, same run). Then, for each
change size, it changes that share of the catalog's records through ``Catalog.upsert`` (a review's
text, a program's accreditation status, a career's pay, an institution's next review date: the kinds
of change the sites make), runs ``indexer.build.sync`` in its own process and records the sync's
own seconds (``SyncResult.seconds``), the documents it re-indexed and its peak RSS. A sync with
no change shows the fixed cost. Target: sync cost proportional to the change, not to the index,
read as two checks: the 1% sync takes at most 5% of a rebuild, and the marginal cost of a changed
record (from the 0.1% to the 5% sync) is at most 3x a rebuild's cost per document (a changed review
also re-indexes its school and the school's programs, which show its rating). A sync runs in one
process, so both are read against the one-process rebuild.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import (
    PYTHON,
    Finished,
    Section,
    Target,
    child_env,
    copy_catalog,
    fmt,
    median,
    run_measured,
    say,
    section_main,
    spread,
)

FRACTIONS: tuple[float, ...] = (0.0, 0.001, 0.01, 0.05)
# Targets: a 1% sync costs at most 5% of a rebuild (5x its share: commits and linked records cost
# extra), and each further changed record at most 3x what a rebuild spends per document (a review
# also re-indexes its school and the school's programs).
ONE_PERCENT_LIMIT = 0.05
SLACK = 3.0
# The parallel rebuild: processes ("both cores") and the least speedup over one process.
PARALLEL_PROCS = 2
PARALLEL_SPEEDUP = 1.7


def plan(mode: str) -> tuple[int, int]:
    """(rebuild runs of each kind, sync runs per change size) for a mode.

    Full mode: 3 rebuilds in one process and 3 in two, 2 syncs per change size (a third sync of each size would add minutes on the
    whole-site catalog for little: the syncs are short and steady).
    """
    return {"full": (3, 2), "quick": (1, 1), "smoke": (1, 1)}[mode]


def _op(data_dir: Path, op: str, logs: Path, name: str, procs: int | None = None) -> tuple[dict[str, Any], Finished]:
    extra = {} if procs is None else {"COLLEGESEARCH_INDEX_BUILD_PROCS": str(procs)}
    done = run_measured([PYTHON, "-m", "bench.index_op", op, str(data_dir)], logs=logs, name=name,
                        env=child_env(data_dir, **extra)).check(f"index {op}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done


def record_keys(data_dir: Path) -> list[tuple[str, str]]:
    """(kind, id) of every live record in the catalog."""
    from catalog import Catalog

    with Catalog(data_dir / "catalog.sqlite3", readonly=True) as catalog:
        return [(s.kind, s.item_id) for s in catalog.iter_items()]


def mutate(data: dict[str, Any], n: int) -> dict[str, Any]:
    """A changed copy of a record, changed the way the sites change it (``n`` makes every change new)."""
    data = dict(data)
    kind = data["kind"]
    if kind == "review":
        data["body"] = f"{data.get('body') or ''} (Edited {n}: still recommend it.)"
    elif kind == "program":
        data["accreditation_status"] = "probation" if data.get("accreditation_status") != "probation" else "accredited"
        data["next_review"] = f"{2030 + n % 10}-0{1 + n % 9}-01"
    elif kind == "career":
        data["median_pay_annual"] = int(data.get("median_pay_annual") or 50_000) + 100 + n
    else:
        data["next_review"] = f"{2030 + n % 10}-0{1 + n % 9}-15"
    return data


def change_records(data_dir: Path, keys: Sequence[tuple[str, str]], count: int, rng: random.Random,
                   serial: int) -> int:
    """Change ``count`` random records through ``Catalog.upsert``; returns how many changed."""
    from catalog import Catalog
    from model.items import item_from_dict

    changed = 0
    with Catalog(data_dir / "catalog.sqlite3") as catalog, catalog.transaction():
        for kind, item_id in rng.sample(list(keys), count):
            stored = catalog.get(kind, item_id)
            if stored is None:
                continue
            item = item_from_dict(mutate(stored.data, serial))
            if catalog.upsert(item, page_url=stored.page_url) == "changed":
                changed += 1
    return changed


@dataclasses.dataclass
class SyncRun:
    """One measured sync."""

    fraction: float
    records: int
    seconds: float
    wall: float
    reindexed: int
    rss_mb: float


def run(workdir: Path, mode: str = "full", catalog_dir: Path | None = None) -> tuple[Section, Path]:
    """Rebuilds and syncs on a copy of the crawled catalog; returns the section and the data dir (with an index)."""
    started = time.perf_counter()
    if catalog_dir is None:
        from bench.crawl import crawl_catalog

        catalog_dir = crawl_catalog(workdir / "crawl", mode)
    data_dir = workdir / "data-index"
    copy_catalog(catalog_dir, data_dir)
    logs = workdir / "logs"
    rebuild_runs, sync_runs = plan(mode)
    rebuilds: list[tuple[dict[str, Any], Finished]] = []
    parallel: list[tuple[dict[str, Any], Finished]] = []
    # alternately, so both see the same machine; the last one (both cores, the default on two cores)
    # leaves the index the syncs and the serving section use
    for i in range(rebuild_runs):
        for procs, runs in ((1, rebuilds), (PARALLEL_PROCS, parallel)):
            say(f"index: rebuild {i + 1}/{rebuild_runs}, INDEX_BUILD_PROCS={procs} ...")
            runs.append(_op(data_dir, "rebuild", logs, f"rebuild-{procs}procs-{i + 1}", procs))
            result = runs[-1][0]
            say(f"index: {result['docs']:,} docs in {result['seconds']:.1f} s ({result.get('processes', 1)} processes)")
    docs = int(rebuilds[-1][0]["docs"])
    say("index: fusing every observation again ...")
    fusion = _op(data_dir, "fuse", logs, "fuse")
    keys = record_keys(data_dir)
    rng = random.Random(20261127)
    syncs: list[SyncRun] = []
    serial = 0
    previous = 0
    for fraction in FRACTIONS:
        # each change size changes more records than the one before, even on a tiny (smoke) catalog:
        # otherwise 0.1% and 5% of 29 records are both 1 record and the slope cannot be measured
        count = max(previous + 1, round(fraction * len(keys))) if fraction else 0
        previous = count
        for i in range(sync_runs):
            serial += 1
            changed = change_records(data_dir, keys, count, rng, serial) if count else 0
            say(f"index: sync after {changed:,} changed records ({fraction:.1%}), run {i + 1}/{sync_runs} ...")
            result, done = _op(data_dir, "sync", logs, f"sync-{fraction}-{i + 1}")
            if result.get("rebuilt"):
                say("index: the sync rebuilt the index instead (see its output); its time is not a sync's")
            reindexed = int(result.get("added", 0)) + int(result.get("updated", 0)) + int(result.get("deleted", 0)) \
                + int(result.get("linked", 0))
            syncs.append(SyncRun(fraction, changed, float(result["seconds"]), done.wall, reindexed, done.max_rss_mb))
    section = report(docs, len(keys), rebuilds, syncs, mode, fusion, parallel)
    section.seconds = time.perf_counter() - started
    return section, data_dir


def report(docs: int, records: int, rebuilds: list[tuple[dict[str, Any], Finished]], syncs: list[SyncRun],
           mode: str, fusion: tuple[dict[str, Any], Finished] | None = None,
           parallel: list[tuple[dict[str, Any], Finished]] | None = None) -> Section:
    """The index section (``rebuilds``: in one process, the baseline; ``parallel``: on both cores)."""
    section = Section("Index")
    rebuild_s = [r["seconds"] for r, _ in rebuilds]
    rebuild_rate = [r["docs_per_second"] for r, _ in rebuilds]
    rebuild_rss = [f.max_rss_mb for _, f in rebuilds]
    med_rebuild = median(rebuild_s)
    n = len(rebuilds)
    section.add_text(
        f"A copy of the crawled catalog: {records:,} records, {docs:,} index documents. Rebuild = "
        "`indexer.build.rebuild` (fresh generation, swapped in) with `INDEX_BUILD_PROCS=1` (one process: the "
        f"baseline of every \"vs rebuild\" figure, as a sync runs in one process) and `={PARALLEL_PROCS}` (both "
        "cores; its peak RSS is its largest process's, not the sum); sync = `indexer.build.sync` after changing "
        "that share of the records with `Catalog.upsert` (the sync fuses those observations first); record fusion = "
        "`Catalog.refuse_all` (every observation fused again, as after a rules change). Each runs in its own process; seconds are the "
        "operation's own (imports and interpreter start excluded), peak RSS is the whole process's, from the kernel."
        + (f" Medians of {n} rebuilds and of {len(syncs) // len(FRACTIONS)} syncs per change size." if n > 1 else ""))
    rows = [["full rebuild, one process", f"{docs:,}", f"{docs:,}", fmt(med_rebuild), spread(rebuild_s),
             fmt(median(rebuild_rate), 0), "100%", "(baseline)", fmt(median(rebuild_rss), 0)]]
    targets: list[Target] = []
    if parallel:
        row, target = _parallel_figures(docs, parallel, med_rebuild, median(rebuild_rate), mode)
        rows.append(row)
        targets.append(target)
    by_fraction: dict[float, list[SyncRun]] = {}
    for s in syncs:
        by_fraction.setdefault(s.fraction, []).append(s)
    fixed = median(s.seconds for s in by_fraction.get(0.0, []))
    medians: dict[float, tuple[float, int]] = {}
    for fraction, runs in by_fraction.items():
        secs = median(s.seconds for s in runs)
        changed = int(median(s.records for s in runs))
        medians[fraction] = (secs, changed)
        reindexed = int(median(s.reindexed for s in runs))
        share = secs / med_rebuild if med_rebuild else 0.0
        per_record = f"{1000 * (secs - fixed) / changed:.1f} ms/record above no-change" if changed else "fixed cost"
        rows.append([f"sync, {fraction:.1%} of records changed", f"{changed:,}", f"{reindexed:,}", fmt(secs, 2),
                     spread([s.seconds for s in runs]), fmt(reindexed / secs, 0) if secs and reindexed else "-",
                     f"{share:.1%}", per_record, fmt(median(s.rss_mb for s in runs), 0)])
    decided = mode != "smoke"
    if 0.01 in medians:
        secs, _ = medians[0.01]
        targets.append(Target(
            "Sync of 1% changed records vs full rebuild", f"{secs:.2f} s", f"rebuild {med_rebuild:.1f} s",
            f"<= {ONE_PERCENT_LIMIT:.0%} of the rebuild", secs <= ONE_PERCENT_LIMIT * med_rebuild if decided else None,
            f"{secs / med_rebuild:.1%}" if med_rebuild else ""))
    small, big = min(f for f in medians if f), max(medians)
    if big > small and medians[big][1] > medians[small][1]:
        marginal = (medians[big][0] - medians[small][0]) / (medians[big][1] - medians[small][1])
        per_doc = med_rebuild / docs if docs else 0.0
        targets.append(Target(
            f"Sync cost per extra changed record ({small:.1%} -> {big:.1%})", f"{1000 * marginal:.2f} ms/record",
            f"rebuild {1000 * per_doc:.2f} ms/doc", f"<= {SLACK:.0f}x the rebuild's cost per document",
            marginal <= SLACK * per_doc if decided else None,
            f"{marginal / per_doc:.1f}x" if per_doc else ""))
    nochange_rss = median(s.rss_mb for s in by_fraction.get(0.0, []))
    targets += [
        Target(f"Index full rebuild docs/s, one process ({docs:,} docs)", f"{median(rebuild_rate):,.0f} docs/s", "-",
               "(none; shown)", None, info=True),
        Target("Index rebuild peak RSS", f"{median(rebuild_rss):.0f} MiB", f"no-change sync {nochange_rss:.0f} MiB",
               "(none; shown)", None, ratio=f"{median(rebuild_rss) / nochange_rss:.1f}x" if nochange_rss else "",
               info=True),
    ]
    if fusion is not None:
        fused, fused_run = fusion
        rate = fused["observations"] / fused["seconds"] if fused["seconds"] else 0.0
        rows.append(["record fusion, every observation again", f"{fused['observations']:,}", "-",
                     fmt(fused["seconds"], 2), "-", "-", f"{fused['seconds'] / med_rebuild:.1%}" if med_rebuild else "-",
                     f"{rate:,.0f} observations/s", fmt(fused_run.max_rss_mb, 0)])
        targets.append(Target(f"Record fusion of the whole catalog ({fused['observations']:,} observation changes)",
                              f"{rate:,.0f} observations/s", f"rebuild {med_rebuild:.1f} s", "(none; shown)", None,
                              ratio=f"{fused['seconds'] / med_rebuild:.0%} of a rebuild" if med_rebuild else "",
                              info=True))
    section.add_table(["Operation", "Records changed", "Docs (re)indexed", "Seconds", "Range", "Docs/s",
                       "Time vs rebuild", "Cost per change", "Peak RSS MiB"], rows, align="lrrrrrrrr")
    section.targets = targets
    section.figures = {"docs": docs, "records": records, "rebuild_seconds": rebuild_s, "rebuild_rss_mb": rebuild_rss,
                       "parallel_rebuild_seconds": [r["seconds"] for r, _ in parallel or []],
                       "parallel_rebuild_processes": [r.get("processes", 1) for r, _ in parallel or []],
                       "parallel_rebuild_rss_mb": [f.max_rss_mb for _, f in parallel or []],
                       "syncs": [dataclasses.asdict(s) for s in syncs]}
    return section


def _parallel_figures(docs: int, parallel: list[tuple[dict[str, Any], Finished]], single_seconds: float,
                      single_rate: float, mode: str) -> tuple[list[str], Target]:
    """The table row and the target of the rebuilds on both cores, against the one-process rebuilds of the same run."""
    seconds = [r["seconds"] for r, _ in parallel]
    rate = median(r["docs_per_second"] for r, _ in parallel)
    used = min(int(r.get("processes", 1)) for r, _ in parallel)
    speedup = rate / single_rate if single_rate else 0.0
    row = [f"full rebuild, INDEX_BUILD_PROCS={PARALLEL_PROCS} ({used} used)", f"{docs:,}", f"{docs:,}",
           fmt(median(seconds)), spread(seconds), fmt(rate, 0),
           f"{median(seconds) / single_seconds:.0%}" if single_seconds else "-", f"{speedup:.2f}x the docs/s",
           fmt(median(f.max_rss_mb for _, f in parallel), 0)]
    # undecided on a smoke catalog, and when the catalog was too small to split (it was built in one process)
    decided = mode != "smoke" and used >= PARALLEL_PROCS
    target = Target("Full rebuild docs/s, both cores ÷ single process",
                    f"{rate:,.0f} docs/s ({used} process{'es' if used > 1 else ''})",
                    f"{single_rate:,.0f} docs/s (1 process)",
                    f">= {PARALLEL_SPEEDUP}", speedup >= PARALLEL_SPEEDUP if decided else None, f"{speedup:.2f}x")
    return row, target


def main(argv: Sequence[str] | None = None) -> int:
    """Run the index benchmark alone and print its section."""

    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--data-dir", type=Path, default=None,
                            help="a data dir with a crawled catalog (copied, never changed); default: crawl one")

    return section_main(argv, __doc__, "cs-bench-index-",
                        lambda workdir, args: run(workdir, args.mode, args.data_dir)[0], options)


if __name__ == "__main__":
    sys.exit(main())
