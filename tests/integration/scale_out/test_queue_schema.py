"""The crawl queue's tables: installed once in the catalog database, whoever asks and however often."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from collegesearch.config import load_settings
from ops.queue import QueueError, apply_queue_schema


def test_apply_queue_schema_is_safe_twice_and_at_once(pg_catalog_url, tmp_path):
    from catalog import Catalog

    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(tmp_path),
                                                                   "DATABASE_URL": pg_catalog_url})
    with ThreadPoolExecutor(3) as pool:
        installed = list(pool.map(lambda _: apply_queue_schema(settings), range(3)))
    assert sorted(installed) == [False, False, True]
    assert apply_queue_schema(settings) is False
    with Catalog(pg_catalog_url) as cat:  # the catalog beside it is untouched and current
        assert cat.list_runs() == []


def test_apply_queue_schema_needs_a_database(tmp_path):
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(tmp_path)})
    with pytest.raises(QueueError, match="needs COLLEGESEARCH_DATABASE_URL"):
        apply_queue_schema(settings)
