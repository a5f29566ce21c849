"""Logging of the long-running ops processes (scheduler, crawl worker, index follower): one format, on stderr."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str) -> None:
    """Log to stderr at ``level`` (the long-running ops processes: scheduler, worker, follower)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=getattr(logging, level, logging.INFO), stream=sys.stderr,
                            format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    else:
        root.setLevel(getattr(logging, level, logging.INFO))
