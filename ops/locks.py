"""Run locks so crawls, index syncs, the scheduler and an admin's "crawl now" never collide.

On one machine a lock is an ``flock`` on a file under ``DATA_DIR/locks``: the kernel releases it
when the holding process dies, even by SIGKILL, so a lock can never outlive its owner; the file
keeps the owner's pid, host and start time only to explain a refusal, and a file whose lock is
not held is stale and simply reused. With ``DATABASE_URL`` set (multi-node mode) locks are
PostgreSQL advisory locks, each held by a connection of its own (``catalog.advisory_locks``): every
machine pointed at the database sees them, and a dead holder's connection, and so its lock, goes
away with it. Else, with ``REDIS_URL`` set, locks live in Redis, with an expiry that the holder
keeps renewing, so a dead machine's lock lapses on its own. Either way schedulers, workers and
manual crawls on several machines never run the same source's crawl twice at once.

No Scrapy import here: the web app uses this module too.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collegesearch.config import Settings


class LockBusy(RuntimeError):
    """Someone else holds the lock; the message says who and since when."""

    def __init__(self, name: str, owner: dict[str, Any] | None) -> None:
        self.name = name
        self.owner = owner or {}
        who = ""
        if owner and owner.get("error"):
            super().__init__(f"cannot take the lock {name}: {owner['error']}")
            return
        if owner:
            who = f" by pid {owner.get('pid')} on {owner.get('host')}"
            if owner.get("started"):
                who += f" since {owner['started']}"
            if owner.get("purpose"):
                who += f" ({owner['purpose']})"
        super().__init__(f"{name} is already running{who}; wait for it to finish")


@dataclass
class LockInfo:
    """Who holds a lock, as written into the lock."""

    name: str
    pid: int
    host: str
    started: str
    purpose: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.name, "pid": self.pid, "host": self.host, "started": self.started,
                "purpose": self.purpose}


def _owner(name: str, purpose: str) -> LockInfo:
    return LockInfo(name=name, pid=os.getpid(), host=socket.gethostname(),
                    started=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                    purpose=purpose)


def _safe_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


class FileLock:
    """An exclusive lock held through ``flock`` on ``<dir>/<name>.lock``."""

    def __init__(self, directory: Path, name: str) -> None:
        self.name = name
        self.path = Path(directory) / f"{_safe_name(name)}.lock"
        self._fd: int | None = None

    def acquire(self, purpose: str = "", timeout: float = 0.0, poll: float = 0.2) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; raises LockBusy."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    owner = self.owner()
                    os.close(fd)
                    raise LockBusy(self.name, owner) from None
                time.sleep(poll)
        # Whatever the file said before belonged to a dead owner (its flock is gone): overwrite it.
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(_owner(self.name, purpose).to_dict()).encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def owner(self) -> dict[str, Any] | None:
        """Who holds the lock now, or None when it is free (a leftover file from a dead owner is free)."""
        if not self.path.exists():
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                raw = self.path.read_bytes()
                try:
                    data: dict[str, Any] = json.loads(raw) if raw else {}
                except ValueError:
                    data = {}
                return data or {"name": self.name}
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None


class RedisLock:
    """An exclusive lock in Redis with an expiry that a background thread keeps renewing."""

    def __init__(self, url: str, name: str, ttl: float = 30.0) -> None:
        import redis

        self.name = name
        self.key = f"collegesearch:lock:{name}"
        self.ttl = ttl
        self.client = redis.Redis.from_url(url, socket_timeout=5)
        self._lock: Any = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self, purpose: str = "", timeout: float = 0.0, poll: float = 0.2) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; raises LockBusy."""
        import redis

        lock = self.client.lock(self.key, timeout=self.ttl, sleep=poll, thread_local=False)
        try:
            ok = lock.acquire(blocking=timeout > 0, blocking_timeout=timeout or None)
        except redis.ConnectionError as exc:
            raise LockBusy(self.name, {"error": f"Redis unreachable: {exc}"}) from None
        if not ok:
            raise LockBusy(self.name, self.owner())
        self._lock = lock
        self.client.set(self.key + ":owner", json.dumps(_owner(self.name, purpose).to_dict()), ex=int(self.ttl))
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name=f"lock-renew-{self.name}", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self._lock.extend(self.ttl, replace_ttl=True)
                self.client.expire(self.key + ":owner", int(self.ttl))
            except Exception:  # noqa: BLE001 - a lost lock is reported by release(); keep the run going
                return

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(5)
        if self._lock is not None:
            with contextlib.suppress(Exception):
                self._lock.release()
                self.client.delete(self.key + ":owner")
            self._lock = None

    def owner(self) -> dict[str, Any] | None:
        """Who holds the lock now, or None when it is free."""
        if not self.client.exists(self.key):
            return None
        raw = self.client.get(self.key + ":owner")
        try:
            return json.loads(raw) if raw else {"name": self.name}
        except ValueError:
            return {"name": self.name}

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._lock is not None


