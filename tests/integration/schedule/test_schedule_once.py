"""`collegesearch schedule --once`, the plain-cron way: runs what is due (never-crawled sources, due retries),
one crawl after another with an index sync each, then exits; a failure is one `error:` line and exit 1."""

from __future__ import annotations

import json
import re
import time

from tests.integration.schedule.schedule_helpers import base_env, cli, free_port_url, mini_sites, runs

YEARLY = "0 0 0 1 1 *"


def test_once_runs_what_is_due_then_exits(tmp_path, fresh_sample_site):
    site = fresh_sample_site(faults=False)
    data = tmp_path / "data"
    sites = mini_sites(tmp_path / "sites.toml", site, {"mini-a": YEARLY, "mini-b": YEARLY})
    dead = free_port_url()
    env = base_env(data, SITES_FILE=sites, SOURCES="directory", SCHEDULE_DIRECTORY=YEARLY, SAMPLE_SITE_URL=dead,
                   RETRY_BACKOFF=1, RETRY_MAX=1)

    # Nothing crawled yet: every source is due. Two work, the directory's site is down.
    first = cli(env, "schedule", "--once")
    assert first.returncode == 1
    assert first.stderr.strip().splitlines()[-1] == (
        f"error: 1 of 3 crawl(s) failed: directory (no sample site answers at {dead}; start one with "
        "`collegesearch sample-site` or pass --base-url)")
    for source in ("mini-a", "mini-b"):
        assert f"{source}: never crawled; scheduled " in first.stdout
        assert f"{source}: ok (run #" in first.stdout and "index sync" in first.stdout
    done = runs(data)
    assert sorted((r.source, r.trigger, r.status) for r in done) == [
        ("directory", "schedule", "failed"), ("mini-a", "schedule", "ok"), ("mini-b", "schedule", "ok")]
    # One after another, never at once.
    ordered = sorted(done, key=lambda r: r.started_at)
    assert all(a.finished_at <= b.started_at for a, b in zip(ordered, ordered[1:], strict=False))

    # Once the backoff has passed, only the directory's retry is due.
    time.sleep(1.5)
    second = cli(env, "schedule", "--once")
    assert second.returncode == 1 and "directory: retry 1 of 1 after 1 failed run(s); crawling" in second.stdout
    new = [r for r in runs(data) if r.id > max(r.id for r in done)]
    assert [(r.source, r.trigger, r.status) for r in new] == [("directory", "retry", "failed")]

    # Retries used up, the rest crawled since their last fire time: nothing is due.
    third = cli(env, "schedule", "--once")
    assert third.returncode == 0, third.stderr
    assert "nothing is due; next runs: " in third.stdout
    assert re.search(r"mini-a \w{3} \d{4}-01-01 00:00:00 UTC", third.stdout), third.stdout
    assert len(runs(data)) == 4
    report = json.loads(cli(env, "status", "--json").stdout)
    assert report["failing"] == ["directory"] and report["scheduler"] is None
