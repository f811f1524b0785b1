"""Writing the archive: each fetched response as WARC/1.1 request + response records.

Input: one final HTTP exchange (the request sent, the response status and headers, the body as
the fetcher decoded it). Output: gzip-per-record WARC/1.1 files named
`scraper-<YYYYmmddHHMMSS>-<pid>-<serial>.warc.gz` under storage.archive_dir, each starting with a
warcinfo record, and a WarcRef (file, offset, length) of every response record. Settings:
storage.archive, storage.archive_dir, storage.archive_max_bytes, storage.archive_resources.

warcio builds the records (headers, WARC-Block-Digest, WARC-Payload-Digest); each record is
gzipped here as one member (gzip_member(), ISA-L) and written with ONE write() call, so a kill leaves at
worst a truncated last record in this process's own file (a new process never appends to an old
file). The body stored is the decoded one: Content-Encoding and Transfer-Encoding are removed from
the stored headers (kept as X-Archive-Orig-*) and Content-Length is the stored body's length.
Redirect hops are not archived, only the final response. Building, compressing and writing run
in one worker thread (the compressor and hashlib release the GIL), so the event loop keeps fetching.

An OSError (disk full, permission, the directory is a file) stops archiving for the rest of the
run with one warning naming the file and the fix; the pages are still stored, without a pointer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import itertools
import logging
import os
import threading
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from .. import __version__
from ..models import WarcRef
from . import DEFLATE, ISAL, stored_path

__all__ = ["ArchiveWriter", "Exchange", "run_info", "warcinfo_member"]

logger = logging.getLogger(__name__)

WARC_VERSION = "1.1"
# ISO 28500:2017 (WARC 1.1), as the warcinfo record's conformsTo names it.
CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
# The gzip level of each record's member, chosen by measurement. Building + compressing a request and
# response pair of a wcxb-dev article page (206 KB average), CPU with zlib: level 9 (warcio's own
# GzippingWrapper) 6.1 ms for 20.7 % of the raw size, 6 4.2 ms for 20.8 %, 3 2.3 ms for 23.1 %,
# 1 2.0 ms for 24.5 %; benchmarks/crawl_bench.py --archive both (1000 pages, CPU-bound on 2 cores,
# quiet machine) measured zlib level 3 at 9.6 % of crawl throughput (CPU +11.2 % a page). ISA-L
# (isal, pycompression's binding of Intel's library) compresses the same 200 wcxb-dev pages at
# level 2 in 0.43 ms for 21.5 % (zlib 3: 2.04 ms for 20.8 %): GZIP_LEVEL above.
# ISA-L level 2; zlib level 3 where isal is missing (see DEFLATE in __init__).
GZIP_LEVEL = 2 if ISAL else 3
# gzip framing for zlib (16 + MAX_WBITS): a gzip member, which is what CDX indexes and readers expect.
_GZIP_WBITS = 31
# Hop-by-hop codings removed from the stored response (the body is stored decoded); the original
# values are kept under this prefix, as pywb and warcprox do.
_DECODED_HEADERS = ("content-encoding", "transfer-encoding")
_ORIG_PREFIX = "X-Archive-Orig-"
# Request headers whose values are credentials (fetch.cookies, a proxy's or a site's login): an
# archive is exported and handed on (`scraper export --format warc`), so the request record keeps
# the header's name and says it was sent, never its value.
REDACTED_REQUEST_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})
REDACTED = "[redacted by scraper]"
# The serial of a file name, counted per process: two writers of one process (two `ingest` calls
# in the same second) never pick the same name.
_SERIALS = itertools.count()


@dataclass(frozen=True, slots=True)
class Exchange:
    """One final HTTP exchange to archive: what was asked, what came back (body decoded)."""

    url: str
    request_line: str
    request_headers: Sequence[tuple[str, str]]
    http_version: str
    status: int
    reason: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    fetched_at: dt.datetime


def run_info(config_path: str | None, extractor: str) -> dict[str, str]:
    """The warcinfo fields of a run: the tool and its version, the format, the extractor, the config."""
    info = {
        "software": f"scraper/{__version__}",
        "format": "WARC File Format 1.1",
        "conformsTo": CONFORMS_TO,
        "extractor": extractor,
    }
    if config_path:
        info["config"] = str(Path(config_path).resolve())
    return info


class ArchiveWriter:
    """Appends exchanges to this process's own WARC files, rotating them by size; thread-safe."""

    def __init__(
        self, directory: str | Path, *, db_path: str | Path, max_bytes: int, info: Mapping[str, str]
    ) -> None:
        self.directory = Path(directory)
        self._db_path = db_path
        self._max_bytes = max_bytes
        self._info = dict(info)
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._path: Path | None = None
        self._size = 0
        self._failed = False
        self._pool: ThreadPoolExecutor | None = None
        self.files: list[Path] = []  # every file this writer opened, in order

    @property
    def failed(self) -> bool:
        """True once a write failed: nothing more is archived this run."""
        return self._failed

    async def archive(self, exchange: Exchange) -> WarcRef | None:
        """Write an exchange in the writer's thread; the response record's WarcRef, None when off."""
        if self._failed:
            return None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.write, exchange)

    def write(self, exchange: Exchange) -> WarcRef | None:
        """Write an exchange now (in the calling thread); the response record's WarcRef, None when off."""
        response, request = _records(exchange)
        with self._lock:
            if self._failed:
                return None
            try:
                self._rotate()
                ref = self._append(response)
                self._append(request)
            except OSError as exc:
                self._give_up(exc)
                return None
        return ref

    def close(self) -> None:
        """Finish the pending writes and close the current file; the files are complete afterwards."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            self._close_file()

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- inside the lock ---------------------------------------------------------------------------

    def _rotate(self) -> None:
        """Open the first file, or a new one when the current one reached max_bytes; warcinfo first."""
        if self._file is not None and self._size < self._max_bytes:
            return
        self._close_file()
        self.directory.mkdir(parents=True, exist_ok=True)
        while self._file is None:
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
            path = self.directory / f"scraper-{stamp}-{os.getpid()}-{next(_SERIALS):05d}.warc.gz"
            with contextlib.suppress(FileExistsError):  # never append to, nor overwrite, another file
                self._file = path.open("xb")
        self._path, self._size = path, 0
        self.files.append(path)
        self._append(warcinfo_member(path.name, self._info))

    def _append(self, member: bytes) -> WarcRef:
        """Write one gzip member with one write() call; its WarcRef."""
        assert self._file is not None
        assert self._path is not None
        offset = self._size
        self._file.write(member)
        self._file.flush()
        self._size += len(member)
        return WarcRef(stored_path(self._db_path, self._path), offset, len(member))

    def _close_file(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                self._give_up(exc)
            self._file = None

    def _give_up(self, exc: OSError) -> None:
        """One warning for the run, then no more archiving; the pages are still stored."""
        self._failed = True
        where = exc.filename or self._path or self.directory
        logger.warning(
            "archive: cannot write %s (%s); archiving stopped for this run, pages are still stored "
            "without a WARC pointer. Free disk space or fix storage.archive_dir's permissions "
            "(or set storage.archive: false)",
            where, exc.strerror or exc,
        )  # fmt: skip
        if self._file is not None:
            with contextlib.suppress(OSError):  # already failing; the warning above names the file
                self._file.close()
            self._file = None


def _records(exchange: Exchange) -> tuple[bytes, bytes]:
    """The gzipped response and request records of an exchange (CPU work, no I/O)."""
    builder = WARCWriter(None, gzip=False, warc_version=WARC_VERSION)
    date = datetime_to_iso_date(exchange.fetched_at.astimezone(dt.timezone.utc).replace(tzinfo=None), True)
    http_headers = StatusAndHeaders(
        f"{exchange.status} {exchange.reason}".rstrip(),
        _stored_headers(exchange.headers, len(exchange.body)),
        protocol=exchange.http_version,
    )
    response = builder.create_warc_record(
        exchange.url,
        "response",
        payload=io.BytesIO(exchange.body),
        length=len(exchange.body),
        http_headers=http_headers,
        warc_headers_dict={"WARC-Date": date},
    )
    sent = [
        (name, REDACTED if name.lower() in REDACTED_REQUEST_HEADERS else value)
        for name, value in exchange.request_headers
    ]
    request_headers = StatusAndHeaders(exchange.request_line, sent, is_http_request=True)
    request = builder.create_warc_record(
        exchange.url,
        "request",
        http_headers=request_headers,
        warc_headers_dict={
            "WARC-Date": date,
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
        },
    )
    return _gzip_record(response), _gzip_record(request)


def _stored_headers(headers: Sequence[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    """The response headers as stored with the decoded body (see the module docstring)."""
    stored: list[tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if lower in _DECODED_HEADERS:
            stored.append((_ORIG_PREFIX + name, value))
        elif lower == "content-length":
            if value.strip() != str(length):
                stored.append((_ORIG_PREFIX + name, value))
        else:
            stored.append((name, value))
    stored.append(("Content-Length", str(length)))
    return stored


def warcinfo_member(filename: str, info: Mapping[str, str]) -> bytes:
    """A gzipped warcinfo record for a file of this name (the first record of every file we write)."""
    builder = WARCWriter(None, gzip=False, warc_version=WARC_VERSION)
    return _gzip_record(builder.create_warcinfo_record(filename, dict(info)))


def _gzip_record(record: ArcWarcRecord) -> bytes:
    """One record serialised by warcio (uncompressed), then gzipped here as one member."""
    raw = io.BytesIO()
    WARCWriter(raw, gzip=False, warc_version=WARC_VERSION).write_record(record)
    return gzip_member(raw.getbuffer())


def gzip_member(data: bytes | memoryview) -> bytes:
    """`data` as one gzip member at GZIP_LEVEL: one WARC record of a gzip-per-record file."""
    compressor = DEFLATE.compressobj(GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
    member: bytes = compressor.compress(data) + compressor.flush()
    return member
