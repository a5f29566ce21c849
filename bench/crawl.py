"""Crawl benchmark: the full crawl against a bare Scrapy spider, and an unchanged recrawl against the full crawl.

    python -m bench.crawl [--quick | --smoke] [--workdir DIR] [--keep]

One sample site (``collegesearch sample-site --no-faults --port 0``, with an access log) serves
every run. A *comparison* is, on a fresh data dir:

1. the full crawl: ``collegesearch crawl [SOURCES] --base-url URL`` in a child process;
2. the baseline: ``python -m bench.bare_spider`` fetching exactly the URLs the full crawl fetched
   (read from the site's access log) with the crawler's concurrency settings, parsing nothing;
3. the scheduled recrawl after no change: the same crawl command again on the same data dir; the
   freshness schedule fetches only what is due (listings, sitemaps, pages whose sitemap lastmod
   is newer than their last fetch), which right after a full crawl is almost nothing;
4. the forced recrawl (``crawl --full``, small comparisons only): every page again, conditional
   requests answered 304, for reference;
5. the epoch change: the site restarted at epoch 2 on the same port, then a scheduled recrawl;
   every record the ground truth (``sample_site.truth``) added or changed between the epochs must
   now hold its epoch-2 value in the catalog.

Pages are requests the site logged during each step (one instrument for all); seconds are the
child process's wall time (start-up included, for all alike); peak RSS and CPU seconds come from
the kernel (``wait4``). Targets (issue 16): full crawl pages/s >= 70% of the bare spider's; the
scheduled recrawl after no change takes <= 0.1 of the full crawl's wall time; after the epoch
change, records caught / records the truth changed = 1.0; crawler peak RSS <= 1.5x the bare
spider's.

The whole site (about 10,000 pages) takes minutes per step on two shared cores, so the full mode
runs the whole-site comparison once and repeats the comparison on two small sources (careers and
the accreditor directory, about 630 pages) three times, reporting medians. ``--quick`` runs the
small comparison once; ``--smoke`` crawls a few pages of one source.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    PYTHON,
    BenchError,
    SampleSite,
    Section,
    Target,
    child_env,
    cli,
    fmt,
    median,
    run_measured,
    sample_site,
    say,
    section_main,
)

ALL_SOURCES: tuple[str, ...] = ()  # empty: the crawl command's default, every enabled source
SMALL_SOURCES: tuple[str, ...] = ("bls_ooh", "directory")
SMOKE_SOURCES: tuple[str, ...] = ("directory",)
PAGES_TARGET = 0.70
SCHEDULED_TARGET = 0.10
"""Scheduled recrawl after no change, wall time as a share of the first full crawl's (at most)."""
RSS_TARGET = 1.5
LINK_FIELDS = frozenset({"institution_unitid", "link_status", "link_confidence"})
"""Fields the linkage pipeline fills; their precision has its own test, so they are not compared."""


@dataclass
class Step:
    """One measured child: requests the site logged, wall seconds, peak RSS, CPU seconds, items."""

    pages: int
    seconds: float
    rss_mb: float
    cpu_s: float
    items: int = 0
    site_cpu_s: float = 0.0
    exit_code: int = 0
    """1 when a source's run failed (the crawl still measured what it fetched; the report says so)."""

    @property
    def pages_per_s(self) -> float:
        """Requests per wall second."""
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def items_per_s(self) -> float:
        """Items stored (or carried over from 304 pages) per wall second."""
        return self.items / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        """CPU milliseconds of the measured process per request."""
        return 1000 * self.cpu_s / self.pages if self.pages else 0.0


@dataclass
class EpochCheck:
    """The scheduled recrawl after the site moved to epoch 2, and what it caught."""

    step: Step
    truth_changed: int
    """Records the ground truth added or changed between epochs 1 and 2 (of the crawled sources)."""
    caught: int
    """Of those, records whose catalog observation now holds the epoch-2 value."""
    catalog_changes: int
    """Records the run wrote as new, changed or revived (catalog change log)."""
    missed: list[str]

    @property
    def caught_share(self) -> float:
        """Records caught / records the truth changed (1.0 when the truth changed nothing)."""
        return self.caught / self.truth_changed if self.truth_changed else 1.0


