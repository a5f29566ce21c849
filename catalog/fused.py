"""Reading the fused records users see: the same reads as the observations, over ``entities``.

``Catalog.fused`` is one of these sharing the catalog's connection, so ``cat.fused.get("program",
id)`` or ``cat.fused.children(unitid, "program")`` answer with one record per program, and
``cat.fused.changes_since(seq)`` follows the fused records' change log. It adds what only a fused
record has: the observations behind it (``sources``), where they disagree (``conflicts``), and the
way from an old id (a source's own program id, or an entity merged into another) to the current one.
"""

from __future__ import annotations

import json
from typing import Any

from catalog.changes import ChangeLog
from catalog.connection import CatalogConnection
from catalog.record_reads import RecordReads


class FusedView(RecordReads, ChangeLog):
    """Reads over ``entities`` and ``entity_changes`` on a catalog's connection."""

    _records = "entities"
    _changes = "entity_changes"

    def __init__(self, owner: CatalogConnection) -> None:  # noqa: D107 - shares the owner's connection
        # Not CatalogConnection.__init__: this view opens nothing, it borrows the owner's connection,
        # clock and transaction depth, so its reads see the owner's uncommitted writes.
        self.path = owner.path
        self.readonly = owner.readonly
        self.clock = owner.clock
        self.conn = owner.conn
        self._local_tx = owner._local_tx

    def sources(self, kind: str, entity_id: str) -> list[dict[str, Any]]:
        """The observations behind a fused record: ``{source, item_id, url, first_seen, last_seen, fields}``.

        ``fields`` are the fused fields whose value that source gave; live observations first.
        """
        row = self.conn.execute(
            "SELECT provenance FROM entities WHERE kind = :kind AND item_id = :item_id",
            {"kind": kind, "item_id": entity_id},
        ).fetchone()
        provenance: dict[str, str] = json.loads(row["provenance"]) if row and row["provenance"] else {}
        out = []
        for m in self.conn.execute(
            "SELECT i.item_id, i.source, i.url, i.first_seen, i.last_seen, i.last_changed, i.deleted_at, m.live"
            " FROM entity_members m CROSS JOIN items i WHERE i.kind = m.kind AND i.item_id = m.item_id"
            " AND m.kind = :kind AND m.entity_id = :entity_id ORDER BY m.live DESC, i.source, i.item_id",
            {"kind": kind, "entity_id": entity_id},
        ):
            live = bool(m["live"]) and m["deleted_at"] is None
            out.append({
                "source": m["source"], "item_id": m["item_id"], "url": m["url"], "first_seen": m["first_seen"],
                "last_seen": m["last_seen"], "last_changed": m["last_changed"], "live": live,
                "removed_at": None if live else m["deleted_at"],
                "fields": sorted(f for f, item in provenance.items() if item == m["item_id"]) if live else [],
            })
        return out

    def membership(self, kind: str) -> dict[str, str]:
        """Observation id -> fused record id, for every live observation of a kind (fusion quality checks)."""
        rows = self.conn.execute(
            "SELECT m.item_id, m.entity_id FROM entity_members m JOIN items i ON i.kind = m.kind"
            " AND i.item_id = m.item_id WHERE m.kind = :kind AND m.live = 1 AND i.deleted_at IS NULL",
            {"kind": kind},
        )
        return {r["item_id"]: r["entity_id"] for r in rows}

    def source_names(self, kind: str, entity_ids: list[str]) -> dict[str, list[str]]:
        """Entity id -> the sources that list it now (for lists that show each record's sources)."""
        out: dict[str, list[str]] = {}
        ids = list(dict.fromkeys(entity_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            params = {f"entity_id{i}": entity_id for i, entity_id in enumerate(chunk)}
            marks = ", ".join(f":{name}" for name in params)
            sql = ("SELECT DISTINCT m.entity_id, i.source FROM entity_members m CROSS JOIN items i"
                   " WHERE i.kind = m.kind AND i.item_id = m.item_id AND m.kind = :kind AND m.live = 1"
                   " AND i.deleted_at IS NULL AND m.entity_id IN (")
            sql += marks + ") ORDER BY m.entity_id, i.source"
            rows = self.conn.execute(sql, {"kind": kind, **params})
            for row in rows:
                out.setdefault(row["entity_id"], []).append(row["source"])
        return out

    def conflicts(self, kind: str, entity_id: str) -> list[dict[str, Any]]:
        """Where the sources of a fused record disagree: ``{field, value, source, since, others: [...]}``."""
        row = self.conn.execute(
            "SELECT conflicts FROM entities WHERE kind = :kind AND item_id = :item_id AND deleted_at IS NULL",
            {"kind": kind, "item_id": entity_id},
        ).fetchone()
        return json.loads(row["conflicts"]) if row and row["conflicts"] else []

    def current_id(self, kind: str, some_id: str) -> str | None:
        """The live fused record an old id now means: a source's own id, or an entity merged into another."""
        seen: set[str] = set()
        candidate: str | None = some_id
        while candidate is not None and candidate not in seen:
            seen.add(candidate)
            row = self.conn.execute(
                "SELECT 1 FROM entities WHERE kind = :kind AND item_id = :item_id AND deleted_at IS NULL",
                {"kind": kind, "item_id": candidate},
            ).fetchone()
            if row is not None:
                return candidate
            member = self.conn.execute(
                "SELECT entity_id FROM entity_members WHERE kind = :kind AND item_id = :item_id",
                {"kind": kind, "item_id": candidate},
            ).fetchone()
            if member is not None and member["entity_id"] not in seen:
                candidate = member["entity_id"]
                continue
            alias = self.conn.execute(
                "SELECT entity_id FROM entity_aliases WHERE kind = :kind AND old_id = :old_id",
                {"kind": kind, "old_id": candidate},
            ).fetchone()
            candidate = alias["entity_id"] if alias is not None else None
        return None
