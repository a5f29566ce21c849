"""``collegesearch index follow``: the command that keeps this node's index in step with the catalog (``ops.follow``).

``collegesearch.cli`` imports this module to register the command, so nothing here imports it back:
the one-line error and the settings lookup below behave as ``cli.UserError`` and ``cli._settings`` do.
"""

from __future__ import annotations

from typing import Any

import click

from collegesearch.config import ConfigError, Settings, load_settings


class FollowUserError(click.ClickException):
    """An error the user can fix; printed as one ``error:`` line, exit code 1 (as ``cli.UserError``)."""

    def show(self, file: Any = None) -> None:  # noqa: D102 - click API
        click.echo(f"error: {self.format_message()}", err=True)


def _settings(ctx: click.Context) -> Settings:
    """The settings of this invocation (--config, --data-dir, the environment), shared through the root context."""
    obj = ctx.find_root().obj or {}
    if "settings" not in obj:
        overrides = {"DATA_DIR": obj["data_dir"]} if obj.get("data_dir") else {}
        try:
            obj["settings"] = load_settings(config_file=obj.get("config") or True, overrides=overrides)
        except ConfigError as exc:
            raise FollowUserError(str(exc)) from None
        ctx.find_root().obj = obj
    settings: Settings = obj["settings"]
    return settings


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

    settings = _settings(ctx)
    try:
        run_follower(settings, poll_seconds=poll_seconds, echo=click.echo)
    except FollowError as exc:
        raise FollowUserError(str(exc)) from None
    except KeyboardInterrupt:
        raise FollowUserError("index follow stopped in the middle of a batch; the next sync applies it again") from None
