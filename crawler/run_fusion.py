"""After a crawl: fuse what it stored into the records users see, count the outcome and judge it.

Runs at the end of every crawl (before the run is recorded), so the web app shows the crawl's
changes at once and the run's stats say how many programs it created, changed or removed and how
many of its records stand alone because no institution could be linked to them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crawler.verdict import new_entity_alarm

if TYPE_CHECKING:
    from catalog import Catalog

logger = logging.getLogger(__name__)


def fuse_after_run(catalog: Catalog, source: str, run_id: int, items: Mapping[str, int]) -> tuple[dict[str, Any], str | None]:
    """Fuse pending observations; returns the run's entity counts and an alarm message (or None)."""
    catalog.fuse_pending()
    ops = catalog.entity_op_counts([run_id])
    info: dict[str, Any] = {op: int(ops.get(op, 0)) for op in ("new", "changed", "deleted", "revived")}
    info["unlinked"] = catalog.unlinked_count(source)
    alarm = new_entity_alarm(info, items)
    if alarm:
        logger.warning("%s: run %s: %s", source, run_id, alarm)
    return info, alarm
