"""``flask --app webapp hash-password``: make the ADMIN_PASSWORD_HASH value (registered through ``app.cli``).

``collegesearch hash-password`` does the same without building the app; both use ``ops.passwords``.
"""

from __future__ import annotations

import click
from flask import Flask

from ops.passwords import make_password_hash


@click.command("hash-password")
@click.password_option("--password", prompt="Admin password", help="The password (prompted when left out).")
def hash_password_command(password: str) -> None:
    """Print the hash to put in COLLEGESEARCH_ADMIN_PASSWORD_HASH."""
    try:
        click.echo(make_password_hash(password))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def init_app(app: Flask) -> None:
    """Register the command."""
    app.cli.add_command(hash_password_command)
