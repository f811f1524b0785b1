"""Fetch stage: URL -> Page (decoded HTML), or a FetchError.

Input: an http(s) URL, plus the ETag / Last-Modified of an earlier fetch. Output: a Page whose html
is text, with the encoding used and the final URL after redirects. Settings: FetchConfig (timeouts,
deadline, max_bytes, retries, backoff, max_retry_after, max_redirects, allow_private_addresses,
headers, cookies, proxy).

The start URL and every redirect target are validated first (urls.validate_url: scheme, host,
port, length, characters), before any DNS lookup; an invalid one is an InvalidURL, never retried.

One attempt = every redirect hop plus the body. Attempts are retried by a tenacity policy on
transport errors and HTTP 408/429/5xx (see is_retryable), honouring Retry-After. fetch.deadline
bounds the whole fetch, every attempt and every wait: each attempt gets the time left, and no wait
starts that would end past it (a host dripping a byte a second costs one deadline per URL, not three).
Each hop's host is resolved and refused unless every address is public; make_client() (network.py) also
connects only to the addresses it has just checked, so a DNS answer cannot change in between.
Bodies are read raw and decompressed here with a bounded decoder, so a compression bomb stops at
max_bytes (body.py). httpx and tenacity errors never leave this package. With an archive writer
(scraper/archive/write.py), a final 2xx answer is archived with its decoded body before the Page
(or, with archive_resources, the Resource) is returned, carrying the WarcRef; 304s and redirect
hops are not archived.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import inspect
import logging
import re
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception
from tenacity.wait import wait_exponential_jitter

from ..archive.write import ArchiveWriter, Exchange
from ..config import FetchConfig
from ..encoding import decode_html
from ..errors import BlockedAddress, FetchError, InvalidURL, SkippedContent
from ..models import Page, Resource
from ..urls import same_site, shown_url, url_problem
from .body import check_sniffed, read_body, sniff_binary
from .network import (
    _LOCATION,
    REDIRECT_STATUSES,
    Resolver,
    _blocked,
    _default_headers,
    _install_location_hook,
    _Refused,
    check_address,
    make_client,
    resolve_host,
    site_headers,
)

__all__ = [
    "Fetcher",
    "check_address",
    "check_sniffed",
    "is_retryable",
    "make_client",
    "parse_retry_after",
    "resolve_host",
    "sniff_binary",
]

logger = logging.getLogger(__name__)

# tenacity 9.1 renamed wait_exponential_jitter's first wait from `initial` to `multiplier` and warns
# on the old name; pyproject allows tenacity >= 8.2, which knows only `initial`.
_BACKOFF_START = (
    "multiplier" if "multiplier" in inspect.signature(wait_exponential_jitter).parameters else "initial"
)

# getaddrinfo's answers for a name that does not exist (as opposed to EAI_AGAIN, a DNS server that
# did not answer): not retried. Without network, each of 3 attempts cost a second or more.
NO_SUCH_HOST_ERRNOS = frozenset(
    code for code in (getattr(socket, "EAI_NONAME", None), getattr(socket, "EAI_NODATA", None)) if code
)
# scrapy's RETRY_HTTP_CODES: timeouts, rate limits and server-side failures that often pass.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Retry-After delay-seconds is 1*DIGIT in ASCII (RFC 9110 10.2.3). str.isdigit() also accepts "²"
# and other Unicode digits that float() rejects, so a single 0xB2 byte used to crash the crawl.
_DELAY_SECONDS_RE = re.compile(r"[0-9]+", re.ASCII)
# The longest Retry-After kept as given: a week. fetch.max_retry_after caps the wait anyway; this
# only keeps absurd values ("9" x 400 is inf as a float) finite for anyone else who reads them.
MAX_RETRY_AFTER_SECONDS = 7 * 86400.0


_T = TypeVar("_T")
# Reads the final (non-redirect) response of one attempt: (requested url, final url, response) -> result.
_Reader = Callable[[str, str, httpx.Response], Awaitable[_T]]


class _BadStatus(Exception):
    """An HTTP status that is not a page; retried when in RETRY_STATUSES. Never leaves this module."""

    def __init__(self, url: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(f"GET {url}: HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class _DeadlineExceeded(httpx.TimeoutException):
    """The fetch ran past fetch.deadline; a transport timeout, but no time is left to retry it."""


def is_retryable(exc: BaseException) -> bool:
    """True for failures worth another attempt: transport errors and HTTP 408, 429, 500, 502-504."""
    # LocalProtocolError: our own request is malformed (h11 refused it); sending it again cannot help.
    never = (BlockedAddress, InvalidURL, SkippedContent, httpx.UnsupportedProtocol, httpx.LocalProtocolError)
    if isinstance(exc, never):
        return False
    if isinstance(exc, _BadStatus):
        return exc.status in RETRY_STATUSES
    return isinstance(exc, httpx.TransportError)


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP-date); None if unusable."""
    text = (value or "").strip()
    if not text:
        return None
    if _DELAY_SECONDS_RE.fullmatch(text):
        # float() of a digit string never raises (a huge one is inf); the ceiling keeps it finite
        return min(float(text), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):  # year 99999, offset +9999, garbage
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no zone information (RFC 5322)
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER_SECONDS)


