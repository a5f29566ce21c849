"""The scheduler process on short (seconds) schedules: each source on its own cadence; overlapping triggers
never double-run (max_instances, the crawl lock held by someone else); one scheduler per deployment."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import UTC, datetime, timedelta

from catalog import Catalog
from collegesearch.config import load_settings
from ops.locks import hold
from tests.integration.schedule.schedule_helpers import (
    SchedulerProcess,
    base_env,
    cli,
    events,
    mini_sites,
    parse,
    runs,
    wait_for,
)

FIRED = re.compile(r'Running job "(?P<name>crawl|catch up) (?P<source>[\w-]+)[^"]*" \(scheduled at (?P<at>[^)]+)\)')


def fired(log: str) -> dict[str, list[tuple[str, datetime]]]:
    """APScheduler's own record of which job fired for which scheduled time."""
    found: dict[str, list[tuple[str, datetime]]] = {}
    for m in FIRED.finditer(log):
        found.setdefault(m["source"], []).append((m["name"], datetime.fromisoformat(m["at"])))
    return found


def test_two_sources_run_on_their_own_cadence(tmp_path, fresh_sample_site, scheduler_procs):
    site = fresh_sample_site(faults=False)
    data = tmp_path / "data"
    sites = mini_sites(tmp_path / "sites.toml", site, {"mini-a": "*/4 * * * * *", "mini-b": "*/10 * * * * *"})
    env = base_env(data, SITES_FILE=sites, SOURCES="directory", SCHEDULE_MISFIRE_GRACE=3)
    sched = SchedulerProcess(tmp_path, env)
    scheduler_procs.append(sched)
    sched.wait_log("next run", timeout=60)
    assert "mini-a: */4 * * * * * (UTC)" in sched.stdout and "mini-b: */10 * * * * * (UTC)" in sched.stdout

    # One scheduler per deployment: a second one is refused with one line.
    second = cli(env, "schedule")
    assert second.returncode == 1
    assert second.stderr.strip().splitlines() == [second.stderr.strip()]
    assert second.stderr.startswith("error: another scheduler is running: scheduler is already running by pid "
                                    f"{sched.proc.pid}")

    wait_for(lambda: len([r for r in runs(data, "mini-b") if r.status == "ok"]) >= 2
             and len([r for r in runs(data, "mini-a") if r.status == "ok"]) >= 3, 120, "runs of mini-a and mini-b")
    status = cli(env, "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["scheduler"]["pid"] == sched.proc.pid and report["timezone"] == "UTC"
    next_runs = {s["source"]: parse(s["next_run"]) for s in report["schedule"]}
    assert set(next_runs) == {"mini-a", "mini-b"}
    now = datetime.now(UTC)
    assert now - timedelta(seconds=2) <= next_runs["mini-a"] <= now + timedelta(seconds=5)
    assert next_runs["mini-a"].second % 4 == 0 and next_runs["mini-b"].second % 10 == 0
    text = cli(env, "status").stdout
    assert "scheduler running, pid" in text and "mini-a" in text and "Failing sources: none" in text

    assert sched.stop() == 0
    assert "scheduler stopped" in sched.stdout

    a, b = runs(data, "mini-a"), runs(data, "mini-b")
    assert len(a) >= 3 and len(b) >= 2
    for run in a + b:
        assert run.trigger == "schedule"
        if run.status == "interrupted":  # under way when the scheduler was stopped: stopped gracefully
            assert run in (a[-1], b[-1]) and "stopped by a signal" in run.error, (run.id, run.error)
            continue
        assert run.status == "ok", (run.id, run.status, run.error)
        assert run.index_sync and run.index_sync["status"] == "ok"  # the scheduler synced after every run
    # Each source fired on its own cron: APScheduler logged the scheduled times.
    fires = fired(sched.log)
    a_times = [at for name, at in fires["mini-a"] if name == "crawl"]
    b_times = [at for name, at in fires["mini-b"] if name == "crawl"]
    assert a_times and all(t.second % 4 == 0 for t in a_times)
    assert b_times and all(t.second % 10 == 0 for t in b_times)
    assert any(t.second % 10 for t in a_times)  # mini-a fired at times mini-b's cron never has
    # Every fired job (catch-up jobs for a missed fire time included) either ran once, starting after its fire
    # time, or found the previous run of its source still going and was recorded as skipped.
    for source, source_runs in (("mini-a", a), ("mini-b", b)):
        times = sorted(at for _name, at in fires[source])
        # (APScheduler's own max_instances skips never reach "Running job": they are not in ``times``.)
        skipped = [e for e in events(data, source, "skipped") if "max_instances" not in e.detail]
        assert len(source_runs) + len(skipped) == len(times), (source, len(source_runs), len(skipped), times)
        assert all("still going" in e.detail or "stopp" in e.detail for e in skipped), [e.detail for e in skipped]
        for run in source_runs:
            started = parse(run.started_at)
            assert any(timedelta(0) <= started - at < timedelta(seconds=10) for at in times), (source, run.id)
    # The index holds what the runs found.
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        careers = cat.count("career")
    index = json.loads(cli(env, "status", "--json").stdout)["index"]
    assert careers >= 6 and index["state"] == "ok" and index["doc_count"] == careers and index["lag"] == 0


def test_overlapping_triggers_never_double_run(tmp_path, fresh_sample_site, scheduler_procs):
    site = fresh_sample_site(faults=False)
    data = tmp_path / "data"
    sites = mini_sites(tmp_path / "sites.toml", site, {"mini-a": "* * * * * *"})  # every second; a run takes ~3 s
    env = base_env(data, SITES_FILE=sites, SOURCES="directory")
    sched = SchedulerProcess(tmp_path, env)
    scheduler_procs.append(sched)
    wait_for(lambda: len([r for r in runs(data, "mini-a") if r.status == "ok"]) >= 2, 90, "two runs of mini-a")

    # Someone else crawls mini-a (a shell, an admin): the scheduler's triggers are skipped, not run twice.
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data)})
    with hold(settings, "crawl-mini-a", purpose="crawl (manual)", timeout=60):
        held_from = datetime.now(UTC)
        manual = cli(env, "crawl", "mini-a")
        assert manual.returncode == 1
        lines = manual.stderr.strip().splitlines()
        assert lines == [f"error: cannot crawl mini-a: crawl-mini-a is already running by pid {os.getpid()} on "
                         f"{lines[0].split(' on ', 1)[1].split(' ')[0]} since {lines[0].split(' since ')[1]}"]
        assert "(crawl (manual)); wait for it to finish" in lines[0]
        status = json.loads(cli(env, "status", "--json").stdout)
        assert {"name": "crawl-mini-a", "pid": os.getpid()}.items() <= status["locks"][0].items() or any(
            lock["name"] == "crawl-mini-a" and lock["pid"] == os.getpid() for lock in status["locks"])
        wait_for(lambda: any(f"pid {os.getpid()}" in (e.detail or "") for e in events(data, "mini-a", "skipped")),
                 30, "a trigger skipped because the source is busy")
        time.sleep(2)
        held_until = datetime.now(UTC)
    wait_for(lambda: any(parse(r.started_at) > held_until and r.status == "ok" for r in runs(data, "mini-a")), 60,
             "a run after the hold")
    assert sched.stop() == 0

    all_runs = runs(data, "mini-a")
    if all_runs[-1].status == "interrupted":  # under way when the scheduler was stopped: stopped gracefully
        assert "stopped by a signal" in all_runs[-1].error
        all_runs = all_runs[:-1]
    assert all(r.status == "ok" for r in all_runs), [(r.id, r.status, r.error) for r in all_runs]
    # Never two at once: each run starts after the previous one finished ...
    for before, after in zip(all_runs, all_runs[1:], strict=False):
        assert parse(after.started_at) >= parse(before.finished_at), (before.id, after.id)
    # ... none started while someone else held the source's lock ...
    assert not [r.id for r in all_runs if held_from <= parse(r.started_at) <= held_until]
    # ... and the triggers that found it busy were recorded as skipped, for both reasons.
    skipped = [e.detail for e in events(data, "mini-a", "skipped")]
    assert any("max_instances" in d for d in skipped), skipped
    assert any(f"already running by pid {os.getpid()}" in d for d in skipped), skipped
    assert "maximum number of running instances reached" in sched.log
