"""The search index synced after a crawl, through the indexer, with the result stored on the crawl's runs.

The scheduler syncs after each scheduled crawl itself, so it stays the only scheduled index
writer; ``collegesearch crawl --sync`` (an admin's "crawl now") syncs when its crawl ends.
Either way the index writer lock (``indexer``) keeps writers one at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from collegesearch.config import Settings
from ops.cron import iso

log = logging.getLogger(__name__)

SYNC_LOCK_TIMEOUT = 300.0
"""Seconds a sync after a crawl waits for another index writer (an admin's sync, `index rebuild`)."""


def sync_for_scheduler(settings: Settings) -> dict[str, Any]:
    """Sync the index for the scheduler: its outcome as a dict, logged; never raises (a broken sync must not stop it)."""
    from indexer.build import IndexError_, sync

    started = datetime.now(UTC)
    try:
        result = sync(settings, lock_timeout=SYNC_LOCK_TIMEOUT, progress=lambda msg: log.info("index: %s", msg))
        info: dict[str, Any] = {"status": "ok", **result.to_dict(), "summary": result.summary()}
        log.info("%s", result.summary())
    except IndexError_ as exc:
        info = {"status": "failed", "error": str(exc)}
        log.error("index sync after the crawl failed: %s", exc)
    except Exception as exc:  # noqa: BLE001 - a broken sync must not stop the scheduler
        log.exception("index sync after the crawl failed")
        info = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    info["at"] = iso(started)
    return info


def store_on_runs(open_catalog: Callable[[], Any], run_ids: Iterable[int], info: dict[str, Any]) -> None:
    """Store a sync's outcome on the runs it followed (``open_catalog()`` gives a writable catalog)."""
    with open_catalog() as cat:
        for run_id in run_ids:
            cat.set_run_index_sync(run_id, info)


def sync_after_runs(settings: Settings, run_ids: Sequence[int], lock_timeout: float = SYNC_LOCK_TIMEOUT) -> dict[str, Any]:
    """Sync the index after a crawl and store the result on its runs (``collegesearch crawl --sync``)."""
    from catalog import Catalog
    from indexer.build import IndexError_, sync

    started = datetime.now(UTC)
    try:
        result = sync(settings, lock_timeout=lock_timeout)
        info: dict[str, Any] = {"status": "ok", **result.to_dict(), "summary": result.summary()}
    except IndexError_ as exc:
        info = {"status": "failed", "error": str(exc), "summary": f"index sync failed: {exc}"}
    info["at"] = iso(started)
    store_on_runs(lambda: Catalog(settings.catalog_location), run_ids, info)
    return info
