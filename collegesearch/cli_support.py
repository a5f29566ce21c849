"""What every ``collegesearch`` subcommand module shares: the one-line user error and the settings of the run."""

from __future__ import annotations

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