class Fetcher:
    """Fetches one URL at a time (many concurrently) into Pages, with retries, caps and checks."""

    def __init__(
        self,
        cfg: FetchConfig,
        client: httpx.AsyncClient | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        resolve: Resolver | None = None,
        archive: ArchiveWriter | None = None,
        archive_resources: bool = False,
    ) -> None:
        """archive: where final 2xx pages are written as WARC records (and, with archive_resources,
        robots.txt, sitemaps and feeds too); None archives nothing."""
        self.cfg = cfg
        self._archive = archive
        self._archive_resources = archive_resources
        self._resolve = resolve or resolve_host
        self._owns_client = client is None
        self._client = client or make_client(cfg, resolve=self._resolve)
        _install_location_hook(self._client)
        self._sleep = sleep
        self._timeout = httpx.Timeout(cfg.timeout, connect=cfg.connect_timeout)
        self._site_headers = site_headers(cfg)

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
        headers = _conditional_headers({}, etag, last_modified)
        return await self._run(url, headers, self._read_page)

    async def fetch_bytes(
        self,
        url: str,
        *,
        accept: str = "*/*",
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
    ) -> Resource:
        """GET one URL of any type (robots.txt, sitemap, feed) and return its body bytes, undecoded text.

        The same redirect loop, address checks, retries, deadline and bounded decompression as fetch();
        Content-Encoding is removed, but a gzip *file* (a .xml.gz sitemap) stays as it was served.
        A 304 gives status 304 and body b"".

        Args:
            accept: the Accept header to send.
            max_bytes: the decoded-size cap, fetch.max_bytes when None.

        Raises:
            FetchError: a non-2xx status (.status says which, 4xx at once, 5xx after retries), a
                transport failure, or a body over the cap (SkippedContent).
        """
        headers = _conditional_headers({"Accept": accept}, etag, last_modified)
        cap = max_bytes or self.cfg.max_bytes

        async def read(url: str, final_url: str, response: httpx.Response) -> Resource:
            return await self._read_resource(url, final_url, response, cap)

        return await self._run(url, headers, read)

    async def _run(self, url: str, headers: dict[str, str], read: _Reader[_T]) -> _T:
        """Attempts under the retry policy, all within fetch.deadline; library errors become FetchError."""
        attempts = 0
        loop = asyncio.get_running_loop()
        ends = loop.time() + self.cfg.deadline

        async def attempt() -> _T:
            nonlocal attempts
            attempts += 1
            try:
                return await asyncio.wait_for(self._fetch_once(url, headers, read), ends - loop.time())
            except asyncio.TimeoutError:
                raise _DeadlineExceeded(
                    f"no complete response within fetch.deadline ({self.cfg.deadline:g} s)"
                ) from None

        try:
            result: _T = await self._retrying(url, lambda: ends - loop.time())(attempt)
        except FetchError as exc:
            exc.attempts = attempts
            raise
        except _BadStatus as exc:
            message = f"GET {url} failed: HTTP {exc.status} after {_plural(attempts, 'attempt')}"
            raise FetchError(url, message, status=exc.status, attempts=attempts) from exc
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            reason = str(exc) if isinstance(exc, _DeadlineExceeded) else _describe(exc)
            message = f"GET {url} failed: {reason} after {_plural(attempts, 'attempt')}"
            raise FetchError(url, message, attempts=attempts) from exc
        return result

    def _retrying(self, url: str, time_left: Callable[[], float]) -> AsyncRetrying:
        """The retry policy for one fetch; it stops when a wait would end past fetch.deadline."""
        cfg = self.cfg
        backoff = wait_exponential_jitter(
            **{_BACKOFF_START: cfg.backoff}, max=cfg.max_backoff, jitter=cfg.backoff
        )
        planned: dict[int, float] = {}  # one wait per attempt, so stop() and wait() agree on it

        def wait(state: RetryCallState) -> float:
            if state.attempt_number not in planned:
                exc = state.outcome.exception() if state.outcome else None
                if isinstance(exc, _BadStatus) and exc.retry_after is not None:
                    planned[state.attempt_number] = min(exc.retry_after, cfg.max_retry_after)
                else:
                    planned[state.attempt_number] = float(backoff(state))
            return planned[state.attempt_number]

        def stop(state: RetryCallState) -> bool:
            # tenacity >= 8.3 computes the wait before stop; 8.2 after: wait() serves both orders.
            return state.attempt_number > cfg.retries or wait(state) >= time_left()

        def log_retry(state: RetryCallState) -> None:
            # tenacity's before_sleep_log names the function, not the URL; one line per retry needs the URL.
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            logger.warning(
                "retrying %s in %.1f s (attempt %d of %d failed: %s)",
                url, delay, state.attempt_number, cfg.retries + 1, _describe(exc),
            )  # fmt: skip

        return AsyncRetrying(
            stop=stop,
            wait=wait,
            retry=retry_if_exception(is_retryable),
            before_sleep=log_retry,
            sleep=self._sleep,
            reraise=True,
        )

    async def _fetch_once(self, url: str, headers: dict[str, str], read: _Reader[_T]) -> _T:
        """One attempt: follow up to max_redirects hops, checking each, then read the body."""
        current = url
        for _hop in range(self.cfg.max_redirects + 1):
            await self._check_hop(url, current)
            response = await self._open(url, current, headers)
            try:
                target = _redirect_target(current, response)
                if target is None:
                    return await read(url, current, response)
            finally:
                await response.aclose()
            logger.debug("redirect %s -> %s (HTTP %d)", current, target, response.status_code)
            current = target
        n = self.cfg.max_redirects
        raise FetchError(url, f"GET {url} failed: more than {_plural(n, 'redirect')} (fetch.max_redirects)")

    async def _check_hop(self, url: str, current: str) -> None:
        """Validate a hop's URL, then (unless private addresses are allowed) its addresses."""
        problem = url_problem(current)
        if problem is not None:
            raise _invalid(url, current, problem)
        if self.cfg.allow_private_addresses:
            return
        try:
            await check_address(current, self._resolve)
        except socket.gaierror as exc:
            if exc.errno not in NO_SUCH_HOST_ERRNOS:
                raise httpx.ConnectError(f"cannot resolve {urlsplit(current).hostname}: {exc}") from exc
            host = urlsplit(current).hostname
            message = f"GET {shown_url(url)} failed: cannot resolve {host}: {exc}; check the host name"
            raise FetchError(url, message) from exc  # the name does not exist: asking again will not help
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {urlsplit(current).hostname}: {exc}") from exc
        except (ValueError, OverflowError) as exc:  # UnicodeError: getaddrinfo's IDNA codec refused the name
            raise _invalid(url, current, f"the host cannot be looked up ({_describe(exc)})") from exc

    async def _open(self, url: str, current: str, headers: dict[str, str]) -> httpx.Response:
        """Send one GET and return the response unread; errors about the URL itself become InvalidURL.

        Headers: the defaults, then fetch.headers and fetch.cookies (only while the hop stays on the
        site the fetch began on, so a redirect elsewhere does not carry a session cookie there), then
        this call's own (Accept, If-None-Match...).

        httpx, IDNA and the socket layer raise InvalidURL, UnicodeError, ValueError or OverflowError
        for a URL they cannot encode or connect to; validation refuses those first, and this is the
        backstop, so none of them leaves the fetch stage.
        """
        try:
            sent = httpx.Headers(_default_headers(self.cfg))
            if same_site(url, current):
                sent.update(self._site_headers)
            sent.update(headers)
            request = self._client.build_request("GET", current, headers=sent, timeout=self._timeout)
            return await self._client.send(request, stream=True, follow_redirects=False)
        except _Refused as exc:
            raise _blocked(current, str(exc)) from None
        except (httpx.InvalidURL, ValueError, OverflowError) as exc:  # UnicodeError is a ValueError
            raise _invalid(url, current, f"it cannot be requested ({_describe(exc)})") from exc

    async def _read_page(self, url: str, final_url: str, response: httpx.Response) -> Page:
        res = await self._read_resource(url, final_url, response, self.cfg.max_bytes, html=True)
        html, encoding = ("", "") if res.status == 304 else decode_html(res.body, response.charset_encoding)
        logger.debug("GET %s -> HTTP %d, %d bytes, %s", final_url, res.status, len(res.body), encoding)
        return Page(
            url,
            final_url,
            res.status,
            res.content_type,
            html,
            encoding,
            res.fetched_at,
            res.etag,
            res.last_modified,
            res.warc,
        )

    async def _read_resource(
        self, url: str, final_url: str, response: httpx.Response, cap: int, *, html: bool = False
    ) -> Resource:
        """The body of a final response; with html, only HTML types and no binary body pass."""
        status = response.status_code
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        media_type = _media_type(response.headers.get("content-type"))
        now = dt.datetime.now(dt.timezone.utc)
        if status == 304:
            return Resource(url, final_url, 304, media_type, b"", now, etag, last_modified)
        if not 200 <= status < 300:
            raise _BadStatus(final_url, status, parse_retry_after(response.headers.get("retry-after")))
        if html and media_type and media_type not in HTML_TYPES:
            raise SkippedContent(url, f"content type {media_type} is not HTML")
        body = await read_body(url, response, media_type, cap, sniff=html)
        if not html:
            logger.debug("GET %s -> HTTP %d, %d bytes (%s)", final_url, status, len(body), media_type)
        warc = None
        if self._archive is not None and (html or self._archive_resources):
            warc = await self._archive.archive(_exchange(final_url, response, body, now))
        return Resource(url, final_url, status, media_type, body, now, etag, last_modified, warc)


