"""Reading stored records: by id, by kind or source, an institution's children, counts and rating stats.

The same reads serve two tables of one shape: ``items`` (what each source said, the observations)
and ``entities`` (the fused records users see, see ``catalog.entities``). ``_records`` names the
table; it is a class constant, never input.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from catalog.connection import CatalogConnection
from catalog.stored import StoredItem, stored_from_row


class RecordReads(CatalogConnection):
    """Reads over a table of stored records (``items`` unless a subclass names another)."""

    _records = "items"

    def get(self, kind: str, item_id: str, *, include_deleted: bool = False) -> StoredItem | None:
        """One stored item, or None."""
        sql = f"SELECT * FROM {self._records} WHERE kind = :kind AND item_id = :item_id"  # noqa: S608 - the table name is a class constant
        if not include_deleted:
            sql += " AND deleted_at IS NULL"
        row = self.conn.execute(sql, {"kind": kind, "item_id": item_id}).fetchone()
        return stored_from_row(row) if row else None

    def get_many(self, kind: str, item_ids: Sequence[str], *, include_deleted: bool = False) -> dict[str, StoredItem]:
        """Several live items of one kind by id (tombstoned ones too with ``include_deleted``)."""
        found: dict[str, StoredItem] = {}
        ids = list(dict.fromkeys(item_ids))
        live = "" if include_deleted else " AND deleted_at IS NULL"
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks, args = in_list("id", chunk)
            for row in self.conn.execute(
                f"SELECT * FROM {self._records} WHERE kind = :kind AND item_id IN ({marks}){live}",  # noqa: S608 - only placeholders and fixed clauses are joined in
                {"kind": kind, **args},
            ):
                found[row["item_id"]] = stored_from_row(row)
        return found

    def iter_items(
        self,
        kind: str | None = None,
        *,
        source: str | None = None,
        parent_id: str | None = None,
        include_deleted: bool = False,
        batch: int = 1000,
    ) -> Iterator[StoredItem]:
        """Stream stored items, optionally of one kind, source or parent institution."""
        where, args = _filters(kind=kind, source=source, parent_id=parent_id, include_deleted=include_deleted)
        sql = f"SELECT * FROM {self._records}{where} ORDER BY kind, item_id"  # noqa: S608 - a class constant and _filters' fixed clauses
        cur = self.conn.execute(sql, args)
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            for row in rows:
                yield stored_from_row(row)

    def titles_starting(self, kind: str, prefix: str) -> list[str]:
        """Titles of the live items of one kind that start with ``prefix`` (exactly, case kept), sorted."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql = (f"SELECT title FROM {self._records} WHERE kind = :kind AND deleted_at IS NULL"  # noqa: S608 - the table name is a class constant
               " AND title LIKE :pattern ESCAPE '\\'")
        rows = self.conn.execute(sql, {"kind": kind, "pattern": escaped + "%"})
        # SQLite's LIKE ignores ASCII case and PostgreSQL's does not: the same answer on both
        return sorted(t for (t,) in rows if t and t.startswith(prefix))

    def ids_by_title(self, kind: str, titles: Sequence[str]) -> dict[str, str]:
        """{title: item_id} of the live items of one kind with one of these exact titles."""
        found: dict[str, str] = {}
        wanted = list(dict.fromkeys(titles))
        for start in range(0, len(wanted), 500):
            marks, args = in_list("title", wanted[start:start + 500])
            sql = (f"SELECT title, item_id FROM {self._records} WHERE kind = :kind AND deleted_at IS NULL"  # noqa: S608 - a class constant and in_list() placeholders
                   f" AND title IN ({marks}) ORDER BY item_id")
            for title, item_id in self.conn.execute(sql, {"kind": kind, **args}):
                found.setdefault(title, item_id)
        return found

    def count(self, kind: str | None = None, *, source: str | None = None, include_deleted: bool = False) -> int:
        """Number of stored items."""
        where, args = _filters(kind=kind, source=source, parent_id=None, include_deleted=include_deleted)
        sql = f"SELECT COUNT(*) FROM {self._records}{where}"  # noqa: S608 - a class constant and _filters' fixed clauses
        return int(self.conn.execute(sql, args).scalar())

    def counts_by_kind(self) -> dict[str, int]:
        """Live items per kind."""
        return {
            r[0]: r[1]
            for r in self.conn.execute(f"SELECT kind, COUNT(*) FROM {self._records} WHERE deleted_at IS NULL GROUP BY kind")  # noqa: S608 - the table name is a class constant
        }

    def children(
        self, parent_id: str, kind: str, *, limit: int | None = None, offset: int = 0,
        where_json: dict[str, Any] | None = None, order: str = "item_id",
    ) -> list[StoredItem]:
        """Live programs or reviews of one institution, with optional equality filters on item fields."""
        where, args = self._child_filters(parent_id, kind, where_json)
        sql = f"SELECT * FROM {self._records}{where}"  # noqa: S608 - a class constant and _child_filters' clause
        orders = {
            "item_id": "item_id",
            "newest": f"{self.conn.json_text('data', 'order_key')} DESC, item_id",
            "title": "LOWER(title), item_id",
        }
        if order == "newest":
            args["order_key"] = self.conn.json_key("date")
        sql += " ORDER BY " + orders.get(order, "item_id")
        if limit is not None:
            sql += " LIMIT :limit OFFSET :offset"
            args.update(limit=limit, offset=offset)
        return [stored_from_row(r) for r in self.conn.execute(sql, args)]

    def count_children(self, parent_id: str, kind: str, where_json: dict[str, Any] | None = None) -> int:
        """Number of live programs or reviews of one institution."""
        where, args = self._child_filters(parent_id, kind, where_json)
        sql = f"SELECT COUNT(*) FROM {self._records}{where}"  # noqa: S608 - a class constant and _child_filters' clause
        return int(self.conn.execute(sql, args).scalar())

    def rating_stats(self, parent_id: str | None = None) -> dict[str, dict[str, Any]]:
        """Review count, average and 1-5 histogram per institution (or for one)."""
        rating = f"CAST({self.conn.json_text('data', 'rating_key')} AS INTEGER)"
        sql = f"SELECT parent_id, {rating} AS r, COUNT(*) FROM {self._records} WHERE kind = 'review'"  # noqa: S608 - constants only
        sql += " AND deleted_at IS NULL AND parent_id IS NOT NULL"
        args: dict[str, Any] = {"rating_key": self.conn.json_key("rating")}
        if parent_id is not None:
            sql += " AND parent_id = :parent_id"
            args["parent_id"] = parent_id
        sql += " GROUP BY 1, 2"  # by position: the rating expression holds a parameter
        stats: dict[str, dict[str, Any]] = {}
        for pid, rating, n in self.conn.execute(sql, args):
            entry = stats.setdefault(pid, {"count": 0, "sum": 0, "histogram": {i: 0 for i in range(1, 6)}})
            if rating in entry["histogram"]:
                entry["histogram"][rating] += n
                entry["count"] += n
                entry["sum"] += rating * n
        for entry in stats.values():
            entry["average"] = round(entry["sum"] / entry["count"], 2) if entry["count"] else None
            del entry["sum"]
        return stats


    def _child_filters(self, parent_id: str, kind: str,
                       where_json: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        """The WHERE clause of an institution's live children with equality filters on item fields, and its arguments."""
        sql = " WHERE parent_id = :parent_id AND kind = :kind AND deleted_at IS NULL"
        args: dict[str, Any] = {"parent_id": parent_id, "kind": kind}
        for i, (key, value) in enumerate((where_json or {}).items()):
            if not key.isidentifier():
                raise ValueError(f"bad field name {key!r}")
            sql += f" AND {self.conn.json_text('data', f'field{i}')} = :value{i}"
            args[f"field{i}"] = self.conn.json_key(key)
            args[f"value{i}"] = self.conn.json_value(value)
        return sql, args


def in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """Named placeholders ``:prefix0, :prefix1, ...`` for an IN list, and their arguments."""
    names = [f"{prefix}{i}" for i in range(len(values))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))


def _filters(*, kind: str | None, source: str | None, parent_id: str | None,
             include_deleted: bool) -> tuple[str, dict[str, str]]:
    """A WHERE clause of fixed conditions with named placeholders (or nothing), and its arguments."""
    where: list[str] = []
    args: dict[str, str] = {}
    for column, value in (("kind", kind), ("source", source), ("parent_id", parent_id)):
        if value:
            where.append(f"{column} = :{column}")
            args[column] = value
    if not include_deleted:
        where.append("deleted_at IS NULL")
    return (" WHERE " + " AND ".join(where) if where else ""), args

