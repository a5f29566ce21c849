"""The catalog as SQLite's numbered steps 1-3 left it: observations, change logs, pages, runs, reviews, fusion.

SQLite files reach this point through ``catalog/migrations.py`` and are stamped here; a new
PostgreSQL database is created by this revision. ``tests/unit/catalog/test_schema_migrations.py``
checks that both roads give the same tables, columns, keys and indexes.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

OPS = "op IN ('new', 'changed', 'deleted', 'revived')"


def _serial(name: str) -> sa.Column:  # type: ignore[type-arg]
    """An autoincrement key: INTEGER PRIMARY KEY AUTOINCREMENT in SQLite, a bigint identity in PostgreSQL."""
    return sa.Column(name, sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True)


def _observation_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("page_url", sa.Text),
        sa.Column("parent_id", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("state", sa.Text),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("first_seen", sa.Text, nullable=False),
        sa.Column("last_seen", sa.Text, nullable=False),
        sa.Column("last_changed", sa.Text, nullable=False),
        sa.Column("last_run_id", sa.Integer),
        sa.Column("missing_runs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("deleted_at", sa.Text),
        sa.Column("deleted_reason", sa.Text),
    ]


def _change_log(name: str) -> None:
    op.create_table(
        name,
        _serial("seq"),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("op", sa.Text, sa.CheckConstraint(OPS), nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("source", sa.Text),
        sa.Column("state", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("diff", sa.Text),
        sqlite_autoincrement=True,
    )
    op.create_index(f"{name}_item", name, ["kind", "item_id"])
    op.create_index(f"{name}_at", name, ["at"])


def upgrade() -> None:
    """Create every table of the catalog (a new database only; SQLite files are stamped)."""
    op.create_table("items", *_observation_columns(), sa.PrimaryKeyConstraint("kind", "item_id"))
    op.create_index("items_page", "items", ["page_url"])
    op.create_index("items_parent", "items", ["parent_id", "kind"])
    op.create_index("items_source", "items", ["source", "kind", "last_run_id"])
    _change_log("changes")
    op.create_table(
        "pages",
        sa.Column("url", sa.Text, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("content_hash", sa.Text),
        sa.Column("content_type", sa.Text),
        sa.Column("encoding", sa.Text),
        sa.Column("body", sa.LargeBinary),
        sa.Column("first_seen", sa.Text, nullable=False),
        sa.Column("last_fetched", sa.Text),
        sa.Column("last_seen", sa.Text),
        sa.Column("last_changed", sa.Text),
        sa.Column("last_run_id", sa.Integer),
        sa.Column("missing_runs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("gone_at", sa.Text),
    )
    op.create_index("pages_source", "pages", ["source", "last_run_id"])
    op.create_table(
        "runs",
        _serial("id"),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("status", sa.Text, sa.CheckConstraint("status IN ('running', 'ok', 'failed', 'interrupted')"),
                  nullable=False),
        sa.Column("started_at", sa.Text, nullable=False),
        sa.Column("finished_at", sa.Text),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.Text),
        sa.Column("complete", sa.Integer, nullable=False, server_default="0"),
        sa.Column("stats", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("index_sync", sa.Text),
        sqlite_autoincrement=True,
    )
    op.create_index("runs_source", "runs", ["source", "id"])
    op.create_table(
        "user_reviews",
        _serial("id"),
        sa.Column("institution_unitid", sa.Text, nullable=False),
        sa.Column("institution_name", sa.Text),
        sa.Column("rating", sa.Integer, sa.CheckConstraint("rating BETWEEN 1 AND 5"), nullable=False),
        sa.Column("category", sa.Text),
        sa.Column("author_role", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.Text, sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')"),
                  nullable=False, server_default="pending"),
        sa.Column("submitted_at", sa.Text, nullable=False),
        sa.Column("client_hash", sa.Text),
        sa.Column("moderated_at", sa.Text),
        sa.Column("moderated_by", sa.Text),
        sa.Column("moderation_note", sa.Text),
        sqlite_autoincrement=True,
    )
    op.create_index("user_reviews_status", "user_reviews", ["status", "id"])
    op.create_index("user_reviews_client", "user_reviews", ["client_hash", "submitted_at"])
    op.create_table(
        "entity_links",
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("city", sa.Text),
        sa.Column("state", sa.Text),
        sa.Column("unitid", sa.Text),
        sa.Column("confidence", sa.Float),
        sa.Column("status", sa.Text, sa.CheckConstraint("status IN ('matched', 'ambiguous', 'unmatched')"),
                  nullable=False),
        sa.Column("candidates", sa.Text),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("source", "entity_id"),
    )
    op.create_table("meta", sa.Column("key", sa.Text, primary_key=True), sa.Column("value", sa.Text))
    op.create_table(
        "schedule_events",
        _serial("id"),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("run_id", sa.Integer),
        sqlite_autoincrement=True,
    )
    op.create_index("schedule_events_source", "schedule_events", ["source", "id"])
    op.create_index("schedule_events_event", "schedule_events", ["event", "id"])
    op.create_table(
        "entities",
        *_observation_columns(),
        sa.Column("fusion_key", sa.Text, nullable=False),
        sa.Column("primary_item", sa.Text),
        sa.Column("provenance", sa.Text),
        sa.Column("conflicts", sa.Text),
        sa.PrimaryKeyConstraint("kind", "item_id"),
    )
    op.create_index("entities_parent", "entities", ["parent_id", "kind"])
    op.create_index("entities_key", "entities", ["kind", "fusion_key"], unique=True)
    op.create_table(
        "entity_members",
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("live", sa.Integer, nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("kind", "item_id"),
    )
    op.create_index("entity_members_entity", "entity_members", ["kind", "entity_id", "live"])
    _change_log("entity_changes")
    op.create_index("entity_changes_run", "entity_changes", ["run_id", "op"])
    op.create_table(
        "entity_aliases",
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("old_id", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("kind", "old_id"),
    )
