"""``collegesearch worker``: runs queued crawls, on as many machines as wanted, until SIGTERM/SIGINT.

A worker is a procrastinate worker on the ``crawls`` queue. Each job crawls one source exactly as
the scheduler does (``CrawlRunner`` is the scheduler's crawl path): a supervised child process
(``ops.child``) that takes the source's advisory lock and records its run in the catalog; then
the retry policy, whose retries go back on the queue. A worker syncs no index after its crawls
unless asked (``--sync-index``): in multi-node mode each web node's ``index follow`` does that, and
a crawl machine indexing everything again would only take CPU from its crawls.
The children die with the worker (Linux), so a worker killed outright leaves no crawl behind:
its job is found stalled and retried elsewhere (``ops.queue.stalled``).

The first SIGTERM or SIGINT stops the worker gracefully: no new job starts, running crawls get
SIGTERM (they finish their in-flight requests and record their runs as interrupted), and each
interrupted crawl goes back on the queue for the next worker to resume. A second signal kills
the crawls.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from collegesearch.config import Settings
from ops.locks import LockBusy, crawl_lock_name, make_lock
from ops.log_setup import setup_logging
from ops.policy import FAILED_STATUSES
from ops.queue.app import QUEUE, TASK, QueueError, check_queue, queue_app
from ops.queue.dispatch import CrawlQueue
from ops.queue.stalled import sweep_forever
from ops.scheduler import Scheduler

if TYPE_CHECKING:
    from procrastinate import App
    from procrastinate.job_context import JobContext

log = logging.getLogger(__name__)


class CrawlFailed(Exception):
    """The crawl ran and failed (the job is marked failed; the retry policy has queued a retry if one is due)."""


class CrawlRunner(Scheduler):
    """The scheduler's crawl path (child process, run record, index sync, retry policy) for queued jobs."""

    def __init__(self, settings: Settings, planner: CrawlQueue) -> None:
        super().__init__(settings)
        self.children_die_with_me = True
        self.planner = planner

    @property
    def busy_wait(self) -> float:
        """Seconds before a job that found its source busy tries again."""
        return max(3 * self.settings.QUEUE_HEARTBEAT, 5.0)

    def _plan_retry(self, source: str, due: datetime) -> None:
        # The retry policy's retry goes on the queue, for whichever worker is free then.
        queued = self.planner.defer(source, "retry", at=due)
        log.info("%s: retry %s", source, queued.line().split(": ", 1)[1])

    def run_job(self, job_id: int | None, source: str, trigger: str) -> str:
        """Run one queued crawl; returns its outcome in a line (raises CrawlFailed when it failed)."""
        owner = make_lock(self.settings, crawl_lock_name(source)).owner()
        if owner is not None:
            return self._try_again_later(job_id, source, trigger, str(LockBusy(crawl_lock_name(source), owner)))
        log.info("job %s: crawling %s (%s)", job_id, source, trigger)
        result = self.run_source(source, trigger)
        line = result.line()
        if self.stopping.is_set() and result.outcome != "ok":
            # Stopped with the worker: the crawl goes back on the queue (unless a job of the source already waits).
            follow = self.planner.defer(source, trigger)
            raise _stopped(f"{line}; the worker stopped, the crawl continues as job {follow.job_id}")
        if result.outcome == "skipped":
            return self._try_again_later(job_id, source, trigger, result.reason or "the source is busy")
        if result.outcome in FAILED_STATUSES:
            raise CrawlFailed(line)
        return line

    def _try_again_later(self, job_id: int | None, source: str, trigger: str, reason: str) -> str:
        # Someone else crawls the source right now (a person's `crawl`, or a crawl whose dead worker's lock
        # the database has not dropped yet): try again shortly rather than lose the crawl.
        follow = self.planner.defer(source, trigger, at=datetime.now(UTC) + timedelta(seconds=self.busy_wait))
        log.info("job %s: %s is busy (%s); tried again as job %s", job_id, source, reason, follow.job_id)
        return f"{source}: busy ({reason}); tried again as job {follow.job_id}"


