"""The locustfile's per-request log read back: every request's name, start, time and outcome, and why failures failed."""

from __future__ import annotations

import csv
from pathlib import Path


def failure_reasons(path: Path) -> dict[str, int]:
    """How many requests of the locustfile's log failed, by request name and error."""
    reasons: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["ok"] != "1":
                key = f"{row['name']}: {row.get('error') or 'unknown'}"
                reasons[key] = reasons.get(key, 0) + 1
    return reasons


def read_request_log(path: Path) -> list[tuple[str, float, float, bool, bool]]:
    """The locustfile's per-request log: (name, start epoch s, ms, ok, repeated long-tail query)."""
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rows.append((row["name"], float(row["start"]), float(row["ms"]), row["ok"] == "1", row["repeated"] == "1"))
    return rows
