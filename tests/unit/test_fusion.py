"""Record fusion in the catalog: observations -> one fused record per program, with provenance and conflicts."""

from __future__ import annotations

import dataclasses

import pytest

from catalog import Catalog
from crawler.verdict import new_entity_alarm
from model.items import Institution, Program

# Each test runs with the catalog on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_backends

CAHIIM = "Commission on Accreditation for Health Informatics and Information Management Education"


def navigator(status: str = "accredited", unitid: str | None = "1", **kw) -> Program:
    """College Navigator's row of a CAHIIM program (DAPIP's name, the school's id from the page)."""
    fields = dict(url=f"http://cn/?id={unitid}", source="collegenavigator", program_id=f"{unitid}-abc",
                  institution_unitid=unitid, institution_name="Alpha College",
                  name="Health Information Technology (HIT) - Associate degree programs",
                  field="Health Information Technology", degree_level="associate", accreditor="CAHIIM",
                  accreditor_name=CAHIIM, accreditation_status=status, accredited_since="2001-05-01",
                  next_review="2030-06-30", state="OH", city="Akron", military_friendly=True)
    fields.update(kw)
    return Program(**fields)


def directory(status: str = "accredited", unitid: str | None = "1", pid: str = "cahiim-1001", **kw) -> Program:
    """The CAHIIM directory's entry for the same program (its own id and wording)."""
    fields = dict(url=f"http://dir/program/{pid}", source="directory", program_id=pid, institution_unitid=unitid,
                  institution_name="Alpha Coll.", name="Health Information Technology",
                  field="Health Information Technology", degree_level="associate", accreditor="CAHIIM",
                  accreditor_name=CAHIIM, accreditation_status=status, accredited_since="2001-05-01",
                  next_review="2030-06-30", delivery="online", state="OH", city="Akron")
    fields.update(kw)
    return Program(**fields)


@pytest.fixture
def cat(tmp_path):
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        catalog.upsert(Institution(url="http://cn/?id=1", source="collegenavigator", unitid="1", name="Alpha College"))
        yield catalog


def programs(cat: Catalog) -> list:
    return list(cat.fused.iter_items("program"))


def test_two_sources_of_one_program_are_one_record_with_ranked_fields(cat):
    cat.upsert(navigator())
    cat.upsert(directory())
    cat.fuse_pending()
    [program] = programs(cat)
    assert program.item_id == "1-abc"  # the first observation's id: existing links keep working
    assert program.data["program_id"] == "1-abc"
    assert program.data["name"].startswith("Health Information Technology (HIT)")  # College Navigator's wording
    assert program.data["institution_name"] == "Alpha College"
    assert program.data["delivery"] == "online"  # only the directory says
    assert program.data["military_friendly"] is True  # only College Navigator says
    sources = {s["source"]: s for s in cat.fused.sources("program", "1-abc")}
    assert set(sources) == {"collegenavigator", "directory"}
    assert "accreditation_status" in sources["directory"]["fields"] and "name" in sources["collegenavigator"]["fields"]
    assert cat.fused.conflicts("program", "1-abc") == []
    assert [c.op for c in cat.fused.changes_since(0) if c.kind == "program"] == ["new"]
    assert cat.fused.children("1", "program")[0].item_id == "1-abc"


def test_the_directory_outranks_college_navigator_on_status_and_the_conflict_is_kept(cat):
    cat.upsert(navigator())
    cat.upsert(directory())
    cat.fuse_pending()
    seq = cat.fused.max_change_seq()
    cat.upsert(directory("probation"))
    result = cat.fuse_pending()
    assert result.refused == 1 and result.entities == {"changed": 1}
    [change] = cat.fused.changes_since(seq)
    assert (change.op, change.source, change.diff) == ("changed", "directory", {"accreditation_status": ["accredited", "probation"]})
    assert cat.fused.get("program", "1-abc").data["accreditation_status"] == "probation"
    [conflict] = cat.fused.conflicts("program", "1-abc")
    assert (conflict["field"], conflict["value"], conflict["source"]) == ("accreditation_status", "probation", "directory")
    assert [(o["source"], o["value"]) for o in conflict["others"]] == [("collegenavigator", "accredited")]
    assert conflict["since"] >= conflict["others"][0]["since"]
    # College Navigator catching up changes nothing users see: no second entry, the conflict is gone
    seq = cat.fused.max_change_seq()
    cat.upsert(navigator("probation"))
    assert cat.fuse_pending().entities == {}
    assert cat.fused.changes_since(seq) == [] and cat.fused.conflicts("program", "1-abc") == []


