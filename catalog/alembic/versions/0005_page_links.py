"""Each page's outgoing links as its crawl last read them, so a scheduled crawl can skip a page that is not due.

A page with records that also leads to other pages (a school's first review page and its
later review pages) used to be read back from the page cache and parsed on every scheduled
crawl, only to find its links again. ``links`` keeps them: a JSON list of ``[url, priority,
leaf]`` written when the crawl parsed the page, for the pages whose links the spider could
describe that way; empty when unknown (the page is then read from the cache as before).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``links`` to pages."""
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("links", sa.Text))
