"""Every Whoosh internal that ``indexer.engine.internals`` relies on, checked against Whoosh's public API.

If a Whoosh upgrade renames or changes one of them, the test named after it fails here, instead of
the search silently slowing down (a fast path no longer taken) or returning wrong documents.
"""

from __future__ import annotations

from array import array

import pytest
import whoosh
from whoosh import fields as wf
from whoosh import index as whoosh_index

from indexer.engine import internals, open_writer

WORDS = ["nursing", "radiography", "dental", "hygiene", "records"]


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    """An index of three segments (the first with >2 posting blocks of one term) and some deletions."""
    schema = wf.Schema(id=wf.ID(stored=True, unique=True), body=wf.TEXT(stored=True),
                       rating=wf.NUMERIC(float, stored=True, sortable=True),
                       count=wf.NUMERIC(int, sortable=True), title=wf.ID(sortable=True))
    path = tmp_path_factory.mktemp("whoosh-internals")
    index = whoosh_index.create_in(str(path), schema)
    n = 0
    for size in (2_600, 40, 7):
        writer = open_writer(index)
        for _ in range(size):
            body = " ".join(WORDS[: 1 + n % len(WORDS)] * (1 + n % 3))
            writer.add_document(id=f"d{n}", body=body, rating=(n % 50) / 10, count=n, title=f"t{n:05d}")
            n += 1
        writer.commit(merge=False)
    writer = open_writer(index)
    for doc in ("d3", "d2601", "d2645"):
        writer.delete_by_term("id", doc)
    writer.commit(merge=False)
    yield index
    index.close()


def test_the_tested_whoosh_version_is_installed():
    assert whoosh.versionstring() == internals.WHOOSH_TESTED, (
        f"Whoosh {whoosh.versionstring()} is installed; indexer/engine/internals.py was checked against "
        f"{internals.WHOOSH_TESTED}: run this file, fix what fails, then update WHOOSH_TESTED")


def test_latest_toc_generation_and_toc_files(ix):
    assert internals.latest_toc_generation(ix.storage) == ix.latest_generation()
    assert internals.toc_file_name(ix.latest_generation()) in set(ix.storage.list())
    toc = internals.read_toc_at(ix.storage, ix.latest_generation())
    assert [s.segment_id() for s in toc.segments] == [s.segment_id() for s in internals.segments_of(ix)]
    assert internals.INDEX_NAME == ix.indexname


def test_read_toc_and_a_reader_over_exactly_its_segments(ix):
    toc = internals.read_toc(ix)
    assert toc.generation == ix.latest_generation() and len(toc.segments) == 3
    pinned = internals.reader_for_toc(ix, toc)
    with ix.reader() as public:
        assert pinned.doc_count_all() == public.doc_count_all() == 2_647
        assert pinned.doc_count() == public.doc_count() == 2_644
        assert [s.segment_id() for s, _o in ((r.segment(), o) for r, o in pinned.leaf_readers())] == [
            s.segment_id() for s in toc.segments]
    pinned.close()


def test_segments_expose_their_deletions(ix):
    with ix.reader() as reader:
        deleted = {offset + d for leaf, offset in reader.leaf_readers() for d in leaf.segment().deleted_docs()}
        assert deleted == {d for d in range(reader.doc_count_all()) if reader.is_deleted(d)} == {3, 2601, 2645}


def test_postings_decode_a_block_at_a_time_and_match_the_public_matcher(ix):
    with ix.reader() as reader:
        for leaf, offset in reader.leaf_readers():
            for word in WORDS:
                if ("body", word) not in leaf:
                    continue
                matcher = leaf.postings("body", word)
                assert internals.postings_fast_path(matcher), "Whoosh's block decoding internals changed"
                ids, freqs = array("I"), array("f")
                internals.read_postings(matcher, offset, ids, freqs)
                # deleted documents stay in (the search removes them with its live mask)
                live = [(d, f) for d, f in zip(ids, freqs, strict=True) if not leaf.is_deleted(d - offset)]
                public = list(leaf.postings("body", word).items_as("weight"))
                assert [d for d, _f in live] == [offset + d for d, _w in public]
                assert [f for _d, f in live] == [w for _d, w in public]
        assert len(list(reader.leaf_readers()[0][0].postings("body", "nursing").all_ids())) > 2 * 1024


def test_numeric_columns_are_read_in_one_go_and_match_the_public_reader(ix):
    with ix.reader() as reader:
        for leaf, _offset in reader.leaf_readers():
            count = leaf.doc_count_all()
            for name in ("rating", "count"):
                column = leaf.column_reader(name, translate=False)
                assert internals.column_fast_path(column), f"Whoosh's numeric column internals changed ({name})"
                assert list(internals.column_values(column, count)) == list(column)
            titles = leaf.column_reader("title", translate=False)
            assert not internals.column_fast_path(titles)
            assert internals.column_values(titles, count) == list(titles)


def test_field_lengths_come_from_the_length_column_and_match_the_public_lengths(ix):
    with ix.reader() as reader:
        for leaf, _offset in reader.leaf_readers():
            assert internals.length_column(leaf, "body") is not None, "Whoosh's length column internals changed"
            lengths = internals.field_lengths(leaf, "body")
            assert list(lengths) == [leaf.doc_field_length(d, "body", 0) for d in range(leaf.doc_count_all())]


def test_school_and_field_reads_a_school_name_with_a_field_in_either_order() -> None:
    from indexer.rank import name_key, school_and_field

    uga, nursing = ("University of Georgia",), name_key("Nursing")
    assert nursing is not None
    assert school_and_field(name_key("University of Georgia nursing") or (), uga, nursing)
    assert school_and_field(name_key("nursing University of Georgia") or (), uga, nursing)
    assert not school_and_field(name_key("University of Georgia") or (), uga, nursing)  # the school alone
    assert not school_and_field(name_key("Georgia nursing") or (), uga, nursing)  # part of the name
    assert not school_and_field(name_key("University of Georgia practical nursing") or (), uga, nursing)
    assert school_and_field(name_key("Ohio State University nursing") or (), ("Ohio State University-Main Campus",),
                            nursing)  # the flagship's campus suffix is not part of the name a student types
    # an alias of the school counts as its name: IPEDS's own ("UGA") or the system brand the index derives
    psu = ("Pennsylvania State University-Main Campus", "Penn State")
    assert school_and_field(name_key("Penn State nursing") or (), psu, nursing)
    assert school_and_field(name_key("nursing Pennsylvania State University") or (), psu, nursing)
    assert not school_and_field(name_key("Penn nursing") or (), psu, nursing)
    # ...but not a one-word alias: IPEDS's "Tech" for Louisiana Tech; as the school's own name it would count
    pharmacy = name_key("Pharmacy")
    assert pharmacy is not None
    assert not school_and_field(name_key("pharmacy tech") or (), ("Louisiana Tech University", "Tech"), pharmacy)
    assert school_and_field(name_key("pharmacy tech") or (), ("Tech",), pharmacy)


def test_only_a_distinctive_alias_stands_for_a_school_beside_a_field() -> None:
    from indexer.rank import distinctive_alias

    assert distinctive_alias("Penn State") and distinctive_alias("UGA") and distinctive_alias("LA Tech")
    # IPEDS lists "Tech" for Louisiana Tech: "pharmacy tech" is the career, not that school's Pharmacy program
    assert not distinctive_alias("Tech") and not distinctive_alias("tech") and not distinctive_alias("U")
    assert not distinctive_alias(None) and not distinctive_alias("")
