"""The room a crawl sets aside beside the catalog, given back when the disk fills up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crawler.disk_full import RESERVE_BYTES, DiskReserve


def test_the_reserve_is_real_room_given_back_once(tmp_path: Path) -> None:
    reserve = DiskReserve(tmp_path, "run-7")
    reserve.take()
    assert reserve.path.stat().st_size == RESERVE_BYTES
    assert reserve.path.stat().st_blocks * 512 >= RESERVE_BYTES  # allocated, not a sparse file
    assert reserve.release() is True
    assert not reserve.path.exists()
    assert reserve.release() is False  # nothing left to give


def test_no_room_for_the_reserve_is_no_error_and_leaves_no_file(tmp_path: Path) -> None:
    # A file-size limit smaller than the reserve: writing it fails (EFBIG), the crawl goes on without it.
    script = (
        "import resource, signal, sys; from pathlib import Path; from crawler.disk_full import DiskReserve\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "r = DiskReserve(Path(sys.argv[1]), 'run-1'); r.take()\n"
        "print(r.held, r.path.exists())\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parents[3])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
