"""Scheduled crawls of the whole sample site: each page fetched when it is due, changes caught by
sitemap lastmod, and tombstones that stay right when most pages are not fetched at all.

One private sample site and one data directory go through six crawls, in order:

1. ``first``: epoch 1, a scheduled crawl into an empty catalog (every URL is new: all fetched);
2. ``unchanged``: epoch 1 again, scheduled: no page with records is due, so only navigation pages
   (listings, indexes, sitemaps, robots.txt) reach the network, and nothing is removed;
3. ``epoch2``: the site at epoch 2, scheduled: the sitemaps' lastmod brings exactly the changed pages;
4. ``epoch2_again``: epoch 2 again, scheduled: records gone from the listings and sitemaps are now
   missing from two complete crawls and removed (exactly the ones the ground truth removed);
5. ``epoch3_full``: the site at epoch 3, ``crawl --full``: every page is requested;
6. ``epoch3_again``: epoch 3, scheduled: the records epoch 3 removed are removed, none other.

A second site whose sitemaps lie (``--stale-lastmod``: lastmod stays at epoch 1's date) shows a
change caught once the page's interval has passed, and not before.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from catalog import Catalog
from crawler.urls import canonical_url
from model.sources import BUILTIN_SOURCES
from sample_site import truth
from tests.integration.crawler.crawl_helpers import (
    assert_runs_changed_nothing,
    base_urls,
    compare_with_truth,
    print_numbers,
    run_crawl,
    snapshot,
)
from tests.integration.crawler.crawl_history import History, Stage, epoch_diff, stage_of
from tests.plugins.sample_site import SampleSiteProcess

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("crawl_freshness"), pytest.mark.timeout(3600)]

SOURCES = BUILTIN_SOURCES
LINK_FIELDS = {"institution_unitid", "link_status", "link_confidence"}
STAGES = (("first", 1, False), ("unchanged", 1, False), ("epoch2", 2, False), ("epoch2_again", 2, False),
          ("epoch3_full", 3, True), ("epoch3_again", 3, False))


def _seq(data: Path) -> int:
    path = data / "catalog.sqlite3"
    if not path.exists():
        return 0
    with Catalog(path, readonly=True) as cat:
        return cat.max_change_seq()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """Run the six crawls once for this module."""
    work = tmp_path_factory.mktemp("crawl_freshness")
    site = SampleSiteProcess(work / "site").start()
    data = work / "data"
    stages: dict[str, Stage] = {}
    try:
        for name, epoch, full in STAGES:
            if epoch != site.epoch:
                site.restart(epoch=epoch)
            before = _seq(data)
            result = run_crawl(data, site.base_url, site=site, full=full)
            stages[name] = Stage(result, snapshot(data, work / f"{name}.sqlite3"), before, _seq(data))
            if result.returncode != 0:
                break
        yield History(site, stages, base_urls(site))
    finally:
        site.stop()


def _ops(cat: Catalog, since: int) -> dict[str, dict[str, set[str]]]:
    """kind -> op (new, changed, deleted) -> item ids the change log gained after ``since``."""
    out: dict[str, dict[str, set[str]]] = collections.defaultdict(lambda: collections.defaultdict(set))
    for change in cat.changes_since(since, limit=1_000_000):
        op = "new" if change.op in ("new", "revived") else change.op
        out[change.kind][op].add(change.item_id)
    return out


def _page_urls_with_records(cat: Catalog) -> set[str]:
    return {row[0] for row in cat.conn.execute(
        "SELECT DISTINCT page_url FROM items WHERE deleted_at IS NULL AND page_url IS NOT NULL")}


def _requested(records: list[dict[str, Any]]) -> set[str]:
    return {canonical_url(f"http://{r['host']}{r['path']}") for r in records}


def _path(url: str) -> str:
    """Path and query of a URL made canonical (the crawler sorts query parameters; the site's own links may not)."""
    parts = urlsplit(canonical_url(url))
    return parts.path + ("?" + parts.query if parts.query else "")


def _assert_changes_caught(fresh: History, name: str, a: int, b: int) -> None:
    """The stage's crawl changed exactly the records the ground truth changed, and removed none wrongly."""
    stage = stage_of(fresh, name)
    diff = epoch_diff(a, b, fresh.base)
    with fresh.open(name) as cat:
        ops = _ops(cat, stage.seq_before)
        for kind, buckets in diff.items():
            assert ops[kind]["new"] == buckets["new"], (kind, sorted(ops[kind]["new"] ^ buckets["new"])[:10])
            assert ops[kind]["changed"] == buckets["changed"], (
                kind, sorted(ops[kind]["changed"] ^ buckets["changed"])[:10])
            assert ops[kind]["deleted"] <= buckets["removed"], (kind, sorted(ops[kind]["deleted"] - buckets["removed"]))
            for item_id in ops[kind]["deleted"]:  # after one crawl, only a page that answered 404/410 removes
                assert "page answered 4" in (cat.get(kind, item_id, include_deleted=True).deleted_reason or "")
        problems = compare_with_truth(cat, truth.expected_items(b, base_urls=fresh.base), skip=LINK_FIELDS)
    vanished = {kind: {f"unexpected {i}" for i in buckets["removed"]} for kind, buckets in diff.items()}
    leftover = {k: [p for p in v if p not in vanished.get(k, set())] for k, v in problems.items()}
    assert not any(leftover.values()), leftover
    changed = sum(len(b["changed"]) + len(b["new"]) for b in diff.values())
    caught = sum(len(ops[k]["changed"] & b["changed"]) + len(ops[k]["new"] & b["new"]) for k, b in diff.items())
    print_numbers(f"scheduled recrawl after epoch {a} -> {b}", {
        "records_changed_in_truth": changed, "records_changed_in_catalog": caught,
        "share_caught": round(caught / changed, 3) if changed else 1.0,
        "requests": len(fresh.records(name)), "seconds": round(stage.result.seconds, 1)})


def _assert_removed_exactly(fresh: History, name: str, a: int, b: int) -> None:
    """After the second complete crawl at epoch b: exactly the records epoch b removed are gone."""
    stage = stage_of(fresh, name)
    for source in SOURCES:
        run = stage.result.run(source)
        assert run.status == "ok" and run.complete, (source, run.error)
    diff = epoch_diff(a, b, fresh.base)
    with fresh.open(name) as cat:
        for kind, buckets in diff.items():
            deleted = {s.item_id for s in cat.iter_items(kind, include_deleted=True)
                       if s.source in SOURCES and s.deleted_at is not None}
            live = {s.item_id for s in cat.iter_items(kind) if s.source in SOURCES}
            expected = set(truth.expected_items(b, base_urls=fresh.base)[kind])
            assert live == expected, (kind, sorted(live ^ expected)[:10])
            assert buckets["removed"] <= deleted, (kind, sorted(buckets["removed"] - deleted)[:10])
        problems = compare_with_truth(cat, truth.expected_items(b, base_urls=fresh.base), skip=LINK_FIELDS)
    assert not problems, problems


# -- 1. an unchanged scheduled recrawl ------------------------------------------------------------------------


def test_first_scheduled_crawl_fetches_everything(fresh: History) -> None:
    stage = stage_of(fresh, "first")
    for source in SOURCES:
        run = stage.result.run(source)
        assert run.status == "ok" and run.complete and run.stats["mode"] == "scheduled", (source, run.error)
        assert run.stats["pages_not_due"] == 0
    with fresh.open("first") as cat:
        assert not compare_with_truth(cat, truth.expected_items(1, base_urls=fresh.base), skip=LINK_FIELDS)
        unscheduled = cat.conn.execute("SELECT COUNT(*) FROM pages WHERE gone_at IS NULL AND next_due IS NULL").scalar()
    assert unscheduled == 0  # every page fetched has its revisit interval


def test_unchanged_scheduled_recrawl_fetches_only_navigation_and_removes_nothing(fresh: History) -> None:
    stage = stage_of(fresh, "unchanged")
    for run in assert_runs_changed_nothing(stage.result, stage.seq_before, stage.seq_after, SOURCES).values():
        assert run.stats["pages_not_due"] > 0 and run.stats["pages_fetched"] == 0, run.stats
        assert run.stats["pages_links_reused"] > 0, run.stats  # links followed from the catalog, pages not parsed
    # Every unchanged page (304) had its stored links followed instead of being parsed, but for sitemaps
    # (their links carry each page's lastmod) and bls_ooh's A-Z index (always read: it names the aliases).
    stats = [r.stats for r in stage.result.runs]
    sitemaps = sum(1 for r in fresh.records("unchanged") if "sitemap" in r["path"].lower())
    reused = sum(st["pages_links_reused"] for st in stats)
    assert reused + sitemaps + 1 >= sum(st["pages_not_modified"] for st in stats), (reused, sitemaps, stats)
    reviews = stage.result.run("reviews").stats  # ... and schools' first pages, not due, were not even read
    assert reviews["pages_links_reused"] > reviews["pages_not_modified"], reviews
    with fresh.open("first") as before:
        with_records = _page_urls_with_records(before)
    requested = _requested(fresh.records("unchanged"))
    assert not (requested & with_records), sorted(requested & with_records)[:10]  # no page with records went out
    with fresh.open("first") as before, fresh.open("unchanged") as after:
        old = {(s.kind, s.item_id): s for s in before.iter_items()}
        new = {(s.kind, s.item_id): s for s in after.iter_items()}
        runs = {r.source: r.id for r in fresh.stages["unchanged"].result.runs}
    assert old.keys() == new.keys()
    for key, item in new.items():  # every record counted as seen (none can be swept for a skipped page)
        assert item.content_hash == old[key].content_hash and item.last_run_id == runs[item.source], key
    first = fresh.stages["first"].result
    print_numbers("unchanged scheduled recrawl", {
        "first_crawl_s": round(first.seconds, 1), "scheduled_recrawl_s": round(stage.result.seconds, 1),
        "ratio": round(stage.result.seconds / first.seconds, 3), "first_requests": len(fresh.records("first")),
        "recrawl_requests": len(requested),
        "pages_not_due": sum(int(r.stats["pages_not_due"]) for r in stage.result.runs)})


def test_full_crawl_requests_every_page(fresh: History) -> None:
    stage = stage_of(fresh, "epoch3_full")
    for source in SOURCES:
        run = stage.result.run(source)
        assert run.stats["mode"] == "full" and run.stats["pages_not_due"] == 0, run.stats
    with fresh.open("epoch2_again") as before:
        known = {canonical_url(u) for u in _page_urls_with_records(before)}
    gone = {_path("http://h" + p) for p in truth.changed_pages(2, 3)["removed"]}
    known = {u for u in known if _path(u) not in gone}  # (no listing links a page epoch 3 took away)
    requested = _requested(fresh.records("epoch3_full"))
    assert known <= requested, sorted(known - requested)[:10]  # every page that had records, due or not


# -- 2. changes caught by lastmod ------------------------------------------------------------------------------


def test_epoch2_scheduled_recrawl_catches_every_change(fresh: History) -> None:
    _assert_changes_caught(fresh, "epoch2", 1, 2)
    pages = truth.changed_pages(1, 2)
    with fresh.open("epoch2") as cat:
        with_records = {canonical_url(u) for u in _page_urls_with_records(cat)}
    fetched = {_path(u) for u in _requested([r for r in fresh.records("epoch2") if r["status"] == 200])
               if u in with_records}
    differ = {_path("http://h" + p) for p in pages["changed"] | pages["added"]}
    stray = fetched - differ
    # pages with records that went out although they did not change: only a school's later review pages,
    # checked because their first page changed (a conditional request each)
    assert all("/api/entity-reviews/" in p for p in stray), sorted(stray)[:10]


def test_epoch3_full_crawl_catches_every_change(fresh: History) -> None:
    _assert_changes_caught(fresh, "epoch3_full", 2, 3)


# -- 3. tombstones across partial and full runs --------------------------------------------------------------


def test_second_scheduled_crawl_removes_exactly_what_epoch2_removed(fresh: History) -> None:
    _assert_removed_exactly(fresh, "epoch2_again", 1, 2)


def test_scheduled_crawl_after_a_full_one_removes_exactly_what_epoch3_removed(fresh: History) -> None:
    _assert_removed_exactly(fresh, "epoch3_again", 2, 3)
    with fresh.open("epoch3_again") as cat:
        for change in cat.changes_since(fresh.stages["epoch3_again"].seq_before, limit=1_000_000):
            assert change.op == "deleted", change  # nothing else changed: every change came with the full crawl


# -- a source whose sitemaps lie -------------------------------------------------------------------------------


def test_lying_lastmod_changes_caught_once_the_interval_passed(tmp_path: Path) -> None:
    source = "directory"
    site = SampleSiteProcess(tmp_path / "site", stale_lastmod=True).start()
    data = tmp_path / "data"
    try:
        first = run_crawl(data, site.base_url, source, site=site)
        assert first.returncode == 0, first.stderr[-3000:]
        site.restart(epoch=2)
        base = base_urls(site)
        diff = epoch_diff(1, 2, base)["program"]
        expected = {k: v for k, v in truth.expected_items(2, base_urls=base)["program"].items()
                    if v.get("source") == source}
        changed_here = {i for i in diff["changed"] if i in expected}
        assert changed_here, "epoch 2 changes no directory program"

        # Within the interval: the sitemap says nothing changed, so the changed pages are not fetched yet.
        seq = _seq(data)
        early = run_crawl(data, site.base_url, source, site=site)
        assert early.returncode == 0, early.stderr[-3000:]
        with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
            early_ops = _ops(cat, seq)["program"]
        assert not (early_ops["changed"] & changed_here)

        # Once the interval has passed (a maximum of 1 s: every page was fetched longer ago), they are.
        seq = _seq(data)
        late = run_crawl(data, site.base_url, source, site=site, REVISIT_MIN="1s", REVISIT_FIRST="1s",
                         REVISIT_MAX="1s")
        assert late.returncode == 0, late.stderr[-3000:]
        with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
            ops = _ops(cat, seq)["program"]
            live = {s.item_id: s for s in cat.iter_items("program", source=source)}
        assert changed_here <= ops["changed"], sorted(changed_here - ops["changed"])[:10]
        for item_id in changed_here:
            assert live[item_id].data["accreditation_status"] == expected[item_id]["accreditation_status"]
        print_numbers("lying lastmod", {"changed": len(changed_here),
                                        "caught_within_interval": len(changed_here & early_ops["changed"]),
                                        "caught_after_interval": len(changed_here & ops["changed"])})
    finally:
        site.stop()
