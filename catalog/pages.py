"""The page cache: what was fetched, with its validators, for conditional requests and resume."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from catalog.record_reads import in_list
from catalog.records import ItemRecords
from model.revisit import RevisitPolicy

DEFAULT_REVISIT = RevisitPolicy()


def time_after(now: str, seconds: int) -> str:
    """A catalog time (ISO 8601 UTC with Z) ``seconds`` after another."""
    moment = datetime.fromisoformat(now.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


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
    links: str | None = None
    """The outgoing links the crawl read from this copy (see ``PageDue.links``), or None."""


@dataclass(frozen=True, slots=True)
class PageDue:
    """One known page of a source as a scheduled crawl sees it (``PageCache.page_schedule``)."""

    url: str
    next_due: str | None
    """Empty: due now (never scheduled)."""
    last_fetched: str | None
    last_modified: str | None
    """The page's Last-Modified header as stored (what a sitemap's lastmod is compared with)."""
    revisit_seconds: int | None
    has_items: bool
    """False for navigation pages (listings, indexes, sitemaps): a scheduled crawl always fetches those."""
    last_run_id: int | None = None
    links: str | None = None
    """The page's outgoing links as its crawl last read them (JSON ``[[url, priority, leaf], ...]``), or None."""


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
    unscheduled: int = 0
    """Of the due pages, those with no revisit schedule yet (fetched before the schedule existed)."""

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
            revisit_seconds=row["revisit_seconds"], next_due=row["next_due"], links=row["links"],
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
        revisit: RevisitPolicy | None = None,
        links: str | None = None,
    ) -> bool:
        """Remember a page fetched with a full body; returns True when its content changed.

        ``links`` is what the crawl read of the page's outgoing links (see ``PageDue.links``);
        None forgets any the page had, since they described an older copy.

        Its revisit interval (``revisit``, default the REVISIT_* defaults) starts at the first
        interval for a new page, shrinks when the content changed and grows when it did not. When
        the content changed, the page's items this run did not store (it stores a page's items
        before the page) no longer belong to it: later 304s and runs that find the page not due
        touch only what the page still shows, so a record gone from a page that lives on is missed.
        """
        now = self.clock()
        digest = hashlib.sha256(body).hexdigest() if body is not None else None
        packed = zlib.compress(body, 6) if body is not None else None
        with self.transaction():
            row = self.conn.execute("SELECT content_hash, revisit_seconds FROM pages WHERE url = :url",
                                    {"url": url}).fetchone()
            changed = row is None or row["content_hash"] != digest
            interval = (revisit or DEFAULT_REVISIT).next_interval(
                None if row is None else row["revisit_seconds"], changed=changed)
            self.conn.execute(
                "INSERT INTO pages (url, source, status, etag, last_modified, content_hash, content_type, encoding,"
                " body, first_seen, last_fetched, last_seen, last_changed, last_run_id, missing_runs, gone_at,"
                " revisit_seconds, next_due, links)"
                " VALUES (:url, :source, :status, :etag, :last_modified, :content_hash, :content_type, :encoding,"
                " :body, :now, :now, :now, :now, :run_id, 0, NULL, :revisit_seconds, :next_due, :links)"
                " ON CONFLICT(url) DO UPDATE SET source = excluded.source, status = excluded.status,"
                " etag = excluded.etag, last_modified = excluded.last_modified,"
                " content_hash = excluded.content_hash, content_type = excluded.content_type,"
                " encoding = excluded.encoding, body = excluded.body, last_fetched = excluded.last_fetched,"
                " last_seen = excluded.last_seen,"
                " last_changed = CASE WHEN pages.content_hash IS NOT DISTINCT FROM excluded.content_hash"
                " THEN pages.last_changed"
                " ELSE excluded.last_changed END,"
                " last_run_id = excluded.last_run_id, missing_runs = 0, gone_at = NULL,"
                " revisit_seconds = excluded.revisit_seconds, next_due = excluded.next_due, links = excluded.links",
                {"url": url, "source": source, "status": status, "etag": etag, "last_modified": last_modified,
                 "content_hash": digest, "content_type": content_type, "encoding": encoding, "body": packed,
                 "now": now, "run_id": run_id, "revisit_seconds": interval, "next_due": time_after(now, interval),
                 "links": links},
            )
            if changed and run_id is not None:
                self.conn.execute(
                    "UPDATE items SET page_url = NULL WHERE page_url = :url AND deleted_at IS NULL"
                    " AND (last_run_id IS NULL OR last_run_id != :run_id)",
                    {"url": url, "run_id": run_id},
                )
        return changed

    def touch_page(self, url: str, run_id: int | None, revisit: RevisitPolicy | None = None) -> None:
        """Record that a page was seen unchanged in this run.

        With ``revisit`` the page was fetched and found unchanged (304 Not Modified, or the same
        bytes): that counts as a fetch, and its revisit interval grows. Without, the page was only
        taken from the cache (resumed, or not due yet): its schedule stays as it is.
        """
        now = self.clock()
        with self.transaction():
            if revisit is None:
                self.conn.execute(
                    "UPDATE pages SET last_seen = :now, last_run_id = :run_id, missing_runs = 0 WHERE url = :url",
                    {"now": now, "run_id": run_id, "url": url},
                )
                return
            previous = self.conn.execute("SELECT revisit_seconds FROM pages WHERE url = :url", {"url": url}).scalar()
            interval = revisit.next_interval(previous, changed=False)
            self.conn.execute(
                "UPDATE pages SET last_seen = :now, last_fetched = :now, last_run_id = :run_id, missing_runs = 0,"
                " revisit_seconds = :revisit_seconds, next_due = :next_due WHERE url = :url",
                {"now": now, "run_id": run_id, "url": url, "revisit_seconds": interval,
                 "next_due": time_after(now, interval)},
            )

    def touch_pages(self, urls: Sequence[str], run_id: int | None) -> int:
        """Count pages a scheduled crawl did not fetch (not due) and their items as seen in this run.

        Their schedule stays as it is. Returns how many items were touched.
        """
        now = self.clock()
        touched = 0
        with self.transaction():
            for start in range(0, len(urls), 500):
                marks, args = in_list("u", list(urls[start:start + 500]))
                self.conn.execute(
                    f"UPDATE pages SET last_seen = :now, last_run_id = :run_id, missing_runs = 0 WHERE url IN ({marks})",  # noqa: S608 - placeholders from in_list()
                    {"now": now, "run_id": run_id, **args},
                )
                items = ("UPDATE items SET last_seen = :now, last_run_id = :run_id, missing_runs = 0"  # noqa: S608 - placeholders from in_list()
                         f" WHERE page_url IN ({marks}) AND deleted_at IS NULL")
                touched += self.conn.execute(items, {"now": now, "run_id": run_id, **args}).rowcount
        return touched

    def set_page_links(self, links: Sequence[tuple[str, str]]) -> None:
        """Store the outgoing links read from pages' stored copies (``(url, links JSON)`` pairs).

        For pages a crawl parsed from the cache: their copy did not change, so neither did
        what it links to. A page whose body changes gets new links with it (``record_page``).
        """
        with self.transaction():
            for start in range(0, len(links), 500):
                self.conn.execute("UPDATE pages SET links = :links WHERE url = :url",
                                  [{"url": url, "links": text} for url, text in links[start:start + 500]])

    def page_schedule(self, source: str) -> Iterator[PageDue]:
        """A source's live pages with their schedule, for a scheduled crawl to load once."""
        rows = self.conn.execute(
            "SELECT url, next_due, last_fetched, last_modified, revisit_seconds, last_run_id, links,"
            " CASE WHEN EXISTS (SELECT 1 FROM items WHERE items.page_url = pages.url AND items.deleted_at IS NULL)"
            " THEN 1 ELSE 0 END AS has_items"
            " FROM pages WHERE source = :source AND gone_at IS NULL AND last_fetched IS NOT NULL",
            {"source": source},
        )
        for row in rows:
            yield PageDue(url=row["url"], next_due=row["next_due"], last_fetched=row["last_fetched"],
                          last_modified=row["last_modified"], revisit_seconds=row["revisit_seconds"],
                          has_items=bool(row["has_items"]), last_run_id=row["last_run_id"], links=row["links"])

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
            " MIN(CASE WHEN next_due > :now THEN next_due END) AS next_due,"
            " SUM(CASE WHEN next_due IS NULL OR next_due = '' THEN 1 ELSE 0 END) AS unscheduled"
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
                                       oldest_fetch=row["oldest_fetch"], oldest_url=oldest, next_due=row["next_due"],
                                       unscheduled=int(row["unscheduled"] or 0)))
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
