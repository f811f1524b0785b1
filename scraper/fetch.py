"""Fetch stage: URL -> Page (decoded HTML), or a FetchError.

Input: an http(s) URL, plus the ETag / Last-Modified of an earlier fetch. Output: a Page whose html
is text, with the encoding used and the final URL after redirects. Settings: FetchConfig (timeouts,
deadline, max_bytes, retries, backoff, max_retry_after, max_redirects, allow_private_addresses).

One attempt = every redirect hop plus the body, under one deadline. Attempts are retried by a
tenacity policy on transport errors and HTTP 408/429/5xx (see is_retryable), honouring Retry-After.
Each hop's host is resolved and refused unless every address is public; make_client() also
connects only to the addresses it has just checked, so a DNS answer cannot change in between.
Bodies are read raw and decompressed here with a bounded decoder, so a compression bomb stops at
max_bytes. httpx and tenacity errors never leave this module.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import inspect
import ipaddress
import logging
import re
import socket
import zlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import brotli
import httpcore
import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from .config import FetchConfig
from .encoding import decode_html
from .errors import BlockedAddress, FetchError, SkippedContent
from .models import Page
from .urls import IPAddress, address_kind, check_url_scheme, parse_host_address

logger = logging.getLogger(__name__)

# tenacity 9.1 renamed wait_exponential_jitter's first wait from `initial` to `multiplier` and warns
# on the old name; pyproject allows tenacity >= 8.2, which knows only `initial`.
_BACKOFF_START = (
    "multiplier" if "multiplier" in inspect.signature(wait_exponential_jitter).parameters else "initial"
)

Resolver = Callable[[str], Awaitable[Iterable[str]]]

# scrapy's RETRY_HTTP_CODES: timeouts, rate limits and server-side failures that often pass.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
ACCEPT_ENCODING = "gzip, deflate, br"
_LOCATION = "x-scraper-location"  # where _hide_location keeps a redirect's Location header
# How much of the decoded body the binary and HTML sniffers look at.
SNIFF_BYTES = 1024
# Leading bytes of binary formats that servers mislabel as text/html (WHATWG MIME Sniffing, 6.1-6.2).
BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b\x08", "gzip data"),
    (b"BZh91AY&SY", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"\x00\x00\x01\x00", "an icon"),
    (b"wOFF", "a web font"),
    (b"wOF2", "a web font"),
    (b"OggS\x00", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"\x1a\x45\xdf\xa3", "WebM/Matroska media"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x00asm", "WebAssembly"),
)
# A text page has almost no C0 control bytes besides tab, newline, form feed, carriage return
# and ESC (ISO-2022-JP); a tenth of them in the first KB means binary data.
_TEXT_CONTROLS = frozenset(b"\t\n\x0c\r\x1b")
_MAX_CONTROL_SHARE = 0.1
# What a page served without Content-Type must start with to be read as HTML (WHATWG MIME Sniffing 7.1).
_HTML_START_RE = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html|head|body|title|meta|script|iframe|h1|div|font|table"
    rb"|a|style|b|p|br|!--|\?xml)[\s>/]",
    re.IGNORECASE,
)


class _BadStatus(Exception):
    """An HTTP status that is not a page; retried when in RETRY_STATUSES. Never leaves this module."""

    def __init__(self, url: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(f"GET {url}: HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class _DeadlineExceeded(httpx.TimeoutException):
    """One attempt ran past fetch.deadline; a transport timeout, so retried like one."""


class _Refused(Exception):
    """A host resolves to a non-public address; raised inside the transport, turned into BlockedAddress."""


class _Overflow(Exception):
    """The decoded body passed fetch.max_bytes."""


def is_retryable(exc: BaseException) -> bool:
    """True for failures worth another attempt: transport errors and HTTP 408, 429, 500, 502-504."""
    if isinstance(exc, (BlockedAddress, SkippedContent, httpx.UnsupportedProtocol)):
        return False
    if isinstance(exc, _BadStatus):
        return exc.status in RETRY_STATUSES
    return isinstance(exc, httpx.TransportError)


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP-date); None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no zone information (RFC 5322)
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


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
                verb = "is" if literal is not None else "resolves to"
                raise _Refused(f"{host} {verb} {ip}, {kind}")
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
    """httpx's transport over a connection pool that uses _CheckedBackend."""

    def __init__(self, resolve: Resolver, *, allow_private: bool) -> None:
        super().__init__()
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
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
    """The httpx client to share across a run: checked connections, no redirects, config timeouts."""
    transport = _CheckedTransport(resolve or resolve_host, allow_private=cfg.allow_private_addresses)
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(cfg.timeout, connect=cfg.connect_timeout),
        headers=_default_headers(cfg),
    )


