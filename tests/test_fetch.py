"""Fetcher against the real local server: retries, redirects, address checks, caps, decoding."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email.utils
import gc
import re
import socket
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper.config import FetchConfig
from scraper.errors import BlockedAddress, ConfigError, FetchError, InvalidURL, SkippedContent
from scraper.fetch import (
    MAX_RETRY_AFTER_SECONDS,
    Fetcher,
    check_address,
    is_retryable,
    make_client,
    parse_retry_after,
    sniff_binary,
)
from scraper.models import Page
from scraper.pipeline.steps import reason_kind
from tests.server import ETAG, GBK_WORD, WIDE_TEXT, FixtureServer

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


class SleepRecorder:
    """An injectable sleep that returns at once and remembers the delays asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


async def _no_dns(host: str) -> Iterable[str]:
    raise AssertionError(f"resolver called for {host!r}; literal addresses need no DNS")


def fetch(
    cfg: FetchConfig, url: str, *, sleep: Callable[[float], Awaitable[None]] | None = None, **kw: Any
) -> Page:
    async def go() -> Page:
        async with Fetcher(cfg, sleep=sleep or SleepRecorder(), resolve=kw.pop("resolve", None)) as fetcher:
            return await fetcher.fetch(url, **kw)

    return run(go())


# --- success paths ---------------------------------------------------------------------------------


