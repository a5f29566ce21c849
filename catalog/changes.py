"""The change log read back: the feed for people, summaries per run, one item's history."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from catalog.connection import CatalogConnection


@dataclass
class Change:
    """One entry of the change log."""

    seq: int
    kind: str
    item_id: str
    op: str
    at: str
    run_id: int | None
    source: str | None
    state: str | None
    title: str | None
    diff: dict[str, list[Any]] | None


class ChangeLog(CatalogConnection):
    """Reading a change log: ``changes`` (observations) unless a subclass names ``entity_changes`` (fused records)."""

    _changes = "changes"

    def max_change_seq(self) -> int:
        """The newest change-log sequence number (0 when empty)."""
        return int(self.conn.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {self._changes}").fetchone()[0])  # noqa: S608 - a class constant

    def changes_since(self, seq: int, *, limit: int = 1000) -> list[Change]:
        """Change-log entries after ``seq``, oldest first."""
        rows = self.conn.execute(f"SELECT * FROM {self._changes} WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))  # noqa: S608 - a class constant
        return [_change(r) for r in rows]

    def change_feed(
        self,
        *,
        kinds: Sequence[str] = (),
        state: str | None = None,
        ops: Sequence[str] = (),
        since: str | None = None,
        before_seq: int | None = None,
        run_id: int | None = None,
        fields: Sequence[str] = (),
        limit: int = 100,
    ) -> list[Change]:
        """Newest-first changes for people to read, filtered by kind, state, operation, time, run and changed field.

        ``fields`` keeps changes whose diff touches at least one of the named item fields
        (e.g. ``accreditation_status`` for status changes, ``median_pay_annual`` for pay changes).
        """
        sql = f"SELECT * FROM {self._changes} WHERE 1 = 1"  # noqa: S608 - a class constant
        args: list[Any] = []
        if fields:
            sql += " AND (" + " OR ".join("json_type(diff, ?) IS NOT NULL" for _ in fields) + ")"
            args += [_json_path(f) for f in fields]
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += list(kinds)
        if ops:
            sql += f" AND op IN ({','.join('?' * len(ops))})"
            args += list(ops)
        if state:
            sql += " AND state = ?"
            args.append(state)
        if since:
            sql += " AND at >= ?"
            args.append(since)
        if before_seq is not None:
            sql += " AND seq < ?"
            args.append(before_seq)
        if run_id is not None:
            sql += " AND run_id = ?"
            args.append(run_id)
        sql += " ORDER BY seq DESC LIMIT ?"
        args.append(limit)
        return [_change(r) for r in self.conn.execute(sql, args)]

    def change_summary(
        self, *, run_ids: Sequence[int] = (), since: str | None = None, status_field: str = "accreditation_status",
        closing_statuses: Sequence[str] = (), field_groups: Mapping[str, Sequence[str]] | None = None,
    ) -> list[dict[str, Any]]:
        """Counts of changes per run, kind and operation, newest run first (optionally some runs, or since a time).

        Rows ``{"run_id", "kind", "op", "count", "status_changes", "closings", "field_counts", "first_at",
        "last_at"}``: ``status_changes`` touched ``status_field``, ``closings`` set it to one of
        ``closing_statuses``, ``field_counts[g]`` touched at least one field of ``field_groups[g]``.
        """
        status_path = _json_path(status_field)
        closing = list(closing_statuses) or ["-none-"]
        columns = ["SUM(json_type(diff, ?) IS NOT NULL) AS status_changes",
                   f"SUM(json_extract(diff, ? || '[1]') IN ({','.join('?' * len(closing))})) AS closings"]
        args: list[Any] = [status_path, status_path, *closing]
        groups = list((field_groups or {}).items())
        for i, (_name, members) in enumerate(groups):
            either = " OR ".join("json_type(diff, ?) IS NOT NULL" for _ in members) or "0"
            columns.append(f"SUM({either}) AS f{i}")
            args += [_json_path(m) for m in members]
        # Only fixed fragments and placeholders go into the SQL; field names and values are parameters.
        sql = "SELECT run_id, kind, op, COUNT(*) AS count"
        for column in columns:
            sql += ", " + column
        sql += f", MIN(at) AS first_at, MAX(at) AS last_at FROM {self._changes} WHERE 1 = 1"
        if run_ids:
            sql += f" AND run_id IN ({','.join('?' * len(run_ids))})"
            args += list(run_ids)
        if since:
            sql += " AND at >= ?"
            args.append(since)
        sql += " GROUP BY run_id, kind, op ORDER BY MAX(seq) DESC"
        return [{"run_id": r["run_id"], "kind": r["kind"], "op": r["op"], "count": int(r["count"]),
                 "status_changes": int(r["status_changes"] or 0), "closings": int(r["closings"] or 0),
                 "field_counts": {name: int(r[f"f{i}"] or 0) for i, (name, _m) in enumerate(groups)},
                 "first_at": r["first_at"], "last_at": r["last_at"]}
                for r in self.conn.execute(sql, args)]

    def item_history(self, kind: str, item_id: str) -> list[Change]:
        """Every change-log entry of one item, oldest first (e.g. a program's status history)."""
        rows = self.conn.execute(
            f"SELECT * FROM {self._changes} WHERE kind = ? AND item_id = ? ORDER BY seq", (kind, item_id)  # noqa: S608 - a class constant
        )
        return [_change(r) for r in rows]

    def last_updated(self) -> str | None:
        """When any item last changed (for "last updated" on the home page)."""
        row = self.conn.execute(f"SELECT MAX(at) FROM {self._changes}").fetchone()  # noqa: S608 - a class constant
        return row[0] if row else None


def _json_path(field_name: str) -> str:
    """The JSON path of a top-level key (quoted, so any field name is safe)."""
    return '$."' + field_name.replace('"', "") + '"'


def _change(row: sqlite3.Row) -> Change:
    return Change(
        seq=row["seq"], kind=row["kind"], item_id=row["item_id"], op=row["op"], at=row["at"], run_id=row["run_id"],
        source=row["source"], state=row["state"], title=row["title"],
        diff=json.loads(row["diff"]) if row["diff"] else None,
    )
