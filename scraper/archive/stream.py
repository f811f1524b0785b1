"""The bytes of an archive file, read in bounded pieces: a plain file, or gzip member by member.

Input: an open binary file. Output: lines and blocks of its (decompressed) content, with the
offsets a reader reports and a WarcRef needs: the file offset and length of each gzip member.
Memory stays flat whatever the file size: data is read in CHUNK_BYTES pieces, a skip seeks in a
plain file and inflates and discards in a gzip one, and no gzip member is inflated whole.
Used by read.py only.
"""

from __future__ import annotations

from typing import BinaryIO

from ..fetch.body import GZIP_MAGIC
from . import DEFLATE

# Bytes read from the file, and inflated, per step: large enough to amortise the calls, small
# enough that memory is flat (a 2 GB member is read 64 KB at a time).
CHUNK_BYTES = 64 * 1024
# What a gzip member starts with when resynchronising: the magic and method 8 (deflate, the only
# one defined), so fewer byte pairs inside compressed data are taken for a member start.
MEMBER_MAGIC = GZIP_MAGIC + b"\x08"


class Damaged(Exception):
    """The file's bytes cannot be read here: corrupt gzip data, a member cut short."""


class Stream:
    """A file's content for a record parser: read(), readline(), skip(), one gzip member at a time.

    In a plain file the whole file is one "member". offset() is where the next byte lies: the file
    offset in a plain file, the offset inside the current member's decompressed data in a gzip one.
    """

    def __init__(self, fh: BinaryIO, *, gz: bool) -> None:
        """fh: the file, at offset 0; gz: whether it is a series of gzip members."""
        self.fh, self.gz = fh, gz
        self.member_start = 0  # file offset of the current gzip member
        self.member_end: int | None = None  # file offset just past it, once its end was read
        self._buf = bytearray()
        self._pos = 0  # offset of _buf[0] (see offset())
        self._done = False  # the current member (or the plain file) has no more bytes
        self._z = DEFLATE.decompressobj(31)
        self._pending = b""  # compressed bytes read past the end of the previous member
        self._fed_end = 0  # file offset just past the last compressed byte given to zlib
        self._eof = False  # no gzip member is left in the file

    def offset(self) -> int:
        """Where the next byte comes from (see the class docstring)."""
        return self._pos

    def _fill(self, wanted: int) -> None:
        """Buffer at least `wanted` bytes, or everything the member has left."""
        while len(self._buf) < wanted and not self._done:
            if self.gz:
                self._inflate()
            else:
                data = self.fh.read(max(CHUNK_BYTES, wanted - len(self._buf)))
                self._buf += data
                self._done = not data

    def _inflate(self) -> None:
        data = self._z.unconsumed_tail
        if not data:
            data, self._pending = self._pending or self.fh.read(CHUNK_BYTES), b""
            if not data:
                self._done = True
                raise Damaged("truncated gzip member: the file ends inside it")
            self._fed_end += len(data)
        try:
            self._buf += self._z.decompress(data, CHUNK_BYTES)
        except DEFLATE.error as exc:
            self._done = True
            raise Damaged(f"corrupt gzip member ({exc})") from None
        if self._z.eof:
            self._done = True
            self._pending = self._z.unused_data
            self.member_end = self._fed_end - len(self._pending)

    def read(self, size: int) -> bytes:
        """Up to `size` bytes; fewer only at the end of the member (or file)."""
        self._fill(size)
        out = bytes(self._buf[:size])
        del self._buf[:size]
        self._pos += len(out)
        return out

    def peek(self, size: int) -> bytes:
        """The next `size` bytes (fewer at the end), left in place."""
        self._fill(size)
        return bytes(self._buf[:size])

    def readline(self, limit: int) -> bytes:
        """The next line with its b"\\n", or at most `limit` bytes when no newline comes first."""
        start = 0
        while True:
            end = self._buf.find(b"\n", start)
            if end >= 0 or len(self._buf) >= limit or self._done:
                break
            start = len(self._buf)
            self._fill(len(self._buf) + 1)
        size = min(end + 1 if end >= 0 else len(self._buf), limit)
        return self.read(size)

    def unread(self, data: bytes) -> None:
        """Put bytes just read back in front of the stream."""
        self._buf[:0] = data
        self._pos -= len(data)

    def skip(self, size: int) -> int:
        """Discard up to `size` bytes without keeping them; returns how many were there.

        A plain file seeks (a 2 GB record costs nothing); a gzip member is inflated and dropped
        in CHUNK_BYTES pieces.
        """
        kept = min(size, len(self._buf))
        del self._buf[:kept]
        skipped = kept
        if not self.gz and size > skipped:
            here = self.fh.tell()
            end = self.fh.seek(0, 2)
            target = min(end, here + size - skipped)
            self.fh.seek(target)
            skipped += target - here
        while skipped < size and not self._done:
            self._fill(min(CHUNK_BYTES, size - skipped))
            step = min(len(self._buf), size - skipped)
            del self._buf[:step]
            skipped += step
        self._pos += skipped
        return skipped

    def seek(self, offset: int) -> None:
        """Go to a file offset (plain files only)."""
        assert not self.gz, "a gzip stream cannot seek"
        self.fh.seek(offset)
        self._buf.clear()
        self._pos, self._done = offset, False

    def at_end(self) -> bool:
        """Whether the member (or plain file) has no byte left."""
        self._fill(1)
        return not self._buf

    def drain(self) -> None:
        """Discard the rest of the current member (a damaged one ends here: its Damaged was reported)."""
        try:
            while not self._done:
                self.skip(CHUNK_BYTES)
        except Damaged:
            pass
        self._buf.clear()

    def next_member(self) -> int | None:
        """Drop what is left of this member and start the next; None at the end of the file.

        Returns -1 when the next member follows at once, else the file offset where bytes that are
        not gzip begin (skipped up to the next gzip magic, or to the end of the file). After a
        member that was cut short or corrupt (Damaged, already reported), the next member is
        looked for from the byte after its start: zlib may have read past where it really ends.
        """
        if self._eof:
            return None
        self.drain()
        if self.member_end is None:
            start = self.member_start + 1
            self.fh.seek(start)
            found, head = self._find_magic(start, self.fh.read(CHUNK_BYTES))
            if found < 0:
                return None
            self._start_member(found, head)
            return -1
        start = self.member_end
        head = self._pending + self.fh.read(max(0, len(MEMBER_MAGIC) - len(self._pending)))
        if not head:
            return None
        if head.startswith(MEMBER_MAGIC):
            self._start_member(start, head)
            return -1
        found, head = self._find_magic(start, head)
        if found >= 0:
            self._start_member(found, head)
        return start

    def _find_magic(self, start: int, data: bytes) -> tuple[int, bytes]:
        """(file offset, bytes from there to the read position) of the next member at or after start.

        (-1, b"") when there is none: the stream is then at its end.
        """
        base = start
        while True:
            found = data.find(MEMBER_MAGIC)
            if found >= 0:
                return base + found, data[found:]
            more = self.fh.read(CHUNK_BYTES)
            if not more:
                self._pending, self._done, self._eof = b"", True, True
                self._buf.clear()
                return -1, b""
            keep = data[-(len(MEMBER_MAGIC) - 1) :]  # the magic may straddle two reads
            base, data = base + len(data) - len(keep), keep + more

    def _start_member(self, start: int, head: bytes) -> None:
        self.member_start, self.member_end = start, None
        self._pending, self._fed_end = head, start
        self._z = DEFLATE.decompressobj(31)
        self._buf.clear()
        self._pos, self._done = 0, False
