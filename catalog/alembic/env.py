"""Alembic's environment for the catalog: runs on the connection the catalog hands it (see ``schema_migrations``)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the catalog always passes its connection
    raise RuntimeError("run the catalog's migrations with `collegesearch db upgrade`, not the alembic command")
context.configure(connection=connection, target_metadata=None, render_as_batch=connection.dialect.name == "sqlite",
                  transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
