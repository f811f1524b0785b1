"""Read-only queries over the corpus: full-text search, export rows, one article, counts.

Input: a database path (or a postgresql:// URL: store/pg/read.py answers), filters, and search
terms already parsed by scraper/query.py. Output: plain dict rows (or an iterator of them); crawl
stats are in store/stats.py. Settings: none.
The database is opened read-only, ATTACH is denied and each statement has a time limit, so no
query can change the corpus or hang a shell. The index holds words and CJK bigrams
(store/fts.py); a one-character CJK term is matched with LIKE on the rows the other filters leave.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import is_postgres_url
from ..errors import QueryError, StorageError
from ..urls import canonicalize_url
from .db import connect_readonly as connect_readonly_file
from .fts import CJK_RUN_RE, index_text, is_single_cjk
from .schema import FILTER_INDEX, TITLE_WEIGHT
from .stories import STORY_SITES_JSON_SQL, STORY_SITES_SQL, has_stories, story_members

# FTS5 query words that are syntax, not text (dropped when raw query words are marked in snippets)
_FTS_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})
# bm25 weights for the articles_fts columns (title, text): a title match weighs ten body matches.
_TITLE_WEIGHT, _TEXT_WEIGHT = TITLE_WEIGHT, 1.0
QUERY_SECONDS = 10.0
# A search matching more articles ranks only the newest this many (by id, the order they were
# stored); 10,000 keep a common word near 30 ms on 2 cores (benchmarks/query_bench.py).
MAX_RANKED = 10_000
# Snippets mark matches with these; a short-term snippet starts a little before the first match.
_MARK_OPEN, _MARK_CLOSE = "[", "]"
_SNIPPET_LEAD, _SNIPPET_CHARS = 40, 160
_PROGRESS_STEPS = 10_000
ARTICLE_COLUMNS = (
    "a.id, a.url, a.title, a.published, a.author, a.source, a.section, a.site, a.language, "
    "a.word_count, a.content_hash, a.fetched_at, a.first_seen, a.last_seen"
)


@dataclass(frozen=True, slots=True)
class Filters:
    """Row filters shared by search and export; None means no filter."""

    site: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    author: str | None = None
    lang: str | None = None

    def sql(self, alias: str = "a") -> tuple[list[str], list[Any]]:
        """WHERE clauses on table alias `alias` and their parameters.

        They read only FILTER_INDEX_COLUMNS, so a filtered search checks them in that index.
        """
        where: list[str] = []
        params: list[Any] = []
        if self.site:
            where.append(f"{alias}.site IN ({', '.join('?' for _ in self.site)})")
            params += list(self.site)
        if self.since:
            where.append(f"{alias}.published >= ?")
            params.append(self.since)
        if self.until:
            # 'YYYY-MM-DD' includes the whole day, datetimes included
            where.append(f"substr({alias}.published, 1, 10) <= ?")
            params.append(self.until[:10])
        if self.author:
            where.append(f"{alias}.author LIKE ? ESCAPE '\\'")
            params.append("%" + _escape_like(self.author) + "%")
        if self.lang:
            where.append(f"({alias}.language = ? OR {alias}.language LIKE ?)")
            params += [self.lang, self.lang + "-%"]
        return where, params


def connect_readonly(path: str | Path, *, seconds: float = QUERY_SECONDS) -> sqlite3.Connection:
    """Open the database read-only, ATTACH denied, each statement limited to `seconds`.

    Raises:
        StorageError: the file is missing or not a database.
    """
    file = Path(path)
    if not file.exists():
        raise StorageError(f"no database at {file}; run 'scraper ingest URL' first or pass --db PATH")
    try:
        conn = connect_readonly_file(file)  # also on a read-only file, directory or mount
        conn.row_factory = sqlite3.Row
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{file} is not a scraper database ({exc}); pass --db PATH") from exc
    conn.set_authorizer(_deny_attach)
    _set_deadline(conn, seconds)
    return conn


def _deny_attach(action: int, *_: Any) -> int:
    return (
        sqlite3.SQLITE_DENY if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH) else sqlite3.SQLITE_OK
    )


def _set_deadline(conn: sqlite3.Connection, seconds: float) -> None:
    deadline = [time.monotonic() + seconds]

    def check() -> int:
        return 1 if time.monotonic() > deadline[0] else 0

    conn.set_progress_handler(check, _PROGRESS_STEPS)
    conn.execute("PRAGMA query_only = 1")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def search_articles(
    path: str | Path, text: str, terms: list[str], *, filters: Filters, limit: int, offset: int, raw: bool
) -> list[dict[str, Any]]:
    """Articles matching every term (or, raw, the FTS5 query `text`), best first.

    Ranked by bm25 with the title weighted above the text. A term is a word (or phrase) of the
    word index, a CJK term a phrase of bigrams (store/fts.py); only a one-character CJK term is
    matched with LIKE, newest first when no other term can rank. Each row says which fields
    (`matched`: "title", "text" or "title, text") hold a term.

    Raises:
        QueryError: raw FTS5 syntax the database rejects, or the time limit passed.
        StorageError: the database is missing or unreadable.
    """
    if is_postgres_url(str(path)):
        from .pg import read as pg_read

        return pg_read.search_articles(
            str(path), text, terms, filters=filters, limit=limit, offset=offset, raw=raw
        )
    short: list[str] = []
    if raw:
        # CJK runs are never FTS5 syntax: as bigrams, a quoted run is a phrase, a bare one their AND
        match = index_text(text) or text
    else:
        short = [t for t in terms if is_single_cjk(t)]
        match = " ".join(_fts_phrase(index_text(t) or t) for t in terms if not is_single_cjk(t))
    conn = connect_readonly(path)
    try:
        if match:
            sql, args = _ranked_sql(conn, match, filters, [_contains_sql(t) for t in short])
        else:
            sql, args = _recent_sql(filters, [_contains_sql(t) for t in short])
        rows = conn.execute(sql, [*args, limit, offset]).fetchall()
    except sqlite3.OperationalError as exc:
        raise _query_error(exc, text, raw) from exc
    finally:
        conn.close()
    return describe_rows([dict(r) for r in rows], text, terms, raw=raw)


def describe_rows(
    rows: list[dict[str, Any]], text: str, terms: list[str], *, raw: bool
) -> list[dict[str, Any]]:
    """Search rows (with `text` and `score`) as search() returns them: a snippet, the matched fields."""
    pattern = _terms_pattern(_raw_words(text) if raw else terms)
    return [_describe(row, pattern) for row in rows]


def _contains_sql(term: str) -> tuple[str, list[Any]]:
    """A one-character CJK term, which no bigram holds whole: LIKE on title and text.

    This reads every candidate row's text; instr() was measured slower than LIKE
    (benchmarks/query_bench.py: 1.26 s against 0.88 s over 100k texts).
    """
    pattern = "%" + _escape_like(term) + "%"
    return "(a.title LIKE ? ESCAPE '\\' OR a.text LIKE ? ESCAPE '\\')", [pattern, pattern]


def _filter_check(conn: sqlite3.Connection, filters: Filters) -> tuple[str, list[Any]]:
    """The filters as one condition on a match's id, read from FILTER_INDEX when the database has it.

    The filtered columns sit after `text` in a row, so reading them from `articles` walks the
    text's overflow pages; the covering index answers from one small B-tree (schema 9). A
    database from before schema 9 is checked against its rows.
    """
    where, params = filters.sql("f")
    if not where:
        return "", []
    source = f"articles f INDEXED BY {FILTER_INDEX}" if _has_filter_index(conn) else "articles f"
    clause = f" AND EXISTS (SELECT 1 FROM {source} WHERE f.id = articles_fts.rowid AND {' AND '.join(where)})"
    return clause, params


def _newest_candidates(conn: sqlite3.Connection, match: str, check: str, params: list[Any]) -> int | None:
    """A bound on the ids bm25 scores: the MAX_RANKED newest matches passing the filters, if more match.

    bm25 costs 3-12 us per match (benchmarks/query_bench.py), so a common word in a million
    articles would take seconds; FTS5 walks a doclist by rowid almost for free (and checks each
    id against the filter index), so the id of the MAX_RANKED-th newest match is found first and
    ranking stops there.
    """
    bound = conn.execute(
        f"SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?{check} "
        "ORDER BY rowid DESC LIMIT 1 OFFSET ?",
        [match, *params, MAX_RANKED - 1],
    ).fetchone()
    return int(bound[0]) if bound else None


def _ranked_sql(
    conn: sqlite3.Connection, match: str, filters: Filters, contains: list[tuple[str, list[Any]]]
) -> tuple[str, list[Any]]:
    """bm25-ranked ids first, then metadata and text for that page of ids only.

    The index holds CJK text as bigrams, not as stored, so FTS5's snippet() would mark the
    wrong characters: snippets are cut in Python from the `limit` texts (_describe). Filters are
    checked per match in the filter index (_filter_check), so only the newest MAX_RANKED that
    pass are ranked. A one-character CJK term (LIKE on the text) joins the rows instead, with no
    bound: the newest matches might all lack it. CROSS JOIN keeps `top` the outer loop (with a
    plain JOIN SQLite scanned articles: 80 ms on 20k articles for a 16-hit word).
    """
    check, params = _filter_check(conn, filters)
    if contains:
        join = " JOIN articles a ON a.id = articles_fts.rowid"
        extra = check + "".join(f" AND {clause}" for clause, _ in contains)
        params = [*params, *(arg for _, args in contains for arg in args)]
    else:
        join, extra = "", check
        bound = _newest_candidates(conn, match, check, params)
        if bound is not None:
            extra, params = extra + " AND articles_fts.rowid >= ?", [*params, bound]
    sql = (
        "WITH top AS ("
        f"SELECT articles_fts.rowid AS id, -bm25(articles_fts, {_TITLE_WEIGHT}, {_TEXT_WEIGHT}) AS score "
        f"FROM articles_fts{join} WHERE articles_fts MATCH ?{extra} "
        "ORDER BY score DESC, id LIMIT ? OFFSET ?) "
        "SELECT a.id, a.url, a.title, a.published, a.site, a.author, a.language, a.text, top.score "
        "FROM top CROSS JOIN articles a ON a.id = top.id ORDER BY top.score DESC, top.id"
    )
    return sql, [match, *params]


def _recent_sql(filters: Filters, contains: list[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    """Only one-character CJK terms: newest matches first."""
    where, params = filters.sql()
    where += [clause for clause, _ in contains]
    params += [arg for _, args in contains for arg in args]
    extra = "".join(f" AND {w}" for w in where)
    sql = (
        "SELECT a.id, a.url, a.title, a.published, a.site, a.author, a.language, a.text, "
        f"0.0 AS score FROM articles a WHERE 1{extra} ORDER BY a.published DESC, a.id LIMIT ? OFFSET ?"
    )
    return sql, params


def _raw_words(text: str) -> list[str]:
    """The words of a raw FTS5 query, for snippets: operators, columns and syntax dropped."""
    words = re.findall(r"\w+", text)
    return [w for w in words if w not in _FTS_OPERATORS]


def _terms_pattern(terms: list[str]) -> re.Pattern[str] | None:
    """One regex for the terms, longest first; _whole() keeps the matches the index would make.

    No lookbehind in the pattern: it would stop re from skipping ahead to a term's first
    characters (1 ms per 8,000-character text, against 0.05 ms without; benchmarks/query_bench.py).
    """
    parts = [r"\s+".join(re.escape(w) for w in t.split()) for t in sorted(terms, key=len, reverse=True)]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _is_word_char(char: str) -> bool:
    return char.isalnum() and CJK_RUN_RE.match(char) is None


def _whole(match: re.Match[str]) -> bool:
    """A match the index makes: CJK anywhere, other words only whole ("AI" not inside "said")."""
    text, start, end = match.string, match.start(), match.end()
    if CJK_RUN_RE.match(match[0]):
        return True
    return not (start > 0 and _is_word_char(text[start - 1])) and not (
        end < len(text) and _is_word_char(text[end])
    )


def _first(pattern: re.Pattern[str] | None, value: str | None) -> re.Match[str] | None:
    if pattern is None or not value:
        return None
    return next((m for m in pattern.finditer(value) if _whole(m)), None)


def _describe(row: dict[str, Any], pattern: re.Pattern[str] | None) -> dict[str, Any]:
    """The row with a snippet (terms marked) instead of its text, and the fields that hold a term."""
    text = row.pop("text") or ""
    found = _first(pattern, text)
    fields = [name for name, hit in (("title", _first(pattern, row["title"])), ("text", found)) if hit]
    start = max(0, found.start() - _SNIPPET_LEAD) if found else 0
    window = " ".join(text[start : start + _SNIPPET_CHARS].split())
    if pattern is not None:
        window = pattern.sub(lambda m: f"{_MARK_OPEN}{m[0]}{_MARK_CLOSE}" if _whole(m) else m[0], window)
    prefix = "…" if start else ""
    suffix = "…" if start + _SNIPPET_CHARS < len(text) else ""
    score = row.pop("score")
    row["snippet"] = prefix + window + suffix if window else None
    row["score"] = score
    row["matched"] = ", ".join(fields) or None
    return row


def _query_error(exc: sqlite3.OperationalError, text: str, raw: bool) -> Exception:
    message = str(exc)
    if message == "interrupted":
        return QueryError(
            f"search for {text!r} took longer than {QUERY_SECONDS:.0f} s; narrow it with filters"
        )
    if raw:
        return QueryError(f"bad FTS5 query {text!r}: {message}; drop --raw to search plain words")
    if "no such table" in message:
        return StorageError(f"the database has no full-text index ({message}); run 'scraper migrate'")
    return QueryError(f"search for {text!r} failed: {message}")


def iter_articles(
    path: str | Path, *, filters: Filters | None = None, batch: int = 500
) -> Iterator[dict[str, Any]]:
    """Every matching article with all metadata, its text and every URL it was seen at, oldest id first.

    Rows are read in batches by id, so memory stays flat on any corpus size.
    """
    if is_postgres_url(str(path)):
        from .pg import read as pg_read

        yield from pg_read.iter_articles(str(path), filters=filters, batch=batch)
        return
    columns = (
        f"{ARTICLE_COLUMNS}, a.text, "
        "(SELECT json_group_array(u.url) FROM article_urls u WHERE u.article_id = a.id) AS urls, "
        "{} AS story_id, {} AS sites".format(*_story_columns(path))
    )
    for row in _keyset_rows(path, columns, filters, batch):
        item = dict(row)
        item["urls"] = _json_list(item["urls"])
        item["sites"] = _json_list(item["sites"])
        yield item


def _story_columns(path: str | Path) -> tuple[str, str]:
    """story_id (coalesce(story_id, id): rows of one group share it) and sites, the story's sites."""
    conn = connect_readonly(path)
    try:
        ready = has_stories(conn)
    finally:
        conn.close()
    if not ready:  # a database from before schema 7, read without migrating it
        return "a.id", "json_array(a.site)"
    return "coalesce(a.story_id, a.id)", STORY_SITES_SQL


