"""Read-only queries over the PostgreSQL corpus: store/read.py's search, export rows, show and count.

Input: a postgresql:// URL, filters, and search terms already parsed by scraper/query.py. Output:
the rows store/read.py gives on SQLite, shaped by the same code (snippets, JSON text), with times
as the ISO text SQLite stores, so both backends answer alike. Settings: none.

Every session is read-only (default_transaction_read_only) with a statement timeout (QUERY_SECONDS
for a search, as SQLite's deadline), and opening never migrates: an old schema is refused with the
fix. Full-text search reads `articles.search` (store/pg/search.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import errors as pg_errors_module

from ...errors import QueryError
from ...urls import canonicalize_url
from .. import read as sqlite_read
from ..fts import is_single_cjk
from ..read import ARTICLE_COLUMNS, EXPORT_FIELDS, QUERY_SECONDS, Filters, describe_rows
from ..stories import (  # one story definition; SQL both engines read
    _MEMBERS_SQL,
    STORY_MEMBERS_SQL,
    _publication_order,
    summarise_stories,
)
from .db import Connection, open_pg, pg_errors, plain
from .search import RANK_NORMALIZATION, RANK_WEIGHTS, raw_query, terms_query

# A search matching more articles ranks only the newest this many (SQLite ranks its MAX_RANKED,
# 10,000). ts_rank reads each match's whole tsvector (~10 KB at 100k articles, out of line in
# TOAST), where FTS5's bm25 reads its own doclists: ranking 10,000 matches took 630 ms
# (benchmarks/pg_search_bench.py, "said", 12.7k matches), so a word in more than MAX_RANKED
# articles may list other top 20 than SQLite does; below it both rank the same matches.
MAX_RANKED = 1_000
# How the newest MAX_RANKED matches are found is chosen by what each way costs, from the planner's
# estimate of the matches: walking ids backwards reads every article's tsvector (out of line, in
# TOAST) until enough match, 3-7 us a row; the GIN index visits every match, about 0.4 us each.
# Left to itself the planner prices the @@ test as one operator: it walked for words in 6-13 % of
# the articles ("city" at 100k: 97 ms, 7 ms through the index) and read the whole table for some
# (940 ms). Constants from 180 queries of benchmarks/pg_search_bench.py at 100k articles.
WALK_US_PER_ROW = 3.0
INDEX_US_PER_MATCH = 0.4
# Seconds a statement of export (a keyset page) may take: a whole export has no limit, a page has.
EXPORT_STATEMENT_SECONDS = 3600
# article_urls and article_versions columns in SQLite's order (PostgreSQL's tables have more).
URL_COLUMNS = "url, article_id, kind, first_seen, last_seen, similarity, site, published"
VERSION_COLUMNS = (
    "id, article_id, title, text, content_hash, fetched_at, replaced_at, warc_file, warc_offset, warc_length,"
    " extractor"
)
# Every URL an article was seen at, in the order they were recorded (SQLite's rowid order).
_URLS_SQL = "ARRAY(SELECT u.url FROM article_urls u WHERE u.article_id = a.id ORDER BY u.seq)"
# store.stories.STORY_SITES_SQL: the sites of a row's story, sorted by code point as SQLite's UNION is.
_SITES_SQL = (
    "ARRAY(SELECT s FROM (SELECT a.site AS s"
    " UNION SELECT u.site FROM article_urls u WHERE u.article_id = a.id AND u.kind = 'near'"
    " UNION SELECT b.site FROM articles b WHERE a.story_id IS NOT NULL AND b.story_id = a.story_id) x"
    ' WHERE s IS NOT NULL ORDER BY s COLLATE "C")'
)
_EXPORT_COLUMNS = (
    f"{ARTICLE_COLUMNS}, a.text, {_URLS_SQL} AS urls, coalesce(a.story_id, a.id) AS story_id,"
    f" {_SITES_SQL} AS sites"
)


def connect_readonly(url: str, *, seconds: float = QUERY_SECONDS) -> Connection:
    """A read-only session on the corpus, each statement limited to `seconds`; never migrates.

    Raises:
        StorageError: the server cannot be reached, or the schema is older or newer than this code's.
    """
    conn = open_pg(url, readonly=True)
    with pg_errors(url, "cannot open the database"):
        conn.execute("SET default_transaction_read_only = on")
        conn.execute(f"SET statement_timeout = {int(seconds * 1000)}")
    return conn


def dict_rows(cursor: psycopg.Cursor[Any]) -> list[dict[str, Any]]:
    """The cursor's rows as dicts of plain() values."""
    names = [column.name for column in cursor.description or ()]
    return [{name: plain(value) for name, value in zip(names, row, strict=True)} for row in cursor]


