"""What the crawler does on a full disk: stop with this close reason, and say so once per process.

Recognising a full disk is the catalog's job (``catalog.storage_errors``); the crawler only
decides to stop (``CrawlStore``), records the run as failed but resumable (``crawler.verdict``)
and skips the work that would write more (``crawler.run``).
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

RESERVE_BYTES = 64 * 1024
"""Room a crawl sets aside beside the catalog and gives back when the disk fills up: enough for the
catalog to record the run as failed and resumable (a few WAL frames), which it could not otherwise
do on a disk with no byte left (the run would stay "running" until the next crawl noticed)."""

# The spider's close reason when the catalog's disk is full.
DISK_FULL_REASON = "disk_full"
# Messages already logged by this process: crawlers of several sources share one disk and say it once.
_REPORTED: set[str] = set()


def report_disk_full(message: str) -> bool:
    """Log a full-disk line once per process (crawlers of several sources share the disk); False if said already."""
    if message in _REPORTED:
        return False
    _REPORTED.add(message)
    logger.error("%s", message)
    return True



class DiskReserve:
    """A small file beside the catalog, written when a crawl starts and deleted when the disk is full."""

    def __init__(self, folder: Path, name: str) -> None:
        self.path = folder / f".{name}.reserve"
        self.held = False

    def take(self) -> None:
        """Set the room aside (quietly skipped when there is no room for it already)."""
        try:
            with self.path.open("wb") as fh:
                fh.write(b"\0" * RESERVE_BYTES)  # real blocks, not a sparse file: tmpfs and ext4 allocate them
                fh.flush()
                os.fsync(fh.fileno())
            self.held = True
        except OSError as exc:
            logger.debug("no room set aside for the run record (%s)", exc)
            self.release()

    def release(self) -> bool:
        """Give the room back; True when there was some to give."""
        had = self.held
        self.held = False
        with contextlib.suppress(OSError):
            self.path.unlink()
        return had
