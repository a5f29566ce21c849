"""Crawl runs and their stats, and the scheduler's decisions that are not runs."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog.connection import CatalogConnection, to_json


@dataclass
class Run:
    """One crawl run and its stats."""

    id: int
    source: str
    trigger: str
    status: str
    started_at: str
    finished_at: str | None
    pid: int | None
    host: str | None
    complete: bool
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    index_sync: dict[str, Any] | None = None


@dataclass
class ScheduleEvent:
    """Something the crawl scheduler decided that is not a run (a skipped trigger, a planned retry...)."""

    id: int
    at: str
    source: str | None
    event: str
    detail: str | None
    run_id: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"id": self.id, "at": self.at, "source": self.source, "event": self.event, "detail": self.detail,
                "run_id": self.run_id}


class RunLog(CatalogConnection):
    """Starting, finishing and listing crawl runs; recording scheduler events."""

    def start_run(self, source: str, trigger: str = "manual") -> int:
        """Record the start of a crawl run and return its id."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO runs (source, trigger, status, started_at, pid, host) VALUES (?, ?, 'running', ?, ?, ?)",
                (source, trigger, self.clock(), os.getpid(), socket.gethostname()),
            )
        return int(cur.lastrowid or 0)

    def finish_run(
        self, run_id: int, *, status: str, stats: dict[str, Any], complete: bool = False, error: str | None = None
    ) -> None:
        """Record how a run ended and its stats."""
        with self.transaction():
            self.conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, stats = ?, complete = ?, error = ? WHERE id = ?",
                (status, self.clock(), to_json(stats), int(complete), error, run_id),
            )

    def update_run_stats(self, run_id: int, stats: dict[str, Any]) -> None:
        """Store a run's stats so far (a killed run keeps what it reached)."""
        with self.transaction():
            self.conn.execute("UPDATE runs SET stats = ? WHERE id = ?", (to_json(stats), run_id))

    def set_run_index_sync(self, run_id: int, result: dict[str, Any]) -> None:
        """Attach the result of the index sync that followed a run."""
        with self.transaction():
            self.conn.execute("UPDATE runs SET index_sync = ? WHERE id = ?", (to_json(result), run_id))

    def get_run(self, run_id: int) -> Run | None:
        """One run by id."""
        row = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run(row) if row else None

    def list_runs(self, source: str | None = None, *, limit: int = 50, status: str | None = None) -> list[Run]:
        """Newest runs first."""
        sql = "SELECT * FROM runs WHERE 1 = 1"
        args: list[str | int] = []
        if source:
            sql += " AND source = ?"
            args.append(source)
        if status:
            sql += " AND status = ?"
            args.append(status)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [_run(r) for r in self.conn.execute(sql, args)]

    def running_runs(self, source: str | None = None) -> list[Run]:
        """Runs still marked running (possibly left by a killed process)."""
        return self.list_runs(source, status="running", limit=1000)

    def mark_interrupted(self, run_id: int, reason: str) -> None:
        """Close a run whose process died without finishing it."""
        with self.transaction():
            self.conn.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = COALESCE(finished_at, ?), error = ?"
                " WHERE id = ? AND status = 'running'",
                (self.clock(), reason, run_id),
            )

    # -- scheduler events ----------------------------------------------------------

    def add_schedule_event(
        self, event: str, *, source: str | None = None, detail: str | None = None, run_id: int | None = None
    ) -> int:
        """Record a scheduler decision that is not a run (``skipped``, ``retry``, ``failing``, ``started``...)."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO schedule_events (at, source, event, detail, run_id) VALUES (?, ?, ?, ?, ?)",
                (self.clock(), source, event, detail, run_id),
            )
        return int(cur.lastrowid or 0)

    def list_schedule_events(
        self, source: str | None = None, *, events: Sequence[str] = (), since: str | None = None, limit: int = 50
    ) -> list[ScheduleEvent]:
        """Scheduler events, newest first (none in a read-only file from before they existed)."""
        if self.schema_version() < 2:
            return []
        sql = "SELECT * FROM schedule_events WHERE 1 = 1"
        args: list[Any] = []
        if source:
            sql += " AND source = ?"
            args.append(source)
        if events:
            sql += f" AND event IN ({','.join('?' * len(events))})"
            args += list(events)
        if since:
            sql += " AND at >= ?"
            args.append(since)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [ScheduleEvent(id=r["id"], at=r["at"], source=r["source"], event=r["event"], detail=r["detail"],
                              run_id=r["run_id"]) for r in self.conn.execute(sql, args)]

    def prune_schedule_events(self, before: str) -> int:
        """Forget scheduler events older than ``before`` (an ISO time); returns how many."""
        with self.transaction():
            cur = self.conn.execute("DELETE FROM schedule_events WHERE at < ?", (before,))
        return cur.rowcount


def _run(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"], source=row["source"], trigger=row["trigger"], status=row["status"],
        started_at=row["started_at"], finished_at=row["finished_at"], pid=row["pid"], host=row["host"],
        complete=bool(row["complete"]), stats=json.loads(row["stats"]) if row["stats"] else {},
        error=row["error"], index_sync=json.loads(row["index_sync"]) if row["index_sync"] else None,
    )
