"""The catalog connection of one request, kept on ``g`` and closed in teardown (Flask tutorial ``db.py``)."""

from __future__ import annotations

from flask import Flask, current_app, g

from catalog import Catalog, CatalogError
from collegesearch.config import Settings
from webapp.config_error import AppConfigError


def init_app(app: Flask) -> None:
    """Make sure the catalog file exists and is migrated, and close connections after each request."""
    settings = app.config["SETTINGS"]
    try:
        # Opening for writing creates and migrates the file once, before workers read it read-only
        # (a PostgreSQL catalog is upgraded by `collegesearch db upgrade`; opening checks it is current).
        Catalog(settings.catalog_location).close()
    except CatalogError as exc:
        if not settings.catalog_exists or settings.multi_node:
            raise AppConfigError(str(exc)) from None
        # An existing catalog on a read-only mount still serves pages; only writes will fail.
    app.teardown_appcontext(close_db)


def get_catalog() -> Catalog:
    """A read-only connection for this request (pages never write by accident)."""
    if "catalog" not in g:
        g.catalog = Catalog(current_app.config["SETTINGS"].catalog_location, readonly=True)
    return g.catalog


def get_writer() -> Catalog:
    """A writable connection for this request (reviews, moderation)."""
    if "catalog_writer" not in g:
        g.catalog_writer = Catalog(current_app.config["SETTINGS"].catalog_location)
    return g.catalog_writer


def close_db(exc: BaseException | None = None) -> None:
    """Close whatever connections this request opened."""
    for name in ("catalog", "catalog_writer"):
        conn = g.pop(name, None)
        if conn is not None:
            conn.close()


def shared_secret_key(settings: Settings) -> str:
    """The signing key every web node of a multi-node deployment shares (kept in the catalog database)."""
    try:
        with Catalog(settings.catalog_location) as cat:
            return cat.shared_secret_key()
    except CatalogError as exc:
        raise AppConfigError(str(exc)) from None
