"""A real HTTP server on 127.0.0.1 for tests: static fixtures plus routes that misbehave on purpose.

Static files: tests/fixtures/ is served at "/" (so /sites/<name>/... and /pages/<slug>/page.html
work) and also under "/fixtures/". A directory serves its index.html. Static answers carry an ETag
and Last-Modified and honour If-None-Match / If-Modified-Since with 304. "{{BASE}}" in a text file
becomes the server's base URL; "X.gz" where only X exists serves X gzipped. .overlay maps paths to
(status, content type, bytes) served instead of files (a test "publishes" a page there, or breaks
robots.txt); reset() clears it. Each 304 a static answer gives is noted as "304 <path>".

Routes (query parameters optional):
    /html?title=T                a small UTF-8 HTML page
    /status/<code>               that status with a small HTML body
    /flaky/<n>?key=K             503 for the first n requests per (n, key), then an HTML page
    /retry-after/<secs>?key=K    429 with "Retry-After: <secs>" once per key, then an HTML page;
                                 &date=1 sends an HTTP-date instead of seconds
    /slow?size=N&delay=S         Content-Length N, then one byte every S seconds (defaults 100, 0.5)
    /flaky-slow/<n>?key=K&size=N&delay=S   503 at once for the first n requests per (n, key), then
                                 like /slow
    /redirect/<n>?code=C         a chain of n relative redirects ending on an HTML page
    /redirect-to?url=U&code=C    one redirect to U (absolute or relative, any scheme)
    /redirect-heavy?size=N       a 302 to /html with an N-byte body (64 MiB); notes "redirect-heavy:
                                 aborted" when the client hangs up before reading it all
    /gzip-bomb, /brotli-bomb     ~100 KB / ~200 B bodies that inflate to BOMB_SIZE (100 MiB) of spaces
    /gzip, /deflate, /deflate-raw, /br   a normal HTML page in that Content-Encoding
    /big?size=N                  an uncompressed HTML body of N bytes (default 6 MiB)
    /png-as-html                 a PNG image served as text/html
    /pdf                         a PDF served as application/pdf
    /no-content-type?kind=html|binary|text   a body without a Content-Type header
    /gbk?header=0                a GBK page with GBK_WORD, declared gb2312 in the header (and meta)
    /wide?codec=C&charset=L&bom=1&kind=garbage   WIDE_TEXT's page encoded with codec C (utf-16-be),
                                 "charset=L" (default C) in the Content-Type, no BOM unless bom=1;
                                 kind=garbage sends bytes that do not decode as UTF-16 instead
    /etag                        ETAG and LAST_MODIFIED; If-None-Match/If-Modified-Since -> 304
    /retry-after-raw?hex=H&status=S   S (503) with "Retry-After: " and the raw bytes H (hex); hex=b2
                                 is the single byte 0xB2, "²", which str.isdigit() accepts (value=V
                                 also works, V's %-escapes read as latin-1, but a crawl's canonical
                                 URL re-encodes a lone %B2)
    /many-attributes?n=N         an article whose one <p> carries N attributes (slow to extract:
                                 the cost grows with the square of N; 50000 takes ~20 s)
    /links?to=P&to=P...          an HTML page linking to each path P (a start page made in a test)

Every request is recorded (method, path with query, headers, monotonic time) in .requests;
routes can also report events in .notes.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import hashlib
import mimetypes
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import brotli

FIXTURES = Path(__file__).parent / "fixtures"
BOMB_SIZE = 100 * 1024 * 1024
ETAG = '"v1-fixture"'
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"
# "镕" (rong2, a name character) is in GBK but not in GB2312: decoding as strict GB2312 loses it.
GBK_WORD = "朱镕基"
GBK_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="gb2312"><title>中文测试</title></head>'
    f"<body><h1>中文测试</h1><p>{GBK_WORD}总理在北京讲话。</p></body></html>"
)

WIDE_TEXT = "Texte en UTF-16 : très bien, naïve façade."
# Lone high surrogates in UTF-16 (0xD800 twice): bytes that no UTF-16 decoder accepts.
WIDE_GARBAGE = b"\xd8\x00\xd8\x00\x00\x01" * 200


@dataclass(frozen=True)
class Recorded:
    """One request the server saw."""

    method: str
    path: str
    headers: dict[str, str]
    time: float

    @property
    def route(self) -> str:
        """The path without its query string."""
        return urlsplit(self.path).path


def html_page(title: str, body: str = "") -> bytes:
    """A small HTML page as UTF-8 bytes."""
    text = body or f"<p>{title}: a test page with a paragraph of text.</p>"
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1>{text}</body></html>"
    ).encode()


def _png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * 16 for _ in range(16)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _bombs() -> tuple[bytes, bytes]:
    """gzip and brotli bodies that inflate to BOMB_SIZE bytes, built in 1 MiB steps."""
    block = b" " * (1 << 20)
    gz = zlib.compressobj(9, zlib.DEFLATED, 31)
    br = brotli.Compressor(quality=5)
    gz_parts, br_parts = [], []
    for _ in range(BOMB_SIZE // len(block)):
        gz_parts.append(gz.compress(block))
        br_parts.append(br.process(block))
    gz_parts.append(gz.flush())
    br_parts.append(br.finish())
    return b"".join(gz_parts), b"".join(br_parts)


class FixtureServer:
    """A threaded HTTP server on 127.0.0.1:<free port>; use .url(path), .requests and .reset()."""

    def __init__(self, root: Path = FIXTURES) -> None:
        self.root = root
        self.gzip_bomb, self.brotli_bomb = _bombs()
        self.png = _png_bytes()
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._counters: dict[str, int] = {}
        self._notes: list[str] = []
        self.overlay: dict[str, tuple[int, str, bytes]] = {}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fixture-server", daemon=True)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        """The absolute URL of a path on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def start(self) -> FixtureServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def requests(self) -> list[Recorded]:
        """A copy of every request seen since the last reset(), oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, route: str) -> list[Recorded]:
        """The recorded requests whose path (without query) equals route."""
        return [r for r in self.requests if r.route == route]

    def reset(self) -> None:
        """Forget recorded requests and the per-key counters of /flaky and /retry-after."""
        with self._lock:
            self._requests.clear()
            self._counters.clear()
            self._notes.clear()
            self.overlay.clear()

    @property
    def notes(self) -> list[str]:
        """Events routes report (e.g. "redirect-heavy: aborted"), oldest first."""
        with self._lock:
            return list(self._notes)

    def note(self, event: str) -> None:
        """Record an event a route observed."""
        with self._lock:
            self._notes.append(event)

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self._requests.append(request)

    def _count(self, key: str) -> int:
        """How many times key was seen before this call."""
        with self._lock:
            seen = self._counters.get(key, 0)
            self._counters[key] = seen + 1
            return seen


def _handler_for(server: FixtureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    owner: FixtureServer
    server_version = "FixtureServer/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        """Record the request, then dispatch on the first path segment."""
        self.owner._record(Recorded("GET", self.path, dict(self.headers.items()), time.monotonic()))
        parts = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        segments = parts.path.strip("/").split("/")
        route = getattr(self, "route_" + segments[0].replace("-", "_"), None)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if route is not None:
                route(*segments[1:])
            else:
                self._static(parts.path)

    # --- helpers ---------------------------------------------------------------------------------

    def _send(
        self, status: int, body: bytes = b"", content_type: str | None = "text/html", **headers: str
    ) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _static(self, path: str) -> None:
        if path in self.owner.overlay:
            status, kind, body = self.owner.overlay[path]
            if status == 200:
                self._send_versioned(body, kind, time.time())
            else:
                self._send(status, body, kind)
            return
        relative = path.removeprefix("/fixtures").lstrip("/")
        file = (self.owner.root / relative).resolve()
        if file.is_dir():
            file = file / "index.html"
        root = self.owner.root.resolve()
        zipped = file.suffix == ".gz" and not file.exists()
        source = file.with_suffix("") if zipped else file
        if root not in source.parents or not source.is_file():
            self._send(404, html_page("Not found"))
            return
        body = source.read_bytes()
        kind = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind.endswith("xml"):
            body = body.replace(b"{{BASE}}", self.owner.base_url.encode())
        if zipped:
            body, kind = gzip.compress(body, mtime=0), "application/gzip"
        self._send_versioned(body, kind, source.stat().st_mtime)

    def _send_versioned(self, body: bytes, kind: str, mtime: float) -> None:
        """200 with ETag and Last-Modified, or 304 when the request's validators still match."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(int(mtime), usegmt=True)
        match = self.headers.get("If-None-Match")
        since = self.headers.get("If-Modified-Since")
        if match == etag or (match is None and since == modified):
            self.owner.note(f"304 {self.path}")
            self._send(304, b"", None, ETag=etag, Last_Modified=modified)
        else:
            self._send(200, body, kind, ETag=etag, Last_Modified=modified)

    # --- routes: route_<first segment>(*rest) --------------------------------------------------

    def route_html(self) -> None:
        self._send(200, html_page(self.query.get("title", "Hello")), "text/html; charset=utf-8")

    def route_status(self, code: str) -> None:
        status = int(code)
        body = b"" if status in (204, 304) or status < 200 else html_page(f"Status {status}")
        self._send(status, body)

    def route_flaky(self, n: str) -> None:
        seen = self.owner._count(f"flaky/{n}/{self.query.get('key', '')}")
        if seen < int(n):
            self._send(503, html_page("Try again"))
        else:
            self._send(200, html_page(f"Flaky page, attempt {seen + 1}"))

    def route_retry_after(self, secs: str) -> None:
        if self.owner._count(f"retry-after/{secs}/{self.query.get('key', '')}") == 0:
            value = secs
            if self.query.get("date"):
                value = email.utils.formatdate(time.time() + float(secs), usegmt=True)
            self._send(429, html_page("Slow down"), Retry_After=value)
        else:
            self._send(200, html_page("After waiting"))

    def route_slow(self) -> None:
        size = int(self.query.get("size", "100"))
        delay = float(self.query.get("delay", "0.5"))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        for _ in range(size):
            self.wfile.write(b" ")
            self.wfile.flush()
            time.sleep(delay)

    def route_redirect(self, n: str) -> None:
        hops = int(n)
        if hops <= 0:
            self._send(200, html_page("End of the redirect chain"))
            return
        code = int(self.query.get("code", "302"))
        self._send(code, b"", Location=f"/redirect/{hops - 1}?code={code}")

    def route_redirect_heavy(self) -> None:
        """A 302 with a large body; notes whether the client read all of it."""
        size = int(self.query.get("size", str(64 * 1024 * 1024)))
        self.send_response(302)
        self.send_header("Location", "/html?title=Light")
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            for block in _blocks(size):
                self.wfile.write(block)
        except OSError:
            self.owner.note("redirect-heavy: aborted")
            raise
        self.owner.note("redirect-heavy: complete")

    def route_redirect_to(self) -> None:
        self._send(int(self.query.get("code", "302")), b"", Location=self.query["url"])

    def route_gzip_bomb(self) -> None:
        self._send(200, self.owner.gzip_bomb, "text/html", Content_Encoding="gzip")

    def route_brotli_bomb(self) -> None:
        self._send(200, self.owner.brotli_bomb, "text/html", Content_Encoding="br")

    def route_gzip(self) -> None:
        body = zlib.compressobj(6, zlib.DEFLATED, 31)
        data = body.compress(html_page("Gzipped page")) + body.flush()
        self._send(200, data, "text/html", Content_Encoding="gzip")

    def route_deflate(self) -> None:
        self._send(200, zlib.compress(html_page("Deflated page")), "text/html", Content_Encoding="deflate")

    def route_deflate_raw(self) -> None:
        raw = zlib.compressobj(6, zlib.DEFLATED, -15)
        data = raw.compress(html_page("Raw deflated page")) + raw.flush()
        self._send(200, data, "text/html", Content_Encoding="deflate")

    def route_br(self) -> None:
        self._send(200, brotli.compress(html_page("Brotli page")), "text/html", Content_Encoding="br")

    def route_big(self) -> None:
        size = int(self.query.get("size", str(6 * 1024 * 1024)))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        head = b"<!DOCTYPE html><html><body><p>"
        self.wfile.write(head)
        for block in _blocks(size - len(head)):
            self.wfile.write(block)

    def route_png_as_html(self) -> None:
        self._send(200, self.owner.png, "text/html")

    def route_pdf(self) -> None:
        self._send(200, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf")

    def route_no_content_type(self) -> None:
        kind = self.query.get("kind", "html")
        body = {"html": html_page("No type"), "binary": self.owner.png, "text": b"just some words"}[kind]
        self._send(200, body, None)

    def route_gbk(self) -> None:
        body = GBK_PAGE.encode("gbk")
        declared = "text/html" if self.query.get("header") == "0" else "text/html; charset=gb2312"
        self._send(200, body, declared)

    def route_etag(self) -> None:
        fresh = (
            self.headers.get("If-None-Match") == ETAG
            or self.headers.get("If-Modified-Since") == LAST_MODIFIED
        )
        if fresh:
            self._send(304, b"", None, ETag=ETAG, Last_Modified=LAST_MODIFIED)
        else:
            self._send(200, html_page("Versioned page"), "text/html", ETag=ETAG, Last_Modified=LAST_MODIFIED)

    def route_retry_after_raw(self) -> None:
        raw = parse_qs(urlsplit(self.path).query, encoding="latin-1")
        value = (
            bytes.fromhex(self.query["hex"]).decode("latin-1") if "hex" in self.query else raw["value"][-1]
        )
        status = int(self.query.get("status", "503"))
        body = html_page("Retry later")
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Retry-After", value)  # http.server writes header values as latin-1
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route_flaky_slow(self, n: str) -> None:
        if self.owner._count(f"flaky-slow/{n}/{self.query.get('key', '')}") < int(n):
            self._send(503, html_page("Try again"))
        else:
            self.route_slow()

    def route_wide(self) -> None:
        codec = self.query.get("codec", "utf-16-be")
        body = html_page("Wide", f"<p>{WIDE_TEXT}</p>").decode().encode(codec)
        if self.query.get("bom") == "1":
            body = "\ufeff".encode(codec) + body
        if self.query.get("kind") == "garbage":
            body = WIDE_GARBAGE
        self._send(200, body, f"text/html; charset={self.query.get('charset', codec)}")

    def route_many_attributes(self) -> None:
        n = int(self.query.get("n", "50000"))
        attributes = " ".join(f"data-a{i}=x" for i in range(n))
        words = "An article whose paragraph carries a great many attributes. " * 20
        body = (
            f"<!DOCTYPE html><html><head><title>Many attributes</title></head><body><article>"
            f"<h1>Many attributes</h1><p {attributes}>{words}</p></article></body></html>"
        ).encode()
        self._send(200, body, "text/html; charset=utf-8")

    def route_links(self) -> None:
        targets = parse_qs(urlsplit(self.path).query).get("to", [])
        items = "".join(f'<li><a href="{t}">{t}</a></li>' for t in targets)
        self._send(200, html_page("Links", f"<ul>{items}</ul>"), "text/html; charset=utf-8")


def _blocks(size: int, block: int = 65536) -> Iterator[bytes]:
    while size > 0:
        n = min(block, size)
        yield b"x" * n
        size -= n
