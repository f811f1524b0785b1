"""URL helpers: canonical form, same-site tests, scheme and address checks; pure functions.

canonicalize_url() is the url_key of an article: lower-case scheme and host,
no fragment, no default port, no tracking parameters, a path of "/" when empty.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import idna

from .errors import InvalidURL

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


def origin_of(url: str) -> str:
    """scheme://host[:port] of an absolute http(s) URL (the port only when not the scheme's default).

    One politeness lane and one robots.txt per origin (scraper/crawl, store/pg's hosts table).

    Raises:
        ValueError: url is not an absolute http(s) URL.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None and parts.port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{parts.port}"
    return f"{scheme}://{netloc}"


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
        InvalidURL: the scheme is not http or https, or the host is missing (a FetchError).
    """
    try:
        parts = urlsplit(url)
        problem = _scheme_problem(parts.scheme, parts.hostname)
    except ValueError as exc:  # e.g. an unclosed "[" in the host
        problem = f"not a valid URL ({exc})"
    if problem is not None:
        raise InvalidURL(url, f"refused {shown_url(url)}: {problem}", problem)


def _scheme_problem(scheme: str, host: str | None) -> str | None:
    scheme = scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = f"scheme {scheme!r}" if scheme else "no scheme"
        return f"{shown}; only http and https URLs are fetched"
    if not host:
        return "the URL has no host; give an absolute URL such as https://example.com/page"
    return None


# --- URL validation, before any network -----------------------------------------------------------
# A URL a crawl cannot fetch must fail here, with one line, instead of inside httpx, the IDNA codec
# or getaddrinfo (OverflowError, UnicodeError, ValueError) or at DNS, three times.

# Longest URL fetched or stored, in characters (a canonical URL is ASCII: one byte each). Every
# stored URL is a key of a B-tree index, and PostgreSQL's takes at most 2,704 bytes a row: a link
# of 3,000 characters failed the page's whole write and stopped the crawl there, run after run.
# Sitemaps cap URLs at the same 2,048; longer links are tracking and search URLs, not articles.
MAX_URL_LENGTH = 2048
# DNS limits (RFC 1035 2.3.4): 63 octets a label, 253 for the name in dotted text.
MAX_LABEL_LENGTH = 63
MAX_HOST_LENGTH = 253
# The characters of an ASCII host label: LDH, plus "_", which real subdomains use though it is not
# a hostname character (resolvers accept it).
_ASCII_LABEL_RE = re.compile(r"[a-z0-9_-]+", re.ASCII)
_PORT_RE = re.compile(r"[0-9]{1,5}", re.ASCII)
# How much of a URL an error message shows: a message stays one readable line.
SHOWN_URL_CHARS = 200


def validate_url(url: str) -> str:
    """The URL, unchanged, when it can be fetched as written.

    Checks the length, the characters (no spaces, control characters or undecodable bytes),
    the scheme (http, https), the host (labels, IDNA, DNS lengths, IPv6 literals) and the port.

    Raises:
        InvalidURL: one line naming the problem and the fix.
    """
    problem = url_problem(url)
    if problem is not None:
        raise InvalidURL(url, f"refused {shown_url(url)}: {problem}", problem)
    return url


def url_problem(url: str) -> str | None:
    """Why a URL cannot be fetched as written, or None when it can (see validate_url)."""
    if not fits(url):
        return f"the URL is {len(url)} characters long, over the limit of {MAX_URL_LENGTH}; servers refuse it"
    problem = _character_problem(url)
    if problem is not None:
        return problem
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    problem = _scheme_problem(parts.scheme, host)
    if problem is not None:
        return problem
    hostport = parts.netloc.rpartition("@")[2]
    if hostport.startswith("["):
        end = hostport.find("]")
        literal, rest = hostport[1:end], hostport[end + 1 :]
        return _ipv6_problem(literal) or _port_problem(rest)
    name, colon, port = hostport.partition(":")
    return _port_problem(colon + port) or _host_problem(name.lower())


def fits(url: str) -> bool:
    """Whether a URL is short enough to fetch and to store as a key (MAX_URL_LENGTH)."""
    return len(url) <= MAX_URL_LENGTH


def logged_url(url: str) -> str:
    """The URL as fetch_log keeps it: whole when it fits, else as an error message shows it."""
    return url if fits(url) else shown_url(url)


def shown_url(url: str) -> str:
    """A URL as an error message shows it: non-printable characters escaped, cut after 200."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in url[: SHOWN_URL_CHARS + 1])
    return text if len(url) <= SHOWN_URL_CHARS else text[:SHOWN_URL_CHARS] + "..."


def _character_problem(url: str) -> str | None:
    for i, char in enumerate(url):
        category = unicodedata.category(char)
        if char.isspace():
            shown = "a space" if char == " " else f"the white-space character {repr(char)[1:-1]}"
            return f"it contains {shown} at position {i}; write spaces in a URL as %20"
        if category == "Cs":  # a lone surrogate: how Python keeps a byte that is not UTF-8
            return (
                f"it contains {repr(char)[1:-1]} at position {i}, a byte that is not UTF-8; "
                "save the URL list as UTF-8"
            )
        if category == "Cc":
            return f"it contains the control character {repr(char)[1:-1]} at position {i}; remove it"
    return None


def _port_problem(rest: str) -> str | None:
    """What is wrong with what follows the host (":8080" or ""), if anything."""
    if not rest or rest == ":":
        return None
    if not rest.startswith(":"):
        return f"{rest[:20]!r} follows the host; only a :port may"
    port = rest[1:]
    if not _PORT_RE.fullmatch(port):
        return f"port {port[:20]!r} is not a number; a port is a number from 1 to 65535"
    if not 1 <= int(port) <= 65535:
        return f"port {port} is out of range; a port is a number from 1 to 65535"
    return None


def _ipv6_problem(literal: str) -> str | None:
    try:
        ipaddress.IPv6Address(literal.split("%", 1)[0])
    except ValueError:
        return f"host [{literal[:60]}] is not a valid IPv6 address"
    return None


def _host_problem(host: str) -> str | None:
    """What is wrong with a host name (lower case, no port), if anything."""
    name = host.removesuffix(".")  # one trailing dot names the DNS root
    labels = name.split(".")
    if "" in labels:
        return f"host {host[:80]!r} has an empty label (two dots in a row, or a leading dot)"
    encoded: list[str] = []
    for label in labels:
        ascii_label, problem = _encode_label(label)
        if problem is not None:
            return f"host {host[:80]!r} {problem}"
        if len(ascii_label) > MAX_LABEL_LENGTH:
            return (
                f"host {host[:80]!r} has a label of {len(ascii_label)} characters; "
                f"DNS allows at most {MAX_LABEL_LENGTH}"
            )
        encoded.append(ascii_label)
    total = len(".".join(encoded))
    if total > MAX_HOST_LENGTH:
        return f"host {host[:80]!r} is {total} characters long; DNS allows at most {MAX_HOST_LENGTH}"
    return None


def _encode_label(label: str) -> tuple[str, str | None]:
    """A host label in ASCII (IDNA for non-ASCII), or why it cannot be one."""
    if not label.isascii():
        try:
            return idna.encode(label).decode("ascii"), None  # as httpx encodes hosts
        except (UnicodeError, ValueError) as exc:  # idna.IDNAError is a UnicodeError
            return label, f"is not a valid internationalised name ({exc})"
    if not _ASCII_LABEL_RE.fullmatch(label):
        bad = next(c for c in label if not _ASCII_LABEL_RE.fullmatch(c))
        return label, f"contains {bad!r}, which a host name cannot"
    if label.startswith("xn--"):
        try:
            idna.decode(label)
        except (UnicodeError, ValueError) as exc:
            return label, f"has a malformed IDNA label {label[:70]!r} ({exc})"
    return label, None
