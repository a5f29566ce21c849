"""The change log read back: the feed for people, summaries per run, one item's history."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from catalog.connection import CatalogConnection
from catalog.database import Row
from catalog.record_reads import in_list


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
    xid: int | None = None
    """The writing transaction's id (PostgreSQL only; see ``ChangeCursor``)."""


@dataclass(frozen=True)
class ChangeCursor:
    """How far a follower has read a change log.

    SQLite has one writer at a time, so ``seq`` order is commit order and the last ``seq`` read is
    enough. PostgreSQL hands out ``seq`` values before commit, so a change with a smaller ``seq``
    can become visible after a larger one; there a follower reads only changes of transactions
    older than every transaction still running (their rows can no longer appear or vanish), in
    ``(xid, seq)`` order, and remembers the last pair it read.

    A rebuild covers everything visible when it starts, which may include changes of transactions
    newer than the oldest one still running then (one long transaction holds that horizon back).
    It keeps the snapshot it started from (``pg_current_snapshot()`` as text): changes visible in
    it are skipped, so a rebuild is not followed by a replay of what it already indexed. The
    snapshot is dropped once the cursor passes its ``xmax`` (no later transaction is visible in it).
    """

    seq: int = 0
    xid: int | None = None
    snapshot: str | None = None

    def to_json(self) -> list[int | str | None]:
        """The cursor as stored in the index's meta file."""
        return [self.seq, self.xid, self.snapshot]

    @classmethod
    def from_json(cls, value: Any, seq: int = 0) -> ChangeCursor:
        """A cursor read back from meta (``seq`` alone for an index written before cursors)."""
        if isinstance(value, list) and len(value) in (2, 3):
            snapshot = value[2] if len(value) == 3 and isinstance(value[2], str) else None
            return cls(int(value[0] or 0), None if value[1] is None else int(value[1]), snapshot)
        return cls(int(seq or 0), None)

    def after(self, seq: int, xid: int | None) -> ChangeCursor:
        """The cursor past the change (xid, seq), keeping the snapshot while later xids may be hidden in it."""
        snapshot = self.snapshot
        if snapshot is not None and xid is not None and xid >= int(snapshot.split(":")[1]):
            snapshot = None
        return ChangeCursor(seq, xid, snapshot)


@dataclass(frozen=True)
class Followed:
    """The records one feed follows: named records, plus the programs and good reviews of named schools.

    ``schools`` brings in every program and review whose fused record names the school as its parent
    (``entities.parent_id``, indexed), including closed and removed ones, so a school's feed shows its
    programs coming and going; reviews only when they are new (or back) and rated ``min_review_rating``
    or more.
    """

    records: tuple[tuple[str, str], ...] = ()
    """``(kind, item_id)`` pairs whose own changes are followed."""
    schools: tuple[str, ...] = ()
    """Institution ids whose programs and reviews are followed too."""
    min_review_rating: int = 1

    @property
    def is_empty(self) -> bool:
        """Follows nothing (e.g. a search that matches no record): the feed is empty."""
        return not self.records and not self.schools


# A seq beyond any real one: a cursor at (xid, SEQ_MAX) has read every change of transaction xid.
SEQ_MAX = 2**62
# PostgreSQL: leave out changes a rebuild's starting snapshot already saw (see ChangeCursor).
_NOT_IN_SNAPSHOT = (" AND NOT pg_visible_in_snapshot(CAST(CAST(xid AS text) AS xid8),"
                    " CAST(:snapshot AS pg_snapshot))")


