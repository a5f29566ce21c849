"""Record fusion over a real crawl of the whole sample site, measured against the generator's ground truth.

The generator knows which College Navigator row and which CAHIIM directory entry are one program
(``truth.same_program_pairs``) and where the two sources disagree at an epoch (College Navigator
lags the directory by one epoch: ``truth.source_disagreements``). These tests read the catalog the
shared crawl history left after each stage (see ``crawl_history.py``).
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from catalog import Catalog
from catalog.fusion import fusion_key
from collegesearch.config import Settings, load_settings
from indexer.build import rebuild, sync
from indexer.search import Searcher
from sample_site import truth
from tests.integration.crawler.crawl_helpers import print_numbers
from tests.integration.crawler.crawl_history import History, stage_of

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("crawl_site_history"), pytest.mark.timeout(3600)]

MEDICAL_RECORDS = "29-2072"


def pairwise(clusters: dict[str, str]) -> set[frozenset[str]]:
    """Every pair of observations that share a fused record."""
    groups: dict[str, list[str]] = defaultdict(list)
    for item_id, entity in clusters.items():
        groups[entity].append(item_id)
    return {frozenset(p) for members in groups.values() for p in itertools.combinations(sorted(members), 2)}


def fusion_quality(cat: Catalog, epoch: int) -> dict[str, Any]:
    """Pairwise precision and recall of the program fusion, with the worst false merges and misses and why."""
    clusters = cat.fused.membership("program")
    truth_pairs = {frozenset(p) for p in truth.same_program_pairs(epoch) if set(p) <= set(clusters)}
    predicted = pairwise(clusters)
    right = predicted & truth_pairs
    observations = cat.get_many("program", sorted({i for p in predicted ^ truth_pairs for i in p}))

    def explain(pair: frozenset[str]) -> dict[str, Any]:
        out = {}
        for item_id in sorted(pair):
            stored = observations.get(item_id)
            data = stored.data if stored else {}
            out[item_id] = {"institution": data.get("institution_name"), "unitid": data.get("institution_unitid"),
                            "name": data.get("name"), "level": data.get("degree_level"),
                            "key": fusion_key("program", item_id, data) if stored else None}
        return out

    return {
        "observations": len(clusters),
        "entities": len(set(clusters.values())),
        "true_pairs": len(truth_pairs),
        "predicted_pairs": len(predicted),
        "precision": len(right) / len(predicted) if predicted else 1.0,
        "recall": len(right) / len(truth_pairs) if truth_pairs else 1.0,
        "false_merges": [explain(p) for p in sorted(predicted - truth_pairs, key=sorted)[:5]],
        "misses": [explain(p) for p in sorted(truth_pairs - predicted, key=sorted)[:5]],
    }


def test_fusion_precision_and_recall_over_the_whole_site(history: History, tmp_path_factory) -> None:
    stage_of(history, "full")
    with history.open("full") as cat:
        quality = fusion_quality(cat, 1)
    print_numbers("program fusion, full crawl of epoch 1", {k: v for k, v in quality.items()
                                                            if k not in ("false_merges", "misses")})
    print(json.dumps({"false_merges": quality["false_merges"], "misses": quality["misses"]}, indent=1))
    assert quality["true_pairs"] >= 240, quality  # every directory entry is also on College Navigator
    assert quality["precision"] >= 0.995, quality["false_merges"]
    assert quality["recall"] >= 0.99, quality["misses"]


def test_no_two_fused_programs_are_one_program(history: History) -> None:
    stage_of(history, "full")
    with history.open("full") as cat:
        programs = list(cat.fused.iter_items("program"))
        keys = Counter(p.data and fusion_key("program", p.item_id, p.data) for p in programs)
        assert not [k for k, n in keys.items() if n > 1]
        # one record per program: College Navigator's programs plus directory entries it does not list
        assert len(programs) == truth.counts(1)["fused_programs"]


@pytest.fixture(scope="module")
def full_index(history: History, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A catalog copy of the full crawl with its search index built (read-only for tests)."""
    stage = stage_of(history, "full")
    data = tmp_path_factory.mktemp("fused_index") / "data"
    data.mkdir()
    shutil.copyfile(stage.catalog, data / "catalog.sqlite3")
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data)})
    rebuild(settings)
    return settings