def _keyset_rows(
    path: str | Path, columns: str, filters: Filters | None, batch: int
) -> Iterator[sqlite3.Row]:
    """Rows of `articles a` in id order, read `batch` at a time after the last id seen.

    `columns` must start with a.id. Paging by id instead of OFFSET keeps each batch an
    index seek, so memory and per-batch time stay flat on any corpus size.
    """
    conn = connect_readonly(path, seconds=3600)
    sql, params = _keyset_sql(conn, columns, filters or Filters())
    last = 0
    try:
        while True:
            rows = conn.execute(sql, [last, *params, batch]).fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]
    finally:
        conn.close()


def _keyset_sql(conn: sqlite3.Connection, columns: str, filters: Filters) -> tuple[str, list[Any]]:
    """One keyset page's SQL, parameters (last id, filter values..., batch size) in that order.

    With filters and the filter index, the page's ids come from the index (its entries are
    small and in id order) and only those rows are read: the filtered columns sit after the
    text in a row, so filtering the table reads every text (a tenth of 300k articles was
    exported at 8k rows/s).
    """
    where, params = filters.sql("f")
    if where and _has_filter_index(conn):
        ids = (
            f"SELECT f.id FROM articles f INDEXED BY {FILTER_INDEX} WHERE f.id > ? AND {' AND '.join(where)}"
            " ORDER BY f.id LIMIT ?"
        )
        return f"SELECT {columns} FROM articles a WHERE a.id IN ({ids}) ORDER BY a.id", params
    where, params = filters.sql()
    extra = "".join(f" AND {w}" for w in where)
    return f"SELECT {columns} FROM articles a WHERE a.id > ?{extra} ORDER BY a.id LIMIT ?", params


