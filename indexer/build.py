"""Derive the index from the catalog: incremental ``sync`` from the change log, full ``rebuild``, ``optimize``.

The index holds the fused records (``catalog.fused``: one document per program however many
sources list it). Both entry points first run the catalog's fusion step, so the entities reflect
every observation stored so far. ``sync`` reads the fused records' change log after the watermark
stored with the index, re-indexes exactly the changed entities plus the records that show data from them (a review changes its
institution's rating, and through it the institution's programs; an institution's name shows in
its programs and reviews), commits each batch without merging and then moves the watermark.
Re-applying a batch is harmless (documents are replaced by id), so a writer killed between the
commit and the watermark loses nothing.

``rebuild`` indexes the whole catalog into a new generation folder and swaps it in atomically.
One writer at a time: both take the index's writer lock and wait up to ``lock_timeout`` seconds.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from indexer import brands, parallel_build, vocab
from indexer.engine import (
    Generation,
    IndexDamaged,
    IndexError_,
    IndexMissing,
    IndexStore,
    big_segment_stale,
    deep_check,
    merge_needed,
    open_writer,
    segments_of,
    tiered_merge,
    write_meta,
)
from indexer.schema import SCHEMA_VERSION, StaticContext, doc_id, to_document

if TYPE_CHECKING:
    from catalog.store import Catalog, Change, StoredItem
    from collegesearch.config import Settings

__all__ = [
    "IndexError_", "RebuildResult", "SyncResult", "OptimizeResult", "sync", "rebuild", "optimize", "index_status",
]

Progress = Callable[[str], None]

BATCH_SIZE = 500
# Institution fields that its programs' and reviews' documents show or filter on.
INSTITUTION_FIELDS_SHOWN_BY_CHILDREN = frozenset({
    "name", "aliases", "city", "state", "zip", "latitude", "longitude", "military_friendly", "control", "level",
})


@dataclass
class RebuildResult:
    """What a full rebuild did."""

    docs: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    generation: str = ""
    watermark: int = 0
    reason: str = "requested"
    removed_generations: list[str] = field(default_factory=list)
    processes: int = 1
    """Processes that built the index (INDEX_BUILD_PROCS, fewer for a small catalog)."""

    @property
    def docs_per_second(self) -> float:
        """Indexing throughput."""
        return self.docs / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """One line for the CLI."""
        kinds = ", ".join(f"{n:,} {k}s" for k, n in sorted(self.by_kind.items()))
        return (
            f"index rebuilt ({self.reason}): {self.docs:,} documents ({kinds or 'empty catalog'}) in "
            f"{self.seconds:.1f} s ({self.docs_per_second:,.0f} docs/s"
            f"{f', {self.processes} processes' if self.processes > 1 else ''}); generation {self.generation}, "
            f"catalog change {self.watermark}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stored with crawl runs, shown by the admin pages)."""
        return {**asdict(self), "docs_per_second": round(self.docs_per_second, 1), "operation": "rebuild"}


