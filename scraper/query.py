"""Read-only queries over the corpus: search(), export rows, show one article, stats.

Input: a database path and the user's query or filters. Output: plain dict
rows (or an iterator of them); the CLI formats. The SQL is store's (store/read.py,
store/stats.py): read-only, ATTACH denied, each query time-limited, so no query can
change the corpus or hang a shell.

User text is read as words and "quoted phrases", so FTS5 syntax characters
cannot raise an error; raw mode passes FTS5 syntax through. Queries over
MAX_QUERY_CHARS or MAX_QUERY_TERMS are refused before the database sees them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .archive import resolve_path
from .config import is_postgres_url
from .errors import QueryError
from .models import WarcRef
from .store.read import (
    QUERY_SECONDS,
    Filters,
    connect_readonly,
    count_articles,
    iter_article_json,
    iter_article_json_bytes,
    iter_articles,
    search_articles,
    show,
)
from .store.reextract import archived_articles
from .store.snapshot import snapshot
from .store.stats import crawl_stats
from .store.stories import list_stories

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "QUERY_SECONDS",
    "Corpus",
    "Filters",
    "connect_readonly",
    "count_articles",
    "crawl_stats",
    "duplicates",
    "iter_article_json",
    "iter_article_json_bytes",
    "iter_articles",
    "iter_warc_refs",
    "open_corpus",
    "parse_day",
    "parse_terms",
    "search",
    "show",
    "snapshot",
]

_TERM_RE = re.compile(r'"([^"]*)"?|(\S+)')
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# Query caps, checked before SQLite sees the query: a 100 KB query took 2.4 GB, and 500 words could
# not finish in QUERY_SECONDS. Measured on 100k articles (benchmarks/query_bench.py corpus, 2 cores):
# memory grows with the query's length (the trigram index reads a long word as one phrase of
# trigrams): 1,000 characters peak at 61-76 MB, 4,000 at 157 MB, one 10,000-character word at
# 425 MB. Time grows with distinct terms that match often: the 32 most frequent words take 2.1 s,
# 64 take 3.6 s (repeated terms are dropped by parse_terms). A real search is a few words.
MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 32


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
        QueryError: a query over the caps, raw FTS5 syntax the database rejects, or the time limit passed.
        StorageError: the database is missing or unreadable.
    """
    terms = text.split() if raw else parse_terms(text)
    _check_size(text, terms)
    if not (text.strip() if raw else terms):
        return []
    return search_articles(
        path, text, terms, filters=filters or Filters(), limit=limit, offset=offset, raw=raw
    )


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
        self.path: str | Path = str(path) if is_postgres_url(str(path)) else Path(path)
        _check_readable(self.path)

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


_FILTER_NAMES = ("site", "since", "until", "author", "lang")


def _filters(values: dict[str, Any]) -> Filters:
    """Filters from keyword arguments, checked: an unknown name or a bad date is a ValueError naming it."""
    unknown = sorted(set(values) - set(_FILTER_NAMES))
    if unknown:
        raise ValueError(
            f"unknown filter {', '.join(map(repr, unknown))}; filters are {', '.join(_FILTER_NAMES)}"
        )
    for name in ("since", "until"):
        if values.get(name) is not None:
            try:
                values[name] = parse_day(str(values[name]))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
    site = values.pop("site", ())
    return Filters(site=(site,) if isinstance(site, str) else tuple(site), **values)


def open_corpus(path: str | Path) -> Corpus:
    """Open a scraper database (a SQLite file or a postgresql:// URL) read-only, to search and iterate."""
    return Corpus(path)


def _check_readable(path: str | Path) -> None:
    """Open the corpus once read-only and close it, so a bad path fails at open_corpus().

    Raises:
        StorageError: no database there, or (PostgreSQL) unreachable or at another schema version.
    """
    if is_postgres_url(str(path)):
        from .store.pg.read import connect_readonly as connect_pg

        connect_pg(str(path)).close()
    else:
        connect_readonly(path).close()


def duplicates(
    path: str | Path, *, sites: tuple[str, ...] = (), since: str | None = None, min_size: int = 2
) -> list[dict[str, Any]]:
    """Near-duplicate stories of at least min_size members, biggest first (see store/stories.py)."""
    if is_postgres_url(str(path)):
        from .store.pg.read import list_stories as pg_list_stories

        return pg_list_stories(str(path), sites=sites, since=since, min_size=min_size)
    conn = connect_readonly(path)
    try:
        return list_stories(conn, sites=sites, since=since, min_size=min_size)
    finally:
        conn.close()


def iter_warc_refs(path: str | Path, filters: Filters | None = None) -> Iterator[tuple[Path, WarcRef]]:
    """The archived response of every matching article that has one: (its WARC file, its WarcRef).

    On PostgreSQL a relative WARC path is read from the current directory (there is no database file
    to be beside).
    """
    if is_postgres_url(str(path)):
        from .store.pg.read import archived_refs

        for file, offset, length in archived_refs(str(path), filters):
            yield Path(file).resolve(), WarcRef(file, offset, length)
        return
    conn = connect_readonly(path, seconds=3600)
    try:
        for chunk in archived_articles(conn, filters):
            for article in chunk:
                yield resolve_path(path, article.warc.file), article.warc
    finally:
        conn.close()
