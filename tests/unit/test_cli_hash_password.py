"""``collegesearch hash-password`` and ``collegesearch --version`` through the real click group."""

from __future__ import annotations

import importlib.metadata
import json

from click.testing import CliRunner
from werkzeug.security import check_password_hash

from collegesearch.cli import main

PASSWORD = "correct horse battery staple"


def run(args, stdin=None):
    # CliRunner in Click 8.2+ keeps stdout and stderr apart.
    return CliRunner().invoke(main, args, input=stdin)


def test_hash_password_asks_twice_and_prints_a_hash_that_verifies():
    result = run(["hash-password"], f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    printed = result.stdout.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("scrypt:")
    assert check_password_hash(printed[0], PASSWORD)
    assert not check_password_hash(printed[0], PASSWORD + "x")
    assert PASSWORD not in result.stdout + result.stderr  # hidden input is never echoed


def test_hash_password_from_stdin_for_scripts():
    result = run(["hash-password", "--password-stdin"], PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert check_password_hash(result.stdout.strip(), PASSWORD)
    assert "password" not in result.stderr.lower()  # no prompt when reading stdin


def test_mismatched_confirmation_is_an_error_and_prints_no_hash():
    result = run(["hash-password"], f"{PASSWORD}\n{PASSWORD}!\n")
    assert result.exit_code == 1
    assert "scrypt:" not in result.stdout
    assert "error: the two passwords differ" in result.stderr


def test_short_or_missing_password_is_a_one_line_error():
    short = run(["hash-password", "--password-stdin"], "tooshort\n")
    assert short.exit_code == 1 and "scrypt:" not in short.stdout
    assert short.stderr.strip() == "error: use at least 12 characters for the admin password"
    empty = run(["hash-password", "--password-stdin"], "")
    assert empty.exit_code == 1 and "no password on stdin" in empty.stderr


def test_flask_command_makes_the_same_kind_of_hash(tmp_path):
    from webapp import create_app

    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "data")})
    result = app.test_cli_runner().invoke(args=["hash-password"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert check_password_hash(result.output.strip().splitlines()[-1], PASSWORD)


def test_version_comes_from_the_package_metadata(tmp_path):
    expected = importlib.metadata.version("collegesearch")
    result = run(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"collegesearch, version {expected}"
    status = run(["--data-dir", str(tmp_path / "data"), "status", "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["version"] == expected
