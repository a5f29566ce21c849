"""Fixtures of the crawl-queue tests: a PostgreSQL catalog with the queue's tables, and processes stopped after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collegesearch.config import load_settings
from tests.integration.scale_out.queue_helpers import Proc


@pytest.fixture
def queue_url(pg_catalog_url: str, tmp_path) -> str:
    """A database upgraded to the catalog's schema, with the crawl queue's tables (what `db upgrade` makes)."""
    from ops.queue import apply_queue_schema

    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(tmp_path / "data"),
                                                                   "DATABASE_URL": pg_catalog_url})
    assert apply_queue_schema(settings) is True
    return pg_catalog_url


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    """Workers and schedulers a test starts; any still running at the end are killed."""
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.kill()
