"""A full rebuild in several processes that writes the same index as one process would.

Where a rebuild's time goes (the whole-sample-site catalog, 44,186 documents, about 160 s of CPU
in one process): ``to_document`` with its catalog reads 7%; Whoosh's analysis and posting pool
(``add_document``: tokenising, stemming, n-grams, sorting runs) 58%; writing the postings at the
commit 35%. Both Whoosh parts grow with the documents, so both have to run in parallel. Merging
the shards into one segment afterwards would not do: that merge decodes and re-writes every
posting in one process (measured: more CPU than the single build's whole commit), which caps two
processes at about 1.3x.

So the ordered stream of catalog records is cut into contiguous shards, one per process. The
parent reads the catalog (one read: one consistent stream, as in the single build) and hands each
shard's records to its process in pickled chunk files (memory stays bounded by a chunk); each
process turns its records into documents and builds them into a one-segment index of its own,
exactly as the single build does for the whole catalog. The parent then adopts the shard
segments, in shard order, as the segments of the new generation. Whoosh numbers documents across
segments in segment order, so every document keeps the docnum it has in a single build, and the
index reads the same: stored fields, terms, postings, frequencies, columns, field lengths (the
totals are exact, where a merge would re-add per-document lengths rounded to a byte).

The processes are fresh interpreters (``python -m indexer.parallel_build``), not forks: safe from
threaded callers (the web app's sync) and from scripts without a ``__main__`` guard. A process that
fails or is killed fails the rebuild with a one-line error; the caller removes the half-built
generation, so the live index stays as it was. Interrupting the parent stops them.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import selectors
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from indexer.engine import IndexError_, adopt_segments, open_writer

if TYPE_CHECKING:
    from catalog.store import StoredItem
    from indexer.schema import StaticContext

Progress = Callable[[str], None]

# A process builds at least this many documents: below it, starting one (a fresh interpreter that
# imports Whoosh) costs more than it saves.
MIN_SHARD_DOCS = 2000
# What indexing a record of each kind costs, relative to a review (CPU per document measured on the
# whole-sample catalog: career 10.1 ms, institution 3.8, program 3.0, review 1.8). Shards are cut at
# equal cost, not equal counts: the stream is sorted by kind, and cut by count the first process got
# every career, institution and program and worked 105 s to the second's 63 s.
COST_BY_KIND: dict[str, float] = {"career": 5.7, "institution": 2.1, "program": 1.7, "review": 1.0}
# Records per chunk file handed to a build process.
CHUNK_ITEMS = 500
# The posting pool of the single build (MB); the build processes share it.
POOL_MB = 256
WORK_FOLDER = "build-shards"
CONTEXT_FILE = "context.pickle"
END = "END"
STOP_WAIT = 10.0
ROOT = Path(__file__).resolve().parents[1]


class RebuildFailed(IndexError_):
    """A build process failed or was killed; the message says which and why."""


def shard_count(procs: int, total: int) -> int:
    """How many build processes a rebuild of ``total`` records uses (1: the single-process build)."""
    return max(1, min(procs, total // MIN_SHARD_DOCS))


def build_in_processes(ix: Any, items: Iterable[StoredItem], counts: Mapping[str, int], context: StaticContext,
                       procs: int, say: Progress) -> Counter[str]:
    """Index ``items`` (in order; ``counts``: how many of each kind) into the empty index ``ix`` with ``procs``
    processes; returns the documents per kind."""
    work = Path(ix.storage.folder) / WORK_FOLDER
    work.mkdir()
    with (work / CONTEXT_FILE).open("wb") as fh:
        pickle.dump(context, fh, protocol=pickle.HIGHEST_PROTOCOL)
    total = sum(counts.values())
    cuts = cost_cuts(counts, procs)
    shards = [_Shard(i, work) for i in range(procs)]
    by_kind: Counter[str] = Counter()
    try:
        limitmb = max(32, POOL_MB // procs)
        for shard in shards:
            shard.start(limitmb)
        say(f"  indexing with {procs} processes (pids {', '.join(str(s.pid) for s in shards)})")
        step = max(500, total // 10)
        current, cost = 0, 0.0
        for n, stored in enumerate(items):
            while current + 1 < procs and cost >= cuts[current]:
                shards[current].flush(end=True)
                current += 1
                shards[current].first = n
            shards[current].add(stored)
            cost += COST_BY_KIND.get(stored.kind, 1.0)
            by_kind[stored.kind] += 1
            if (n + 1) % step == 0:
                say(f"  handed {n + 1:,} of {total:,} records to the build processes")
        for shard in shards[current:]:
            shard.flush(end=True)
        _wait_for(shards, say)
        say(f"  adopting the {procs} shard segments in order")
        adopt_segments(ix, [s.folder for s in shards])
    finally:
        for shard in shards:
            shard.stop()
        shutil.rmtree(work, ignore_errors=True)
    return by_kind


def cost_cuts(counts: Mapping[str, int], procs: int) -> list[float]:
    """The indexing cost at which each shard but the last is complete (equal shares of the estimated total)."""
    total = sum(n * COST_BY_KIND.get(kind, 1.0) for kind, n in counts.items())
    return [total * (i + 1) / procs for i in range(procs - 1)]


@dataclass(eq=False)  # compared and hashed by identity: one per process
class _Shard:
    """The parent's side of one build process: records go to chunk files, their names down its stdin."""

    number: int
    work: Path
    first: int = 0
    """Docnum of the shard's first document (its position in the catalog stream)."""
    docs: int = 0
    chunks: int = 0
    buffer: list[StoredItem] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None
    result: dict[str, Any] | None = None

    @property
    def folder(self) -> Path:
        """The shard's own Whoosh index."""
        return self.work / f"shard-{self.number}"

    @property
    def log(self) -> Path:
        """The process's stderr (the last line explains a crash that sent no result)."""
        return self.work / f"shard-{self.number}.log"

    @property
    def pid(self) -> int | None:
        """The build process's id."""
        return self.process.pid if self.process else None

    def start(self, limitmb: int) -> None:
        """Start the build process."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "indexer.parallel_build", str(self.folder), str(self.work), str(limitmb)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=str(ROOT),
            )

    def add(self, stored: StoredItem) -> None:
        """Queue one record for this shard."""
        self.buffer.append(stored)
        self.docs += 1
        if len(self.buffer) >= CHUNK_ITEMS:
            self.flush()

    def flush(self, end: bool = False) -> None:
        """Write the queued records to a chunk file and name it to the process; ``end``: no more follow."""
        if self.buffer:
            name = f"chunk-{self.number}-{self.chunks:06d}.pickle"
            with (self.work / name).open("wb") as fh:
                pickle.dump(self.buffer, fh, protocol=pickle.HIGHEST_PROTOCOL)
            self.buffer = []
            self.chunks += 1
            self._send(name)
        if end:
            self._send(END)
            assert self.process is not None and self.process.stdin is not None
            self.process.stdin.close()

    def _send(self, line: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ConnectionResetError):
            raise RebuildFailed(self.failure()) from None

    def receive(self) -> None:
        """Read the process's result (its stdout is readable); raise unless it built its shard."""
        assert self.process is not None and self.process.stdout is not None
        line = self.process.stdout.readline()
        with contextlib.suppress(ValueError):
            self.result = json.loads(line) if line.strip() else None
        if not self.result or "done" not in self.result:
            raise RebuildFailed(self.failure())
        self.process.wait(STOP_WAIT)

    def failure(self) -> str:
        """One line: why the process did not build its shard."""
        assert self.process is not None
        if self.result and "error" in self.result:
            detail = str(self.result["error"])
        else:
            try:
                code = self.process.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                code = None
            if code is not None and code < 0:
                detail = f"it was killed by signal {-code} ({_signal_name(-code)})"
            else:
                last = _last_line(self.log)
                detail = f"it exited with code {code} without a result" + (f" ({last})" if last else "")
        return (f"index rebuild failed: build process {self.number + 1} (pid {self.pid}, documents from "
                f"{self.first:,}): {detail}")

    def stop(self) -> None:
        """Stop the process if it still runs (after a failure or an interrupt) and close its pipes."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_WAIT)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def _wait_for(shards: Sequence[_Shard], say: Progress) -> None:
    """Wait until every process has built its shard; the first failure raises (the caller stops the others)."""
    with selectors.DefaultSelector() as selector:
        for shard in shards:
            assert shard.process is not None and shard.process.stdout is not None
            selector.register(shard.process.stdout, selectors.EVENT_READ, shard)
        done = 0
        while done < len(shards):
            for key, _events in selector.select():
                shard = key.data
                selector.unregister(key.fileobj)
                shard.receive()  # a result line, or EOF when the process died
                done += 1
                cpu = (shard.result or {}).get("cpu_seconds")
                say(f"  build process {shard.number + 1} of {len(shards)} done ({shard.docs:,} documents, {cpu} s CPU)")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


# -- the build process -------------------------------------------------------------------------------


def shard_main(argv: Sequence[str], commands: IO[str], results: IO[str]) -> int:
    """Build one shard: index the records of every chunk file named on ``commands``, then commit one segment."""
    folder, work, limitmb = Path(argv[0]), Path(argv[1]), int(argv[2])
    _die_with_parent()
    try:
        docs = _build_shard(commands, folder, work, limitmb)
    except KeyboardInterrupt:
        return 130  # Ctrl-C reached the whole process group; the parent reports the interrupt
    except _ParentGone:
        return 1
    except BaseException as exc:  # noqa: BLE001 - any failure goes to the parent as one line
        message = str(exc) if isinstance(exc, _RecordFailed) else f"{exc.__class__.__name__}: {exc}"
        results.write(json.dumps({"error": (message.splitlines() or [""])[0][:500]}) + "\n")
        results.flush()
        return 1
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.write(json.dumps({"done": docs, "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1)}) + "\n")
    results.flush()
    return 0


def _die_with_parent() -> None:
    """Ask Linux to stop this process when the parent dies (a killed parent sends no "stop")."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    # elsewhere a dead parent shows as the end of the chunk list without "END" (see _build_shard)


