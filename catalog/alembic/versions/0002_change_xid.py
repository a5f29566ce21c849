"""Change logs record the writing transaction's id, so a follower never skips a change that committed late.

PostgreSQL takes a sequence value when a row is inserted, not when it commits: a follower that
read ``seq > watermark`` could pass over a smaller ``seq`` still uncommitted. Each change row
now carries ``pg_current_xact_id()`` (filled by the column default, so the INSERTs stay the same
on both databases), and followers read only changes of transactions older than every one still
running (``catalog/changes.py``). SQLite has one writer at a time and leaves the column empty.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHANGE_LOGS = ("changes", "entity_changes")


def upgrade() -> None:
    """Add ``xid`` to both change logs (with its default and an index in PostgreSQL)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in CHANGE_LOGS:
        default = sa.text("pg_current_xact_id()::text::bigint") if postgres else None
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("xid", sa.BigInteger, server_default=default))
        if postgres:
            op.create_index(f"{table}_xid", table, ["xid", "seq"])