def test_college_navigator_alone_is_believed_until_the_directory_speaks(cat):
    cat.upsert(navigator("warning"))
    cat.fuse_pending()
    assert cat.fused.get("program", "1-abc").data["accreditation_status"] == "warning"


def test_one_source_stopping_removes_its_observation_not_the_program(cat):
    cat.upsert(directory())
    cat.fuse_pending()
    cat.upsert(navigator())
    cat.fuse_pending()
    assert [p.item_id for p in programs(cat)] == ["cahiim-1001"]  # the id stays as the second source joins
    cat.tombstone("program", "cahiim-1001", reason="page answered 404")
    cat.fuse_pending()
    [program] = programs(cat)
    assert program.item_id == "cahiim-1001" and program.data["source"] == "collegenavigator"
    gone = {s["source"]: s for s in cat.fused.sources("program", "cahiim-1001")}["directory"]
    assert not gone["live"] and gone["removed_at"]
    cat.tombstone("program", "1-abc", reason="missing from 2 consecutive complete crawls")
    cat.fuse_pending()
    assert programs(cat) == [] and cat.fused.get("program", "cahiim-1001", include_deleted=True).deleted_at
    cat.upsert(navigator())  # listed again: the same record comes back
    cat.fuse_pending()
    assert [p.item_id for p in programs(cat)] == ["cahiim-1001"]
    # listed by the directory; College Navigator joins (its wording); the directory stops (no delivery any
    # more); nobody lists it; listed again
    assert [c.op for c in cat.fused.item_history("program", "cahiim-1001")] == [
        "new", "changed", "changed", "deleted", "revived"]


def test_fusion_never_merges_across_schools_or_accreditors(cat):
    cat.upsert(navigator())
    cat.upsert(directory(unitid="2", pid="cahiim-2"))
    cat.upsert(navigator(program_id="1-other", accreditor="AHIMA", accreditor_name="American Health Information "
                         "Management Association"))
    cat.upsert(navigator(program_id="1-bach", degree_level="bachelor"))
    cat.fuse_pending()
    assert len(programs(cat)) == 4


def test_an_unlinked_observation_stands_alone_then_joins_its_program_once_linked(cat):
    cat.upsert(navigator())
    cat.upsert(directory(unitid=None))
    cat.fuse_pending()
    assert sorted(p.item_id for p in programs(cat)) == ["1-abc", "cahiim-1001"]
    assert cat.unlinked_count("directory") == 1
    cat.upsert(directory())  # a relink found the school
    cat.fuse_pending()
    assert [p.item_id for p in programs(cat)] == ["1-abc"]
    # the directory id, and the record it had on its own, now lead to the fused program
    assert cat.fused.current_id("program", "cahiim-1001") == "1-abc"
    assert cat.fused.get("program", "cahiim-1001", include_deleted=True).deleted_reason == "merged into another record"
    assert cat.fused.current_id("program", "nope") is None


def test_refusing_everything_keeps_ids_and_changes_nothing(cat):
    cat.upsert(directory())
    cat.upsert(navigator())
    cat.fuse_pending()
    before = {p.item_id: p.content_hash for p in programs(cat)}
    seq = cat.fused.max_change_seq()
    result = cat.refuse_all()
    assert result.entities == {} and {p.item_id: p.content_hash for p in programs(cat)} == before
    assert cat.fused.max_change_seq() == seq


