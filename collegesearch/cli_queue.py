"""The crawl queue's commands (multi-node mode): ``collegesearch worker``.

Registered on the main group by ``collegesearch.cli``; this module does not import it (the two
would need each other), so it reads the settings and reports errors the same way on its own.
"""

from __future__ import annotations

from typing import Any

import click

from collegesearch.config import ConfigError, Settings, load_settings


class QueueUserError(click.ClickException):
    """An error the user can fix; printed as one ``error:`` line, exit code 1 (as ``cli.UserError``)."""

    def show(self, file: Any = None) -> None:  # noqa: D102 - click API
        click.echo(f"error: {self.format_message()}", err=True)


def _settings(ctx: click.Context) -> Settings:
    """The settings of this invocation (``--config``, ``--data-dir``, environment), loaded once per command line."""
    obj = ctx.find_root().obj or {}
    if "settings" not in obj:
        overrides = {"DATA_DIR": obj["data_dir"]} if obj.get("data_dir") else {}
        try:
            obj["settings"] = load_settings(config_file=obj.get("config") or True, overrides=overrides)
        except ConfigError as exc:
            raise QueueUserError(str(exc)) from None
        ctx.find_root().obj = obj
    settings: Settings = obj["settings"]
    return settings


@click.command()
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 32),
              help="Crawls this worker runs at once (each in its own process).")
@click.pass_context
def worker(ctx: click.Context, concurrency: int) -> None:
    """Run queued crawls until SIGTERM/SIGINT (needs COLLEGESEARCH_DATABASE_URL).

    Takes crawl jobs (`crawl --queue`, or `schedule` in multi-node mode) off the queue in the
    catalog database and runs each as `collegesearch crawl` does. SIGTERM stops it gracefully:
    running crawls stop cleanly and go back on the queue. Start as many as you like, on any
    machine; a source is never crawled twice at once, and the jobs of a worker that died are
    retried by the others.
    """
    from ops.queue import QueueError

    settings = _settings(ctx)
    try:
        if not settings.DATABASE_URL:
            raise QueueError("collegesearch worker needs COLLEGESEARCH_DATABASE_URL: the crawl queue lives in the "
                             "shared PostgreSQL catalog (see README, 'Scale out')")
        from ops.queue.worker import run_worker

        run_worker(settings, concurrency=concurrency, echo=click.echo)
    except QueueError as exc:
        raise QueueUserError(str(exc)) from None
