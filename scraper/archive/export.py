"""Export to WARC: the archived responses of a selection of articles, copied into one WARC file.

Input: (file, WarcRef) pairs of the chosen articles and a binary stream. Output: a gzip-per-record
WARC: a warcinfo record naming this tool, then each article's response record as it was archived
(its gzip member copied byte for byte; a record from a plain, uncompressed WARC is compressed into
a member of its own). Settings: none. Another tool (pywb, warcio, a CDX indexer) reads the file as
it would our archive, and `scraper ingest --warc` rebuilds the corpus from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..fetch.body import GZIP_MAGIC
from ..models import WarcRef
from .read import read_span
from .write import gzip_member, warcinfo_member


@dataclass(slots=True)
class ExportReport:
    """Records written, and (file, offset, problem) for each record that could not be copied."""

    written: int = 0
    problems: list[tuple[str, int, str]] = field(default_factory=list)


def export_warc(
    records: Iterable[tuple[Path, WarcRef]], stream: IO[bytes], *, filename: str, info: dict[str, str]
) -> ExportReport:
    """Write warcinfo, then every record the pairs point at; a record that cannot be read is reported."""
    report = ExportReport()
    stream.write(warcinfo_member(filename, info))
    for path, ref in records:
        try:
            member = read_span(path, ref.offset, ref.length)
        except OSError as exc:
            report.problems.append((str(path), ref.offset, f"cannot read the record: {exc.strerror or exc}"))
            continue
        if len(member) != ref.length:
            report.problems.append(
                (str(path), ref.offset, f"the file ends {len(member)} bytes into the record")
            )
            continue
        stream.write(member if member.startswith(GZIP_MAGIC) else gzip_member(member))
        report.written += 1
    return report
