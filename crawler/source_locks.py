"""Source locks: one crawl per source at a time, across processes (``ops.locks`` does the locking).

``collegesearch crawl`` takes every requested source's lock before Scrapy starts, and the crawl
store takes it again when a spider opens (a plain ``scrapy crawl`` has no other guard); a
process that already holds a source's lock does not take it twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collegesearch.config import Settings

_HELD_LOCKS: dict[str, Any] = {}


def acquire_source_lock(cfg: Settings, source: str, purpose: str = "crawl") -> bool:
    """Take the crawl lock of a source for this process; False if this process already holds it.

    Raises ``ops.locks.LockBusy`` (its message names the holder) when another process has it.
    """
    if source in _HELD_LOCKS:
        return False
    from ops.locks import crawl_lock_name, make_lock

    lock = make_lock(cfg, crawl_lock_name(source))
    lock.acquire(purpose=purpose)
    _HELD_LOCKS[source] = lock
    return True


def release_source_lock(source: str) -> None:
    """Give a source's crawl lock back (idempotent)."""
    lock = _HELD_LOCKS.pop(source, None)
    if lock is not None:
        lock.release()

