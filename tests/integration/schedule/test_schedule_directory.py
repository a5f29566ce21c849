"""The accreditor directory (245 programs) crawled by the scheduler through a life of failures and changes:
a crawl child killed by SIGKILL leaves an interrupted run and a stale lock that is no obstacle; the retry is
stopped gracefully with the scheduler (SIGTERM); a new scheduler resumes it to completion, losing nothing;
the site moves to epoch 2 and the next scheduled run shows exactly the expected changes in the change feed
(/changes.json) and in search.

The sample site's gate holds the program pages, so each crawl is half-way when the test kills or stops it,
however fast the machine: the test, not a race with the signal, decides how far a crawl gets."""

from __future__ import annotations

import json
import os
import signal

from catalog import Catalog
from ops.locks import FileLock
from sample_site import truth
from tests.integration.schedule.schedule_helpers import (
    SchedulerProcess,
    base_env,
    cli,
    events,
    open_catalog,
    parse,
    runs,
    soon,
    wait_for,
)

NEVER_SOON = "0 0 0 1 1 *"  # once a year, on Jan 1: never fires during a test, never a missed run within grace
PROGRAM_PAGES = "/cahiim/program-directory/program/"
FIRST_RUN_PAGES = 40  # program pages the first run may fetch before it waits at the gate (it is killed past 25)
RETRY_PAGES = 60  # and the retry after it (the killed run's waiting requests may take up to 8 of them)


def directory_programs(epoch: int) -> dict[str, dict]:
    return {k: v for k, v in truth.expected_items(epoch)["program"].items() if v["source"] == "directory"}


def stored(data) -> dict[str, dict]:
    cat = open_catalog(data)
    if cat is None:
        return {}
    with cat:
        return {s.item_id: s.data for s in cat.iter_items("program", source="directory")}


def count_stored(data) -> int:
    cat = open_catalog(data)
    if cat is None:
        return 0
    with cat:
        return cat.count("program", source="directory")


