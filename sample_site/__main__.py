"""``python -m sample_site``: serve the sample site (same options as ``collegesearch sample-site``)."""

from __future__ import annotations

import argparse
import sys

from sample_site.server import SampleSiteError, serve


def main(argv: list[str] | None = None) -> int:
    """Parse options, serve until interrupted; print the base URL first."""
    parser = argparse.ArgumentParser(prog="python -m sample_site", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--epoch", type=int, default=1)
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--access-log", default=None)
    parser.add_argument("--scale", type=int, default=1, help="N times the programs and reviews (1-50)")
    parser.add_argument("--stale-lastmod", action="store_true",
                        help="sitemaps keep the first epoch's lastmod (a site whose sitemaps lie about changes)")
    args = parser.parse_args(argv)

    def announce(url: str) -> None:
        print(url, flush=True)

    try:
        serve(host=args.host, port=args.port, epoch=args.epoch, faults=not args.no_faults,
              access_log=args.access_log, announce=announce, scale=args.scale, stale_lastmod=args.stale_lastmod)
    except SampleSiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
