"""The ``collegesearch`` command: one click group over crawler, index, web app and sample site.

Each subcommand is a thin wrapper; the work lives in the package that owns it. Errors a user
can fix (bad config, a busy port, a missing catalog) print one ``error:`` line and exit non-zero.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from catalog.storage_errors import environment_problem
from collegesearch import __version__
from collegesearch.cli_support import UserError, read_new_password, settings_of

KIND_CHOICES = ("career", "program", "institution", "review")


class CollegesearchGroup(click.Group):
    """The command group, with every error a user can fix printed as ONE ``error:`` line (exit 1, usage 2)."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Run the command; in standalone mode turn usage errors and machine problems into one line."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "collegesearch"
            click.echo(f"error: {exc.format_message().rstrip('.')} (see `{command} --help`)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(1)
        except Exception as exc:
            line = environment_problem(exc)
            if line is None:
                raise
            click.echo(f"error: {line}", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


_settings = settings_of


@click.group(cls=CollegesearchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="TOML config file (also COLLEGESEARCH_CONFIG).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Data folder for catalog and index (also COLLEGESEARCH_DATA_DIR).")
@click.version_option(__version__, prog_name="collegesearch")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, data_dir: str | None) -> None:
    """Search careers, accredited programs, colleges and student reviews."""
    ctx.obj = {"config": config_file, "data_dir": data_dir}


def _announce(url: str) -> None:
    # Flushed at once: scripts and tests wait for this first line to learn the port.
    click.echo(url)
    sys.stdout.flush()


@main.command("sample-site")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address of the portal.")
@click.option("--port", default=8800, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 picks a free one).")
@click.option("--epoch", default=1, show_default=True, type=click.IntRange(1, 1000),
              help="Point in the site's history; higher epochs change programs, institutions, reviews, pay.")
@click.option("--no-faults", is_flag=True, help="Turn off 404s, 503s, slow, malformed and Latin-1 pages.")
@click.option("--access-log", type=click.Path(dir_okay=False), default=None,
              help="Append one JSON line per request to this file.")
@click.option("--scale", default=1, show_default=True, type=click.IntRange(1, 50),
              help="Serve N times the programs and reviews (deterministic), for scale checks.")
@click.option("--stale-lastmod", is_flag=True,
              help="Sitemaps keep the first epoch's lastmod: a site whose sitemaps lie about changes.")
def sample_site_cmd(host: str, port: int, epoch: int, no_faults: bool, access_log: str | None, scale: int,
                    stale_lastmod: bool) -> None:
    """Serve the bundled sample site on loopback until interrupted (prints its base URL first)."""
    from sample_site.server import SampleSiteError, serve

    try:
        serve(host=host, port=port, epoch=epoch, faults=not no_faults, access_log=access_log,
              announce=_announce, scale=scale, stale_lastmod=stale_lastmod)
    except SampleSiteError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        pass


@main.command()
@click.argument("sources", nargs=-1)
@click.option("--base-url", default=None, help="Base URL of a running sample site (what `sample-site` prints).")
@click.option("--sync", "sync_index", is_flag=True,
              help="Sync the search index afterwards (also after a failed run) and record the result on the runs.")
@click.option("--trigger", default="manual", hidden=True, type=click.Choice(("manual", "schedule", "admin", "retry", "demo")))
@click.option("--queue", "to_queue", is_flag=True, help="Queue the crawls for `collegesearch worker` (needs DATABASE_URL); "
              "prints one job id per source.")
@click.option("--full", is_flag=True, help="Fetch every page, due or not (default: only the pages whose revisit "
              "interval has passed, pages whose sitemap lastmod is newer, listings and new pages).")
@click.pass_context
def crawl(ctx: click.Context, sources: tuple[str, ...], base_url: str | None, sync_index: bool, trigger: str,
          to_queue: bool, full: bool) -> None:
    """Crawl SOURCES (default: all enabled in config) into the catalog and print a summary.

    A scheduled crawl (the default) fetches the pages that are due by their own revisit interval,
    listings, new pages and pages whose sitemap lastmod is newer than our copy; --full fetches all.

    Each source's crawl lock is taken first: a source that is already being crawled (by the
    scheduler, an admin or another shell) is refused with one error line.
    """
    from crawler.run import CrawlError, format_summary, run_crawl

    settings = _settings(ctx)
    if to_queue and full:
        raise UserError("--full does not go with --queue: queued crawls are scheduled crawls; run "
                        "`collegesearch crawl --full SOURCE` on a worker machine instead")
    if to_queue:
        from ops.queue import QueueError, queue_crawls

        try:
            for queued in queue_crawls(settings, list(sources) or list(settings.SOURCES), trigger, base_url=base_url,
                                       sync=sync_index):
                click.echo(queued.line())
        except QueueError as exc:
            raise UserError(str(exc)) from None
        return
    if settings.LOG_FORMAT == "json":
        from ops.log_setup import setup_logging

        # Installed before Scrapy starts, which then adds no handler of its own (crawler.run).
        setup_logging(settings.LOG_LEVEL, settings.LOG_FORMAT)
    try:
        # run_crawl takes every requested source's crawl lock before it starts and fails fast
        # with the holder's pid and purpose (ops.locks.LockBusy) when one is taken.
        summaries = run_crawl(settings, list(sources) or None, base_url=base_url, trigger=trigger, full=full)
    except CrawlError as exc:
        if trigger != "manual":
            from ops.policy import record_failed_start

            # Nobody watches this terminal (an admin's button, the scheduler): the run list must show it.
            record_failed_start(settings, list(sources) or list(settings.SOURCES), trigger, str(exc))
        raise UserError(str(exc)) from None
    click.echo(format_summary(summaries))
    run_ids = [s.run_id for s in summaries if s.run_id]
    if sync_index and run_ids:
        from ops.index_sync import sync_after_runs

        # Whatever a failed run stored is good data: it becomes searchable too.
        info = sync_after_runs(settings, run_ids)
        click.echo(info.get("summary") or f"index sync {info.get('status')}")
        if info.get("status") != "ok":
            ctx.exit(1)
    if any(s.status == "failed" for s in summaries):
        ctx.exit(1)


@main.group()
def index() -> None:
    """Bring the Whoosh index up to date with the catalog."""


@index.command("sync")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for another index writer.")
@click.pass_context
def index_sync(ctx: click.Context, timeout: float) -> None:
    """Apply the catalog's changes since the index's watermark."""
    _run_index_job(ctx, "sync", timeout)


@index.command("rebuild")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for another index writer.")
@click.pass_context
def index_rebuild(ctx: click.Context, timeout: float) -> None:
    """Build a fresh index from the whole catalog and swap it in atomically."""
    _run_index_job(ctx, "rebuild", timeout)




def _run_index_job(ctx: click.Context, job: str, timeout: float) -> None:
    """Run ``indexer.build.sync`` or ``rebuild`` with progress on stderr and its summary on stdout."""
    from indexer import build

    run = build.sync if job == "sync" else build.rebuild
    try:
        result = run(_settings(ctx), lock_timeout=timeout, progress=lambda msg: click.echo(msg, err=True))
    except build.IndexError_ as exc:
        raise UserError(str(exc)) from None
    click.echo(result.summary())


@main.command()
@click.option("--host", default=None, help="Address to listen on (default: WEB_HOST).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port (default: WEB_PORT, 5000).")
@click.option("--workers", default=None, type=click.IntRange(1, 64), help="Worker processes (default: WEB_WORKERS).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web app with the production WSGI server (gunicorn)."""
    from webapp.serve import ServeError, serve_app

    settings = _settings(ctx)
    try:
        serve_app(settings, host=host or settings.WEB_HOST, port=port or settings.WEB_PORT,
                  workers=workers or settings.WEB_WORKERS)
    except ServeError as exc:
        raise UserError(str(exc)) from None


@main.command()
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help="Web app port.  [default: WEB_PORT, 5000]")
@click.option("--site-port", default=8800, show_default=True, type=click.IntRange(0, 65535),
              help="Sample site port (0 picks a free one).")
@click.option("--no-serve", is_flag=True, help="Stop after crawling and indexing (for scripts and benchmarks).")
@click.pass_context
def demo(ctx: click.Context, port: int | None, site_port: int, no_serve: bool) -> None:
    """The main job: sample site, crawl (incremental when data exists), index, serve, print the URL."""
    from collegesearch.demo import DemoError, run_demo

    settings = _settings(ctx)
    try:
        run_demo(settings, port=port if port is not None else settings.WEB_PORT, site_port=site_port,
                 serve=not no_serve, echo=click.echo)
    except DemoError as exc:
        raise UserError(str(exc)) from None


@main.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--profile", default=None, help="Site profile to use (default: picked by URL, else generic).")
@click.option("--kind", type=click.Choice(KIND_CHOICES), default=None, help="Only print items of this kind.")
@click.pass_context
def extract(ctx: click.Context, targets: tuple[str, ...], profile: str | None, kind: str | None) -> None:
    """Print the items extracted from each URL or saved HTML file, one JSON object per line."""
    from crawler.extract import ExtractError, extract_targets

    settings = _settings(ctx)  # --config and --data-dir apply here too (SITES_FILE, USER_AGENT)
    failures = 0
    try:
        for target, result in extract_targets(list(targets), profile=profile, kind=kind, settings=settings):
            if isinstance(result, ExtractError):
                failures += 1
                click.echo(f"error: {target}: {result}", err=True)
                continue
            click.echo(json.dumps(result, ensure_ascii=False, sort_keys=False))
    except ExtractError as exc:
        raise UserError(str(exc)) from None
    if failures:
        ctx.exit(1)


@main.command()
@click.option("--once", is_flag=True,
              help="Run every due job (missed fire times, due retries, never-crawled sources) once, then exit (for cron).")
@click.pass_context
def schedule(ctx: click.Context, once: bool) -> None:
    """Run the crawl scheduler in the foreground (one process per deployment).

    Crawls each source with a schedule (COLLEGESEARCH_SCHEDULE_<SOURCE>, or a site profile's
    'schedule') in a child process, syncs the index after each crawl, retries failures with
    backoff. SIGTERM stops it gracefully.
    """
    from ops.jobs import ScheduleError
    from ops.scheduler import run_scheduler

    settings = _settings(ctx)
    try:
        run_scheduler(settings, once=once, echo=click.echo)
    except ScheduleError as exc:
        raise UserError(str(exc)) from None


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Print the schedule (next run per source), the last runs and the index state."""
    from ops.jobs import ScheduleError
    from ops.status import status_report

    settings = _settings(ctx)
    try:
        report = status_report(settings)
    except ScheduleError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        # The version helps whoever reads a saved status tell which release wrote it.
        click.echo(json.dumps({"version": __version__, **report.to_dict()}, indent=2))
    else:
        click.echo(report.format())


@main.command("hash-password")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of stdin (for scripts) instead of asking twice.")
def hash_password(password_stdin: bool) -> None:
    """Print the hash of an admin password, to put in COLLEGESEARCH_ADMIN_PASSWORD_HASH.

    Needs no settings and reads no data folder. Asks twice with hidden input; the password is
    never echoed or stored.
    """
    from ops.passwords import make_password_hash

    password = read_new_password(from_stdin=password_stdin)
    try:
        click.echo(make_password_hash(password))
    except ValueError as exc:
        raise UserError(str(exc)) from None


# Subcommands kept in their own modules (registered last: they import what this module defines).
from collegesearch.cli_db import db  # noqa: E402
from collegesearch.cli_follow import follow  # noqa: E402
from collegesearch.cli_queue import worker  # noqa: E402

main.add_command(db)
index.add_command(follow)
main.add_command(worker)

if __name__ == "__main__":  # pragma: no cover
    main()