def test_killed_crawl_resumes_and_epoch_2_shows_in_feed_and_search(tmp_path, fresh_sample_site, scheduler_procs,
                                                                   web):
    site = fresh_sample_site(faults=False, gate=True)
    data = tmp_path / "data"
    expected1, expected2 = directory_programs(1), directory_programs(2)

    def env(cron: str) -> dict[str, str]:
        return base_env(data, SOURCES="directory", SCHEDULE_DIRECTORY=cron, SAMPLE_SITE_URL=site.base_url,
                        RETRY_BACKOFF=1, RETRY_MAX=4)

    # 1. A scheduled run starts; its crawl process is killed (SIGKILL) a few dozen programs in.
    site.gate.hold(PROGRAM_PAGES, allow=FIRST_RUN_PAGES)
    s1 = SchedulerProcess(tmp_path, env(soon(2)), name="s1")
    scheduler_procs.append(s1)
    first = wait_for(lambda: next((r for r in runs(data, "directory") if r.status == "running"), None)
                     and count_stored(data) >= 25 and runs(data, "directory")[0], 120, "the first run under way")
    assert first.trigger == "schedule"
    os.kill(first.pid, signal.SIGKILL)
    killed_at = count_stored(data)
    site.gate.hold(PROGRAM_PAGES, allow=FIRST_RUN_PAGES + RETRY_PAGES)
    first = wait_for(lambda: next(r for r in runs(data, "directory") if r.id == first.id).status != "running"
                     and next(r for r in runs(data, "directory") if r.id == first.id), 60, "the killed run closed")
    assert first.status == "interrupted"
    assert f"crawl process {first.pid} was killed by SIGKILL before the run finished" in first.error
    # The dead process's note is still in the lock file, but the lock is free (flock died with it).
    # (Unless the retry has already taken it over: then the file names the new holder.)
    lock = FileLock(data / "locks", "crawl-directory")
    note = json.loads(lock.path.read_text() or "{}")
    owner = lock.owner()
    assert (note.get("pid") == first.pid and owner is None) or (owner and owner["pid"] != first.pid), (note, owner)
    # 2. It is retried after RETRY_BACKOFF; the scheduler is stopped (SIGTERM) while the retry runs.
    retry = wait_for(lambda: next((r for r in runs(data, "directory") if r.trigger == "retry"), None), 60,
                     "the retry")
    assert parse(retry.started_at) >= parse(first.finished_at)
    assert any(e.run_id == first.id and e.detail.startswith("retry 1 of 4 at ") for e in events(data, "directory", "retry"))
    wait_for(lambda: count_stored(data) >= killed_at + 10, 60, "the retry making progress")
    s1.terminate()
    s1.wait_log("scheduler stopping; sending SIGTERM")
    # The stopping crawl ends the requests it has under way (those waiting at the gate get a 503) and gets no
    # more program pages, however long it takes to see the signal.
    site.gate.refuse()
    assert s1.stop() == 0
    assert "stopping: waiting for running crawls" in s1.stdout and "scheduler stopped" in s1.stdout
    assert "scheduler stopping; sending SIGTERM" in s1.log
    retry = next(r for r in runs(data, "directory") if r.id == retry.id)
    assert retry.status == "interrupted" and "stopped by a signal" in retry.error, (retry.status, retry.error)
    assert retry.stats["pages_resumed"] > 0  # it had resumed what the killed run stored
    assert 0 < count_stored(data) < len(expected1)
    site.gate.open()

    # 3. A new scheduler sees the interrupted retry and retries again; that run completes and loses nothing.
    s2 = SchedulerProcess(tmp_path, env(NEVER_SOON), name="s2")
    scheduler_procs.append(s2)
    done = wait_for(lambda: next((r for r in runs(data, "directory") if r.id > retry.id and r.status != "running"),
                                 None), 180, "the resumed run")
    assert "directory: retry 2 " in s2.stdout  # "retry 2 of 4 after 2 failed run(s); starting now" (or "planned at")
    assert done.trigger == "retry" and done.status == "ok" and done.complete, (done.status, done.error)
    assert {first.id, retry.id} <= set(done.stats["resumed_from"])
    assert stored(data).keys() == expected1.keys()
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        ops = [c.op for c in cat.changes_since(0, limit=10000)]
    assert ops.count("new") == len(expected1) and "deleted" not in ops  # each program stored once, none lost
    synced = wait_for(lambda: next(r for r in runs(data, "directory") if r.id == done.id).index_sync, 60,
                      "the index sync after the run")
    assert synced["status"] == "ok"
    assert s2.stop() == 0
    status = json.loads(cli(env(NEVER_SOON), "status", "--json").stdout)
    assert status["index"]["doc_count"] == len(expected1) and status["index"]["lag"] == 0
    assert status["failing"] == [] and status["locks"] == []

    # 4. The site moves to epoch 2; the next scheduled run brings exactly its changes.
    site.restart(epoch=2)
    s3 = SchedulerProcess(tmp_path, env(soon(3)), name="s3")
    scheduler_procs.append(s3)
    latest = wait_for(lambda: next((r for r in runs(data, "directory") if r.id > done.id and r.status != "running"),
                                   None), 180, "the epoch-2 run")
    wait_for(lambda: next(r for r in runs(data, "directory") if r.id == latest.id).index_sync, 60, "its index sync")
    assert s3.stop() == 0
    assert latest.trigger == "schedule" and latest.status == "ok", (latest.status, latest.error)
    assert stored(data).keys() == expected2.keys()
    assert all(stored(data)[k]["accreditation_status"] == v["accreditation_status"] for k, v in expected2.items())
    new_ids = expected2.keys() - expected1.keys()
    status_changes = {k: (expected1[k]["accreditation_status"], v["accreditation_status"])
                      for k, v in expected2.items() if k in expected1
                      and v["accreditation_status"] != expected1[k]["accreditation_status"]}
    assert new_ids and status_changes

    client = web(data)
    feed = client.get(f"/changes.json?run_id={latest.id}&kind=program&limit=500").get_json()
    seen = {(c["id"], c["op"]) for c in feed["changes"]}
    assert {(k, "new") for k in new_ids} <= seen
    assert {(k, "changed") for k in status_changes} <= seen
    status_feed = client.get(f"/changes.json?run_id={latest.id}&what=status").get_json()["changes"]
    assert {c["id"] for c in status_feed} == set(status_changes)
    words = {"probation": "Probation", "monitoring": "Monitoring", "warning": "Warning", "withdrawn": "Withdrawn",
             "show_cause": "Show cause", "accredited": "Accredited", "closed": "Closed"}
    for entry in status_feed:
        old, new = status_changes[entry["id"]]
        program = expected2[entry["id"]]
        assert entry["sentence"] == (f"{words[new]}: {program['name']} at {program['institution_name']} "
                                     f"(was {words[old]})")
    group = feed["groups"][0]
    assert group["run_id"] == latest.id and group["run"]["trigger"] == "schedule"
    assert f"{len(new_ids)} new program" in group["summary"]
    one = next(iter(new_ids))
    assert client.get(f"/changes.json?run_id={latest.id}&state={expected2[one]['state']}&what=new").get_json()[
        "changes"][0]["id"] == one
    atom = client.get(f"/changes.atom?run_id={latest.id}&what=status").text
    assert all(e["sentence"] in atom.replace("&amp;", "&") for e in status_feed)

    # ... and in search (the scheduler synced the index after the run).
    institution = expected2[one]["institution_name"]
    found = client.get("/api/search", query_string={"q": institution, "kind": "program"}).get_json()
    assert f"program:{one}" in [r["id"] for r in found["results"]]
    # Every program on probation now, including the ones this run moved there (the others were already).
    probation = {k for k, v in expected2.items() if v["accreditation_status"] == "probation"}
    assert {k for k, (_old, new) in status_changes.items() if new == "probation"} <= probation
    hits = client.get("/api/search", query_string={"kind": "program", "accreditation_status": "probation",
                                                   "per_page": 50}).get_json()
    assert hits["total"] == len(probation) <= 50
    assert {r["id"] for r in hits["results"]} == {f"program:{k}" for k in probation}
