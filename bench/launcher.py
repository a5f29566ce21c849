"""A small launcher for measured commands, so a child's peak RSS is its own and not the bench's.

The kernel's ``ru_maxrss`` of a process that was forked (or vforked) and then exec'd includes the
RSS of the memory it had before the exec: its parent's. The bench grows to ~190 MiB checking
results, so every child it measured read 192 MiB. The launcher (``python -S``, ~9 MiB) forks the
command, waits for it and writes the command's own wait4 figures to a file.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

_LAUNCHER = """\
import os, signal, sys
report, cmd = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
for sig in (signal.SIGTERM, signal.SIGINT):  # the process group's signal reaches the command itself
    signal.signal(sig, signal.SIG_IGN)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as f:
    f.write("%d %d %r" % (status, usage.ru_maxrss, usage.ru_utime + usage.ru_stime))
"""


def launched(cmd: Sequence[str], report: Path) -> list[str]:
    """The command line that runs ``cmd`` under the launcher, its figures written to ``report``."""
    return [sys.executable, "-S", "-c", _LAUNCHER, str(report), *cmd]
