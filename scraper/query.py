"""Read-only queries over the corpus: search(), export rows, show one article, stats.

Input: a database path and the user's query or filters. Output: plain dict
rows (or an iterator of them); the CLI formats. The database is opened
read-only, ATTACH is denied and each query has a time limit, so no query can
change the corpus or hang a shell.

User text is read as words and "quoted phrases", so FTS5 syntax characters
cannot raise an error; raw mode passes FTS5 syntax through. The trigram index
needs at least three characters; a shorter term (a two-character Chinese word)
is matched with LIKE on the rows the other filters leave.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import QueryError, StorageError
from .store import connect_readonly as connect_readonly_file
from .urls import canonicalize_url

_TERM_RE = re.compile(r'"([^"]*)"?|(\S+)')
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_MIN_TRIGRAM = 3
# bm25 weights for the articles_fts columns (title, text): a title match weighs ten body matches.
_TITLE_WEIGHT, _TEXT_WEIGHT = 10.0, 1.0
QUERY_SECONDS = 10.0
# Query caps, checked before SQLite sees the query: a 100 KB query took 2.4 GB, and 500 words could
# not finish in QUERY_SECONDS. Measured on 100k articles (benchmarks/query_bench.py corpus, 2 cores):
# memory grows with the query's length (the trigram index reads a long word as one phrase of
# trigrams): 1,000 characters peak at 61-76 MB, 4,000 at 157 MB, one 10,000-character word at
# 425 MB. Time grows with distinct terms that match often: the 32 most frequent words take 2.1 s,
# 64 take 3.6 s (repeated terms are dropped by parse_terms). A real search is a few words.
MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 32
# Snippets mark matches with these; a short-term snippet starts a little before the first match.
_MARK_OPEN, _MARK_CLOSE = "[", "]"
_SNIPPET_LEAD, _SNIPPET_CHARS = 40, 160
_PROGRESS_STEPS = 10_000
_ARTICLE_COLUMNS = (
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

    def sql(self) -> tuple[list[str], list[Any]]:
        """WHERE clauses on alias `a` and their parameters."""
        where: list[str] = []
        params: list[Any] = []
        if self.site:
            where.append(f"a.site IN ({', '.join('?' for _ in self.site)})")
            params += list(self.site)
        if self.since:
            where.append("a.published >= ?")
            params.append(self.since)
        if self.until:
            # 'YYYY-MM-DD' includes the whole day, datetimes included
            where.append("substr(a.published, 1, 10) <= ?")
            params.append(self.until[:10])
        if self.author:
            where.append("a.author LIKE ? ESCAPE '\\'")
            params.append("%" + _escape_like(self.author) + "%")
        if self.lang:
            where.append("(a.language = ? OR a.language LIKE ?)")
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


def parse_terms(text: str) -> list[str]:
    """The user's distinct words and "quoted phrases", with FTS5 syntax taken as plain text.

    A repeated term (any case) is kept once: it changes no match, and FTS5 slows down sharply on
    repeats ('the' 32 times ran past QUERY_SECONDS on 100k articles; 32 distinct words take 1 s).
    """
    terms: dict[str, str] = {}
    # FTS5 reads a NUL as the end of the query string ("unterminated string")
    text = _CONTROL_RE.sub(" ", text)
    for phrase, word in _TERM_RE.findall(text):
        term = re.sub(r"\s+", " ", (phrase or word).replace('"', " ")).strip()
        if term:
            terms.setdefault(term.lower(), term)
    return list(terms.values())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def search(
    path: str | Path,
    text: str,
    *,
    filters: Filters | None = None,
    limit: int = 20,
    offset: int = 0,
    raw: bool = False,
) -> list[dict[str, Any]]:
    """Articles matching every term, best first (bm25 with the title weighted above the text).

    Raises:
        QueryError: raw FTS5 syntax the database rejects, or the time limit passed.
        StorageError: the database is missing or unreadable.
    """
    filters = filters or Filters()
    where, params = filters.sql()
    short: list[str] = []
    _check_size(text, text.split() if raw else parse_terms(text))
    if raw:
        match = text
        if not match.strip():
            return []
    else:
        terms = parse_terms(text)
        if not terms:
            return []
        short = [t for t in terms if len(t) < _MIN_TRIGRAM]
        for term in short:
            clause, args = _contains_sql(term)
            where.append(clause)
            params += args
        match = " ".join(_fts_phrase(t) for t in terms if len(t) >= _MIN_TRIGRAM)
    sql, args = _ranked_sql(match, where, params) if match else _recent_sql(where, params, short)
    conn = connect_readonly(path)
    try:
        rows = conn.execute(sql, [*args, limit, offset, *([match] if match else [])]).fetchall()
    except sqlite3.OperationalError as exc:
        raise _query_error(exc, text, raw) from exc
    finally:
        conn.close()
    return [_highlight(dict(r), short) for r in rows]


def _check_size(text: str, terms: list[str]) -> None:
    """Refuse a query over MAX_QUERY_CHARS or MAX_QUERY_TERMS before SQLite sees it."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query has {len(text):,} characters; search takes at most {MAX_QUERY_CHARS:,}: shorten it"
        )
    if len(terms) > MAX_QUERY_TERMS:
        raise QueryError(
            f"the query has {len(terms):,} terms; search takes at most {MAX_QUERY_TERMS}: use fewer words"
        )


