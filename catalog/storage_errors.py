"""Storage failures told apart: a full disk, a read-only or forbidden folder, a failing disk.

The one place that reads SQLite's and the file system's errors for what the operator must do;
the command line (any command) and the crawler (which stops and resumes later) both ask here,
so the two never disagree. SQLite errors are told by their module, so callers need not import
sqlite3 (only catalog/ speaks SQL).
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
from pathlib import Path

# Problems of the machine rather than of the program: said in one line with what to do about them.
_SPACE_FIX = ("free some space, or point --data-dir / COLLEGESEARCH_DATA_DIR at a disk with room, "
              "and run the command again")
_WRITE_FIX = "make it writable, or point --data-dir / COLLEGESEARCH_DATA_DIR at a writable folder"
_ENVIRONMENT_ERRNOS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("the disk is full", _SPACE_FIX),
    errno.EDQUOT: ("the disk quota is used up", _SPACE_FIX),
    errno.EFBIG: ("a file reached the size limit of this process", _SPACE_FIX),
    errno.EROFS: ("the file system is read-only", _WRITE_FIX),
    errno.EACCES: ("permission denied", _WRITE_FIX),
    errno.EPERM: ("permission denied", _WRITE_FIX),
}


def environment_problem(exc: BaseException) -> str | None:
    """One line for a full disk, a read-only or forbidden folder (None for anything else)."""
    if isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS:
        what, fix = _ENVIRONMENT_ERRNOS[exc.errno]
        where = f" writing {exc.filename}" if exc.filename else ""
        return f"{what}{where}; {fix}"
    text = str(exc)
    # SQLite reports a full disk and a read-only file as its own errors, not as OSError.
    if "database or disk is full" in text:
        return f"the disk holding the catalog is full; {_SPACE_FIX}"
    if "attempt to write a readonly database" in text:
        return f"the catalog is read-only; {_WRITE_FIX}"
    if type(exc).__module__ == "sqlite3" and "disk I/O error" in text:
        # What SQLite says when its temporary files hit a file-size limit (ulimit -f) or the disk fails.
        return ("the catalog's disk failed a read or write (disk I/O error): check that it has free space and "
                "that no file-size limit (ulimit -f) applies, then run the command again")
    return None


_SQLITE_FULL = 13  # SQLITE_FULL ("database or disk is full")
_SQLITE_IOERR = 10  # SQLITE_IOERR_*: SQLite reports a write past RLIMIT_FSIZE (EFBIG) as an I/O error
# After an I/O error, this little room left means the disk was the reason.
_NEARLY_FULL = 1 << 20


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it was raised from (a CatalogError wraps the sqlite3 or OS error)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _file_size_limit() -> int | None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def _biggest_catalog_file(catalog_path: Path) -> int:
    sizes = []
    for suffix in ("", "-wal", "-journal", "-shm"):
        try:
            sizes.append(os.path.getsize(f"{catalog_path}{suffix}"))
        except OSError:
            pass
    return max(sizes, default=0)


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def is_storage_error(exc: BaseException) -> bool:
    """An error of the file system or of SQLite (told by its module: only catalog/ imports sqlite3)."""
    return isinstance(exc, OSError) or type(exc).__module__ == "sqlite3"


def disk_full_message(exc: BaseException, catalog_path: str | os.PathLike[str]) -> str | None:
    """One line saying the catalog's disk is full and what to do, or None when ``exc`` is another failure.

    Recognises SQLite's SQLITE_FULL, an OSError ENOSPC / EDQUOT / EFBIG, and an SQLite I/O error
    when the disk (or the process's file-size limit, ``ulimit -f``) leaves no room for the catalog.
    """
    path = Path(catalog_path)
    folder = path.parent
    resume = "run the crawl again (it resumes where this one stopped)"
    full = f"the disk holding {folder} is full: free space and {resume}"
    limit = _file_size_limit()
    size_limit = (f"the disk is full for this process: the catalog in {folder} reached the file-size limit "
                  f"(ulimit -f, {(limit or 0) // 1024} KB): raise the limit or free space and {resume}")
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            if cause.errno == errno.EDQUOT:
                return f"the disk quota for {folder} is full: free space or raise the quota and {resume}"
            return size_limit if cause.errno == errno.EFBIG and limit is not None else full
        code = getattr(cause, "sqlite_errorcode", None) if type(cause).__module__ == "sqlite3" else None
        if code is None:
            continue
        if code & 0xFF == _SQLITE_FULL:
            return full
        if code & 0xFF == _SQLITE_IOERR:
            if limit is not None and _biggest_catalog_file(path) + 64 * 1024 >= limit:
                return size_limit
            free = _free_bytes(folder)
            if free is not None and free < _NEARLY_FULL:
                return full
    return None
