"""The test PostgreSQL (tests/pgserver.py): PostgreSQL 18 on a Unix socket, a fresh database per test."""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.pgserver import PgServer


def test_server_is_postgresql_18_on_a_unix_socket(pg_server: PgServer, pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        listen = conn.execute("SHOW listen_addresses").fetchone()
        socket_dirs = conn.execute("SHOW unix_socket_directories").fetchone()
    assert version is not None
    assert int(version[0]) // 10000 == 18
    assert listen == ("",)  # no TCP at all: nothing to clash with another run's port
    assert socket_dirs == (str(pg_server.base),)


def test_server_never_runs_as_root(pg_server: PgServer, pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        assert Path(f"/proc/{row[0]}").stat().st_uid != 0  # while the connection (and its backend) lives


def test_each_test_gets_a_fresh_empty_database(pg_server: PgServer, pg_url: str) -> None:
    other = pg_server.database()
    try:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE mine (x int)")
        with psycopg.connect(other) as conn:
            tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert other != pg_url
        assert tables == (0,)
    finally:
        pg_server.drop(other)