def _has_filter_index(conn: sqlite3.Connection) -> bool:
    """Whether the database has schema 9's FILTER_INDEX (one read without migrating may be older)."""
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?"
    return conn.execute(sql, [FILTER_INDEX]).fetchone() is not None


# the columns of iter_articles(), in the same order, for SQLite's json_object()
EXPORT_FIELDS = (*(c.strip().removeprefix("a.") for c in ARTICLE_COLUMNS.split(",")), "text")


def iter_article_json(path: str | Path, *, filters: Filters | None = None, batch: int = 500) -> Iterator[str]:
    """The rows of iter_articles() as JSON object texts, encoded by SQLite itself.

    json_object() runs in C: on 100k articles of ~8k characters, Python's
    json.dumps of the same dicts was half the export time (benchmarks/query_bench.py).
    """
    if is_postgres_url(str(path)):
        from .pg import read as pg_read

        yield from pg_read.iter_article_json(str(path), filters=filters, batch=batch)
        return
    for row in _keyset_rows(path, _json_columns(path, blob=False), filters, batch):
        yield row[1]


def iter_article_json_bytes(
    path: str | Path, *, filters: Filters | None = None, batch: int = 500
) -> Iterator[bytes]:
    """iter_article_json() as UTF-8 bytes, for a binary stream.

    SQLite hands the JSON over as a BLOB: no decoding into str and encoding back on write, a
    third of `export`'s time on benchmarks/query_bench.py's 100k articles.
    """
    if is_postgres_url(str(path)):
        from .pg import read as pg_read

        yield from pg_read.iter_article_json_bytes(str(path), filters=filters, batch=batch)
        return
    for row in _keyset_rows(path, _json_columns(path, blob=True), filters, batch):
        yield row[1]


