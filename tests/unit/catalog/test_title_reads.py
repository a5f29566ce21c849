"""Reads by title (``titles_starting``, ``ids_by_title``): how the indexer finds a system's campuses and flagship."""

from __future__ import annotations

import pytest

from model.items import Institution


def _school(unitid: str, name: str) -> Institution:
    return Institution(url=f"https://nav.example/?id={unitid}", source="collegenavigator", unitid=unitid, name=name)


@pytest.mark.both_backends
def test_titles_starting_is_an_exact_case_kept_prefix_with_like_wildcards_escaped(catalog):
    for unitid, name in (("1", "Keystone State University-Main Campus"), ("2", "Keystone State University-KSU York"),
                         ("3", "keystone state university-lowercase"), ("4", "Keystone_State University-Other"),
                         ("5", "Keystone%State University-Percent"), ("6", "Keystone State Universit\\y-Backslash")):
        catalog.upsert(_school(unitid, name))
    fused = catalog.fused
    catalog.fuse_pending()
    assert fused.titles_starting("institution", "Keystone State University-") == [
        "Keystone State University-KSU York", "Keystone State University-Main Campus"]
    # "_" and "%" are LIKE wildcards: here they are only themselves
    assert fused.titles_starting("institution", "Keystone_State") == ["Keystone_State University-Other"]
    assert fused.titles_starting("institution", "Keystone%State") == ["Keystone%State University-Percent"]
    assert fused.titles_starting("institution", "Keystone State Universit\\y") == [
        "Keystone State Universit\\y-Backslash"]
    assert fused.titles_starting("program", "Keystone") == []


@pytest.mark.both_backends
def test_ids_by_title_finds_live_records_by_exact_title(catalog):
    catalog.upsert(_school("10", "Keystone State University-Main Campus"))
    catalog.upsert(_school("11", "Keystone State University-KSU York"))
    catalog.fuse_pending()
    found = catalog.fused.ids_by_title("institution", ["Keystone State University-Main Campus",
                                                      "keystone state university-main campus", "Nowhere-Main Campus"])
    assert found == {"Keystone State University-Main Campus": "10"}
    many = [f"Title {n}" for n in range(1200)] + ["Keystone State University-KSU York"]  # past one IN list of 500
    assert catalog.fused.ids_by_title("institution", many) == {"Keystone State University-KSU York": "11"}
