"""Extraction benchmark: our extractor beside trafilatura, readability and newspaper4k, in one run.

Run by hand (comparators come from the `bench` extra, never from runtime deps):

    pip install -e '.[bench]'
    python benchmarks/extract_bench.py ../shared/data/wcxb-dev/manifest.jsonl [--limit N]
        [--extractor scraper --extractor trafilatura ...] [--group-by page_type]
    python benchmarks/extract_bench.py --lodo ../shared/data/*/manifest.jsonl

Each extractor runs in its own subprocess over the same decoded pages, so peak
memory (max RSS of that process) is its own. Scores follow
../shared/tools/extract_eval.py, the scoring reference: ScrapingHub body F1
(4-token shingles, macro P/R), the per-CJK-character variant, trafilatura's
with/without snippet rates, title exact match (NFKC, whitespace), same-day
date, and author (case-folded word match). Speed is the extractor call only.

--lodo scores the fitted parts (the learned paragraph scorer and the title chooser,
scraper/extract/model/) leave-one-dataset-out: per set, our extractor with the rules only,
with the shipped models (plain: fitted on every dev set), and with models fitted without
that set (benchmarks/train_block_model.py and train_title_model.py write them to the temp
directory; they are passed in SCRAPER_BLOCK_MODEL and SCRAPER_TITLE_MODEL), beside
trafilatura in the same run. A set the model is never
trained on (gne-zh, no truth) is held out already: its LODO run is the plain one.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_TOKEN_RE = re.compile(r"\w+")
_CJK = (
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
    "\U00020000-\U0002ebef\U00030000-\U0003134f"
)
_CJK_TOKEN_RE = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])\w)+")
_HAS_CJK_RE = re.compile(rf"[{_CJK}]")
_YMD_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_YMD_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\D|$)")
DEFAULT_EXTRACTORS = ["scraper", "trafilatura", "readability", "newspaper4k"]


# ---- adapters: each returns a callable (html, url) -> dict(text, title, date, author) ----


def _adapter(name: str) -> Any:
    if name == "scraper":
        from scraper.extract import extract

        def run(html: str, url: str | None) -> dict[str, Any]:
            a = extract(html, url)
            return {
                "text": a.text,
                "title": a.title,
                "date": a.published,
                "author": a.author,
                "kind": a.page_kind,
            }

        return run
    if name == "trafilatura":  # the reference scorer's call
        import trafilatura
        from trafilatura.utils import normalize_unicode

        def run_t(html: str, url: str | None) -> dict[str, Any]:
            doc = trafilatura.bare_extraction(
                html, url=url, with_metadata=True, include_comments=False, include_tables=True
            )
            if doc is None:
                return {"text": None}
            text = normalize_unicode(doc.text).strip() if doc.text else doc.text
            return {"text": text, "title": doc.title, "date": doc.date, "author": doc.author}

        return run_t
    if name == "readability":
        import html_text
        from readability import Document

        def run_r(html: str, url: str | None) -> dict[str, Any]:
            doc = Document(html, url=url)
            return {
                "text": html_text.extract_text(doc.summary(html_partial=True)),
                "title": doc.short_title(),
            }

        return run_r
    if name == "newspaper4k":
        from newspaper.article import Article
        from newspaper.configuration import Configuration

        def run_n(html: str, url: str | None) -> dict[str, Any]:
            config = Configuration()
            config.fetch_images = False
            config.follow_meta_refresh = False
            art = Article(url or "", config=config)
            art.download(input_html=html, ignore_read_more=True)
            art.parse()
            return {
                "text": art.text,
                "title": art.title,
                "date": art.publish_date,
                "author": ", ".join(art.authors),
            }

        return run_n
    raise SystemExit(f"unknown extractor {name!r}; known: {', '.join(DEFAULT_EXTRACTORS)}")


# ---- pages ----


def load_pages(manifests: list[str], limit: int | None) -> list[dict[str, Any]]:
    """Manifest records with their HTML decoded as the reference scorer decodes it."""
    pages = []
    for manifest in manifests:
        base = Path(manifest).parent
        # iterate the file, not str.splitlines(): JSON strings may hold U+2028, which splitlines() splits on
        with Path(manifest).open(encoding="utf-8") as lines:
            records = [json.loads(line) for line in lines if line.strip()]
        for rec in records[:limit] if limit else records:
            raw = (base / rec["html"]).read_bytes()
            if rec["html"].endswith(".gz"):
                raw = gzip.decompress(raw)
            rec["text_html"] = decode_like_reference(raw, rec.get("encoding"))
            pages.append(rec)
    return pages


_DECLARED_RES = [
    re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I),
    re.compile(rb"<\?xml[^>]+encoding\s*=\s*[\"']([A-Za-z0-9_.:-]+)", re.I),
    re.compile(rb"\bencoding\s*=\s*[\"']([A-Za-z0-9_.:-]+)", re.I),
]


def decode_like_reference(raw: bytes, hint: str | None) -> str:
    """The reference scorer's order: BOM, hint, strict UTF-8, declared (few errors), detection."""
    from charset_normalizer import from_bytes

    from scraper.encoding import normalize_label

    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if raw.startswith(bom):
            return raw[len(bom) :].decode(enc, "replace")
    for enc in (normalize_label(hint), "utf-8"):
        if enc:
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                pass
    for rx in _DECLARED_RES:
        m = rx.search(raw[:8192])
        enc = normalize_label(m.group(1).decode("ascii", "ignore")) if m else None
        if enc:
            text = raw.decode(enc, "replace")
            if text.count("\ufffd") <= max(1, len(text) // 200):
                return text
            break
    best = from_bytes(raw).best()
    return str(best) if best is not None else raw.decode("utf-8", "replace")


# ---- worker: runs one extractor in its own process ----


def worker(name: str, manifests: list[str], limit: int | None, out: str) -> None:
    """Extract every page with one extractor; write outputs and timings as JSON."""
    import warnings

    warnings.simplefilter("ignore")
    pages = load_pages(manifests, limit)
    fn = _adapter(name)
    with contextlib.suppress(Exception):
        fn("<html><head><title>t</title></head><body><p>warm up text.</p></body></html>", None)
    results = []
    for page in pages:
        start = time.perf_counter()
        try:
            res, err = fn(page["text_html"], page.get("url")), None
        except Exception as exc:
            res, err = {"text": None}, f"{type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - start
        results.append(
            {
                "text": res.get("text"),
                "title": res.get("title"),
                "date": _day(res.get("date")),
                "author": res.get("author"),
                "kind": res.get("kind"),
                "seconds": elapsed,
                "error": err,
            }
        )
    peak_kib = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0])
    Path(out).write_text(json.dumps({"results": results, "peak_kib": peak_kib}, ensure_ascii=False), "utf-8")


