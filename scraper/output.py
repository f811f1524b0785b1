"""Formatting of query rows for the terminal and for files: table, json, jsonl, csv.

Input: an iterable of dict rows. Output: text written to a stream, row by
row, so exporting a large corpus keeps memory flat.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterable
from typing import IO, Any

_TABLE_COLUMNS = (("id", 6), ("published", 10), ("site", 14), ("title", 0))


def plural(count: int, noun: str) -> str:
    """'1 URL', '2 URLs': a count with its noun in the right number (nouns taking a plain -s)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, stream: IO[str]) -> int:
    """Write rows in the format; returns how many were written."""
    writer = {"table": _write_table, "json": _write_json, "jsonl": _write_jsonl, "csv": _write_csv}[fmt]
    return writer(rows, stream)


def write_json_texts(items: Iterable[str], fmt: str, stream: IO[str]) -> int:
    """Write rows already encoded as JSON objects, as JSON lines or one JSON array."""
    count = 0
    if fmt == "json":
        stream.write("[")
    for item in items:
        if fmt == "json":
            stream.write(("," if count else "") + "\n" + item)
        else:
            stream.write(item + "\n")
        count += 1
    if fmt == "json":
        stream.write("\n]\n")
    return count


def write_json_bytes(items: Iterable[bytes], fmt: str, stream: IO[bytes]) -> int:
    """write_json_texts() for rows already encoded as UTF-8 JSON, onto a binary stream."""
    count = 0
    if fmt == "json":
        stream.write(b"[")
    for item in items:
        if fmt == "json":  # two writes, not item + separator: that copied every row once more
            stream.write(b",\n" if count else b"\n")
            stream.write(item)
        else:
            stream.write(item)
            stream.write(b"\n")
        count += 1
    if fmt == "json":
        stream.write(b"\n]\n")
    return count


def _write_jsonl(rows: Iterable[dict[str, Any]], stream: IO[str]) -> int:
    count = 0
    for row in rows:
        stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def _write_json(rows: Iterable[dict[str, Any]], stream: IO[str]) -> int:
    count = 0
    stream.write("[")
    for row in rows:
        stream.write(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False))
        count += 1
    stream.write("\n]\n")
    return count


def _write_csv(rows: Iterable[dict[str, Any]], stream: IO[str]) -> int:
    writer: csv.DictWriter[str] | None = None
    count = 0
    for row in rows:
        flat = {k: " ".join(v) if isinstance(v, list) else v for k, v in row.items()}
        if writer is None:
            writer = csv.DictWriter(stream, fieldnames=list(flat))
            writer.writeheader()
        writer.writerow(flat)
        count += 1
    return count


def _write_table(rows: Iterable[dict[str, Any]], stream: IO[str]) -> int:
    width = shutil.get_terminal_size((120, 20)).columns
    count = 0
    for row in rows:
        if count == 0:
            header = [name.ljust(size) for name, size in _TABLE_COLUMNS]
            stream.write("  ".join(header)[:width].rstrip() + "\n")
        cells = []
        for name, size in _TABLE_COLUMNS:
            value = "" if row.get(name) is None else str(row[name])
            cells.append(value[:size].ljust(size) if size else value)
        stream.write("  ".join(cells)[:width].rstrip() + "\n")
        if row.get("snippet"):
            stream.write("        " + " ".join(str(row["snippet"]).split())[: width - 8] + "\n")
        count += 1
    if count == 0:
        stream.write("no matches\n") if stream.isatty() else None
    return count


def article_text(article: dict[str, Any]) -> str:
    """A readable block for one article, its URLs and versions."""
    facts = [
        f"{k}: {article[k]}"
        for k in (
            "id",
            "url",
            "published",
            "author",
            "source",
            "section",
            "site",
            "language",
            "word_count",
            "first_seen",
            "last_seen",
            "extractor",
            "warc_file",
        )
        if article.get(k) is not None
    ]
    urls = [f"  {u['kind']:<16} {u['url']}" for u in article.get("urls", [])]
    versions = [f"  {v['fetched_at']}  {v['title']}{_made_by(v)}" for v in article.get("versions", [])]
    parts = [article.get("title") or "", "\n".join(facts), "URLs:\n" + "\n".join(urls)]
    if versions:
        parts.append("Earlier versions:\n" + "\n".join(versions))
    story = article.get("story") or []
    if len(story) > 1:
        first = story[0]
        lines = [
            f"  {m['site'] or '':<16} {(m['published'] or '')[:10]:<10} {m['kind']:<7} "
            f"{'' if m['similarity'] is None else format(m['similarity'], '.2f'):<4} {m['url']}"
            for m in story
        ]
        head = f"Story ({len(story)} members, first published by {first['site']}: {first['url']}):"
        parts.append(head + "\n" + "\n".join(lines))
    parts.append(article.get("text") or "")
    return "\n\n".join(parts)


def plain_table(rows: list[dict[str, Any]]) -> str:
    """Rows as an aligned text table with a header, every column shown (for `scraper stats`)."""
    names = list(rows[0])
    cells = [[("" if row.get(n) is None else str(row[n])) for n in names] for row in rows]
    widths = [max(len(n), *(len(c[i]) for c in cells)) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join("  " + line.rstrip() for line in lines)


def _made_by(version: dict[str, Any]) -> str:
    """ "  (extractor X)" for a version that records its extractor (schema 8), else ""."""
    return f"  (extractor {version['extractor']})" if version.get("extractor") else ""
