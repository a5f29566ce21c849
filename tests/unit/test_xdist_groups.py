"""``--dist loadgroup`` keeps every ``xdist_group`` on one worker (tests/plugins/xdist_groups.py), in a real run.

A small suite in a temp dir runs under ``pytest -n 2 --dist loadgroup`` with the plugin; each test
records which worker ran it. Grouped tests span two modules and one group is set by a conftest
hook, as the project's own suites do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RECORD = '''
import os
from pathlib import Path

def record(name):
    with open(Path(__file__).parent / "ran.txt", "a") as fh:
        fh.write(f"{name} {os.environ['PYTEST_XDIST_WORKER']}\\n")
'''

MODULE = '''
import pytest
from record import record

pytestmark = pytest.mark.xdist_group("{group}")

@pytest.mark.parametrize("n", range(6))
def test_grouped(n):
    record("{group}")

@pytest.mark.xdist_group("{group}")
def test_also_grouped():
    record("{group}")
'''

UNGROUPED = '''
import time
from record import record

def test_a(): time.sleep(0.2); record("none")
def test_b(): time.sleep(0.2); record("none")
def test_c(): time.sleep(0.2); record("none")
def test_d(): time.sleep(0.2); record("none")
'''

CONFTEST = '''
import pytest

pytest_plugins = ["tests.plugins.xdist_groups"]

def pytest_collection_modifyitems(items):
    for item in items:
        if "test_hooked" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("hooked"))
'''

HOOKED = '''
from record import record

def test_one(): record("hooked")
def test_two(): record("hooked")
def test_three(): record("hooked")
'''


def test_each_group_runs_on_one_worker(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "record.py").write_text(RECORD)
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "test_hooked.py").write_text(HOOKED)
    (suite / "test_ungrouped.py").write_text(UNGROUPED)
    for group in ("alpha", "beta"):
        for part in (1, 2):  # a group spread over two modules
            (suite / f"test_{group}_{part}.py").write_text(MODULE.format(group=group))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COLLEGESEARCH_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(suite), str(ROOT)])
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup",
         "--rootdir", str(suite), "-c", os.devnull, str(suite)],
        cwd=suite, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    workers: dict[str, list[str]] = defaultdict(list)
    for line in (suite / "ran.txt").read_text().splitlines():
        group, worker = line.split()
        workers[group].append(worker)
    assert sorted((g, len(w)) for g, w in workers.items()) == [("alpha", 14), ("beta", 14), ("hooked", 3),
                                                               ("none", 4)]
    for group in ("alpha", "beta", "hooked"):
        assert len(set(workers[group])) == 1, f"group {group} ran on workers {sorted(set(workers[group]))}"
    assert len({w for ran in workers.values() for w in ran}) == 2, "the run did not use both workers"
