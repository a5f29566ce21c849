"""``collegesearch index follow``: keep this node's index in step with the catalog's change log until stopped.

Each web node keeps its own index (``INDEX_DIR``) and runs one follower beside it. The follower
applies the fused records' change log with the index's incremental sync (``indexer.build.sync``:
a rebuild when there is no sound index yet), then waits. On PostgreSQL a writer's NOTIFY at
commit (``catalog.change_notices``) wakes it at once; every ``FOLLOW_POLL_SECONDS`` it reads the
log anyway, because a notice is only a hint: one sent while the follower was reconnecting is lost,
and a change can become readable after its notice (``ChangeCursor`` waits for older transactions).
On SQLite it polls.

SIGTERM/SIGINT: the follower finishes the batch it is writing and exits 0; a second signal stops
at once (the next sync replays that batch: re-applying is harmless). A catalog that goes away is
logged in one line per attempt and retried with a growing delay, up to a minute.

One follower per index folder: it holds ``follower.lock`` there (the kernel frees it when the
process dies) and writes ``follower.json`` after each round, which ``collegesearch status`` reads.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collegesearch.config import Settings
from ops.locks import FileLock, LockBusy
from ops.log_setup import setup_logging

log = logging.getLogger(__name__)

FOLLOWER_LOCK = "follower"
"""The lock name in the index folder (``follower.lock``): held while a follower runs."""
STATE_FILE = "follower.json"
"""The follower's last round, in the index folder (for ``collegesearch status``)."""
MAX_BACKOFF = 60.0
"""Longest wait between attempts while the catalog or the index cannot be reached."""
LOCK_TIMEOUT = 10.0
"""Seconds a round waits for another index writer (a rebuild, a sync after a crawl) before trying later."""
_SLICE = 0.25  # seconds: how often a wait looks at the stop flag (a signal does not cut a blocking wait short)


class FollowError(RuntimeError):
    """The follower cannot start (another one follows this index); the message says why."""


@dataclass
class FollowStats:
    """What a follower did since it started."""

    rounds: int = 0
    """Syncs that ran (each reads the change log once, up to its end)."""
    changes: int = 0
    docs: int = 0
    """Documents written: added, updated, deleted and linked ones re-indexed, and rebuilt ones."""
    rebuilds: int = 0
    failures: int = 0
    sync_seconds: float = 0.0
    """Seconds spent in the syncs that wrote something (idle rounds cost milliseconds each)."""
    woken: dict[str, int] = field(default_factory=lambda: {"notice": 0, "poll": 0})

    @property
    def docs_per_second(self) -> float:
        """Documents written per second spent syncing."""
        return self.docs / self.sync_seconds if self.sync_seconds > 0 else 0.0

    def summary(self) -> str:
        """One line for the end of a run."""
        return (f"index follow stopped: {self.rounds} syncs, {self.changes:,} changes, {self.docs:,} documents "
                f"written in {self.sync_seconds:.1f} s ({self.docs_per_second:,.0f} docs/s), {self.rebuilds} "
                f"rebuilds, {self.failures} failed attempts; woken {self.woken['notice']} times by a notice, "
                f"{self.woken['poll']} by the poll")


def state_path(settings: Settings) -> Path:
    """Where the follower of this node's index writes its state."""
    return settings.index_dir / STATE_FILE


