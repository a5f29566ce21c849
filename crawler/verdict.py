"""How a crawl run ended: its stats summary, and whether it failed and whether it was complete.

Only a complete run (finished, every page seen, no unrecovered error) lets the missing-item
sweep tombstone anything; a run stopped midway is marked resumable, so the next run takes the
pages it stored from the catalog and carries on. ``CrawlStore`` gathers the facts and records
what these functions decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crawler.disk_full import DISK_FULL_REASON

# Error kinds that make a run incomplete (nothing may be tombstoned after it).
ERROR_KINDS = ("http_5xx", "http_429", "http_4xx", "timeout", "connection", "other", "unexpected_304")


@dataclass(frozen=True)
class Verdict:
    """A run's outcome: ok, failed or interrupted; complete or not; why; whether the next run resumes it."""

    status: str
    complete: bool
    error: str | None = None
    resumable: bool = False


def run_summary(values: Mapping[str, Any], *, source: str | None, run_id: int | None, reason: str,
                duration: float, resume_ids: Iterable[int], full: bool = False) -> dict[str, Any]:
    """The run's stats as stored in the catalog (see README, 'Crawl runs'), from the crawler's stats."""

    def group(prefix: str) -> dict[str, int]:
        return {k[len(prefix):]: int(v) for k, v in sorted(values.items()) if k.startswith(prefix)}

    items = {k: 0 for k in ("new", "changed", "unchanged", "revived", "removed", "touched")}
    items.update(group("collegesearch/items/"))
    pages_fetched = int(values.get("collegesearch/pages/fetched", 0))
    pages_unchanged = int(values.get("collegesearch/pages/unchanged", 0))
    pages = pages_fetched + pages_unchanged
    linkage = group("collegesearch/linkage/")
    http_status = group("downloader/response_status_count/")
    # Pages answered from the page cache on resume, or because they were not due, never reached the network.
    resumed = int(values.get("collegesearch/pages/resumed", 0))
    cached = resumed + int(values.get("collegesearch/pages/not_due_cached", 0))
    if cached and http_status.get("200"):
        http_status["200"] -= min(cached, http_status["200"])
        if not http_status["200"]:
            del http_status["200"]
    return {
        "source": source,
        "run_id": run_id,
        "finish_reason": reason,
        "mode": "full" if full else "scheduled",
        "pages": pages,
        "pages_fetched": pages_fetched,
        "pages_unchanged": pages_unchanged,
        "pages_not_modified": int(values.get("collegesearch/pages/not_modified", 0)),
        "pages_resumed": int(values.get("collegesearch/pages/resumed", 0)),
        "pages_gone": int(values.get("collegesearch/pages/gone", 0)),
        "pages_not_due": int(values.get("collegesearch/pages/not_due", 0)),
        "pages_links_reused": int(values.get("collegesearch/pages/links_reused", 0)),
        "requests": int(values.get("downloader/request_count", 0)),
        "items": items,
        "dropped": group("collegesearch/dropped/"),
        "errors": group("collegesearch/errors/"),
        "skipped": group("collegesearch/skipped/"),
        "http_status": http_status,
        "linkage": linkage,
        "robots_forbidden": int(values.get("robotstxt/forbidden", 0)),
        "retries": int(values.get("retry/count", 0)),
        "duration_s": round(duration, 2),
        "pages_per_s": round(pages / duration, 1),
        "resumed_from": sorted(resume_ids),
        "resumable": False,
    }


def decide(reason: str, summary: Mapping[str, Any], *, disk_full: str | None, fatal_error: str | None,
           time_limit: float, max_error_rate: float, incomplete_reason: str | None) -> Verdict:
    """Judge a closed run from its close reason and summary (``errors``, ``pages``, ``pages_gone``)."""
    errors = sum(summary["errors"].get(kind, 0) for kind in ERROR_KINDS)
    attempted = summary["pages"] + errors + summary["pages_gone"]
    if disk_full is not None or reason == DISK_FULL_REASON:
        # Every committed page has its items committed before it, so the next run may take the
        # pages this one stored from the catalog and continue from there.
        return Verdict("failed", False, disk_full or fatal_error or "the catalog's disk is full", resumable=True)
    if fatal_error:
        return Verdict("failed", False, fatal_error)
    if reason == "closespider_timeout":
        return Verdict("failed", False, f"stopped by CRAWL_TIME_LIMIT after {time_limit} s", resumable=True)
    if reason == "shutdown":
        return Verdict("interrupted", False, "stopped by a signal before it finished; the next run resumes it",
                       resumable=True)
    if reason != "finished":
        return Verdict("failed", False, f"stopped early ({reason})", resumable=True)
    if attempted == 0 and not summary.get("pages_not_due"):
        # (A scheduled run whose every page was not due yet fetched nothing and missed nothing.)
        return Verdict("failed", False, "no page could be fetched")
    rate = errors / attempted if attempted else 0.0
    if errors and rate > max_error_rate:
        five = summary["errors"].get("http_5xx", 0)
        what = "mostly 5xx answers" if five * 2 > attempted else "too many failed requests"
        return Verdict("failed", False, f"{what}: {errors} of {attempted} requests failed ({rate:.0%}), "
                                        f"above CRAWL_MAX_ERROR_RATE {max_error_rate:.0%}")
    if incomplete_reason:
        return Verdict("ok", False, incomplete_reason)
    # Finished, but an unrecovered error means some pages were not seen: nothing may be swept.
    return Verdict("ok", errors == 0)


MAX_NEW_ENTITY_SHARE = 0.2
"""Share of a run's records that may turn into new fused records without a matching new record."""
MIN_NEW_ENTITY_ALARM = 10
"""Fewer surplus new fused records than this never raise the alarm (small sites, a few renamed programs)."""


def new_entity_alarm(entities: Mapping[str, int], items: Mapping[str, int]) -> str | None:
    """Why a run's fused records look wrong, or None: far more new entities than new records.

    A source that starts writing every program another way (a page redesign) keeps its record ids,
    so its records come back "changed"; fusion then cannot find their programs and makes new ones
    beside the old, doubling the catalog. New records (a program newly listed) explain new
    entities; the surplus beyond them is what this flags.
    """
    seen = sum(int(items.get(k, 0)) for k in ("new", "changed", "unchanged", "revived"))
    surplus = int(entities.get("new", 0)) - int(items.get("new", 0)) - int(items.get("revived", 0))
    if seen == 0 or surplus < MIN_NEW_ENTITY_ALARM or surplus <= MAX_NEW_ENTITY_SHARE * seen:
        return None
    return (f"{surplus} of the {seen} records this run saw became new programs or schools although the source "
            f"already listed them ({surplus / seen:.0%}, more than {MAX_NEW_ENTITY_SHARE:.0%}): has the site "
            "changed how it names them? Check a page and the record-fusion rules (model/data/program_fields.csv)")
