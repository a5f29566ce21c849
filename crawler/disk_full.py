"""What the crawler does on a full disk: stop with this close reason, and say so once per process.

Recognising a full disk is the catalog's job (``catalog.storage_errors``); the crawler only
decides to stop (``CrawlStore``), records the run as failed but resumable (``crawler.verdict``)
and skips the work that would write more (``crawler.run``).
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

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

