"""A disk cache of the generated base world and scaled extras, so each sample-site process starts in about a second.

The key is a hash of the generator's source files, the real data files and the ``model`` modules
(items, vocabularies), so any change rebuilds. ``SAMPLE_SITE_NO_CACHE=1`` turns the cache off (the
determinism test does, so it really builds twice). The cache lives in the system temp folder; a
corrupt or unwritable cache is ignored and the world is simply rebuilt in memory.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
KEY_FILES = ("util.py", "data_load.py", "cip.py", "institutions.py", "program_types.py", "reviewdata.py", "occupations.py", "cache.py",
             "scale.py")


@functools.cache
def cache_key() -> str:
    """Hash of everything the cached world depends on."""
    h = hashlib.sha256()
    for name in KEY_FILES:
        h.update((HERE / name).read_bytes())
    for path in sorted((HERE.parent / "model").rglob("*.py")):
        h.update(path.read_bytes())
    for path in sorted((HERE / "data").rglob("*")):
        if path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:20]


def cache_dir() -> Path:
    """Where cached worlds are kept."""
    return Path(tempfile.gettempdir()) / "collegesearch-sample-site"


def cached(name: str, build: Callable[[], T]) -> T:
    """Load ``name`` from the disk cache, or build it and store it."""
    if os.environ.get("SAMPLE_SITE_NO_CACHE"):
        return build()
    path = cache_dir() / f"{name}-{cache_key()}.pickle"
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)  # noqa: S301 - our own file, keyed by a hash of our sources
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError):
        pass
    value = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        for old in path.parent.glob(f"{name}-*.pickle"):
            if old != path:  # worlds of older generator versions
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return value
