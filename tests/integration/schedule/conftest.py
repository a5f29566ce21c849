"""Fixtures of the scheduler tests (helpers live in schedule_helpers.py, a name no other conftest shadows)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.schedule.schedule_helpers import SchedulerProcess


@pytest.fixture
def scheduler_procs() -> Iterator[list[SchedulerProcess]]:
    """Schedulers a test starts; any still running at the end are killed."""
    started: list[SchedulerProcess] = []
    yield started
    for proc in started:
        proc.kill()


@pytest.fixture
def web(tmp_path: Path) -> Callable[[Path], Any]:
    """A Flask test client over a data dir (the change feed and search as the web app serves them)."""

    def make(data_dir: Path) -> Any:
        from collegesearch.config import load_settings
        from webapp import create_app

        settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data_dir)})
        return create_app({"SETTINGS": settings, "TESTING": True}).test_client()

    return make
