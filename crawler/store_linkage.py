"""The crawl store's part of institution linkage: one shared index per process, decisions cached per run.

Split out of ``crawler.crawl_store`` (``CrawlStore`` is a ``LinkingStore``): the linkage pipeline
asks the store to link a source's school to an IPEDS institution; the decision is cached for the
run and saved in the catalog through the store's write queue, and at the end of the run the
source's unmatched or ambiguous schools are tried again against today's institutions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catalog import Catalog
    from collegesearch.config import Settings
    from crawler.linkage import InstitutionIndex

logger = logging.getLogger(__name__)


class LinkingStore:
    """Linkage through the crawl store: the institution index, per-run decisions, the closing relink pass."""

    # The store's own (declared here for the type checker):
    catalog: Catalog | None
    cfg: Settings | None
    source: str | None
    stats: Any
    _linker: InstitutionIndex | None
    _link_cache: dict[tuple[str, str], Any]
    _queue: Callable[..., None]
    _do_save_link: Callable[[dict[str, Any]], None]
    _stop_if_disk_full: Callable[[BaseException], bool]

    @property
    def linker(self) -> InstitutionIndex:
        """The process's institution index (loaded from the catalog on first use)."""
        if self._linker is None:
            from crawler.linkage import shared_index

            assert self.catalog is not None and self.cfg is not None
            self._linker = shared_index(self.catalog, self.cfg.LINK_MIN_SCORE)
        return self._linker

    def link(self, source: str, key: str, name: str | None, city: str | None, state: str | None) -> Any:
        """Link one source entity (cached per run; the decision is saved in the catalog)."""
        cached = self._link_cache.get((source, key))
        if cached is None:
            cached = self.linker.link(name, city, state)
            self._link_cache[(source, key)] = cached
            self._queue(self._do_save_link, {
                "source": source, "entity_id": key, "name": name, "city": city, "state": state,
                "unitid": cached.unitid, "confidence": cached.confidence, "status": cached.status,
                "candidates": cached.candidates,
            })
            self.stats.inc_value(f"collegesearch/linkage/entities_{cached.status}")
        return cached

    def _relink_own(self) -> None:
        """Revisit this source's unmatched/ambiguous entities against today's institutions."""
        if self.catalog is None or self._linker is None or self.source is None:
            return
        from crawler.linkage import relink

        try:
            counts = relink(self.catalog, self._linker, sources=[self.source])
        except Exception as exc:  # noqa: BLE001 - a relink failure must not lose the run record
            if not self._stop_if_disk_full(exc):  # (on a full disk the next crawl relinks)
                logger.exception("%s: relink pass failed", self.source)
            return
        if counts.get("relinked"):
            self.stats.inc_value("collegesearch/linkage/relinked", counts["relinked"])
            self.stats.inc_value("collegesearch/items/changed", counts["relinked"])