@dataclass
class Comparison:
    """Full crawl, bare spider, scheduled recrawl (and forced recrawl, epoch change) over the same pages."""

    label: str
    full: Step
    bare: Step
    recrawl: Step
    data_dir: str
    forced: Step | None = None
    epoch: EpochCheck | None = None

    @property
    def pages_ratio(self) -> float:
        """Full crawl pages/s as a share of the bare spider's."""
        return self.full.pages_per_s / self.bare.pages_per_s if self.bare.pages_per_s else 0.0

    @property
    def recrawl_speedup(self) -> float:
        """How many times faster the scheduled recrawl after no change is than the full crawl."""
        return self.full.seconds / self.recrawl.seconds if self.recrawl.seconds else 0.0

    @property
    def recrawl_share(self) -> float:
        """The scheduled recrawl's wall time as a share of the full crawl's."""
        return self.recrawl.seconds / self.full.seconds if self.full.seconds else 0.0


@dataclass
class CrawlOutcome:
    """What the crawl benchmark found, and the crawled catalog the other benchmarks share."""

    section: Section
    catalog_dir: Path
    """A data dir holding the crawled catalog (the whole site in full mode)."""


def _site_cpu(site: SampleSite) -> float:
    import psutil

    try:
        t = psutil.Process(site.proc.pid).cpu_times()
        return float(t.user + t.system)
    except psutil.Error:
        return 0.0


def _items(data_dir: Path, after_run: int) -> tuple[int, int]:
    """Items the runs after ``after_run`` stored or carried over; and the last run id."""
    from catalog import Catalog

    with Catalog(data_dir / "catalog.sqlite3", readonly=True) as catalog:
        runs = [r for r in catalog.list_runs(limit=100) if r.id > after_run]
    total = 0
    for run in runs:
        counts = run.stats.get("items", {})
        total += sum(int(counts.get(k, 0)) for k in ("new", "changed", "unchanged", "revived", "touched"))
    return total, max((r.id for r in runs), default=after_run)


def _catalog_changes(data_dir: Path, after_run: int) -> int:
    """Records the runs after ``after_run`` wrote as new, changed or revived."""
    from catalog import Catalog

    with Catalog(data_dir / "catalog.sqlite3", readonly=True) as catalog:
        runs = [r for r in catalog.list_runs(limit=100) if r.id > after_run]
    return sum(int(r.stats.get("items", {}).get(k, 0)) for r in runs for k in ("new", "changed", "revived"))


def changes_caught(data_dir: Path, sources: Sequence[str]) -> tuple[int, int, list[str]]:
    """(records the truth added or changed from epoch 1 to 2, of them caught in the catalog, some missed ids)."""
    from catalog import Catalog
    from model.sources import BUILTIN_SOURCES
    from sample_site import truth

    crawled = set(sources or BUILTIN_SOURCES)
    before, after = truth.expected_items(1), truth.expected_items(2)
    wanted = caught = 0
    missed: list[str] = []
    with Catalog(data_dir / "catalog.sqlite3", readonly=True) as catalog:
        for kind, records in after.items():
            old = before.get(kind, {})
            for item_id, fields in records.items():
                if fields.get("source") not in crawled:
                    continue
                plain = {k: v for k, v in fields.items() if k != "url"}
                if item_id in old and {k: v for k, v in old[item_id].items() if k != "url"} == plain:
                    continue
                wanted += 1
                stored = catalog.get(kind, item_id)
                linked = fields.get("source") in ("reviews", "directory")
                # (URLs are left out: the truth writes them for the site's default port, the bench's is random)
                if stored is not None and stored.deleted_at is None and all(
                        stored.data.get(k) == v for k, v in fields.items()
                        if k != "url" and not (linked and k in LINK_FIELDS)):
                    caught += 1
                elif len(missed) < 10:
                    missed.append(f"{kind} {item_id}")
    return wanted, caught, missed


def _crawl_step(site: SampleSite, data_dir: Path, sources: Sequence[str], logs: Path, name: str,
                env: dict[str, str], allow_failed_runs: bool, after_run: int,
                options: Sequence[str] = ()) -> tuple[Step, list[str], int]:
    before, cpu0 = site.log_lines(), _site_cpu(site)
    done = run_measured(cli(data_dir, "crawl", *sources, *options, "--base-url", site.url), logs=logs, name=name,
                        env=env)
    # exit code 1 = a source's run failed: its pages were still fetched and measured; reported, not fatal.
    # In smoke mode that is expected (the crawl is stopped after a few pages).
    if done.returncode != 0 and done.returncode != 1:
        done.check(name)
    if done.returncode == 1 and not allow_failed_runs:
        say(f"{name}: a source's run failed (exit code 1, see {logs / (name + '.err')}); measured anyway")
    after = site.log_lines()
    records = site.records(before, after)
    items, last_run = _items(data_dir, after_run)
    step = Step(pages=len(records), seconds=done.wall, rss_mb=done.max_rss_mb, cpu_s=done.cpu_s, items=items,
                site_cpu_s=_site_cpu(site) - cpu0, exit_code=0 if allow_failed_runs else done.returncode)
    urls = [f"http://{r['host']}{r['path']}" for r in records if r.get("method") == "GET"]
    return step, urls, last_run


