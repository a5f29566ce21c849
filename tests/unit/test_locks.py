"""Run locks: one holder at a time, released when the holder dies, clear refusals; Redis variant."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ops.locks import FileLock, LockBusy, RedisLock, hold, make_lock

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ops.locks import FileLock
    lock = FileLock(Path(sys.argv[1]), "crawl-reviews")
    lock.acquire(purpose="schedule")
    print("held", flush=True)
    time.sleep(60)
    """
)


def start_holder(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    proc.stdout.close()
    return proc


def test_second_holder_is_refused_with_owner(tmp_path):
    proc = start_holder(tmp_path)
    try:
        lock = FileLock(tmp_path, "crawl-reviews")
        with pytest.raises(LockBusy) as info:
            lock.acquire(purpose="manual")
        message = str(info.value)
        assert f"pid {proc.pid}" in message and "(schedule)" in message and "already running" in message
        assert lock.owner()["pid"] == proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_sigkilled_holder_leaves_no_live_lock(tmp_path):
    proc = start_holder(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lock = FileLock(tmp_path, "crawl-reviews")
    assert lock.path.read_text()  # the dead owner's note is still on disk ...
    assert lock.owner() is None  # ... but the lock is free (stale) ...
    lock.acquire(purpose="manual")  # ... and taken over at once
    assert lock.owner()["pid"] == os.getpid() and lock.owner()["purpose"] == "manual"
    lock.release()
    assert lock.owner() is None


def test_waits_up_to_timeout(tmp_path):
    proc = start_holder(tmp_path)
    try:
        start = time.monotonic()
        with pytest.raises(LockBusy):
            FileLock(tmp_path, "crawl-reviews").acquire(timeout=0.5)
        assert time.monotonic() - start >= 0.45
    finally:
        proc.kill()
        proc.wait()


def test_locks_are_per_name_and_reentrant_after_release(settings):
    with hold(settings, "crawl-a", "x"):
        with hold(settings, "crawl-b", "y"):
            pass
        with pytest.raises(LockBusy):
            with hold(settings, "crawl-a", "z"):
                pass
    with hold(settings, "crawl-a", "again") as lock:
        assert lock.held


def test_make_lock_picks_backend(settings, redis_url):
    assert isinstance(make_lock(settings, "x"), FileLock)
    assert isinstance(make_lock(settings.replace(REDIS_URL=redis_url), "x"), RedisLock)


@pytest.mark.redis
def test_redis_lock_excludes_and_expires(redis_url):
    first = RedisLock(redis_url, "crawl-reviews", ttl=1.0)
    first.acquire(purpose="schedule")
    second = RedisLock(redis_url, "crawl-reviews", ttl=1.0)
    with pytest.raises(LockBusy, match=r"already running by pid \d+"):
        second.acquire()
    time.sleep(1.5)  # the holder keeps renewing, so the lock outlives its ttl
    with pytest.raises(LockBusy):
        second.acquire()
    # A holder that stops renewing (a dead machine) loses the lock when the ttl lapses.
    first._stop.set()
    first._renewer.join()
    time.sleep(1.3)
    second.acquire(timeout=1)
    assert second.owner()["pid"] == os.getpid()
    second.release()
    assert second.owner() is None
