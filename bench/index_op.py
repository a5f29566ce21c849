"""Run one index operation in its own process and print its result as JSON (for peak-memory measurement).

    python -m bench.index_op rebuild|sync DATA_DIR
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``indexer.build.rebuild`` or ``sync`` on a data dir; print ``result.to_dict()``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] not in ("rebuild", "sync"):
        print("usage: python -m bench.index_op rebuild|sync DATA_DIR", file=sys.stderr)
        return 2
    from collegesearch.config import load_settings
    from indexer.build import rebuild, sync

    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": args[1]})
    result = rebuild(settings) if args[0] == "rebuild" else sync(settings)
    print(json.dumps(result.to_dict(), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