def _day(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    text = str(value).strip()
    m = _YMD_RE.search(text) or _YMD_COMPACT_RE.search(text)
    if m:
        try:
            return dt.date(*(int(x) for x in m.groups())).isoformat()
        except ValueError:
            return None
    try:  # as the reference scorer: dateutil for the remaining forms, when it is installed
        from dateutil import parser as du_parser

        parsed = du_parser.parse(text, default=dt.datetime(1, 1, 1))  # noqa: DTZ001 - a calendar day only
    except (ImportError, ValueError, OverflowError):
        return None
    return parsed.date().isoformat() if parsed.year != 1 else None


def run_worker(
    name: str, manifests: list[str], limit: int | None, env: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], float]:
    """Run one extractor in a subprocess (env added to ours); returns its results and peak RSS in MiB."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = tmp.name
    cmd = [sys.executable, __file__, "--worker", name, "--out", out, *manifests]
    if limit:
        cmd += ["--limit", str(limit)]
    # Peak RSS is the worker's own VmHWM: wait4's ru_maxrss starts at the forking parent's (this
    # bench holds every page and result: 2,617 MiB for every extractor in the stop-19 run).
    status = subprocess.run(cmd, env={**os.environ, **(env or {})}, check=False).returncode
    if status != 0:
        raise SystemExit(f"{name}: worker exited with status {status}")
    data = json.loads(Path(out).read_text(encoding="utf-8"))
    Path(out).unlink()
    return data["results"], data["peak_kib"] / 1024


# ---- scoring (as the reference scorer) ----


def _shingles(tokens: list[str], n: int = 4) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def _tp_fp_fn(true: str | None, pred: str | None, tokenize: Any) -> tuple[float, float, float]:
    t, p = _shingles(tokenize(true or "")), _shingles(tokenize(pred or ""))
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def _prec(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _rec(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def body_scores(pairs: list[tuple[str | None, str | None]], tokenize: Any) -> dict[str, float]:
    """ScrapingHub F1: mean precision over non-empty predictions, mean recall over non-empty truths."""
    xs = [_tp_fp_fn(t, p, tokenize) for t, p in pairs]
    ps = [_prec(*x) for x in xs if x[0] + x[1] > 0]
    rs = [_rec(*x) for x in xs if x[0] + x[2] > 0]
    p = statistics.mean(ps) if ps else 0.0
    r = statistics.mean(rs) if rs else 0.0
    return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "precision": p, "recall": r}


def _ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _words(text: str | None) -> list[str]:
    return [w.casefold() for w in _TOKEN_RE.findall(unicodedata.normalize("NFKC", text or ""))]


def score(pages: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Every metric the pages have ground truth for."""
    out: dict[str, Any] = {"pages": len(pages)}
    pairs = list(zip(pages, results, strict=True))
    bodies = [(p["body"], r["text"]) for p, r in pairs if p.get("body") is not None]
    if bodies:
        out["body"] = body_scores(bodies, _TOKEN_RE.findall)
        truths = [t for t, _ in bodies]
        n_cjk = sum(len(_HAS_CJK_RE.findall(t)) for t in truths)
        n_word = sum(len(re.findall(r"\w", t)) for t in truths)
        if n_word and n_cjk / n_word >= 0.05:
            out["body_cjk"] = body_scores(bodies, _CJK_TOKEN_RE.findall)
    snips = [(p, r) for p, r in pairs if p.get("with") or p.get("without")]
    if snips:
        found = total_with = absent = total_without = 0
        for p, r in snips:
            text = _ws(r["text"] or "")
            found += sum(1 for w in p.get("with") or [] if text and _ws(w) in text)
            total_with += len(p.get("with") or [])
            absent += sum(1 for w in p.get("without") or [] if not (text and _ws(w) in text))
            total_without += len(p.get("without") or [])
        out["with"] = found / total_with if total_with else None
        out["without"] = absent / total_without if total_without else None
    for key, same in (("title", _same_title), ("date", _same_date), ("author", _same_author)):
        idx = [i for i, p in enumerate(pages) if p.get(key) and (key != "date" or _day(p[key]))]
        if idx:
            out[key] = sum(same(pages[i][key], results[i][key]) for i in idx) / len(idx)
    kinds = [(p["page_type"], r["kind"]) for p, r in pairs if p.get("page_type") and r.get("kind")]
    if kinds:
        out["kind"] = sum(truth == got for truth, got in kinds) / len(kinds)
        out["is_article"] = sum((truth == "article") == (got == "article") for truth, got in kinds) / len(
            kinds
        )
    secs = [r["seconds"] for r in results]
    out["pages_per_s"] = len(secs) / sum(secs) if sum(secs) else 0.0
    out["median_ms"] = statistics.median(secs) * 1000 if secs else 0.0
    out["max_ms"] = max(secs) * 1000 if secs else 0.0
    out["errors"] = sum(1 for r in results if r["error"])
    return out


