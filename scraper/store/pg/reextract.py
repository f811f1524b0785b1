"""Re-extraction's SQL on PostgreSQL: store/reextract.py's two verbs, for `scraper reextract`.

Input: filters (store/read.py's Filters) and PreparedArticles of re-extracted pages. Output:
ArchivedArticles in id order, `batch` at a time, and rows rewritten in place with the old title,
text and pointer kept in article_versions; its story re-checked (dedupe.near) as on SQLite.

The decision is SQLite's (store/reextract.py): a new text that is another article's is DUPLICATE
and nothing is written, else the row is rewritten (REWRITTEN columns) and the old one kept as a
version. A crawl may store that same text meanwhile; the UNIQUE content_hash then fails the
rewrite, which is undone (a savepoint) and reported DUPLICATE, as if it had come second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from psycopg import errors as pg_errors_module

from ...models import WarcRef, WriteOutcome
from ..articles import VERSION_COLUMNS, PreparedArticle
from ..read import Filters
from ..reextract import EXTRACTED, REWRITTEN, ArchivedArticle, archived_page_sql
from . import near as near_index
from .articles import find_by_hash, recheck_story
from .db import Connection, pg_errors
from .search import SEARCH_VECTOR_SQL, search_params


def where_sql(filters: Filters, alias: str = "a") -> tuple[list[str], list[object]]:
    """Filters.sql() for PostgreSQL: %s placeholders, and LIKE as ILIKE (SQLite's LIKE ignores ASCII case)."""
    where, params = filters.sql(alias)
    return [w.replace("?", "%s").replace(" LIKE ", " ILIKE ") for w in where], params


def archived_articles(
    conn: Connection, filters: Filters | None = None, *, batch: int = 200
) -> Iterator[list[ArchivedArticle]]:
    """Articles with a WARC pointer that match the filters, `batch` at a time by id (keyset pages).

    Raises:
        StorageError: PostgreSQL failed.
    """
    where, params = where_sql(filters or Filters())
    sql = archived_page_sql(where, "%s")
    last = 0
    while True:
        with pg_errors(conn, "cannot read the archived articles"):
            rows = conn.execute(sql, [last, *params, batch]).fetchall()
        if not rows:
            return
        yield [
            ArchivedArticle(
                row[0], row[1], WarcRef(row[2], row[3], row[4]), dict(zip(EXTRACTED, row[5:], strict=True))
            )
            for row in rows
        ]
        last = rows[-1][0]


def rewrite_article(
    conn: Connection, article_id: int, prepared: PreparedArticle, *, at: dt.datetime
) -> WriteOutcome:
    """Write a re-extraction of an article's own response, inside the caller's transaction.

    Returns UPDATED, or DUPLICATE when the new text is another stored article's (nothing written).

    """
    if prepared.near != "off":
        near_index.lock_anchors(conn, prepared.anchors)  # before any row lock, as write_article does
    row = {name: prepared.row[name] for name in REWRITTEN}
    other = find_by_hash(conn, row["content_hash"])
    if other is not None and other != article_id:
        return WriteOutcome.DUPLICATE
    assignments = ", ".join(f"{name} = %({name})s" for name in REWRITTEN)
    try:
        with conn.transaction():  # a savepoint: a lost race undoes this article only
            conn.execute(
                f"INSERT INTO article_versions (article_id, {VERSION_COLUMNS}, replaced_at)"
                f" SELECT id, {VERSION_COLUMNS}, %s FROM articles WHERE id = %s",
                [at, article_id],
            )
            conn.execute(
                f"UPDATE articles SET {assignments}, search = {SEARCH_VECTOR_SQL} WHERE id = %(id)s",
                {**row, "id": article_id, **search_params(row["title"], row["text"])},
            )  # the search index follows the new title and text
    except pg_errors_module.UniqueViolation:
        return WriteOutcome.DUPLICATE
    recheck_story(conn, article_id, prepared)
    return WriteOutcome.UPDATED
