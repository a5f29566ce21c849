"""The relevance corpus: the sample site's ground truth (epoch 1) in a catalog, and an index built from it.

The records are exactly what a complete crawl should store (``sample_site.truth.expected_items``),
with reviews and directory programs linked to their true institution (what record linkage should
find). The index is built the way a crawl's is: ``indexer.build.rebuild`` first fuses the
observations, so a program both College Navigator and the CAHIIM directory list is one document.
Building takes minutes, so the built catalog + index is cached in a folder keyed by a hash of
everything it depends on (the sample-site generator, the catalog and its fusion, the indexer, and
the whole ``model`` package with its data: the program-name normaliser and the source ranking
decide what fuses); a file lock keeps parallel test workers from building it twice.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import filelock

ROOT = Path(__file__).resolve().parents[2]
DEPENDS_ON = ("sample_site", "indexer", "catalog", "model")


def truth_item_dicts(epoch: int = 1) -> list[dict[str, Any]]:
    """Every record of the sample site at an epoch, as item dicts with ``kind``, linked to institutions."""
    from sample_site import truth

    expected = truth.expected_items(epoch)
    review_links = truth.review_links(epoch)
    directory_links = truth.directory_links(epoch)
    present = set(expected.get("institution", {}))
    items: list[dict[str, Any]] = []
    for kind in ("career", "institution", "program", "review"):
        for item_id, fields in sorted(expected.get(kind, {}).items()):
            data = {**fields, "kind": kind}
            if kind == "review" and data.get("entity_id") in review_links:
                unitid = review_links[data["entity_id"]]
                data["institution_unitid"] = unitid if unitid in present else None
            elif kind == "program" and item_id in directory_links:
                data["institution_unitid"] = directory_links[item_id]
            items.append(data)
    return items


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for rel in DEPENDS_ON:
        path = ROOT / rel
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix in (".py", ".csv", ".txt", ".tsv", ".gz", ".html")
        )
        for f in files:
            digest.update(str(f.relative_to(ROOT)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def build_truth_index(cache_root: Path, *, progress: Any = None) -> Any:
    """Settings whose catalog and index hold the truth corpus (built once per content fingerprint)."""
    from catalog import Catalog
    from collegesearch.config import load_settings
    from indexer.build import rebuild
    from model.items import item_from_dict

    cache_root = Path(cache_root)
    cache_root.mkdir(parents=True, exist_ok=True)
    key = _fingerprint()
    target = cache_root / f"truth-{key}"
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(target / "data")})
    with filelock.FileLock(str(cache_root / "build.lock")):
        if (target / "READY").exists():
            return settings
        for old in cache_root.glob("truth-*"):
            shutil.rmtree(old, ignore_errors=True)
        say = progress or (lambda _msg: None)
        say(f"building the relevance corpus in {target}")
        with Catalog(settings.catalog_path) as catalog:
            batch = []
            for data in truth_item_dicts():
                batch.append(item_from_dict(data))
                if len(batch) >= 2000:
                    catalog.upsert_many(batch)
                    batch = []
            if batch:
                catalog.upsert_many(batch)
        rebuild(settings, progress=say)
        (target / "READY").write_text(key)
    return settings
