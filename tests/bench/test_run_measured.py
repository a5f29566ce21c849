"""The bench's child measurements are the child's own: peak RSS not inflated by a large bench process."""

from __future__ import annotations

from pathlib import Path

from bench.common import PYTHON, run_measured

TOUCH_40_MIB = "x = bytearray(40 * 2**20)\nfor i in range(0, len(x), 4096):\n    x[i] = 1\nraise SystemExit(3)"


def test_peak_rss_is_the_childs_own_even_from_a_large_parent(tmp_path: Path) -> None:
    ballast = bytearray(400 * 2**20)  # the bench after checking results is this kind of size
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    done = run_measured([PYTHON, "-c", TOUCH_40_MIB], logs=tmp_path, name="child")
    assert done.returncode == 3
    assert 40 <= done.max_rss_mb < 120, done.max_rss_mb  # its 40 MiB and an interpreter, not the 400 MiB parent
    assert done.cpu_s > 0
    del ballast


def test_a_child_killed_by_a_signal_reports_it(tmp_path: Path) -> None:
    done = run_measured([PYTHON, "-c", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"],
                        logs=tmp_path, name="killed")
    assert done.returncode == -9
