"""``--dist loadgroup`` that keeps each ``xdist_group`` on one worker, through public pytest and xdist hooks only.

pytest-xdist 3.8 tells its controller a test's group by renaming the worker's ``item._nodeid`` to
``<id>@<group>``; pytest 9.2 reads the id from elsewhere, so the rename is lost and every group
is silently spread over the workers (a module's four-crawl history or the relevance corpus then
gets built once per worker). Here each worker instead writes ``{node id: group}`` for its
collection to a file in a directory the controller handed it (``pytest_configure_node``), and the
controller's scheduler (``pytest_xdist_make_scheduler``) reads the groups from there. Tests
without a group are scheduled one by one, as xdist's loadgroup does.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from xdist.workermanage import WorkerController

INPUT_KEY = "collegesearch_xdist_groups_dir"
GROUPS_DIR = pytest.StashKey[Path]()


def group_of(item: pytest.Item) -> str | None:
    """The item's group as xdist names it: its ``xdist_group`` names, sorted and joined by ``_``."""
    names = {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
    return "_".join(sorted(names)) if names else None


def _loadgroup(config: pytest.Config) -> bool:
    return config.getoption("dist", None) == "loadgroup" and bool(config.getoption("numprocesses", None))


def pytest_configure(config: pytest.Config) -> None:
    """On the controller of a loadgroup run: a fresh directory for the workers' group maps."""
    if _loadgroup(config) and not hasattr(config, "workerinput"):
        config.stash[GROUPS_DIR] = Path(tempfile.mkdtemp(prefix="xdist-groups-"))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the controller's directory of group maps."""
    groups_dir = config.stash.get(GROUPS_DIR, None)
    if groups_dir is not None:
        shutil.rmtree(groups_dir, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: WorkerController) -> None:
    """Tell each worker where to write its group map."""
    groups_dir = node.config.stash.get(GROUPS_DIR, None)
    if groups_dir is not None:
        node.workerinput[INPUT_KEY] = str(groups_dir)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """On a worker: write the group of every grouped test before xdist sends the collection to the controller."""
    workerinput: dict[str, Any] | None = getattr(session.config, "workerinput", None)
    if not workerinput or INPUT_KEY not in workerinput:
        return
    groups = {item.nodeid: group for item in session.items if (group := group_of(item))}
    path = Path(workerinput[INPUT_KEY]) / f"{workerinput['workerid']}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(groups), encoding="utf-8")
    tmp.replace(path)  # the controller never reads half a file


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """A loadgroup scheduler that takes each test's group from the workers' group maps."""
    groups_dir = config.stash.get(GROUPS_DIR, None)
    if groups_dir is None:
        return None
    from xdist.scheduler import LoadGroupScheduling

    class MarkerGroupScheduling(LoadGroupScheduling):
        """xdist's LoadGroupScheduling, with the scope of a test read from its ``xdist_group`` marks."""

        _groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            # Called only once every worker has sent its collection, so every map is written by now
            # (a worker writes its map before it sends its collection).
            if self._groups is None:
                self._groups = {}
                for path in sorted(groups_dir.glob("*.json")):
                    self._groups.update(json.loads(path.read_text(encoding="utf-8")))
            group = self._groups.get(nodeid)
            return group if group is not None else super()._split_scope(nodeid)

    return MarkerGroupScheduling(config, log)
