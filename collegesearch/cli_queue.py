"""The crawl queue's commands (multi-node mode): ``collegesearch worker``.

Registered on the main group by ``collegesearch.cli``; settings and errors come from ``cli_support``.
"""

from __future__ import annotations

import click

from collegesearch.cli_support import UserError, settings_of


@click.command()
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 32),
              help="Crawls this worker runs at once (each in its own process).")
@click.option("--sync-index", is_flag=True,
              help="Also sync this machine's index after each crawl (a crawl machine that serves searches "
                   "without `index follow`).")
@click.pass_context
def worker(ctx: click.Context, concurrency: int, sync_index: bool) -> None:
    """Run queued crawls until SIGTERM/SIGINT (needs COLLEGESEARCH_DATABASE_URL).

    Takes crawl jobs (`crawl --queue`, or `schedule` in multi-node mode) off the queue in the
    catalog database and runs each as `collegesearch crawl` does. SIGTERM stops it gracefully:
    running crawls stop cleanly and go back on the queue. Start as many as you like, on any
    machine; a source is never crawled twice at once, and the jobs of a worker that died are
    retried by the others. Web nodes keep their indexes current with `index follow`, so a worker
    syncs none unless given --sync-index.
    """
    from ops.queue import QueueError

    settings = settings_of(ctx)
    try:
        if not settings.DATABASE_URL:
            raise QueueError("collegesearch worker needs COLLEGESEARCH_DATABASE_URL: the crawl queue lives in the "
                             "shared PostgreSQL catalog (see README, 'Scale out')")
        from ops.queue.worker import run_worker

        run_worker(settings, concurrency=concurrency, sync_index=sync_index, echo=click.echo)
    except QueueError as exc:
        raise UserError(str(exc)) from None
