"""Crawl runs and their stats, and the scheduler's decisions that are not runs."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog.connection import CatalogConnection, to_json
from catalog.database import Row


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
            run_id = self.conn.execute(
                "INSERT INTO runs (source, trigger, status, started_at, pid, host)"
                " VALUES (:source, :trigger, 'running', :started_at, :pid, :host) RETURNING id",
                {"source": source, "trigger": trigger, "started_at": self.clock(), "pid": os.getpid(),
                 "host": socket.gethostname()},
            ).scalar()
        return int(run_id or 0)

    def finish_run(
        self, run_id: int, *, status: str, stats: dict[str, Any], complete: bool = False, error: str | None = None
    ) -> None:
        """Record how a run ended and its stats."""
        with self.transaction():
            self.conn.execute(
                "UPDATE runs SET status = :status, finished_at = :finished_at, stats = :stats, complete = :complete,"
                " error = :error WHERE id = :id",
                {"status": status, "finished_at": self.clock(), "stats": to_json(stats), "complete": int(complete),
                 "error": error, "id": run_id},
            )

    def update_run_stats(self, run_id: int, stats: dict[str, Any]) -> None:
        """Store a run's stats so far (a killed run keeps what it reached)."""
        with self.transaction():
            self.conn.execute("UPDATE runs SET stats = :stats WHERE id = :id", {"stats": to_json(stats), "id": run_id})

    def set_run_index_sync(self, run_id: int, result: dict[str, Any]) -> None:
        """Attach the result of the index sync that followed a run."""
        with self.transaction():
            self.conn.execute("UPDATE runs SET index_sync = :index_sync WHERE id = :id",
                              {"index_sync": to_json(result), "id": run_id})

    def get_run(self, run_id: int) -> Run | None:
        """One run by id."""
        row = self.conn.execute("SELECT * FROM runs WHERE id = :id", {"id": run_id}).fetchone()
        return _run(row) if row else None

    def list_runs(self, source: str | None = None, *, limit: int = 50, status: str | None = None) -> list[Run]:
        """Newest runs first."""
        sql = "SELECT * FROM runs WHERE 1 = 1"
        args: dict[str, str | int] = {}
        if source:
            sql += " AND source = :source"
            args["source"] = source
        if status:
            sql += " AND status = :status"
            args["status"] = status
        sql += " ORDER BY id DESC LIMIT :limit"
        args["limit"] = limit
        return [_run(r) for r in self.conn.execute(sql, args)]

    def run_stats_by_source(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(source, status, stats) of every run, oldest first: one read, for the metrics' totals."""
        return [(r["source"], r["status"], json.loads(r["stats"]) if r["stats"] else {})
                for r in self.conn.execute("SELECT source, status, stats FROM runs ORDER BY id")]

    def running_runs(self, source: str | None = None) -> list[Run]:
        """Runs still marked running (possibly left by a killed process)."""
        return self.list_runs(source, status="running", limit=1000)

    def mark_interrupted(self, run_id: int, reason: str) -> None:
        """Close a run whose process died without finishing it."""
        with self.transaction():
            self.conn.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = COALESCE(finished_at, :now), error = :error"
                " WHERE id = :id AND status = 'running'",
                {"now": self.clock(), "error": reason, "id": run_id},
            )

    # -- scheduler events ----------------------------------------------------------

    def add_schedule_event(
        self, event: str, *, source: str | None = None, detail: str | None = None, run_id: int | None = None
    ) -> int:
        """Record a scheduler decision that is not a run (``skipped``, ``retry``, ``failing``, ``started``...)."""
        with self.transaction():
            event_id = self.conn.execute(
                "INSERT INTO schedule_events (at, source, event, detail, run_id)"
                " VALUES (:at, :source, :event, :detail, :run_id) RETURNING id",
                {"at": self.clock(), "source": source, "event": event, "detail": detail, "run_id": run_id},
            ).scalar()
        return int(event_id or 0)

    def list_schedule_events(
        self, source: str | None = None, *, events: Sequence[str] = (), since: str | None = None, limit: int = 50
    ) -> list[ScheduleEvent]:
        """Scheduler events, newest first (none in a read-only file from before they existed)."""
        if not self.postgres and self.schema_version() < 2:  # PostgreSQL databases start with every table
            return []
        sql = "SELECT * FROM schedule_events WHERE 1 = 1"
        args: dict[str, Any] = {}
        if source:
            sql += " AND source = :source"
            args["source"] = source
        if events:
            names = {f"event{i}": name for i, name in enumerate(events)}
            marks = ", ".join(f":{name}" for name in names)
            sql += f" AND event IN ({marks})"
            args.update(names)
        if since:
            sql += " AND at >= :since"
            args["since"] = since
        sql += " ORDER BY id DESC LIMIT :limit"
        args["limit"] = limit
        return [ScheduleEvent(id=r["id"], at=r["at"], source=r["source"], event=r["event"], detail=r["detail"],
                              run_id=r["run_id"]) for r in self.conn.execute(sql, args)]

    def prune_schedule_events(self, before: str) -> int:
        """Forget scheduler events older than ``before`` (an ISO time); returns how many."""
        with self.transaction():
            cur = self.conn.execute("DELETE FROM schedule_events WHERE at < :before", {"before": before})
        return cur.rowcount


def _run(row: Row) -> Run:
    return Run(
        id=row["id"], source=row["source"], trigger=row["trigger"], status=row["status"],
        started_at=row["started_at"], finished_at=row["finished_at"], pid=row["pid"], host=row["host"],
        complete=bool(row["complete"]), stats=json.loads(row["stats"]) if row["stats"] else {},
        error=row["error"], index_sync=json.loads(row["index_sync"]) if row["index_sync"] else None,
    )
