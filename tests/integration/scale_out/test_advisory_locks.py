"""PostgreSQL advisory locks (multi-node mode): preferred over Redis and files, they name their holder, and a
holder that dies, even by SIGKILL, releases its lock with its connection."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from collegesearch.config import load_settings
from ops.locks import FileLock, LockBusy, PostgresLock, RedisLock, hold, make_lock
from tests.integration.scale_out.queue_helpers import ROOT

HOLDER = textwrap.dedent("""
    import sys, time
    from collegesearch.config import load_settings
    from ops.locks import make_lock
    settings = load_settings(env={}, config_file=None, overrides={"DATABASE_URL": sys.argv[1], "DATA_DIR": sys.argv[2]})
    lock = make_lock(settings, "crawl-directory")
    lock.acquire(purpose="crawl (manual)")
    print("held", flush=True)
    time.sleep(600)
""")


@pytest.fixture
def pg_settings(pg_url, tmp_path):
    return load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": pg_url})


def test_postgres_locks_come_first(pg_settings):
    assert isinstance(make_lock(pg_settings, "x"), PostgresLock)
    assert isinstance(make_lock(pg_settings.replace(REDIS_URL="redis://127.0.0.1:1/0"), "x"), PostgresLock)
    plain = pg_settings.replace(DATABASE_URL=None)
    assert isinstance(make_lock(plain.replace(REDIS_URL="redis://127.0.0.1:1/0"), "x"), RedisLock)
    assert isinstance(make_lock(plain, "x"), FileLock)


def test_lock_is_exclusive_per_name_and_released(pg_settings):
    with hold(pg_settings, "crawl-a", "x") as lock:
        assert lock.held
        with hold(pg_settings, "crawl-b", "y"):
            with pytest.raises(LockBusy) as busy:
                make_lock(pg_settings, "crawl-a").acquire(purpose="z")
        owner = busy.value.owner
        assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname() and owner["purpose"] == "x"
        assert owner["started"].endswith("Z")
        assert f"crawl-a is already running by pid {os.getpid()} on {socket.gethostname()} since " in str(busy.value)
    assert make_lock(pg_settings, "crawl-a").owner() is None
    with hold(pg_settings, "crawl-a", "again") as lock:
        assert lock.owner()["purpose"] == "again"


def test_lock_of_a_killed_holder_is_released(pg_settings, tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, pg_settings.DATABASE_URL, str(tmp_path / "data")],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = make_lock(pg_settings, "crawl-directory")
        with pytest.raises(LockBusy) as busy:
            lock.acquire(purpose="crawl (schedule)")
        assert busy.value.owner["pid"] == holder.pid and busy.value.owner["purpose"] == "crawl (manual)"
        assert f"by pid {holder.pid} on {socket.gethostname()}" in str(busy.value)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        started = time.monotonic()
        lock.acquire(purpose="crawl (schedule)", timeout=10)  # the server dropped the dead connection's lock
        assert time.monotonic() - started < 5
        assert lock.owner()["pid"] == os.getpid()
        lock.release()
    finally:
        holder.kill()
        holder.wait(10)


def test_unreachable_database_is_a_clear_refusal(tmp_path):
    settings = load_settings(env={}, config_file=None, overrides={
        "DATA_DIR": str(tmp_path), "DATABASE_URL": f"postgresql://nobody@/nodb?host={tmp_path}"})
    with pytest.raises(LockBusy) as busy:
        make_lock(settings, "scheduler").acquire()
    assert str(busy.value).startswith("cannot take the lock scheduler: cannot connect to postgresql://nobody@/nodb")
    assert make_lock(settings, "scheduler").owner()["error"]  # unknown counts as taken: never run unlocked
