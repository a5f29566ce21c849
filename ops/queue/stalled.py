"""Crawl jobs of dead workers go back on the queue, and the runs they left ``running`` are closed.

A worker sends a heartbeat every ``QUEUE_HEARTBEAT`` seconds (procrastinate's worker table). Its
jobs count as stalled once it has been silent for ``QUEUE_STALLED_TIMEOUT``: killed, crashed, or
its machine gone. Every worker looks for them each heartbeat; one at a time (an advisory lock),
so a job is put back once. The retried crawl resumes from the pages the dead run stored. Runs
left ``running`` whose source lock is free are marked interrupted on the spot (the advisory lock
of a dead process, on any machine, is gone with its connection).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from collegesearch.config import Settings
from ops.locks import LockBusy, make_lock
from ops.queue.app import QUEUE, TASK

if TYPE_CHECKING:
    from procrastinate import App

log = logging.getLogger(__name__)

SWEEP_LOCK = "queue-sweep"
"""The lock name of the stalled-job sweep: one worker sweeps at a time."""


async def sweep_stalled(app: App, settings: Settings, close_stale_runs: Callable[[], Any]) -> list[int]:
    """Put the crawl jobs of silent workers back on the queue; returns their ids (none if another worker sweeps)."""
    from procrastinate import exceptions, jobs

    lock = make_lock(settings, SWEEP_LOCK)
    try:
        await asyncio.to_thread(lock.acquire, "stalled-job sweep")
    except LockBusy:
        return []
    try:
        stalled = await app.job_manager.get_stalled_jobs(queue=QUEUE, task_name=TASK,
                                                         seconds_since_heartbeat=settings.QUEUE_STALLED_TIMEOUT)
        retried: list[int] = []
        for job in stalled:
            assert job.id is not None
            source = job.task_kwargs.get("source")
            try:
                await app.job_manager.retry_job(job)
            except exceptions.UniqueViolation:
                # A newer job of the source already waits: it resumes the crawl, this one is closed.
                await app.job_manager.finish_job_by_id_async(job.id, status=jobs.Status.FAILED, delete_job=False)
                log.warning("job %s (crawl %s) was left by a worker silent for over %g s; a newer job of %s "
                            "waits in the queue and resumes the crawl", job.id, source, settings.QUEUE_STALLED_TIMEOUT,
                            source)
                continue
            log.warning("job %s (crawl %s) was left by a worker silent for over %g s (killed, crashed or its machine "
                        "gone): back on the queue; the crawl resumes from the pages already stored", job.id, source,
                        settings.QUEUE_STALLED_TIMEOUT)
            retried.append(job.id)
        if stalled:
            await asyncio.to_thread(close_stale_runs)
        return retried
    finally:
        await asyncio.to_thread(lock.release)


async def sweep_forever(app: App, settings: Settings, close_stale_runs: Callable[[], Any]) -> None:
    """Sweep every ``QUEUE_HEARTBEAT`` seconds until cancelled (a failed sweep is logged and tried again)."""
    while True:
        await asyncio.sleep(settings.QUEUE_HEARTBEAT)
        try:
            await sweep_stalled(app, settings, close_stale_runs)
        except Exception:  # noqa: BLE001 - the next sweep tries again; the worker keeps running jobs
            log.exception("looking for stalled crawl jobs failed; trying again in %g s", settings.QUEUE_HEARTBEAT)
