"""`collegesearch db upgrade` and `db copy`: a new PostgreSQL catalog, and a one-machine catalog moved into it."""

from __future__ import annotations

from catalog import Catalog
from indexer.build import rebuild
from indexer.search import Searcher
from model.items import Review
from tests.security.support import assert_one_line_error, child_env, run_cli
from tests.unit.indexer.conftest import fill, make_settings


def _rows(cat: Catalog) -> dict[str, list[tuple]]:
    """Every table's rows (without the PostgreSQL-only transaction ids), sorted."""
    tables = ("items", "changes", "entities", "entity_members", "entity_changes", "entity_aliases", "entity_links",
              "runs", "pages", "user_reviews", "meta", "schedule_events")
    out = {}
    for table in tables:
        rows = [dict(r) for r in cat.conn.execute(f"SELECT * FROM {table}")]  # noqa: S608 - constants
        out[table] = sorted(tuple(sorted((k, v) for k, v in r.items() if k != "xid")) for r in rows)
    return out


def test_upgrade_then_copy_moves_every_row_and_the_copy_serves_the_same_search(tmp_path, pg_url):
    local = make_settings(tmp_path / "one")
    with Catalog(local.catalog_path) as cat:
        fill(cat)
        run = cat.start_run("reviews")
        cat.finish_run(run, status="ok", stats={"pages": 1}, complete=True)
        cat.add_user_review(institution_unitid="100", institution_name="Example", rating=4, body="Fine labs.",
                            client_hash="c1")
    env = child_env(tmp_path / "multi", DATABASE_URL=pg_url)

    refused = run_cli(["db", "copy", "--from", local.catalog_path], env)
    assert_one_line_error(refused, "db upgrade")

    up = run_cli(["db", "upgrade"], env)
    assert up.returncode == 0, up.describe()
    assert "schema revision none ->" in up.stdout
    again = run_cli(["db", "upgrade"], env)
    assert again.returncode == 0 and "up to date" in again.stdout, again.describe()

    copied = run_cli(["db", "copy", "--from", local.catalog_path], env)
    assert copied.returncode == 0, copied.describe()
    assert "copied" in copied.stdout
    with Catalog(local.catalog_path, readonly=True) as src, Catalog(pg_url) as dst:
        assert _rows(dst) == _rows(src)
        # keys continue after the copied ones
        top = dst.max_change_seq()
        dst.upsert(Review(url="https://r.example/new", review_id="new1", institution_unitid="100", rating=5,
                          title="New", body="After the move."))
        assert dst.max_change_seq() == top + 1
        assert dst.start_run("reviews") > max(r.id for r in src.list_runs())

    twice = run_cli(["db", "copy", "--from", local.catalog_path], env)
    assert_one_line_error(twice, "not empty")

    # the moved catalog indexes to the same results as the original
    moved = local.replace(DATABASE_URL=pg_url, DATA_DIR=str(tmp_path / "multi"))
    with Catalog(pg_url) as dst:
        dst.tombstone("review", "new1", reason="test")
        dst.fuse_pending()
    rebuild(local)
    rebuild(moved)
    a, b = Searcher(local), Searcher(moved)
    try:
        for q in ("nursing", "medical records", "", "college"):
            ra, rb = a.search(q, per_page=50), b.search(q, per_page=50)
            assert [h.id for h in ra.hits] == [h.id for h in rb.hits] and ra.total == rb.total, q
    finally:
        a.close()
        b.close()


def test_db_commands_without_a_database_url(tmp_path):
    env = child_env(tmp_path / "data")
    up = run_cli(["db", "upgrade"], env)
    assert up.returncode == 0 and "up to date" in up.stdout, up.describe()
    assert_one_line_error(run_cli(["db", "copy", "--from", tmp_path / "x.sqlite3"], env), "DATABASE_URL")


def test_a_missing_or_unreachable_database_is_one_line(tmp_path, pg_server):
    env = child_env(tmp_path / "data", DATABASE_URL=pg_server.url("no_such_db"))
    assert_one_line_error(run_cli(["db", "upgrade"], env), "no_such_db")
    bad = child_env(tmp_path / "data", DATABASE_URL="mysql://x@y/z")
    assert_one_line_error(run_cli(["db", "upgrade"], bad), "PostgreSQL URL")