def _contains_sql(term: str) -> tuple[str, list[Any]]:
    """A term too short for the trigram index: LIKE on title and text (ASCII case ignored).

    This reads every candidate row's text; instr() was measured slower than LIKE
    (benchmarks/query_bench.py: 1.26 s against 0.88 s over 100k texts).
    """
    pattern = "%" + _escape_like(term) + "%"
    return "(a.title LIKE ? ESCAPE '\\' OR a.text LIKE ? ESCAPE '\\')", [pattern, pattern]


def _ranked_sql(match: str, where: list[str], params: list[Any]) -> tuple[str, list[Any]]:
    """bm25-ranked ids first, then metadata and snippets for that page of ids only.

    snippet() re-tokenizes the whole text, so it runs on the `limit` ranked rows
    only, each looked up by rowid (CROSS JOIN keeps `top` the outer loop; a
    plain JOIN made SQLite enumerate every match a second time). The ranking
    step joins articles only when there are filters.
    """
    join = " JOIN articles a ON a.id = articles_fts.rowid" if where else ""
    extra = "".join(f" AND {w}" for w in where)
    sql = (
        "WITH top AS ("
        f"SELECT articles_fts.rowid AS id, -bm25(articles_fts, {_TITLE_WEIGHT}, {_TEXT_WEIGHT}) AS score "
        f"FROM articles_fts{join} WHERE articles_fts MATCH ?{extra} "
        "ORDER BY score DESC, id LIMIT ? OFFSET ?) "
        "SELECT a.id, a.url, a.title, a.published, a.site, a.author, a.language, "
        f"snippet(articles_fts, 1, '{_MARK_OPEN}', '{_MARK_CLOSE}', '…', 64) AS snippet, top.score "
        "FROM top CROSS JOIN articles_fts ON articles_fts.rowid = top.id JOIN articles a ON a.id = top.id "
        "WHERE articles_fts MATCH ? ORDER BY top.score DESC, top.id"
    )
    return sql, [match, *params]


def _recent_sql(where: list[str], params: list[Any], short: list[str]) -> tuple[str, list[Any]]:
    """Only short terms: newest matches first; the snippet starts at the first match."""
    extra = "".join(f" AND {w}" for w in where)
    sql = (
        "SELECT a.id, a.url, a.title, a.published, a.site, a.author, a.language, "
        f"substr(a.text, max(1, instr(lower(a.text), lower(?)) - {_SNIPPET_LEAD}), {_SNIPPET_CHARS}) "
        "AS snippet, "
        f"0.0 AS score FROM articles a WHERE 1{extra} ORDER BY a.published DESC, a.id LIMIT ? OFFSET ?"
    )
    return sql, [short[0], *params]


def _highlight(row: dict[str, Any], terms: list[str]) -> dict[str, Any]:
    """Mark the short terms (matched without FTS) in the snippet, outside existing marks."""
    snippet = row.get("snippet")
    if not terms or not snippet:
        return row
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    parts = re.split(f"({re.escape(_MARK_OPEN)}.*?{re.escape(_MARK_CLOSE)})", snippet)
    row["snippet"] = "".join(
        part
        if part.startswith(_MARK_OPEN)
        else pattern.sub(lambda m: f"{_MARK_OPEN}{m[0]}{_MARK_CLOSE}", part)
        for part in parts
    )
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
    columns = (
        f"{_ARTICLE_COLUMNS}, a.text, "
        "(SELECT json_group_array(u.url) FROM article_urls u WHERE u.article_id = a.id) AS urls"
    )
    for row in _keyset_rows(path, columns, filters, batch):
        item = dict(row)
        item["urls"] = _json_list(item["urls"])
        yield item


