"""``flask --app webapp hash-password``: make the ADMIN_PASSWORD_HASH value (registered through ``app.cli``)."""

from __future__ import annotations

import click
from flask import Flask
from werkzeug.security import generate_password_hash

MIN_PASSWORD_CHARS = 12


def make_password_hash(password: str) -> str:
    """A Werkzeug (scrypt) hash of the admin password."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"use at least {MIN_PASSWORD_CHARS} characters for the admin password")
    return generate_password_hash(password)


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
