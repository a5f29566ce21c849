"""The search engine behind the indexer's own interface: index folders, the writer lock, health checks.

Everything that knows how Whoosh lays out files lives here, so another engine could replace it
without the web app noticing (the web app only sees ``indexer.search`` and ``indexer.results``).

Layout of ``settings.index_dir``::

    CURRENT               name of the live generation folder (replaced atomically with os.replace)
    gen-<time>-<rand>/    a complete Whoosh index plus collegesearch.json (watermark, manifest)
    write.lock            held by the one writer (sync or rebuild); writer.json says who holds it

A rebuild writes a new generation folder and publishes it by replacing CURRENT, so searchers
never see a half-built index. Whoosh's multi-file format is not crash-safe, so every commit also
records a manifest (file names and sizes); ``check()`` compares it with the disk and opens the
index, and a damaged index is rebuilt from the catalog (the system of record).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from indexer.engine.internals import (
    latest_toc_generation,
    read_toc_at,
    reader_for_toc,
    segments_of,
    toc_file_name,
)
from indexer.schema import SCHEMA, SCHEMA_VERSION

POINTER = "CURRENT"
META = "collegesearch.json"
LOCK = "write.lock"
OWNER = "writer.json"
GEN_PREFIX = "gen-"
POSTING_BLOCK = 1024
KEEP_GENERATIONS = 2  # the live one and the one before it (a searcher may still read it briefly)


class IndexError_(RuntimeError):  # noqa: N801 - named so to avoid shadowing the builtin IndexError
    """A user-facing index problem (locked, missing catalog, unreadable folder); the message says what to do."""


class IndexMissing(IndexError_):
    """No index has been built yet."""


class IndexDamaged(IndexError_):
    """The index on disk cannot be trusted (missing TOC, truncated or missing segment files)."""


def utcnow() -> str:
    """The current UTC time as ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Generation:
    """One index folder and its metadata."""

    path: Path
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The folder name (what CURRENT holds)."""
        return self.path.name

    @property
    def watermark(self) -> int:
        """The newest catalog change-log seq applied to this index."""
        return int(self.meta.get("watermark") or 0)


class IndexStore:
    """The index folder: generations, the CURRENT pointer, the writer lock."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    # -- reading ---------------------------------------------------------------------------------

    def current(self) -> Generation | None:
        """The live generation named by CURRENT, or None when there is none."""
        try:
            name = (self.root / POINTER).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexDamaged(f"cannot read {self.root / POINTER}: {exc.strerror}") from exc
        if not name.startswith(GEN_PREFIX) or "/" in name or not (self.root / name).is_dir():
            raise IndexDamaged(f"{self.root / POINTER} names {name!r}, which is not an index folder")
        path = self.root / name
        return Generation(path, read_meta(path))

    def change_token(self) -> tuple[Any, ...] | None:
        """Cheap fingerprint that changes whenever a writer commits or a rebuild is published."""
        try:
            pointer = (self.root / POINTER).stat()
            name = (self.root / POINTER).read_text(encoding="utf-8").strip()
            meta = (self.root / name / META).stat()
        except (OSError, ValueError):
            return None
        return (pointer.st_ino, pointer.st_mtime_ns, name, meta.st_ino, meta.st_mtime_ns, meta.st_size)

    def open(self, generation: Generation | None = None, *, mapped: bool = True) -> tuple[Any, Generation]:
        """Open the live index (checked); raises IndexMissing or IndexDamaged.

        ``mapped=False`` reads the files with ordinary reads instead of memory maps: a searcher
        process holds a reader per concurrent search, each mapping every segment file again, which
        counted the index several times over in the worker's resident memory (see README, "Memory").
        """
        gen = generation or self.current()
        if gen is None:
            raise IndexMissing(f"no search index in {self.root} yet; run `collegesearch index rebuild`")
        problem = check(gen)
        if problem:
            raise IndexDamaged(f"the search index in {gen.path} is damaged: {problem}")
        try:
            ix = FileStorage(str(gen.path), supports_mmap=mapped).open_index(schema=SCHEMA)
        except Exception as exc:  # any failure to read the TOC means the index is unusable
            raise IndexDamaged(f"the search index in {gen.path} cannot be opened: {exc!r}") from exc
        return ix, gen

    # -- writing ---------------------------------------------------------------------------------

    def new_generation(self) -> Generation:
        """Create an empty index in a fresh generation folder (not yet live)."""
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.root / f"{GEN_PREFIX}{stamp}-{secrets.token_hex(4)}"
        path.mkdir()
        whoosh_index.create_in(str(path), SCHEMA)
        return Generation(path, {})

    def publish(self, gen: Generation) -> None:
        """Make a generation live: fsync its files, then atomically replace CURRENT."""
        for child in gen.path.iterdir():
            if child.is_file():
                _fsync(child)
        _fsync(gen.path)
        tmp = self.root / f"{POINTER}.{os.getpid()}.tmp"
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(gen.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / POINTER)
        _fsync(self.root)

    def prune(self, keep: int = KEEP_GENERATIONS) -> list[str]:
        """Delete old generation folders, keeping the live one and the newest others up to ``keep``."""
        live = None
        with contextlib.suppress(IndexError_):
            current = self.current()
            live = current.name if current else None
        gens = sorted((p for p in self.root.glob(GEN_PREFIX + "*") if p.is_dir()), key=lambda p: p.name, reverse=True)
        kept = [live] if live else []
        removed = []
        for path in gens:
            if path.name in kept:
                continue
            if len(kept) < keep and path.name < (live or "~"):
                kept.append(path.name)
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        return removed

    @contextlib.contextmanager
    def writer_lock(self, timeout: float, operation: str) -> Iterator[None]:
        """Hold the one-writer lock; wait up to ``timeout`` seconds, then raise IndexError_ saying who holds it."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexError_(f"cannot create the index folder {self.root}: {exc.strerror}") from exc
        lock = filelock.FileLock(str(self.root / LOCK))
        try:
            lock.acquire(timeout=max(0.0, float(timeout)))
        except filelock.Timeout:
            holder = self._holder()
            raise IndexError_(
                f"another index writer is running ({holder}); waited {timeout:g} s for it. "
                "Try again when it has finished, or give it longer with --timeout."
            ) from None
        except OSError as exc:
            raise IndexError_(f"cannot lock {self.root / LOCK}: {exc.strerror}") from exc
        try:
            with contextlib.suppress(OSError):
                _write_json(self.root / OWNER, {
                    "operation": operation, "pid": os.getpid(), "host": socket.gethostname(), "since": utcnow(),
                })
            yield
        finally:
            with contextlib.suppress(OSError):
                (self.root / OWNER).unlink()
            lock.release()

    def _holder(self) -> str:
        try:
            info = json.loads((self.root / OWNER).read_text(encoding="utf-8"))
            return f"{info.get('operation', 'a writer')}, pid {info.get('pid')} on {info.get('host')} since {info.get('since')}"
        except (OSError, ValueError):
            return "holder unknown"


def writer_lock_holder(index_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Who holds an index folder's writer lock now: its note (operation, pid, host, since), or None when free.

    Asks the lock itself, without taking it: a note left by a writer that was killed is no holder.
    """
    import fcntl

    root = Path(index_dir)
    try:
        fd = os.open(root / LOCK, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                info = json.loads((root / OWNER).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                info = {}
            return info if isinstance(info, dict) else {}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


# -- metadata and health -------------------------------------------------------------------------


def read_meta(path: Path) -> dict[str, Any]:
    """The collegesearch.json of a generation ({} when missing or unreadable)."""
    try:
        data = json.loads((path / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_meta(gen: Generation, ix: Any, **changes: Any) -> dict[str, Any]:
    """Record the watermark and the file manifest after a commit (atomic replace)."""
    meta = dict(gen.meta)
    meta.update(changes)
    meta.setdefault("created_at", utcnow())
    meta["updated_at"] = utcnow()
    meta["schema_version"] = SCHEMA_VERSION
    meta["toc_generation"] = ix.latest_generation()
    meta["files"] = _manifest(gen.path, ix)
    meta["engine"] = "whoosh"
    _write_json(gen.path / META, meta)
    gen.meta = meta
    return meta


def _manifest(path: Path, ix: Any) -> dict[str, int]:
    storage = FileStorage(str(path))
    files: dict[str, int] = {}
    toc = read_toc_at(storage, ix.latest_generation())
    names = {toc_file_name(ix.latest_generation())}
    for segment in toc.segments:
        names.update(segment.list_files(storage))
    for name in sorted(names):
        with contextlib.suppress(OSError):
            files[name] = (path / name).stat().st_size
    return files


def check(gen: Generation) -> str | None:
    """Why a generation cannot be trusted, or None when it looks sound (cheap: stats plus a TOC read)."""
    path = gen.path
    storage = FileStorage(str(path))
    try:
        latest = latest_toc_generation(storage)
    except OSError as exc:
        return f"cannot list {path}: {exc.strerror}"
    if latest < 0:
        return "its table of contents (TOC file) is missing"
    try:
        toc = read_toc_at(storage, latest, SCHEMA)
    except Exception as exc:  # a torn or garbage TOC raises anything from struct.error to EOFError
        return f"its table of contents cannot be read ({exc.__class__.__name__})"
    for segment in toc.segments:
        if not segment.list_files(storage):
            return f"segment {segment.segment_id()} listed in the TOC has no files"
    manifest = gen.meta.get("files") or {}
    if gen.meta and gen.meta.get("toc_generation") == latest:
        for name, size in manifest.items():
            try:
                actual = (path / name).stat().st_size
            except FileNotFoundError:
                return f"file {name} is missing"
            if actual != size:
                return f"file {name} is {actual} bytes, the last commit wrote {size}"
    elif gen.meta and gen.meta.get("toc_generation", -1) > latest:
        return "its newest table of contents is missing"
    return None


def deep_check(ix: Any) -> str | None:
    """Read something from every segment (slower; run when the manifest cannot vouch for the files)."""
    try:
        with ix.reader() as reader:
            total = reader.doc_count_all()
            for name in ("id", "kind"):
                for _ in zip(range(3), reader.lexicon(name), strict=False):
                    pass
            if total:
                reader.stored_fields(total - 1)
                reader.stored_fields(0)
    except Exception as exc:  # damaged segment data surfaces as arbitrary decoding errors
        return f"reading it failed ({exc.__class__.__name__}: {exc})"
    return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk (best effort: some file systems refuse folders)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def open_writer(ix: Any, limitmb: int = 128) -> Any:
    """A Whoosh writer with our codec settings: posting blocks of 1,024 (not 128) postings, because
    the search reads whole postings lists and pays per block, not per posting."""
    from whoosh.codec.whoosh3 import W3Codec

    return ix.writer(limitmb=limitmb, codec=W3Codec(blocklimit=POSTING_BLOCK))


def pinned_searcher(ix: Any, toc: Any) -> Any:
    """A Whoosh searcher over exactly the segments of one TOC (docnums then agree across searchers)."""
    from whoosh.scoring import BM25F
    from whoosh.searching import Searcher as WhooshSearcher

    return WhooshSearcher(reader_for_toc(ix, toc), weighting=BM25F())


def adopt_segments(ix: Any, shard_folders: Sequence[Path]) -> None:
    """Make the shards' segments, in this order, the segments of the empty index ``ix`` (one commit).

    The shards' files are moved as they are (their names are unique segment ids); the commit is
    public API: a ``mergetype`` policy that returns the segments to keep.
    """
    target = Path(ix.storage.folder)
    segments: list[Any] = []
    for folder in shard_folders:
        shard_ix = whoosh_index.open_dir(str(folder))
        try:
            for segment in segments_of(shard_ix):
                for name in segment.list_files(shard_ix.storage):
                    os.replace(folder / name, target / name)
                segments.append(segment)
        finally:
            shard_ix.close()
    writer = open_writer(ix)
    try:
        writer.commit(mergetype=lambda _writer, existing: [*existing, *segments])
    except BaseException:
        with contextlib.suppress(Exception):
            writer.cancel()
        raise
