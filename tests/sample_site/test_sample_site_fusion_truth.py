"""College Navigator lags the CAHIIM directory one epoch, and the truth fusion needs: same-program pairs, disagreements."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from sample_site import epochs, pages_cn, pages_directory, truth
from sample_site import site as site_mod
from sample_site.util import mdy

BASE = truth.default_base_urls()
FIELDS = ("accreditation_status", "accredited_since", "next_review")


def _programs(epoch: int, source: str) -> dict[str, dict]:
    return {k: v for k, v in truth.expected_items(epoch)["program"].items() if v["source"] == source}


def _dir_to_cn(epoch: int) -> dict[str, str]:
    return {d: c for c, d in truth.same_program_pairs(epoch)}


def _get(epoch: int, source: str, path_query: str) -> bytes:
    path, _, query = path_query.partition("?")
    resp = site_mod.Site(epoch, False, BASE, single_host=False).respond("GET", BASE[source].removeprefix("http://"), path, query)
    assert resp.status == 200, path_query
    return resp.body


def _text(node) -> str:
    return " ".join(node.text_content().split())


def _cn_row(epoch: int, unitid: str, name: str) -> tuple[str, str]:
    """(Status cell, Next Review cell) of a program's row on its College Navigator profile."""
    doc = lxml_html.fromstring(_get(epoch, "collegenavigator", f"/collegenavigator/?id={unitid}"))
    rows = [tr.xpath("./td") for tr in doc.xpath("//div[@id='accred']//table")[1].xpath(".//tr[contains(@class,'level1indent')]")]
    hits = [(_text(c[1]), _text(c[2])) for c in rows if " ".join(" ".join(c[0].xpath("./text()")).split()) == name]
    assert len(hits) == 1, (unitid, name)
    return hits[0]


