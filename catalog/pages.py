"""The page cache: what was fetched, with its validators, for conditional requests and resume."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

from catalog.records import ItemRecords


@dataclass
class PageRecord:
    """What the catalog remembers of a fetched page (for conditional requests and resume)."""

    url: str
    source: str
    status: int | None
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    content_type: str | None
    encoding: str | None
    body: bytes | None
    first_seen: str
    last_fetched: str | None
    last_run_id: int | None
    gone_at: str | None
    revisit_seconds: int | None = None
    next_due: str | None = None


@dataclass
class SourceFreshness:
    """How fresh one source's pages are (for ``collegesearch status`` and the admin)."""

    source: str
    pages: int
    fresh: int
    """Pages fetched within their revisit interval (``next_due`` still ahead)."""
    due: int
    """Pages due now: past their ``next_due``, or never scheduled."""
    oldest_fetch: str | None
    oldest_url: str | None
    next_due: str | None
    """When the next page that is not due yet falls due."""

    @property
    def fresh_share(self) -> float:
        """The share of the source's live pages that are fresher than their interval (0 with no pages)."""
        return self.fresh / self.pages if self.pages else 0.0


class PageCache(ItemRecords):
    """Pages by URL (built on the items table: a page that is gone takes its items with it)."""

    def get_page(self, url: str) -> PageRecord | None:
        """What was stored for a URL the last time it was fetched."""
        row = self.conn.execute("SELECT * FROM pages WHERE url = :url", {"url": url}).fetchone()
        if row is None:
            return None
        body = zlib.decompress(row["body"]) if row["body"] is not None else None
        return PageRecord(
            url=row["url"], source=row["source"], status=row["status"], etag=row["etag"],
            last_modified=row["last_modified"], content_hash=row["content_hash"],
            content_type=row["content_type"], encoding=row["encoding"], body=body, first_seen=row["first_seen"],
            last_fetched=row["last_fetched"], last_run_id=row["last_run_id"], gone_at=row["gone_at"],
            revisit_seconds=row["revisit_seconds"], next_due=row["next_due"],
        )

    def get_page_validators(self, url: str) -> tuple[str | None, str | None] | None:
        """The ETag and Last-Modified stored for a URL (None when never fetched or gone)."""
        row = self.conn.execute(
            "SELECT etag, last_modified FROM pages WHERE url = :url AND gone_at IS NULL AND body IS NOT NULL",
            {"url": url},
        ).fetchone()
        return (row[0], row[1]) if row else None

    def record_page(
        self,
        url: str,
        *,
        source: str,
        status: int,
        run_id: int | None,
        etag: str | None = None,
        last_modified: str | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        encoding: str | None = None,
    ) -> bool:
        """Remember a page fetched with a full body; returns True when its content changed."""
        now = self.clock()
        digest = hashlib.sha256(body).hexdigest() if body is not None else None
        packed = zlib.compress(body, 6) if body is not None else None
        with self.transaction():
            row = self.conn.execute("SELECT content_hash FROM pages WHERE url = :url", {"url": url}).fetchone()
            changed = row is None or row["content_hash"] != digest
            self.conn.execute(
                "INSERT INTO pages (url, source, status, etag, last_modified, content_hash, content_type, encoding,"
                " body, first_seen, last_fetched, last_seen, last_changed, last_run_id, missing_runs, gone_at)"
                " VALUES (:url, :source, :status, :etag, :last_modified, :content_hash, :content_type, :encoding,"
                " :body, :now, :now, :now, :now, :run_id, 0, NULL)"
                " ON CONFLICT(url) DO UPDATE SET source = excluded.source, status = excluded.status,"
                " etag = excluded.etag, last_modified = excluded.last_modified,"
                " content_hash = excluded.content_hash, content_type = excluded.content_type,"
                " encoding = excluded.encoding, body = excluded.body, last_fetched = excluded.last_fetched,"
                " last_seen = excluded.last_seen,"
                " last_changed = CASE WHEN pages.content_hash IS NOT DISTINCT FROM excluded.content_hash"
                " THEN pages.last_changed"
                " ELSE excluded.last_changed END,"
                " last_run_id = excluded.last_run_id, missing_runs = 0, gone_at = NULL",
                {"url": url, "source": source, "status": status, "etag": etag, "last_modified": last_modified,
                 "content_hash": digest, "content_type": content_type, "encoding": encoding, "body": packed,
                 "now": now, "run_id": run_id},
            )
        return changed

    def touch_page(self, url: str, run_id: int | None) -> None:
        """Record that a page answered 304 Not Modified in this run."""
        with self.transaction():
            self.conn.execute(
                "UPDATE pages SET last_seen = :now, last_run_id = :run_id, missing_runs = 0 WHERE url = :url",
                {"now": self.clock(), "run_id": run_id, "url": url},
            )

    def mark_page_gone(self, url: str, *, source: str, status: int, run_id: int | None) -> int:
        """A page answered 404/410: forget its body and tombstone its items; returns items tombstoned."""
        now = self.clock()
        with self.transaction():
            self.conn.execute(
                "INSERT INTO pages (url, source, status, first_seen, last_fetched, last_run_id, gone_at)"
                " VALUES (:url, :source, :status, :now, :now, :run_id, :now) ON CONFLICT(url) DO UPDATE SET"
                " status = excluded.status,"
                " last_fetched = excluded.last_fetched, last_run_id = excluded.last_run_id, body = NULL,"
                " etag = NULL, last_modified = NULL, gone_at = COALESCE(pages.gone_at, excluded.gone_at)",
                {"url": url, "source": source, "status": status, "now": now, "run_id": run_id},
            )
            return self.tombstone_page_items(url, reason=f"page answered {status}", run_id=run_id)

    def pages_fetched_since(self, source: str, since: str) -> int:
        """How many pages of a source were fetched after a time (for resume reporting)."""
        return int(self.conn.execute(
            "SELECT COUNT(*) FROM pages WHERE source = :source AND last_fetched >= :since",
            {"source": source, "since": since},
        ).scalar())

    def freshness_by_source(self, now: str | None = None) -> list[SourceFreshness]:
        """Per source: live pages, how many are fresher than their interval, the oldest fetch, the next due time."""
        at = now or self.clock()
        rows = self.conn.execute(
            "SELECT source, COUNT(*) AS pages,"
            " SUM(CASE WHEN next_due > :now THEN 1 ELSE 0 END) AS fresh,"
            " MIN(last_fetched) AS oldest_fetch,"
            " MIN(CASE WHEN next_due > :now THEN next_due END) AS next_due"
            " FROM pages WHERE gone_at IS NULL AND last_fetched IS NOT NULL GROUP BY source ORDER BY source",
            {"now": at},
        ).fetchall()
        out = []
        for row in rows:
            oldest = self.conn.execute(
                "SELECT url FROM pages WHERE source = :source AND gone_at IS NULL AND last_fetched = :at"
                " ORDER BY url LIMIT 1", {"source": row["source"], "at": row["oldest_fetch"]},
            ).scalar()
            pages, fresh = int(row["pages"]), int(row["fresh"] or 0)
            out.append(SourceFreshness(source=row["source"], pages=pages, fresh=fresh, due=pages - fresh,
                                       oldest_fetch=row["oldest_fetch"], oldest_url=oldest, next_due=row["next_due"]))
        return out

    def count_pages(self) -> int:
        """How many pages the page cache holds."""
        return int(self.conn.execute("SELECT COUNT(*) FROM pages").scalar())

    def set_page_schedule(self, url: str, revisit_seconds: int | None, next_due: str | None) -> bool:
        """Set a page's revisit interval and next due time (None clears them: due now); False for an unknown URL."""
        if revisit_seconds is not None and revisit_seconds <= 0:
            raise ValueError(f"revisit_seconds must be positive, not {revisit_seconds}")
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE pages SET revisit_seconds = :revisit, next_due = :next_due WHERE url = :url",
                {"revisit": revisit_seconds, "next_due": next_due, "url": url},
            )
        return bool(cur.rowcount)

    def unscheduled_pages_by_source(self) -> dict[str, int]:
        """Per source, live fetched pages with no revisit schedule yet (``next_due`` empty: due at the next crawl)."""
        rows = self.conn.execute(
            "SELECT source, COUNT(*) AS pages FROM pages WHERE gone_at IS NULL AND last_fetched IS NOT NULL"
            " AND (next_due IS NULL OR next_due = '') GROUP BY source",
        ).fetchall()
        return {row["source"]: int(row["pages"]) for row in rows}
