"""The fusion step: follow the observations' change log and keep the fused entities current.

``fuse_pending`` reads the ``changes`` written since its watermark (meta ``fusion_seq``), moves each
changed observation to the entity its key names, and re-fuses only the entities those observations
left or joined. An entity lives while any live observation belongs to it: one source's tombstone
removes that observation, not the program. A fused record that changes gets one ``entity_changes``
entry naming the source whose observation caused it; a change that only moves provenance or a
conflict is stored without an entry (nothing users search on changed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from catalog.change_notices import notify_changes
from catalog.connection import CatalogError, to_json
from catalog.database import Row, driver_error
from catalog.fusion import Fused, Observation, entity_id_candidates, fuse, fusion_key, rules_fingerprint
from catalog.meta import Meta
from catalog.records import content_hash, log_change, record_diff, record_parent, record_state, record_title

FUSION_SEQ_KEY = "fusion_seq"
"""Meta key: the last observation change-log sequence number the entities reflect."""
FUSION_RULES_KEY = "fusion_rules"
"""Meta key: the fingerprint of the rules the entities were fused under (``catalog.fusion.rules_fingerprint``)."""
FUSION_CURSOR_KEY = "fusion_cursor"
"""Meta key: the observation change log's cursor fusion has read up to (``catalog.changes.ChangeCursor``)."""
FUSION_LOCK = 0x66757365  # PostgreSQL advisory lock key of a fusion batch ("fuse")

MEMBER_ROWS_SQL = (
    "SELECT i.item_id, i.source, i.url, i.page_url, i.data, i.last_changed, i.last_run_id"
    " FROM entity_members m CROSS JOIN items i"
    " WHERE i.kind = m.kind AND i.item_id = m.item_id"
    " AND m.kind = :kind AND m.entity_id = :entity_id AND m.live = 1 AND i.deleted_at IS NULL"
)
"""The live observations of one entity (see ``_entity_rows`` for why the join is written so; its condition
is in WHERE because PostgreSQL's CROSS JOIN takes no ON, and SQLite keeps the CROSS JOIN order either way)."""

ENTITY_COLUMNS = ("source", "url", "page_url", "parent_id", "title", "state", "data", "content_hash", "last_seen",
                  "last_run_id", "fusion_key", "primary_item", "provenance", "conflicts")
"""The entity columns ``_write_entity`` sets from its ``columns`` tuple, in the tuple's order."""

Cause = tuple[int | None, str | None]
"""(run id, source) of the observation change that touched an entity."""


