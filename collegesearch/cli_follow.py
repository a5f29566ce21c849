"""``collegesearch index follow``: the command that keeps this node's index in step with the catalog (``ops.follow``).

Registered on the ``index`` group by ``collegesearch.cli``; settings and errors come from ``cli_support``.
"""

from __future__ import annotations

import click

from collegesearch.cli_support import UserError, settings_of


@click.command("follow")
@click.option("--poll", "poll_seconds", type=click.FloatRange(0.1, 3600), default=None,
              help="Seconds between reads of the change log without a notice.  [default: FOLLOW_POLL_SECONDS, 5]")
@click.pass_context
def follow(ctx: click.Context, poll_seconds: float | None) -> None:
    """Keep this node's index in step with the catalog's change log until stopped.

    Applies changes as `index sync` does (a rebuild when there is no index yet), woken by the
    catalog's notices on PostgreSQL and polling every FOLLOW_POLL_SECONDS anyway. SIGTERM or
    Ctrl-C finishes the current batch and exits 0; a second one stops at once.
    """
    from ops.follow import FollowError, run_follower

    settings = settings_of(ctx)
    try:
        run_follower(settings, poll_seconds=poll_seconds, echo=click.echo)
    except FollowError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        raise UserError("index follow stopped in the middle of a batch; the next sync applies it again") from None