def filter_sql(filters: Filters, alias: str = "a") -> tuple[list[str], list[Any]]:
    """Filters.sql() for PostgreSQL: %s placeholders, and LIKE case-insensitive as SQLite's is."""
    where, params = filters.sql(alias)
    return [w.replace("?", "%s").replace(" LIKE ", " ILIKE ") for w in where], params


def search_articles(
    url: str, text: str, terms: list[str], *, filters: Filters, limit: int, offset: int, raw: bool
) -> list[dict[str, Any]]:
    """store.read.search_articles() on PostgreSQL: the same matches, snippets and errors.

    Raises:
        QueryError: raw syntax with no tsquery form or that PostgreSQL rejects, or the time limit passed.
        StorageError: the database is unreachable or its schema is not current.
    """
    short = [t for t in terms if is_single_cjk(t)] if not raw else []
    if raw:
        match, match_args = "to_tsquery('simple', %s)", [raw_query(text)]
    else:
        match, match_args = terms_query([t for t in terms if not is_single_cjk(t)])
    conn = connect_readonly(url)
    try:
        with pg_errors(conn, f"cannot search for {text!r}"), conn.transaction(), conn.cursor() as cur:
            try:
                index = bool(match) and not short and not _walks(cur, match, match_args, filters)
                if index:  # for this transaction: no table scan either
                    cur.execute("SET LOCAL enable_seqscan = off")
                sql, args = _search_sql(match, match_args, filters, short, index=index)
                cur.execute(sql, [*args, limit, offset])
            except pg_errors_module.QueryCanceled as exc:
                raise QueryError(
                    f"search for {text!r} took longer than {QUERY_SECONDS:.0f} s; narrow it with filters"
                ) from exc
            except (pg_errors_module.SyntaxError, pg_errors_module.DataException) as exc:
                first = str(exc).strip().splitlines()[0]
                raise QueryError(
                    f"bad FTS5 query {text!r}: {first}; drop --raw to search plain words"
                ) from exc
            rows = dict_rows(cur)
    finally:
        conn.close()
    return describe_rows(rows, text, terms, raw=raw)


def _walks(cur: psycopg.Cursor[Any], match: str, match_args: list[Any], filters: Filters) -> bool:
    """Whether walking ids backwards finds the newest MAX_RANKED matches sooner than the GIN index."""
    where, params = filter_sql(filters)
    extra = "".join(f" AND {w}" for w in where)
    matches = _estimated_rows(cur, f"a.search @@ ({match}){extra}", [*match_args, *params])
    articles = _estimated_rows(cur, "true", [])
    if matches <= 0 or articles <= 0:
        return False
    density = min(1.0, matches / articles)
    return MAX_RANKED / density * WALK_US_PER_ROW < matches * INDEX_US_PER_MATCH


def _estimated_rows(cur: psycopg.Cursor[Any], where: str, params: list[Any]) -> float:
    """The planner's estimate of the articles matching `where` (EXPLAIN: nothing is read)."""
    cur.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM articles a WHERE {where}", params)
    found = cur.fetchone()
    return float(found[0][0]["Plan"]["Plan Rows"]) if found else 0.0