class _RecordFailed(Exception):
    """A record could not be indexed; the message names it."""


class _ParentGone(Exception):
    """The parent closed the pipe without saying the shard is complete: it failed or was stopped."""


def _build_shard(commands: IO[str], folder: Path, work: Path, limitmb: int) -> int:
    from whoosh import index as whoosh_index

    from indexer.schema import SCHEMA, to_document

    with (work / CONTEXT_FILE).open("rb") as fh:
        context = pickle.load(fh)  # noqa: S301 - written by our parent a moment ago
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), SCHEMA)
    writer = open_writer(ix, limitmb=limitmb)
    docs = 0
    try:
        while True:
            name = commands.readline().strip()
            if name == END:
                break
            if not name:
                raise _ParentGone
            path = work / name
            with path.open("rb") as fh:
                chunk: list[StoredItem] = pickle.load(fh)  # noqa: S301 - written by our parent a moment ago
            path.unlink()
            for stored in chunk:
                try:
                    writer.add_document(**to_document(stored, context))
                except Exception as exc:  # name the record: the fix is in the catalog
                    raise _RecordFailed(f"{stored.kind} {stored.item_id!r}: {exc.__class__.__name__}: {exc}") from exc
            docs += len(chunk)
        # the same commit as the single build: everything in one segment
        writer.commit(optimize=True)
    except BaseException:
        writer.cancel()
        raise
    finally:
        ix.close()
    return docs


if __name__ == "__main__":
    sys.exit(shard_main(sys.argv[1:], sys.stdin, sys.stdout))
