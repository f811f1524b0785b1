"""Response bodies: bounded decompression and sniffing, for the fetch stage.

Input: a streamed httpx.Response. Output: the decoded body bytes, at most fetch.max_bytes, or a
SkippedContent when the body is too large or binary. httpx would inflate a 317-byte brotli body
into one 200 MiB chunk; here input is fed in network-sized pieces and no decoder may produce
more than the cap (zlib max_length, brotli output_buffer_limit).
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Sequence
from typing import Protocol

import brotli
import httpx

from ..encoding import wide_encoding
from ..errors import FetchError, SkippedContent

# How much of the decoded body the binary and HTML sniffers look at.
SNIFF_BYTES = 1024
# A gzip stream's first bytes (RFC 1952): saved pages and archives are recognised by content.
GZIP_MAGIC = b"\x1f\x8b"
# Compressed bytes handed to the decoders at a time by decode_body(): like a network read, so no
# single call can inflate far past the cap.
_FEED_BYTES = 64 * 1024
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


class _Overflow(Exception):
    """The decoded body passed fetch.max_bytes."""


async def read_body(
    url: str, response: httpx.Response, media_type: str, cap: int, *, sniff: bool = True
) -> bytes:
    """The decoded body, stopping as soon as it passes max_bytes or (when sniff) looks binary."""
    decoders = _decoders(url, response.headers.get("content-encoding", ""), cap)
    body = bytearray()
    sniffed = not sniff
    try:
        async for chunk in response.aiter_raw():
            for decoder in decoders:
                chunk = decoder.feed(chunk)
            body += chunk
            if not sniffed and len(body) >= SNIFF_BYTES:
                check_sniffed(url, bytes(body[:SNIFF_BYTES]), media_type, response.charset_encoding)
                sniffed = True
        body += _flush(decoders)
    except _Overflow:
        raise _too_large(url, cap) from None
    if len(body) > cap:
        raise _too_large(url, cap)
    if not sniffed:
        check_sniffed(url, bytes(body[:SNIFF_BYTES]), media_type, response.charset_encoding)
    return bytes(body)


def decode_body(url: str, data: bytes, content_encoding: str, cap: int) -> bytes:
    """Undo a Content-Encoding list (gzip, deflate, br; stacked) on bytes already read, at most cap out.

    The bounded decoders of read_body() for a body that is not streamed from the network (an
    archived response, a saved .gz page): input is fed in _FEED_BYTES pieces, so a bomb stops at
    the cap, never inflated whole.

    Raises:
        SkippedContent: the decoded body passes cap.
        FetchError: the body is corrupt, or its Content-Encoding is not one of gzip, deflate, br.
    """
    decoders = _decoders(url, content_encoding, cap)
    if isinstance(decoders[0], _Identity):  # no coding: nothing to feed piece by piece
        if len(data) > cap:
            raise _too_large(url, cap)
        return data
    body = bytearray()
    try:
        for start in range(0, len(data), _FEED_BYTES):
            chunk = data[start : start + _FEED_BYTES]
            for decoder in decoders:
                chunk = decoder.feed(chunk)
            body += chunk
        body += _flush(decoders)
    except _Overflow:
        raise _too_large(url, cap) from None
    return bytes(body)


def _flush(decoders: Sequence[_Decoder]) -> bytes:
    """What the decoders still hold at the end of the body, each one's tail fed through the next."""
    out = b""
    for i, decoder in enumerate(decoders):
        tail = decoder.flush()
        for later in decoders[i + 1 :]:
            tail = later.feed(tail)
        out += tail
    return out


def _too_large(url: str, cap: int) -> SkippedContent:
    reason = f"body is larger than fetch.max_bytes ({cap} bytes); raise fetch.max_bytes to keep it"
    return SkippedContent(url, reason)


def sniff_binary(head: bytes, wide: str | None = None) -> str | None:
    """What binary format a body starts with ("a PNG image", ...), or None when it may be text.

    Args:
        wide: the UTF-16/32 codec the body declares (encoding.wide_encoding); its text is full of
            NUL bytes, so the control characters are counted after decoding. A body that does not
            decode with it is judged by its bytes.
    """
    for signature, name in BINARY_SIGNATURES:
        if head.startswith(signature):
            return name
    if head[4:8] == b"ftyp":
        return "MP4/ISO media"
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return "RIFF media (WebP, WAV or AVI)"
    sample = head[:SNIFF_BYTES]
    if wide is not None:
        try:  # incremental: the sample may end inside a character
            text = codecs.getincrementaldecoder(wide)().decode(sample, final=False)
        except UnicodeDecodeError:
            text = None
        if text is not None:
            return _controls_verdict([ord(c) for c in text], "characters")
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text is full of NUL bytes
        return None
    return _controls_verdict(sample, "bytes")


def _controls_verdict(codes: Sequence[int], unit: str) -> str | None:
    controls = sum(1 for code in codes if code < 0x20 and code not in _TEXT_CONTROLS)
    if codes and controls / len(codes) > _MAX_CONTROL_SHARE:
        return f"binary data ({controls} control {unit} in the first {len(codes)})"
    return None


def check_sniffed(url: str, head: bytes, media_type: str, charset: str | None = None) -> None:
    """Raise SkippedContent when a body is empty, binary, or (without a Content-Type) not HTML.

    Args:
        charset: the Content-Type charset, which may declare UTF-16/32 text without a BOM.
    """
    if not head:
        raise SkippedContent(url, "the body is empty")
    binary = sniff_binary(head, wide_encoding(head, charset))
    if binary is not None:
        served = f"served as {media_type}" if media_type else "served without a Content-Type"
        raise SkippedContent(url, f"{served} but the body is {binary}")
    if not media_type and not _HTML_START_RE.match(head):
        raise SkippedContent(url, "no Content-Type and the body does not look like HTML")


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
        return bytes(out)


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
        return bytes(out)

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
