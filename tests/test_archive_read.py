"""scraper.archive.read and .http: WARC/ARC records back as responses, skips and problems."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import tracemalloc
import zlib

import brotli
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scraper.archive import stored_path
from scraper.archive.http import dechunk, parse_response
from scraper.archive.read import ArchivedResponse, ArchiveProblem, ArchiveSkip, iter_records, read_record
from scraper.errors import RecordError
from scraper.models import WarcRef
from tests.archives import arc, http, members, offsets, page, response, warc, warcinfo

CAP = 5 * 1024 * 1024


def items(path, **kwargs):
    return list(iter_records(path, max_bytes=kwargs.pop("max_bytes", CAP), **kwargs))


def urls(found):
    return [i.url for i in found if isinstance(i, ArchivedResponse)]


def problems(found):
    return [i for i in found if isinstance(i, ArchiveProblem)]


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- formats ---


def test_plain_warc_gives_responses_with_date_charset_and_a_ref_per_record(tmp_path):
    records = [warcinfo(), response(1), response(2)]
    path = write(tmp_path, "a.warc", b"".join(records))
    found = items(path, db_path=tmp_path / "corpus.db")
    assert urls(found) == ["http://example.com/1", "http://example.com/2"]
    first = found[0]
    assert first.date == dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)
    assert (first.status, first.media_type, first.charset) == (200, "text/html", "utf-8")
    assert first.body == page(1)
    at = offsets(*records)
    assert first.ref == WarcRef("a.warc", at[1], len(records[1]))
    assert read_record(path, at[2], len(records[2]), max_bytes=CAP).body == page(2)


def test_gzip_per_record_refs_are_the_members_and_read_back_alone(tmp_path):
    records = [warcinfo(), response(1), response(2)]
    gz = [gzip.compress(r) for r in records]
    path = write(tmp_path, "a.warc.gz", b"".join(gz))
    found = items(path, db_path=tmp_path / "corpus.db")
    at = offsets(*gz)
    assert [r.ref for r in found] == [
        WarcRef(stored_path(tmp_path / "corpus.db", path), at[i], len(gz[i])) for i in (1, 2)
    ]
    assert read_record(path, at[1], len(gz[1]), max_bytes=CAP).url == "http://example.com/1"


def test_whole_file_gzip_is_read_without_refs(tmp_path):
    path = write(tmp_path, "a.warc.gz", gzip.compress(warcinfo() + response(1) + response(2)))
    found = items(path)
    assert urls(found) == ["http://example.com/1", "http://example.com/2"]
    assert [r.ref for r in found] == [None, None]


def test_gzip_is_detected_by_content_not_name(tmp_path):
    path = write(tmp_path, "named-plain.warc", members(response(1)))
    assert urls(items(path)) == ["http://example.com/1"]


def test_warc_written_by_warcio_is_read(tmp_path):
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    writer.write_record(writer.create_warcinfo_record("w.warc.gz", {"software": "test"}))
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.0")
    record = writer.create_warc_record(
        "https://example.org/x", "response", payload=io.BytesIO(page(7)), http_headers=headers
    )
    writer.write_record(record)
    record.raw_stream.close()  # warcio's temporary buffer of the payload
    found = items(write(tmp_path, "w.warc.gz", buf.getvalue()))
    assert urls(found) == ["https://example.org/x"]
    assert found[0].body == page(7)


def test_arc_plain_and_gzip(tmp_path):
    data = arc(("http://example.com/1", http(page(1))), ("http://example.com/2", http(page(2))))
    assert urls(items(write(tmp_path, "a.arc", data))) == ["http://example.com/1", "http://example.com/2"]
    first = items(write(tmp_path, "b.arc.gz", gzip.compress(data)))[0]
    assert first.date == dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)
    assert first.body == page(1)


def test_arc_gzip_per_record(tmp_path):
    whole = arc(("http://example.com/1", http(page(1))))
    split = whole.index(b"http://example.com/1 ")
    path = write(tmp_path, "c.arc.gz", gzip.compress(whole[:split]) + gzip.compress(whole[split:]))
    found = items(path)
    assert urls(found) == ["http://example.com/1"]
    assert found[0].ref is not None


def _chunked(data: bytes, size: int = 100) -> bytes:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    parts = [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces]
    return b"".join(parts) + b"0\r\n\r\n"


def test_chunked_gzip_payload_as_wget_stores_it(tmp_path):
    headers = (("Content-Type", "text/html"), ("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip"))
    block = http(_chunked(gzip.compress(page(3))), headers=headers)
    found = items(write(tmp_path, "wget.warc", warc(block, uri="http://example.com/3")))
    assert found[0].body == page(3)


def test_revisit_is_skipped_with_a_reason_and_request_metadata_silently(tmp_path):
    data = warc(b"GET / HTTP/1.1\r\n\r\n", kind="request") + warc(b"", kind="revisit")
    data += warc(b"a: b\r\n", kind="metadata") + response(1)
    found = items(write(tmp_path, "r.warc", data))
    assert [type(i) for i in found] == [ArchiveSkip, ArchivedResponse]
    assert "revisit" in found[0].reason


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        (http(b"{}", headers=(("Content-Type", "application/json"),)), "application/json is not HTML"),
        (http(page(1), status="404 Not Found"), "HTTP 404"),
        (http(b"\x89PNG\r\n\x1a\n" + bytes(200), headers=(("Content-Type", "text/html"),)), "a PNG image"),
    ],
)
def test_responses_that_hold_no_html_page_are_skipped(tmp_path, block, reason):
    found = items(write(tmp_path, "s.warc", warc(block) + response(2)))
    assert isinstance(found[0], ArchiveSkip)
    assert reason in found[0].reason
    assert urls(found) == ["http://example.com/2"]


# --- bad input: each one problem naming file and offset, the rest of the file read ---


def test_truncated_gzip_member_at_the_end(tmp_path):
    gz = [gzip.compress(r) for r in (response(1), response(2))]
    data = gz[0] + gz[1][: len(gz[1]) // 2]
    path = write(tmp_path, "t.warc.gz", data)
    found = items(path)
    assert urls(found) == ["http://example.com/1"]
    [problem] = problems(found)
    assert str(problem).startswith(f"{path}: offset {len(gz[0])}: ")
    assert "truncated" in problem.message


def test_truncated_gzip_member_in_the_middle_then_the_rest(tmp_path):
    gz = [gzip.compress(r) for r in (response(1), response(2), response(3))]
    data = gz[0] + gz[1][: len(gz[1]) // 2] + gz[2]
    found = items(write(tmp_path, "t.warc.gz", data))
    assert urls(found) == ["http://example.com/1", "http://example.com/3"]
    assert [p.offset for p in problems(found)] == [len(gz[0])]


@pytest.mark.parametrize("delta", [-10, 10])
def test_content_length_that_lies_in_a_plain_file(tmp_path, delta):
    good = response(1)
    lying = warc(http(page(2)), uri="http://example.com/2", length=len(http(page(2))) + delta)
    path = write(tmp_path, "l.warc", good + lying + response(3))
    found = items(path)
    assert urls(found) == ["http://example.com/1", "http://example.com/3"]
    [problem] = problems(found)
    assert problem.offset == len(good)
    assert "Content-Length" in problem.message
    assert str(problem).startswith(f"{path}: offset {len(good)}: ")


@pytest.mark.parametrize("delta", [-10, 10])
def test_content_length_that_lies_in_a_gzip_member(tmp_path, delta):
    lying = warc(http(page(2)), uri="http://example.com/2", length=len(http(page(2))) + delta)
    gz = [gzip.compress(r) for r in (response(1), lying, response(3))]
    found = items(write(tmp_path, "l.warc.gz", b"".join(gz)))
    assert urls(found) == ["http://example.com/1", "http://example.com/3"]
    assert [p.offset for p in problems(found)] == [len(gz[0])]


def test_whole_file_gzip_with_a_damaged_first_record_reads_the_rest(tmp_path):
    lying = warc(http(page(1)), uri="http://example.com/1", length=len(http(page(1))) - 5)
    found = items(write(tmp_path, "w.warc.gz", gzip.compress(lying + response(2) + response(3))))
    assert urls(found) == ["http://example.com/2", "http://example.com/3"]
    assert [p.offset for p in problems(found)] == [0]


@pytest.mark.parametrize("length", ["-5", "many", ""])
def test_a_content_length_that_is_not_a_number(tmp_path, length):
    bad = warc(http(page(2)), uri="http://example.com/2", length=length)
    found = items(write(tmp_path, "n.warc", response(1) + bad + response(3)))
    assert urls(found) == ["http://example.com/1", "http://example.com/3"]
    [problem] = problems(found)
    assert "bad Content-Length" in problem.message


def test_target_uri_that_is_not_a_url(tmp_path):
    bad = warc(http(page(2)), uri="not a url")
    path = write(tmp_path, "u.warc", response(1) + bad + response(3))
    found = items(path)
    assert urls(found) == ["http://example.com/1", "http://example.com/3"]
    [problem] = problems(found)
    assert problem.offset == len(response(1))
    assert "'not a url' is not an http(s) URL" in problem.message


def test_target_uri_too_long_to_store_is_skipped_with_its_reason(tmp_path):
    # a stored URL is an index key: PostgreSQL refused one of 3,000 characters (the ingest stopped)
    long = "http://example.com/" + "a" * 3000
    path = write(tmp_path, "u.warc", response(1) + warc(http(page(2)), uri=long) + response(3))
    found = items(path)
    assert urls(found) == ["http://example.com/1", "http://example.com/3"]
    [skip] = [i for i in found if isinstance(i, ArchiveSkip)]
    assert skip.url == long
    assert "over 2048 characters" in skip.reason


def test_non_http_payload_is_skipped_naming_the_record(tmp_path):
    odd = warc(b"just some bytes, not HTTP", uri="http://example.com/2", content_type="text/plain")
    path = write(tmp_path, "n.warc", response(1) + odd + response(3))
    found = items(path)
    assert urls(found) == ["http://example.com/1", "http://example.com/3"]
    [skip] = [i for i in found if isinstance(i, ArchiveSkip)]
    assert str(skip).startswith(f"{path}: offset {len(response(1))}: ")
    assert "not HTTP" in skip.reason


def test_a_2_gib_record_is_skipped_without_reading_it(tmp_path):
    size = 2 * 1024**3
    head = warc(b"", uri="http://example.com/big", length=size).removesuffix(b"\r\n\r\n")
    path = tmp_path / "big.warc"
    with path.open("wb") as fh:
        fh.write(response(1) + head)
        fh.seek(size, os.SEEK_CUR)  # sparse: the 2 GiB are a hole, no disk used
        fh.write(b"\r\n\r\n" + response(3))
    tracemalloc.start()
    try:
        found = items(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert urls(found) == ["http://example.com/1", "http://example.com/3"]
    [skip] = [i for i in found if isinstance(i, ArchiveSkip)]
    assert skip.offset == len(response(1))
    assert f"{size} bytes" in skip.reason
    assert peak < 16 * 1024 * 1024  # the record was never read into memory


def test_oversized_record_in_gzip_is_skipped(tmp_path):
    big = warc(http(b"<p>" + b"x" * 300_000), uri="http://example.com/big")
    found = items(write(tmp_path, "o.warc.gz", members(response(1), big, response(3))), max_bytes=10_000)
    assert [type(i) for i in found] == [ArchivedResponse, ArchiveSkip, ArchivedResponse]
    assert "larger than fetch.max_bytes" in found[1].reason


def test_a_file_that_is_not_a_warc_is_one_problem(tmp_path):
    path = write(tmp_path, "page.html", page(1))
    expected = f"{path}: offset 0: not a WARC or ARC file (it starts {page(1)[:16]!r})"
    assert [str(i) for i in items(path)] == [expected]


def test_gzip_that_is_not_a_warc_is_one_problem(tmp_path):
    found = items(write(tmp_path, "page.html.gz", gzip.compress(page(1))))
    assert len(found) == 1
    assert "not a WARC or ARC file" in found[0].message


def test_garbage_between_records_in_a_plain_file(tmp_path):
    path = write(tmp_path, "g.warc", response(1) + b"\x00garbage\r\nmore garbage\r\n" + response(3))
    found = items(path)
    assert urls(found) == ["http://example.com/1", "http://example.com/3"]
    assert [p.offset for p in problems(found)] == [len(response(1))]


def test_garbage_between_gzip_members(tmp_path):
    first = gzip.compress(response(1))
    found = items(write(tmp_path, "g.warc.gz", first + b"garbage" + gzip.compress(response(3))))
    assert urls(found) == ["http://example.com/1", "http://example.com/3"]
    assert [p.offset for p in problems(found)] == [len(first)]


def test_read_record_of_a_damaged_record_raises(tmp_path):
    path = write(tmp_path, "d.warc.gz", gzip.compress(response(1))[:-20])
    with pytest.raises(RecordError, match="truncated"):
        read_record(path, 0, path.stat().st_size, max_bytes=CAP)


# --- http.py ---


def test_http_stacked_encodings_are_undone():
    body = brotli.compress(zlib.compress(page(1)))
    message = http(body, headers=(("Content-Type", "text/html"), ("Content-Encoding", "deflate, br")))
    assert parse_response(message, max_bytes=CAP).body == page(1)


def test_http_gzip_bomb_stops_at_the_cap():
    message = http(gzip.compress(bytes(50_000_000)), headers=(("Content-Encoding", "gzip"),))
    with pytest.raises(RecordError, match=r"larger than fetch\.max_bytes") as caught:
        parse_response(message, max_bytes=CAP)
    assert caught.value.oversized


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"5\r\nabc", "ends inside a chunk"),
        (b"zz\r\nabc\r\n0\r\n\r\n", "bad chunk size"),
        (b"3\r\nabc\r\n", "without its last"),
    ],
)
def test_dechunk_problems_are_named(data, message):
    with pytest.raises(RecordError, match=message):
        dechunk(data)


def test_http_problems_are_named():
    with pytest.raises(RecordError, match="not an HTTP response"):
        parse_response(b"SMTP hello\r\n\r\n", max_bytes=CAP)
    with pytest.raises(RecordError, match="corrupt gzip"):
        parse_response(http(b"not gzip at all", headers=(("Content-Encoding", "gzip"),)), max_bytes=CAP)
    with pytest.raises(RecordError, match="malformed HTTP header"):
        parse_response(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", max_bytes=CAP)
