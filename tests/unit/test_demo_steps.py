"""The demo's steps run as child processes that must use the data folder the demo means."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import Catalog
from collegesearch import demo
from collegesearch.config import load_settings


def test_a_relative_data_dir_means_the_same_folder_in_every_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `make run` uses the relative default `data`; the children once ran in the package folder and
    # wrote the index to collegesearch/data while the catalog went to ./data, so search found no index.
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={}, config_file=False, overrides={"DATA_DIR": "data"})
    (tmp_path / "data").mkdir()
    with Catalog(tmp_path / "data" / "catalog.sqlite3"):
        pass
    lines: list[str] = []
    code = demo._run_step(["index", "rebuild"], settings, lines.append)
    assert code == 0, "\n".join(lines)
    assert (tmp_path / "data" / "index").is_dir(), "\n".join(lines)
    assert not (Path(demo.__file__).parent / "data").exists()
