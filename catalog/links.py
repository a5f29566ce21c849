"""Record-linkage decisions: which IPEDS institution a source's entity was tied to, and how sure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from catalog.connection import CatalogConnection, to_json
from catalog.database import Row


@dataclass
class EntityLink:
    """A record-linkage decision: a source's entity tied (or not) to an IPEDS institution."""

    source: str
    entity_id: str
    name: str | None
    city: str | None
    state: str | None
    unitid: str | None
    confidence: float | None
    status: str
    candidates: list[dict[str, Any]]
    updated_at: str


class EntityLinks(CatalogConnection):
    """Saving and reading linkage decisions."""

    def save_link(
        self,
        *,
        source: str,
        entity_id: str,
        name: str | None,
        city: str | None,
        state: str | None,
        unitid: str | None,
        confidence: float | None,
        status: str,
        candidates: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Remember how a source's entity was linked to an institution."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO entity_links (source, entity_id, name, city, state, unitid, confidence, status,"
                " candidates, updated_at) VALUES (:source, :entity_id, :name, :city, :state, :unitid, :confidence,"
                " :status, :candidates, :updated_at)"
                " ON CONFLICT(source, entity_id) DO UPDATE SET name = excluded.name, city = excluded.city,"
                " state = excluded.state, unitid = excluded.unitid, confidence = excluded.confidence,"
                " status = excluded.status, candidates = excluded.candidates, updated_at = excluded.updated_at",
                {"source": source, "entity_id": entity_id, "name": name, "city": city, "state": state,
                 "unitid": unitid, "confidence": confidence, "status": status,
                 "candidates": to_json(list(candidates)), "updated_at": self.clock()},
            )

    def get_link(self, source: str, entity_id: str) -> EntityLink | None:
        """The stored linkage decision for one entity."""
        row = self.conn.execute(
            "SELECT * FROM entity_links WHERE source = :source AND entity_id = :entity_id",
            {"source": source, "entity_id": entity_id},
        ).fetchone()
        return _link(row) if row else None

    def list_links(self, source: str | None = None, status: str | None = None) -> list[EntityLink]:
        """Linkage decisions, optionally of one source or status."""
        sql = "SELECT * FROM entity_links WHERE 1 = 1"
        args: dict[str, str] = {}
        if source:
            sql += " AND source = :source"
            args["source"] = source
        if status:
            sql += " AND status = :status"
            args["status"] = status
        return [_link(r) for r in self.conn.execute(sql + " ORDER BY source, entity_id", args)]


def _link(row: Row) -> EntityLink:
    return EntityLink(
        source=row["source"], entity_id=row["entity_id"], name=row["name"], city=row["city"], state=row["state"],
        unitid=row["unitid"], confidence=row["confidence"], status=row["status"],
        candidates=json.loads(row["candidates"]) if row["candidates"] else [], updated_at=row["updated_at"],
    )
