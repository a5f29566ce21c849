"""``python -m bench``: crawl, index, search, first-time query and serving benchmarks in order, one report.

    python -m bench [--quick | --smoke] [--only crawl,index,search,first_query,serving,scale_out] [--scale N]
                    [--results PATH] [--workdir DIR] [--keep]

Runs the sections in order, reusing the crawl's catalog for the index and the index's data dir
(catalog and index) for first_query and serving (in full mode, or with ``--scale N``, these two also
run on the sample site at N times the programs and reviews), records the load average before and
during each section (one started under load from other processes is run once more), prints each
section's tables as it finishes and a summary table at the end, and writes ``bench/RESULTS.md`` (or
``--results PATH``) with the machine, the date, the commit, the load per section and every figure
beside its same-run baseline and target (see README.md). Missed targets are reported, not
raised: the exit code is 0 whenever the benchmarks ran, 1 with a one-line error when one could not
run, 130 when interrupted (every child process is stopped first).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.common import ROOT, BenchError, Section, add_common_args, cleanup, install_cleanup, say, workdir_for
from bench.machine import LOAD_LIMIT, load_monitor, machine_info, machine_markdown, other_load

SECTIONS = ("crawl", "index", "search", "first_query", "serving", "scale_out")
DEFAULT_RESULTS = ROOT / "bench" / "RESULTS.md"
DEFAULT_SCALE = {"full": 10, "quick": 1, "smoke": 1}


def parse_only(value: str) -> list[str]:
    """``crawl,index`` -> the named sections, in the benchmark's order."""
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown section {', '.join(unknown) or '(none)'}; "
                                         f"choose from {','.join(SECTIONS)}")
    return [s for s in SECTIONS if s in names]


def run_sections(workdir: Path, mode: str, only: Sequence[str], scale: int = 1,
                 catalog: Path | None = None) -> list[Section]:
    """Run the chosen sections in order, sharing the crawled catalog and the indexed data dir; print each.

    Each section runs under ``run_watched``: its load before and during is recorded, and a section that
    started under load from other processes is run once more (in ``<name>-rerun``).
    """
    from bench.common import build_indexed, print_section, scaled_dir
    from bench.machine import run_watched

    sections: list[Section] = []
    catalog_dir: Path | None = catalog
    indexed_dir: Path | None = None

    def folder(name: str, attempt: int) -> Path:
        return workdir / (name if attempt == 1 else f"{name}-rerun")

    def done(section: Section) -> None:
        sections.append(section)
        print_section(section)

    if "crawl" in only:
        from bench import crawl

        say("== crawl ==")

        def crawl_once(attempt: int) -> tuple[Section, Path]:
            outcome = crawl.run(folder("crawl", attempt), mode)
            return outcome.section, outcome.catalog_dir

        section, catalog_dir = run_watched("crawl", mode, crawl_once)
        done(section)
    if "index" in only:
        from bench import index

        say("== index ==")
        section, indexed_dir = run_watched("index", mode, lambda a: index.run(folder("index", a), mode, catalog_dir))
        done(section)
    if "search" in only:
        from bench import search

        say("== search ==")
        done(run_watched("search", mode, lambda a: (search.run(folder("search", a), mode), None))[0])
    needs_data = "first_query" in only or "serving" in only
    if needs_data and indexed_dir is None:
        say("== a data dir for first_query and serving (crawl and index; not measured) ==")
        indexed_dir = build_indexed(workdir / "data", mode, catalog_dir)
    scaled = scaled_dir(scale) if needs_data and scale > 1 else None
    if "first_query" in only:
        from bench import first_query

        say("== first_query ==")
        done(run_watched("first_query", mode, lambda a: (first_query.run(
            folder("first_query", a), mode, indexed_dir, scale=scale, scaled_data=scaled), None))[0])
    if "serving" in only:
        from bench import serving

        say("== serving ==")

        def serving_once(name: str, data: Path | None, at: int, attempt: int, reference: dict[str, object] | None
                         ) -> tuple[Section, None]:
            return serving.run(folder(name, attempt), mode, data_dir=data, scale=at, reference=reference), None

        one, _ = run_watched("serving", mode, lambda a: serving_once("serving", indexed_dir, 1, a, None))
        done(one)
        if scaled is not None:
            say(f"== serving at {scale}x ==")
            name = f"serving-{scale}x"
            done(run_watched(name, mode, lambda a: serving_once(name, scaled, scale, a, one.figures))[0])
    if "scale_out" in only:
        from bench import scale_out

        say("== scale_out ==")
        done(run_watched("scale_out", mode, lambda a: (scale_out.run(folder("scale_out", a), mode), None))[0])
    return sections


def load_lines(sections: Sequence[Section]) -> list[str]:
    """Per section: the load average before and during (max), and whether it was measured under load."""
    out = ["| Section | Load before (1 min) | Of it, not this bench (est.) | Load during (max) | Measured under load? |",
           "|---|---:|---:|---:|---|"]
    for s in sections:
        if s.load is None:
            continue
        verdict = "**yes**" if s.load.under_load else "no"
        if s.load.attempt > 1:
            verdict += " (re-run: the first attempt was)"
        out.append(f"| {s.title} | {s.load.before[0]:.2f} | {s.load.other_before:.2f} | {s.load.during_max:.2f} "
                   f"| {verdict} |")
    out.append("")
    return out


