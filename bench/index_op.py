"""Run one index operation in its own process and print its result as JSON (for peak-memory measurement).

    python -m bench.index_op rebuild|sync|fuse DATA_DIR

``fuse`` re-fuses every observation of the catalog (``Catalog.refuse_all``): the cost of record fusion
over a whole crawl, which a sync pays only for the observations that changed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``indexer.build.rebuild``, ``sync`` or a full re-fusion on a data dir; print the result as JSON."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] not in ("rebuild", "sync", "fuse"):
        print("usage: python -m bench.index_op rebuild|sync|fuse DATA_DIR", file=sys.stderr)
        return 2
    if args[0] == "fuse":
        import time
        from pathlib import Path

        from catalog import Catalog

        with Catalog(Path(args[1]) / "catalog.sqlite3") as catalog:
            started = time.perf_counter()
            fused = catalog.refuse_all()
            print(json.dumps({**fused.to_dict(), "seconds": time.perf_counter() - started}))
        return 0
    from collegesearch.config import load_settings
    from indexer.build import rebuild, sync

    # only the build's process count comes from the environment (the benchmark compares 1 and 2)
    procs = os.environ.get("COLLEGESEARCH_INDEX_BUILD_PROCS")
    settings = load_settings(env={"COLLEGESEARCH_INDEX_BUILD_PROCS": procs} if procs else {}, config_file=None,
                             overrides={"DATA_DIR": args[1]})
    result = rebuild(settings) if args[0] == "rebuild" else sync(settings)
    print(json.dumps(result.to_dict(), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
