"""Shared fixtures: the local HTTP server, a test PostgreSQL, a test FetchConfig, and a loopback guard.

Both storage backends: `backend` and `db_target` (tests/backends.py) run a test on each.

PostgreSQL (tests/pgserver.py): `pg_server` starts one server for the session, `pg_url` gives each
test a fresh database. When the server cannot start, a test that needs it fails with the reason; it
skips instead only when SCRAPER_SKIP_POSTGRES=1 and CI is not set (.ci/run sets CI).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from scraper.config import FetchConfig
from tests.backends import any_db, backend, db_target  # noqa: F401  (fixtures: every test may run on both backends)
from tests.pgserver import PgServer, PgUnavailable
from tests.server import FixtureServer


@pytest.fixture(scope="session")
def server() -> Iterator[FixtureServer]:
    """One FixtureServer for the session: .url(path), .requests, .requests_to(route), .reset()."""
    with FixtureServer() as running:
        yield running


@pytest.fixture
def fresh_server(server: FixtureServer) -> FixtureServer:
    """The session server with its request log and counters cleared for this test."""
    server.reset()
    return server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the session (Unix socket only), stopped and deleted at the end."""
    running = None
    try:
        running = PgServer()
        running.start()
    except PgUnavailable as exc:
        if running is not None:
            running.stop()
        if os.environ.get("SCRAPER_SKIP_POSTGRES") == "1" and not os.environ.get("CI"):
            pytest.skip(f"PostgreSQL unavailable (SCRAPER_SKIP_POSTGRES=1): {exc}")
        pytest.fail(
            f"the test PostgreSQL did not start: {exc}\n"
            "(outside CI, SCRAPER_SKIP_POSTGRES=1 skips these tests)",
            pytrace=False,
        )
    yield running
    running.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database for this test, dropped afterwards."""
    url = pg_server.database()
    yield url
    pg_server.drop(url)


@pytest.fixture
def fetch_config() -> FetchConfig:
    """FetchConfig for tests: private addresses allowed (the server is on 127.0.0.1), short waits."""
    return FetchConfig(
        allow_private_addresses=True,
        timeout=5.0,
        connect_timeout=2.0,
        deadline=10.0,
        backoff=0.01,
        max_backoff=0.05,
        max_retry_after=5.0,
    )


def _is_local(family: int, address: Any) -> bool:
    if family == socket.AF_UNIX:
        return True
    host = address[0] if isinstance(address, tuple) else address
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _only_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test when anything tries to connect a socket to a non-loopback address."""
    attempts: list[Any] = []
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def check(sock: socket.socket, address: Any) -> None:
        if not _is_local(sock.family, address):
            attempts.append(address)
            raise ConnectionRefusedError(f"test guard: connecting to {address!r} is not allowed in tests")

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        original_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return original_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield
    assert not attempts, f"the test tried to connect to non-loopback addresses: {attempts}"