@dataclass
class FusionResult:
    """What one ``fuse_pending`` call did."""

    observations: int = 0
    """Observation changes read from the change log."""
    entities: dict[str, int] = field(default_factory=dict)
    """Entity change-log entries written, per op (new, changed, deleted, revived)."""
    refused: int = 0
    """Entities re-fused (including those whose fused record did not change)."""
    watermark: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stored in run stats and printed by the CLI)."""
        return {"observations": self.observations, "entities": dict(self.entities), "refused": self.refused,
                "watermark": self.watermark}


class EntityStore(Meta):
    """Writing the fused entities from the observations (see the module docstring)."""

    def fusion_watermark(self) -> int | None:
        """The observation change the entities are fused up to; None before the first fusion."""
        value = self.get_meta(FUSION_SEQ_KEY)
        return int(value) if value is not None else None

    def fuse_pending(self, *, batch_size: int = 5000) -> FusionResult:
        """Bring the entities up to date with every observation change not fused yet.

        Raises ``CatalogError`` when the catalog cannot be written (read-only, locked too long, full).
        """
        try:
            return self._fuse_pending(batch_size)
        except driver_error("OperationalError") as exc:
            raise CatalogError(f"cannot fuse new observations in {self.path}: {exc}") from exc

    def _fuse_pending(self, batch_size: int) -> FusionResult:
        from catalog.changes import ChangeCursor

        result = FusionResult()
        rules = rules_fingerprint()
        while True:
            with self.transaction():
                if self.conn.postgres:
                    # Several processes fuse one shared catalog (every node's index follower, crawls as
                    # they end): one batch at a time, each reading the cursor the previous one left and
                    # writing entities from fresh reads.
                    self.conn.execute("SELECT pg_advisory_xact_lock(:key)", {"key": FUSION_LOCK})
                # Before the first fusion the watermark is 0: every observation was written with a
                # change-log entry (the log is never pruned), so replaying it from the start fuses them
                # all, each entity credited to the run and source that brought it.
                watermark = self.fusion_watermark() or 0
                cursor = ChangeCursor.from_json(json.loads(self.get_meta(FUSION_CURSOR_KEY) or "null"), watermark)
                if watermark and self.get_meta(FUSION_RULES_KEY) != rules:
                    # the rules changed since the last fusion: replay every observation under them
                    watermark, cursor = 0, ChangeCursor()
                # Observations' changes in an order no late commit can overtake (see ChangeCursor).
                changes, after = self.changes_after(cursor, limit=batch_size)  # type: ignore[attr-defined]
                if not changes:
                    result.watermark = watermark
                    return result
                top = max(watermark, max(c.seq for c in changes))
                causes: dict[tuple[str, str], Cause] = {}
                for c in changes:
                    causes.pop((c.kind, c.item_id), None)  # keep the order of each one's last change
                    causes[(c.kind, c.item_id)] = (c.run_id, c.source)
                done = len(changes) < batch_size
                result.observations += len(causes)
                logged = sum(result.entities.values())
                self._fuse_observation_batch(causes, result)
                if sum(result.entities.values()) > logged:
                    notify_changes(self.conn)  # delivered to the index followers when this batch commits
                self.set_meta(FUSION_SEQ_KEY, str(top))
                self.set_meta(FUSION_CURSOR_KEY, json.dumps(after.to_json()))
                self.set_meta(FUSION_RULES_KEY, rules)
                result.watermark = top
            if done:
                return result

    def refuse_all(self) -> FusionResult:
        """Fuse every observation again from scratch (entity ids and aliases are kept: they derive from keys)."""
        with self.transaction():
            self.set_meta(FUSION_SEQ_KEY, None)
            self.set_meta(FUSION_CURSOR_KEY, None)
            return self.fuse_pending()

    # -- the step ----------------------------------------------------------------------

    def _fuse_observation_batch(self, causes: dict[tuple[str, str], Cause], result: FusionResult) -> None:
        affected: dict[tuple[str, str], Cause] = {}
        moved: dict[tuple[str, str], str] = {}
        for (kind, item_id), cause in causes.items():
            row = self.conn.execute(
                "SELECT item_id, data, deleted_at FROM items WHERE kind = :kind AND item_id = :item_id",
                {"kind": kind, "item_id": item_id},
            ).fetchone()
            old = self.conn.execute(
                "SELECT entity_id, live FROM entity_members WHERE kind = :kind AND item_id = :item_id",
                {"kind": kind, "item_id": item_id},
            ).fetchone()
            if row is None or row["deleted_at"] is not None:
                if old is not None and old["live"]:
                    self.conn.execute("UPDATE entity_members SET live = 0 WHERE kind = :kind AND item_id = :item_id",
                                      {"kind": kind, "item_id": item_id})
                    affected[(kind, old["entity_id"])] = cause
                continue
            key = fusion_key(kind, item_id, json.loads(row["data"]))
            found = self.conn.execute(
                "SELECT item_id FROM entities WHERE kind = :kind AND fusion_key = :key", {"kind": kind, "key": key}
            ).fetchone()
            entity_id = found["item_id"] if found else self._free_entity_id(kind, key, item_id)
            self.conn.execute(
                "INSERT INTO entity_members (kind, item_id, entity_id, live) VALUES (:kind, :item_id, :entity_id, 1)"
                " ON CONFLICT(kind, item_id) DO UPDATE SET entity_id = excluded.entity_id, live = 1",
                {"kind": kind, "item_id": item_id, "entity_id": entity_id},
            )
            affected[(kind, entity_id)] = cause
            if old is not None and old["entity_id"] != entity_id:
                affected.setdefault((kind, old["entity_id"]), cause)
                moved[(kind, old["entity_id"])] = entity_id
            if not found:
                # Keys are unique: reserve it now, so a second observation of the batch joins this entity.
                self._reserve_entity(kind, entity_id, key, item_id)
        for (kind, entity_id), cause in affected.items():
            op = self._refuse_entity(kind, entity_id, cause, moved_to=moved.get((kind, entity_id)))
            result.refused += 1
            if op:
                result.entities[op] = result.entities.get(op, 0) + 1

    def _free_entity_id(self, kind: str, key: str, item_id: str) -> str:
        candidates = entity_id_candidates(kind, key, item_id)
        for candidate in candidates:
            taken = self.conn.execute(
                "SELECT 1 FROM entities WHERE kind = :kind AND item_id = :item_id", {"kind": kind, "item_id": candidate}
            ).fetchone()
            if taken is None:
                return candidate
        raise RuntimeError(f"no free id for a new {kind} entity from {item_id!r}")  # a sha1 collision

    def _reserve_entity(self, kind: str, entity_id: str, key: str, item_id: str) -> None:
        now = self.clock()
        self.conn.execute(
            "INSERT INTO entities (kind, item_id, source, url, data, content_hash, first_seen, last_seen,"
            " last_changed, deleted_at, deleted_reason, fusion_key, primary_item)"
            " VALUES (:kind, :item_id, '', '', '{}', '', :now, :now, :now, :now, 'not fused yet', :key, :primary_item)",
            {"kind": kind, "item_id": entity_id, "now": now, "key": key, "primary_item": item_id},
        )

    def _entity_rows(self, kind: str, entity_id: str) -> list[Row]:
        # CROSS JOIN keeps SQLite's join order: members through their entity index first, then each item
        # by its key. Left to itself (or given an ORDER BY on the member key) the planner may walk every
        # member or item of the kind instead: minutes per crawl. Sorted here, not in SQL, for that reason.
        rows = self.conn.execute(MEMBER_ROWS_SQL, {"kind": kind, "entity_id": entity_id}).fetchall()
        return sorted(rows, key=lambda r: r["item_id"])

    def _refuse_entity(self, kind: str, entity_id: str, cause: Cause, *, moved_to: str | None) -> str | None:
        """Re-fuse one entity from its live observations; returns the change-log op written, if any."""
        now = self.clock()
        current = self.conn.execute(
            "SELECT data, content_hash, deleted_at, deleted_reason FROM entities"
            " WHERE kind = :kind AND item_id = :item_id",
            {"kind": kind, "item_id": entity_id},
        ).fetchone()
        members = self._entity_rows(kind, entity_id)
        if not members:
            if current is None or current["deleted_at"] is not None:
                return None
            self.conn.execute(
                "UPDATE entities SET deleted_at = :now, deleted_reason = :reason"
                " WHERE kind = :kind AND item_id = :item_id",
                {"now": now, "reason": "merged into another record" if moved_to else "no source lists it any more",
                 "kind": kind, "item_id": entity_id},
            )
            if moved_to:
                self.conn.execute(
                    "INSERT INTO entity_aliases (kind, old_id, entity_id, at) VALUES (:kind, :old_id, :entity_id, :at)"
                    " ON CONFLICT(kind, old_id) DO UPDATE SET entity_id = excluded.entity_id, at = excluded.at",
                    {"kind": kind, "old_id": entity_id, "entity_id": moved_to, "at": now},
                )
            self._log_entity(kind, entity_id, "deleted", now, cause, json.loads(current["data"]), None)
            return "deleted"
        observations = [
            Observation(item_id=m["item_id"], source=m["source"], url=m["url"], data=json.loads(m["data"]),
                        last_changed=m["last_changed"])
            for m in members
        ]
        fused = fuse(kind, entity_id, observations)
        self._date_entity_conflicts(kind, fused)
        data = fused.data
        digest = content_hash(data)
        primary = next(m for m in members if m["item_id"] == fused.primary)
        key = fusion_key(kind, fused.primary, next(o.data for o in observations if o.item_id == fused.primary))
        columns = (primary["source"], primary["url"], primary["page_url"], record_parent(data), record_title(data),
                   record_state(data), to_json(data), digest, now,
                   primary["last_run_id"], key, fused.primary, to_json(fused.provenance), to_json(fused.conflicts))
        self.conn.execute("DELETE FROM entity_aliases WHERE kind = :kind AND old_id = :old_id",
                          {"kind": kind, "old_id": entity_id})
        if current is None or current["deleted_reason"] == "not fused yet":
            self._write_entity(kind, entity_id, columns, changed=now, first_seen=now)
            self._log_entity(kind, entity_id, "new", now, cause, data, None)
            return "new"
        if current["deleted_at"] is not None:
            self._write_entity(kind, entity_id, columns, changed=now)
            self._log_entity(kind, entity_id, "revived", now, cause, data, record_diff(json.loads(current["data"]), data) or None)
            return "revived"
        if current["content_hash"] != digest:
            self._write_entity(kind, entity_id, columns, changed=now)
            self._log_entity(kind, entity_id, "changed", now, cause, data, record_diff(json.loads(current["data"]), data))
            return "changed"
        self._write_entity(kind, entity_id, columns, changed=None)
        return None

    def _write_entity(self, kind: str, entity_id: str, columns: tuple[Any, ...], *, changed: str | None,
               first_seen: str | None = None) -> None:
        self.conn.execute(
            "UPDATE entities SET source = :source, url = :url, page_url = :page_url, parent_id = :parent_id,"
            " title = :title, state = :state, data = :data, content_hash = :content_hash, last_seen = :last_seen,"
            " last_run_id = :last_run_id, fusion_key = :fusion_key, primary_item = :primary_item,"
            " provenance = :provenance, conflicts = :conflicts, deleted_at = NULL, deleted_reason = NULL,"
            " last_changed = COALESCE(:changed, last_changed), first_seen = COALESCE(:first_seen, first_seen)"
            " WHERE kind = :kind AND item_id = :item_id",
            {**dict(zip(ENTITY_COLUMNS, columns, strict=True)), "changed": changed, "first_seen": first_seen,
             "kind": kind, "item_id": entity_id},
        )

    def _date_entity_conflicts(self, kind: str, fused: Fused) -> None:
        """Add to each conflict when each side first reported its value (from the observations' history)."""
        for conflict in fused.conflicts:
            for side in (conflict, *conflict["others"]):
                side["since"] = self._observation_reported_since(kind, side["item_id"], conflict["field"])

    def _observation_reported_since(self, kind: str, item_id: str, name: str) -> str | None:
        # The newest change that brought the observation or gave this field a value (the field is a key of
        # its diff). The diff is JSON text, read here rather than by SQLite's json_type, which PostgreSQL lacks.
        key = name.replace('"', "")
        for row in self.conn.execute(
            "SELECT at, op, diff FROM changes WHERE kind = :kind AND item_id = :item_id ORDER BY seq DESC",
            {"kind": kind, "item_id": item_id},
        ).fetchall():
            if row["op"] in ("new", "revived"):
                return row["at"]
            diff = json.loads(row["diff"]) if row["diff"] is not None else None
            if isinstance(diff, dict) and key in diff:
                return row["at"]
        return None

    def _log_entity(self, kind: str, entity_id: str, op: str, at: str, cause: Cause, data: dict[str, Any],
                    diff: dict[str, list[Any]] | None) -> None:
        run_id, source = cause
        log_change(self.conn, "entity_changes", kind, entity_id, op, at, run_id, source or data.get("source"), data,
                   diff)

    def unlinked_count(self, source: str) -> int:
        """Live programs and reviews of a source that no institution could be linked to (they stand alone)."""
        count = self.conn.execute(
            "SELECT COUNT(*) FROM items WHERE source = :source AND kind IN ('program', 'review')"
            " AND deleted_at IS NULL AND parent_id IS NULL",
            {"source": source},
        ).scalar()
        return int(count)

    def entity_op_counts(self, run_ids: Iterable[int]) -> dict[str, int]:
        """Entity change-log entries per op caused by some runs (how many programs a crawl created, removed...)."""
        ids = list(run_ids)
        if not ids:
            return {}
        params = {f"run_id{i}": run_id for i, run_id in enumerate(ids)}
        marks = ", ".join(f":{name}" for name in params)
        rows = self.conn.execute(
            f"SELECT op, COUNT(*) FROM entity_changes WHERE run_id IN ({marks}) GROUP BY op", params  # noqa: S608 - generated parameter names only
        )
        return {r[0]: int(r[1]) for r in rows}

