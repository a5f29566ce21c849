"""Scheduler arithmetic without crawling: cron in a time zone, weekdays, backoff, health, due jobs, status text,
child supervision (real processes), the environment handed to children."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from catalog import Catalog, Run
from collegesearch.config import load_settings
from ops.child import settings_env, supervise
from ops.cron import next_fire, previous_fire
from ops.jobs import Job, ScheduleError, parse_cron, scheduled_jobs
from ops.policy import due_trigger, retry_delay, source_health
from ops.status import run_items, status_report

NY = ZoneInfo("America/New_York")


def cfg(**overrides):
    return load_settings(env={}, config_file=None, overrides=overrides)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- cron ---------------------------------------------------------------------------------------


def test_five_field_cron_fires_in_the_configured_time_zone():
    trigger = parse_cron("30 2 * * *", "America/New_York")
    # 02:30 in New York is 07:30 UTC in winter (EST) and 06:30 UTC in summer (EDT).
    assert next_fire(trigger, utc(2026, 1, 10, 0, 0)) == utc(2026, 1, 10, 7, 30)
    assert next_fire(trigger, utc(2026, 7, 10, 0, 0)) == utc(2026, 7, 10, 6, 30)
    assert next_fire(trigger, utc(2026, 7, 10, 0, 0)).astimezone(NY).hour == 2


def test_six_fields_put_seconds_first():
    trigger = parse_cron("*/15 * * * * *", "UTC")
    assert next_fire(trigger, utc(2026, 3, 1, 12, 0, 1)) == utc(2026, 3, 1, 12, 0, 15)
    exact = parse_cron("5 4 3 * * *", "UTC")
    assert next_fire(exact, utc(2026, 3, 1, 0, 0)) == utc(2026, 3, 1, 3, 4, 5)


def test_weekdays_count_like_crontab_sunday_is_zero_and_seven():
    sunday = utc(2026, 3, 1, 12)  # 2026-03-01 is a Sunday
    assert sunday.weekday() == 6
    for expr in ("0 9 * * 0", "0 9 * * 7", "0 9 * * sun"):
        fire = next_fire(parse_cron(expr, "UTC"), utc(2026, 2, 26))
        assert fire == utc(2026, 3, 1, 9), expr
    weekdays = parse_cron("0 9 * * 1-5", "UTC")
    fires = []
    moment = utc(2026, 3, 1)
    for _ in range(5):
        moment = next_fire(weekdays, moment)
        fires.append(moment.strftime("%a"))
        moment += timedelta(seconds=1)
    assert fires == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    every_other = parse_cron("0 0 * * */2", "UTC")  # crontab: Sun, Tue, Thu, Sat
    days = set()
    moment = utc(2026, 3, 1)
    for _ in range(8):
        moment = next_fire(every_other, moment)
        days.add(moment.strftime("%a"))
        moment += timedelta(seconds=1)
    assert days == {"Sun", "Tue", "Thu", "Sat"}


@pytest.mark.parametrize("expr", ["", "* * *", "61 * * * *", "* * * * * * *", "0 9 * * 8", "0 0 * * 5-2"])
def test_bad_cron_is_a_schedule_error(expr):
    with pytest.raises(ScheduleError, match="cron"):
        parse_cron(expr, "UTC")


def test_job_error_names_where_the_schedule_is_configured():
    with pytest.raises(ScheduleError, match="COLLEGESEARCH_SCHEDULE_REVIEWS"):
        Job("reviews", "0 99 * * *", "COLLEGESEARCH_SCHEDULE_REVIEWS").trigger("UTC")


@pytest.mark.parametrize("expr, now, expected", [
    ("30 2 * * *", utc(2026, 1, 10, 12), utc(2026, 1, 10, 7, 30)),
    ("30 2 * * *", utc(2026, 1, 10, 7, 29, 59), utc(2026, 1, 9, 7, 30)),
    ("30 2 * * *", utc(2026, 1, 10, 7, 30), utc(2026, 1, 10, 7, 30)),
    ("*/7 * * * * *", utc(2026, 1, 10, 12, 0, 20), utc(2026, 1, 10, 12, 0, 14)),
    ("0 3 1 * *", utc(2026, 3, 15), utc(2026, 3, 1, 8)),
    ("0 0 29 2 *", utc(2026, 3, 15), utc(2024, 2, 29, 5)),
])
def test_previous_fire_time(expr, now, expected):
    assert previous_fire(parse_cron(expr, "America/New_York"), now) == expected


# -- backoff and health ----------------------------------------------------------------------------


def test_backoff_doubles_up_to_retry_max_and_is_capped():
    settings = cfg(RETRY_BACKOFF=300, RETRY_MAX=3)
    assert [retry_delay(settings, n) for n in range(0, 5)] == [None, 300.0, 600.0, 1200.0, None]
    assert retry_delay(cfg(RETRY_MAX=0), 1) is None
    huge = cfg(RETRY_BACKOFF=86400, RETRY_MAX=100)
    assert retry_delay(huge, 100) == 7 * 86400


def run(run_id, status, trigger="schedule", started="2026-01-10T07:30:00Z", finished="2026-01-10T07:40:00Z",
        error=None, source="directory"):
    return Run(id=run_id, source=source, trigger=trigger, status=status, started_at=started, finished_at=finished,
               pid=1, host="h", complete=status == "ok", error=error)


def test_health_counts_the_failure_streak_and_plans_the_retry():
    settings = cfg(RETRY_BACKOFF=60, RETRY_MAX=2)
    assert source_health(settings, "directory", []).state == "never"
    ok = source_health(settings, "directory", [run(3, "ok"), run(2, "failed")])
    assert ok.state == "ok" and ok.consecutive_failures == 0 and ok.next_retry_at is None
    one = source_health(settings, "directory", [run(4, "failed", error="mostly 5xx answers"), run(3, "ok")])
    assert (one.state, one.consecutive_failures, one.next_retry_attempt) == ("retrying", 1, 1)
    assert one.next_retry_at == "2026-01-10T07:41:00Z" and one.last_error == "mostly 5xx answers"
    two = source_health(settings, "directory", [run(5, "interrupted", "retry"), run(4, "failed"), run(3, "ok")])
    assert (two.state, two.next_retry_attempt, two.next_retry_at) == ("retrying", 2, "2026-01-10T07:42:00Z")
    three = source_health(settings, "directory", [run(6, "failed", "retry"), run(5, "failed", "retry"),
                                                  run(4, "failed"), run(3, "ok", finished="2026-01-09T00:00:00Z")])
    assert three.state == "failing" and three.consecutive_failures == 3 and three.next_retry_at is None
    assert three.last_ok_at == "2026-01-09T00:00:00Z" and three.failing_since == "2026-01-10T07:30:00Z"
    # Rounded up to whole seconds, never down: the retry must not come before its backoff is over.
    late = source_health(settings, "directory", [run(4, "failed", finished="2026-01-10T07:40:00.300000Z")])
    assert late.next_retry_at == "2026-01-10T07:41:01Z"
    manual = source_health(settings, "directory", [run(7, "failed", "manual")])
    assert manual.state == "failed" and manual.next_retry_at is None
    running = source_health(settings, "directory", [run(8, "running", finished=None), run(7, "ok")])
    assert running.running_run_id == 8 and running.state == "ok"


def test_due_jobs_missed_fire_times_within_grace_and_due_retries():
    settings = cfg(RETRY_BACKOFF=60, RETRY_MAX=2)
    job = Job("directory", "30 2 * * *", "test")
    now = utc(2026, 1, 10, 7, 45)  # 02:45 New York: 15 minutes after today's 02:30 fire time
    tz = "America/New_York"
    assert due_trigger(settings, job, [], now, grace=None, tz=tz)[0] == "schedule"
    yesterday = [run(1, "ok", started="2026-01-09T07:30:01Z", finished="2026-01-09T07:40:00Z")]
    trigger, why = due_trigger(settings, job, yesterday, now, grace=3600, tz=tz)
    assert trigger == "schedule" and "02:30:00 EST" in why and "900 s late" in why
    assert due_trigger(settings, job, yesterday, now, grace=600, tz=tz) is None  # missed by more than the grace
    today = [run(2, "ok", started="2026-01-10T07:30:02Z")]
    assert due_trigger(settings, job, today, now, grace=None, tz=tz) is None
    failed = [run(2, "failed", started="2026-01-10T07:30:02Z", finished="2026-01-10T07:44:30Z")]
    assert due_trigger(settings, job, failed, now, grace=None, tz=tz) is None  # retry due at 07:45:30
    trigger, why = due_trigger(settings, job, failed, now + timedelta(seconds=30), grace=None, tz=tz)
    assert trigger == "retry" and why.startswith("retry 1 of 2")
    busy = [run(3, "running", finished=None)] + failed
    assert due_trigger(settings, job, busy, now + timedelta(hours=1), grace=None, tz=tz) is None


def test_scheduled_jobs_from_settings_and_site_profiles(tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text(textwrap.dedent("""
        [[site]]
        name = "lakeshore"
        type = "generic"
        start_urls = ["https://lakeshore.example.edu/careers/"]
        schedule = "0 4 * * 1"

        [[site]]
        name = "unscheduled"
        type = "generic"
        start_urls = ["https://other.example.edu/"]
    """))
    settings = cfg(SOURCES="directory,reviews,bls_ooh", SCHEDULE_REVIEWS="", SITES_FILE=str(sites))
    jobs = {j.source: j for j in scheduled_jobs(settings)}
    assert sorted(jobs) == ["bls_ooh", "directory", "lakeshore"]  # reviews has no schedule; collegenavigator not in SOURCES
    assert jobs["directory"].cron == "30 2 * * *" and jobs["directory"].origin == "COLLEGESEARCH_SCHEDULE_DIRECTORY"
    assert jobs["lakeshore"].cron == "0 4 * * 1" and "sites.toml" in jobs["lakeshore"].origin


def test_run_items_reads_nested_and_flat_stats():
    nested = {"items": {"new": 3, "revived": 1, "changed": 2, "unchanged": 5, "touched": 10, "removed": 1}}
    assert run_items(nested) == {"new": 4, "changed": 2, "unchanged": 15, "removed": 1}
    assert run_items({"items_new": 19, "items_changed": 1}) == {"new": 19, "changed": 1, "unchanged": 0, "removed": 0}
    assert run_items({}) == {"new": 0, "changed": 0, "unchanged": 0, "removed": 0}


# -- status ------------------------------------------------------------------------------------------


def test_status_report_shows_schedule_runs_failing_sources_locks_and_index(tmp_path):
    from ops.locks import hold

    settings = cfg(DATA_DIR=str(tmp_path / "data"), SOURCES="directory,reviews", SCHEDULE_REVIEWS="0 */6 * * *",
                   RETRY_MAX=1, RETRY_BACKOFF=60, SCHEDULE_TIMEZONE="America/Chicago")
    stamps = iter(f"2026-01-10T0{h}:00:00Z" for h in range(1, 10))
    with Catalog(settings.catalog_path, clock=lambda: next(stamps)) as cat:
        ok = cat.start_run("directory", "schedule")
        cat.finish_run(ok, status="ok", complete=True, stats={
            "pages": 260, "items": {"new": 245, "changed": 0, "unchanged": 0, "revived": 0, "removed": 0,
                                    "touched": 0}, "dropped": {"missing_name": 2}, "http_status": {"200": 261}})
        cat.set_run_index_sync(ok, {"status": "ok", "at": "2026-01-10T02:01:00Z", "summary": "index sync: 245 added"})
        for trigger in ("schedule", "retry"):
            bad = cat.start_run("reviews", trigger)
            cat.finish_run(bad, status="failed", stats={}, error="mostly 5xx answers: 90 of 100 requests failed")
    now = utc(2026, 1, 10, 12, 0)
    with hold(settings, "crawl-directory", purpose="crawl (admin)"):
        report = status_report(settings, now=now)
        text = report.format()
        data = json.loads(json.dumps(report.to_dict()))
    # The schedule, with next runs in the configured zone (Chicago: UTC-6 in January).
    assert "Schedule (America/Chicago)" in text
    directory_line = next(line for line in text.splitlines() if line.strip().startswith("directory  "))
    assert "30 2 * * *" in directory_line and "Sun 2026-01-11 02:30:00 CST" in directory_line
    assert data["schedule"][0]["next_run"] == "2026-01-11T08:30:00Z"
    # The last runs, newest first, with items, drops and the index sync.
    run_lines = [line for line in text.splitlines() if line.strip().startswith("#")]
    assert run_lines[0].split()[:4] == ["#3", "reviews", "retry", "failed"]
    assert run_lines[2].split()[:4] == ["#1", "directory", "schedule", "ok"]
    assert "245" in run_lines[2] and run_lines[2].rstrip().endswith("ok")
    assert data["runs"][2]["dropped"] == 2 and data["runs"][2]["items"]["new"] == 245
    # Reviews used up its one retry: failing, in the table, the section and the JSON.
    assert "FAILING: 2 failed run(s) in a row" in text
    assert "reviews: FAILING" in text and "mostly 5xx answers" in text
    assert data["failing"] == ["reviews"]
    # The lock someone holds right now, and the index state.
    assert f"crawl-directory: pid {os.getpid()}" in text and "(crawl (admin))" in text
    assert data["locks"][0]["name"] == "crawl-directory"
    assert "no index" in text and data["index"]["catalog_change_seq"] == 0
    assert data["index"]["last_sync_after_run"]["run_id"] == ok


def test_status_report_on_a_fresh_install(tmp_path):
    settings = cfg(DATA_DIR=str(tmp_path / "nothing-yet"))
    report = status_report(settings)
    text = report.format()
    assert "no crawl has run yet" in text and "never crawled" in text and "scheduler not running" in text
    assert not settings.catalog_path.exists()  # status only reads


def test_status_report_names_a_broken_sites_file(tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text("[[site]]\nname = 'x'\ntype = 'nonsense'\n")
    report = status_report(cfg(DATA_DIR=str(tmp_path / "d"), SITES_FILE=str(sites)))
    assert report.problems and "sites.toml" in report.problems[0]
    assert "problem:" in report.format()


def freshness_catalog(settings) -> None:
    """Directory: 4 live pages (2 within their interval, 1 overdue, 1 never scheduled) and a gone one; reviews: 2
    pages fetched before the schedule existed."""
    clock = ["2026-01-01T00:00:00.000000Z"]
    with Catalog(settings.catalog_location, clock=lambda: clock[0]) as cat:
        cat.record_page("https://dir.example/p/0", source="directory", status=200, run_id=None, body=b"p0")
        clock[0] = "2026-01-10T06:00:00.000000Z"
        for n in (1, 2, 3):
            cat.record_page(f"https://dir.example/p/{n}", source="directory", status=200, run_id=None, body=b"p%d" % n)
        cat.mark_page_gone("https://dir.example/p/gone", source="directory", status=404, run_id=None)
        for n in (0, 1):
            cat.record_page(f"https://reviews.example/r/{n}", source="reviews", status=200, run_id=None, body=b"r")
        assert cat.set_page_schedule("https://dir.example/p/0", 7 * 86400, "2026-01-08T00:00:00.000000Z")  # overdue
        assert cat.set_page_schedule("https://dir.example/p/1", 86400, "2026-01-11T06:00:00.000000Z")
        assert cat.set_page_schedule("https://dir.example/p/2", 7 * 86400, "2026-01-17T06:00:00.000000Z")
        # A fetch schedules its page; these stand for pages fetched before the schedule existed.
        for url in ("https://dir.example/p/3", "https://reviews.example/r/0", "https://reviews.example/r/1"):
            assert cat.set_page_schedule(url, None, None)


def test_status_report_shows_page_freshness_per_source(tmp_path):
    settings = cfg(DATA_DIR=str(tmp_path / "data"), SOURCES="directory,reviews", SCHEDULE_TIMEZONE="America/Chicago")
    freshness_catalog(settings)
    report = status_report(settings, now=utc(2026, 1, 10, 12, 0))
    text = report.format()
    data = json.loads(json.dumps(report.to_dict()))
    # Every key the JSON had before is still there; freshness is a new key beside them.
    assert {"generated_at", "timezone", "scheduler", "schedule", "runs", "health", "failing", "locks", "index",
            "events", "problems", "freshness"} <= set(data)
    directory, reviews = data["freshness"]
    assert (directory["source"], directory["pages"], directory["fresh"], directory["due"]) == ("directory", 4, 2, 2)
    assert directory["unscheduled"] == 1 and directory["scheduled"] is True and directory["fresh_share"] == 0.5
    assert directory["next_due"] == "2026-01-11T06:00:00.000000Z"
    assert directory["next_due_local"] == "Sun 2026-01-11 00:00:00 CST"  # in SCHEDULE_TIMEZONE
    assert (directory["oldest_url"], directory["oldest_age_s"]) == ("https://dir.example/p/0", 9 * 86400 + 12 * 3600)
    assert directory["oldest_age"] == "9 days"
    assert (reviews["pages"], reviews["fresh"], reviews["due"], reviews["unscheduled"]) == (2, 0, 2, 2)
    assert reviews["scheduled"] is False and reviews["fresh_text"] == "not scheduled yet"
    # The text: a table with the share, due now, next due and the oldest page, then plain notes.
    section = text.split("Page freshness", 1)[1].split("Failing sources", 1)[0]
    rows = {line.split()[0]: line for line in section.splitlines()[3:] if line.strip()}  # after title and header
    assert rows["directory"].split()[1:4] == ["4", "50.0%", "2"]
    assert "Sun 2026-01-11 00:00:00 CST" in rows["directory"]
    assert rows["directory"].endswith("9 days ago: https://dir.example/p/0")
    assert "not scheduled yet" in rows["reviews"] and "%" not in rows["reviews"]  # no scary 0%
    assert "directory: 1 of 4 page(s) have no revisit schedule yet and count as due" in section
    assert "reviews: none of its 2 page(s) has a revisit schedule yet" in section
    assert "the next crawl fetches them" in section


def test_status_json_from_the_command_line_carries_freshness(tmp_path):
    from click.testing import CliRunner

    from collegesearch.cli import main

    settings = cfg(DATA_DIR=str(tmp_path / "data"), SOURCES="directory,reviews")
    freshness_catalog(settings)
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "data"), "status", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"version", "schedule", "runs", "failing", "index"} <= set(data)
    by_source = {f["source"]: f for f in data["freshness"]}
    assert by_source["directory"]["pages"] == 4 and by_source["directory"]["unscheduled"] == 1
    assert by_source["reviews"]["scheduled"] is False and by_source["reviews"]["due"] == 2
    text = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "data"), "status"]).stdout
    assert "Page freshness" in text and "not scheduled yet" in text


def test_status_report_without_pages_says_so(tmp_path):
    settings = cfg(DATA_DIR=str(tmp_path / "data"))
    with Catalog(settings.catalog_path) as cat:
        cat.finish_run(cat.start_run("directory", "manual"), status="ok", stats={}, complete=True)
    report = status_report(settings)
    assert report.freshness == [] and report.to_dict()["freshness"] == []
    assert "Page freshness (pages fetched within their revisit interval)\n  no page has been fetched yet\n" in (
        report.format())


# -- children ------------------------------------------------------------------------------------------

STUBBORN = textwrap.dedent("""
    import signal, sys, time
    mode = sys.argv[1]
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    elif mode == "graceful":
        def bye(*_):
            print("finishing in-flight work", flush=True)
            time.sleep(0.3)
            sys.exit(3)
        signal.signal(signal.SIGTERM, bye)
    print("ready", flush=True)
    time.sleep(60)
