"""Reading archived responses back: WARC 1.0/1.1 and ARC v1 files, plain or gzip.

Input: a file path (a CC-NEWS file, a `wget --warc-file` output, our own archive) and
fetch.max_bytes. Output: per record, an ArchivedResponse (an HTML page to extract), an ArchiveSkip
(a record a user may want to hear about: revisit, not HTTP, not HTML, not 2xx, oversized) or an
ArchiveProblem (damage: one per bad record, naming the file, the offset and the problem). Records
no user asks about (warcinfo, request, metadata) pass silently.

gzip is recognised by its magic bytes, not the name: one member per record (what CDX indexes and
our archive use; each record then has a WarcRef to its member) or the whole file in one member
(`gzip x.warc`: no random access, ref None). After a problem the reader resynchronises: at the
next gzip member, or in a plain file at the next line that starts a record. Memory stays flat
(stream.py): a record over the cap is skipped without being read, by a seek where the file allows.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import RecordError, SkippedContent
from ..fetch import HTML_TYPES
from ..fetch.body import GZIP_MAGIC, SNIFF_BYTES, check_sniffed
from ..models import WarcRef
from ..urls import MAX_URL_LENGTH, fits
from . import stored_path
from .http import parse_response
from .stream import Damaged, Stream

__all__ = ["ArchiveProblem", "ArchiveSkip", "ArchivedResponse", "iter_records", "read_record", "read_span"]

# Bytes a record's block may hold beyond fetch.max_bytes: the HTTP status line and headers.
HEAD_ALLOWANCE = 256 * 1024
# The longest header line read as one line; a longer one is not a WARC or ARC header.
MAX_LINE_BYTES = 64 * 1024
# WARC header block limit: real ones are under 2 KB.
MAX_WARC_HEAD_BYTES = 256 * 1024
# Record types skipped without a word: they never hold a page (ISO 28500 6.3).
SILENT_TYPES = frozenset({"warcinfo", "request", "metadata", "conversion", "continuation"})
# An ARC v1 (or v2) record header: URL, IP address, 14-digit date, content type, ..., length.
_ARC_HEADER_RE = re.compile(rb"^\S+ \S+ \d{14} \S*(?: \S+)* \d+\r?\n$")
# WARC-Date: ISO 8601 UTC to the second, WARC 1.1 allows a fraction (ISO 28500 5.4).
_WARC_DATE_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?Z$")


@dataclass(frozen=True, slots=True)
class ArchivedResponse:
    """One archived HTTP response to extract: the target URI, the capture date, the decoded body."""

    url: str
    date: dt.datetime
    status: int
    headers: tuple[tuple[str, str], ...]
    media_type: str
    charset: str | None
    body: bytes
    ref: WarcRef | None
    file: str
    offset: int


@dataclass(frozen=True, slots=True)
class ArchiveSkip:
    """A readable record that holds no page to extract, and why (revisit, not HTML, oversized...)."""

    file: str
    offset: int
    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: offset {self.offset}: {self.url}: skipped, {self.reason}"


@dataclass(frozen=True, slots=True)
class ArchiveProblem:
    """A damaged record or a file that is not an archive: the file, the offset, the problem."""

    file: str
    offset: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}: offset {self.offset}: {self.message}"


ArchiveItem = ArchivedResponse | ArchiveSkip | ArchiveProblem


class _Bad(Exception):
    """One record cannot be read; the reader reports it and resynchronises."""

    def __init__(self, message: str, resume: int | None = None) -> None:
        super().__init__(message)
        self.resume = resume  # plain files: where to look for the next record from


def iter_records(
    path: str | Path, *, max_bytes: int, db_path: str | Path | None = None
) -> Iterator[ArchiveItem]:
    """Every record of a WARC or ARC file, in order, as responses, skips and problems.

    Args:
        max_bytes: fetch.max_bytes, the cap on a decoded body; larger records are skipped.
        db_path: the database the refs are for (their file is stored relative to its folder).
    """
    shown = str(path)
    try:
        fh = Path(path).open("rb")  # noqa: SIM115 (closed below; the open alone may fail)
    except OSError as exc:
        yield ArchiveProblem(shown, 0, f"cannot read the file: {exc.strerror}")
        return
    with fh:
        gz = fh.read(len(GZIP_MAGIC)) == GZIP_MAGIC
        fh.seek(0)
        ref_file = stored_path(db_path, path) if db_path is not None else str(Path(path).resolve())
        yield from _Reader(Stream(fh, gz=gz), shown, ref_file, max_bytes).records()


def read_record(path: str | Path, offset: int, length: int, *, max_bytes: int) -> ArchivedResponse:
    """The response in exactly one record (a WarcRef's gzip member, or plain record).

    Raises:
        RecordError: the file cannot be read there, or the record is damaged or holds no page
            (the message says which).
    """
    try:
        data = read_span(path, offset, length)
    except OSError as exc:
        raise RecordError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) < length:
        raise RecordError(
            f"{path}: offset {offset}: the file ends {length - len(data)} bytes before the record"
        )
    reader = _Reader(
        Stream(io.BytesIO(data), gz=data.startswith(GZIP_MAGIC)), str(path), str(path), max_bytes
    )
    for item in reader.records():
        if isinstance(item, ArchivedResponse):
            return replace(item, offset=offset, ref=WarcRef(str(path), offset, length))
        where = f"{path}: offset {offset}"
        detail = item.reason if isinstance(item, ArchiveSkip) else item.message
        raise RecordError(f"{where}: {detail}")
    raise RecordError(f"{path}: offset {offset}: no response record there")


def read_span(path: str | Path, offset: int, length: int) -> bytes:
    """The `length` bytes of a file at `offset` (fewer when the file ends first): one WarcRef's record."""
    with Path(path).open("rb") as fh:
        fh.seek(offset)
        return fh.read(length)


class _Reader:
    """The record loop over one file's Stream: parse, report, resynchronise."""

    def __init__(self, stream: Stream, shown: str, ref_file: str, max_bytes: int) -> None:
        self.stream, self.shown, self.ref_file = stream, shown, ref_file
        self.max_bytes = max_bytes
        self.arc = False

    def records(self) -> Iterator[ArchiveItem]:
        """Responses, skips and problems, in file order."""
        s = self.stream
        try:
            head = s.peek(16)
        except Damaged as exc:
            yield ArchiveProblem(self.shown, 0, f"not a WARC or ARC file: {exc}")
            return
        if not (head.startswith(b"WARC/") or head.startswith(b"filedesc://")):
            yield ArchiveProblem(self.shown, 0, f"not a WARC or ARC file (it starts {head!r})")
            return
        self.arc = head.startswith(b"filedesc://")
        while True:
            start = s.offset()
            try:
                if s.at_end():
                    if not s.gz or (garbage := s.next_member()) is None:
                        return
                    if garbage >= 0:
                        yield ArchiveProblem(self.shown, garbage, "bytes that are not gzip data; skipped")
                    continue
                item = self._arc_record() if self.arc else self._warc_record()
            except Damaged as exc:
                yield ArchiveProblem(self.shown, s.member_start, str(exc))
                s.drain()  # nothing of a damaged member is used; next_member() looks for the next
                continue
            except _Bad as exc:
                inside = f" (byte {start} of the gzip member, decompressed)" if s.gz and start else ""
                yield ArchiveProblem(self.shown, self._where(start), f"{exc}{inside}")
                self._resync(start, exc.resume)
                continue
            if item is not None:
                yield item

    def _where(self, start: int) -> int:
        """The offset to report for a record that starts at `start` in the stream."""
        s = self.stream
        return s.member_start if s.gz else start

    def _resync(self, start: int, resume: int | None) -> None:
        """Go to the next line that starts a record: in a plain file from `resume` (or just after the
        bad record's start), in a gzip member from here (its end, then the next member, if none)."""
        s = self.stream
        if not s.gz:
            s.seek(resume if resume is not None else start + 1)
        while line := s.readline(MAX_LINE_BYTES):
            if self._starts_record(line):
                s.unread(line)
                return

    def _starts_record(self, line: bytes) -> bool:
        return bool(_ARC_HEADER_RE.match(line)) if self.arc else line.startswith(b"WARC/1.")

    def _warc_record(self) -> ArchiveItem | None:
        """One WARC record: its header block, then its content, then the CRLF CRLF that ends it."""
        start, headers = self._warc_headers()
        shown = headers.get("content-length", "")
        if not shown.isdigit():  # absent, negative, or not a number
            raise _Bad(f"bad Content-Length {shown!r}", self.stream.offset())
        length = int(shown)
        kind = headers.get("warc-type", "").lower()
        url = headers.get("warc-target-uri", "").strip().removeprefix("<").removesuffix(">")
        if kind in SILENT_TYPES or (kind not in ("response", "revisit", "resource") and not url):
            self._skip_block(length)
            return None
        if kind != "response":
            self._skip_block(length)
            reason = (
                "a revisit record (the page is stored in an earlier record)"
                if kind == "revisit"
                else f"a {kind or 'untyped'} record, not a response"
            )
            return ArchiveSkip(self.shown, self._where(start), url, reason)
        return self._response(start, url, length, headers.get("warc-date", ""), _warc_date)

    def _warc_headers(self) -> tuple[int, dict[str, str]]:
        """(offset of the record, its WARC headers with lowercase names)."""
        s = self.stream
        while (line := s.peek(2)) and line[:1] in (b"\r", b"\n"):  # stray blank lines between records
            s.readline(2)
        begin = s.offset()
        first = s.readline(MAX_LINE_BYTES)
        if not first.startswith(b"WARC/"):
            raise _Bad(f"expected a WARC record, found {first[:40]!r}", begin + 1)
        headers: dict[str, str] = {}
        used = len(first)
        while (line := s.readline(MAX_LINE_BYTES)).strip():
            used += len(line)
            if used > MAX_WARC_HEAD_BYTES or not line.endswith(b"\n"):
                raise _Bad("the WARC header block never ends", begin + 1)
            name, colon, value = line.decode("utf-8", "replace").partition(":")
            if colon:
                headers.setdefault(name.strip().lower(), value.strip())
        if not line:
            raise _Bad("the record ends inside its WARC header block", begin + 1)
        return begin, headers

    def _arc_record(self) -> ArchiveItem | None:
        """One ARC record: a header line (URL IP date type length), the content, a newline."""
        s = self.stream
        start = s.offset()
        while s.peek(1) == b"\n":  # the newline that ends the previous record, or a stray one
            s.readline(1)
            start = s.offset()
        line = s.readline(MAX_LINE_BYTES)
        if not _ARC_HEADER_RE.match(line):
            raise _Bad(f"expected an ARC record header, found {line[:40]!r}", start + 1)
        fields = line.decode("utf-8", "replace").split()
        url, date, length = fields[0], fields[2], int(fields[-1])
        if url.startswith(("filedesc:", "dns:")):
            self._skip_block(length, trailer=b"\n")
            return None
        return self._response(start, url, length, date, _arc_date)

    def _response(
        self, start: int, url: str, length: int, date_text: str, parse_date: _DateParser
    ) -> ArchiveItem:
        """A response record's content, read whole (it is under the cap) and checked, as one item."""
        s = self.stream
        trailer = b"\n" if self.arc else b"\r\n\r\n"
        where = self._where(start)
        if length > self.max_bytes + HEAD_ALLOWANCE:
            self._skip_block(length, trailer)
            cap = self.max_bytes
            reason = f"a record of {length} bytes, larger than fetch.max_bytes ({cap}); raise it to keep it"
            return ArchiveSkip(self.shown, where, url, reason)
        block_start = s.offset()
        block = s.read(length)
        if len(block) < length:
            raise _Bad(_cut_short(len(block), length), block_start)
        self._end_record(length, block_start, trailer)
        ref = self._ref(start)
        if not _is_http_url(url):
            return ArchiveProblem(self.shown, where, f"the target URI {url[:200]!r} is not an http(s) URL")
        if not fits(url):
            reason = f"a target URI over {MAX_URL_LENGTH} characters, longer than a stored URL may be"
            return ArchiveSkip(self.shown, where, url, reason)
        try:
            date = parse_date(date_text)
        except ValueError:
            return ArchiveProblem(self.shown, where, f"{url}: bad record date {date_text!r}")
        return self._page(where, url, date, block, ref)

    def _page(
        self, where: int, url: str, date: dt.datetime, block: bytes, ref: WarcRef | None
    ) -> ArchiveItem:
        """The HTTP response in a block as an ArchivedResponse, or why it holds no HTML page."""
        if not block.startswith(b"HTTP/"):
            return ArchiveSkip(
                self.shown, where, url, f"a response that is not HTTP (it starts {block[:24]!r})"
            )
        try:
            response = parse_response(block, max_bytes=self.max_bytes, url=url)
        except RecordError as exc:
            if exc.oversized:
                return ArchiveSkip(self.shown, where, url, f"{exc}; raise fetch.max_bytes to keep it")
            return ArchiveProblem(self.shown, where, f"{url}: {exc}")
        if not 200 <= response.status < 300:
            return ArchiveSkip(self.shown, where, url, f"HTTP {response.status}")
        media_type, charset = response.media_type, response.charset
        if media_type and media_type not in HTML_TYPES:
            return ArchiveSkip(self.shown, where, url, f"content type {media_type} is not HTML")
        try:
            check_sniffed(url, response.body[:SNIFF_BYTES], media_type, charset)
        except SkippedContent as exc:
            return ArchiveSkip(self.shown, where, url, str(exc))
        return ArchivedResponse(
            url, date, response.status, response.headers, media_type or "text/html", charset,
            response.body, ref, self.shown, where,
        )  # fmt: skip

    def _skip_block(self, length: int, trailer: bytes = b"\r\n\r\n") -> None:
        """Pass over a record's content without keeping it (a seek in a plain file)."""
        s = self.stream
        block_start = s.offset()
        got = s.skip(length)
        if got < length:
            raise _Bad(_cut_short(got, length), block_start)
        self._end_record(length, block_start, trailer)

    def _end_record(self, length: int, block_start: int, trailer: bytes) -> None:
        """Read the bytes that end a record; a length that lies leaves other bytes there."""
        s = self.stream
        tail = s.peek(len(trailer))
        if tail == trailer:
            s.read(len(trailer))
        elif trailer == b"\r\n\r\n" and tail.startswith(b"\n\n"):
            s.read(2)  # written with bare newlines
        elif tail:  # nothing at all: the last record without its end marker, complete all the same
            raise _Bad(
                f"the Content-Length ({length}) does not end the record (it is followed by {tail!r}):"
                " the length is wrong or the record is damaged",
                block_start,
            )

    def _ref(self, start: int) -> WarcRef | None:
        """Where the record just read lies, when it can be read alone (plain, or one gzip member)."""
        s = self.stream
        if not s.gz:
            return WarcRef(self.ref_file, start, s.offset() - start)
        if start != 0 or not s.at_end() or s.member_end is None:
            return None  # one of many records in a member (a whole-file gzip): no random access
        return WarcRef(self.ref_file, s.member_start, s.member_end - s.member_start)


_DateParser = Callable[[str], dt.datetime]


def _cut_short(got: int, length: int) -> str:
    return (
        f"the record ends after {got} of the {length} bytes its Content-Length declares"
        " (cut short, or the length is wrong)"
    )


def _is_http_url(url: str) -> bool:
    """Whether a target URI is an absolute http(s) URL with a host and no spaces."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host) and not any(c.isspace() for c in url)


def _warc_date(text: str) -> dt.datetime:
    """A WARC-Date as an aware UTC datetime; ValueError when it is not one."""
    match = _WARC_DATE_RE.match(text.strip())
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    return dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second or 0),
        micro,
        tzinfo=dt.timezone.utc,
    )


def _arc_date(text: str) -> dt.datetime:
    """An ARC date (YYYYmmddHHMMSS, UTC) as an aware datetime; ValueError when it is not one."""
    return dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone.utc)
