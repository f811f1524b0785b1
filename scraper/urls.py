"""URL helpers: canonical form, same-site tests, scheme and address checks; pure functions.

canonicalize_url() is the url_key of an article: lower-case scheme and host,
no fragment, no default port, no tracking parameters, a path of "/" when empty.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from .errors import FetchError

# Query parameters that only track a click and never change the page
# (Google Analytics utm_*, Facebook fbclid, Google Ads gclid/dclid, Microsoft msclkid,
# Mailchimp mc_*, HubSpot _hs*, Matomo/Piwik pk_*, Instagram igshid, Yandex yclid).
TRACKING_PARAM_RE = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gclsrc|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|pk_\w+|mtm_\w+"
    r"|igshid|yclid|spm|ocid|cmpid|ncid|sr_share|wt_mc|wt\.mc_id|__twitter_impression)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters that stay as they are inside a path; everything else is percent-encoded once.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def canonicalize_url(url: str) -> str:
    """The canonical form of an absolute http(s) URL; idempotent."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    path = quote(unquote(parts.path), safe=_PATH_SAFE) or "/"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAM_RE.match(k)
    ]
    return urlunsplit((scheme, netloc, path, urlencode(query, quote_via=quote), ""))


def host_of(url: str) -> str:
    """The lower-case host of a URL, "" when it has none."""
    return (urlsplit(url).hostname or "").lower()


def same_site(url: str, other: str) -> bool:
    """True when both URLs are on the same host, ignoring a leading "www."."""
    return host_of(url).removeprefix("www.") == host_of(other).removeprefix("www.")


# --- Scheme and address checks ------------------------------------------------------------------
# fetch refuses URLs that reach loopback, private or otherwise non-public networks (SSRF: a page
# that links to http://169.254.169.254/ must not make the crawler read a cloud metadata service).

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOWED_SCHEMES = ("http", "https")

# Networks Python's ipaddress flags do not name on every supported version, checked first.
_SPECIAL_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = (
    (ipaddress.ip_network("100.64.0.0/10"), "a shared (carrier-grade NAT) address"),
    (ipaddress.ip_network("0.0.0.0/8"), "a 'this network' address"),
    (ipaddress.ip_network("fc00::/7"), "a unique-local address"),
    (ipaddress.ip_network("fec0::/10"), "a site-local address"),
)
# IPv6 ranges that carry an IPv4 address in their low 32 bits: IPv4-compatible (::/96, deprecated)
# and the NAT64 well-known prefix (RFC 6052). Either can reach the embedded IPv4 host.
_EMBEDDING_V4 = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b::/96"))


def address_kind(ip: IPAddress) -> str | None:
    """Why an address is not public ("a loopback address", ...), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = address_kind(embedded)
            return f"{inner} inside an IPv6 address ({embedded})" if inner else None
    if ip.is_unspecified:
        return "an unspecified address"
    for network, kind in _SPECIAL_NETWORKS:
        if ip.version == network.version and ip in network:
            return kind
    checks = (
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "a non-global address"),
    )
    return next((kind for flagged, kind in checks if flagged), None)


def is_public_address(ip: IPAddress) -> bool:
    """True when an address is globally routable: not loopback, private, link-local, CGNAT, etc."""
    return address_kind(ip) is None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.teredo is not None:
        return ip.teredo[1]  # the client address; the server half is a public relay
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _EMBEDDING_V4) and int(ip) > 1:  # "::" and "::1" are IPv6 proper
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def parse_host_address(host: str) -> IPAddress | None:
    """The IP address a URL host spells, in any form a resolver accepts, or None for a name.

    IPv4 follows inet_aton (and the WHATWG URL standard): 1 to 4 parts, each decimal, 0x-hex
    or 0-octal, the last part filling the remaining bytes, so "127.1", "2130706433",
    "0x7f000001" and "0177.0.0.1" are all 127.0.0.1. IPv6 may be bracketed and carry a zone.
    """
    text = unicodedata.normalize("NFKC", unquote(host)).strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    return _parse_ipv4(text.removesuffix(".")) if text else None


def _parse_ipv4(text: str) -> ipaddress.IPv4Address | None:
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_parse_ipv4_part(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if any(v > 255 for v in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    value = values[-1]
    for i, part in enumerate(values[:-1]):
        value += part << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def _parse_ipv4_part(part: str) -> int | None:
    if re.fullmatch(r"0x[0-9a-f]*", part):
        return int(part[2:] or "0", 16)
    if re.fullmatch(r"0[0-7]+", part):
        return int(part, 8)
    if re.fullmatch(r"0|[1-9][0-9]*", part):
        return int(part)
    return None


def check_url_scheme(url: str) -> None:
    """Refuse a URL that is not http(s) or has no host.

    Raises:
        FetchError: the scheme is not http or https, or the host is missing.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:  # e.g. an unclosed "[" in the host
        raise FetchError(url, f"refused {url}: not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = f"scheme {scheme!r}" if scheme else "no scheme"
        raise FetchError(url, f"refused {url}: {shown}; only http and https URLs are fetched")
    if not host:
        raise FetchError(url, f"refused {url}: the URL has no host")