def _program_key(fields: dict[str, Any]) -> tuple[Any, ...]:
    return (fields.get("institution_unitid"), fields.get("accreditor"), fields.get("degree_level"),
            fields.get("field_of_study"))


def test_medical_records_specialists_list_each_cahiim_program_once(full_index: Settings) -> None:
    searcher = Searcher(full_index)
    try:
        keys: list[tuple[Any, ...]] = []
        ids: list[str] = []
        first = searcher.programs_for_career(MEDICAL_RECORDS, per_page=100)
        for page in range(1, first.pages + 1):
            result = searcher.programs_for_career(MEDICAL_RECORDS, page=page, per_page=100)
            keys += [_program_key(h.fields) for h in result.hits]
            ids += [h.id for h in result.hits]
        ohio = searcher.search("state:OH degree:associate health information", per_page=10)
    finally:
        searcher.close()
    true_count = len({p for p, _d in truth.same_program_pairs(1)})
    print_numbers("Medical Records Specialists", {"programs listed": first.total, "CAHIIM programs on the site": true_count})
    assert len(ids) == len(set(ids)) == first.total
    assert len(keys) == len(set(keys)), [k for k, n in Counter(keys).items() if n > 1][:5]
    assert 0.95 * true_count <= first.total <= true_count
    programs = [_program_key(h.fields) for h in ohio.hits if h.kind == "program"]
    assert programs and len(programs) == len(set(programs))


def test_epoch2_changes_exactly_the_fused_records_affected(history: History) -> None:
    stage = stage_of(history, "epoch2")
    disagreements = truth.source_disagreements(2)
    assert disagreements, "the sample site's epoch 2 has no program whose sources disagree"
    with history.open("epoch2") as cat:
        membership = cat.fused.membership("program")
        observed = cat.changes_since(stage.seq_before, limit=1_000_000)
        fused = [c for c in cat.fused.changes_since(stage.fused_before, limit=1_000_000) if c.kind == "program"]
        touched_observations = {c.item_id for c in observed if c.kind == "program"}
        touched = {membership.get(i) for i in touched_observations} | {
            e for e in (cat.fused.current_id("program", i) for i in touched_observations) if e}
        # only entities whose observations changed are written, each once per crawl that changed it
        assert {c.item_id for c in fused} <= touched | touched_observations
        per_source = Counter((c.item_id, c.source) for c in fused)
        assert max(per_source.values()) == 1, per_source.most_common(3)
        # a status change the directory reports and College Navigator does not yet: one entry, from the directory
        for directory_id, fields in disagreements.items():
            entity = membership[directory_id]
            entries = [c for c in fused if c.item_id == entity]
            status_moves = [c for c in entries if "accreditation_status" in (c.diff or {})]
            if "accreditation_status" in fields:
                assert [c.source for c in status_moves] == ["directory"], entries
                record = cat.fused.get("program", entity)
                assert record.data["accreditation_status"] == fields["accreditation_status"][0]
            conflicts = {c["field"]: c for c in cat.fused.conflicts("program", entity)}
            assert set(conflicts) == set(fields), (directory_id, conflicts, fields)
            for name, (directory_value, navigator_value) in fields.items():
                assert conflicts[name]["source"] == "directory" and conflicts[name]["value"] == directory_value
                assert [o["value"] for o in conflicts[name]["others"]] == [navigator_value]


def test_epoch2_sync_reindexes_only_the_changed_fused_records(history: History, full_index: Settings,
                                                               tmp_path: Path) -> None:
    stage = stage_of(history, "epoch2")
    data = tmp_path / "data"
    shutil.copytree(full_index.data_dir, data)
    for leftover in ("catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (data / leftover).unlink(missing_ok=True)
    shutil.copyfile(stage_of(history, "unchanged").catalog, data / "catalog.sqlite3")
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data)})
    assert sync(settings).changes == 0  # the unchanged recrawl changed no fused record
    shutil.copyfile(stage.catalog, data / "catalog.sqlite3")
    result = sync(settings)
    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        fused = cat.fused.changes_since(stage.fused_before, limit=1_000_000)
    assert result.rebuilt is None and result.changes == len(fused)
    assert result.added + result.updated + result.deleted == len({(c.kind, c.item_id) for c in fused})
