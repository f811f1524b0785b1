"""The PostgreSQL corpus copied into a new SQLite file: store/snapshot.py's PostgreSQL half.

Input: a postgresql:// URL and the new file's path. Output: that file, made by store.open_db (the
current SQLite schema, its FTS triggers, its migrations recorded), holding SQLite's columns of
COPIED_TABLES as they were at one moment. Settings: none.

Every table is read in one REPEATABLE READ, READ ONLY transaction (one snapshot of the database,
however many workers write meanwhile), through server-side cursors, `BATCH` rows at a time, so
memory stays flat. Ids are kept, so an article has the same id in the copy. Rows go in by id (URLs
in the order they were recorded), and the articles_fts triggers index each article as it goes in.
Not copied: the crawl's working state (frontier, hosts, robots_cache) and the near-duplicate
anchors (`scraper dedupe --rebuild` on the copy makes them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..db import open_db, transaction
from .db import Connection, connect, pg_errors, plain

# The tables copied, each with the order its rows go in (SQLite keeps that as rowid order).
COPIED_TABLES = (
    ("articles", "id"),
    ("article_urls", "seq"),
    ("article_versions", "id"),
    ("runs", "id"),
    ("run_sources", "run_id, source"),
    ("fetch_log", "id"),
)
# Rows per fetch from PostgreSQL and per SQLite transaction (a few MB of article text).
BATCH = 1000


def copy_to_sqlite(url: str, file: Path) -> int:
    """Copy COPIED_TABLES from the PostgreSQL corpus into a new SQLite corpus at `file`; returns articles.

    Raises:
        StorageError: PostgreSQL or SQLite failed (the caller removes the half-written file).
    """
    from .read import connect_readonly

    connect_readonly(url).close()  # the schema must be current: this code's columns are read
    db = open_db(file)
    conn = connect(url)
    try:
        with pg_errors(conn, f"cannot copy the corpus to {file}"), conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            counts = {table: _copy_table(conn, db, table, order) for table, order in COPIED_TABLES}
    finally:
        conn.close()
        db.close()
    return counts["articles"]


def _copy_table(conn: Connection, db: Any, table: str, order: str) -> int:
    """Copy one table's rows, SQLite's columns only, in `order`; returns how many."""
    wanted = [column.name for column in db.table(table).columns]
    found = conn.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = %s AND table_schema = current_schema()",
        [table],
    ).fetchall()
    columns = [name for name in wanted if name in {row[0] for row in found}]
    insert = f"INSERT INTO [{table}] ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    count = 0
    with conn.cursor(name=f"snapshot_{table}") as cur:
        cur.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
        while rows := cur.fetchmany(BATCH):
            with transaction(db, f"cannot write {table} to the snapshot"):
                db.conn.executemany(insert, [[plain(value) for value in row] for row in rows])
            count += len(rows)
    return count