def _stopped(message: str) -> Exception:
    from procrastinate import exceptions

    # "aborted" in procrastinate's terms: this attempt stopped and another job continues it.
    return exceptions.JobAborted(message)


def run_worker(settings: Settings, concurrency: int = 1, sync_index: bool = False,
               echo: Callable[[str], Any] | None = None) -> None:
    """Run queued crawls until SIGTERM/SIGINT (QueueError when the queue or the catalog cannot be used)."""
    from catalog import Catalog, CatalogError

    say = echo or (lambda line: print(line, flush=True))
    settings = settings.replace(SYNC_AFTER_CRAWL=sync_index)
    check_queue(settings, "collegesearch worker")
    if settings.QUEUE_STALLED_TIMEOUT <= 2 * settings.QUEUE_HEARTBEAT:
        raise QueueError(f"COLLEGESEARCH_QUEUE_STALLED_TIMEOUT ({settings.QUEUE_STALLED_TIMEOUT:g} s) must be more "
                         f"than twice COLLEGESEARCH_QUEUE_HEARTBEAT ({settings.QUEUE_HEARTBEAT:g} s), or live workers "
                         "would count as dead")
    try:
        with Catalog(settings.catalog_location):
            pass  # the catalog must be there and current before any crawl is taken off the queue
    except CatalogError as exc:
        raise QueueError(str(exc)) from None
    setup_logging(settings.LOG_LEVEL, settings.LOG_FORMAT)
    planner = CrawlQueue(settings, "collegesearch worker")
    try:
        runner = CrawlRunner(settings, planner)
        name = f"{socket.gethostname()}:{os.getpid()}"
        say(f"worker {name} started: {concurrency} crawl(s) at a time from queue '{QUEUE}'")
        if not asyncio.run(_serve(settings, runner, concurrency, name, say)):
            raise QueueError("the worker stopped on its own: it lost the crawl queue's database (see the log above)")
        say("worker stopped")
    finally:
        planner.close()


def _register_task(app: App, runner: CrawlRunner) -> None:
    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    def crawl(context: JobContext, source: str, trigger: str = "manual") -> str:
        return runner.run_job(context.job.id, source, trigger)


async def _serve(settings: Settings, runner: CrawlRunner, concurrency: int, name: str,
                 say: Callable[[str], Any]) -> bool:
    """Run the procrastinate worker and the stalled-job sweep; True when a signal stopped them."""
    app = queue_app(settings, pool_size=concurrency + 3, name=f"collegesearch worker {name}")
    _register_task(app, runner)
    loop = asyncio.get_running_loop()
    # Each running crawl holds a thread of the loop's executor for its whole length (procrastinate runs sync
    # tasks there): leave room for the stalled-job sweep and the catalog calls beside them.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=concurrency + 4, thread_name_prefix="crawl-job"))
    async with app.open_async():
        worker = asyncio.create_task(app.run_worker_async(
            queues=[QUEUE], name=name, concurrency=concurrency, install_signal_handlers=False,
            update_heartbeat_interval=settings.QUEUE_HEARTBEAT, stalled_worker_timeout=settings.QUEUE_STALLED_TIMEOUT,
            fetch_job_polling_interval=settings.QUEUE_HEARTBEAT,
            abort_job_polling_interval=max(settings.QUEUE_HEARTBEAT, 5.0)))
        sweeper = asyncio.create_task(sweep_forever(app, settings, runner.close_stale_runs))

        def on_signal(signum: int) -> None:
            if runner.stopping.is_set():
                log.warning("second %s: killing running crawls", signal.Signals(signum).name)
                runner.force.set()
                return
            log.info("%s received: stopping after the running crawls stop", signal.Signals(signum).name)
            say("stopping: running crawls finish their in-flight requests and go back on the queue" if runner._active
                else "stopping")
            runner.stopping.set()  # supervise() sends the crawl children SIGTERM
            worker.cancel()  # procrastinate stops taking jobs and waits for the running ones

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal, sig)
        try:
            try:
                await worker
            except asyncio.CancelledError:
                if not runner.stopping.is_set():
                    raise
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
    return runner.stopping.is_set()
