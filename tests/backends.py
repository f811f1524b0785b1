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
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from scraper import store
from scraper.config import is_postgres_url
from scraper.models import Article, SaveResult
from scraper.store.db import iso

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


def _plain(value: Any) -> Any:
    """A PostgreSQL value as SQLite would give it: aware datetimes as ISO text, memoryview as bytes."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


Params = tuple[Any, ...] | list[Any]


def query_rows(target: str | Path, sql: str, params: Params = ()) -> list[dict[str, Any]]:
    """Run one read statement (`?` placeholders) on either backend; rows as dicts."""
    target = str(target)
    if is_postgres_url(target):
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("SET TIME ZONE 'UTC'")
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(sql.replace("%", "%%").replace("?", "%s"), list(params))
                return [{key: _plain(value) for key, value in row.items()} for row in cur.fetchall()]
    conn = sqlite3.connect(target)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, list(params))]
    finally:
        conn.close()


def save_article(target: str | Path, article: Article, **kw: Any) -> SaveResult:
    """store.save_article on a SQLite file, or store.pg's on a PostgreSQL URL (the same defaults)."""
    target = str(target)
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
