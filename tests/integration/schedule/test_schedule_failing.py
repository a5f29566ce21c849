"""A source that keeps failing: retried with doubling backoff, then reported (ERROR log, `status`, events),
while the data of its last good run stays in the catalog and searchable."""

from __future__ import annotations

import json

from catalog import Catalog
from tests.integration.schedule.schedule_helpers import (
    SchedulerProcess,
    base_env,
    cli,
    events,
    parse,
    runs,
    soon,
    wait_for,
)

NEVER_SOON = "0 0 0 1 1 *"


def snapshot(data) -> dict[str, str]:
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        return {s.item_id: s.content_hash for s in cat.iter_items("program", source="directory")}


def test_failing_source_is_retried_with_backoff_reported_and_keeps_its_data(tmp_path, fresh_sample_site,
                                                                           scheduler_procs, web):
    site = fresh_sample_site(faults=False)
    data = tmp_path / "data"
    settings = {"SOURCES": "directory", "SAMPLE_SITE_URL": site.base_url, "RETRY_BACKOFF": 1, "RETRY_MAX": 2}
    # A good crawl first, made searchable (what `crawl --sync` from cron does).
    good = cli(base_env(data, SCHEDULE_DIRECTORY=NEVER_SOON, **settings), "crawl", "directory", "--sync")
    assert good.returncode == 0, good.stderr[-2000:]
    assert "index sync:" in good.stdout
    before = snapshot(data)
    assert len(before) == 245
    last_good = runs(data, "directory")[-1]
    assert last_good.status == "ok" and last_good.index_sync["status"] == "ok"
    program = next(iter(before))
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        school = cat.get("program", program).data["institution_name"]

    # The site goes away; the next scheduled run fails, and so do its retries.
    site.stop()
    env = base_env(data, SCHEDULE_DIRECTORY=soon(2), **settings)
    sched = SchedulerProcess(tmp_path, env)
    scheduler_procs.append(sched)
    wait_for(lambda: events(data, "directory", "failing"), 120, "the source reported as failing")
    sched.wait_log("ERROR: directory keeps failing: 3 failed runs in a row")

    failed = [r for r in runs(data, "directory") if r.id > last_good.id]
    assert [(r.trigger, r.status) for r in failed] == [("schedule", "failed"), ("retry", "failed"), ("retry", "failed")]
    assert all("no sample site answers at " + site.base_url in r.error for r in failed), [r.error for r in failed]
    # Backoff: RETRY_BACKOFF after the first failure, twice that after the second.
    retries = [e.detail for e in events(data, "directory", "retry")]
    assert retries[0].startswith("retry 1 of 2 at ") and "(1 s backoff)" in retries[0], retries
    assert retries[1].startswith("retry 2 of 2 at ") and "(2 s backoff)" in retries[1], retries
    assert (parse(failed[1].started_at) - parse(failed[0].finished_at)).total_seconds() >= 1
    assert (parse(failed[2].started_at) - parse(failed[1].finished_at)).total_seconds() >= 2
    assert len(runs(data, "directory")) == len(failed) + 1  # no more retries once they are used up

    # Reported: `status` (text and JSON) ...
    text = cli(env, "status").stdout
    assert "directory: FAILING, 3 failed run(s) in a row" in text and "retries used up" in text
    report = json.loads(cli(env, "status", "--json").stdout)
    assert report["failing"] == ["directory"]
    health = next(h for h in report["health"] if h["source"] == "directory")
    assert health["last_ok_at"] == last_good.finished_at
    assert sched.stop() == 0

    # ... and nothing was lost: the catalog still has every program, unchanged, and search finds them.
    assert snapshot(data) == before
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        assert not [c for c in cat.changes_since(0, limit=100000) if c.op == "deleted"]
    client = web(data)
    found = client.get("/api/search", query_string={"q": school, "kind": "program"}).get_json()
    assert f"program:{program}" in [r["id"] for r in found["results"]]
    assert report["index"]["doc_count"] == 245
