"""Addresses and connections for the fetch stage: resolve, check, connect only to what was checked.

Input: URLs and host names. Output: BlockedAddress for non-public hosts, and make_client(), the
httpx client a run shares. Settings: fetch.allow_private_addresses, timeouts, user_agent.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from ..config import FetchConfig
from ..errors import BlockedAddress, ConfigError
from ..urls import IPAddress, address_kind, parse_host_address

Resolver = Callable[[str], Awaitable[Iterable[str]]]
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
ACCEPT_ENCODING = "gzip, deflate, br"
# RFC 9110 5.6.2 token (header and cookie names), field values (visible ASCII, space, tab) and
# RFC 6265 cookie values (no space, quote, comma, semicolon or backslash).
_TOKEN_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE_RE = re.compile(r"[\x20-\x7e\t]*")
_COOKIE_VALUE_RE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_LOCATION = "x-scraper-location"  # where _hide_location keeps a redirect's Location header


class _Refused(Exception):
    """A host resolves to a non-public address; raised inside the transport, turned into BlockedAddress."""


async def resolve_host(host: str) -> list[str]:
    """The addresses a host name resolves to, through the event loop's getaddrinfo."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def _checked_addresses(host: str, resolve: Resolver, *, allow_private: bool) -> list[IPAddress]:
    """The addresses of a host, literal or resolved; raises _Refused when one is not public."""
    literal = parse_host_address(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        addresses = [ipaddress.ip_address(str(a).split("%", 1)[0]) for a in await resolve(host)]
        if not addresses:
            raise OSError(f"{host} resolves to no address")
    if not allow_private:
        for ip in addresses:
            kind = address_kind(ip)
            if kind is not None:
                if literal is None:
                    raise _Refused(f"{host} resolves to {ip}, {kind}")
                raise _Refused(f"{host} is {kind}" + ("" if host.strip("[]") == str(ip) else f" ({ip})"))
    return addresses


async def check_address(url: str, resolve: Resolver = resolve_host) -> None:
    """Refuse a URL whose host is, or resolves to, any non-public address (any IP spelling counts).

    Raises:
        BlockedAddress: the host is loopback, private, link-local, CGNAT, multicast, reserved...
        OSError: the host name cannot be resolved.
    """
    host = urlsplit(url).hostname or ""
    try:
        await _checked_addresses(host, resolve, allow_private=False)
    except _Refused as exc:
        raise _blocked(url, str(exc)) from None


def _blocked(url: str, reason: str) -> BlockedAddress:
    return BlockedAddress(
        url,
        f"refused {url}: {reason}; set fetch.allow_private_addresses or pass --allow-private to allow it",
    )


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host itself and connects only to addresses it has just checked.

    Checking a name and then letting the OS resolve it again leaves a DNS-rebinding gap: the second
    answer may be 127.0.0.1. Connecting to the checked IP closes it; TLS still verifies the host
    name, because httpcore passes the origin host as server_hostname.
    """

    def __init__(self, resolve: Resolver, *, allow_private: bool) -> None:
        self._resolve = resolve
        self._allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()  # the fetcher runs on asyncio; httpx depends on anyio

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first reachable checked address of host."""
        try:
            addresses = await _checked_addresses(host, self._resolve, allow_private=self._allow_private)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        error: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        """Unix sockets are never used for fetching."""
        raise httpcore.ConnectError(f"refusing to connect to the unix socket {path}")

    async def sleep(self, seconds: float) -> None:
        """Sleep on the running event loop."""
        await self._inner.sleep(seconds)


class _CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool that uses _CheckedBackend, or through a proxy.

    With fetch.proxy set, every connection goes to the proxy, which the operator chose, so httpx's
    own proxy pool is kept: the proxy may sit on a private address, and it resolves the target
    itself. The target host is still checked (Fetcher._check_hop) before each request.
    """

    def __init__(self, resolve: Resolver, *, allow_private: bool, proxy: str | None = None) -> None:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        if proxy:
            super().__init__(proxy=proxy, limits=limits)
            return
        super().__init__()
        # httpx takes no network backend, so swap in a pool built like its own but with ours;
        # test_fetch.py::test_dns_rebinding_is_refused fails if an httpx upgrade bypasses it.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_CheckedBackend(resolve, allow_private=allow_private),
        )


async def _hide_location(response: httpx.Response) -> None:
    """Move Location aside so httpx does not parse it: redirects are followed (and checked) here.

    Even with follow_redirects=False httpx builds the next request from Location, and a
    "javascript:..." or malformed value raises InvalidURL / RemoteProtocolError before we see it.
    """
    if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
        response.headers[_LOCATION] = response.headers["location"]
        del response.headers["location"]


def _install_location_hook(client: httpx.AsyncClient) -> None:
    hooks = client.event_hooks
    if _hide_location not in hooks["response"]:
        client.event_hooks = {**hooks, "response": [*hooks["response"], _hide_location]}


def make_client(cfg: FetchConfig, *, resolve: Resolver | None = None) -> httpx.AsyncClient:
    """The httpx client to share across a run: checked connections (or fetch.proxy), no redirects.

    Raises:
        ConfigError: fetch.proxy is not an http:// or https:// URL with a host.
    """
    _check_proxy(cfg.proxy)
    transport = _CheckedTransport(
        resolve or resolve_host, allow_private=cfg.allow_private_addresses, proxy=cfg.proxy
    )
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(cfg.timeout, connect=cfg.connect_timeout),
        headers=_default_headers(cfg),
    )


def _default_headers(cfg: FetchConfig) -> dict[str, str]:
    return {"User-Agent": cfg.user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}


def site_headers(cfg: FetchConfig) -> dict[str, str]:
    """fetch.headers plus fetch.cookies as one Cookie header: sent only to the site a fetch began on.

    Raises:
        ConfigError: a name is not an HTTP token, or a value is not printable ASCII (a CR or LF
            would start a header of its own; httpx cannot encode the rest).
    """
    for name, value in cfg.headers:
        _check_pair("fetch.headers", name, value, _HEADER_VALUE_RE)
    for name, value in cfg.cookies:
        _check_pair("fetch.cookies", name, value, _COOKIE_VALUE_RE)
    headers = dict(cfg.headers)
    if cfg.cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cfg.cookies)
    return headers


def _check_pair(key: str, name: str, value: str, value_re: re.Pattern[str]) -> None:
    if not _TOKEN_RE.fullmatch(name):
        raise ConfigError(f"{key}: {name!r} is not a valid name; use letters, digits and - _ . only")
    if not value_re.fullmatch(value):
        raise ConfigError(
            f"{key}.{name}: the value {value!r} has characters a request cannot carry; "
            "use printable ASCII (percent-encode the rest)"
        )


def _check_proxy(proxy: str | None) -> None:
    if not proxy:
        return
    parts = urlsplit(proxy)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"fetch.proxy must be an http:// or https:// URL such as http://127.0.0.1:3128, got {proxy!r}"
        )
