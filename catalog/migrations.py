"""Versioned schema of the catalog; ``PRAGMA user_version`` records how far a file has come."""

from __future__ import annotations

# Each entry moves the schema from version N to N+1. Never edit a released entry:
# append a new one, so files created by older versions upgrade in place.
MIGRATIONS: tuple[str, ...] = (
    # 1: items with content hashes and tombstones, the change log, the HTTP page
    # cache, crawl runs, user reviews, record-linkage decisions, key/value meta.
    """
    CREATE TABLE items (
        kind TEXT NOT NULL,
        item_id TEXT NOT NULL,
        source TEXT NOT NULL,
        url TEXT NOT NULL,
        page_url TEXT,
        parent_id TEXT,
        title TEXT,
        state TEXT,
        data TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        last_changed TEXT NOT NULL,
        last_run_id INTEGER,
        missing_runs INTEGER NOT NULL DEFAULT 0,
        deleted_at TEXT,
        deleted_reason TEXT,
        PRIMARY KEY (kind, item_id)
    );
    CREATE INDEX items_page ON items(page_url);
    CREATE INDEX items_parent ON items(parent_id, kind);
    CREATE INDEX items_source ON items(source, kind, last_run_id);

    CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        item_id TEXT NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('new', 'changed', 'deleted', 'revived')),
        at TEXT NOT NULL,
        run_id INTEGER,
        source TEXT,
        state TEXT,
        title TEXT,
        diff TEXT
    );
    CREATE INDEX changes_item ON changes(kind, item_id);
    CREATE INDEX changes_at ON changes(at);

    CREATE TABLE pages (
        url TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        status INTEGER,
        etag TEXT,
        last_modified TEXT,
        content_hash TEXT,
        content_type TEXT,
        encoding TEXT,
        body BLOB,
        first_seen TEXT NOT NULL,
        last_fetched TEXT,
        last_seen TEXT,
        last_changed TEXT,
        last_run_id INTEGER,
        missing_runs INTEGER NOT NULL DEFAULT 0,
        gone_at TEXT
    );
    CREATE INDEX pages_source ON pages(source, last_run_id);

    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        trigger TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'interrupted')),
        started_at TEXT NOT NULL,
        finished_at TEXT,
        pid INTEGER,
        host TEXT,
        complete INTEGER NOT NULL DEFAULT 0,
        stats TEXT,
        error TEXT,
        index_sync TEXT
    );
    CREATE INDEX runs_source ON runs(source, id);

    CREATE TABLE user_reviews (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        institution_unitid TEXT NOT NULL,
        institution_name TEXT,
        rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
        category TEXT,
        author_role TEXT,
        title TEXT,
        body TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
        submitted_at TEXT NOT NULL,
        client_hash TEXT,
        moderated_at TEXT,
        moderated_by TEXT,
        moderation_note TEXT
    );
    CREATE INDEX user_reviews_status ON user_reviews(status, id);
    CREATE INDEX user_reviews_client ON user_reviews(client_hash, submitted_at);

    CREATE TABLE entity_links (
        source TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        name TEXT,
        city TEXT,
        state TEXT,
        unitid TEXT,
        confidence REAL,
        status TEXT NOT NULL CHECK (status IN ('matched', 'ambiguous', 'unmatched')),
        candidates TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (source, entity_id)
    );

    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT
    );
    """,
    # 2: what the crawl scheduler decided besides runs: skipped triggers (source busy), retries
    # planned with their backoff, sources given up on as failing, the scheduler's own start/stop.
    """
    CREATE TABLE schedule_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        source TEXT,
        event TEXT NOT NULL,
        detail TEXT,
        run_id INTEGER
    );
    CREATE INDEX schedule_events_source ON schedule_events(source, id);
    CREATE INDEX schedule_events_event ON schedule_events(event, id);
    """,
    # 3: record fusion. ``items`` stay what each source said (observations); ``entities`` are the fused
    # records users see, in the same shape plus where each field came from and where sources disagree;
    # ``entity_members`` ties observations to entities (kept when an observation is gone, so its old
    # URL still finds the entity); ``entity_changes`` is the fused records' own change log (what the
    # index and the change feed follow); ``entity_aliases`` maps ids of entities merged into another.
    """
    CREATE TABLE entities (
        kind TEXT NOT NULL,
        item_id TEXT NOT NULL,
        source TEXT NOT NULL,
        url TEXT NOT NULL,
        page_url TEXT,
        parent_id TEXT,
        title TEXT,
        state TEXT,
        data TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        last_changed TEXT NOT NULL,
        last_run_id INTEGER,
        missing_runs INTEGER NOT NULL DEFAULT 0,
        deleted_at TEXT,
        deleted_reason TEXT,
        fusion_key TEXT NOT NULL,
        primary_item TEXT,
        provenance TEXT,
        conflicts TEXT,
        PRIMARY KEY (kind, item_id)
    );
    CREATE INDEX entities_parent ON entities(parent_id, kind);
    CREATE UNIQUE INDEX entities_key ON entities(kind, fusion_key);

    CREATE TABLE entity_members (
        kind TEXT NOT NULL,
        item_id TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        live INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (kind, item_id)
    );
    CREATE INDEX entity_members_entity ON entity_members(kind, entity_id, live);

    CREATE TABLE entity_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        item_id TEXT NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('new', 'changed', 'deleted', 'revived')),
        at TEXT NOT NULL,
        run_id INTEGER,
        source TEXT,
        state TEXT,
        title TEXT,
        diff TEXT
    );
    CREATE INDEX entity_changes_item ON entity_changes(kind, item_id);
    CREATE INDEX entity_changes_at ON entity_changes(at);
    CREATE INDEX entity_changes_run ON entity_changes(run_id, op);

    CREATE TABLE entity_aliases (
        kind TEXT NOT NULL,
        old_id TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (kind, old_id)
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