def _keyset_rows(
    path: str | Path, columns: str, filters: Filters | None, batch: int
) -> Iterator[sqlite3.Row]:
    """Rows of `articles a` in id order, read `batch` at a time after the last id seen.

    `columns` must start with a.id. Paging by id instead of OFFSET keeps each batch an
    index seek, so memory and per-batch time stay flat on any corpus size.
    """
    where, params = (filters or Filters()).sql()
    extra = "".join(f" AND {w}" for w in where)
    sql = f"SELECT {columns} FROM articles a WHERE a.id > ?{extra} ORDER BY a.id LIMIT ?"
    conn = connect_readonly(path, seconds=3600)
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


# the columns of iter_articles(), in the same order, for SQLite's json_object()
_EXPORT_FIELDS = (*(c.strip().removeprefix("a.") for c in _ARTICLE_COLUMNS.split(",")), "text")


def iter_article_json(path: str | Path, *, filters: Filters | None = None, batch: int = 500) -> Iterator[str]:
    """The rows of iter_articles() as JSON object texts, encoded by SQLite itself.

    json_object() runs in C: on 100k articles of ~8k characters, Python's
    json.dumps of the same dicts was half the export time (benchmarks/query_bench.py).
    """
    pairs = ", ".join(f"'{name}', a.{name}" for name in _EXPORT_FIELDS)
    urls = "json((SELECT json_group_array(u.url) FROM article_urls u WHERE u.article_id = a.id))"
    for row in _keyset_rows(path, f"a.id, json_object({pairs}, 'urls', {urls})", filters, batch):
        yield row[1]


def _json_list(value: str | None) -> list[Any]:
    return list(json.loads(value)) if value else []


def show(path: str | Path, key: str) -> dict[str, Any] | None:
    """One article by id or by any URL it was seen at, with its URLs and earlier versions."""
    conn = connect_readonly(path)
    try:
        if key.isdigit():
            row = conn.execute(
                f"SELECT {_ARTICLE_COLUMNS}, a.text FROM articles a WHERE a.id = ?", [int(key)]
            )
        else:
            url = canonicalize_url(key)
            row = conn.execute(
                f"SELECT {_ARTICLE_COLUMNS}, a.text FROM articles a WHERE a.url = ? OR a.id = "
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
        article["versions"] = [
            dict(r)
            for r in conn.execute(
                "SELECT * FROM article_versions WHERE article_id = ? ORDER BY id", [article["id"]]
            )
        ]
    finally:
        conn.close()
    return article


def count_articles(path: str | Path, *, filters: Filters | None = None) -> int:
    """How many articles the filters match."""
    where, params = (filters or Filters()).sql()
    conn = connect_readonly(path)
    try:
        sql = "SELECT count(*) FROM articles a" + (" WHERE " + " AND ".join(where) if where else "")
        return int(conn.execute(sql, params).fetchone()[0])
    finally:
        conn.close()


def parse_day(value: str) -> str:
    """Validate a --since/--until value: 'YYYY-MM-DD' or a full ISO 8601 datetime."""
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value).isoformat()
        return dt.datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"{value!r} is not a date; use YYYY-MM-DD") from None


