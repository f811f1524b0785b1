"""Read-only queries over the corpus: search().

Input: a database path and the user's query. Output: plain dict rows; the CLI
formats them. The database is opened read-only: a query can never change it.
User text is read as words and "quoted phrases", so FTS5 syntax characters in
it cannot raise an error. The trigram index needs three characters; shorter
terms (a two-character Chinese word) are matched with LIKE instead.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from .errors import StorageError

_TERM_RE = re.compile(r'"([^"]+)"|(\S+)')
_MIN_TRIGRAM = 3
# bm25 weights for the articles_fts columns (title, text): a title match counts ten times a body match.
_BM25_WEIGHTS = (10.0, 1.0)


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """Open the database read-only; StorageError when it is missing or not a database."""
    file = Path(path)
    if not file.exists():
        raise StorageError(f"no database at {file}; run 'scraper ingest URL' first or pass --db PATH")
    try:
        conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{file} is not a scraper database ({exc}); pass --db PATH") from exc
    return conn


def parse_terms(text: str) -> list[str]:
    """The user's words and "quoted phrases", without FTS syntax."""
    terms = []
    for phrase, word in _TERM_RE.findall(text):
        term = (phrase or word).replace('"', " ").strip()
        if term:
            terms.append(term)
    return terms


def search(path: str | Path, text: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Articles matching every term, best first (bm25, title weighted above text)."""
    terms = parse_terms(text)
    if not terms:
        return []
    long_terms = [t for t in terms if len(t) >= _MIN_TRIGRAM]
    short_terms = [t for t in terms if len(t) < _MIN_TRIGRAM]
    where, params = [], []
    for term in short_terms:
        where.append("(a.title LIKE ? ESCAPE '\\' OR a.text LIKE ? ESCAPE '\\')")
        like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [like, like]
    conn = connect_readonly(path)
    try:
        if long_terms:
            match = " ".join('"' + t + '"' for t in long_terms)
            sql = (
                "SELECT a.id, a.url, a.title, a.published, a.site, a.author, "
                "snippet(articles_fts, 1, '[', ']', '…', 12) AS snippet, "
                f"bm25(articles_fts, {_BM25_WEIGHTS[0]}, {_BM25_WEIGHTS[1]}) AS score "
                "FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
                "WHERE articles_fts MATCH ? " + "".join(f"AND {w} " for w in where) + "ORDER BY score LIMIT ?"
            )
            rows = conn.execute(sql, [match, *params, limit]).fetchall()
        else:
            sql = (
                "SELECT a.id, a.url, a.title, a.published, a.site, a.author, substr(a.text, 1, 120) AS snippet, "
                "0.0 AS score FROM articles a WHERE " + " AND ".join(where) + " ORDER BY a.published DESC LIMIT ?"
            )
            rows = conn.execute(sql, [*params, limit]).fetchall()
    except sqlite3.OperationalError as exc:
        raise StorageError(f"search failed on {path}: {exc}") from exc
    finally:
        conn.close()
    return [dict(r) for r in rows]
