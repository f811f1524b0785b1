"""Re-extraction's SQL: the archived articles to check, and a new extraction written as a version.

Also what `export --format warc` reads: the WARC pointers of the chosen articles.

Input: filters (store/read.py's Filters) and PreparedArticles of re-extracted pages. Output:
ArchivedArticles in id order, a few hundred at a time, and rows rewritten in place with the old
title, text and pointer kept in article_versions. Settings: none.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..models import WarcRef, WriteOutcome
from .articles import PreparedArticle, find_by_hash, recheck_story, rewrite_row
from .db import iso
from .read import Filters

# The columns extraction decides: a re-extraction that changes none of them changes nothing.
EXTRACTED = ("title", "content_hash", "published", "author", "source", "section", "language")
# What a re-extraction rewrites: the extracted columns, the values derived from the text, and the
# extractor that produced them. url, site, fetched_at and the WARC pointer stay: same response.
REWRITTEN = (*EXTRACTED, "text", "simhash", "word_count", "anchor_count", "extractor")


@dataclass(frozen=True, slots=True)
class ArchivedArticle:
    """A stored article whose response is archived: its id, URL, record and extracted columns."""

    id: int
    url: str
    warc: WarcRef
    stored: dict[str, Any]


def archived_page_sql(where: list[str], mark: str = "?") -> str:
    """The keyset page of archived_articles(): rows after an id, at most a limit; mark: the placeholder."""
    extra = "".join(f" AND {w}" for w in where)
    columns = ", ".join(f"a.{name}" for name in EXTRACTED)
    return (
        f"SELECT a.id, a.url, a.warc_file, a.warc_offset, a.warc_length, {columns} FROM articles a"
        f" WHERE a.id > {mark} AND a.warc_file IS NOT NULL{extra} ORDER BY a.id LIMIT {mark}"
    )


def archived_articles(
    db: sqlite_utils.Database | sqlite3.Connection, filters: Filters | None = None, *, batch: int = 200
) -> Iterator[list[ArchivedArticle]]:
    """Articles with a WARC pointer that match the filters, `batch` at a time by id (keyset pages)."""
    where, params = (filters or Filters()).sql()
    sql = archived_page_sql(where)
    last = 0
    while True:
        rows = db.execute(sql, [last, *params, batch]).fetchall()
        if not rows:
            return
        yield [_archived(row) for row in rows]
        last = rows[-1][0]


def _archived(row: Any) -> ArchivedArticle:
    stored = dict(zip(EXTRACTED, row[5:], strict=True))
    return ArchivedArticle(row[0], row[1], WarcRef(row[2], row[3], row[4]), stored)


def extraction_changed(article: ArchivedArticle, prepared: PreparedArticle) -> bool:
    """Whether a new extraction differs from the stored row on any column extraction decides."""
    return any(prepared.row[name] != article.stored[name] for name in EXTRACTED)


def rewrite_article(
    db: sqlite_utils.Database, article_id: int, prepared: PreparedArticle, *, at: dt.datetime
) -> WriteOutcome:
    """Write a re-extraction of an article's own response, inside the caller's transaction.

    Returns UPDATED, or DUPLICATE when the new text is another stored article's (nothing written:
    two rows with one text would break the exact-duplicate rule).
    """
    row = prepared.row
    other = find_by_hash(db, row["content_hash"])
    if other is not None and other != article_id:
        return WriteOutcome.DUPLICATE
    rewrite_row(db, article_id, {name: row[name] for name in REWRITTEN}, replaced_at=iso(at))
    recheck_story(db, article_id, prepared)
    return WriteOutcome.UPDATED
