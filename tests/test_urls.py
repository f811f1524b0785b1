"""urls.py: canonical URLs, same-site tests, and the scheme and address checks fetch relies on."""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper.errors import FetchError, InvalidURL
from scraper.urls import (
    MAX_URL_LENGTH,
    SHOWN_URL_CHARS,
    address_kind,
    canonicalize_url,
    check_url_scheme,
    host_of,
    is_public_address,
    parse_host_address,
    same_site,
    shown_url,
    url_problem,
    validate_url,
)

# --- canonicalize_url ---------------------------------------------------------------------------------

_hosts = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){0,2}\.(com|org|cn)", fullmatch=True)
_segments = st.lists(st.text(st.characters(codec="utf-8", exclude_characters="/?#"), max_size=8), max_size=4)
_params = st.lists(
    st.tuples(
        st.sampled_from(["id", "page", "q", "utm_source", "utm_medium", "UTM_Campaign", "fbclid", "ref"]),
        st.text(st.characters(codec="utf-8"), max_size=6),
    ),
    max_size=5,
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(_hosts)
    host = draw(st.sampled_from([host, host.upper(), host + "."]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/" + "/".join(draw(_segments))
    query = urlencode(draw(_params))
    fragment = draw(st.sampled_from(["", "#top", "#a/b"]))
    return f"{scheme}://{host}{port}{path}" + (f"?{query}" if query else "") + fragment


@given(urls())
def test_canonicalize_is_idempotent(url: str) -> None:
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


@given(urls())
def test_canonicalize_strips_tracking_and_fragment(url: str) -> None:
    parts = urlsplit(canonicalize_url(url))
    keys = [k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)]
    assert not any(k.startswith("utm_") or k == "fbclid" for k in keys)
    assert parts.fragment == ""
    assert parts.scheme in ("http", "https")
    assert parts.netloc == parts.netloc.lower()
    assert not parts.netloc.endswith(":80") or parts.scheme != "http"


def test_canonicalize_examples() -> None:
    assert canonicalize_url("HTTP://Example.COM:80/a?utm_source=x&id=3#frag") == "http://example.com/a?id=3"
    assert canonicalize_url("https://example.com") == "https://example.com/"
    assert canonicalize_url("https://example.com:8443/x") == "https://example.com:8443/x"
    assert canonicalize_url("https://example.com/a?b=1&a=2") == "https://example.com/a?b=1&a=2"


def test_host_and_same_site() -> None:
    assert host_of("https://WWW.Example.com/x") == "www.example.com"
    assert host_of("not a url") == ""
    assert same_site("https://www.example.com/a", "http://example.com/b")
    assert not same_site("https://example.com/", "https://example.org/")


# --- parse_host_address ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("１２７.０.０.１", "127.0.0.1"),  # fullwidth digits, folded by NFKC as URL parsers do
        ("169.254.43518", "169.254.169.254"),
        ("0", "0.0.0.0"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("[::ffff:7f00:1]", "::ffff:7f00:1"),
        ("[fe80::1%25eth0]", "fe80::1"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_parse_host_address_spellings(host: str, expected: str) -> None:
    assert parse_host_address(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize(
    "host",
    ["example.com", "localhost", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "1.2.65536", "08.0.0.1", "0x1g.0.0.1",
     "4294967296", "[not:an:ip]", "", "127.0.0.1.evil.com", "1e2", "-1"],
)  # fmt: skip
def test_parse_host_address_rejects_names(host: str) -> None:
    assert parse_host_address(host) is None


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_ipv4_spelling_agrees(value: int) -> None:
    ip = ipaddress.IPv4Address(value)
    a, b, c, d = ip.packed
    spellings = [
        str(ip), str(value), hex(value), f"{a}.{(b << 16) | (c << 8) | d}", f"{a}.{b}.{(c << 8) | d}",
        f"0{a:o}.0x{b:x}.{c}.{d}",
    ]  # fmt: skip
    assert {parse_host_address(s) for s in spellings} == {ip}


# --- address_kind / is_public_address -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.255", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "'this network'"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", ""),
        ("255.255.255.255", ""),
        ("192.0.2.1", ""),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "unique-local"),
        ("fd12:3456::1", "unique-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::127.0.0.1", "loopback"),
        ("64:ff9b::a00:1", "private"),
        ("2002:7f00:1::", "loopback"),
        ("2002:a00:1::", "private"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"),  # Teredo client 10.0.0.1
    ],
)
def test_non_public_addresses(address: str, kind: str) -> None:
    ip = ipaddress.ip_address(address)
    assert not is_public_address(ip)
    assert kind in (address_kind(ip) or "")


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.0", "172.32.0.1",
                "2001:4860:4860::8888", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"],
)  # fmt: skip
def test_public_addresses(address: str) -> None:
    # Only literals are checked here: nothing connects to these addresses.
    assert is_public_address(ipaddress.ip_address(address))
    assert address_kind(ipaddress.ip_address(address)) is None


# --- check_url_scheme -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://example.com/", "https://example.com/a?b", "HTTPS://EXAMPLE.COM"])
def test_check_url_scheme_accepts_http(url: str) -> None:
    check_url_scheme(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/", "scheme 'ftp'"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("data:text/html,hi", "scheme 'data'"),
        ("//example.com/x", "no scheme"),
        ("example.com/x", "no scheme"),
        ("http:///path", "no host"),
        ("http://[::1/x", "not a valid URL"),
    ],
)
def test_check_url_scheme_refuses(url: str, reason: str) -> None:
    with pytest.raises(FetchError, match=reason) as info:
        check_url_scheme(url)
    assert info.value.url == url
    assert str(info.value).startswith(f"refused {url}: ")


# --- validate_url ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://example.com/", "https://example.com:8443/a?b=c#d", "http://b\u00fccher.de/", "http://xn--bcher-kva.de/",
     "http://127.0.0.1:1/", "http://[::1]:65535/", "http://example.com./", "http://_dmarc.example.com/",
     "http://r3---sn-abc.googlevideo.com/", "http://user:pw@example.com/", "http://example.com:/",
     "http://example.com/caf\u00e9?q=\u00e9t\u00e9", "http://" + "a" * 63 + ".com/",
     "http://example.com/" + "a" * (MAX_URL_LENGTH - 19)],
)  # fmt: skip
def test_validate_url_accepts(url: str) -> None:
    assert validate_url(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://h:65536/", "port 65536 is out of range; a port is a number from 1 to 65535"),
        ("http://h:99999/", "port 99999 is out of range"),
        ("http://h:0/", "port 0 is out of range"),
        ("http://h:-1/", "port '-1' is not a number"),
        ("http://h:80a/", "port '80a' is not a number"),
        ("http://h:" + "9" * 2000 + "/", "is not a number"),  # under MAX_URL_LENGTH: the port is the problem
        ("http://[::1]x/", "'x' follows the host"),
        ("http://a..b/", "host 'a..b' has an empty label"),
        ("http://.a/", "empty label"),
        ("http://xn--/", "host 'xn--' has a malformed IDNA label"),
        ("http://xn--zz.com/", "malformed IDNA label 'xn--zz'"),
        ("http://" + "a" * 64 + ".com/", "has a label of 64 characters; DNS allows at most 63"),
        ("http://" + "a" * 60 + ".b\u00fccher" * 30 + ".de/", "DNS allows at most"),
        ("http://" + ("a" * 60 + ".") * 5 + "com/", "characters long; DNS allows at most 253"),
        ("http://\u2603\u2603.com/", "is not a valid internationalised name"),
        ("http://a b/", "a space at position 8; write spaces in a URL as %20"),
        ("http://example.com/a b", "a space at position 20"),
        (" http://example.com/", "a space at position 0"),
        ("http://example.com/\u3000", "the white-space character \\u3000"),
        ("http://example.com/a\nb", "the white-space character \\n"),
        ("http://example.com/\x01", "the control character \\x01 at position 19"),
        ("http://example.com/\x7f", "the control character \\x7f"),
        ("http://example.com/caf\udce9", "\\udce9 at position 22, a byte that is not UTF-8"),
        ("http://ex\udcff.com/", "a byte that is not UTF-8"),
        ("http://a%20b/", "contains '%', which a host name cannot"),
        ("http://a*b/", "contains '*'"),
        ("http://[zz]/", "not a valid URL"),
        ("ftp://example.com/", "scheme 'ftp'; only http and https"),
        ("http:///x", "the URL has no host"),
        ("http://example.com/" + "a" * MAX_URL_LENGTH, f"over the limit of {MAX_URL_LENGTH}"),
    ],
)
def test_validate_url_refuses(url: str, reason: str) -> None:
    with pytest.raises(InvalidURL) as info:
        validate_url(url)
    error = info.value
    assert reason in str(error)
    assert isinstance(error, FetchError)
    assert error.url == url
    assert error.status is None
    assert error.reason in str(error)
    message = str(error)
    assert message.startswith("refused ")
    assert message.isprintable()  # one line: no newline, no control character, no surrogate
    assert len(message) < 500


def test_shown_url_escapes_and_cuts() -> None:
    assert shown_url("http://x/\n\udcff") == "http://x/\\n\\udcff"
    long = "http://x/" + "a" * 1000
    assert shown_url(long) == long[:SHOWN_URL_CHARS] + "..."


@given(st.text(max_size=300))
def test_url_problem_never_raises(text: str) -> None:
    for url in (text, "http://" + text, "http://example.com/" + text, "http://h:" + text):
        problem = url_problem(url)
        assert problem is None or problem.isprintable()
