"""The systemd units in deploy/ start real subcommands with options the command accepts."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from collegesearch.cli import main

UNITS = sorted((Path(__file__).resolve().parents[2] / "deploy").glob("*.service"))


def test_there_is_a_unit_for_every_long_running_process():
    assert {u.stem for u in UNITS} >= {"collegesearch-web", "collegesearch-schedule", "collegesearch-worker",
                                       "collegesearch-index-follow"}


@pytest.mark.parametrize("unit", UNITS, ids=[u.stem for u in UNITS])
def test_the_unit_starts_a_subcommand_that_accepts_its_options(unit):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text(encoding="utf-8"))
    argv = shlex.split(parser["Service"]["ExecStart"])
    assert argv[0].endswith("/collegesearch"), argv
    result = CliRunner().invoke(main, [*argv[1:], "--help"])
    assert result.exit_code == 0, result.output
