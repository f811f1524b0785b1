"""Archive: fetched responses kept as WARC (ISO 28500) records, and read back from WARC, ARC and files.

Input: the HTTP exchanges the fetcher completes (write.py), WARC/ARC files and saved pages (read.py).
Output: gzip-per-record WARC/1.1 files under storage.archive_dir, a WarcRef (file, offset, length)
for each archived response, and Pages rebuilt from records. Settings: storage.archive,
storage.archive_dir, storage.archive_max_bytes, storage.archive_resources.

A WarcRef's file is stored relative to the database's folder when it lies inside it (the data
folder moves as one piece), else as an absolute path (a CC-NEWS file ingested where it lies). A
PostgreSQL database has no folder: there storage.archive_dir must be absolute, and so are the paths.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from ..config import is_postgres_url

__all__ = ["DEFLATE", "ISAL", "resolve_path", "stored_path"]

# The deflate library behind our gzip members, read and written: ISA-L (isal, pycompression's
# binding of Intel's library) has zlib's interface and format at a fraction of its CPU (write.py
# gives the figures); zlib where no isal wheel installs.
DEFLATE: Any
try:
    from isal import isal_zlib as DEFLATE

    ISAL = True
except ImportError:
    DEFLATE, ISAL = zlib, False


def stored_path(db_path: str | Path, file: str | Path) -> str:
    """The form of `file` kept in the database: relative to the database's folder if inside it.

    A PostgreSQL database has no folder: its rows keep absolute paths.
    """
    target = Path(file).resolve()
    if is_postgres_url(str(db_path)):
        return str(target)
    base = Path(db_path).resolve().parent
    try:
        return target.relative_to(base).as_posix()
    except ValueError:
        return str(target)


def resolve_path(db_path: str | Path, stored: str) -> Path:
    """The file a stored WarcRef.file names, for a database at db_path."""
    path = Path(stored)
    if path.is_absolute() or is_postgres_url(str(db_path)):
        return path
    return Path(db_path).resolve().parent / path
