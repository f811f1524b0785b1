"""Snapshot of extract() over the dev sets, one JSON line per page, to prove a refactor changes nothing.

Run from the repo root with this checkout first on the path, before and after a change, then diff:

    PYTHONPATH=$PWD python benchmarks/extract_snapshot.py --out /tmp/snap-before.jsonl --processes 2
    ... change the code ...
    PYTHONPATH=$PWD python benchmarks/extract_snapshot.py --out /tmp/snap-after.jsonl --processes 2
    cmp /tmp/snap-before.jsonl /tmp/snap-after.jsonl

Pages are decoded as benchmarks/extract_bench.py decodes them (the reference scorer's order) and
passed with their manifest URL. Each line holds the page's set and id and every Article field
(the rendered html as a sha256, to keep the file small); an exception is recorded, not raised.
Lines come out in manifest order whatever --processes is, so two runs diff line by line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import sys
from collections.abc import Iterator
from multiprocessing import Pool
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from extract_bench import decode_like_reference  # noqa: E402

DATA = Path("/work/shared/data")


def _tasks(manifests: list[Path], limit: int | None) -> Iterator[tuple[str, str, str, str, str | None]]:
    """(set, id, html path, encoding hint, url) for every page, in manifest order."""
    for manifest in manifests:
        # iterate the file, not str.splitlines(): JSON strings may hold U+2028
        with manifest.open(encoding="utf-8") as lines:
            records = [json.loads(line) for line in lines if line.strip()]
        for rec in records[:limit] if limit else records:
            path = str(manifest.parent / rec["html"])
            yield manifest.parent.name, rec["id"], path, rec.get("encoding") or "", rec.get("url")


def _value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def snapshot_page(task: tuple[str, str, str, str, str | None]) -> str:
    """One page's JSON line."""
    from scraper.extract import extract

    dataset, page_id, path, hint, url = task
    raw = Path(path).read_bytes()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    html = decode_like_reference(raw, hint or None)
    row: dict[str, Any] = {"set": dataset, "id": page_id}
    try:
        art = extract(html, url)
    except Exception as exc:  # a snapshot records failures too: they must not change either
        row["error"] = f"{type(exc).__name__}: {exc}"
    else:
        for name in ("title", "text", "url", "published", "author", "source", "section", "language"):
            row[name] = _value(getattr(art, name))
        row["site_name"] = art.site_name
        row["page_kind"] = art.page_kind
        row["html_sha256"] = hashlib.sha256(art.html.encode()).hexdigest() if art.html is not None else None
    return json.dumps(row, ensure_ascii=False, sort_keys=True)


def main() -> int:
    """Write the snapshot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="JSON lines file to write (keep it outside the repo)")
    parser.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each set")
    parser.add_argument("manifests", nargs="*", help=f"manifest.jsonl files (default: all under {DATA})")
    args = parser.parse_args()
    manifests = [Path(m) for m in args.manifests] or sorted(DATA.glob("*/manifest.jsonl"))
    import warnings

    warnings.simplefilter("ignore")
    tasks = list(_tasks(manifests, args.limit))
    with Path(args.out).open("w", encoding="utf-8") as out:
        if args.processes > 1:
            with Pool(args.processes) as pool:
                for line in pool.imap(snapshot_page, tasks, chunksize=8):
                    out.write(line + "\n")
        else:
            for task in tasks:
                out.write(snapshot_page(task) + "\n")
    print(f"{len(tasks)} pages -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
