"""``collegesearch db``: the shared PostgreSQL catalog's schema (``upgrade``) and moving a catalog into it (``copy``)."""

from __future__ import annotations

import click

from collegesearch.cli_support import UserError, settings_of
from collegesearch.config import Settings


@click.group()
def db() -> None:
    """The catalog database (PostgreSQL in multi-node mode; an SQLite file upgrades itself)."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply the catalog's pending schema migrations (and install the crawl queue's tables in PostgreSQL)."""
    from catalog import Catalog, CatalogError
    from catalog.connection import CatalogConnection
    from catalog.schema_migrations import upgrade

    settings = settings_of(ctx)
    try:
        if not settings.multi_node:
            # An SQLite file migrates itself when opened for writing: opening it is the upgrade.
            with Catalog(settings.catalog_location):
                pass
            click.echo(f"catalog {settings.catalog_path} is up to date")
            return
        conn = CatalogConnection(settings.catalog_location, check_schema=False)
        try:
            before, after = upgrade(conn)
        finally:
            conn.close()
    except CatalogError as exc:
        raise UserError(str(exc)) from None
    where = conn.path
    click.echo(f"catalog {where}: schema revision {before or 'none'} -> {after}" if before != after
               else f"catalog {where} is up to date (schema revision {after})")
    _upgrade_queue(settings)


def _upgrade_queue(settings: Settings) -> None:
    from ops.queue import QueueError, apply_queue_schema

    try:
        created = apply_queue_schema(settings)
    except QueueError as exc:
        raise UserError(str(exc)) from None
    click.echo("crawl queue tables installed" if created else "crawl queue tables are up to date")


@db.command("copy")
@click.option("--from", "source", required=True, type=click.Path(dir_okay=False),
              help="The SQLite catalog file to copy (e.g. DATA_DIR/catalog.sqlite3 of the one-machine install).")
@click.pass_context
def db_copy(ctx: click.Context, source: str) -> None:
    """Copy an SQLite catalog into the (upgraded, empty) PostgreSQL database of DATABASE_URL, in one transaction."""
    from catalog import CatalogError
    from catalog.copy import copy_catalog

    settings = settings_of(ctx)
    if not settings.multi_node:
        raise UserError("db copy needs COLLEGESEARCH_DATABASE_URL (the PostgreSQL database to copy into)")
    try:
        result = copy_catalog(source, str(settings.catalog_location), say=click.echo)
    except CatalogError as exc:
        raise UserError(str(exc)) from None
    click.echo(result.summary())
    click.echo("next: `collegesearch index rebuild` on each web node (or let `index follow` build it)")
