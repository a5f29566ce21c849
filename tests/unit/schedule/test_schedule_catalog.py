"""Catalog pieces the scheduler and the change feed use: schedule events, field-filtered feed, change summary."""

from __future__ import annotations

import sqlite3

from catalog import Catalog
from catalog.migrations import SCHEMA_VERSION
from model.items import Career, Program


def program(status: str = "accredited", **kw) -> Program:
    base = dict(url="https://dir.example/program/7", source="directory", program_id="cahiim-7",
                name="Health Information Technology", institution_name="Ohio Valley Community College",
                degree_level="associate", accreditor="CAHIIM", accreditation_status=status, state="OH", city="Dayton")
    base.update(kw)
    return Program(**base)


def career(pay: int) -> Career:
    return Career(url="https://ooh.example/mr.htm", source="bls_ooh", soc_code="29-2072",
                  title="Medical records specialists", median_pay_annual=pay)


def test_version_1_file_upgrades_in_place_and_keeps_its_runs(tmp_path):
    path = tmp_path / "old.sqlite3"
    from catalog.migrations import MIGRATIONS

    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("INSERT INTO runs (source, trigger, status, started_at) VALUES ('directory', 'manual', 'ok', 'x')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Catalog(path) as cat:
        assert cat.schema_version() == SCHEMA_VERSION >= 2
        assert [r.source for r in cat.list_runs()] == ["directory"]
        event = cat.add_schedule_event("skipped", source="directory", detail="busy")
        assert event > 0


def test_schedule_events_are_listed_newest_first_filtered_and_pruned(catalog):
    times = iter(["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"])
    catalog.clock = lambda: next(times)
    catalog.add_schedule_event("started", detail="pid 1")
    catalog.add_schedule_event("skipped", source="reviews", detail="crawl-reviews is already running")
    catalog.add_schedule_event("retry", source="directory", detail="retry 1 of 3 in 300 s", run_id=4)
    catalog.add_schedule_event("skipped", source="directory", detail="busy")
    assert [e.event for e in catalog.list_schedule_events()] == ["skipped", "retry", "skipped", "started"]
    assert [e.detail for e in catalog.list_schedule_events("directory")] == ["busy", "retry 1 of 3 in 300 s"]
    skipped = catalog.list_schedule_events(events=["skipped"])
    assert [e.source for e in skipped] == ["directory", "reviews"]
    retry = catalog.list_schedule_events(events=["retry"])[0]
    assert retry.to_dict() == {"id": retry.id, "at": "2026-01-03T00:00:00Z", "source": "directory",
                               "event": "retry", "detail": "retry 1 of 3 in 300 s", "run_id": 4}
    assert len(catalog.list_schedule_events(since="2026-01-03T00:00:00Z")) == 2
    assert catalog.prune_schedule_events("2026-01-03T00:00:00Z") == 2
    assert [e.event for e in catalog.list_schedule_events()] == ["skipped", "retry"]


def test_change_feed_filters_by_changed_field(catalog):
    run1 = catalog.start_run("directory")
    catalog.upsert(program(), run_id=run1)
    catalog.upsert(career(50000), run_id=run1)
    run2 = catalog.start_run("directory")
    catalog.upsert(program("probation"), run_id=run2)
    catalog.upsert(program("probation", next_review="2027-01-01"), run_id=run2)
    catalog.upsert(career(52000), run_id=run2)
    status = catalog.change_feed(fields=["accreditation_status"])
    assert [(c.item_id, c.diff["accreditation_status"]) for c in status] == [("cahiim-7", ["accredited", "probation"])]
    pay = catalog.change_feed(fields=["median_pay_annual", "pay_p10"])
    assert [c.item_id for c in pay] == ["29-2072"]
    both = catalog.change_feed(fields=["accreditation_status", "next_review"], ops=["changed"])
    assert len(both) == 2
    # A quote in a field name cannot break out of the JSON path.
    assert catalog.change_feed(fields=['x") OR 1=1 --']) == []


def test_change_summary_counts_per_run_kind_and_op(catalog):
    run1 = catalog.start_run("directory")
    catalog.upsert(program(), run_id=run1)
    catalog.upsert(program(program_id="cahiim-8", url="https://dir.example/program/8"), run_id=run1)
    run2 = catalog.start_run("directory")
    catalog.upsert(program("probation"), run_id=run2)
    catalog.tombstone("program", "cahiim-8", reason="page answered 404", run_id=run2)
    catalog.upsert(program("closed", program_id="cahiim-9", url="https://dir.example/program/9"), run_id=run2)
    catalog.upsert(program("closed", program_id="cahiim-9", url="https://dir.example/program/9", city="X"),
                   run_id=run2)
    catalog.upsert(career(50000), run_id=run1)
    catalog.upsert(career(51000), run_id=run2)
    rows = catalog.change_summary(closing_statuses=["closed", "withdrawn"],
                                  field_groups={"pay": ["median_pay_annual", "pay_p10"], "city": ["city"]})
    assert rows[0]["run_id"] == run2
    by_key = {(r["run_id"], r["kind"], r["op"]): r for r in rows}
    assert by_key[(run2, "career", "changed")]["field_counts"] == {"pay": 1, "city": 0}
    assert by_key[(run2, "program", "changed")]["field_counts"]["city"] == 1
    assert by_key[(run2, "program", "changed")]["closings"] == 0  # cahiim-9 was new as closed, then moved city
    catalog.upsert(program("withdrawn"), run_id=run2)
    rows = catalog.change_summary(run_ids=[run2], closing_statuses=["closed", "withdrawn"])
    changed = next(r for r in rows if r["kind"] == "program" and r["op"] == "changed")
    assert changed["status_changes"] == 2 and changed["closings"] == 1
    rows = catalog.change_summary()
    by_key = {(r["run_id"], r["kind"], r["op"]): r for r in rows}
    assert by_key[(run1, "program", "new")]["count"] == 2
    assert by_key[(run2, "program", "changed")]["status_changes"] == 2
    assert by_key[(run2, "program", "deleted")]["count"] == 1
    assert {r["run_id"] for r in catalog.change_summary(run_ids=[run1])} == {run1}


def test_get_many_can_include_tombstoned_items(catalog):
    catalog.upsert(program())
    catalog.tombstone("program", "cahiim-7", reason="gone")
    assert catalog.get_many("program", ["cahiim-7"]) == {}
    found = catalog.get_many("program", ["cahiim-7"], include_deleted=True)
    assert found["cahiim-7"].deleted_at is not None
    assert found["cahiim-7"].data["institution_name"] == "Ohio Valley Community College"
