"""Prometheus metrics of shared state, computed when scraped: crawl runs and page freshness from the catalog, the
index's generation and lag.

These describe things every web worker sees alike (the catalog, the index on disk), so they are read
at scrape time by a custom collector rather than kept in per-process gauges: the answer is right
whichever gunicorn worker serves ``/metrics``, and no multiprocess gauge mode is needed. A scrape
costs one read of the runs table, one count of the pages per source, one index open and one count of
the change log.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ops.status import run_items, source_freshness

if TYPE_CHECKING:
    from catalog import Catalog
    from collegesearch.config import Settings

log = logging.getLogger(__name__)

ITEM_CHANGES = ("new", "changed", "unchanged", "removed")


class CatalogCollector(Collector):
    """Crawl runs per source and status, their items, pages and errors, and the index state."""

    def __init__(self, settings: Settings, open_catalog: Callable[[], Catalog | None]) -> None:
        self.settings = settings
        self.open_catalog = open_catalog

    def collect(self) -> Iterator[Metric]:
        """The metric families of one scrape; an unreadable catalog is reported, not raised."""
        from catalog import CatalogError

        try:
            catalog = self.open_catalog()
            rows = catalog.run_stats_by_source() if catalog is not None else []
        except CatalogError as exc:
            # The scrape still carries the web workers' own metrics and the index's: that is when they matter.
            log.warning("metrics: cannot read the catalog: %s", exc)
            catalog, rows = None, []
        up = GaugeMetricFamily("collegesearch_catalog_up", "1 when the catalog could be read for this scrape, else 0.")
        up.add_metric([], 1 if catalog is not None else 0)
        yield up
        yield from self._runs(rows)
        yield from self._freshness(catalog)
        yield from self._index(catalog)

    def _runs(self, rows: list[tuple[str, str, dict[str, Any]]]) -> Iterator[Metric]:
        runs = CounterMetricFamily("collegesearch_crawl_runs", "Finished crawl runs recorded in the catalog, "
                                   "by source and status.", labels=["source", "status"])
        running = GaugeMetricFamily("collegesearch_crawl_runs_running", "Crawl runs marked running now, by source.",
                                    labels=["source"])
        items = CounterMetricFamily("collegesearch_crawl_items", "Items the crawls found, by source and change "
                                    "(new, changed, unchanged, removed).", labels=["source", "change"])
        pages = CounterMetricFamily("collegesearch_crawl_pages_fetched", "Pages the crawls fetched, by source.",
                                    labels=["source"])
        errors = CounterMetricFamily("collegesearch_crawl_errors", "Failed requests of the crawls, by source and "
                                     "kind (timeouts, 5xx...).", labels=["source", "kind"])
        finished: dict[tuple[str, str], int] = defaultdict(int)
        now_running: dict[str, int] = defaultdict(int)
        item_totals: dict[tuple[str, str], int] = defaultdict(int)
        page_totals: dict[str, int] = defaultdict(int)
        error_totals: dict[tuple[str, str], int] = defaultdict(int)
        for source, status, stats in rows:
            if status == "running":
                now_running[source] += 1
            else:
                finished[(source, status)] += 1
            for change, count in run_items(stats).items():
                item_totals[(source, change)] += count
            page_totals[source] += _int(stats.get("pages"))
            raw_errors = stats.get("errors")
            for kind, count in (raw_errors.items() if isinstance(raw_errors, dict) else ()):
                error_totals[(source, str(kind))] += _int(count)
            # A source with runs shows every item series, even at zero, so rate() has a starting point.
            for change in ITEM_CHANGES:
                item_totals.setdefault((source, change), 0)
        for (source, status), n in sorted(finished.items()):
            runs.add_metric([source, status], n)
        for source in sorted({s for s, _ in finished} | set(now_running)):
            running.add_metric([source], now_running.get(source, 0))
        for (source, change), n in sorted(item_totals.items()):
            items.add_metric([source, change], n)
        for source, n in sorted(page_totals.items()):
            pages.add_metric([source], n)
        for (source, kind), n in sorted(error_totals.items()):
            errors.add_metric([source, kind], n)
        yield from (runs, running, items, pages, errors)

    def _freshness(self, catalog: Catalog | None) -> Iterator[Metric]:
        """Per source: the share of pages fetched within their revisit interval, and the pages due now."""
        if catalog is None:
            return
        try:
            rows = source_freshness(catalog)  # the figures `collegesearch status` and the admin show
        except Exception as exc:  # noqa: BLE001 - e.g. a catalog not upgraded yet: the rest of the scrape goes on
            log.warning("metrics: cannot read page freshness: %s", exc)
            return
        share = GaugeMetricFamily("collegesearch_pages_fresh_ratio", "Share of a source's live pages fetched within "
                                  "their revisit interval (0 to 1; pages never scheduled count as due).",
                                  labels=["source"])
        due = GaugeMetricFamily("collegesearch_pages_due", "Pages of a source due for a fetch now, pages never "
                                "scheduled included.", labels=["source"])
        unscheduled = GaugeMetricFamily("collegesearch_pages_unscheduled", "Pages of a source with no revisit "
                                        "schedule yet (fetched before the schedule existed; counted as due).",
                                        labels=["source"])
        for row in rows:
            share.add_metric([row["source"]], row["fresh"] / row["pages"] if row["pages"] else 0.0)
            due.add_metric([row["source"]], row["due"])
            unscheduled.add_metric([row["source"]], row["unscheduled"])
        yield from (share, due, unscheduled)

    def _index(self, catalog: Catalog | None) -> Iterator[Metric]:
        from indexer.build import index_status
        from ops.status import _add_lag  # the same lag `collegesearch status` prints, computed the same way

        try:
            state = dict(index_status(self.settings))
        except Exception as exc:  # noqa: BLE001 - a broken index is reported as down, the scrape goes on
            state = {"state": "unreadable", "message": str(exc)}
        _add_lag(self.settings, catalog, state)
        up = GaugeMetricFamily("collegesearch_index_up", "1 when the search index can be opened, else 0.")
        up.add_metric([], 1 if state.get("state") == "ok" else 0)
        yield up
        if state.get("state") == "ok":
            # Generations are named by their creation time, not numbered: the name is a label, and the
            # watermark (the last catalog change read) is the number that grows with every sync.
            info = GaugeMetricFamily("collegesearch_index_generation_info", "The index generation published on "
                                     "disk (always 1; the name changes with each rebuild).", labels=["generation"])
            info.add_metric([str(state.get("generation") or "")], 1)
            yield info
            created = _timestamp(state.get("created_at"))
            if created is not None:
                yield GaugeMetricFamily("collegesearch_index_generation_created_timestamp_seconds",
                                        "When the published generation was built (Unix time).", value=created)
            yield GaugeMetricFamily("collegesearch_index_watermark", "Last catalog change the index has read "
                                    "(a sequence number).", value=_int(state.get("watermark")))
            yield GaugeMetricFamily("collegesearch_index_documents", "Documents in the published index.",
                                    value=_int(state.get("doc_count")))
        if state.get("changes_behind") is not None:
            yield GaugeMetricFamily("collegesearch_index_changes_behind", "Catalog changes the index has not read "
                                    "yet (0: up to date).", value=_int(state.get("changes_behind")))


def _timestamp(value: object) -> float | None:
    try:
        return datetime.fromisoformat(str(value)).timestamp() if value else None
    except ValueError:
        return None


def _int(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
