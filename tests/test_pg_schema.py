"""The PostgreSQL schema (scraper/store/pg): migrations, versions, the tables SQLite has, error messages."""

from __future__ import annotations

import threading

import psycopg
import pytest

from scraper.errors import StorageError
from scraper.store import open_db
from scraper.store.pg import SCHEMA_VERSION, is_postgres_url, open_pg, redact, schema_version
from scraper.store.pg.schema import MIGRATION_SET, MIGRATION_STEPS, MIGRATIONS_TABLE, migration_name

# The tables both backends have, with the same keys and meanings.
SHARED_TABLES = (
    "articles", "article_urls", "article_versions", "fetch_log", "frontier", "robots_cache", "runs",
    "run_sources", "near_anchors", "near_anchor_sets",
)  # fmt: skip


def pg_columns(conn, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [row[0] for row in rows]


def pg_unique_columns(conn, table: str) -> set[tuple[str, ...]]:
    """The column lists of the table's primary key and unique constraints."""
    rows = conn.execute(
        "SELECT array_agg(a.attname ORDER BY k.n) FROM pg_constraint c"
        " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
        " WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u') GROUP BY c.oid",
        [table],
    ).fetchall()
    return {tuple(row[0]) for row in rows}


def sqlite_unique_columns(db, table: str) -> set[tuple[str, ...]]:
    keys = {tuple(c for c in db.table(table).pks if c != "rowid")} - {()}
    return keys | {tuple(index.columns) for index in db.table(table).indexes if index.unique}


def test_open_pg_creates_the_schema_and_records_the_version(pg_url):
    conn = open_pg(pg_url)
    try:
        assert schema_version(conn) == SCHEMA_VERSION
        names = conn.execute(f"SELECT migration_set, name FROM {MIGRATIONS_TABLE}").fetchall()
        steps = [migration_name(version, step) for version, step in enumerate(MIGRATION_STEPS, start=1)]
        assert names[:2] == [(MIGRATION_SET, "0001_create_corpus"), (MIGRATION_SET, "0002_frontier_seq")]
        assert sorted(names) == [(MIGRATION_SET, name) for name in steps]
        assert set(SHARED_TABLES) | {"hosts"} <= {
            row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    finally:
        conn.close()


def test_every_sqlite_column_and_key_exists_on_postgresql(pg_url, tmp_path):
    """Same keys and meanings: each shared table has SQLite's columns (in order) and unique keys."""
    sqlite_db = open_db(tmp_path / "corpus.db")
    conn = open_pg(pg_url)
    try:
        for table in SHARED_TABLES:
            theirs = [row[1] for row in sqlite_db.execute(f"PRAGMA table_xinfo({table})")]
            mine = pg_columns(conn, table)
            assert mine[: len(theirs)] == theirs, table
            assert sqlite_unique_columns(sqlite_db, table) <= pg_unique_columns(conn, table), table
    finally:
        conn.close()
        sqlite_db.close()


def test_year_is_derived_from_published_as_on_sqlite(pg_url):
    conn = open_pg(pg_url)
    try:
        for url, published in (
            ("a", "2021-06-29"),
            ("b", "2020-01-02T03:04:05+00:00"),
            ("c", None),
            ("d", "June"),
        ):
            conn.execute("INSERT INTO articles (url, published) VALUES (%s, %s)", [url, published])
        years = conn.execute("SELECT url, year FROM articles ORDER BY url").fetchall()
    finally:
        conn.close()
    assert years == [("a", 2021), ("b", 2020), ("c", None), ("d", None)]


def test_workers_opening_a_new_database_together_migrate_it_once(pg_url):
    errors: list[BaseException] = []
    versions: list[int] = []

    def opener() -> None:
        try:
            conn = open_pg(pg_url)
            versions.append(schema_version(conn))
            conn.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert versions == [SCHEMA_VERSION] * 6
    with psycopg.connect(pg_url) as conn:
        assert conn.execute(f"SELECT count(*) FROM {MIGRATIONS_TABLE}").fetchone() == (SCHEMA_VERSION,)


def test_schema_newer_than_code_is_a_storage_error(pg_url):
    open_pg(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            f"INSERT INTO {MIGRATIONS_TABLE} (migration_set, name) VALUES ('scraper', '0999_future')"
        )
    with pytest.raises(
        StorageError, match=r"newer scraper \(schema 999 > \d+, unknown migrations: 0999_future\)"
    ):
        open_pg(pg_url)


def test_readonly_open_of_an_unmigrated_database_says_to_migrate(pg_url):
    with pytest.raises(StorageError, match=r"has schema 0 < \d+; run `scraper migrate`"):
        open_pg(pg_url, readonly=True)
    open_pg(pg_url).close()
    open_pg(pg_url, readonly=True).close()


def test_unreachable_server_is_a_storage_error_without_the_password(tmp_path):
    url = f"postgresql://worker:s3cret@/corpus?host={tmp_path}"
    with pytest.raises(StorageError) as raised:
        open_pg(url)
    message = str(raised.value)
    assert "s3cret" not in message
    assert message.startswith(f"postgresql://worker:***@/corpus?host={tmp_path}: cannot connect: ")
    assert "check that the server is running" in message


def test_postgres_urls_are_told_from_sqlite_paths():
    assert is_postgres_url("postgresql://u@h/db")
    assert is_postgres_url("postgres://h/db")
    assert not is_postgres_url("data/articles.db")
    assert not is_postgres_url("postgresql.db")
    assert redact("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
