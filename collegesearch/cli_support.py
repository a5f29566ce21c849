"""What ``collegesearch`` subcommand modules share: the one-line user error, the settings of the run, a password prompt."""

from __future__ import annotations

import sys
from typing import Any

import click

from collegesearch.config import ConfigError, Settings, load_settings


class UserError(click.ClickException):
    """An error the user can fix; printed as one line, exit code 1."""

    def show(self, file: Any = None) -> None:  # noqa: D102 - click API
        click.echo(f"error: {self.format_message()}", err=True)


def settings_of(ctx: click.Context) -> Settings:
    """The settings of this invocation (config file, environment, --data-dir), loaded once."""
    obj = ctx.find_root().obj or {}
    if "settings" not in obj:
        overrides: dict[str, Any] = {}
        if obj.get("data_dir"):
            overrides["DATA_DIR"] = obj["data_dir"]
        try:
            obj["settings"] = load_settings(config_file=obj.get("config") or True, overrides=overrides)
        except ConfigError as exc:
            raise UserError(str(exc)) from None
        ctx.find_root().obj = obj
    settings: Settings = obj["settings"]
    return settings


def read_new_password(*, from_stdin: bool) -> str:
    """A new password: the first line of stdin, or asked twice with hidden input (``UserError`` when they differ)."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            raise UserError("no password on stdin (--password-stdin reads its first line)")
        return password
    # Asked exactly twice rather than click's re-prompting confirmation: a mismatch is an error a
    # script sees (exit 1) instead of a prompt that waits forever.
    password = str(click.prompt("Admin password", hide_input=True, err=True))
    again = str(click.prompt("Repeat the password", hide_input=True, err=True))
    if password != again:
        raise UserError("the two passwords differ; nothing was printed, try again")
    return password
