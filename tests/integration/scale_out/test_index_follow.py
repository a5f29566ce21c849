"""`collegesearch index follow` as a real child process: it keeps a node's own index in step with the catalog.

On PostgreSQL a writer's NOTIFY wakes it well before its (long) poll interval; on SQLite it polls.
`status --json` tells how far the index trails the change log and whether a follower runs; SIGTERM
stops the follower with exit code 0; a catalog that is not there yet is retried until it is.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog import Catalog
from collegesearch.config import Settings, load_settings
from tests.integration.scale_out.follow_helpers import FollowerProcess, cli, index_status, wait_until
from tests.unit.indexer.conftest import corpus_items

FIRST = corpus_items()[:8]  # careers and institutions
LATER = corpus_items()[8:]  # programs and reviews (review r2 is the only one about parking)
NOTICE_DEADLINE = 10.0  # seconds; the poll interval in the notice tests is 30 (a margin for a busy machine)


@pytest.fixture
def followers() -> Iterator[list[FollowerProcess]]:
    """Followers a test starts; any still running at the end are killed."""
    started: list[FollowerProcess] = []
    yield started
    for proc in started:
        proc.kill()


def pg_settings_for(tmp_path: Path, url: str) -> Settings:
    return load_settings(env={}, config_file=None, overrides={
        "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": url, "INDEX_BUILD_PROCS": 1})


def write(settings: Settings, items: list) -> None:
    """Store records as a crawl does and fuse them (the fused change log the followers read)."""
    with Catalog(settings.catalog_location) as cat:
        for item in items:
            cat.upsert(item)
        cat.fuse_pending()


def titles(searcher, query: str, kind: str) -> set[str]:
    """Titles of the records of one kind a search finds (not a count: a search may fall back to similar words)."""
    return {hit.title for hit in searcher.search(query, filters={"kind": kind}, per_page=50, facets=False).hits}


def shown_with(searcher, institution: str, kind: str) -> int:
    """Records of a kind that show an institution's name (re-indexed when the institution changed)."""
    found = searcher.search(f'"{institution}"', filters={"kind": kind}, per_page=50, facets=False).hits
    return sum(hit.fields.get("institution_name") == institution for hit in found)


def has_parking_review(searcher) -> bool:
    return "Parking" in titles(searcher, "parking", "review")


def woken_by_notice(log: str) -> int:
    found = re.search(r"woken (\d+) times by a notice", log)
    assert found, log
    return int(found.group(1))


def test_on_postgresql_a_notice_wakes_the_follower_and_status_reports_the_lag(tmp_path, pg_catalog_url, followers):
    from indexer.search import Searcher

    settings = pg_settings_for(tmp_path, pg_catalog_url)
    write(settings, FIRST)
    before = index_status(settings)
    assert before["state"] == "missing" and before["changes_behind"] == len(FIRST)
    assert before["follower"]["running"] is False

    follower = FollowerProcess(settings, tmp_path, poll=30)
    followers.append(follower)
    follower.wait_ready()
    caught_up = index_status(settings)
    assert caught_up["state"] == "ok" and caught_up["doc_count"] == len(FIRST)
    assert caught_up["changes_behind"] == 0 and caught_up["last_sync"]
    assert caught_up["follower"]["running"] is True and caught_up["follower"]["pid"] == follower.popen.pid
    assert caught_up["follower"]["mode"] == "notices and polling"
    text = cli(settings, "status").stdout
    assert "lag: up to date" in text and f"follower running, pid {follower.popen.pid}" in text

    searcher = Searcher(settings, warm_geo=False)
    try:
        assert not has_parking_review(searcher)
        started = time.monotonic()
        write(settings, LATER)
        wait_until(lambda: has_parking_review(searcher), 15, "new review in the follower's index", follower)
        took = time.monotonic() - started
        assert took < NOTICE_DEADLINE, f"caught up in {took:.1f} s: the notice did not wake the follower"
        assert len(titles(searcher, "dietetics", "program")) >= 2  # the programs came with it
        # An update reaches the index too, and so do the records that show it (linked re-indexing).
        started = time.monotonic()
        write(settings, [dataclasses.replace(FIRST[4], name="Piedmont Follower College")])
        wait_until(lambda: "Piedmont Follower College" in titles(searcher, "Piedmont Follower College", "institution"),
                   NOTICE_DEADLINE, "the renamed institution", follower)
        assert shown_with(searcher, "Piedmont Follower College", "program") == 1
        assert shown_with(searcher, "Piedmont Follower College", "review") == 2
        took_update = time.monotonic() - started
        assert took_update < NOTICE_DEADLINE
    finally:
        searcher.close()
    assert index_status(settings)["changes_behind"] == 0

    assert follower.stop() == 0
    log = follower.log()
    assert woken_by_notice(log) >= 2 and "index follow stopped" in log and "Traceback" not in log
    write(settings, [dataclasses.replace(FIRST[5], name="UCLA Renamed While Nobody Follows")])
    stopped = index_status(settings)
    assert stopped["changes_behind"] == 1 and stopped["follower"]["running"] is False
    assert "lag: 1 changes behind" in cli(settings, "status").stdout


