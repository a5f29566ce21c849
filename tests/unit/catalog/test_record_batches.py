"""``Catalog.upsert_batch`` stores what ``upsert_data`` item by item stores: rows, outcomes and change log."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest

from catalog import Catalog
from model.items import Career, Institution, Program, Review


def _clock() -> object:
    ticks = itertools.count()
    return lambda: f"2026-01-01T00:00:{next(ticks):09.6f}Z"


def _career(**kw: object) -> Career:
    base: dict[str, object] = dict(url="https://example.org/ooh/mr.htm", source="bls_ooh", soc_code="29-2072",
                                   title="Medical records specialists", median_pay_annual=50250,
                                   also_known_as=["Coder"])
    base.update(kw)
    return Career(**base)  # type: ignore[arg-type]


def _seed(cat: Catalog) -> None:
    """Stored before the batch: one item to find unchanged, one to change, one tombstoned to revive."""
    cat.upsert(_career(), run_id=1)
    cat.upsert(Institution(url="https://example.org/cn?id=100", source="collegenavigator", unitid="100",
                           name="Old name", state="AL", aliases=["ON"]), run_id=1)
    cat.upsert(Review(url="https://example.org/r/1", source="reviews", review_id="reviews:1",
                      institution_name="Some College", rating=4, body="Good."), run_id=1)
    cat.tombstone("review", "reviews:1", reason="page answered 404", run_id=1)


def _batch() -> list[tuple[dict, str, str | None]]:
    items = [
        _career(),  # unchanged
        Institution(url="https://example.org/cn?id=100", source="collegenavigator", unitid="100",
                    name="New name", state="AL", aliases=["NN", "ON"]),  # changed
        Review(url="https://example.org/r/1", source="reviews", review_id="reviews:1",
               institution_name="Some College", rating=5, body="Better."),  # revived, with a diff
        Program(url="https://example.org/cn?id=100", source="collegenavigator", program_id="p-1",
                institution_unitid="100", institution_name="New name", name="Nursing"),  # new
        Program(url="https://example.org/cn?id=100", source="collegenavigator", program_id="p-1",
                institution_unitid="100", institution_name="New name", name="Nursing (BSN)"),  # the same id again
        Program(url="https://example.org/cn?id=100", source="collegenavigator", program_id="p-1",
                institution_unitid="100", institution_name="New name", name="Nursing (BSN)"),  # and unchanged
        Review(url="https://example.org/r/2", source="reviews", review_id="reviews:2",
               institution_name="Some College", institution_state="AL", rating=3, body="Fine."),  # new
    ]
    pages = ["https://example.org/ooh/mr.htm", None, "https://example.org/r/page", None, None,
             "https://example.org/p2", "https://example.org/r/2"]
    return [(item.to_dict(), item.item_id, page) for item, page in zip(items, pages, strict=True)]


def _dump(cat: Catalog) -> tuple[list[tuple], list[tuple]]:
    items = [tuple(r) for r in cat.conn.execute("SELECT * FROM items ORDER BY kind, item_id").fetchall()]
    changes = [tuple(r) for r in cat.conn.execute(
        "SELECT kind, item_id, op, at, run_id, source, state, title, diff FROM changes ORDER BY seq").fetchall()]
    return items, changes


def test_batch_stores_what_upserting_one_by_one_stores(tmp_path: Path) -> None:
    with Catalog(tmp_path / "one.sqlite3", clock=_clock()) as one, \
            Catalog(tmp_path / "batch.sqlite3", clock=_clock()) as batch:
        _seed(one)
        _seed(batch)
        entries = _batch()
        expected = [one.upsert_data(data, item_id, run_id=2, page_url=page) for data, item_id, page in entries]
        got = batch.upsert_batch(entries, run_id=2)
        assert expected == ["unchanged", "changed", "revived", "new", "changed", "unchanged", "new"]
        assert got == expected
        assert _dump(batch) == _dump(one)


@pytest.mark.both_backends
def test_batch_outcomes_on_either_backend(catalog: Catalog) -> None:
    _seed(catalog)
    assert catalog.upsert_batch(_batch(), run_id=2) == ["unchanged", "changed", "revived", "new", "changed",
                                                        "unchanged", "new"]
    assert catalog.get("program", "p-1").data["name"] == "Nursing (BSN)"  # type: ignore[union-attr]
    assert catalog.upsert_batch([], run_id=3) == []


def test_a_failed_batch_stores_nothing(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite3") as cat:
        _seed(cat)
        entries = _batch()
        broken = dict(entries[3][0])
        del broken["url"]  # every item has a URL: this one cannot be stored
        before = _dump(cat)
        with pytest.raises(KeyError):
            cat.upsert_batch([*entries[:3], (broken, "p-9", None)], run_id=2)
        assert _dump(cat) == before


@pytest.mark.parametrize("item", [
    _career(similar_occupations=["A", "B"], accreditors=[]),
    Institution(url="u", unitid="1", name="N", aliases=["x"], programs_offered=["p"], latitude=1.5, online=True),
    Program(url="u", program_id="p", name="N", institution_name="I"),
    Review(url="u", review_id="r", body="b", rating=5),
])
def test_to_dict_is_asdict_with_kind(item: object) -> None:
    data = item.to_dict()  # type: ignore[attr-defined]
    assert data == {**dataclasses.asdict(item), "kind": item.kind}  # type: ignore[call-overload, attr-defined]
    for name, value in data.items():
        if isinstance(value, list):
            assert value is not getattr(item, name)  # a copy, as asdict gives: the caller may change it


def test_to_dict_copies_unusual_values_deeply() -> None:
    item = _career(also_known_as=[{"title": "nested"}])  # not what a page module yields, but kept intact
    data = item.to_dict()
    assert data["also_known_as"] == [{"title": "nested"}]
    assert data["also_known_as"][0] is not item.also_known_as[0]
