"""Each page's own revisit schedule: how long until it is fetched again, and when that is.

A scheduled crawl fetches only the pages that are due (plus listings, new URLs and pages whose
sitemap ``lastmod`` is newer than their last fetch). ``revisit_seconds`` grows after a fetch that
found the page unchanged and shrinks after one that found it changed, between a minimum and a
maximum per source; ``next_due`` is ``last_fetched + revisit_seconds`` (UTC, ISO 8601 like every
time in the catalog). Both stay empty until a crawl that knows the schedule fetches the page:
an empty ``next_due`` means "due now".

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``revisit_seconds`` and ``next_due`` to pages, with an index for "what falls due next"."""
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("revisit_seconds", sa.Integer))
        batch.add_column(sa.Column("next_due", sa.Text))
    op.create_index("pages_due", "pages", ["source", "next_due"])