def follower_state(settings: Settings) -> dict[str, Any]:
    """Whether a follower runs on this index now, and what its last round did (cheap: a lock test and a file)."""
    owner = FileLock(settings.index_dir, FOLLOWER_LOCK).owner()
    try:
        last = json.loads(state_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = {}
    last = last if isinstance(last, dict) else {}
    return {"running": owner is not None, "pid": (owner or {}).get("pid"), "host": (owner or {}).get("host"),
            "started": (owner or {}).get("started"), **{k: last.get(k) for k in (
                "mode", "poll_seconds", "last_check", "last_change_at", "last_error", "changes", "docs")}}


class Follower:
    """The follow loop: sync, wait for a notice or the poll interval, again; ``request_stop`` ends it."""

    def __init__(self, settings: Settings, *, poll_seconds: float | None = None) -> None:
        self.settings = settings
        self.poll_seconds = float(poll_seconds if poll_seconds is not None else settings.FOLLOW_POLL_SECONDS)
        self.stopping = threading.Event()
        self.stats = FollowStats()
        self.notices: Any = None
        if settings.multi_node:
            from catalog.change_notices import ChangeNotices

            self.notices = ChangeNotices(settings.catalog_location, connect_timeout=min(10.0, self.poll_seconds + 1))
        self._listen_problem: str | None = None
        self._backoff = 0.0
        self._failed_in_a_row = 0
        self._last_error: str | None = None
        self._last_change_at: str | None = None

    @property
    def mode(self) -> str:
        """How the follower learns of changes."""
        return "notices and polling" if self.notices is not None else "polling"

    def request_stop(self) -> None:
        """Stop after the batch being written (safe from a signal handler)."""
        self.stopping.set()

    def run(self) -> FollowStats:
        """Follow until ``request_stop``; returns what was done."""
        try:
            while not self.stopping.is_set():
                self._ensure_listening()  # before reading: a commit after the read still wakes the wait
                if not self._sync_round():
                    self._sleep(self._backoff)
                    continue
                if self.stopping.is_set():
                    break
                woken = self._wait_for_changes(self.poll_seconds)
                if woken in self.stats.woken:
                    self.stats.woken[woken] += 1
        finally:
            if self.notices is not None:
                self.notices.close()
        return self.stats

    # -- one round -------------------------------------------------------------------------------

    def _sync_round(self) -> bool:
        from indexer.build import sync

        try:
            result = sync(self.settings, lock_timeout=LOCK_TIMEOUT, progress=lambda msg: log.debug("index: %s", msg),
                          stop=self.stopping.is_set)
        except Exception as exc:  # noqa: BLE001 - a follower outlives a catalog or index that goes away
            self.stats.failures += 1
            self._failed_in_a_row += 1
            self._backoff = min(MAX_BACKOFF, self._backoff * 2 if self._backoff else 1.0)
            self._last_error = _one_line(exc)
            log.warning("index follow: %s; trying again in %.0f s", self._last_error, self._backoff)
            if not _expected_failure(exc) and self._failed_in_a_row == 1:
                log.warning("index follow: the failure in full", exc_info=True)  # first of a run: worth a look
            self._write_state()
            return False
        if self._failed_in_a_row:
            log.info("index follow: syncing again after %d failed attempts", self._failed_in_a_row)
        self._backoff, self._last_error, self._failed_in_a_row = 0.0, None, 0
        self.stats.rounds += 1
        if result.changes or result.rebuilt is not None:
            self.stats.sync_seconds += result.seconds
        if result.rebuilt is not None:
            self.stats.rebuilds += 1
            self.stats.docs += result.rebuilt.docs
        self.stats.changes += result.changes
        self.stats.docs += result.added + result.updated + result.deleted + result.linked
        if result.changes or result.rebuilt is not None:
            self._last_change_at = _now()
            log.info("%s", result.summary())
        self._write_state()
        return True

    # -- waiting ---------------------------------------------------------------------------------

    def _ensure_listening(self) -> None:
        from catalog import CatalogError

        if self.notices is None or self.notices.listening:
            return
        try:
            self.notices.listen()
        except CatalogError as exc:
            if self._listen_problem is None:
                log.warning("index follow: %s; polling every %g s meanwhile", exc, self.poll_seconds)
            self._listen_problem = str(exc)
            return
        if self._listen_problem is not None:
            log.info("index follow: listening for catalog changes now")
        self._listen_problem = None

    def _wait_for_changes(self, timeout: float) -> str:
        """Wait for a notice or the end of the poll interval; says which woke it ("stopped", "reconnect" otherwise)."""
        from catalog import CatalogError

        deadline = time.monotonic() + timeout
        while not self.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "poll"
            if self.notices is None or not self.notices.listening:
                time.sleep(min(_SLICE, remaining))
                continue
            try:
                if self.notices.wait(min(_SLICE, remaining)):
                    return "notice"
            except CatalogError as exc:
                # Read the log now and listen again (a restarted server, a dropped connection); if the
                # catalog is really gone, the round's failure says so and backs off.
                log.warning("index follow: %s; reconnecting", exc)
                self._listen_problem = str(exc)
                return "reconnect"
        return "stopped"

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping.is_set() and time.monotonic() < deadline:
            time.sleep(min(_SLICE, max(0.0, deadline - time.monotonic())))

    def _write_state(self) -> None:
        state = {"pid": os.getpid(), "host": socket.gethostname(), "mode": self.mode,
                 "poll_seconds": self.poll_seconds, "last_check": _now(), "last_change_at": self._last_change_at,
                 "last_error": self._last_error, "changes": self.stats.changes, "docs": self.stats.docs,
                 "stats": asdict(self.stats)}
        path = state_path(self.settings)
        tmp = path.with_name(f"{STATE_FILE}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(state), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:  # the status is a courtesy: the index matters more
            log.debug("cannot write %s: %s", path, exc)


def run_follower(settings: Settings, *, poll_seconds: float | None = None,
                 echo: Callable[[str], Any] | None = None) -> FollowStats:
    """``collegesearch index follow``: take the follower lock, follow until a signal, return the stats.

    Raises ``FollowError`` when another follower holds this index folder.
    """
    say = echo or (lambda line: print(line, flush=True))
    setup_logging(settings.LOG_LEVEL, settings.LOG_FORMAT)
    # Every round opens the catalog, and Alembic's schema check would log two lines each time.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))
    follower = Follower(settings, poll_seconds=poll_seconds)
    lock = FileLock(settings.index_dir, FOLLOWER_LOCK)
    try:
        lock.acquire(purpose="index follow")
    except LockBusy as exc:
        raise FollowError(f"another follower keeps {settings.index_dir} in step: {exc}") from None
    except OSError as exc:
        raise FollowError(f"cannot lock the index folder {settings.index_dir}: {exc.strerror or exc}") from None
    try:
        from catalog.database import display_location

        say(f"following the catalog {display_location(settings.catalog_location)} into {settings.index_dir} "
            f"({follower.mode}, every {follower.poll_seconds:g} s)")
        with _signals(follower):
            stats = follower.run()
    finally:
        lock.release()
    say(stats.summary())
    return stats


@contextlib.contextmanager
def _signals(follower: Follower) -> Iterator[None]:
    """SIGTERM/SIGINT: the first stops after the current batch, a second one at once (KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if follower.stopping.is_set():
            log.warning("second %s: stopping now", name)
            raise KeyboardInterrupt
        log.info("%s received: stopping after the current batch (send it again to stop now)", name)
        follower.request_stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _expected_failure(exc: BaseException) -> bool:
    """A catalog or index that cannot be reached now (said in one line), not a fault of this program."""
    from catalog import CatalogError
    from catalog.database import driver_error
    from indexer.build import IndexError_

    return isinstance(exc, (CatalogError, IndexError_, OSError, *driver_error("Error")))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if not isinstance(exc, RuntimeError | OSError) or not first else first


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