@dataclass
class SyncResult:
    """What an incremental sync did."""

    changes: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    linked: int = 0
    """Documents re-indexed because a record they show data from changed."""
    batches: int = 0
    watermark_from: int = 0
    watermark_to: int = 0
    doc_count: int = 0
    segments: int = 0
    merged: bool = False
    seconds: float = 0.0
    rebuilt: RebuildResult | None = None
    """Set when the index was missing, damaged or outdated and was rebuilt instead."""

    def summary(self) -> str:
        """One line for the CLI."""
        if self.rebuilt is not None:
            return "index sync: " + self.rebuilt.summary()
        if not self.changes:
            return f"index sync: up to date at catalog change {self.watermark_to} ({self.doc_count:,} documents)"
        merged = ", merged segments" if self.merged else ""
        return (
            f"index sync: {self.changes:,} catalog changes -> {self.added:,} added, {self.updated:,} updated, "
            f"{self.deleted:,} deleted, {self.linked:,} linked records re-indexed; catalog change "
            f"{self.watermark_from} -> {self.watermark_to}; {self.doc_count:,} documents in {self.segments} "
            f"segments{merged} ({self.seconds:.2f} s)"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stored with crawl runs, shown by the admin pages)."""
        data = asdict(self)
        data["rebuilt"] = self.rebuilt.to_dict() if self.rebuilt else None
        data["operation"] = "sync"
        return data


@dataclass
class OptimizeResult:
    """What an explicit merge did."""

    segments_before: int
    segments_after: int
    seconds: float

    def summary(self) -> str:
        """One line for the CLI."""
        return f"index optimized: {self.segments_before} -> {self.segments_after} segments ({self.seconds:.1f} s)"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


# -- public entry points ---------------------------------------------------------------------------


def sync(settings: Settings, lock_timeout: float = 60, progress: Progress | None = None,
         *, batch_size: int = BATCH_SIZE, stop: Callable[[], bool] | None = None) -> SyncResult:
    """Apply the catalog's changes since the index's watermark (rebuilding when there is no sound index).

    ``stop`` is asked after each committed batch: when it says True the sync ends there (a follower
    told to shut down); the rest is applied by the next sync.
    """
    say = progress or (lambda _msg: None)
    store = IndexStore(settings.index_dir)
    started = time.perf_counter()
    fuse_observations(settings, say)  # a catalog write, serialised by SQLite: not under the index's lock
    with store.writer_lock(lock_timeout, "sync"), _open_catalog(settings) as catalog:
        reason, gen = _needs_rebuild(store)
        ix = None
        if reason is None and gen is not None:
            ix, reason = _open_for_write(store, gen)
        if reason is not None:
            say(f"{reason}; rebuilding it from the catalog")
            rebuilt = _rebuild_locked(store, catalog, say, reason, settings.INDEX_BUILD_PROCS)
            return SyncResult(rebuilt=rebuilt, seconds=time.perf_counter() - started)
        assert ix is not None and gen is not None
        try:
            result = _apply_changes(ix, gen, catalog, say, batch_size, stop)
            if merge_needed(ix):
                # in a separate commit, after this sync's changes are live (see indexer.engine.merge)
                say(f"merging segments ({_segment_count(ix)} now)")
                writer = open_writer(ix)
                writer.commit(mergetype=tiered_merge)
                write_meta(gen, ix, last_merge=_now())
                result.merged = True
            result.segments = _segment_count(ix)
            result.doc_count = ix.doc_count()
            stale = big_segment_stale(ix)
        finally:
            ix.close()
        if stale:
            # cheaper than merging it (see indexer.engine.merge), and the new index starts as one segment
            reason = "a quarter of the index's main segment was re-indexed since it was built"
            say(f"{reason}; rebuilding it from the catalog")
            result.rebuilt = _rebuild_locked(store, catalog, say, reason, settings.INDEX_BUILD_PROCS)
    result.seconds = time.perf_counter() - started
    return result


def rebuild(settings: Settings, lock_timeout: float = 60, progress: Progress | None = None) -> RebuildResult:
    """Build a fresh index from the whole catalog in a new folder and swap it in atomically."""
    say = progress or (lambda _msg: None)
    store = IndexStore(settings.index_dir)
    fuse_observations(settings, say)  # a catalog write, serialised by SQLite: not under the index's lock
    with store.writer_lock(lock_timeout, "rebuild"), _open_catalog(settings) as catalog:
        return _rebuild_locked(store, catalog, say, "requested", settings.INDEX_BUILD_PROCS)


def fuse_observations(settings: Settings, say: Progress) -> None:
    """Run the catalog's fusion step (observations -> entities) before the index reads the entities.

    A crawl fuses when it ends; this catches up after anything else that wrote observations (a
    relink, an approved user review, a crawl killed before its end). A catalog this process may
    not write (a read-only replica) is indexed as it is.
    """
    from catalog import Catalog
    from catalog.store import CatalogError

    if not settings.catalog_exists:
        return
    try:
        with Catalog(settings.catalog_location) as catalog:
            result = catalog.fuse_pending()
    except CatalogError as exc:
        say(f"not fusing new observations ({exc}); indexing the entities as they are")
        return
    if result.observations:
        say(f"fused {result.observations:,} changed observations: {result.entities or 'no entity changed'}")


def optimize(settings: Settings, lock_timeout: float = 60, progress: Progress | None = None) -> OptimizeResult:
    """Merge the live index into one segment (off the hot path: searches keep using the old segments meanwhile)."""
    say = progress or (lambda _msg: None)
    store = IndexStore(settings.index_dir)
    started = time.perf_counter()
    with store.writer_lock(lock_timeout, "optimize"):
        ix, gen = store.open()
        try:
            before = _segment_count(ix)
            say(f"merging {before} segments")
            ix.optimize()
            write_meta(gen, ix, last_merge=_now())
            after = _segment_count(ix)
        finally:
            ix.close()
    return OptimizeResult(before, after, time.perf_counter() - started)


def index_status(settings: Settings) -> dict[str, Any]:
    """What the index holds and how current it is (for `collegesearch status` and the admin page)."""
    store = IndexStore(settings.index_dir)
    try:
        ix, gen = store.open()
    except IndexMissing:
        return {"state": "missing", "message": f"no index in {store.root}; run `collegesearch index rebuild`"}
    except IndexError_ as exc:
        return {"state": "damaged", "message": str(exc)}
    try:
        with ix.searcher() as searcher:
            kinds = {k: searcher.doc_frequency("kind", k) for k in ("career", "institution", "program", "review")}
        return {
            "state": "ok", "generation": gen.name, "path": str(gen.path), "watermark": gen.watermark,
            "doc_count": ix.doc_count(), "by_kind": kinds, "segments": _segment_count(ix),
            "updated_at": gen.meta.get("updated_at"), "created_at": gen.meta.get("created_at"),
            "schema_version": gen.meta.get("schema_version"),
            # how far the index has read the change log (catalog.changes.ChangeCursor) and when it last did
            "cursor": gen.meta.get("cursor"), "last_sync": gen.meta.get("last_sync") or gen.meta.get("created_at"),
        }
    finally:
        ix.close()


# -- internals -------------------------------------------------------------------------------------


class _CatalogHandle:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.catalog: Catalog | None = None

    def __enter__(self) -> Catalog:
        from catalog import Catalog
        from catalog.store import CatalogError

        if not self.settings.catalog_exists:
            raise IndexError_(f"no catalog at {self.settings.catalog_path} yet; run `collegesearch crawl` first")
        try:
            self.catalog = Catalog(self.settings.catalog_location, readonly=True)
        except CatalogError as exc:
            raise IndexError_(str(exc)) from exc
        return self.catalog

    def __exit__(self, *exc: object) -> None:
        if self.catalog is not None:
            self.catalog.close()


def _open_catalog(settings: Settings) -> _CatalogHandle:
    return _CatalogHandle(settings)


def _now() -> str:
    from indexer.engine import utcnow

    return utcnow()


def _needs_rebuild(store: IndexStore) -> tuple[str | None, Generation | None]:
    try:
        gen = store.current()
    except IndexDamaged as exc:
        return f"{exc}", None
    if gen is None:
        return "there is no index yet", None
    if not gen.meta:
        return f"the index in {gen.path} has no metadata (collegesearch.json)", gen
    if gen.meta.get("schema_version") != SCHEMA_VERSION:
        return (f"the index was built with schema version {gen.meta.get('schema_version')}, this program uses "
                f"{SCHEMA_VERSION}"), gen
    if gen.meta.get("data_version") != vocab.data_version():
        return "the vocabulary files (indexer/data, model/data) changed since the index was built", gen
    return None, gen


def _open_for_write(store: IndexStore, gen: Generation) -> tuple[Any, str | None]:
    try:
        ix, gen = store.open(gen)
    except IndexError_ as exc:
        return None, str(exc)
    if gen.meta.get("toc_generation") != ix.latest_generation():
        # A writer committed but died before recording its manifest: read every segment to be sure.
        problem = deep_check(ix)
        if problem:
            ix.close()
            return None, f"the search index in {gen.path} is damaged: {problem}"
    return ix, None


def _segment_count(ix: Any) -> int:
    return len(segments_of(ix))


def _rebuild_locked(store: IndexStore, catalog: Catalog, say: Progress, reason: str, procs: int = 1) -> RebuildResult:
    started = time.perf_counter()
    # Read the watermark first: anything that changes while we read is replayed by the next sync.
    watermark = catalog.fused.max_change_seq()
    cursor = catalog.fused.change_cursor_now()
    total = catalog.fused.count()
    say(f"rebuilding the index from {total:,} catalog records")
    gen = store.new_generation()
    try:
        from whoosh import index as whoosh_index

        from indexer.schema import SCHEMA

        ix = whoosh_index.open_dir(str(gen.path), schema=SCHEMA)
        context = preload_context(catalog)
        shards = parallel_build.shard_count(procs, total)
        if shards > 1:
            by_kind = parallel_build.build_in_processes(ix, catalog.fused.iter_items(), catalog.fused.counts_by_kind(),
                                                        context, shards, say)
        else:
            by_kind = _build_in_this_process(ix, catalog, context, total, say)
        docs = sum(by_kind.values())
        write_meta(gen, ix, watermark=watermark, cursor=cursor.to_json(), data_version=vocab.data_version(),
                   created_at=_now(), built_docs=docs, reason=reason)
        ix.close()
        store.publish(gen)
    except BaseException:
        import shutil

        shutil.rmtree(gen.path, ignore_errors=True)
        raise
    removed = store.prune()
    result = RebuildResult(
        docs=docs, by_kind=dict(by_kind), seconds=time.perf_counter() - started, generation=gen.name,
        watermark=watermark, reason=reason, removed_generations=removed, processes=shards,
    )
    say(f"  published {gen.name}")
    _warm_zip_table(store, say)
    return result


def _build_in_this_process(ix: Any, catalog: Catalog, context: StaticContext, total: int,
                           say: Progress) -> Counter[str]:
    """Index the whole catalog with one writer and merge it into one segment (INDEX_BUILD_PROCS=1, small catalogs)."""
    by_kind: Counter[str] = Counter()
    writer = open_writer(ix, limitmb=256)
    try:
        step = max(500, total // 20)
        for n, stored in enumerate(catalog.fused.iter_items(), 1):
            writer.add_document(**to_document(stored, context))
            by_kind[stored.kind] += 1
            if n % step == 0:
                say(f"  indexed {n:,} of {total:,} ({100 * n // max(total, 1)}%)")
        say("  writing and merging segments")
        writer.commit(optimize=True)
    except BaseException:
        writer.cancel()
        raise
    return by_kind


def _warm_zip_table(store: IndexStore, say: Progress) -> None:
    """Write the ZIP-code table next to the index, so no searcher pays for loading it on a near-me search."""
    from indexer import geo

    path = store.root / geo.CACHE_NAME
    if not path.exists():
        say("  caching the ZIP-code table for near-me searches")
        geo.set_cache_path(path)
        geo.warm()


def preload_context(catalog: Catalog) -> StaticContext:
    """Every institution, rating and program in memory (for a rebuild: one pass instead of a query per item)."""
    institutions = {s.item_id: s.data for s in catalog.fused.iter_items("institution")}
    ratings = {uid: (st.get("average"), int(st.get("count") or 0)) for uid, st in catalog.fused.rating_stats().items()}
    programs: dict[str, list[dict[str, Any]]] = {}
    for stored in catalog.fused.iter_items("program"):
        parent = stored.data.get("institution_unitid")
        if parent:
            programs.setdefault(str(parent), []).append(stored.data)
    return StaticContext(institutions, ratings, programs)


class CatalogContext:
    """A LinkContext that asks the catalog, caching answers for one batch."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._inst: dict[str, dict[str, Any] | None] = {}
        self._rating: dict[str, tuple[float | None, int]] = {}
        self._programs: dict[str, list[dict[str, Any]]] = {}
        self._campuses: dict[str, list[str]] = {}

    def institution(self, unitid: str | None) -> dict[str, Any] | None:
        """The live institution's data, or None."""
        if not unitid:
            return None
        if unitid not in self._inst:
            stored = self.catalog.fused.get("institution", unitid)
            self._inst[unitid] = stored.data if stored else None
        return self._inst[unitid]

    def rating(self, unitid: str | None) -> tuple[float | None, int]:
        """(average, count) of the institution's live reviews."""
        if not unitid:
            return None, 0
        if unitid not in self._rating:
            stats = self.catalog.fused.rating_stats(unitid).get(unitid)
            self._rating[unitid] = (stats.get("average"), int(stats.get("count") or 0)) if stats else (None, 0)
        return self._rating[unitid]

    def programs(self, unitid: str | None) -> list[dict[str, Any]]:
        """The institution's live programs."""
        if not unitid:
            return []
        if unitid not in self._programs:
            self._programs[unitid] = [s.data for s in self.catalog.fused.children(unitid, "program")]
        return self._programs[unitid]

    def campuses(self, base: str) -> list[str]:
        """Names of the live institutions named "<base>-..." (asked only for the few flagships)."""
        if base not in self._campuses:
            named = self.catalog.fused.titles_starting("institution", base)
            self._campuses[base] = [n for n in named if brands.campus_part(n, base)]
        return self._campuses[base]