def _default_headers(cfg: FetchConfig) -> dict[str, str]:
    return {"User-Agent": cfg.user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}


class Fetcher:
    """Fetches one URL at a time (many concurrently) into Pages, with retries, caps and checks."""

    def __init__(
        self,
        cfg: FetchConfig,
        client: httpx.AsyncClient | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        resolve: Resolver | None = None,
    ) -> None:
        self.cfg = cfg
        self._resolve = resolve or resolve_host
        self._owns_client = client is None
        self._client = client or make_client(cfg, resolve=self._resolve)
        _install_location_hook(self._client)
        self._sleep = sleep
        self._timeout = httpx.Timeout(cfg.timeout, connect=cfg.connect_timeout)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client, if this Fetcher created it."""
        if self._owns_client:
            await self._client.aclose()

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Page:
        """GET one URL, following redirects, and return its decoded HTML page.

        A 304 answer to the conditional headers gives a Page with status 304 and html "".

        Raises:
            BlockedAddress: a hop's host is not public and private addresses are not allowed.
            SkippedContent: the body is not HTML, is binary, or is larger than fetch.max_bytes.
            FetchError: anything else, after the retries allowed are used up.
        """
        headers = _default_headers(self.cfg)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempts = 0

        async def attempt() -> Page:
            nonlocal attempts
            attempts += 1
            try:
                return await asyncio.wait_for(self._fetch_once(url, headers), self.cfg.deadline)
            except asyncio.TimeoutError:
                deadline = self.cfg.deadline
                raise _DeadlineExceeded(
                    f"no complete response within fetch.deadline ({deadline:g} s)"
                ) from None

        try:
            return await self._retrying(url)(attempt)
        except FetchError as exc:
            exc.attempts = attempts
            raise
        except _BadStatus as exc:
            message = f"GET {url} failed: HTTP {exc.status} after {_plural(attempts, 'attempt')}"
            raise FetchError(url, message, status=exc.status, attempts=attempts) from exc
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            message = f"GET {url} failed: {_describe(exc)} after {_plural(attempts, 'attempt')}"
            raise FetchError(url, message, attempts=attempts) from exc

    def _retrying(self, url: str) -> AsyncRetrying:
        cfg = self.cfg
        backoff = wait_exponential_jitter(
            **{_BACKOFF_START: cfg.backoff}, max=cfg.max_backoff, jitter=cfg.backoff
        )

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _BadStatus) and exc.retry_after is not None:
                return min(exc.retry_after, cfg.max_retry_after)
            return float(backoff(state))

        def log_retry(state: RetryCallState) -> None:
            # tenacity's before_sleep_log names the function, not the URL; one line per retry needs the URL.
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            logger.warning(
                "retrying %s in %.1f s (attempt %d of %d failed: %s)",
                url, delay, state.attempt_number, cfg.retries + 1, _describe(exc),
            )  # fmt: skip

        return AsyncRetrying(
            stop=stop_after_attempt(cfg.retries + 1),
            wait=wait,
            retry=retry_if_exception(is_retryable),
            before_sleep=log_retry,
            sleep=self._sleep,
            reraise=True,
        )

    async def _fetch_once(self, url: str, headers: dict[str, str]) -> Page:
        """One attempt: follow up to max_redirects hops, checking each, then read the page."""
        current = url
        for _hop in range(self.cfg.max_redirects + 1):
            await self._check_hop(url, current)
            try:
                async with self._client.stream(
                    "GET", current, headers=headers, timeout=self._timeout, follow_redirects=False
                ) as response:
                    target = _redirect_target(current, response)
                    if target is None:
                        return await self._read_page(url, current, response)
            except _Refused as exc:
                raise _blocked(current, str(exc)) from None
            logger.debug("redirect %s -> %s (HTTP %d)", current, target, response.status_code)
            current = target
        n = self.cfg.max_redirects
        raise FetchError(url, f"GET {url} failed: more than {_plural(n, 'redirect')} (fetch.max_redirects)")

    async def _check_hop(self, url: str, current: str) -> None:
        check_url_scheme(current)
        if self.cfg.allow_private_addresses:
            return
        try:
            await check_address(current, self._resolve)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {urlsplit(current).hostname}: {exc}") from exc

    async def _read_page(self, url: str, final_url: str, response: httpx.Response) -> Page:
        status = response.status_code
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        media_type = _media_type(response.headers.get("content-type"))
        now = dt.datetime.now(dt.timezone.utc)
        if status == 304:
            return Page(url, final_url, 304, media_type, "", "", now, etag, last_modified)
        if not 200 <= status < 300:
            raise _BadStatus(final_url, status, parse_retry_after(response.headers.get("retry-after")))
        if media_type and media_type not in HTML_TYPES:
            raise SkippedContent(url, f"skipped {url}: content type {media_type} is not HTML")
        raw = await self._read_body(url, response, media_type)
        html, encoding = decode_html(raw, response.charset_encoding)
        logger.debug("GET %s -> HTTP %d, %d bytes, %s", final_url, status, len(raw), encoding)
        return Page(url, final_url, status, media_type, html, encoding, now, etag, last_modified)

    async def _read_body(self, url: str, response: httpx.Response, media_type: str) -> bytes:
        """The decoded body, stopping as soon as it passes max_bytes or looks binary."""
        cap = self.cfg.max_bytes
        decoders = _decoders(url, response.headers.get("content-encoding", ""), cap)
        body = bytearray()
        sniffed = False
        try:
            async for chunk in response.aiter_raw():
                for decoder in decoders:
                    chunk = decoder.feed(chunk)
                body += chunk
                if not sniffed and len(body) >= SNIFF_BYTES:
                    _check_sniffed(url, bytes(body[:SNIFF_BYTES]), media_type)
                    sniffed = True
            for i, decoder in enumerate(decoders):
                tail = decoder.flush()
                for later in decoders[i + 1 :]:
                    tail = later.feed(tail)
                body += tail
        except _Overflow:
            raise _too_large(url, cap) from None
        if len(body) > cap:
            raise _too_large(url, cap)
        if not sniffed:
            _check_sniffed(url, bytes(body[:SNIFF_BYTES]), media_type)
        return bytes(body)


def _too_large(url: str, cap: int) -> SkippedContent:
    reason = f"body is larger than fetch.max_bytes ({cap} bytes); raise fetch.max_bytes to keep it"
    return SkippedContent(url, f"skipped {url}: {reason}")


def _redirect_target(current: str, response: httpx.Response) -> str | None:
    """The absolute URL a redirect points to, or None when the response is not a redirect."""
    if response.status_code not in REDIRECT_STATUSES:
        return None
    location = response.headers.get(_LOCATION, response.headers.get("location", "")).strip()
    if not location:
        raise FetchError(current, f"GET {current} failed: HTTP {response.status_code} without a Location")
    try:
        return urljoin(current, location)
    except ValueError as exc:
        raise FetchError(current, f"GET {current} failed: bad Location {location!r} ({exc})") from exc


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def sniff_binary(head: bytes) -> str | None:
    """What binary format a body starts with ("a PNG image", ...), or None when it may be text."""
    for signature, name in BINARY_SIGNATURES:
        if head.startswith(signature):
            return name
    if head[4:8] == b"ftyp":
        return "MP4/ISO media"
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return "RIFF media (WebP, WAV or AVI)"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text is full of NUL bytes
        return None
    sample = head[:SNIFF_BYTES]
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in _TEXT_CONTROLS)
    if sample and controls / len(sample) > _MAX_CONTROL_SHARE:
        return f"binary data ({controls} control bytes in the first {len(sample)})"
    return None


def _check_sniffed(url: str, head: bytes, media_type: str) -> None:
    if not head:
        raise SkippedContent(url, f"skipped {url}: the body is empty")
    binary = sniff_binary(head)
    if binary is not None:
        served = f"served as {media_type}" if media_type else "served without a Content-Type"
        raise SkippedContent(url, f"skipped {url}: {served} but the body is {binary}")
    if not media_type and not _HTML_START_RE.match(head):
        raise SkippedContent(url, f"skipped {url}: no Content-Type and the body does not look like HTML")


class _Decoder(Protocol):
    def feed(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Inflate:
    """gzip or deflate (zlib-wrapped, or raw as some servers send it), never more than budget bytes out."""

    def __init__(self, url: str, coding: str, budget: int) -> None:
        self._url, self._coding, self._budget = url, coding, budget
        self._raw_fallback = coding == "deflate"
        self._z = zlib.decompressobj(31 if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        if self._z.eof:  # bytes after the end of the stream are padding; browsers ignore them
            return b""
        try:
            out = self._z.decompress(data, self._budget + 1)
        except zlib.error as exc:
            if not self._raw_fallback:
                raise FetchError(
                    self._url, f"GET {self._url} failed: corrupt {self._coding} body ({exc})"
                ) from exc
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            self._raw_fallback = False
            return self.feed(data)
        self._raw_fallback = False
        return self._spend(out)

    def flush(self) -> bytes:
        return self._spend(self._z.flush(self._budget + 1) if not self._z.eof else b"")

    def _spend(self, out: bytes) -> bytes:
        self._budget -= len(out)
        if self._budget < 0:
            raise _Overflow
        return out


class _Brotli:
    """br, never more than about budget bytes out (brotli's output buffer grows in 32 KB steps)."""

    def __init__(self, url: str, budget: int) -> None:
        self._url, self._budget = url, budget
        self._d = brotli.Decompressor()

    def feed(self, data: bytes) -> bytes:
        try:
            out = self._d.process(data, output_buffer_limit=self._budget + 1)
            while len(out) <= self._budget and not self._d.can_accept_more_data():
                out += self._d.process(b"", output_buffer_limit=self._budget + 1 - len(out))
        except brotli.error as exc:
            raise FetchError(self._url, f"GET {self._url} failed: corrupt br body ({exc})") from exc
        self._budget -= len(out)
        if self._budget < 0:
            raise _Overflow
        return out

    def flush(self) -> bytes:
        return b""


class _Identity:
    def __init__(self, budget: int) -> None:
        self._budget = budget

    def feed(self, data: bytes) -> bytes:
        self._budget -= len(data)
        if self._budget < 0:
            raise _Overflow
        return data

    def flush(self) -> bytes:
        return b""


def _decoders(url: str, content_encoding: str, cap: int) -> list[_Decoder]:
    """Decoders for a Content-Encoding list, in the order to apply them (the last coding first)."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    decoders: list[_Decoder] = [_Identity(cap)]
    for coding in reversed([c for c in codings if c not in ("", "identity")]):
        if coding in ("gzip", "x-gzip", "deflate"):
            decoders.append(_Inflate(url, coding, cap))
        elif coding == "br":
            decoders.append(_Brotli(url, cap))
        else:
            raise FetchError(url, f"GET {url} failed: unsupported Content-Encoding {coding!r}")
    return decoders[1:] or decoders


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    text = str(exc)
    return f"{type(exc).__name__.lstrip('_')}: {text}" if text else type(exc).__name__.lstrip("_")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