def summary_lines(sections: Sequence[Section]) -> list[str]:
    """One table over every section's figures: value, baseline, ratio, target, met?"""
    out = ["| Section | Figure | Value | Baseline (same run) | Ratio | Target | Met? |",
           "|---|---|---:|---:|---:|---|---|"]
    for s in sections:
        for t in s.targets:
            verdict = f"**{t.verdict}**" if t.holds is False and not t.info else t.verdict
            out.append(f"| {s.title} | {t.what} | {t.measured} | {t.baseline} | {t.ratio or '-'} | {t.target} "
                       f"| {verdict} |")
    out.append("")
    return out


def verdict_counts(sections: Sequence[Section]) -> str:
    """'5 met, 3 missed, 2 undecided' over the targets (figures with no target not counted)."""
    decided = [t for s in sections for t in s.targets if not t.info]
    met = sum(1 for t in decided if t.holds is True)
    missed = sum(1 for t in decided if t.holds is False)
    undecided = sum(1 for t in decided if t.holds is None)
    return f"{met} met, {missed} missed" + (f", {undecided} not decided in this mode" if undecided else "")


def results_markdown(info: dict[str, object], busy: str, mode: str, only: Sequence[str], sections: Sequence[Section],
                     seconds: float, load_end: tuple[float, float, float], scale: int = 1) -> str:
    """The whole RESULTS.md."""
    command = "python -m bench" + ("" if mode == "full" else f" --{mode}") \
        + ("" if list(only) == list(SECTIONS) else f" --only {','.join(only)}") \
        + ("" if scale == DEFAULT_SCALE[mode] else f" --scale {scale}")
    out = [
        "# Benchmark results",
        "",
        f"Written by `{command}` ({mode} mode) in {seconds / 60:.1f} min. Every figure is compared with a "
        "baseline measured in the same run on the same machine (it is shared and noisy, so absolute numbers "
        "move; ratios are what to compare between runs). How each figure is measured, and how to read this "
        "file: `bench/README.md`."
        + (" **Smoke mode: the figures prove the benchmarks run and mean nothing.**" if mode == "smoke" else ""),
        "",
        "## Machine",
        "",
        *machine_markdown(info, load_end),  # type: ignore[arg-type]
        f"Other processes busy at the start (the machine is shared): {busy}.",
        "",
        "## Load per section",
        "",
        f"A section that starts while other processes load the machine above {LOAD_LIMIT:g} (1-minute load "
        "average less this bench's own share, which the monitor tracks) is measured under load, marked so and run "
        "once more (not in smoke mode). The serving sections load the machine themselves: their load during is "
        "expected.",
        "",
        *load_lines(sections),
        "## Summary",
        "",
        f"Targets: {verdict_counts(sections)}. Rows with target \"(none; shown)\" are figures kept for review "
        "(memory, throughput, growth with corpus size) with no target of their own.",
        "",
        *summary_lines(sections),
    ]
    for s in sections:
        out.append(s.markdown(level=2).rstrip())
        out.append("")
        out.append(f"*Section time: {s.seconds / 60:.1f} min.*")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks, print the tables, write RESULTS.md; 0 when they ran, 1 when one could not run."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--only", type=parse_only, default=list(SECTIONS), metavar="SECTIONS",
                        help=f"comma-separated sections to run, of {','.join(SECTIONS)} (default: all)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                        help="where to write the Markdown report (default: bench/RESULTS.md)")
    parser.add_argument("--scale", type=int, default=None, metavar="N",
                        help="also run first_query and serving on the sample site at N times the programs and "
                             "reviews (bench.scaled, built once and cached); default 10 in full mode, "
                             "1 (not at all) in quick and smoke mode")
    parser.add_argument("--catalog", type=Path, default=None, metavar="DATA_DIR",
                        help="a data dir holding a crawled catalog.sqlite3 to use instead of crawling one "
                             "(e.g. the whole sample site in quick mode); the crawl section still crawls")
    args = parser.parse_args(argv)
    if args.catalog is not None and not (args.catalog / "catalog.sqlite3").is_file():
        parser.error(f"--catalog {args.catalog}: no catalog.sqlite3 there")
    scale = args.scale if args.scale is not None else DEFAULT_SCALE[args.mode]
    install_cleanup()
    load_monitor()  # from the start, so it knows this bench's own share of the load average
    started = time.perf_counter()
    try:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        info = machine_info()  # load average before anything of ours runs
        busy = other_load()
        say(f"{args.mode} mode, sections {','.join(args.only)}; commit {info['commit']}"
            + (" (uncommitted changes)" if info["dirty"] else "") + f"; load {info['load'][0]:.2f}")
        with workdir_for(args, "cs-bench-") as workdir:
            say(f"work folder {workdir}")
            try:
                sections = run_sections(workdir, args.mode, args.only, scale, args.catalog)
            except BenchError:
                args.keep = True  # keep the logs of a failed step for a look (workdir_for reads it on exit)
                raise
        seconds = time.perf_counter() - started
        text = results_markdown(info, busy, args.mode, args.only, sections, seconds, os.getloadavg(), scale)
        print("## Summary\n")
        print("\n".join(summary_lines(sections)))
        print(f"Targets: {verdict_counts(sections)}.")
        args.results.write_text(text, encoding="utf-8")
        say(f"done in {seconds / 60:.1f} min; wrote {args.results}")
        return 0
    except KeyboardInterrupt:
        cleanup()
        print("bench: interrupted; every child process stopped", file=sys.stderr)
        return 130
    except BenchError as exc:
        cleanup()
        lines = str(exc).strip().splitlines() or ["(no message)"]
        if len(lines) > 1:
            print("\n".join(lines[1:]), file=sys.stderr)  # the failing child's last lines, for the log
        print(f"bench: error: {lines[0]}", file=sys.stderr)
        return 1
    except OSError as exc:
        cleanup()
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