def affected_records(catalog: Catalog, changes: Iterable[Change]) -> tuple[dict[tuple[str, str], str], set[tuple[str, str]]]:
    """The records a batch of changes touches: {(kind, id): op} for the changed ones, and the linked ones."""
    direct: dict[tuple[str, str], str] = {}
    linked: set[tuple[str, str]] = set()
    flagships: set[str] = set()
    for change in changes:
        key = (change.kind, change.item_id)
        direct[key] = change.op if key not in direct or change.op == "deleted" else _merge_op(direct[key], change.op)
        if change.kind in ("program", "review"):
            for parent in _parents(catalog, change):
                linked.add(("institution", parent))
                if change.kind == "review":
                    # programs show their institution's rating
                    linked.update(("program", s.item_id) for s in catalog.fused.children(parent, "program"))
        elif change.kind == "institution":
            touched = set((change.diff or {}).keys())
            if change.op != "changed" or touched & INSTITUTION_FIELDS_SHOWN_BY_CHILDREN:
                for kind in ("program", "review"):
                    linked.update((kind, s.item_id) for s in catalog.fused.children(change.item_id, kind))
            if change.op != "changed" or "name" in touched:
                flagships.update(_flagships_named_by(catalog, change))
    if flagships:
        # a campus came, went or was renamed: its flagship's system brand may have changed, and the
        # flagship's programs and reviews carry it (``indexer.brands``); one query for the whole batch
        for flagship in catalog.fused.ids_by_title("institution", sorted(flagships)).values():
            linked.add(("institution", flagship))
            for kind in ("program", "review"):
                linked.update((kind, s.item_id) for s in catalog.fused.children(flagship, kind))
    linked.difference_update(direct)
    return direct, linked