class ChangeLog(CatalogConnection):
    """Reading a change log: ``changes`` (observations) unless a subclass names ``entity_changes`` (fused records)."""

    _changes = "changes"
    _records = "items"
    """The records the log's entries are about (``Followed.schools`` finds their children there)."""

    def max_change_seq(self) -> int:
        """The newest change-log sequence number (0 when empty)."""
        return int(self.conn.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {self._changes}").scalar())  # noqa: S608 - a class constant

    def last_change(self) -> tuple[int, str | None]:
        """The newest change's seq and time, ``(0, None)`` when empty: one read of the primary key's last row.

        The web app's HTTP validator reads this on every cacheable request, so it must stay one indexed
        read (``MAX(seq)`` and ``MAX(at)`` in one query would scan the table on SQLite).
        """
        row = self.conn.execute(f"SELECT seq, at FROM {self._changes} ORDER BY seq DESC LIMIT 1").fetchone()  # noqa: S608 - a class constant
        return (int(row[0]), str(row[1])) if row else (0, None)

    def changes_since(self, seq: int, *, limit: int = 1000) -> list[Change]:
        """Change-log entries after ``seq``, oldest first."""
        rows = self.conn.execute(f"SELECT * FROM {self._changes} WHERE seq > :seq ORDER BY seq LIMIT :limit",  # noqa: S608 - a class constant
                                 {"seq": seq, "limit": limit})
        return [_change(r) for r in rows]

    def change_cursor_now(self) -> ChangeCursor:
        """A cursor past every change visible now (what a rebuild starting now covers; later ones are replayed)."""
        if not self.conn.postgres:
            return ChangeCursor(self.max_change_seq())
        snapshot = str(self.conn.execute("SELECT CAST(pg_current_snapshot() AS text)").scalar())
        return ChangeCursor(SEQ_MAX, int(snapshot.split(":")[0]) - 1, snapshot)

    def _stable_horizon(self) -> int:
        """PostgreSQL: the oldest transaction id still running; every older one has committed or aborted."""
        return int(self.conn.execute("SELECT CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS text) AS bigint)")
                   .scalar())

    def changes_after(self, cursor: ChangeCursor, *, limit: int = 1000) -> tuple[list[Change], ChangeCursor]:
        """Changes past ``cursor`` that can no longer be overtaken by a late commit, and the cursor after them."""
        if not self.conn.postgres:
            changes = self.changes_since(cursor.seq, limit=limit)
            return changes, ChangeCursor(changes[-1].seq) if changes else cursor
        horizon = self._stable_horizon()
        start = cursor if cursor.xid is not None else ChangeCursor(cursor.seq, -1)
        rows = self.conn.execute(
            f"SELECT * FROM {self._changes} WHERE (xid > :xid OR (xid = :xid AND seq > :seq))"  # noqa: S608 - a class constant
            f" AND xid < :horizon{_NOT_IN_SNAPSHOT if cursor.snapshot else ''} ORDER BY xid, seq LIMIT :limit",
            {"xid": start.xid, "seq": start.seq, "horizon": horizon, "limit": limit, "snapshot": cursor.snapshot},
        )
        changes = [_change(r) for r in rows]
        if not changes:
            # Nothing left below the horizon, and nothing can appear there any more: the cursor moves
            # up to it (so a rebuild's snapshot is dropped once the horizon passes its xmax).
            if start.xid is not None and horizon - 1 > start.xid:
                return [], cursor.after(SEQ_MAX, horizon - 1)
            return [], cursor
        last = changes[-1]
        return changes, cursor.after(last.seq, last.xid)

    def changes_behind(self, cursor: ChangeCursor) -> int:
        """How many changes a follower at ``cursor`` has still to read (committed ones)."""
        if not self.conn.postgres or cursor.xid is None:
            return int(self.conn.execute(f"SELECT COUNT(*) FROM {self._changes} WHERE seq > :seq",  # noqa: S608 - a class constant
                                         {"seq": cursor.seq}).scalar())
        return int(self.conn.execute(
            f"SELECT COUNT(*) FROM {self._changes} WHERE (xid > :xid OR (xid = :xid AND seq > :seq))"  # noqa: S608 - a class constant
            f"{_NOT_IN_SNAPSHOT if cursor.snapshot else ''}",
            {"xid": cursor.xid, "seq": cursor.seq, "snapshot": cursor.snapshot}).scalar())

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
        follow: Followed | None = None,
        limit: int = 100,
    ) -> list[Change]:
        """Newest-first changes for people to read, filtered by kind, state, operation, time, run and changed field.

        ``fields`` keeps changes whose diff touches at least one of the named item fields
        (e.g. ``accreditation_status`` for status changes, ``median_pay_annual`` for pay changes).
        ``follow`` keeps only the changes of the records it names (see ``Followed``).
        """
        sql = f"SELECT * FROM {self._changes} WHERE 1 = 1"  # noqa: S608 - a class constant
        args: dict[str, Any] = {}
        if follow is not None:
            clause, more = self._followed_seqs(follow)
            sql += f" AND seq IN ({clause})"
            args.update(more)
        if fields:
            sql += " AND (" + " OR ".join(self.conn.json_has("diff", f"field{i}") for i in range(len(fields))) + ")"
            args.update({f"field{i}": self.conn.json_key(f) for i, f in enumerate(fields)})
        if kinds:
            marks, more = in_list("kind", kinds)
            sql += f" AND kind IN ({marks})"
            args.update(more)
        if ops:
            marks, more = in_list("op", ops)
            sql += f" AND op IN ({marks})"
            args.update(more)
        if state:
            sql += " AND state = :state"
            args["state"] = state
        if since:
            sql += " AND at >= :since"
            args["since"] = since
        if before_seq is not None:
            sql += " AND seq < :before_seq"
            args["before_seq"] = before_seq
        if run_id is not None:
            sql += " AND run_id = :run_id"
            args["run_id"] = run_id
        sql += " ORDER BY seq DESC LIMIT :limit"
        args["limit"] = limit
        return [_change(r) for r in self.conn.execute(sql, args)]

    def _followed_seqs(self, follow: Followed) -> tuple[str, dict[str, Any]]:
        """A subquery of the seqs of the followed records' changes, each branch an indexed lookup.

        Each branch reads the change log through its ``(kind, item_id)`` index (the schools' children
        found through ``entities(parent_id, kind)``), so the outer query looks up only those rows by
        ``seq`` instead of walking the whole log newest first and testing every row.
        """
        if follow.is_empty:
            return "SELECT seq FROM " + self._changes + " WHERE 1 = 0", {}  # noqa: S608 - a class constant
        branches: list[str] = []
        args: dict[str, Any] = {}
        by_kind: dict[str, list[str]] = {}
        for kind, item_id in follow.records:
            by_kind.setdefault(kind, []).append(item_id)
        for i, (kind, ids) in enumerate(sorted(by_kind.items())):
            marks, more = in_list(f"fid{i}_", list(dict.fromkeys(ids)))
            branches.append(f"SELECT seq FROM {self._changes} WHERE kind = :fkind{i} AND item_id IN ({marks})")  # noqa: S608 - class constants and placeholders
            args[f"fkind{i}"] = kind
            args.update(more)
        if follow.schools:
            marks, more = in_list("fschool", list(dict.fromkeys(follow.schools)))
            args.update(more)
            args.update({"frating_key": self.conn.json_key("rating"), "fmin_rating": follow.min_review_rating})
            rating = f"CAST({self.conn.json_text('data', 'frating_key')} AS INTEGER)"
            # The children are read from the records table (tombstones included), not from the change
            # log's own columns, which hold no parent: a program removed last year still names its school.
            programs = f"SELECT item_id FROM {self._records} WHERE kind = 'program' AND parent_id IN ({marks})"  # noqa: S608 - class constants and placeholders
            reviews = (f"SELECT item_id FROM {self._records} WHERE kind = 'review' AND parent_id IN ({marks})"  # noqa: S608 - class constants and placeholders
                       f" AND {rating} >= :fmin_rating")
            branches.append(f"SELECT seq FROM {self._changes} WHERE kind = 'program' AND item_id IN ({programs})")  # noqa: S608 - class constants and placeholders
            branches.append(f"SELECT seq FROM {self._changes} WHERE kind = 'review'"  # noqa: S608 - class constants and placeholders
                            f" AND op IN ('new', 'revived') AND item_id IN ({reviews})")
        return " UNION ALL ".join(branches), args

    def change_summary(
        self, *, run_ids: Sequence[int] = (), since: str | None = None, status_field: str = "accreditation_status",
        closing_statuses: Sequence[str] = (), field_groups: Mapping[str, Sequence[str]] | None = None,
    ) -> list[dict[str, Any]]:
        """Counts of changes per run, kind and operation, newest run first (optionally some runs, or since a time).

        Rows ``{"run_id", "kind", "op", "count", "status_changes", "closings", "field_counts", "first_at",
        "last_at"}``: ``status_changes`` touched ``status_field``, ``closings`` set it to one of
        ``closing_statuses``, ``field_counts[g]`` touched at least one field of ``field_groups[g]``.
        """
        sql_ = self.conn
        closing = list(closing_statuses) or ["-none-"]
        closing_marks, args = in_list("closing", closing)
        args["status_key"] = sql_.json_key(status_field)
        columns = [f"SUM(CASE WHEN {sql_.json_has('diff', 'status_key')} THEN 1 ELSE 0 END) AS status_changes",
                   f"SUM(CASE WHEN {sql_.json_element('diff', 'status_key', 1)} IN ({closing_marks}) THEN 1 ELSE 0 END)"
                   " AS closings"]
        groups = list((field_groups or {}).items())
        for i, (_name, members) in enumerate(groups):
            names = [f"g{i}_{j}" for j in range(len(members))]
            either = " OR ".join(sql_.json_has("diff", n) for n in names) or "1 = 0"
            columns.append(f"SUM(CASE WHEN {either} THEN 1 ELSE 0 END) AS f{i}")
            args.update({n: sql_.json_key(m) for n, m in zip(names, members, strict=True)})
        # Only fixed fragments and placeholders go into the SQL; field names and values are parameters.
        sql = "SELECT run_id, kind, op, COUNT(*) AS count"
        for column in columns:
            sql += ", " + column
        sql += f", MIN(at) AS first_at, MAX(at) AS last_at FROM {self._changes} WHERE 1 = 1"
        if run_ids:
            marks, more = in_list("run", run_ids)
            sql += f" AND run_id IN ({marks})"
            args.update(more)
        if since:
            sql += " AND at >= :since"
            args["since"] = since
        sql += " GROUP BY run_id, kind, op ORDER BY MAX(seq) DESC"
        return [{"run_id": r["run_id"], "kind": r["kind"], "op": r["op"], "count": int(r["count"]),
                 "status_changes": int(r["status_changes"] or 0), "closings": int(r["closings"] or 0),
                 "field_counts": {name: int(r[f"f{i}"] or 0) for i, (name, _m) in enumerate(groups)},
                 "first_at": r["first_at"], "last_at": r["last_at"]}
                for r in self.conn.execute(sql, args)]

    def item_history(self, kind: str, item_id: str) -> list[Change]:
        """Every change-log entry of one item, oldest first (e.g. a program's status history)."""
        rows = self.conn.execute(
            f"SELECT * FROM {self._changes} WHERE kind = :kind AND item_id = :item_id ORDER BY seq",  # noqa: S608 - a class constant
            {"kind": kind, "item_id": item_id},
        )
        return [_change(r) for r in rows]

    def last_updated(self) -> str | None:
        """When any item last changed (for "last updated" on the home page)."""
        row = self.conn.execute(f"SELECT MAX(at) FROM {self._changes}").fetchone()  # noqa: S608 - a class constant
        return row[0] if row else None


def _change(row: Row) -> Change:
    return Change(
        seq=row["seq"], kind=row["kind"], item_id=row["item_id"], op=row["op"], at=row["at"], run_id=row["run_id"],
        source=row["source"], state=row["state"], title=row["title"],
        diff=json.loads(row["diff"]) if row["diff"] else None, xid=row["xid"],
    )
