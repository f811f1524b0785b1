"""Builders of WARC and ARC bytes for tests: records written by hand, so each test controls every byte."""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path

FIXTURE_PAGES = Path(__file__).parent / "fixtures" / "pages"
DATE = "2024-05-01T12:00:00Z"


def page(n: int) -> bytes:
    """A small HTML article, distinct per n."""
    words = " ".join(f"word{n}x{i}" for i in range(60))
    paragraphs = "".join(f"<p>Paragraph {i} of story {n}: {words}.</p>" for i in range(4))
    return (
        f"<html><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>"
        f"{paragraphs}</article></body></html>"
    ).encode()


def http(body: bytes, *, status: str = "200 OK", headers: tuple[tuple[str, str], ...] | None = None) -> bytes:
    """An HTTP/1.1 response message."""
    shown = headers if headers is not None else (("Content-Type", "text/html; charset=utf-8"),)
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in shown)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def warc(
    block: bytes,
    *,
    kind: str = "response",
    uri: str = "http://example.com/a",
    date: str = DATE,
    length: int | str | None = None,
    content_type: str = "application/http; msgtype=response",
) -> bytes:
    """One WARC/1.1 record; `length` makes its Content-Length lie (or not be a number)."""
    head = [
        "WARC/1.1",
        f"WARC-Type: {kind}",
        f"WARC-Record-ID: <urn:uuid:{uuid.uuid4()}>",
        f"WARC-Date: {date}",
        *([f"WARC-Target-URI: {uri}"] if uri else []),
        f"Content-Type: {content_type}",
        f"Content-Length: {len(block) if length is None else length}",
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + block + b"\r\n\r\n"


def response(n: int, **kwargs: object) -> bytes:
    """A WARC response record of page(n) at http://example.com/<n>."""
    return warc(http(page(n)), uri=f"http://example.com/{n}", **kwargs)  # type: ignore[arg-type]


def warcinfo() -> bytes:
    """A warcinfo record, as writers put first."""
    return warc(b"software: test\r\nformat: WARC File Format 1.1\r\n", kind="warcinfo", uri="",
                content_type="application/warc-fields")  # fmt: skip


def members(*records: bytes) -> bytes:
    """Records as a gzip-per-record file."""
    return b"".join(gzip.compress(r) for r in records)


def offsets(*records: bytes) -> list[int]:
    """The offset of each record (or member) when concatenated."""
    out, at = [], 0
    for record in records:
        out.append(at)
        at += len(record)
    return out


def arc(*records: tuple[str, bytes]) -> bytes:
    """An ARC v1 file: the filedesc record, then (url, HTTP message) records."""
    desc = b"1 0 Test\nURL IP-address Archive-date Content-type Archive-length\n"
    out = b"filedesc://test.arc 0.0.0.0 20240501120000 text/plain %d\n" % len(desc) + desc + b"\n"
    for url, block in records:
        out += f"{url} 127.0.0.1 20240501120000 text/html {len(block)}\n".encode() + block + b"\n"
    return out