def compare(site: SampleSite, workdir: Path, sources: Sequence[str], label: str, tag: str, *,
            smoke: bool = False, forced: bool = False, epoch_change: bool = False) -> Comparison:
    """Full crawl, bare spider over the same URLs, scheduled recrawl (forced recrawl, epoch change); a fresh data dir."""
    data_dir = workdir / f"data-{tag}"
    logs = workdir / "logs"
    extra = {"SCRAPY_SETTINGS_MODULE": "bench.smoke_scrapy_settings"} if smoke else {}
    env = child_env(data_dir, **extra)
    say(f"crawl {label}: full crawl ...")
    full, urls, last_run = _crawl_step(site, data_dir, sources, logs, f"crawl-full-{tag}", env, smoke, 0)
    if not urls:
        raise BenchError(f"the full crawl of {label} fetched nothing (see {logs})")
    urls_file = workdir / f"urls-{tag}.txt"
    urls_file.write_text("\n".join(urls) + "\n")
    say(f"crawl {label}: {full.pages:,} pages in {full.seconds:.1f} s; bare spider over the same URLs ...")
    before, cpu0 = site.log_lines(), _site_cpu(site)
    done = run_measured([PYTHON, "-m", "bench.bare_spider", str(urls_file)], logs=logs, name=f"bare-{tag}",
                        env=child_env()).check("the bare spider")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if report["failures"] > max(5, len(urls) // 100):
        raise BenchError(f"the bare spider had {report['failures']} failed requests of {len(urls)} (see {logs})")
    if report["failures"]:
        say(f"crawl {label}: the bare spider had {report['failures']} failed requests (counted as pages not fetched)")
    bare = Step(pages=site.log_lines() - before, seconds=done.wall, rss_mb=done.max_rss_mb, cpu_s=done.cpu_s,
                site_cpu_s=_site_cpu(site) - cpu0)
    say(f"crawl {label}: bare spider {bare.pages:,} pages in {bare.seconds:.1f} s; scheduled recrawl, no change ...")
    recrawl, _, last_run = _crawl_step(site, data_dir, sources, logs, f"crawl-recrawl-{tag}", env, smoke, last_run)
    say(f"crawl {label}: scheduled recrawl {recrawl.pages:,} pages in {recrawl.seconds:.1f} s")
    result = Comparison(label, full, bare, recrawl, str(data_dir))
    if forced:
        say(f"crawl {label}: forced recrawl (--full) ...")
        result.forced, _, last_run = _crawl_step(site, data_dir, sources, logs, f"crawl-forced-{tag}", env, smoke,
                                                 last_run, options=("--full",))
        say(f"crawl {label}: forced recrawl {result.forced.pages:,} pages in {result.forced.seconds:.1f} s")
    if epoch_change:
        say(f"crawl {label}: the site moves to epoch 2; scheduled recrawl ...")
        site.restart(epoch=2)
        try:
            step, _, _ = _crawl_step(site, data_dir, sources, logs, f"crawl-epoch2-{tag}", env, smoke, last_run)
            wanted, caught, missed = changes_caught(data_dir, sources)
            result.epoch = EpochCheck(step, wanted, caught, _catalog_changes(data_dir, last_run), missed)
        finally:
            site.restart(epoch=1)
        say(f"crawl {label}: epoch 2 recrawl {step.pages:,} pages in {step.seconds:.1f} s, "
            f"caught {caught:,} of {wanted:,} changed records")
    return result


def crawl_catalog(workdir: Path, mode: str) -> Path:
    """A crawled catalog for a benchmark run alone: one crawl (the whole site in full mode); its data dir."""
    whole_site, _, small = plan(mode)
    sources = ALL_SOURCES if whole_site else small
    data_dir = workdir / "data-crawled"
    extra = {"SCRAPY_SETTINGS_MODULE": "bench.smoke_scrapy_settings"} if mode == "smoke" else {}
    with sample_site(workdir) as site:
        say(f"crawling {' + '.join(sources) or 'the whole site'} for a catalog ...")
        done = run_measured(cli(data_dir, "crawl", *sources, "--base-url", site.url), logs=workdir / "logs",
                            name="crawl-catalog", env=child_env(data_dir, **extra))
        if done.returncode != 0 and not (mode == "smoke" and done.returncode == 1):
            done.check("the crawl")
    return data_dir


def plan(mode: str) -> tuple[bool, int, tuple[str, ...]]:
    """(whole-site comparison?, repetitions of the small comparison, small sources) for a mode."""
    if mode == "smoke":
        return False, 1, SMOKE_SOURCES
    if mode == "quick":
        return False, 1, SMALL_SOURCES
    return True, 3, SMALL_SOURCES


def run(workdir: Path, mode: str = "full") -> CrawlOutcome:
    """Run the comparisons and build the report section."""
    started = time.perf_counter()
    whole_site, reps, small = plan(mode)
    comparisons: list[Comparison] = []
    with sample_site(workdir) as site:
        say(f"sample site (faults off) at {site.url}")
        whole: Comparison | None = None
        if whole_site:
            whole = compare(site, workdir, ALL_SOURCES, "whole site", "whole", epoch_change=True)
        small_label = " + ".join(small)
        for i in range(reps):
            # The epoch check runs once: on the whole site in full mode, else on the first small comparison.
            comparisons.append(compare(site, workdir, small, small_label, f"small{i + 1}", smoke=mode == "smoke",
                                       forced=True, epoch_change=whole is None and i == 0))
    section = report(whole, comparisons, small_label, mode)
    section.seconds = time.perf_counter() - started
    catalog_dir = Path(whole.data_dir if whole else comparisons[0].data_dir)
    return CrawlOutcome(section, catalog_dir)


def _row(label: str, step: Step, base: Step | None, note: str = "") -> list[str]:
    ratio = f"{step.pages_per_s / base.pages_per_s:.0%}" if base and base.pages_per_s else "(baseline)"
    return [label, f"{step.pages:,}", fmt(step.seconds), fmt(step.pages_per_s), ratio,
            fmt(step.items_per_s, 0) if step.items else "-", fmt(step.cpu_ms_per_page), fmt(step.rss_mb, 0),
            fmt(step.site_cpu_s / step.pages * 1000 if step.pages else 0.0), note]


HEADER = ["Run", "Pages", "Seconds", "Pages/s", "vs bare", "Items/s", "Crawler CPU ms/page", "Peak RSS MiB",
          "Site CPU ms/page", "Note"]


def _epoch_row(check: EpochCheck, base: Step) -> list[str]:
    note = f"caught {check.caught:,} of {check.truth_changed:,} changed records"
    if check.missed:
        note += " (missed e.g. " + ", ".join(check.missed[:3]) + ")"
    return _row("scheduled recrawl after the epoch change", check.step, base, note)


def _epoch_target(check: EpochCheck, label: str, decided: bool) -> Target:
    return Target(f"Changes caught by a scheduled recrawl after an epoch change ({label})",
                  f"{check.caught:,} records", f"truth changed {check.truth_changed:,}", "= 1.0",
                  check.caught_share >= 1.0 if decided else None, f"{check.caught_share:.3f}")


def report(whole: Comparison | None, small: list[Comparison], small_label: str, mode: str) -> Section:
    """The crawl section: one table per comparison, the medians, the targets."""
    section = Section("Crawl")
    section.add_text(
        "Sample site with faults off on loopback (same machine, same two cores). *Pages* are requests the "
        "site logged during the step; *seconds* are the child process's wall time, start-up included. "
        "*Crawler CPU ms/page* and *peak RSS* come from the kernel for the measured process only; "
        "*site CPU ms/page* is what the sample site spent answering. A *scheduled* recrawl fetches what its "
        "freshness schedule says is due; a *forced* one (`crawl --full`) fetches every page (304s).")
    decided = mode != "smoke"
    targets: list[Target] = []
    if whole is not None:
        section.add_text("**Whole site, once** (every enabled source; data dir reused as the shared catalog):")
        rows = [
            _row("bare Scrapy spider, same URLs", whole.bare, None, "baseline"),
            _row("full crawl (first, empty catalog)", whole.full, whole.bare),
            _row("scheduled recrawl, no change", whole.recrawl, whole.bare,
                 f"{whole.recrawl_share:.3f} of the full crawl's time"),
        ]
        if whole.epoch is not None:
            rows.append(_epoch_row(whole.epoch, whole.bare))
        section.add_table(HEADER, rows, align="lrrrrrrrrl")
        targets += [
            Target("Crawl pages/s vs bare spider (whole site, 1 run)", f"{whole.full.pages_per_s:.1f} pages/s",
                   f"{whole.bare.pages_per_s:.1f} pages/s", ">= 70%",
                   whole.pages_ratio >= PAGES_TARGET, f"{whole.pages_ratio:.0%}"),
            Target("Scheduled recrawl after no change vs full crawl, wall time (whole site, 1 run)",
                   f"{whole.recrawl.seconds:.1f} s", f"{whole.full.seconds:.0f} s", "<= 0.1",
                   whole.recrawl_share <= SCHEDULED_TARGET, f"{whole.recrawl_share:.3f}"),
        ]
        if whole.epoch is not None:
            targets.append(_epoch_target(whole.epoch, "whole site", decided))
    n = len(small)
    section.add_text(f"**{small_label}, {n} repetition{'s' if n > 1 else ''}** (fresh data dir each time)"
                     + (", medians:" if n > 1 else ":"))

    def med_of(get: Any) -> Step:
        steps = [get(c) for c in small if get(c) is not None]
        return Step(pages=int(median(st.pages for st in steps)), seconds=median(st.seconds for st in steps),
                    rss_mb=median(st.rss_mb for st in steps), cpu_s=median(st.cpu_s for st in steps),
                    items=int(median(st.items for st in steps)), site_cpu_s=median(st.site_cpu_s for st in steps))

    bare, full, recrawl = (med_of(lambda c: c.bare), med_of(lambda c: c.full), med_of(lambda c: c.recrawl))
    ratios = [c.pages_ratio for c in small]
    shares = [c.recrawl_share for c in small]
    rows = [
        _row("bare Scrapy spider, same URLs", bare, None, "baseline"),
        _row("full crawl (first, empty catalog)", full, bare, "per-run ratios " + ", ".join(f"{r:.0%}" for r in ratios)),
        _row("scheduled recrawl, no change", recrawl, bare,
             "share of the full crawl's time " + ", ".join(f"{x:.3f}" for x in shares)),
    ]
    if any(c.forced for c in small):
        forced = med_of(lambda c: c.forced)
        rows.append(_row("forced recrawl (--full, 304s)", forced, bare,
                         f"{forced.seconds / full.seconds:.2f} of the full crawl's time" if full.seconds else ""))
    small_epoch = next((c.epoch for c in small if c.epoch is not None), None)
    if small_epoch is not None:
        rows.append(_epoch_row(small_epoch, bare))
    section.add_table(HEADER, rows, align="lrrrrrrrrl")
    failed = [f"{label} ({c.label})" for c in ([whole] if whole else []) + small
              for label, step in (("full crawl", c.full), ("recrawl", c.recrawl)) if step.exit_code]
    if failed:
        section.add_text("**Warning**: a source's run failed (exit code 1) in: " + "; ".join(failed)
                         + ". Its pages were fetched and are counted; see the crawl logs in the work folder.")
    mr, msh = median(ratios), median(shares)
    targets += [
        Target(f"Crawl pages/s vs bare spider ({small_label}, median of {n})", f"{full.pages_per_s:.1f} pages/s",
               f"{bare.pages_per_s:.1f} pages/s", ">= 70%", mr >= PAGES_TARGET if decided else None, f"{mr:.0%}"),
        Target(f"Scheduled recrawl after no change vs full crawl, wall time ({small_label}, median of {n})",
               f"{recrawl.seconds:.1f} s", f"{full.seconds:.1f} s", "<= 0.1",
               msh <= SCHEDULED_TARGET if decided else None, f"{msh:.3f}"),
    ]
    if small_epoch is not None:
        targets.append(_epoch_target(small_epoch, small_label, decided))
    ref, ref_bare, ref_label = (whole.full, whole.bare, "whole site") if whole else (full, bare, small_label)
    rss_ratio = ref.rss_mb / ref_bare.rss_mb if ref_bare.rss_mb else 0.0
    targets += [
        Target(f"Crawler peak RSS, full crawl vs bare spider ({ref_label})", f"{ref.rss_mb:.0f} MiB",
               f"bare spider {ref_bare.rss_mb:.0f} MiB", "<= 1.5x",
               rss_ratio <= RSS_TARGET if decided else None, f"{rss_ratio:.2f}x"),
        Target(f"Crawl items/s, full crawl ({ref_label})", f"{ref.items_per_s:.1f} items/s",
               f"{ref.pages_per_s:.1f} pages/s", "(none; shown)", None, info=True),
    ]
    section.targets = targets
    section.figures = {"whole": asdict(whole) if whole else None, "small": [asdict(c) for c in small],
                       "crawler_peak_rss_mb": max([c.full.rss_mb for c in small]
                                                  + ([whole.full.rss_mb, whole.recrawl.rss_mb] if whole else []))}
    return section


def main(argv: Sequence[str] | None = None) -> int:
    """Run the crawl benchmark alone and print its section."""
    return section_main(argv, __doc__, "cs-bench-crawl-", lambda workdir, args: run(workdir, args.mode).section)


if __name__ == "__main__":
    sys.exit(main())
