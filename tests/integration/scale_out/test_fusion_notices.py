"""Writers of the fused change log wake listeners at commit, and several fusers share one PostgreSQL catalog safely."""

from __future__ import annotations

import threading

import pytest

from catalog import Catalog
from catalog.change_notices import ChangeNotices, notify_changes
from model.items import Institution


def institution(n: int) -> Institution:
    return Institution(url=f"https://nav.example/?id={n}", source="collegenavigator", unitid=str(1000 + n),
                       name=f"Follower Test College {n}", state="OH")


def test_a_notice_arrives_when_the_transaction_commits_and_never_when_it_rolls_back(pg_catalog_url):
    with ChangeNotices(pg_catalog_url) as notices, Catalog(pg_catalog_url) as cat:
        notices.listen()
        assert not notices.wait(0.2)
        try:
            with cat.transaction():
                notify_changes(cat.conn)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert not notices.wait(0.5)
        with cat.transaction():
            notify_changes(cat.conn)
            assert not notices.wait(0.3)  # not before the commit
        assert notices.wait(5)
        assert not notices.wait(0.2)  # taken once


def test_fusion_that_changes_entities_sends_one_notice_and_idle_fusion_none(pg_catalog_url):
    with ChangeNotices(pg_catalog_url) as notices, Catalog(pg_catalog_url) as cat:
        notices.listen()
        for n in range(3):
            cat.upsert(institution(n))
        assert not notices.wait(0.3)  # observations alone: the fused log has not changed yet
        assert cat.fuse_pending().entities == {"new": 3}
        assert notices.wait(5)
        assert not notices.wait(0.2)
        assert cat.fuse_pending().observations == 0
        assert not notices.wait(0.5)


def test_notices_need_postgresql(tmp_path):
    with pytest.raises(ValueError, match="polled"):
        ChangeNotices(str(tmp_path / "catalog.sqlite3"))


def test_concurrent_fusers_take_turns(pg_catalog_url):
    # Every node's follower fuses before it syncs: two fusing at once once hit duplicate entity keys.
    with Catalog(pg_catalog_url) as cat:
        for n in range(300):
            cat.upsert(institution(n))
    errors: list[str] = []

    def fuse() -> None:
        try:
            with Catalog(pg_catalog_url) as other:
                other.fuse_pending(batch_size=50)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(exc))

    threads = [threading.Thread(target=fuse) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with Catalog(pg_catalog_url, readonly=True) as cat:
        assert not errors
        assert len(cat.fused.changes_since(0, limit=1000)) == 300  # each entity logged once