def _plain(markup: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", markup).split())


@pytest.mark.parametrize("epoch", [2, 3, 4])
def test_college_navigator_shows_what_the_directory_showed_the_epoch_before(epoch):
    """Stated on the truth items alone: CN at N = directory at N-1 (a program new at N: directory at N)."""
    cn, before, now = _programs(epoch, "collegenavigator"), _programs(epoch - 1, "directory"), _programs(epoch, "directory")
    pairs = _dir_to_cn(epoch)
    assert set(pairs) == set(now)
    lagging = 0
    for dir_id, cn_id in pairs.items():
        shown = {f: cn[cn_id][f] for f in FIELDS}
        source = before.get(dir_id, now[dir_id])
        assert shown == {f: source[f] for f in FIELDS}, dir_id
        lagging += shown != {f: now[dir_id][f] for f in FIELDS}
    # Each epoch changes CAHIIM_CHANGES_PER_EPOCH programs (and the general status changes may add one).
    assert lagging >= epochs.CAHIIM_CHANGES_PER_EPOCH


def test_a_program_changed_at_epoch_2_lags_on_college_navigator_and_catches_up_at_epoch_3():
    one, two, three = epochs.state(1), epochs.state(2), epochs.state(3)
    changed = sorted(pid for pid, p in two.programs.items() if p.cahiim_id is not None and pid in one.programs and one.programs[pid] != p)
    assert len(changed) >= epochs.CAHIIM_CHANGES_PER_EPOCH
    cn2, cn3 = _programs(2, "collegenavigator"), _programs(3, "collegenavigator")
    dir2 = _programs(2, "directory")
    status_changed = []
    for pid in changed:
        old, new = one.programs[pid], two.programs[pid]
        dir_id = f"cahiim-{new.cahiim_id}"
        assert cn2[pid]["accreditation_status"] == old.status and dir2[dir_id]["accreditation_status"] == new.status
        assert cn2[pid]["next_review"] == (old.next_review.isoformat() if old.next_review else None)
        # Epoch 3: College Navigator shows the epoch-2 state (whether or not the program changed again at 3).
        assert cn3[pid]["accreditation_status"] == new.status
        assert cn3[pid]["next_review"] == (new.next_review.isoformat() if new.next_review else None)
        assert cn3[pid]["accredited_since"] == new.since.isoformat()
        if three.programs[pid] == new:
            assert {f: cn3[pid][f] for f in FIELDS} == {f: _programs(3, "directory")[dir_id][f] for f in FIELDS}
        if old.status != new.status:
            status_changed.append(pid)
    # Epoch 2 already has a status disagreement (when written: three programs went from accredited to
    # probation or heightened monitoring, e.g. cahiim-1006 probation in the directory, accredited on CN).
    assert status_changed


def test_the_rendered_pages_show_the_lag():
    """The pages, not only the truth: CN profile with the old status cell, directory page with the new status."""
    one, two = epochs.state(1), epochs.state(2)
    assert two.cn_lag, "no CAHIIM program lags at epoch 2"
    for pid, old in sorted(two.cn_lag.items()):
        new = two.programs[pid]
        assert old == one.programs[pid] and old != new
        status, next_review = _cn_row(2, new.unitid, new.name)
        assert status == _plain(pages_cn.status_text(old))
        assert next_review == (mdy(old.next_review) if old.next_review else "")
        if old.status != new.status:
            assert status != _plain(pages_cn.status_text(new))
        detail = lxml_html.fromstring(_get(2, "directory", f"/cahiim/program-directory/program/{new.cahiim_id}"))
        assert _text(detail.xpath("//dd[@class='status']")[0]) == pages_directory.STATUS_TEXT[new.status]
        # Epoch 3 catches up unless the program changed again.
        three = epochs.state(3)
        status3, _next3 = _cn_row(3, new.unitid, new.name)
        assert status3 == _plain(pages_cn.status_text(three.cn_view(three.programs[pid])))
        assert status3 == _plain(pages_cn.status_text(new))


def test_new_and_non_cahiim_programs_do_not_lag():
    one, two = epochs.state(1), epochs.state(2)
    new_dir = set(_programs(2, "directory")) - set(_programs(1, "directory"))
    assert len(new_dir) == 1
    pairs, disagreements = _dir_to_cn(2), truth.source_disagreements(2)
    (new_id,) = new_dir
    assert new_id in pairs and new_id not in disagreements
    assert pairs[new_id] not in one.programs
    # The general status changes and closures of other programs show on College Navigator at once.
    cn2 = _programs(2, "collegenavigator")
    changed = [pid for pid, p in two.programs.items()
               if p.cahiim_id is None and pid in one.programs and one.programs[pid] != p and p.unitid in two.present]
    assert len(changed) >= epochs.STATUS_CHANGES_PER_EPOCH
    for pid in changed:
        assert cn2[pid]["accreditation_status"] == two.programs[pid].status
    assert all(p.cahiim_id is not None for p in two.cn_lag.values())


def test_same_program_pairs_link_every_directory_entry_to_its_college_navigator_row():
    for epoch in (1, 2):
        pairs = truth.same_program_pairs(epoch)
        cn, directory = _programs(epoch, "collegenavigator"), _programs(epoch, "directory")
        assert len(pairs) == len(directory) == truth.counts(epoch)["cahiim_programs"]
        assert len({c for c, _d in pairs}) == len({d for _c, d in pairs}) == len(pairs)
        present = epochs.state(epoch).present
        for cn_id, dir_id in pairs:
            assert cn[cn_id]["institution_unitid"] == directory[dir_id]["institution_unitid"] in present
            assert cn[cn_id]["accreditor"] == directory[dir_id]["accreditor"] == "CAHIIM"
            assert cn[cn_id]["degree_level"] == directory[dir_id]["degree_level"]
            assert cn[cn_id]["delivery"] == directory[dir_id]["delivery"]
        # Every CAHIIM row on College Navigator is paired.
        assert {k for k, v in cn.items() if v["accreditor"] == "CAHIIM"} == {c for c, _d in pairs}
    assert len(truth.same_program_pairs(1)) == 245


def test_source_disagreements_are_exactly_the_lagging_rows():
    assert truth.source_disagreements(1) == {}
    for epoch in (2, 3, 4):
        st = epochs.state(epoch)
        found = truth.source_disagreements(epoch)
        cn, directory = _programs(epoch, "collegenavigator"), _programs(epoch, "directory")
        for dir_id, cn_id in _dir_to_cn(epoch).items():
            diff = {f: (directory[dir_id][f], cn[cn_id][f]) for f in FIELDS if directory[dir_id][f] != cn[cn_id][f]}
            assert found.get(dir_id, {}) == diff, dir_id
        assert set(found) <= {f"cahiim-{st.programs[pid].cahiim_id}" for pid in st.cn_lag}
        assert all(found.values())
    # A status conflict appears already at epoch 2 (see the test above for which kind).
    assert any("accreditation_status" in d for d in truth.source_disagreements(2).values())


def test_fused_program_count_counts_a_pair_once():
    for epoch in (1, 2):
        c = truth.counts(epoch)
        pairs = truth.same_program_pairs(epoch)
        assert c["fused_programs"] == c["programs_collegenavigator"] + c["cahiim_programs"] - len(pairs)
        # Every directory entry is also a College Navigator row, so fusing adds nothing to CN's count.
        assert c["fused_programs"] == c["programs_collegenavigator"]