def test_on_sqlite_the_follower_polls_and_one_follower_keeps_an_index(tmp_path, settings, followers):
    from indexer.search import Searcher

    write(settings, FIRST)
    assert index_status(settings)["changes_behind"] == len(FIRST)
    follower = FollowerProcess(settings, tmp_path, poll=0.5)
    followers.append(follower)
    follower.wait_ready()
    status = index_status(settings)
    assert status["changes_behind"] == 0 and status["follower"]["mode"] == "polling"

    second = FollowerProcess(settings, tmp_path, poll=0.5)
    followers.append(second)
    assert second.popen.wait(30) == 1
    assert second.err.read_text().strip().splitlines()[-1].startswith("error: another follower keeps ")

    searcher = Searcher(settings, warm_geo=False)
    try:
        write(settings, LATER)
        wait_until(lambda: has_parking_review(searcher), 10, "new review in the follower's index", follower)
    finally:
        searcher.close()
    assert index_status(settings)["changes_behind"] == 0
    assert follower.stop() == 0
    assert woken_by_notice(follower.log()) == 0


def test_a_catalog_database_not_there_yet_or_dropping_connections_is_retried(tmp_path, pg_server, followers):
    from catalog.connection import CatalogConnection
    from catalog.schema_migrations import upgrade
    from indexer.search import Searcher
    from ops.follow import follower_state

    name = f"later_{tmp_path.name[-20:]}".replace("-", "_")
    settings = pg_settings_for(tmp_path, pg_server.url(name))
    follower = FollowerProcess(settings, tmp_path, poll=30)
    followers.append(follower)
    wait_until(lambda: "trying again in" in follower.err.read_text(), 30, "a retry line", follower)
    assert follower.popen.poll() is None

    pg_server.create_database(name)
    conn = CatalogConnection(settings.DATABASE_URL, check_schema=False)
    try:
        upgrade(conn)
    finally:
        conn.close()
    write(settings, FIRST + LATER)
    searcher = Searcher(settings, warm_geo=False)
    try:
        # Until the round that built the index has ended (its first build also caches the ZIP table).
        wait_until(lambda: (follower_state(settings).get("docs") or 0) >= len(FIRST + LATER), 60,
                   "the catalog indexed once it exists", follower)
        assert has_parking_review(searcher)
        # Listening again after the outage: a notice wakes it long before the 30-second poll.
        write(settings, [dataclasses.replace(FIRST[6], name="Columbus Back Online College")])
        wait_until(lambda: "Columbus Back Online College" in titles(searcher, "Columbus Back Online", "institution"),
                   NOTICE_DEADLINE, "a change after the outage, woken by a notice", follower)
        # The server drops every connection of the catalog (a restart, a network cut): the follower
        # reconnects at once, listens again and keeps up without waiting for its 30-second poll.
        pg_server.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                       " AND pid <> pg_backend_pid()")
        wait_until(lambda: follower.err.read_text().count("listening for catalog changes now") == 2, 30,
                   "listening again after the connections were dropped", follower)
        write(settings, [dataclasses.replace(FIRST[7], name="Atlanta Reconnected College")])
        wait_until(lambda: "Atlanta Reconnected College" in titles(searcher, "Atlanta Reconnected", "institution"),
                   NOTICE_DEADLINE, "a change after the connections were dropped", follower)
    finally:
        searcher.close()
    assert follower.stop() == 0
    err = follower.err.read_text()
    assert "lost the connection listening for catalog changes" in err
    retries = [line for line in err.splitlines() if "trying again in" in line]
    assert retries and all("does not exist" in line for line in retries), err
    assert "syncing again after" in err and "listening for catalog changes now" in err
    assert "Traceback" not in err