def _search_sql(
    match: str, match_args: list[Any], filters: Filters, short: list[str], *, index: bool = False
) -> tuple[str, list[Any]]:
    """Ranked ids (the newest MAX_RANKED matches when no LIKE term), then that page's rows.

    A one-character CJK term is LIKE on title and text (no bigram holds it), with no bound: the
    newest matches might all lack it. Only such terms: newest published first, as on SQLite.
    """
    where, params = filter_sql(filters)
    for term in short:
        pattern = "%" + term + "%"
        where.append("(a.title LIKE %s OR a.text LIKE %s)")
        params += [pattern, pattern]
    extra = "".join(f" AND {w}" for w in where)
    columns = "a.id, a.url, a.title, a.published, a.site, a.author, a.language, a.text"
    if not match:
        sql = (
            f"SELECT {columns}, 0.0 AS score FROM articles a WHERE true{extra}"
            " ORDER BY a.published DESC NULLS LAST, a.id LIMIT %s OFFSET %s"
        )
        return sql, params
    # read at call time, as SQLite's is, so a smaller MAX_RANKED (a test's patch) bounds both backends
    ranked = min(int(sqlite_read.MAX_RANKED), MAX_RANKED)
    # index: an order no index gives ("id + 0"), so the planner cannot walk ids backwards
    order = "a.id + 0" if index else "a.id"
    bound = "" if short else f" ORDER BY {order} DESC LIMIT {ranked}"
    # the tsquery is written out twice, not kept in a CTE: the planner then sees its words and
    # reads a very common one by walking ids backwards (the newest matches come first) instead of
    # visiting every match ("the" at 100k: 40 ms against 300 ms)
    sql = (
        f"WITH m AS MATERIALIZED (SELECT a.id FROM articles a WHERE a.search @@ ({match}){extra}{bound}),"
        f" top AS MATERIALIZED (SELECT a.id,"
        f" ts_rank({RANK_WEIGHTS}, a.search, ({match}), {RANK_NORMALIZATION}) AS score"
        " FROM m JOIN articles a ON a.id = m.id ORDER BY score DESC, a.id LIMIT %s OFFSET %s)"
        f" SELECT {columns}, top.score::float8 AS score FROM top JOIN articles a ON a.id = top.id"
        " ORDER BY top.score DESC, top.id"
    )
    return sql, [*match_args, *params, *match_args]


def count_articles(url: str, *, filters: Filters | None = None) -> int:
    """How many articles the filters match."""
    where, params = filter_sql(filters or Filters())
    conn = connect_readonly(url)
    try:
        with pg_errors(conn, "cannot count articles"):
            sql = "SELECT count(*) FROM articles a" + (" WHERE " + " AND ".join(where) if where else "")
            found = conn.execute(sql, params).fetchone()
    finally:
        conn.close()
    return int(found[0]) if found else 0


def iter_articles(url: str, *, filters: Filters | None = None, batch: int = 500) -> Iterator[dict[str, Any]]:
    """store.read.iter_articles() on PostgreSQL: every matching article, its text, URLs and story."""
    for row in _keyset_rows(url, filters or Filters(), batch):
        row["urls"] = list(row["urls"] or [])
        row["sites"] = list(row["sites"] or [])
        yield row


def iter_article_json_bytes(url: str, *, filters: Filters | None = None, batch: int = 500) -> Iterator[bytes]:
    """The rows of iter_articles() as the UTF-8 JSON objects SQLite's json_object() writes."""
    for text in iter_article_json(url, filters=filters, batch=batch):
        yield text.encode("utf-8")


def iter_article_json(url: str, *, filters: Filters | None = None, batch: int = 500) -> Iterator[str]:
    """The rows of iter_articles() as JSON object texts, byte for byte what SQLite's json_object() gives.

    json_object() writes no spaces, keeps non-ASCII as it is and escapes what json.dumps escapes
    (checked on every character below U+0080 and on U+2028).
    """
    fields = (*EXPORT_FIELDS, "urls", "story_id", "sites")
    for row in iter_articles(url, filters=filters, batch=batch):
        yield json.dumps({name: row[name] for name in fields}, ensure_ascii=False, separators=(",", ":"))


