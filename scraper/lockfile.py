"""One crawl per database: an flock on a lock file beside it, freed by the kernel when the process dies.

Input: the database path. Output: a held lock, or CrawlLocked at once. The lock is never on the
database itself (SQLite has its own locks there), and a kill -9 releases it with the file descriptor.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import CrawlLocked, StorageError


def lock_path(db_path: str | Path) -> Path:
    """The lock file of a database: its name plus ".lock", in the same directory."""
    path = Path(db_path)
    return path.with_name(path.name + ".lock")


@contextmanager
def hold_lock(db_path: str | Path) -> Iterator[Path]:
    """Hold the database's crawl lock for the block.

    Raises:
        CrawlLocked: another process holds it.
        StorageError: the lock file cannot be created.
    """
    path = lock_path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StorageError(f"{path}: cannot create the crawl lock file: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CrawlLocked(str(db_path), str(path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)  # closing drops the flock
