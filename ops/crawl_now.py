""""Crawl now" from the admin: a detached crawl child, refused while the source is already being crawled."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collegesearch.config import Settings
from ops.child import crawl_command, settings_env
from ops.cron import iso, parse_time
from ops.jobs import ScheduleError, known_sources
from ops.locks import LockBusy, crawl_lock_name, hold, make_lock

STARTING_WINDOW = 600.0
"""Seconds a just-spawned crawl counts as "starting" while it has not taken its lock yet."""


@dataclass
class Spawned:
    """A detached crawl started for someone."""

    source: str
    pid: int
    log_path: str


def _starting_marker(settings: Settings, source: str) -> Path:
    return settings.data_dir / "locks" / f"crawl-{source}.starting"


def _starting_owner(settings: Settings, source: str) -> dict[str, Any] | None:
    """The crawl of a source an admin just started, while it has not taken its lock yet (None otherwise)."""
    import psutil

    marker = _starting_marker(settings, source)
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    started = parse_time(info.get("started"))
    if started is None or (datetime.now(UTC) - started).total_seconds() > STARTING_WINDOW:
        return None
    try:
        proc = psutil.Process(pid)
        alive = proc.status() != psutil.STATUS_ZOMBIE and source in proc.cmdline()
    except (psutil.Error, OSError):
        alive = False
    return dict(info) if alive else None


def crawl_now(settings: Settings, source: str, trigger: str = "admin") -> Spawned:
    """Start ``collegesearch crawl SOURCE --trigger admin --sync`` detached; LockBusy when the source is busy.

    The caller (a web worker) never runs Scrapy itself; the child outlives the request, writes its
    output to ``DATA_DIR/logs/crawl-<source>.log`` and syncs the index when it is done. A crawl
    started here a moment ago that has not taken its lock yet (it is still importing Scrapy)
    counts as busy too, so a double click starts one crawl, not two.
    """
    if source not in known_sources(settings):
        raise ScheduleError(f"unknown source {source!r}")
    name = crawl_lock_name(source)
    # Two admins (or two gunicorn workers) clicking at once: one checks and spawns at a time.
    with hold(settings, f"spawn-{source}", purpose="crawl now", timeout=10):
        owner = make_lock(settings, name).owner() or _starting_owner(settings, source)
        if owner is not None:
            raise LockBusy(name, owner)
        logs = settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"crawl-{source}.log"
        with open(log_path, "ab") as out:
            out.write(f"--- {iso(datetime.now(UTC))} crawl {source} ({trigger})\n".encode())
            out.flush()
            proc = subprocess.Popen(crawl_command(source, trigger, sync=True), env=settings_env(settings),
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, close_fds=True)
        marker = {"pid": proc.pid, "host": socket.gethostname(), "started": iso(datetime.now(UTC)),
                  "purpose": f"crawl ({trigger}), starting"}
        _starting_marker(settings, source).write_text(json.dumps(marker), encoding="utf-8")
    # Reap it when it ends, so a long-lived web worker collects no zombies.
    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()
    return Spawned(source=source, pid=proc.pid, log_path=str(log_path))