def _same_title(truth: str, got: str | None) -> bool:
    return _ws(unicodedata.normalize("NFKC", truth)) == _ws(unicodedata.normalize("NFKC", got or ""))


def _same_date(truth: str, got: str | None) -> bool:
    return got is not None and _day(truth) == got


def _same_author(truth: Any, got: str | None) -> bool:
    want = _words(", ".join(truth) if isinstance(truth, list) else str(truth))
    have = _words(got)
    return bool(want) and (want == have or " ".join(want) in " ".join(have))


# ---- report ----

COLUMNS = [
    ("F1", lambda s: s.get("body", {}).get("f1")),
    ("P", lambda s: s.get("body", {}).get("precision")),
    ("R", lambda s: s.get("body", {}).get("recall")),
    ("F1 cjk", lambda s: s.get("body_cjk", {}).get("f1")),
    ("with", lambda s: s.get("with")),
    ("without", lambda s: s.get("without")),
    ("title", lambda s: s.get("title")),
    ("date", lambda s: s.get("date")),
    ("author", lambda s: s.get("author")),
    ("kind", lambda s: s.get("kind")),
    ("article?", lambda s: s.get("is_article")),
]


def render(name_scores: dict[str, dict[str, Any]], rss: dict[str, float], label: str) -> str:
    """One markdown table: quality, speed and memory, with ratios to trafilatura."""
    ref = name_scores.get("trafilatura")
    head = [
        "extractor",
        *[c for c, _ in COLUMNS],
        "pages/s",
        "× traf",
        "median ms",
        "max ms",
        "peak MiB",
        "× traf",
    ]
    lines = [f"### {label}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, s in name_scores.items():
        cells = [name] + [_fmt(get(s)) for _, get in COLUMNS]
        speed_ratio = s["pages_per_s"] / ref["pages_per_s"] if ref and ref["pages_per_s"] else None
        mem_ratio = rss[name] / rss["trafilatura"] if "trafilatura" in rss else None
        cells += [
            f"{s['pages_per_s']:.1f}",
            _fmt(speed_ratio, 2),
            f"{s['median_ms']:.1f}",
            f"{s['max_ms']:.0f}",
        ]
        cells += [f"{rss[name]:.0f}", _fmt(mem_ratio, 2)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def run_lodo(manifests: list[str], limit: int | None, json_out: str | None) -> None:
    """Per set: rules only, shipped model, model fitted without the set, trafilatura; one table each."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import train_block_model as tbm
    import train_title_model as ttm

    everything: dict[str, Any] = {}
    for manifest in manifests:
        name = Path(manifest).parent.name
        pages = load_pages([manifest], limit)
        data = Path(manifest).parent.parent
        variants = [
            ("scraper rules", "scraper", {"SCRAPER_BLOCK_MODEL": "off", "SCRAPER_TITLE_MODEL": "off"}),
            (
                "scraper plain",
                "scraper",
                {"SCRAPER_BLOCK_MODEL": str(tbm.MODEL_PATH), "SCRAPER_TITLE_MODEL": str(ttm.MODEL_PATH)},
            ),
        ]
        if name in tbm.TRAIN_SETS or name in ttm.TRAIN_SETS:
            env = {
                "SCRAPER_BLOCK_MODEL": str(
                    tbm.fold_model(data, name) if name in tbm.TRAIN_SETS else tbm.MODEL_PATH
                ),
                "SCRAPER_TITLE_MODEL": str(
                    ttm.fold_model(data, name) if name in ttm.TRAIN_SETS else ttm.MODEL_PATH
                ),
            }
            variants.append(("scraper LODO", "scraper", env))
        variants.append(("trafilatura", "trafilatura", {}))
        scores: dict[str, dict[str, Any]] = {}
        rss: dict[str, float] = {}
        for label, adapter, env in variants:
            print(f"{name}: running {label} over {len(pages)} pages...", file=sys.stderr)
            results, rss[label] = run_worker(adapter, [manifest], limit, env)
            scores[label] = score(pages, results)
        print(render(scores, rss, f"{name} ({len(pages)} pages), leave-one-dataset-out"))
        print()
        everything[name] = {"scores": scores, "rss_mib": rss}
    if json_out:
        Path(json_out).write_text(json.dumps(everything, indent=2))


def main() -> None:
    """Parse arguments; run the workers or the whole comparison."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifests", nargs="+", help="manifest.jsonl files in the ../shared/data format")
    parser.add_argument("--extractor", action="append", help=f"default: {' '.join(DEFAULT_EXTRACTORS)}")
    parser.add_argument("--limit", type=int, help="only the first N pages of each manifest")
    parser.add_argument("--group-by", help="also score per value of this manifest field (e.g. page_type)")
    parser.add_argument("--json", help="write all scores here")
    parser.add_argument(
        "--lodo", action="store_true", help="the fitted model leave-one-dataset-out (see above)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.manifests, args.limit, args.out)
        return
    if args.lodo:
        run_lodo(args.manifests, args.limit, args.json)
        return
    pages = load_pages(args.manifests, args.limit)
    scores: dict[str, dict[str, Any]] = {}
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    rss: dict[str, float] = {}
    for name in args.extractor or DEFAULT_EXTRACTORS:
        print(f"running {name} over {len(pages)} pages...", file=sys.stderr)
        results, rss[name] = run_worker(name, args.manifests, args.limit)
        scores[name] = score(pages, results)
        if args.group_by:
            for value in sorted({str(p.get(args.group_by)) for p in pages}):
                idx = [i for i, p in enumerate(pages) if str(p.get(args.group_by)) == value]
                sub = score([pages[i] for i in idx], [results[i] for i in idx])
                groups.setdefault(value, {})[name] = sub
    label = ", ".join(str(Path(m).parent.name) for m in args.manifests) + f" ({len(pages)} pages)"
    print(render(scores, rss, label))
    for value, by_name in groups.items():
        print()
        print(
            render(by_name, rss, f"{args.group_by} = {value} ({by_name[next(iter(by_name))]['pages']} pages)")
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"scores": scores, "groups": groups, "rss_mib": rss}, indent=2))


if __name__ == "__main__":
    main()
