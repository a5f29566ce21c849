"""What every web node must share in multi-node mode: login attempts per client and live admin sessions.

On one machine these stay small files under DATA_DIR (``webapp/security.py``); with a shared
PostgreSQL catalog every web node reads and writes them here (``catalog/web_state.py``), so a
rate limit counts a client's attempts on all nodes and a logout ends the session everywhere.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the rate-limit and admin-session tables."""
    op.create_table(
        "rate_limit_hits",
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("rate_limit_hits_client", "rate_limit_hits", ["scope", "client", "at"])
    op.create_table(
        "admin_sessions",
        sa.Column("sid", sa.Text, primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