def _json_columns(path: str | Path, *, blob: bool) -> str:
    """a.id and one JSON object per article (as a BLOB when blob), for _keyset_rows."""
    pairs = ", ".join(f"'{name}', a.{name}" for name in EXPORT_FIELDS)
    urls = "json((SELECT json_group_array(u.url) FROM article_urls u WHERE u.article_id = a.id))"
    story_id, sites = _story_columns(path)
    sites = STORY_SITES_JSON_SQL if sites == STORY_SITES_SQL else sites
    value = f"json_object({pairs}, 'urls', {urls}, 'story_id', {story_id}, 'sites', {sites})"
    return f"a.id, CAST({value} AS BLOB)" if blob else f"a.id, {value}"


def _json_list(value: str | None) -> list[Any]:
    return list(json.loads(value)) if value else []


def show(path: str | Path, key: str) -> dict[str, Any] | None:
    """One article by id or by any URL it was seen at, with its URLs and earlier versions."""
    if is_postgres_url(str(path)):
        from .pg import read as pg_read

        return pg_read.show(str(path), key)
    conn = connect_readonly(path)
    try:
        columns = f"{ARTICLE_COLUMNS}, a.text{_archive_columns(conn)}"
        if key.isdigit():
            row = conn.execute(f"SELECT {columns} FROM articles a WHERE a.id = ?", [int(key)])
        else:
            url = canonicalize_url(key)
            row = conn.execute(
                f"SELECT {columns} FROM articles a WHERE a.url = ? OR a.id = "
                "(SELECT article_id FROM article_urls WHERE url = ?)",
                [url, url],
            )
        found = row.fetchone()
        if found is None:
            return None
        article = dict(found)
        article["urls"] = [
            dict(r)
            for r in conn.execute(
                "SELECT * FROM article_urls WHERE article_id = ? ORDER BY first_seen", [article["id"]]
            )
        ]
        article["story"] = story_members(conn, article["id"])
        article["versions"] = [
            dict(r)
            for r in conn.execute(
                "SELECT * FROM article_versions WHERE article_id = ? ORDER BY id", [article["id"]]
            )
        ]
    finally:
        conn.close()
    return article


def _archive_columns(conn: sqlite3.Connection) -> str:
    """ ", a.extractor, a.warc_file..." on a schema 8 database (read without migrating: maybe older)."""
    names = {row[1] for row in conn.execute("PRAGMA table_info(articles)")}
    wanted = [name for name in ("extractor", "warc_file", "warc_offset", "warc_length") if name in names]
    return "".join(f", a.{name}" for name in wanted)


def count_articles(path: str | Path, *, filters: Filters | None = None) -> int:
    """How many articles the filters match."""
    if is_postgres_url(str(path)):
        from .pg import read as pg_read

        return pg_read.count_articles(str(path), filters=filters)
    where, params = (filters or Filters()).sql()
    conn = connect_readonly(path)
    try:
        indexed = where and _has_filter_index(conn)
        source = f"articles a INDEXED BY {FILTER_INDEX}" if indexed else "articles a"
        sql = f"SELECT count(*) FROM {source}" + (" WHERE " + " AND ".join(where) if where else "")
        return int(conn.execute(sql, params).fetchone()[0])
    finally:
        conn.close()
