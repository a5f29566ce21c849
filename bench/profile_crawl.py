"""Profile one crawl of the sample site with cProfile: where the crawler's CPU goes, per page.

    python -m bench.profile_crawl [SOURCE ...] [--workdir DIR] [--top 25] [--no-profile] [--bare] [--recrawl]

Starts the sample site as the crawl benchmark does (``collegesearch sample-site --no-faults --port
0`` with an access log), runs ``collegesearch crawl [SOURCES] --base-url URL`` on a fresh data dir
in a child process under ``python -m cProfile`` (every enabled source when none is named), and
prints, as Markdown: pages the site logged, the child's wall and CPU seconds (from the kernel,
``wait4``), CPU ms per page, and the top functions by cumulative and by own time. cProfile itself
roughly doubles the CPU a crawl takes, so the ms/page to compare between versions is the one
measured with ``--no-profile`` (same child, no profiler); ``--bare`` then runs the crawl benchmark's
bare spider over the URLs the crawl fetched, for its pages/s ratio. ``--recrawl`` first runs the same
crawl once without the profiler and then measures (or profiles) a second, scheduled crawl of the
same data dir right after it: the "scheduled recrawl after no change" of the crawl benchmark. Not
part of ``python -m bench``.
"""

from __future__ import annotations

import argparse
import io
import pstats
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.common import PYTHON, child_env, install_cleanup, run_measured, sample_site


def _table(stats: pstats.Stats, key: str, top: int) -> str:
    """The top ``top`` functions by ``key`` as a Markdown table."""
    stats.sort_stats(key)
    rows = ["| calls | own s | cumulative s | function |", "|---:|---:|---:|---|"]
    entries = stats.stats  # type: ignore[attr-defined]
    for func in stats.fcn_list[:top]:  # type: ignore[attr-defined]
        _cc, calls, own, cumulative, _callers = entries[func]
        file, line, name = func
        where = f"{_short(file)}:{line}({name})" if line else name
        rows.append(f"| {calls:,} | {own:.2f} | {cumulative:.2f} | `{where}` |")
    return "\n".join(rows)


def _short(path: str) -> str:
    """A path without the interpreter's and the venv's prefixes."""
    for marker in ("site-packages/", "/lib/python3", "/work/"):
        if marker in path:
            tail = path.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "/lib/python3" and "/" in tail else tail
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run the crawl under cProfile (or not) and print the figures and the top functions."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("sources", nargs="*", help="sources to crawl (default: every enabled source)")
    parser.add_argument("--workdir", type=Path, help="where to keep the data dir, logs and profile")
    parser.add_argument("--top", type=int, default=25, help="functions per table (default 25)")
    parser.add_argument("--no-profile", action="store_true", help="measure the crawl without cProfile")
    parser.add_argument("--bare", action="store_true",
                        help="then run the crawl benchmark's bare spider over the URLs the crawl fetched, same site")
    parser.add_argument("--recrawl", action="store_true",
                        help="crawl once unmeasured, then measure the scheduled recrawl that follows (no change)")
    args = parser.parse_args(argv)
    install_cleanup()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cs-profile-crawl-"))
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    profile = workdir / "crawl.prof"
    with sample_site(workdir) as site:
        if args.recrawl:
            first = run_measured([PYTHON, "-m", "collegesearch", "--data-dir", str(data_dir), "crawl", *args.sources,
                                  "--base-url", site.url], logs=workdir / "logs", name="first", env=child_env(data_dir))
            print(f"first crawl (not profiled): exit code {first.returncode}; wall {first.wall:.1f} s; "
                  f"CPU {first.cpu_s:.1f} s\n")
        before = site.log_lines()
        head = [PYTHON] if args.no_profile else [PYTHON, "-m", "cProfile", "-o", str(profile)]
        cmd = [*head, "-m", "collegesearch", "--data-dir", str(data_dir), "crawl", *args.sources,
               "--base-url", site.url]
        done = run_measured(cmd, logs=workdir / "logs", name="crawl", env=child_env(data_dir))
        after = site.log_lines()
        pages = after - before
        bare = None
        if args.bare:
            urls = [f"http://{r['host']}{r['path']}" for r in site.records(before, after) if r.get("method") == "GET"]
            urls_file = workdir / "urls.txt"
            urls_file.write_text("\n".join(urls) + "\n")
            start = site.log_lines()
            bare = run_measured([PYTHON, "-m", "bench.bare_spider", str(urls_file)], logs=workdir / "logs",
                                name="bare", env=child_env())
            bare_pages = site.log_lines() - start
    label = (" + ".join(args.sources) or "whole site") + (", scheduled recrawl" if args.recrawl else "")
    print(f"## {label}{' (no profiler)' if args.no_profile else ' (under cProfile)'}\n")
    print(f"exit code {done.returncode}; {pages:,} pages; wall {done.wall:.1f} s; CPU {done.cpu_s:.1f} s; "
          f"{1000 * done.cpu_s / max(pages, 1):.2f} ms CPU/page; peak RSS {done.max_rss_mb:.0f} MiB\n")
    if bare is not None:
        ratio = (pages / done.wall) / (bare_pages / bare.wall) if bare.wall and done.wall and bare_pages else 0.0
        print(f"bare spider, same URLs: exit code {bare.returncode}; {bare_pages:,} pages; wall {bare.wall:.1f} s; "
              f"CPU {bare.cpu_s:.1f} s; {1000 * bare.cpu_s / max(bare_pages, 1):.2f} ms CPU/page; "
              f"crawl pages/s = {ratio:.0%} of the bare spider's\n")
    if not args.no_profile and profile.exists():
        stats = pstats.Stats(str(profile), stream=io.StringIO())
        print(f"### Top {args.top} by cumulative time\n\n{_table(stats, 'cumulative', args.top)}\n")
        print(f"### Top {args.top} by own time\n\n{_table(stats, 'tottime', args.top)}\n")
        print(f"(profile: {profile}; `python -m pstats {profile}` to browse)")
    return 0 if done.returncode in (0, 1) else done.returncode


if __name__ == "__main__":
    sys.exit(main())