def test_fetch_html_page(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    page = fetch(fetch_config, fresh_server.url("/html?title=Plain"))
    assert page.status == 200
    assert page.content_type == "text/html"
    assert "<h1>Plain</h1>" in page.html
    assert page.encoding == "utf-8"
    assert page.final_url == page.url == fresh_server.url("/html?title=Plain")
    assert page.fetched_at.tzinfo is not None


def test_request_headers(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    fetch(fetch_config, fresh_server.url("/html"))
    (request,) = fresh_server.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["user-agent"] == fetch_config.user_agent
    assert headers["accept"].startswith("text/html")
    assert headers["accept-encoding"] == "gzip, deflate, br"


@pytest.mark.parametrize("route", ["/gzip", "/deflate", "/deflate-raw", "/br"])
def test_compressed_bodies_are_decoded(server: FixtureServer, fetch_config: FetchConfig, route: str) -> None:
    page = fetch(fetch_config, server.url(route))
    assert "page: a test page" in page.html
    assert page.html.startswith("<!DOCTYPE html>")


def test_static_fixture_file_is_served(server: FixtureServer, fetch_config: FetchConfig) -> None:
    page = fetch(fetch_config, server.url("/fetch/latin1.html"))
    assert "Café crème à Besançon" in page.html
    assert page.encoding == "cp1252"


def test_gbk_page_declared_gb2312_decodes_as_gb18030(
    server: FixtureServer, fetch_config: FetchConfig
) -> None:
    page = fetch(fetch_config, server.url("/gbk"))
    assert GBK_WORD in page.html
    assert page.encoding == "gb18030"


def test_gbk_page_declared_only_in_meta(server: FixtureServer, fetch_config: FetchConfig) -> None:
    page = fetch(fetch_config, server.url("/gbk?header=0"))
    assert GBK_WORD in page.html
    assert page.encoding == "gb18030"


def test_missing_content_type_is_sniffed(server: FixtureServer, fetch_config: FetchConfig) -> None:
    page = fetch(fetch_config, server.url("/no-content-type?kind=html"))
    assert "No type" in page.html
    with pytest.raises(SkippedContent, match="does not look like HTML"):
        fetch(fetch_config, server.url("/no-content-type?kind=text"))
    with pytest.raises(SkippedContent, match="PNG image"):
        fetch(fetch_config, server.url("/no-content-type?kind=binary"))


def test_own_client_is_closed_injected_client_is_not(
    server: FixtureServer, fetch_config: FetchConfig
) -> None:
    async def go() -> tuple[bool, bool]:
        injected = make_client(fetch_config)
        async with Fetcher(fetch_config, injected) as shared:
            await shared.fetch(server.url("/html"))
        owned = Fetcher(fetch_config)
        await owned.fetch(server.url("/html"))
        await owned.aclose()
        closed = (injected.is_closed, owned._client.is_closed)
        await injected.aclose()
        return closed

    assert run(go()) == (False, True)


# --- retries ---------------------------------------------------------------------------------------


def test_flaky_succeeds_on_third_attempt_with_zero_sleep(
    fresh_server: FixtureServer, fetch_config: FetchConfig
) -> None:
    sleep = SleepRecorder()
    page = fetch(fetch_config, fresh_server.url("/flaky/2?key=third"), sleep=sleep)
    assert "attempt 3" in page.html
    assert len(fresh_server.requests_to("/flaky/2")) == 3
    assert len(sleep.delays) == 2
    assert all(0 <= d <= fetch_config.max_backoff for d in sleep.delays)


def test_404_is_requested_once(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    with pytest.raises(FetchError) as info:
        fetch(fetch_config, fresh_server.url("/status/404"))
    assert info.value.status == 404
    assert info.value.attempts == 1
    assert len(fresh_server.requests_to("/status/404")) == 1
    assert str(info.value) == f"GET {fresh_server.url('/status/404')} failed: HTTP 404 after 1 attempt"


def test_503_fails_after_all_attempts(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    sleep = SleepRecorder()
    with pytest.raises(FetchError) as info:
        fetch(fetch_config, fresh_server.url("/status/503"), sleep=sleep)
    assert type(info.value) is FetchError
    assert info.value.status == 503
    assert info.value.attempts == 3
    assert "HTTP 503 after 3 attempts" in str(info.value)
    assert len(fresh_server.requests_to("/status/503")) == 3
    assert len(sleep.delays) == 2
    assert isinstance(info.value.__cause__, Exception)
    assert not isinstance(info.value.__cause__, httpx.HTTPError)


def test_retries_setting_is_obeyed(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    cfg = dataclasses.replace(fetch_config, retries=0)
    with pytest.raises(FetchError, match=r"after 1 attempt$"):
        fetch(cfg, fresh_server.url("/status/500"))
    assert len(fresh_server.requests_to("/status/500")) == 1


def test_retry_after_seconds_is_waited_for_real(
    fresh_server: FixtureServer, fetch_config: FetchConfig
) -> None:
    page = fetch(fetch_config, fresh_server.url("/retry-after/1?key=real"), sleep=asyncio.sleep)
    assert "After waiting" in page.html
    first, second = fresh_server.requests_to("/retry-after/1")
    assert second.time - first.time >= 1.0


def test_retry_after_http_date_is_used(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    sleep = SleepRecorder()
    fetch(fetch_config, fresh_server.url("/retry-after/3?key=date&date=1"), sleep=sleep)
    (delay,) = sleep.delays
    assert 1.0 <= delay <= 3.0  # an HTTP-date has one-second resolution


def test_retry_after_is_capped(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    sleep = SleepRecorder()
    cfg = dataclasses.replace(fetch_config, max_retry_after=2.5)
    fetch(cfg, fresh_server.url("/retry-after/3600?key=cap"), sleep=sleep)
    assert sleep.delays == [2.5]


def test_connection_refused_is_retried_then_wrapped(fetch_config: FetchConfig) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on: bind, note the port, close
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleep = SleepRecorder()
    with pytest.raises(FetchError) as info:
        fetch(fetch_config, f"http://127.0.0.1:{port}/", sleep=sleep)
    assert info.value.attempts == 3
    assert info.value.status is None
    assert "ConnectError" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_slow_server_hits_the_deadline(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    # fetch.deadline bounds the whole fetch: the first attempt uses it all, so there is no second.
    cfg = dataclasses.replace(fetch_config, deadline=0.5, retries=1)
    url = fresh_server.url("/slow?size=50&delay=0.2")
    started = asyncio.run(_timed(cfg, url))
    error, elapsed = started
    assert isinstance(error, FetchError)
    assert (
        str(error) == f"GET {url} failed: no complete response within fetch.deadline (0.5 s) after 1 attempt"
    )
    assert error.attempts == 1
    assert elapsed < 3.0
    assert len(fresh_server.requests_to("/slow")) == 1


def test_deadline_covers_all_attempts(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    # A dripping host used to cost (retries + 1) deadlines per URL; now one, however many retries.
    cfg = dataclasses.replace(fetch_config, deadline=0.6, retries=5)
    url = fresh_server.url("/slow?size=100&delay=0.2")
    with pytest.raises(FetchError) as info:
        fetch(cfg, url)
    assert info.value.attempts == 1
    assert "fetch.deadline (0.6 s) after 1 attempt" in str(info.value)
    assert len(fresh_server.requests_to("/slow")) == 1


def test_a_retry_gets_only_the_time_left(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    # The first attempt fails at once (503); the second drips and is cut at the same deadline,
    # and no third attempt starts, though retries allow four more.
    cfg = dataclasses.replace(fetch_config, deadline=0.8, retries=5)
    url = fresh_server.url("/flaky-slow/1?key=left&size=100&delay=0.2")
    sleep = SleepRecorder()
    with pytest.raises(FetchError) as info:
        fetch(cfg, url, sleep=sleep)
    assert str(info.value) == (
        f"GET {url} failed: no complete response within fetch.deadline (0.8 s) after 2 attempts"
    )
    assert info.value.attempts == 2
    assert len(sleep.delays) == 1
    assert len(fresh_server.requests_to("/flaky-slow/1")) == 2


def test_no_wait_starts_past_the_deadline(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    # Retry-After 5 s with 2 s of deadline left: give up now with the real reason, do not sleep.
    cfg = dataclasses.replace(fetch_config, deadline=2.0, max_retry_after=5.0)
    url = fresh_server.url("/retry-after/5?key=past")
    sleep = SleepRecorder()
    with pytest.raises(FetchError) as info:
        fetch(cfg, url, sleep=sleep)
    assert str(info.value) == f"GET {url} failed: HTTP 429 after 1 attempt"
    assert sleep.delays == []
    assert len(fresh_server.requests_to("/retry-after/5")) == 1


async def _timed(cfg: FetchConfig, url: str) -> tuple[BaseException | None, float]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        async with Fetcher(cfg, sleep=SleepRecorder()) as fetcher:
            await fetcher.fetch(url)
    except FetchError as exc:
        return exc, loop.time() - start
    return None, loop.time() - start


# --- is_retryable and parse_retry_after --------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (httpx.RemoteProtocolError("bad"), True),
        (httpx.UnsupportedProtocol("ftp"), False),
        (BlockedAddress("http://x/", "refused"), False),
        (SkippedContent("http://x/", "skipped"), False),
        (FetchError("http://x/", "failed"), False),
        (ValueError("bug"), False),
    ],
)
def test_is_retryable(exc: BaseException, expected: bool) -> None:
    assert is_retryable(exc) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [(408, True), (429, True), (500, True), (502, True), (503, True), (504, True),
     (400, False), (403, False), (404, False), (410, False), (501, False), (505, False)],
)  # fmt: skip
def test_is_retryable_statuses(status: int, expected: bool) -> None:
    from scraper.fetch import _BadStatus

    assert is_retryable(_BadStatus("http://x/", status)) is expected


def test_parse_retry_after() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=90), usegmt=True)
    earlier = email.utils.format_datetime(now - dt.timedelta(seconds=90), usegmt=True)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(" 0 ", now) == 0.0
    assert parse_retry_after(later, now) == 90.0
    assert parse_retry_after(earlier, now) == 0.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 -0000", now) == 30.0
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("", now) is None
    assert parse_retry_after("-5", now) is None
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("1.5", now) is None


@pytest.mark.parametrize(
    "value",
    ["²", "\u0663", "\u0661\u0662", "1e9", "-1", "+5", "0x10", "inf", "nan", "1_000", "\x00",
     "9" * 5000, "Thu, 01 Jan 99999 12:00:00 GMT", "Thu, 01 Jan 2026 12:00:00 +9999",
     "Mon, 32 Foo 2020 25:61:61 GMT", "Fri, 31 Dec 9999 23:59:59 -2359", "\ufffd\ufffd"],
)  # fmt: skip
def test_parse_retry_after_odd_values_never_raise(value: str) -> None:
    delay = parse_retry_after(value)
    assert delay is None or 0.0 <= delay <= MAX_RETRY_AFTER_SECONDS


@given(st.text())
def test_parse_retry_after_any_text_is_none_or_a_sane_delay(value: str) -> None:
    delay = parse_retry_after(value)
    assert delay is None or 0.0 <= delay <= MAX_RETRY_AFTER_SECONDS


@pytest.mark.parametrize("code", [503, 429])
def test_retry_after_superscript_byte_is_ignored(
    fresh_server: FixtureServer, fetch_config: FetchConfig, code: int
) -> None:
    # "Retry-After: \xb2": one latin-1 byte, "²", for which str.isdigit() is true but float() raises.
    sleep = SleepRecorder()
    url = fresh_server.url(f"/retry-after-raw?hex=b2&status={code}")
    with pytest.raises(FetchError) as info:
        fetch(fetch_config, url, sleep=sleep)
    assert str(info.value) == f"GET {url} failed: HTTP {code} after 3 attempts"
    assert info.value.status == code
    assert len(fresh_server.requests_to("/retry-after-raw")) == 3
    assert all(0 <= d <= fetch_config.max_backoff for d in sleep.delays)  # backoff, not Retry-After


# --- redirects -------------------------------------------------------------------------------------


def test_redirect_chain_is_followed(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    page = fetch(fetch_config, fresh_server.url("/redirect/3"))
    assert "End of the redirect chain" in page.html
    assert page.url == fresh_server.url("/redirect/3")
    assert page.final_url == fresh_server.url("/redirect/0?code=302")
    assert [r.route for r in fresh_server.requests] == [
        "/redirect/3",
        "/redirect/2",
        "/redirect/1",
        "/redirect/0",
    ]


def test_redirect_to_absolute_url(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    target = fresh_server.url("/html?title=Target")
    page = fetch(fetch_config, fresh_server.url(f"/redirect-to?code=301&url={target}"))
    assert page.final_url == target
    assert "Target" in page.html


def test_too_many_redirects(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    cfg = dataclasses.replace(fetch_config, max_redirects=2)
    with pytest.raises(FetchError, match=r"more than 2 redirects") as info:
        fetch(cfg, fresh_server.url("/redirect/3"))
    assert info.value.attempts == 1
    assert len(fresh_server.requests) == 3
    fetch(cfg, fresh_server.url("/redirect/2"))  # exactly max_redirects hops is fine


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("ftp://127.0.0.1/file", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("http://[::1/broken", "not a valid URL|bad Location"),
    ],
)
def test_redirect_to_bad_target_is_refused(
    fresh_server: FixtureServer, fetch_config: FetchConfig, target: str, reason: str
) -> None:
    with pytest.raises(FetchError, match=reason) as info:
        fetch(fetch_config, fresh_server.url(f"/redirect-to?url={target}"))
    assert info.value.attempts == 1
    assert len(fresh_server.requests) == 1


def test_redirect_bodies_are_not_read(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    # The 302 carries a 64 MiB body; the fetcher must hang up instead of reading it.
    page = fetch(fetch_config, fresh_server.url("/redirect-heavy"))
    assert "Light" in page.html
    for _ in range(100):
        if fresh_server.notes:
            break
        time.sleep(0.05)
    assert fresh_server.notes == ["redirect-heavy: aborted"]


# --- address checks ---------------------------------------------------------------------------------


def test_loopback_refused_without_allow_private(
    fresh_server: FixtureServer, fetch_config: FetchConfig
) -> None:
    cfg = dataclasses.replace(fetch_config, allow_private_addresses=False)
    url = fresh_server.url("/html")
    with pytest.raises(BlockedAddress) as info:
        fetch(cfg, url, resolve=_no_dns)
    assert str(info.value) == (
        f"refused {url}: 127.0.0.1 is a loopback address; "
        "set fetch.allow_private_addresses or pass --allow-private to allow it"
    )
    assert info.value.url == url
    assert fresh_server.requests == []


def test_localhost_name_refused_after_resolving(
    fresh_server: FixtureServer, fetch_config: FetchConfig
) -> None:
    cfg = dataclasses.replace(fetch_config, allow_private_addresses=False)
    url = f"http://localhost:{fresh_server.port}/html"
    with pytest.raises(BlockedAddress, match=r"localhost resolves to (127\.0\.0\.1|::1), a loopback address"):
        fetch(cfg, url)  # the real resolver: /etc/hosts answers, no network
    assert fresh_server.requests == []


@pytest.mark.parametrize(
    "host",
    ["127.1", "2130706433", "0x7f000001", "0177.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "10.0.0.1",
     "169.254.169.254", "100.64.0.1", "0.0.0.0", "127.0.0.1.", "[::]", "192.168.1.1", "172.16.0.1"],
)  # fmt: skip
def test_address_spellings_refused_without_dns(
    fresh_server: FixtureServer, fetch_config: FetchConfig, host: str
) -> None:
    cfg = dataclasses.replace(fetch_config, allow_private_addresses=False)
    with pytest.raises(BlockedAddress, match=r"set fetch\.allow_private_addresses"):
        fetch(cfg, f"http://{host}:{fresh_server.port}/html", resolve=_no_dns)
    assert fresh_server.requests == []


def test_redirect_hop_to_loopback_is_refused(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    # public.test resolves (by our fake resolver) to a public address, so the first hop passes
    # the check; the hop it redirects to is loopback and must be refused before connecting.
    async def resolve(host: str) -> list[str]:
        return {"public.test": ["93.184.216.34"]}.get(host, ["127.0.0.1"])

    run(check_address("http://public.test/", resolve))
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1 is a loopback address"):
        run(check_address(fresh_server.url("/html"), resolve))
    with pytest.raises(BlockedAddress, match=r"internal\.test resolves to 127\.0\.0\.1"):
        run(check_address("http://internal.test/", resolve))


def test_redirect_from_allowed_host_to_blocked_host(
    fresh_server: FixtureServer, fetch_config: FetchConfig
) -> None:
    # A whole fetch through the checked transport: a hostname mapped to the server is allowed only
    # as long as allow_private is on; the redirect goes to a literal 10.x hop, which stays refused.
    cfg = dataclasses.replace(fetch_config, allow_private_addresses=False)
    public = "93.184.216.34"

    async def resolve(host: str) -> list[str]:
        return [public]

    # check_address passes public.test; the transport then refuses to connect anywhere but public,
    # and the socket guard in conftest would fail the test if it tried. We only assert the hop check.
    url = "http://public.test/redirect-to?url=http://10.0.0.1/"
    run(check_address(url, resolve))
    with pytest.raises(BlockedAddress, match=r"10\.0\.0\.1 is a private address"):
        run(check_address("http://10.0.0.1/", resolve))
    assert cfg.allow_private_addresses is False


def test_any_non_public_address_blocks(fetch_config: FetchConfig) -> None:
    async def resolve(host: str) -> list[str]:
        return ["93.184.216.34", "10.1.2.3"]

    with pytest.raises(BlockedAddress, match=r"multi\.test resolves to 10\.1\.2\.3, a private address"):
        run(check_address("http://multi.test/", resolve))


def test_dns_rebinding_is_refused(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    # The first lookup (the check) says public, the second (the connection) says loopback.
    cfg = dataclasses.replace(fetch_config, allow_private_addresses=False)
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    async def resolve(host: str) -> list[str]:
        return next(answers)

    with pytest.raises(BlockedAddress, match=r"rebind\.test resolves to 127\.0\.0\.1, a loopback address"):
        fetch(cfg, f"http://rebind.test:{fresh_server.port}/html", resolve=resolve)
    assert fresh_server.requests == []


def test_hostnames_connect_to_the_resolved_address(
    fresh_server: FixtureServer, fetch_config: FetchConfig
) -> None:
    # With private addresses allowed, the transport still connects to the address the resolver gave.
    async def resolve(host: str) -> list[str]:
        return ["127.0.0.1"]

    page = fetch(fetch_config, f"http://news.test:{fresh_server.port}/html?title=Named", resolve=resolve)
    assert "Named" in page.html
    (request,) = fresh_server.requests
    assert request.headers["Host"] == f"news.test:{fresh_server.port}"


def test_unresolvable_host_is_a_fetch_error(fetch_config: FetchConfig) -> None:
    cfg = dataclasses.replace(fetch_config, allow_private_addresses=False, retries=1)

    async def resolve(host: str) -> list[str]:
        raise OSError(f"no such host {host}")

    with pytest.raises(FetchError, match=r"cannot resolve nowhere\.test.*after 2 attempts") as info:
        fetch(cfg, "http://nowhere.test/", resolve=resolve)
    assert not isinstance(info.value, BlockedAddress)


def test_a_host_name_that_does_not_exist_is_not_retried(fetch_config: FetchConfig) -> None:
    # Before: a name DNS does not know was asked three times (seconds each without network).
    cfg = dataclasses.replace(fetch_config, allow_private_addresses=False, retries=2)
    asked: list[str] = []

    async def resolve(host: str) -> list[str]:
        asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(FetchError, match=r"cannot resolve nowhere\.test: .*; check the host name") as info:
        fetch(cfg, "http://nowhere.test/", resolve=resolve)
    assert asked == ["nowhere.test"]
    assert info.value.attempts == 1
    assert reason_kind(info.value) == "DNS"


def test_a_dns_server_that_does_not_answer_is_retried(fetch_config: FetchConfig) -> None:
    cfg = dataclasses.replace(fetch_config, allow_private_addresses=False, retries=1)
    asked: list[str] = []

    async def resolve(host: str) -> list[str]:
        asked.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    with pytest.raises(FetchError, match="after 2 attempts"):
        fetch(cfg, "http://nowhere.test/", resolve=resolve)
    assert asked == ["nowhere.test", "nowhere.test"]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "mailto:a@b.c", "http:///nohost"]
)
def test_non_http_urls_are_refused(fetch_config: FetchConfig, url: str) -> None:
    with pytest.raises(FetchError, match="refused") as info:
        fetch(fetch_config, url, resolve=_no_dns)
    assert info.value.attempts == 1


# --- URL validation before any network ----------------------------------------------------------------


class RecordingResolver:
    """A resolver that remembers every host it is asked for and answers 127.0.0.1."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def __call__(self, host: str) -> list[str]:
        self.hosts.append(host)
        return ["127.0.0.1"]


@pytest.mark.parametrize("allow_private", [True, False])
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://exa mple.test/", "a space at position 10"),
        ("http://example.test/a b", "a space at position 21"),
        ("http://example.test/caf\udce9", "a byte that is not UTF-8"),  # a non-UTF-8 stdin line
        ("http://example.test/\x00", "the control character \\x00"),
        ("http://example.test:65536/", "port 65536 is out of range"),
        ("http://example.test:-1/", "port '-1' is not a number"),
        ("http://a..b/", "empty label"),
        ("http://xn--/", "malformed IDNA label"),
        ("http://" + "a" * 64 + ".test/", "a label of 64 characters"),
        ("http://10.0.0.1:99999/", "port 99999 is out of range"),  # invalid before it is private
    ],
)
def test_invalid_urls_are_refused_before_any_network(
    fresh_server: FixtureServer, fetch_config: FetchConfig, url: str, reason: str, allow_private: bool
) -> None:
    cfg = dataclasses.replace(fetch_config, allow_private_addresses=allow_private)
    resolver = RecordingResolver()
    sleep = SleepRecorder()
    with pytest.raises(InvalidURL) as info:
        fetch(cfg, url, resolve=resolver, sleep=sleep)
    assert reason in str(info.value)
    assert str(info.value).startswith("refused ")
    assert str(info.value).isprintable()
    assert info.value.url == url
    assert info.value.status is None
    assert info.value.attempts == 1
    assert resolver.hosts == []  # no DNS, not even once
    assert sleep.delays == []  # never retried
    assert not is_retryable(info.value)


_BAD_TARGETS = [
    ("http://127.0.0.1:65536/", "port 65536 is out of range"),
    ("http://127.0.0.1:99999/", "port 99999 is out of range"),
    ("http://127.0.0.1:-1/", "port '-1' is not a number"),
    ("http://a..b/", "host 'a..b' has an empty label"),
    ("http://xn--/", "malformed IDNA label 'xn--'"),
    ("http://" + "a" * 64 + ".test/", "a label of 64 characters; DNS allows at most 63"),
    ("http://a b/", "host 'a%20b' contains '%'"),
]


def test_redirect_with_a_space_in_its_path_is_followed_encoded(
    fresh_server: FixtureServer, fetch_config: FetchConfig
) -> None:
    # Browsers percent-encode a space in a Location; refusing it would lose real pages.
    url = fresh_server.url("/redirect-to?url=" + quote("/html?title=a b", safe=""))
    page = fetch(fetch_config, url)
    assert page.final_url.endswith("/html?title=a%20b")
    assert "<title>a b</title>" in page.html


@pytest.mark.parametrize(("target", "reason"), _BAD_TARGETS)
def test_redirect_to_an_invalid_url_is_a_fetch_error(
    fresh_server: FixtureServer, fetch_config: FetchConfig, target: str, reason: str
) -> None:
    # Before: OverflowError (port), UnicodeError/IDNAError (hosts) or UnicodeEncodeError escaped httpx.
    url = fresh_server.url("/redirect-to?url=" + quote(target, safe=""))
    resolver = RecordingResolver()
    with pytest.raises(InvalidURL) as info:
        fetch(fetch_config, url, resolve=resolver)
    message = str(info.value)
    assert message.startswith(f"GET {url} failed: it redirects to ")
    assert reason in message
    assert message.isprintable()
    assert info.value.url == url
    assert info.value.attempts == 1
    assert len(fresh_server.requests) == 1
    assert resolver.hosts == []


@pytest.mark.parametrize(("target", "reason"), _BAD_TARGETS[:6])
def test_redirect_of_robots_or_sitemap_to_an_invalid_url(
    fresh_server: FixtureServer, fetch_config: FetchConfig, target: str, reason: str
) -> None:
    # fetch_bytes serves robots.txt, sitemaps and feeds: the same checks apply.
    url = fresh_server.url("/redirect-to?url=" + quote(target, safe=""))

    async def go() -> None:
        async with Fetcher(fetch_config, sleep=SleepRecorder()) as fetcher:
            await fetcher.fetch_bytes(url, accept="text/plain")

    with pytest.raises(InvalidURL, match=re.escape(reason)):
        run(go())
    assert len(fresh_server.requests) == 1


def test_refused_addresses_still_refused_after_validation(
    fresh_server: FixtureServer, fetch_config: FetchConfig
) -> None:
    cfg = dataclasses.replace(fetch_config, allow_private_addresses=False)
    with pytest.raises(BlockedAddress, match=r"10\.0\.0\.1 is a private address"):
        fetch(cfg, "http://10.0.0.1:8080/", resolve=_no_dns)
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1 is a loopback address"):
        fetch(cfg, fresh_server.url("/html"), resolve=_no_dns)
    with pytest.raises(BlockedAddress, match=r"rebind\.test resolves to 127\.0\.0\.1"):
        fetch(cfg, f"http://rebind.test:{fresh_server.port}/html", resolve=RecordingResolver())
    assert fresh_server.requests == []


@pytest.mark.parametrize("allow_private", [True, False])
@pytest.mark.parametrize(
    "error", [UnicodeError("label too long"), ValueError("embedded null byte"), OverflowError("port")]
)
def test_library_errors_while_resolving_become_fetch_errors(
    fresh_server: FixtureServer, fetch_config: FetchConfig, error: Exception, allow_private: bool
) -> None:
    # getaddrinfo's IDNA codec raises UnicodeError for names it cannot encode; the connection path
    # (allow_private) and the address check (not allow_private) both end in one FetchError.
    cfg = dataclasses.replace(fetch_config, allow_private_addresses=allow_private)

    async def resolve(host: str) -> list[str]:
        raise error

    url = f"http://odd.test:{fresh_server.port}/html"
    with pytest.raises(FetchError) as info:
        fetch(cfg, url, resolve=resolve)
    assert info.value.__cause__ is error
    assert str(info.value).startswith(f"refused {url}: ")
    assert type(error).__name__ in str(info.value)
    assert info.value.attempts == 1
    assert fresh_server.requests == []


# --- fetch.headers, fetch.cookies, fetch.proxy -------------------------------------------------------

_EXTRAS = {
    "headers": (("X-Scraper-Test", "yes"), ("Accept-Language", "fr-CH")),
    "cookies": (("session", "abc123"), ("consent", "1")),
}


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_config_headers_and_cookies_are_sent(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    cfg = dataclasses.replace(fetch_config, **_EXTRAS)

    async def go() -> None:
        async with Fetcher(cfg, sleep=SleepRecorder()) as own:
            await own.fetch(fresh_server.url("/html"))
            await own.fetch_bytes(fresh_server.url("/robots.txt"), accept="text/plain")
        async with make_client(fetch_config) as client:  # a run's shared client, made without them
            await Fetcher(cfg, client).fetch(fresh_server.url("/html"))

    run(go())
    assert len(fresh_server.requests) == 3
    for request in fresh_server.requests:
        headers = _lower(request.headers)
        assert headers["x-scraper-test"] == "yes"
        assert headers["accept-language"] == "fr-CH"
        assert headers["cookie"] == "session=abc123; consent=1"
        assert headers["user-agent"] == cfg.user_agent
    assert _lower(fresh_server.requests[1].headers)["accept"] == "text/plain"


def test_config_header_replaces_a_default(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    cfg = dataclasses.replace(fetch_config, headers=(("accept", "text/html"),))
    fetch(cfg, fresh_server.url("/html"))
    (request,) = fresh_server.requests
    assert [v for k, v in request.headers.items() if k.lower() == "accept"] == ["text/html"]


def test_cookies_stay_on_the_site_they_were_set_for(
    fresh_server: FixtureServer, fetch_config: FetchConfig
) -> None:
    # A redirect to another site must not carry the source's session cookie or custom headers.
    cfg = dataclasses.replace(fetch_config, **_EXTRAS)
    target = f"http://elsewhere.test:{fresh_server.port}/html?title=Elsewhere"
    page = fetch(
        cfg, fresh_server.url("/redirect-to?url=" + quote(target, safe="")), resolve=RecordingResolver()
    )
    assert "Elsewhere" in page.html
    first, second = (_lower(r.headers) for r in fresh_server.requests)
    assert first["cookie"] == "session=abc123; consent=1"
    assert "cookie" not in second
    assert "x-scraper-test" not in second
    assert second["user-agent"] == cfg.user_agent


@pytest.mark.parametrize(
    ("field", "pairs", "message"),
    [
        ("headers", (("X-Evil", "a\r\nSet-Cookie: x=1"),), "fetch.headers.X-Evil: the value"),
        ("headers", (("X Bad", "1"),), "fetch.headers: 'X Bad' is not a valid name"),
        ("headers", (("X-Name", "Caf\u00e9"),), "printable ASCII"),
        ("cookies", (("session", "a; admin=1"),), "fetch.cookies.session: the value"),
    ],
)
def test_bad_header_or_cookie_is_a_config_error(
    fresh_server: FixtureServer, fetch_config: FetchConfig, field: str, pairs: Any, message: str
) -> None:
    cfg = dataclasses.replace(fetch_config, **{field: pairs})
    with pytest.raises(ConfigError, match=re.escape(message)):
        fetch(cfg, fresh_server.url("/html"))
    assert fresh_server.requests == []


def test_requests_go_through_the_proxy(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    # The fixture server is the proxy: it receives absolute-form request lines and serves them.
    cfg = dataclasses.replace(fetch_config, proxy=fresh_server.base_url, **_EXTRAS)
    page = fetch(cfg, "http://news.test/html?title=Proxied", resolve=_no_dns)
    assert "Proxied" in page.html
    (request,) = fresh_server.requests
    assert request.path == "http://news.test/html?title=Proxied"
    assert _lower(request.headers)["host"] == "news.test"
    assert _lower(request.headers)["cookie"] == "session=abc123; consent=1"


def test_proxy_still_checks_the_target_address(
    fresh_server: FixtureServer, fetch_config: FetchConfig
) -> None:
    # The proxy itself is on loopback (the operator chose it); the targets are still checked.
    cfg = dataclasses.replace(fetch_config, proxy=fresh_server.base_url, allow_private_addresses=False)

    async def resolve(host: str) -> list[str]:
        return {"public.test": ["93.184.216.34"]}.get(host, ["10.0.0.7"])

    page = fetch(cfg, "http://public.test/html?title=Public", resolve=resolve)
    assert "Public" in page.html
    with pytest.raises(BlockedAddress, match=r"internal\.test resolves to 10\.0\.0\.7"):
        fetch(cfg, "http://internal.test/html", resolve=resolve)
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1 is a loopback address"):
        fetch(cfg, "http://127.0.0.1/html", resolve=resolve)
    assert [r.path for r in fresh_server.requests] == ["http://public.test/html?title=Public"]


@pytest.mark.parametrize("proxy", ["ftp://127.0.0.1:21", "socks5://127.0.0.1:1080", "127.0.0.1:3128"])
def test_proxy_must_be_http(fetch_config: FetchConfig, proxy: str) -> None:
    with pytest.raises(ConfigError, match=r"fetch\.proxy must be an http:// or https:// URL"):
        make_client(dataclasses.replace(fetch_config, proxy=proxy))


# --- content checks and caps -------------------------------------------------------------------------


def test_body_over_max_bytes_is_skipped(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    cfg = dataclasses.replace(fetch_config, max_bytes=64 * 1024)
    with pytest.raises(SkippedContent) as info:
        fetch(cfg, fresh_server.url("/big?size=200000"))
    assert (
        str(info.value)
        == "body is larger than fetch.max_bytes (65536 bytes); raise fetch.max_bytes to keep it"
    )
    assert info.value.url == fresh_server.url("/big?size=200000")
    assert len(fresh_server.requests) == 1  # not retried
    page = fetch(cfg, fresh_server.url("/big?size=65536"))  # exactly at the cap is kept
    assert len(page.html) == 65536


@pytest.mark.parametrize("route", ["/gzip-bomb", "/brotli-bomb"])
def test_compression_bombs_stop_at_the_cap(
    server: FixtureServer, fetch_config: FetchConfig, route: str
) -> None:
    cfg = dataclasses.replace(fetch_config, max_bytes=1024 * 1024)
    gc.collect()
    tracemalloc.start()
    try:
        with pytest.raises(SkippedContent, match=r"larger than fetch\.max_bytes"):
            fetch(cfg, server.url(route))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * cfg.max_bytes, f"peak {peak} bytes while decoding {route}"


def test_png_served_as_html_is_skipped(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    with pytest.raises(SkippedContent, match="served as text/html but the body is a PNG image"):
        fetch(fetch_config, fresh_server.url("/png-as-html"))
    assert len(fresh_server.requests) == 1


def test_non_html_content_type_is_skipped(fetch_config: FetchConfig, server: FixtureServer) -> None:
    with pytest.raises(SkippedContent, match="content type application/pdf is not HTML"):
        fetch(fetch_config, server.url("/pdf"))
    with pytest.raises(SkippedContent, match="content type text/plain is not HTML"):
        fetch(fetch_config, server.url("/fetch/notes.txt"))


def test_empty_body_is_skipped(fetch_config: FetchConfig, server: FixtureServer) -> None:
    with pytest.raises(SkippedContent, match="body is empty"):
        fetch(fetch_config, server.url("/status/204"))


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ("/pdf", "content type application/pdf is not HTML"),
        ("/png-as-html", "served as text/html but the body is a PNG image"),
        ("/status/204", "the body is empty"),
        ("/no-content-type?kind=text", "no Content-Type and the body does not look like HTML"),
        (
            "/big?size=2000000",
            "body is larger than fetch.max_bytes (1048576 bytes); raise fetch.max_bytes to keep it",
        ),
    ],
)
def test_skip_messages_are_reasons(
    server: FixtureServer, fetch_config: FetchConfig, route: str, reason: str
) -> None:
    # The pipeline prints "skipped <url>  <message>": a message that began "skipped <url>:" read
    # "skipped URL  skipped URL: ..." (issue 9). The message is the reason alone; .url has the URL.
    cfg = dataclasses.replace(fetch_config, max_bytes=1024 * 1024)
    with pytest.raises(SkippedContent) as info:
        fetch(cfg, server.url(route))
    assert str(info.value).startswith(reason)
    assert info.value.url == server.url(route)


@pytest.mark.parametrize(
    ("head", "found"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"GIF89a\x01\x00", "GIF"),
        (b"%PDF-1.7\n", "PDF"),
        (b"PK\x03\x04\x14\x00", "ZIP"),
        (b"\x1f\x8b\x08\x00\x00", "gzip"),
        (b"\x00\x00\x00\x18ftypmp42", "MP4"),
        (bytes(range(32)) * 8, "control bytes"),
    ],
)
def test_sniff_binary_finds_binary(head: bytes, found: str) -> None:
    assert found in (sniff_binary(head) or "")


@pytest.mark.parametrize(
    "head",
    [
        b"<!DOCTYPE html><html>",
        "<html><body>中文 текст</body></html>".encode(),
        "<p>Grüße</p>".encode("cp1252"),
        "\ufeff<html>".encode("utf-16-le"),
        b"\x1b$B<html>\x1b(B",  # ISO-2022-JP escapes
        b"",
    ],
)
def test_sniff_binary_lets_text_through(head: bytes) -> None:
    assert sniff_binary(head) is None


@pytest.mark.parametrize(
    ("codec", "charset", "bom"),
    [
        ("utf-16-be", "utf-16be", "0"),  # the case: declared in the header, no BOM
        ("utf-16-le", "utf-16le", "0"),
        ("utf-16-be", "utf-16", "0"),  # no byte order in the label: the first byte tells
        ("utf-16-le", "UTF-16", "0"),
        ("utf-32-be", "utf-32be", "0"),
        ("utf-32-le", "utf-32", "0"),
        ("utf-16-be", "utf-16be", "1"),
        ("utf-32-le", "utf-32le", "1"),
    ],
)
def test_utf16_and_utf32_declared_in_the_header_are_decoded(
    fresh_server: FixtureServer, fetch_config: FetchConfig, codec: str, charset: str, bom: str
) -> None:
    page = fetch(fetch_config, fresh_server.url(f"/wide?codec={codec}&charset={charset}&bom={bom}"))
    assert WIDE_TEXT in page.html
    assert "<h1>Wide</h1>" in page.html
    assert "\x00" not in page.html
    assert not page.html.startswith("\ufeff")
    assert page.encoding == codec


def test_body_that_does_not_decode_as_declared_utf16_stays_binary(
    fresh_server: FixtureServer, fetch_config: FetchConfig
) -> None:
    with pytest.raises(SkippedContent, match="binary data"):
        fetch(fetch_config, fresh_server.url("/wide?kind=garbage&charset=utf-16be"))


def test_png_declared_utf16_stays_a_png(server: FixtureServer) -> None:
    assert sniff_binary(server.png, "utf-16-be") == "a PNG image"
    controls = "\x01\x02\x03\x04".encode("utf-16-le") * 64  # decodes, but to control characters
    assert sniff_binary(controls, "utf-16-le") == "binary data (256 control characters in the first 256)"


# --- conditional requests ----------------------------------------------------------------------------


def test_etag_round_trip(fresh_server: FixtureServer, fetch_config: FetchConfig) -> None:
    first = fetch(fetch_config, fresh_server.url("/etag"))
    assert first.status == 200
    assert first.etag == ETAG
    assert first.last_modified is not None
    again = fetch(fetch_config, fresh_server.url("/etag"), etag=first.etag)
    assert again.status == 304
    assert again.html == ""
    assert again.etag == ETAG
    by_date = fetch(fetch_config, fresh_server.url("/etag"), last_modified=first.last_modified)
    assert by_date.status == 304
    sent = [r.headers for r in fresh_server.requests_to("/etag")]
    assert "If-None-Match" not in sent[0]
    assert sent[1]["If-None-Match"] == ETAG
    assert sent[2]["If-Modified-Since"] == first.last_modified