def test_an_old_catalog_is_fused_whole_on_first_use(tmp_path):
    with Catalog(tmp_path / "c.sqlite3") as cat:
        for i in range(30):
            cat.upsert(navigator(program_id=f"1-{i}", name=f"Program {i} (P{i})"))
            cat.upsert(directory(pid=f"cahiim-{i}", name=f"Program {i}", field=f"Program {i}"))
        assert cat.fusion_watermark() is None
        result = cat.fuse_pending(batch_size=7)  # in small batches, as a long change log is
        assert result.observations == 60 and result.watermark == cat.max_change_seq()
        assert cat.fused.count("program") == 60  # unknown codes stay apart: "Program 3 (P3)" is not "Program 3"
        assert cat.fuse_pending().observations == 0


def test_a_finished_run_is_fused_and_its_changes_carry_the_run(cat):
    run = cat.start_run("directory", "manual")
    cat.upsert(directory(), run_id=run)
    cat.finish_run(run, status="ok", stats={}, complete=True)
    assert [c.run_id for c in cat.fused.changes_since(0) if c.kind == "program"] == [run]
    assert cat.entity_op_counts([run]) == {"new": 1}


def test_a_renamed_catalog_raises_the_alarm_and_new_programs_do_not():
    items = {"new": 0, "changed": 240, "unchanged": 5, "revived": 0}
    assert "240 of the 245 records" in new_entity_alarm({"new": 240}, items)
    assert new_entity_alarm({"new": 30}, {"new": 30, "unchanged": 200}) is None  # newly listed programs
    assert new_entity_alarm({"new": 5}, {"changed": 5}) is None  # a few renames are normal
    assert new_entity_alarm({"new": 0}, {}) is None


def test_the_alarm_flags_a_real_rename_in_the_catalog(cat):
    for i in range(40):
        cat.upsert(navigator(program_id=f"1-{i}", name=f"Subject {i} (S{i})", field=f"Subject {i}"))
        cat.upsert(directory(pid=f"cahiim-{i}", name=f"Subject {i} (S{i})", field=f"Subject {i}"))
    cat.fuse_pending()
    assert cat.fused.count("program") == 40
    run = cat.start_run("directory", "schedule")
    for i in range(40):  # the directory's redesign writes every program another way
        cat.upsert(dataclasses.replace(directory(pid=f"cahiim-{i}"), name=f"Redesigned {i}", field=f"Redesigned {i}"),
                   run_id=run)
    cat.fuse_pending()
    ops = cat.entity_op_counts([run])
    assert ops["new"] == 40
    assert new_entity_alarm(ops, {"changed": 40}) is not None


def test_changed_rules_replay_every_observation_and_keep_ids(cat, monkeypatch):
    cat.upsert(navigator())
    cat.upsert(directory(name="Health Info Tech", field="Health Info Tech"))  # a spelling the rules do not know
    cat.fuse_pending()
    assert sorted(p.item_id for p in programs(cat)) == ["1-abc", "cahiim-1001"]
    from catalog import entities, fusion
    from model import program_fields

    real = program_fields.field_key
    monkeypatch.setattr(fusion, "field_key", lambda name, field=None: real(
        "Health Information Technology" if (name or "").startswith("Health Info Tech") else name, field))
    monkeypatch.setattr(entities, "rules_fingerprint", lambda: "edited-rules")
    result = cat.fuse_pending()  # nothing new was crawled: the edited rules alone make it refuse everything
    assert result.observations >= 3
    assert [p.item_id for p in programs(cat)] == ["1-abc"]
    assert cat.fused.current_id("program", "cahiim-1001") == "1-abc"
    assert cat.fuse_pending().observations == 0


def test_an_entitys_observations_are_found_through_the_member_index(cat):
    # The query runs once per re-fused entity: a plan that walks every item or member of a kind made a
    # crawl's fusion take minutes. SQLite's plan, not a timing, is what can be checked here.
    from catalog.entities import MEMBER_ROWS_SQL

    plan = " | ".join(row[3] for row in cat.conn.execute("EXPLAIN QUERY PLAN " + MEMBER_ROWS_SQL,
                                                          {"kind": "review", "entity_id": "x"}))
    assert "entity_members_entity (kind=? AND entity_id=?" in plan and "SCAN" not in plan, plan
