"""Run a test on both storage backends: a SQLite file and a PostgreSQL database (issue 14).

Fixtures (registered by tests/conftest.py):
- `backend`: "sqlite" or "postgres"; a test that takes it (or `db_target`) runs once per backend.
- `db_target`: what `--db` and storage.path take for this test: a SQLite file path in tmp_path, or
  the URL of a fresh PostgreSQL database.

Helpers, the same on both backends, so a test's assertions do not depend on the backend:
- `query_rows(target, sql, params)`: rows as dicts; `?` placeholders; times come back as the ISO
  text SQLite stores (PostgreSQL's TIMESTAMPTZ values are formatted like store.db.iso()).
- `save_article(target, article, url=..., site=..., fetched_at=..., **kw)`: the real store's
  save_article on either backend (schema created or migrated first).
- `AnyDb(target)`: the few sqlite_utils reads store tests make (execute().fetchone()/fetchall(),
  db[table].get(id), db[table].rows, query()), on either backend; fixture `any_db`.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from scraper import store
from scraper.config import is_postgres_url
from scraper.models import Article, SaveResult
from scraper.store.pg.db import plain

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend this run of the test uses."""
    return str(request.param)


@pytest.fixture
def db_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A SQLite path (tmp_path/articles.db) or a fresh PostgreSQL database's URL, per `backend`."""
    if backend == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return str(tmp_path / "articles.db")


Params = tuple[Any, ...] | list[Any]


# a quoted SQL literal, a `?` placeholder, or a `%` (psycopg's placeholder sign, doubled to stay text)
_SQL_PARTS = re.compile(r"'(?:[^']|'')*'|\?|%")


def _pg_sql(sql: str) -> str:
    """SQLite's `?` placeholders as psycopg's `%s`; `?` and `%` inside quoted literals stay text."""

    def part(match: re.Match[str]) -> str:
        token = match.group()
        if token == "?":
            return "%s"
        return token.replace("%", "%%")

    return _SQL_PARTS.sub(part, sql)


def query_rows(target: str | Path, sql: str, params: Params = ()) -> list[dict[str, Any]]:
    """Run one read statement (`?` placeholders) on either backend; rows as dicts."""
    target = str(target)
    if is_postgres_url(target):
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("SET TIME ZONE 'UTC'")
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(_pg_sql(sql), list(params))
                return [{key: plain(value) for key, value in row.items()} for row in cur.fetchall()]
    conn = sqlite3.connect(target)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, list(params))]
    finally:
        conn.close()


class _Result:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def __iter__(self) -> Any:
        return iter(self._rows)


class _Table:
    def __init__(self, target: str, name: str) -> None:
        self.target, self.name = target, name

    def get(self, row_id: int) -> dict[str, Any]:
        [row] = query_rows(self.target, f"SELECT * FROM {self.name} WHERE id = ?", [row_id])
        return row

    @property
    def rows(self) -> list[dict[str, Any]]:
        return query_rows(self.target, f"SELECT * FROM {self.name}")


class AnyDb:
    """A corpus on either backend, read the way store tests read a sqlite_utils.Database."""

    def __init__(self, target: str | Path) -> None:
        self.target = str(target)

    @property
    def is_pg(self) -> bool:
        return is_postgres_url(self.target)

    def execute(self, sql: str, params: Params = ()) -> _Result:
        return _Result([tuple(row.values()) for row in query_rows(self.target, sql, params)])

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return query_rows(self.target, sql, params)

    def __getitem__(self, table: str) -> _Table:
        return _Table(self.target, table)


@pytest.fixture
def any_db(db_target: str) -> AnyDb:
    """An AnyDb over this test's db_target (runs once per backend)."""
    return AnyDb(db_target)


def save_article(target: str | Path | AnyDb, article: Article, **kw: Any) -> SaveResult:
    """store.save_article on a SQLite file, or store.pg's on a PostgreSQL URL (the same defaults)."""
    target = target.target if isinstance(target, AnyDb) else str(target)
    if is_postgres_url(target):
        from scraper.store.pg import articles as pg_articles
        from scraper.store.pg.db import open_pg

        conn = open_pg(target)
        try:
            return pg_articles.save_article(conn, article, **kw)
        finally:
            conn.close()
    db = store.open_db(target)
    try:
        return store.save_article(db, article, **kw)
    finally:
        db.close()
