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


BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of suites that run on both catalog databases."""
    config.addinivalue_line("markers", "both_backends: run with the catalog on SQLite and on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``both_backends`` runs once per catalog database (its ``settings``/``web_settings`` choose)."""
    if metafunc.definition.get_closest_marker("both_backends") is None:
        return
    for name in ("web_settings", "settings"):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, BACKENDS, indirect=True)
            return


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings with the data dir in a fresh temp folder (and a new PostgreSQL catalog for ``both_backends``)."""
    overrides = {"DATA_DIR": str(tmp_path / "data")}
    if getattr(request, "param", "sqlite") == "postgresql":
        overrides["DATABASE_URL"] = request.getfixturevalue("pg_catalog_url")
    return load_settings(env={}, config_file=None, overrides=overrides)


@pytest.fixture
def catalog(settings: Settings):
    """An empty catalog in the temp data dir (or the PostgreSQL database of ``settings``)."""
    from catalog import Catalog

    cat = Catalog(settings.catalog_location)
    yield cat
    cat.close()
