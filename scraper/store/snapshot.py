"""A plain SQLite copy of the corpus (`scraper export --to-sqlite FILE`), from either backend.

Input: the corpus (a SQLite path or a postgresql:// URL) and the file to write. Output: FILE, a
normal scraper database at the current SQLite schema (Datasette and `scraper search` open it),
holding one consistent moment of the corpus. Settings: none.

The copy is written to FILE.tmp and renamed over FILE only when complete, so a killed export leaves
no half file at FILE; an existing FILE is refused unless `force`. On SQLite the backup API copies
pages from one read transaction; on PostgreSQL (store/pg/snapshot.py) every table is read in one
REPEATABLE READ transaction. The copy's journal is DELETE (one self-contained file to ship); a
writer opening it switches it to WAL as open_db() does every corpus.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..config import is_postgres_url
from ..errors import StorageError
from .db import connect_readonly, storage_errors

# What FILE.tmp's companions are called (a killed run may leave them).
_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def snapshot(source: str | Path, file: str | Path, *, force: bool = False) -> int:
    """Write the corpus at `source` to the SQLite file `file`; returns the number of articles copied.

    Raises:
        StorageError: `file` exists (and not force), the source is unreadable, or the copy failed.
    """
    target = Path(file)
    if target.exists() and not force:
        raise StorageError(f"{target} exists; pass --force to replace it, or choose another file")
    temporary = target.with_name(target.name + ".tmp")
    _remove(temporary)
    try:
        if is_postgres_url(str(source)):
            from .pg.snapshot import copy_to_sqlite

            count = copy_to_sqlite(str(source), temporary)
        else:
            count = _backup(Path(source), temporary)
        with storage_errors(temporary, "cannot finish the snapshot"):
            _settle(temporary)
        try:
            temporary.replace(target)
        except OSError as exc:
            raise StorageError(f"cannot move {temporary} to {target}: {exc}; check the directory") from exc
    except BaseException:  # a failed or interrupted copy leaves nothing behind; the error goes on
        _remove(temporary)
        raise
    return count


def _backup(source: Path, temporary: Path) -> int:
    """SQLite's backup API: the pages of one read transaction, whatever writers do meanwhile."""
    reader = connect_readonly(source)
    try:
        with storage_errors(source, "cannot copy the database"):
            writer = sqlite3.connect(temporary)
            try:
                reader.backup(writer)
                return int(writer.execute("SELECT count(*) FROM articles").fetchone()[0])
            finally:
                writer.close()
    finally:
        reader.close()


def _settle(file: Path) -> None:
    """Fold any WAL into the file and make its journal DELETE, so the one file is the whole database."""
    conn = sqlite3.connect(file)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()


def _remove(file: Path) -> None:
    for suffix in _SIDE_FILES:
        Path(f"{file}{suffix}").unlink(missing_ok=True)