class Corpus:
    """A read-only handle for notebooks: search it, iterate it, look articles up.

    Example:
        >>> corpus = scraper.open_corpus("data/articles.db")
        >>> for hit in corpus.search("trade", since="2021-01-01"): print(hit["title"])
        >>> texts = [a["text"] for a in corpus]
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        connect_readonly(self.path).close()

    def search(
        self, text: str, *, limit: int = 20, offset: int = 0, raw: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Ranked full-text search; filters: site, since, until, author, lang."""
        return search(self.path, text, filters=_filters(filters), limit=limit, offset=offset, raw=raw)

    def articles(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every article matching the filters, with its text and URLs."""
        return iter_articles(self.path, filters=_filters(filters))

    def get(self, key: str | int) -> dict[str, Any] | None:
        """One article by id or URL, with its URLs and versions."""
        return show(self.path, str(key))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter_articles(self.path)

    def __len__(self) -> int:
        return count_articles(self.path)


def _filters(values: dict[str, Any]) -> Filters:
    site = values.pop("site", ())
    return Filters(site=(site,) if isinstance(site, str) else tuple(site), **values)


def open_corpus(path: str | Path) -> Corpus:
    """Open a scraper database read-only for searching and iterating."""
    return Corpus(path)


def crawl_stats(path: str | Path, *, runs: int = 10, failures: int = 10) -> dict[str, list[dict[str, Any]]]:
    """Per-source totals, the last `runs` crawl runs, the last `failures` failed URLs, unreachable hosts.

    Failures are a crawl's failed frontier rows and the URLs whose last `scraper ingest` failed
    (source "ingest"). Unreachable hosts are those of the last run's report, when it has one.

    Returns:
        {"sources": [{source, articles, queued, fetched, failed, skipped, last_fetch}],
         "runs": [{id, started, finished, exit_status, sources, new, updated, ..., failed}],
         "failures": [{source, url, reason, attempts, last_fetch}],
         "unreachable": [{origin, reason}]}

    Raises:
        StorageError: no database, or one no crawl has migrated yet.
    """
    conn = connect_readonly(path)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"frontier", "runs", "run_sources", "fetch_log"} <= tables:
            raise StorageError(f"{path} has no crawl tables yet; run `scraper crawl` (or `scraper migrate`)")
        return {
            "sources": _rows(conn, _SOURCE_TOTALS_SQL),
            "runs": _rows(conn, _RUNS_SQL, [runs]),
            "failures": _rows(conn, _FAILURES_SQL, [failures] * 3),
            "unreachable": _last_run_unreachable(conn),
        }
    finally:
        conn.close()


def _last_run_unreachable(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """{origin, reason} rows from the last run's `report` JSON; none when it has no readable report.

    The column comes with the run-report schema step: on an older database, or for a run that was
    killed before it wrote its report (NULL), or a report that is not the JSON object we write,
    there is nothing to show, which is not an error.
    """
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    if "report" not in columns:
        return []
    row = conn.execute("SELECT report FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    try:
        report = json.loads(row[0]) if row and row[0] else None
    except (TypeError, ValueError):
        return []
    unreachable = report.get("unreachable") if isinstance(report, dict) else None
    if not isinstance(unreachable, dict):
        return []
    return [{"origin": str(origin), "reason": str(reason)} for origin, reason in unreachable.items()]


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sql, params or [])]


_SOURCE_TOTALS_SQL = """
SELECT f.source,
       (SELECT count(*) FROM articles a WHERE a.site = f.source) AS articles,
       sum(f.state = 'queued') AS queued, sum(f.state = 'fetched') AS fetched,
       sum(f.state = 'failed') AS failed, sum(f.state = 'skipped') AS skipped,
       max(f.last_fetch) AS last_fetch
FROM frontier f GROUP BY f.source ORDER BY f.source
"""
_RUNS_SQL = """
SELECT r.id, r.started, r.finished, r.exit_status, r.sources,
       sum(s.discovered) AS discovered, sum(s.fetched) AS fetched, sum(s.new) AS new,
       sum(s.updated) AS updated, sum(s.unchanged) AS unchanged, sum(s.duplicate) AS duplicate,
       sum(s.skipped) AS skipped, sum(s.failed) AS failed
FROM runs r LEFT JOIN run_sources s ON s.run_id = r.id
GROUP BY r.id ORDER BY r.id DESC LIMIT ?
"""
# A skip is no failure: the page came, and held no article. fetch_log.outcome says which (schema 5);
# rows written before it have none, and their skips start with these words.
_SKIP_PREFIXES = ("skipped ", "no article at ")
_FAILURES_SQL = """
SELECT * FROM (
    SELECT * FROM (
        SELECT source, url, reason, attempts, last_fetch FROM frontier
        WHERE state = 'failed' ORDER BY last_fetch DESC LIMIT ?
    )
    UNION ALL
    SELECT * FROM (
        -- ingest: URLs whose last fetch failed; URLs a crawl knows are in the frontier rows above
        SELECT 'ingest' AS source, l.url, l.error AS reason,
               (SELECT count(*) FROM fetch_log c WHERE c.url = l.url AND c.error IS NOT NULL) AS attempts,
               l.at AS last_fetch
        FROM fetch_log l
        WHERE l.error IS NOT NULL
          AND (l.outcome IN ('failed', 'error') OR (l.outcome IS NULL AND NOT ({skips})))
          AND l.id = (SELECT max(m.id) FROM fetch_log m WHERE m.url = l.url)
          AND NOT EXISTS (SELECT 1 FROM frontier f WHERE f.url = l.url)
          AND l.url NOT LIKE '%/robots.txt'  -- a crawl's robots.txt: under unreachable hosts
        ORDER BY l.id DESC LIMIT ?
    )
) ORDER BY last_fetch DESC LIMIT ?
""".format(skips=" OR ".join(f"l.error LIKE '{prefix}%'" for prefix in _SKIP_PREFIXES))
