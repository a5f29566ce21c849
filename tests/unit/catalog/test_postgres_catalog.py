"""The catalog on PostgreSQL: `db upgrade` makes the schema, the same reads and writes work, the schema is checked on open."""

from __future__ import annotations

import pytest

from catalog import Catalog, CatalogError
from catalog.connection import CatalogConnection
from catalog.schema_migrations import head, upgrade
from model.items import Career, Review


def test_a_new_database_is_refused_until_upgraded_then_opens(pg_url):
    with pytest.raises(CatalogError, match="run `collegesearch db upgrade`"):
        Catalog(pg_url)
    conn = CatalogConnection(pg_url, check_schema=False)
    try:
        assert upgrade(conn) == (None, head())
        assert upgrade(conn) == (head(), head())  # a second upgrade changes nothing
    finally:
        conn.close()
    with Catalog(pg_url) as cat:
        assert cat.count() == 0


def test_a_database_at_an_unknown_newer_revision_is_refused(pg_catalog_url, pg_server):
    dbname = pg_catalog_url.split("@/")[1].split("?")[0]
    pg_server.psql("UPDATE alembic_version SET version_num = '9999'", dbname)
    with pytest.raises(CatalogError, match="newer than this program"):
        Catalog(pg_catalog_url)


def test_upsert_change_log_and_reads_on_postgres(pg_catalog_url):
    with Catalog(pg_catalog_url) as cat:
        career = Career(url="https://ooh.example/mr", source="bls_ooh", soc_code="29-2072",
                        title="Medical records specialists", median_pay_annual=50250)
        assert cat.upsert(career) == "new"
        assert cat.upsert(career) == "unchanged"
        career.median_pay_annual = 51000
        assert cat.upsert(career) == "changed"
        for i in range(3):
            cat.upsert(Review(url=f"https://r.example/{i}", review_id=f"r{i}", institution_unitid="100",
                              rating=2 + i, title=f"T{i}", body="Good labs."))
        stored = cat.get("career", career.item_id)
        assert stored is not None and stored.data["median_pay_annual"] == 51000
        assert cat.rating_stats("100")["100"]["count"] == 3
        assert [c.op for c in cat.item_history("career", career.item_id)] == ["new", "changed"]
        changes = cat.changes_since(0)
        assert len(changes) == 5 and all(c.xid is not None for c in changes)
        pay = cat.change_feed(fields=["median_pay_annual"])
        assert [c.op for c in pay] == ["changed"]
        summary = cat.change_summary(field_groups={"pay": ["median_pay_annual"]})
        assert sum(row["field_counts"]["pay"] for row in summary) == 1
        assert cat.tombstone("review", "r0", reason="gone")
        assert cat.count("review") == 2
        assert {s.item_id for s in cat.children("100", "review", order="newest")} == {"r1", "r2"}
        assert len(cat.children("100", "review", where_json={"rating": 4})) == 1