class PostgresLock:
    """An exclusive PostgreSQL advisory lock, held by a connection of its own until released or the process dies."""

    def __init__(self, url: str, name: str) -> None:
        from catalog.advisory_locks import lock_key

        self.name = name
        self.url = url
        self.key = lock_key(name)
        self._session: Any = None

    def acquire(self, purpose: str = "", timeout: float = 0.0, poll: float = 0.2) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; raises LockBusy (also when PostgreSQL is unreachable)."""
        from catalog.advisory_locks import AdvisoryLockError, AdvisorySession

        me = _owner(self.name, purpose)
        try:
            # Who holds it travels in the connection's application_name, for the refusals others get.
            session = AdvisorySession(self.url, f"{me.pid}@{me.host} {purpose}".rstrip())
        except AdvisoryLockError as exc:
            raise LockBusy(self.name, {"error": str(exc)}) from None
        deadline = time.monotonic() + timeout
        try:
            while not session.try_lock(self.key):
                if time.monotonic() >= deadline:
                    raise LockBusy(self.name, self.owner())
                time.sleep(poll)
        except BaseException:
            session.close()
            raise
        self._session = session

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(Exception):
                session.unlock(self.key)
            session.close()  # closing alone would release it too

    def owner(self) -> dict[str, Any] | None:
        """Who holds the lock now, or None when it is free ({"error": ...} when PostgreSQL cannot be asked)."""
        from catalog.advisory_locks import AdvisoryLockError, holder

        try:
            found = holder(self.url, self.key)
        except AdvisoryLockError as exc:
            return {"name": self.name, "error": str(exc)}
        if found is None:
            return None
        who, _, purpose = found["application_name"].partition(" ")
        pid, _, host = who.partition("@")
        started = found["backend_start"]
        return {"name": self.name, "pid": int(pid) if pid.isdigit() else None, "host": host or found["client"],
                "started": started.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
                if started else None, "purpose": purpose, "backend_pid": found["backend_pid"]}

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._session is not None


Lock = FileLock | RedisLock | PostgresLock


def make_lock(settings: Settings, name: str) -> Lock:
    """The lock called ``name`` (e.g. ``crawl-reviews`` or ``scheduler``): PostgreSQL, else Redis, else a file."""
    if settings.DATABASE_URL:
        return PostgresLock(settings.DATABASE_URL, name)
    if settings.REDIS_URL:
        return RedisLock(settings.REDIS_URL, name)
    return FileLock(settings.data_dir / "locks", name)


def locks_shared(settings: Settings) -> bool:
    """Whether locks are seen by every machine (PostgreSQL or Redis), so a free lock means its holder is gone anywhere."""
    return bool(settings.DATABASE_URL or settings.REDIS_URL)


@contextlib.contextmanager
def hold(settings: Settings, name: str, purpose: str = "", timeout: float = 0.0) -> Iterator[Lock]:
    """Hold a lock for the duration of a ``with`` block; raises LockBusy if taken."""
    lock = make_lock(settings, name)
    lock.acquire(purpose=purpose, timeout=timeout)
    try:
        yield lock
    finally:
        lock.release()


def crawl_lock_name(source: str) -> str:
    """The lock name of one source's crawl."""
    return f"crawl-{source}"


SCHEDULER_LOCK = "scheduler"
"""The lock name of the scheduler: one runs per deployment."""