def _keyset_rows(url: str, filters: Filters, batch: int) -> Iterator[dict[str, Any]]:
    """Rows of `articles a` (export columns) in id order, `batch` at a time after the last id seen."""
    where, params = filter_sql(filters)
    extra = "".join(f" AND {w}" for w in where)
    sql = f"SELECT {_EXPORT_COLUMNS} FROM articles a WHERE a.id > %s{extra} ORDER BY a.id LIMIT %s"
    conn = connect_readonly(url, seconds=EXPORT_STATEMENT_SECONDS)
    last = 0
    try:
        while True:
            with pg_errors(conn, "cannot export articles"), conn.cursor() as cur:
                cur.execute(sql, [last, *params, batch])
                rows = dict_rows(cur)
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]
    finally:
        conn.close()


def show(url: str, key: str) -> dict[str, Any] | None:
    """One article by id or by any URL it was seen at, with its URLs, story and earlier versions."""
    columns = f"{ARTICLE_COLUMNS}, a.text, a.extractor, a.warc_file, a.warc_offset, a.warc_length"
    conn = connect_readonly(url)
    try:
        with pg_errors(conn, f"cannot read article {key!r}"), conn.cursor() as cur:
            if key.isdigit():
                cur.execute(f"SELECT {columns} FROM articles a WHERE a.id = %s", [int(key)])
            else:
                canonical = canonicalize_url(key)
                cur.execute(
                    f"SELECT {columns} FROM articles a WHERE a.url = %s OR a.id ="
                    " (SELECT article_id FROM article_urls WHERE url = %s)",
                    [canonical, canonical],
                )
            found = dict_rows(cur)
            if not found:
                return None
            article = found[0]
            cur.execute(
                f"SELECT {URL_COLUMNS} FROM article_urls WHERE article_id = %s"
                " ORDER BY first_seen NULLS FIRST, seq",
                [article["id"]],
            )
            article["urls"] = dict_rows(cur)
            article["story"] = _story_members(cur, article["id"])
            cur.execute(
                f"SELECT {VERSION_COLUMNS} FROM article_versions WHERE article_id = %s ORDER BY id",
                [article["id"]],
            )
            article["versions"] = dict_rows(cur)
    finally:
        conn.close()
    return article


def _story_members(cur: psycopg.Cursor[Any], article_id: int) -> list[dict[str, Any]]:
    """store.stories.story_members() on PostgreSQL: the story's members, first publisher first."""
    cur.execute("SELECT coalesce(story_id, id) FROM articles WHERE id = %s", [article_id])
    found = cur.fetchone()
    if found is None:
        return []
    rows = "coalesce(a.story_id, a.id) = %(story)s"
    cur.execute(_MEMBERS_SQL.format(rows=rows, near=rows), {"story": int(found[0])})
    return sorted(dict_rows(cur), key=_publication_order)


def archived_refs(
    url: str, filters: Filters | None = None, *, batch: int = 200
) -> Iterator[tuple[str, int, int]]:
    """(warc_file, offset, length) of every matching article with an archived response, by id."""
    where, params = filter_sql(filters or Filters())
    extra = "".join(f" AND {w}" for w in where)
    sql = (
        "SELECT a.id, a.warc_file, a.warc_offset, a.warc_length FROM articles a"
        f" WHERE a.id > %s AND a.warc_file IS NOT NULL{extra} ORDER BY a.id LIMIT %s"
    )
    conn = connect_readonly(url, seconds=EXPORT_STATEMENT_SECONDS)
    last = 0
    try:
        while True:
            with pg_errors(conn, "cannot read the archive pointers"):
                rows = conn.execute(sql, [last, *params, batch]).fetchall()
            if not rows:
                return
            for _, file, offset, length in rows:
                yield str(file), int(offset), int(length)
            last = rows[-1][0]
    finally:
        conn.close()


def list_stories(
    url: str, *, sites: tuple[str, ...], since: str | None, min_size: int
) -> list[dict[str, Any]]:
    """store.stories.list_stories() on PostgreSQL: the same stories, biggest first."""
    conn = connect_readonly(url)
    try:
        with pg_errors(conn, "cannot list stories"), conn.cursor() as cur:
            cur.execute(STORY_MEMBERS_SQL)
            rows = dict_rows(cur)
    finally:
        conn.close()
    return summarise_stories(rows, sites=sites, since=since, min_size=min_size)
