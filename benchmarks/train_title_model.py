"""Train the learned title chooser (scraper/extract/model/title.json) and report it leave-one-dataset-out.

One command, fixed seed, numpy only:

    PYTHONPATH=$PWD python benchmarks/train_title_model.py [--data ../shared/data] [--enable|--disable]
    PYTHONPATH=$PWD python benchmarks/train_title_model.py --failures wcxb-dev   # failures by cause

1. Collect: every dev page with a title truth is read with the rules only; the inputs of
   find_title() are caught, and title_features.page_rows() gives the candidates (each heading,
   declared title, <title> and run of its segments, the rules' choice) and their features
   (cached per set in the temp directory; --refresh recollects).
2. Label: a candidate is the title when, finished as find_title() finishes it, it equals the
   truth after NFKC and whitespace collapsing (the scorer's title exact match).
3. Fit: a linear softmax ranker over each page's candidates (L2, Adam, full batch, seed 0),
   on pages whose truth is among their candidates.
4. Report title exact per set: the rules, the model fitted on every set (plain) and the model
   fitted without the set (LODO); these equal extract_bench's title column, which reads the fold
   models from the temp directory. Then write the model fitted on all sets; the shipped file
   keeps its "enabled" flag unless told otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import re
import sys
import tempfile
import unicodedata
from collections import Counter
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from scraper.extract import title_features  # noqa: E402
from scraper.extract.title_features import FEATURE_COUNT, TITLE_FEATURE_VERSION  # noqa: E402

TRAIN_SETS = ("trafilatura", "wcxb-dev", "readability-testpages")  # the sets with title truths
DEFAULT_DATA = ROOT.parent / "shared" / "data"
MODEL_PATH = ROOT / "scraper" / "extract" / "model" / "title.json"
CACHE = Path(tempfile.gettempdir()) / "scraper-title-features"
SEED = 0
L2 = 1e-2  # on standardised features; a few dozen columns, a few thousand pages
EPOCHS = 400
LEARNING_RATE = 0.05


def _norm(text: str | None) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip()


# ---- step 1: collect ----


def _page_rows(page: dict[str, Any]) -> dict[str, Any]:
    """One page's candidates (finished texts), feature rows and the rules' title."""
    import scraper.extract.metadata as metadata
    from scraper.config import Rules
    from scraper.extract.parse import parse_html
    from scraper.extract.titles import finish_title

    caught: dict[str, Any] = {}
    real = metadata.find_title

    def catch(*args: Any) -> str | None:
        rules_title = real(*args)
        caught["rules"] = rules_title
        caught["page"] = title_features.page_rows(*args, rules_title)
        return rules_title

    tree = parse_html(page["text_html"])
    metadata.find_title = catch  # type: ignore[assignment]
    try:
        if tree is not None:
            metadata.extract_metadata(tree, page.get("url"), Rules())
    finally:
        metadata.find_title = real
    cands, rows = caught.get("page", ([], []))
    return {
        "id": page["id"],
        "truth": page["title"],
        "rules": caught.get("rules"),
        "texts": [finish_title(c.text) for c in cands],
        "sources": [sorted(c.sources) for c in cands],
        "x": np.asarray(rows, dtype=np.float64).reshape(-1, FEATURE_COUNT),
    }


def _code_hash() -> str:
    files = ("titles.py", "title_features.py", "boilerplate.py", "metadata.py")
    digest = hashlib.sha256(str(TITLE_FEATURE_VERSION).encode())
    for name in files:
        digest.update((ROOT / "scraper" / "extract" / name).read_bytes())
    return digest.hexdigest()[:12]


def collect(data: Path, names: tuple[str, ...], refresh: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Per set, every titled page's rows; cached per set and code version."""
    from extract_bench import load_pages

    CACHE.mkdir(exist_ok=True)
    sets = {}
    for name in names:
        path = CACHE / f"{name}-{_code_hash()}.pkl"
        if path.exists() and not refresh:
            sets[name] = pickle.loads(path.read_bytes())
            continue
        print(f"collecting {name}...", file=sys.stderr)
        pages = [p for p in load_pages([str(data / name / "manifest.jsonl")], None) if p.get("title")]
        with Pool(2, initializer=_quiet) as pool:
            sets[name] = pool.map(_page_rows, pages, chunksize=8)
        path.write_bytes(pickle.dumps(sets[name]))
    return sets


def _quiet() -> None:
    import os

    os.environ["SCRAPER_TITLE_MODEL"] = "off"  # the rules' title, not a shipped model's


# ---- steps 2 and 3: label and fit ----


def labels(page: dict[str, Any]) -> np.ndarray:
    """1.0 for each candidate equal to the truth under the scorer's title match."""
    truth = _norm(page["truth"])
    return np.asarray([float(_norm(t) == truth) for t in page["texts"]])


