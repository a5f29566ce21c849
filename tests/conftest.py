"""Shared fixtures: settings in a temp data dir, an empty catalog, the hermetic environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from collegesearch.config import Settings, load_settings

pytest_plugins = [
    "tests.plugins.sample_site", "tests.plugins.system", "tests.plugins.postgres", "tests.plugins.browser", "tests.plugins.webapp",
    "tests.plugins.xdist_groups",
]

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT / "sample_site" / "data"


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's own COLLEGESEARCH_* settings."""
    for key in list(os.environ):
        if key.startswith("COLLEGESEARCH_"):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with the data dir in a fresh temp folder."""
    return load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def catalog(settings: Settings):
    """An empty catalog in the temp data dir."""
    from catalog import Catalog

    cat = Catalog(settings.catalog_path)
    yield cat
    cat.close()