def _exchange(final_url: str, response: httpx.Response, body: bytes, now: dt.datetime) -> Exchange:
    """The request sent and the response read (body decoded), as the archive stores them."""
    request = response.request
    target = request.url.raw_path.decode("ascii", "replace")
    # what was sent: h11 always speaks HTTP/1.1, whatever version the server answers in
    sent = "HTTP/2" if response.http_version == "HTTP/2" else "HTTP/1.1"
    return Exchange(
        url=final_url,
        request_line=f"{request.method} {target} {sent}",
        request_headers=_str_headers(request.headers.raw),
        http_version=response.http_version,
        status=response.status_code,
        reason=response.reason_phrase,
        headers=_str_headers(response.headers.raw),
        body=body,
        fetched_at=now,
    )


def _str_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """Header bytes as text, byte for byte (latin-1), as HTTP/1.1 carries them."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]


def _redirect_target(current: str, response: httpx.Response) -> str | None:
    """The absolute URL a redirect points to, or None when the response is not a redirect."""
    if response.status_code not in REDIRECT_STATUSES:
        return None
    location = response.headers.get(_LOCATION, response.headers.get("location", "")).strip()
    if not location:
        raise FetchError(current, f"GET {current} failed: HTTP {response.status_code} without a Location")
    # Browsers percent-encode a space in a Location (WHATWG URL parser); servers do send them.
    location = location.replace(" ", "%20")
    try:
        return str(urljoin(current, location))
    except ValueError as exc:
        raise FetchError(current, f"GET {current} failed: bad Location {location!r} ({exc})") from exc


def _invalid(url: str, current: str, reason: str) -> InvalidURL:
    """InvalidURL for the start URL, or for a redirect target (naming the URL that redirected)."""
    if current == url:
        return InvalidURL(url, f"refused {shown_url(url)}: {reason}", reason)
    message = f"GET {shown_url(url)} failed: it redirects to {shown_url(current)}: {reason}"
    return InvalidURL(url, message, reason)


def _conditional_headers(
    headers: dict[str, str], etag: str | None, last_modified: str | None
) -> dict[str, str]:
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    text = str(exc)
    return f"{type(exc).__name__.lstrip('_')}: {text}" if text else type(exc).__name__.lstrip("_")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
