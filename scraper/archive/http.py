"""HTTP/1.x response messages as archives store them: status line, headers, body.

Input: the bytes of a WARC response record's block (or an ARC record's), and fetch.max_bytes.
Output: an HttpResponse whose body has Transfer-Encoding: chunked and Content-Encoding (gzip,
deflate, br, stacked) undone, never more than max_bytes once decoded (scraper/fetch/body.py's
bounded decoders). wget and Heritrix store what the wire carried; our own archive stores the body
decoded, with the original codings kept as X-Archive-Orig-* headers. Every problem raises
RecordError with a message that names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import FetchError, RecordError, SkippedContent
from ..fetch.body import decode_body

__all__ = ["HttpResponse", "dechunk", "parse_response"]

# The status line: "HTTP/1.1 200 OK"; the reason phrase is optional (RFC 9112 4) and some servers
# send "HTTP/1.1 200" alone.
_STATUS_RE = re.compile(rb"^HTTP/(\d)\.(\d)[ \t]+(\d{3})(?:[ \t]+([^\r\n]*))?$")
# Bytes the status line and headers may take: real heads are a few KB; a megabyte of "header"
# means the block is not an HTTP message.
MAX_HEAD_BYTES = 256 * 1024
# A chunk-size line: hex digits, then optional extensions (";name=value") that are ignored.
_CHUNK_SIZE_RE = re.compile(rb"^([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?$")


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """One HTTP response: status, headers in their order, and the body with every coding removed."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first header of that name (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def media_type(self) -> str:
        """The Content-Type's media type, lowercase ("" when there is none)."""
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The Content-Type's charset parameter, or None."""
        for param in (self.header("content-type") or "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip().strip("\"'"):
                return value.strip().strip("\"'")
        return None


def parse_response(data: bytes, *, max_bytes: int, url: str = "") -> HttpResponse:
    """Parse an HTTP/1.x response message and decode its body.

    Raises:
        RecordError: not an HTTP response, a malformed head or chunked body, a corrupt or unknown
            Content-Encoding; with .oversized set when the decoded body passes max_bytes.
    """
    status, reason, headers, start = _parse_head(data)
    response = HttpResponse(status, reason, headers, b"")
    body = data[start:]
    if "chunked" in (response.header("transfer-encoding") or "").lower():
        body = dechunk(body)
    coding = response.header("content-encoding") or ""
    try:
        body = decode_body(url, body, coding, max_bytes)
    except SkippedContent as exc:
        raise RecordError(
            f"the body is larger than fetch.max_bytes ({max_bytes}) once decoded", oversized=True
        ) from exc
    except FetchError as exc:
        raise RecordError(f"cannot decode the body: {_after_colon(str(exc))}") from exc
    return HttpResponse(status, reason, headers, body)


def _after_colon(message: str) -> str:
    """The problem in a fetch error's message ("GET <url> failed: corrupt gzip body ...")."""
    return message.split(" failed: ", 1)[-1]


def _parse_head(data: bytes) -> tuple[int, str, tuple[tuple[str, str], ...], int]:
    """(status, reason, headers, offset of the body) of a message; lines may end in CRLF or LF."""
    end, sep = _head_end(data)
    lines = data[:end].split(b"\n")
    first = lines[0].rstrip(b"\r")
    match = _STATUS_RE.match(first)
    if match is None:
        raise RecordError(f"not an HTTP response: the payload starts {data[:40]!r}")
    headers: list[tuple[str, str]] = []
    for raw in lines[1:]:
        line = raw.rstrip(b"\r").decode("latin-1")
        if line[:1] in (" ", "\t") and headers:  # obs-fold: a continuation of the previous header
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise RecordError(f"malformed HTTP header line {line[:80]!r}")
        headers.append((name.strip(), value.strip()))
    reason = (match.group(4) or b"").decode("latin-1").strip()
    return int(match.group(3)), reason, tuple(headers), end + sep


def _head_end(data: bytes) -> tuple[int, int]:
    """Where the head ends (the blank line) and the blank line's length."""
    window = data[: MAX_HEAD_BYTES + 4]
    crlf, lf = window.find(b"\r\n\r\n"), window.find(b"\n\n")
    if crlf < 0 and lf < 0:
        if not _STATUS_RE.match(data.split(b"\n", 1)[0].rstrip(b"\r")):
            raise RecordError(f"not an HTTP response: the payload starts {data[:40]!r}")
        if len(data) > MAX_HEAD_BYTES:
            raise RecordError(f"the HTTP head is longer than {MAX_HEAD_BYTES} bytes")
        return len(data), 0  # a head alone, no body (a 304, a HEAD response)
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return crlf, 4
    return lf, 2


def dechunk(data: bytes) -> bytes:
    """The body of a Transfer-Encoding: chunked message (trailers dropped).

    Raises:
        RecordError: a chunk size that is not hex, or the data ends inside a chunk.
    """
    out = bytearray()
    pos = 0
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            raise RecordError(f"chunked body ends at byte {pos} without its last (zero-size) chunk")
        match = _CHUNK_SIZE_RE.match(data[pos:eol].rstrip(b"\r"))
        if match is None:
            raise RecordError(f"chunked body: bad chunk size {data[pos:eol][:20]!r} at byte {pos}")
        size = int(match.group(1), 16)
        pos = eol + 1
        if size == 0:
            return bytes(out)
        if pos + size > len(data):
            raise RecordError(f"chunked body ends inside a chunk of {size} bytes at byte {pos}")
        out += data[pos : pos + size]
        pos += size
        pos += 2 if data[pos : pos + 2] == b"\r\n" else 1 if data[pos : pos + 1] == b"\n" else 0