""")


def child(mode):
    proc = subprocess.Popen([sys.executable, "-c", STUBBORN, mode], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_supervise_time_limit_sigterm_then_sigkill():
    proc = child("stubborn")
    started = time.monotonic()
    outcome = supervise(proc, time_limit=0.5, term_grace=0.7, poll=0.05)
    assert outcome.timed_out and outcome.killed and outcome.signal_name == "SIGKILL"
    assert time.monotonic() - started >= 1.1
    proc.stdout.close()


def test_supervise_lets_a_graceful_child_finish_after_sigterm():
    proc = child("graceful")
    outcome = supervise(proc, time_limit=0.3, term_grace=10, poll=0.05)
    assert outcome.timed_out and not outcome.killed and outcome.returncode == 3
    assert proc.stdout.read().strip() == "finishing in-flight work"
    proc.stdout.close()


def test_supervise_stops_the_child_when_the_scheduler_stops_and_kills_on_force():
    stop, force = threading.Event(), threading.Event()
    proc = child("stubborn")
    threading.Timer(0.2, stop.set).start()
    threading.Timer(0.6, force.set).start()
    outcome = supervise(proc, time_limit=60, term_grace=60, stop=stop, force=force, poll=0.05)
    assert outcome.stopped and not outcome.timed_out and outcome.killed
    assert outcome.seconds < 5
    proc.stdout.close()


def test_supervise_reports_a_child_killed_by_someone_else():
    proc = child("plain")
    threading.Timer(0.2, lambda: os.kill(proc.pid, signal.SIGKILL)).start()
    outcome = supervise(proc, time_limit=60, term_grace=1, poll=0.05)
    assert outcome.signal_name == "SIGKILL" and not outcome.killed and not outcome.timed_out
    proc.stdout.close()


def test_children_get_exactly_the_parent_settings(tmp_path):
    settings = cfg(DATA_DIR=str(tmp_path / "d"), SOURCES="directory,bls_ooh", SCHEDULE_REVIEWS="",
                   SAMPLE_SITE_URL="http://127.0.0.1:9", RETRY_MAX=7, AUTOTHROTTLE=False, SECRET_KEY=None)
    env = settings_env(settings, base={"PATH": os.environ.get("PATH", ""), "COLLEGESEARCH_CONFIG": "/nope.toml"})
    assert "COLLEGESEARCH_CONFIG" not in env  # the parent already resolved its config file
    assert load_settings(env=env, config_file=None) == settings


# -- the scheduler's bookkeeping of a child, with stand-in children (real processes) ----------------------

FAKE_CRAWL = textwrap.dedent("""
    import os, signal, sys, time
    from catalog import Catalog
    mode, path, source, trigger = sys.argv[1:5]
    if mode == "refused":
        print("error: cannot crawl " + source + ": crawl-" + source + " is already running by pid 1 on h", flush=True)
        sys.exit(1)
    if mode == "crash":
        print("Traceback (most recent call last):", flush=True)
        print("error: no sample site answers at http://127.0.0.1:9", flush=True)
        sys.exit(1)
    with Catalog(path) as cat:
        run = cat.start_run(source, trigger)
        cat.update_run_stats(run, {"pages": 7, "items": {"new": 3}})
    if mode == "hang":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)
    if mode == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    with Catalog(path) as cat:
        cat.finish_run(run, status="ok", stats={"pages": 7}, complete=True)