def train(sets: dict[str, list[dict[str, Any]]], names: list[str]) -> np.ndarray:
    """Raw-feature weights of a softmax ranker fitted on the pages of these sets."""
    pages = [p for n in names for p in sets[n] if len(p["texts"]) and labels(p).any()]
    x = np.vstack([p["x"] for p in pages])
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    groups = np.repeat(np.arange(len(pages)), [len(p["texts"]) for p in pages])
    y = np.concatenate([labels(p) for p in pages])
    z = (x - mean) / sd
    w = np.random.default_rng(SEED).normal(0, 0.01, FEATURE_COUNT)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for step in range(1, EPOCHS + 1):
        s = z @ w
        s -= np.repeat(_group_max(s, groups, len(pages)), np.bincount(groups))
        e = np.exp(s)
        total = np.bincount(groups, e)[groups]
        pos = np.bincount(groups, e * y)[groups]
        # d(-log sum_pos softmax)/ds = softmax - softmax restricted to the positives
        grad_s = e / total - y * e / pos
        grad = z.T @ grad_s / len(pages) + L2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= LEARNING_RATE * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return w / sd  # argmax is unchanged by the per-feature shift, so only the scale is folded in


def _group_max(s: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -np.inf)
    np.maximum.at(out, groups, s)
    return out


# ---- step 4: report and write ----


def exact(pages: list[dict[str, Any]], w: np.ndarray | None) -> float:
    """Title exact match over the pages: the rules' title, or the model's choice."""
    hits = 0
    for p in pages:
        if w is None or not len(p["texts"]):
            got = p["rules"]
            from scraper.extract.titles import finish_title

            got = finish_title(got)
        else:
            got = p["texts"][int(np.argmax(p["x"] @ w))]
        hits += _norm(got) == _norm(p["truth"])
    return hits / len(pages) if pages else 0.0


def fold_path(held: str) -> Path:
    """Where the model fitted without one set is written."""
    return CACHE / f"title-without-{held}-{_code_hash()}.json"


def write_model(w: np.ndarray, path: Path, enabled: bool) -> None:
    """The model file the runtime reads (scraper/extract/model/title.py)."""
    data = {
        "feature_version": TITLE_FEATURE_VERSION,
        "enabled": enabled,
        "features": list(title_features.FEATURE_NAMES),
        "weights": [round(float(x), 6) for x in w],
    }
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def fold_model(data: Path, held: str) -> Path:
    """The model file fitted without one set (for extract_bench.py --lodo), fitted now if missing."""
    path = fold_path(held)
    if not path.exists():
        sets = collect(data, TRAIN_SETS)
        write_model(train(sets, [n for n in TRAIN_SETS if n != held]), path, True)
    return path


def failures(pages: list[dict[str, Any]]) -> None:
    """The rules' misses grouped by where the truth is among the candidates (or not)."""
    causes: Counter[str] = Counter()
    for p in pages:
        from scraper.extract.titles import finish_title

        if _norm(finish_title(p["rules"])) == _norm(p["truth"]):
            continue
        y = labels(p)
        srcs = sorted({s for s, hit in zip(p["sources"], y, strict=True) if hit for s in s})
        cause = "+".join(srcs) if srcs else "not a candidate"
        causes[cause] += 1
        print(f"{p['id']}\t{cause}\ttruth={p['truth']!r}\tours={p['rules']!r}")
    for cause, n in causes.most_common():
        print(f"{n:5d}  {cause}", file=sys.stderr)


def main() -> None:
    """Collect, report leave-one-dataset-out, write the shipped model."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--refresh", action="store_true", help="recollect the features")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--failures", metavar="SET", help="list the rules' misses in SET by cause, and stop")
    switch = parser.add_mutually_exclusive_group()
    switch.add_argument("--enable", action="store_true", help="ship the model switched on")
    switch.add_argument("--disable", action="store_true", help="ship the model switched off")
    args = parser.parse_args()
    sets = collect(args.data, TRAIN_SETS, args.refresh)
    if args.failures:
        failures(sets[args.failures])
        return
    full = train(sets, list(TRAIN_SETS))
    print("| set | pages | rules | model plain | model LODO | truth among candidates |")
    print("|---|---|---|---|---|---|")
    for held in TRAIN_SETS:
        fold = train(sets, [n for n in TRAIN_SETS if n != held])
        write_model(fold, fold_path(held), True)
        pages = sets[held]
        oracle = sum(bool(labels(p).any()) for p in pages) / len(pages)
        print(
            f"| {held} | {len(pages)} | {exact(pages, None):.3f} | {exact(pages, full):.3f} "
            f"| {exact(pages, fold):.3f} | {oracle:.3f} |"
        )
    enabled = args.enable or (
        not args.disable and args.out.exists() and json.loads(args.out.read_text()).get("enabled", False)
    )
    write_model(full, args.out, enabled)
    print(f"wrote {args.out} (enabled: {enabled})", file=sys.stderr)


if __name__ == "__main__":
    main()
