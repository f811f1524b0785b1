"""robots.txt rules (RFC 9309) over Protego: may we fetch a URL, how long to wait, which sitemaps.

Input: the status and body of one host's /robots.txt fetch and our user-agent. Output: a RobotsPolicy,
or None when the host must be skipped this run. Settings: the crawl-delay cap, passed per call.
Fetching robots.txt is fetch.py's job (following up to five redirects); this module only interprets.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from protego import Protego

from ..urls import origin_of

logger = logging.getLogger(__name__)

# RFC 9309 section 2.5: crawlers must parse at least 500 KiB; past that we ignore the rest.
MAX_ROBOTS_BYTES = 500 * 1024
# 429 is a 4xx, but it asks us to slow down, not that robots.txt is absent: treat it as a server
# error (the host is skipped this run), as Google does, rather than as "allow everything".
_TREATED_AS_UNREACHABLE = frozenset({429})


class RobotsPolicy:
    """One host's parsed robots.txt, seen by one user-agent."""

    __slots__ = ("_parser", "_user_agent")

    def __init__(self, parser: Protego | None, user_agent: str) -> None:
        self._parser = parser
        self._user_agent = user_agent

    @classmethod
    def parse(cls, text: str, user_agent: str) -> RobotsPolicy:
        """The rules of a robots.txt text for user_agent (a product token like "scraper", or a full UA)."""
        return cls(Protego.parse(text.removeprefix("\ufeff")), user_agent)

    @classmethod
    def allow_all(cls) -> RobotsPolicy:
        """A policy that allows every URL: robots.txt is unavailable (4xx, RFC 9309 section 2.3.1.3)."""
        return cls(None, "*")

    def allowed(self, url: str) -> bool:
        """True when the user-agent may fetch url."""
        return self._parser is None or self._parser.can_fetch(url, self._user_agent)

    def crawl_delay(self, cap: float) -> float | None:
        """Seconds to wait between requests, at most cap; None when robots.txt names no delay.

        Crawl-delay wins; otherwise a Request-rate of n requests per s seconds gives s / n.
        """
        if self._parser is None:
            return None
        delay = self._parser.crawl_delay(self._user_agent)
        if delay is None:
            rate = self._parser.request_rate(self._user_agent)
            if rate is not None and rate.requests > 0:
                delay = rate.seconds / rate.requests
        return None if delay is None else min(delay, cap)

    def sitemaps(self) -> list[str]:
        """The absolute http(s) URLs of its Sitemap: lines, in order, without duplicates."""
        if self._parser is None:
            return []
        urls = (url.strip() for url in self._parser.sitemaps)
        return list(dict.fromkeys(url for url in urls if urlsplit(url).scheme in ("http", "https")))


def robots_url(url: str) -> str:
    """The robots.txt URL for the host of an http(s) URL: same scheme, host and port.

    Raises:
        ValueError: url is not an absolute http(s) URL.
    """
    return origin_of(url) + "/robots.txt"


def policy_from_response(status: int | None, body: bytes | None, user_agent: str) -> RobotsPolicy | None:
    """The policy a robots.txt fetch implies (RFC 9309 section 2.3.1).

    Args:
        status: the final HTTP status after redirects, or None when the fetch failed (network error).
        body: the response body; only its first 500 KiB are read.
        user_agent: our product token, e.g. "scraper".

    Returns:
        2xx: the parsed rules. 4xx (but 429): allow everything. 3xx here means the fetcher gave up
        after too many redirects, which RFC 9309 lets us treat as unavailable: allow everything.
        5xx, 429, any other status or None: None, meaning "unreachable: skip this host this run".
    """
    if status is None or status in _TREATED_AS_UNREACHABLE or not 200 <= status < 500:
        return None
    if status >= 400:
        return RobotsPolicy.allow_all()
    if status >= 300:
        logger.warning("robots.txt still redirects (HTTP %d); treating it as unavailable", status)
        return RobotsPolicy.allow_all()
    return RobotsPolicy.parse(_head_lines(body or b"", MAX_ROBOTS_BYTES), user_agent)


def _head_lines(body: bytes, limit: int) -> str:
    """The first limit bytes as text, without a trailing partial line when the body was cut.

    A cut line could turn "Allow: /private-but-public" into a broader "Allow: /private".
    """
    if len(body) > limit:
        logger.warning("robots.txt is %d bytes; only the first %d are used", len(body), limit)
        cut = body[:limit]
        body = cut[: cut.rfind(b"\n") + 1] if b"\n" in cut else b""
    return body.decode("utf-8", errors="replace")