""")


def fake_scheduler(tmp_path, mode, **kw):
    from ops.scheduler import Scheduler

    settings = cfg(DATA_DIR=str(tmp_path / "data"), SYNC_AFTER_CRAWL=False, RETRY_MAX=2, RETRY_BACKOFF=30, **kw)
    Catalog(settings.catalog_path).close()

    def command(source, trigger):
        return [sys.executable, "-c", FAKE_CRAWL, mode, str(settings.catalog_path), source, trigger]

    # A 5-second limit: the fake child imports the catalog and opens it before it records its run,
    # which takes over a second on a loaded two-core machine.
    return settings, Scheduler(settings, command=command, time_limit_margin=5 - settings.CRAWL_TIME_LIMIT,
                               term_grace=0.5)


def test_a_child_past_the_time_limit_is_stopped_and_its_run_failed_with_time_limit(tmp_path):
    settings, scheduler = fake_scheduler(tmp_path, "hang")
    result = scheduler.run_source("directory", "schedule")
    assert result.outcome == "failed" and result.reason.startswith("time limit: stopped after")
    with Catalog(settings.catalog_path) as cat:
        run = cat.get_run(result.runs[0])
        retry = cat.list_schedule_events("directory", events=["retry"])
    assert run.status == "failed" and "and killed" in run.error and "the next run resumes it" in run.error
    assert run.stats["resumable"] is True and run.stats["pages"] == 7  # what it reached is kept
    assert retry and retry[0].detail.startswith("retry 1 of 2 at ") and "(30 s backoff)" in retry[0].detail


def test_a_child_that_died_leaves_an_interrupted_run(tmp_path):
    settings, scheduler = fake_scheduler(tmp_path, "die")
    result = scheduler.run_source("directory", "retry")
    with Catalog(settings.catalog_path) as cat:
        run = cat.get_run(result.runs[0])
    assert result.outcome == "interrupted" and run.status == "interrupted"
    assert "was killed by SIGKILL before the run finished" in run.error and run.trigger == "retry"


def test_a_child_that_failed_before_its_run_began_is_recorded_as_a_failed_run(tmp_path):
    settings, scheduler = fake_scheduler(tmp_path, "crash")
    result = scheduler.run_source("directory", "schedule")
    with Catalog(settings.catalog_path) as cat:
        (run,) = cat.list_runs("directory")
    assert result.outcome == "failed" and run.status == "failed" and run.trigger == "schedule"
    assert run.error == "no sample site answers at http://127.0.0.1:9"


def test_a_child_refused_by_the_lock_is_a_skip_not_a_failure(tmp_path):
    settings, scheduler = fake_scheduler(tmp_path, "refused")
    result = scheduler.run_source("directory", "schedule")
    with Catalog(settings.catalog_path) as cat:
        assert cat.list_runs() == []
        (event,) = cat.list_schedule_events(events=["skipped"])
    assert result.outcome == "skipped" and "already running by pid 1" in event.detail


def test_a_busy_source_is_skipped_without_starting_a_child(tmp_path):
    from ops.locks import hold

    settings, scheduler = fake_scheduler(tmp_path, "ok")
    with hold(settings, "crawl-directory", purpose="crawl (manual)"):
        result = scheduler.run_source("directory", "schedule")
    assert result.outcome == "skipped" and f"already running by pid {os.getpid()}" in result.reason
    ok = scheduler.run_source("directory", "schedule")
    assert ok.outcome == "ok" and len(ok.runs) == 1


SCHEDULER_MAIN = textwrap.dedent("""
    import sys
    from collegesearch.config import load_settings
    from ops.log_setup import setup_logging as _setup_logging
    from ops.scheduler import Scheduler
    data, child = sys.argv[1], sys.argv[2]
    settings = load_settings(env={}, config_file=None, overrides={
        "DATA_DIR": data, "SOURCES": "directory", "SCHEDULE_DIRECTORY": "* * * * * *", "SYNC_AFTER_CRAWL": False,
        "SCHEDULE_TIMEZONE": "UTC"})
    _setup_logging("INFO")
    import threading, time
    from ops import scheduler
    original = scheduler.Scheduler.event
    def slow_event(self, *args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            time.sleep(0.7)  # a catalog busy with a crawl's writes: APScheduler's listener waits for it
        return original(self, *args, **kwargs)
    scheduler.Scheduler.event = slow_event
    command = lambda source, trigger: [sys.executable, "-c", child, "graceful", str(settings.catalog_path), source,
                                       trigger]
    Scheduler(settings, command=command, echo=print).run_forever()
    print("returned", flush=True)
""")

GRACEFUL_CRAWL = textwrap.dedent("""
    import signal, sys, time
    from catalog import Catalog
    _mode, path, source, trigger = sys.argv[1:5]
    with Catalog(path) as cat:
        run = cat.start_run(source, trigger)
    def stop(*_):
        with Catalog(path) as cat:
            cat.finish_run(run, status="interrupted", stats={}, error="stopped by a signal")
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    time.sleep(2.5)
    with Catalog(path) as cat:
        cat.finish_run(run, status="ok", stats={}, complete=True)
""")


@pytest.mark.parametrize("offset", [0.0, 0.2, 0.45])
def test_sigterm_stops_the_scheduler_wherever_its_main_thread_is(tmp_path, offset):
    # Every second a trigger fires while a run is going: a max_instances event, which the main thread records
    # in the catalog from APScheduler's listener (slowly here, like a catalog busy with a crawl's writes).
    # SIGTERM lands inside that listener; an exception raised from the signal handler there would be
    # swallowed by APScheduler and the scheduler would never stop.
    data = tmp_path / "data"
    # A run that "started" a minute from now: no fire time is missed, so no catch-up job; the cron job itself
    # crawls, and its next fires find it still going (max_instances).
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    with Catalog(data / "catalog.sqlite3", clock=lambda: later) as cat:
        cat.finish_run(cat.start_run("directory", "manual"), status="ok", stats={}, complete=True)
    log = tmp_path / "scheduler.err"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", SCHEDULER_MAIN, str(data), GRACEFUL_CRAWL],
                                stdout=subprocess.PIPE, stderr=err, text=True)
    deadline = time.monotonic() + 60
    while "the previous run is still going (max_instances=1)" not in log.read_text():
        assert time.monotonic() < deadline and proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.02)
    time.sleep(offset)  # the listener is now recording the skip (0.7 s)
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the scheduler did not stop on SIGTERM:\n{log.read_text()[-3000:]}")
    assert proc.returncode == 0 and "returned" in out, log.read_text()[-3000:]
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        runs = cat.list_runs()
    assert all(r.status in ("ok", "interrupted") for r in runs), [(r.status, r.error) for r in runs]