def _merge_op(first: str, later: str) -> str:
    # several changes of one item in a batch: "new" then "changed" is still an addition
    if first in ("new", "revived") and later == "changed":
        return first
    return later


def _flagships_named_by(catalog: Catalog, change: Change) -> set[str]:
    """The flagship names an institution's old and new names could be campuses of."""
    names = {str(v) for v in (change.diff or {}).get("name") or () if v}
    stored = catalog.fused.get("institution", change.item_id, include_deleted=True)
    if stored is not None and stored.data.get("name"):
        names.add(str(stored.data["name"]))
    return {title for name in names for title in brands.flagship_titles(name)}


def _parents(catalog: Catalog, change: Change) -> set[str]:
    parents: set[str] = set()
    diff = change.diff or {}
    if "institution_unitid" in diff:
        parents.update(str(v) for v in diff["institution_unitid"] if v)
    stored = catalog.fused.get(change.kind, change.item_id, include_deleted=True)
    if stored is not None and stored.data.get("institution_unitid"):
        parents.add(str(stored.data["institution_unitid"]))
    return parents


def _apply_changes(ix: Any, gen: Generation, catalog: Catalog, say: Progress, batch_size: int,
                   stop: Callable[[], bool] | None = None) -> SyncResult:
    from catalog.changes import ChangeCursor

    result = SyncResult(watermark_from=gen.watermark, watermark_to=gen.watermark)
    watermark = gen.watermark
    cursor = ChangeCursor.from_json(gen.meta.get("cursor"), watermark)
    while True:
        changes, after = catalog.fused.changes_after(cursor, limit=batch_size)
        if not changes:
            break
        direct, linked = affected_records(catalog, changes)
        context = CatalogContext(catalog)
        writer = open_writer(ix, limitmb=64)
        try:
            for (kind, item_id), op in direct.items():
                stored = catalog.fused.get(kind, item_id)
                if stored is None:
                    writer.delete_by_term("id", doc_id(kind, item_id))
                    result.deleted += 1
                    continue
                writer.update_document(**to_document(stored, context))
                if op in ("new", "revived"):
                    result.added += 1
                else:
                    result.updated += 1
            for kind, item_id in sorted(linked):
                linked_item: StoredItem | None = catalog.fused.get(kind, item_id)
                if linked_item is None:
                    writer.delete_by_term("id", doc_id(kind, item_id))
                else:
                    writer.update_document(**to_document(linked_item, context))
                result.linked += 1
            # No merge here: merging rewrites big segments and belongs off the hot path.
            writer.commit(merge=False)
        except BaseException:
            writer.cancel()
            raise
        cursor, watermark = after, max(watermark, max(c.seq for c in changes))
        write_meta(gen, ix, watermark=watermark, cursor=cursor.to_json(), last_sync=_now())
        result.changes += len(changes)
        result.batches += 1
        result.watermark_to = watermark
        say(f"  applied {result.changes:,} changes (catalog change {watermark})")
        if stop is not None and stop():
            break
    return result
