"""Shared fixtures: settings in a temp data dir, an empty catalog, the hermetic environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from collegesearch.config import Settings, load_settings

pytest_plugins = [
    "tests.plugins.sample_site", "tests.plugins.system", "tests.plugins.browser", "tests.plugins.webapp",
]

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT / "sample_site" / "data"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put ``xdist_group`` tests in their group for ``--dist loadgroup`` (what pytest-xdist 3.8 fails to do).

    xdist 3.8 marks a grouped test by renaming ``item._nodeid``, which pytest 9.2 no longer reads (the
    node id lives in ``item._id``): every group was silently spread over both workers, so a module's
    four-crawl history or the relevance corpus was built once per worker. Running last, after the
    conftest hooks that add group marks, this gives the id the ``@group`` suffix the scheduler reads.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        suffix = "@" + "_".join(names)
        if names and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)  # type: ignore[attr-defined]


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
