"""A data dir of the scaled sample site (``sample-site --scale N``), built from its ground truth without crawling.

    .venv/bin/python bench/scaled.py [--scale 10] [--cache DIR]

Crawling N times the programs and reviews takes too long to repeat for every measurement, so the
records go straight from ``sample_site.truth`` into a real ``catalog.Catalog`` (as the relevance
corpus does: ``tests/relevance/corpus.py``; the truth's records already carry the links a crawl's
record linkage finds), and ``indexer.build.rebuild`` fuses the observations (College Navigator's
and the directory's rows of one program become one entity) and builds the index. The data dir
(``catalog.sqlite3`` and ``index/``) is kept in ``<cache>/scaled-<N>-<fingerprint>/data`` and
reused while the generator, catalog, indexer and model are unchanged; a file lock keeps two
processes from building it at once.

A cheap check ends every build and reuse: the index holds exactly the truth's counts at scale N
(careers, institutions, fused programs, reviews), and programs and reviews are N times those of
scale 1 (within ``TOLERANCE``) while careers and institutions stay the same.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import filelock  # noqa: E402

from catalog import Catalog  # noqa: E402
from collegesearch.config import Settings, load_settings  # noqa: E402
from indexer.build import index_status, rebuild  # noqa: E402
from model.items import item_from_dict  # noqa: E402

# What decides the built catalog and the index's contents (not how the index is searched or built:
# a change to the search or to the build's speed must not cost the hour a 10x build takes).
DEPENDS_ON = ("sample_site", "catalog", "model", "indexer/schema.py", "indexer/vocab.py", "indexer/synonyms.py",
              "indexer/geo.py", "indexer/data", "bench/scaled.py")
BATCH = 2000
TOLERANCE = 0.02
"""How far the scaled programs and reviews may be from N times scale 1's (the generator makes them exact)."""

Say = Callable[[str], None]


def default_cache() -> Path:
    """The benchmarks' cache folder (outside the repository), as ``bench/search_relevance.py`` uses."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "collegesearch" / "bench"


def fingerprint() -> str:
    """Hash of everything the built data dir depends on (code and data of the generator, catalog, indexer, model)."""
    digest = hashlib.sha256()
    for rel in DEPENDS_ON:
        path = ROOT / rel
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix in (".py", ".csv", ".txt", ".tsv", ".gz", ".html"))
        for f in files:
            digest.update(str(f.relative_to(ROOT)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def settings_for(data_dir: Path) -> Settings:
    """Settings whose catalog and index live in a data dir (nothing from the environment)."""
    return load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data_dir)})


def scaled_data_dir(cache_root: Path, scale: int, say: Say) -> Path:
    """The data dir (catalog + index) of the sample site at ``scale``, built once per fingerprint."""
    from sample_site.scale import check_scale

    check_scale(scale)
    cache_root = Path(cache_root)
    cache_root.mkdir(parents=True, exist_ok=True)
    key = fingerprint()
    target = cache_root / f"scaled-{scale}-{key}"
    data_dir = target / "data"
    with filelock.FileLock(str(cache_root / f"scaled-{scale}.lock")):
        if not (target / "READY").exists():
            for old in cache_root.glob(f"scaled-{scale}-*"):
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)  # built from older code, or interrupted
            _build(data_dir, scale, say)
            (target / "READY").write_text(key)
        else:
            say(f"reusing the scale-{scale} data dir {data_dir}")
    check_counts(data_dir, scale, say)
    return data_dir


def _build(data_dir: Path, scale: int, say: Say) -> None:
    from sample_site import truth

    settings = settings_for(data_dir)
    settings.catalog_path.parent.mkdir(parents=True, exist_ok=True)
    say(f"building the scale-{scale} data dir in {data_dir}")
    started = time.perf_counter()
    stored = 0
    with Catalog(settings.catalog_path) as catalog:
        batch = []
        # Streamed, not expected_items(): at scale 10 the whole truth is several hundred MB of dicts.
        for kind, _item_id, fields in truth.iter_expected_items(1, scale=scale):
            batch.append(item_from_dict({**fields, "kind": kind}))
            if len(batch) >= BATCH:
                catalog.upsert_many(batch)
                stored += len(batch)
                batch = []
                if stored % 50_000 < BATCH:
                    say(f"  {stored:,} records stored ({time.perf_counter() - started:.0f} s)")
        if batch:
            catalog.upsert_many(batch)
            stored += len(batch)
    say(f"catalog: {stored:,} records in {time.perf_counter() - started:.0f} s; fusing and indexing")
    result = rebuild(settings, progress=say)
    say(result.summary())
    say(f"scale-{scale} data dir built in {time.perf_counter() - started:.0f} s")


def check_counts(data_dir: Path, scale: int, say: Say) -> dict[str, int]:
    """Documents per kind in the index; raises RuntimeError unless they are the truth's and N times scale 1's."""
    from sample_site import truth

    status = index_status(settings_for(data_dir))
    if status.get("state") != "ok":
        raise RuntimeError(f"the scale-{scale} index is not usable: {status.get('message')}")
    docs: dict[str, int] = status["by_kind"]
    want, one = truth.counts(1, scale=scale), truth.counts(1)
    expected = {"career": want["careers"], "institution": want["institution_pages"],
                "program": want["fused_programs"], "review": want["reviews"]}
    problems = [f"{kind}: {docs.get(kind)} documents, the truth has {n}" for kind, n in expected.items() if docs.get(kind) != n]
    for kind, base in (("program", one["fused_programs"]), ("review", one["reviews"])):
        if abs(docs.get(kind, 0) - scale * base) > TOLERANCE * scale * base:
            problems.append(f"{kind}: {docs.get(kind)} documents, not about {scale} x {base}")
    for kind, base in (("career", one["careers"]), ("institution", one["institution_pages"])):
        if docs.get(kind) != base:
            problems.append(f"{kind}: {docs.get(kind)} documents, scale 1 has {base}")
    if problems:
        raise RuntimeError(f"the scale-{scale} data dir {data_dir} does not hold the scaled site: " + "; ".join(problems))
    say(f"scale {scale}: {status['doc_count']:,} documents " + ", ".join(f"{n:,} {k}s" for k, n in sorted(docs.items()))
        + f" (scale 1: {one['fused_programs']:,} programs, {one['reviews']:,} reviews)")
    return docs


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or reuse) the scaled data dir and print its path."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10, help="N times the programs and reviews (1-50)")
    parser.add_argument("--cache", type=Path, default=default_cache(), help="where built data dirs are kept")
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(f"[scaled {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    try:
        path = scaled_data_dir(args.cache, args.scale, say)
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
