"""Train the learned paragraph scorer (scraper/extract/model/block.json) and report it leave-one-dataset-out.

One command, fixed seed, numpy only:

    PYTHONPATH=$PWD python benchmarks/train_block_model.py [--data ../shared/data] [--enable|--disable]

1. Collect: every dev page is extracted with the rules only; the main block's
   paragraphs, whether the rules kept each, and features.paragraph_features()
   are recorded (cached per set in the temp directory; --refresh recollects).
2. Label: a paragraph is text when most of its 4-token shingles are in the
   page's truth body (short lines: when the truth contains them), not text when
   few are; on the trafilatura set, which has snippets only, a paragraph holding
   a "without" snippet is not text, one holding a "with" snippet is, the rest
   are unlabelled.
3. Fit: L2 logistic regression (Adam, full batch, seed 0). The drop and restore
   thresholds are chosen on out-of-fold probabilities of the training sets only
   (nested leave-one-set-out), by a proxy of body F1 and with/without rates.
4. Report each dev set scored by a model fitted without it (proxy numbers; the
   real ones come from `extract_bench.py --lodo`, which reads these fold models
   from the temp directory), then write the model fitted on all sets. The
   shipped file keeps its "enabled" flag unless told otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections.abc import Sequence
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from scraper.extract.features import FEATURE_COUNT, FEATURE_VERSION  # noqa: E402

TRAIN_SETS = ("wcxb-dev", "readability-testpages", "cwced-zh-dev", "trafilatura")
DEFAULT_DATA = ROOT.parent / "shared" / "data"
MODEL_PATH = ROOT / "scraper" / "extract" / "model" / "block.json"
CACHE = Path(tempfile.gettempdir()) / "scraper-block-features"
SEED = 0
L2 = 1e-3  # on standardised features; a few hundred hashed columns, a few thousand pages
EPOCHS = 100
LEARNING_RATE = 0.1
# text when at least POSITIVE_SHARE of its shingles are in the truth, not text at NEGATIVE_SHARE or under
POSITIVE_SHARE = 0.5
NEGATIVE_SHARE = 0.2
SNIPPET_MIN_CHARS = 10  # a paragraph inside a longer snippet counts only when it is not a scrap
DROP_GRID = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
RESTORE_GRID = (None, 0.98, 0.95, 0.9, 0.8, 0.7)

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN_RE = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])\w)+")


# ---- step 2: labels ----


def tokens(text: str) -> list[str]:
    """The scorer's tokens: words, and each CJK character alone."""
    return _TOKEN_RE.findall(text)


def _shingles(toks: list[str]) -> list[tuple[str, ...]]:
    return [tuple(toks[i : i + 4]) for i in range(max(1, len(toks) - 3))] if toks else []


def body_labels(texts: Sequence[str], body: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Per paragraph: label (1, 0 or nan), shingle count and share in the truth; the truth's shingle count."""
    truth_toks = tokens(body)
    truth = set(_shingles(truth_toks))
    joined = " " + " ".join(truth_toks) + " "
    n = len(texts)
    label, count, share = np.full(n, np.nan), np.zeros(n), np.zeros(n)
    for i, text in enumerate(texts):
        toks = tokens(text)
        if not toks:
            continue
        if len(toks) < 4:
            frac = 1.0 if " " + " ".join(toks) + " " in joined else 0.0
        else:
            sh = _shingles(toks)
            frac = sum(1 for s in sh if s in truth) / len(sh)
        count[i], share[i] = len(_shingles(toks)), frac
        label[i] = 1.0 if frac >= POSITIVE_SHARE else 0.0 if frac <= NEGATIVE_SHARE else np.nan
    return label, count, share, float(max(len(truth_toks) - 3, 1) if truth_toks else 0)


def snippet_labels(texts: Sequence[str], with_: Sequence[str], without: Sequence[str]) -> np.ndarray:
    """Per paragraph: 0 when it holds a "without" snippet, 1 when it holds a "with" one, else nan."""
    out = np.full(len(texts), np.nan)
    wants = [_ws(w) for w in with_ if _ws(w)]
    bans = [_ws(w) for w in without if _ws(w)]
    for i, text in enumerate(texts):
        norm = _ws(text)
        pos = any(_holds(norm, w) for w in wants)
        neg = any(_holds(norm, w) for w in bans)
        if pos != neg:
            out[i] = 1.0 if pos else 0.0
    return out


def _holds(para: str, snippet: str) -> bool:
    return snippet in para or (len(para) >= SNIPPET_MIN_CHARS and para in snippet)


def _ws(text: str) -> str:
    return " ".join(text.split())


# ---- step 1: collect ----


def _collect_set(args: tuple[str, str]) -> dict[str, np.ndarray]:
    """Extract one set with the rules only, recording the main block's paragraphs."""
    import warnings

    import extract_bench

    import scraper.extract.content as content
    from scraper.extract import extract
    from scraper.extract.features import paragraph_features

    warnings.simplefilter("ignore")
    name, data = args
    seen: list[tuple[Any, ...]] = []

    def record(paras: list[Any], kept: list[Any], kind: str) -> list[Any]:
        ids = {id(p) for p in kept}
        mask = [id(p) in ids for p in paras]
        seen.append((paragraph_features(paras, mask, kind), mask, [p.text for p in paras]))
        return kept

    content.refine_paragraphs = record  # the rules' choice, recorded
    pages = extract_bench.load_pages([str(Path(data) / name / "manifest.jsonl")], None)
    rows: dict[str, list[Any]] = {k: [] for k in ("x", "kept", "page", "label", "count", "share")}
    truth_counts, snippet_totals = [], []
    for index, page in enumerate(pages):
        seen.clear()
        try:
            extract(page["text_html"], page.get("url"))
        except Exception:  # a page the extractor fails on teaches nothing
            seen.clear()
        x, mask, texts = seen[-1] if seen else (np.zeros((0, FEATURE_COUNT)), [], [])
        if page.get("body") is not None:
            label, count, share, truth = body_labels(texts, page["body"])
        else:
            label = snippet_labels(texts, page.get("with") or [], page.get("without") or [])
            count, share, truth = np.zeros(len(texts)), np.zeros(len(texts)), 0.0
        truth_counts.append(truth)
        snippet_totals.append(len(page.get("with") or []) + len(page.get("without") or []))
        for key, value in (("x", x), ("kept", mask), ("label", label), ("count", count), ("share", share)):
            rows[key].append(np.asarray(value))
        rows["page"].append(np.full(len(texts), index))
    out = {k: np.concatenate(v) if v else np.zeros(0) for k, v in rows.items()}
    out["x"] = out["x"].reshape(-1, FEATURE_COUNT).astype(np.float32)
    out["kept"] = out["kept"].astype(bool)
    out["truth"] = np.asarray(truth_counts)
    out["snippets"] = np.asarray(snippet_totals)
    return out


def collect(data: Path, names: Sequence[str], refresh: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """Each set's recorded paragraphs, from the cache when it is there."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = {n: CACHE / f"{n}-v{FEATURE_VERSION}.npz" for n in names}
    todo = [n for n in names if refresh or not path[n].exists()]
    if todo:
        print(f"collecting {', '.join(todo)} ...", file=sys.stderr)
        with Pool(min(2, len(todo))) as pool:
            for name, got in zip(todo, pool.map(_collect_set, [(n, str(data)) for n in todo]), strict=True):
                np.savez_compressed(path[name], **got)
    return {n: dict(np.load(path[n])) for n in names}


# ---- step 3: fit ----


def fit(sets: Sequence[dict[str, np.ndarray]]) -> tuple[np.ndarray, float]:
    """L2 logistic regression on the labelled paragraphs; weights scaled back to raw features."""
    x, y, w = _training_rows(sets)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = ((x - mean) / scale).astype(np.float32)
    rng = np.random.default_rng(SEED)
    coef = (rng.standard_normal(z.shape[1]) * 0.01).astype(np.float32)
    bias = 0.0
    m, v, mb, vb = np.zeros_like(coef), np.zeros_like(coef), 0.0, 0.0
    b1, b2 = 0.9, 0.999
    for step in range(1, EPOCHS + 1):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ coef + bias, -30, 30)))
        err = (p - y) * w
        grad = z.T @ err + L2 * coef
        gb = float(err.sum())
        m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
        mb, vb = b1 * mb + (1 - b1) * gb, b2 * vb + (1 - b2) * gb * gb
        lr = LEARNING_RATE * np.sqrt(1 - b2**step) / (1 - b1**step)
        coef -= lr * m / (np.sqrt(v) + 1e-8)
        bias -= lr * mb / (np.sqrt(vb) + 1e-8)
    weights = coef.astype(np.float64) / scale
    return weights, float(bias - (mean / scale) @ coef.astype(np.float64))


def _training_rows(sets: Sequence[dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labelled rows weighted by their shingles (what F1 counts); each page weighs the same in its set."""
    xs, ys, ws = [], [], []
    for s in sets:
        ok = ~np.isnan(s["label"])
        page = s["page"][ok].astype(int)
        size = np.maximum(s["count"][ok], 1.0)  # snippet-labelled rows have no count: one each
        per_page = np.bincount(page, weights=size, minlength=len(s["truth"]))
        pages = max(int((per_page > 0).sum()), 1)
        weight = size / per_page[page] * np.sqrt(pages) / pages
        xs.append(s["x"][ok])
        ys.append(s["label"][ok])
        ws.append(weight)
    w = np.concatenate(ws)
    return np.concatenate(xs), np.concatenate(ys).astype(np.float32), (w / w.sum()).astype(np.float32)


def probabilities(s: dict[str, np.ndarray], weights: np.ndarray, bias: float) -> np.ndarray:
    """The model's probability for every recorded paragraph of a set."""
    z = np.clip(s["x"].astype(np.float64) @ weights + bias, -30, 30)
    return 1.0 / (1.0 + np.exp(-z))


# ---- thresholds and the proxy score ----


def choose_keep(
    s: dict[str, np.ndarray], probs: np.ndarray, drop: float, restore: float | None
) -> np.ndarray:
    """The paragraphs kept: as model/__init__.py BlockModel.choose()."""
    kept = s["kept"]
    out = kept & (probs >= drop)
    if restore is not None:
        out |= ~kept & (probs >= restore)
    return out


def proxy(s: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, float]:
    """Body P/R/F1 from shingle shares (macro over pages), or with/without from snippet labels."""
    pages = len(s["truth"])
    if s["truth"].sum() > 0:
        page = s["page"].astype(int)
        tp = np.bincount(page, weights=s["count"] * s["share"] * keep, minlength=pages)
        sel = np.bincount(page, weights=s["count"] * keep, minlength=pages)
        has_sel, has_truth = sel > 0, s["truth"] > 0
        p = float(np.mean(tp[has_sel] / sel[has_sel])) if has_sel.any() else 0.0
        r = float(np.mean(np.minimum(tp[has_truth] / s["truth"][has_truth], 1.0)))
        return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "precision": p, "recall": r}
    pos, neg = s["label"] == 1, s["label"] == 0
    with_ = float(keep[pos].mean()) if pos.any() else 1.0
    without = float(1 - keep[neg].mean()) if neg.any() else 1.0
    return {"f1": (with_ + without) / 2, "with": with_, "without": without}


def pick_thresholds(
    sets: Sequence[dict[str, np.ndarray]], oof: Sequence[np.ndarray]
) -> tuple[float, float | None]:
    """The thresholds with the best mean proxy over the sets, from out-of-fold probabilities."""
    best, choice = -1.0, (0.0, None)
    for drop in DROP_GRID:
        for restore in RESTORE_GRID:
            total = np.mean(
                [proxy(s, choose_keep(s, p, drop, restore))["f1"] for s, p in zip(sets, oof, strict=True)]
            )
            if total > best + 1e-9:
                best, choice = float(total), (drop, restore)
    return choice


def train(sets: dict[str, dict[str, np.ndarray]], names: Sequence[str]) -> dict[str, Any]:
    """A model fitted on the named sets, with thresholds from their leave-one-set-out probabilities."""
    oof = []
    for held in names:
        w, b = fit([sets[n] for n in names if n != held])
        oof.append(probabilities(sets[held], w, b))
    drop, restore = pick_thresholds([sets[n] for n in names], oof)
    weights, bias = fit([sets[n] for n in names])
    return {
        "feature_version": FEATURE_VERSION,
        "trained_on": list(names),
        "seed": SEED,
        "drop_below": drop,
        "restore_above": restore,
        "bias": bias,
        "weights": [round(float(v), 6) for v in weights],
    }


def write_model(model: dict[str, Any], path: Path, enabled: bool) -> None:
    """Write a model file model/__init__.py reads."""
    path.write_text(json.dumps({"enabled": enabled, **model}, indent=0) + "\n", encoding="utf-8")


def fold_path(held: str) -> Path:
    """Where the model fitted without one set is kept (the last run of this script wrote it)."""
    return CACHE / f"without-{held}-v{FEATURE_VERSION}.json"


def fold_model(data: Path, held: str) -> Path:
    """The model file fitted without one set (for extract_bench.py --lodo), fitted now if missing."""
    path = fold_path(held)
    if not path.exists():
        sets = collect(data, TRAIN_SETS)
        write_model(train(sets, [n for n in TRAIN_SETS if n != held]), path, True)
    return path


def main() -> None:
    """Collect, report leave-one-dataset-out, write the shipped model."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--refresh", action="store_true", help="recollect the features")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    switch = parser.add_mutually_exclusive_group()
    switch.add_argument("--enable", action="store_true", help="ship the model switched on")
    switch.add_argument("--disable", action="store_true", help="ship the model switched off")
    args = parser.parse_args()
    sets = collect(args.data, TRAIN_SETS, args.refresh)
    print("| set | rules proxy | LODO proxy | drop < | restore ≥ |")
    print("|---|---|---|---|---|")
    for held in TRAIN_SETS:
        model = train(sets, [n for n in TRAIN_SETS if n != held])
        write_model(model, fold_path(held), True)
        w, b = np.asarray(model["weights"]), model["bias"]
        s = sets[held]
        rules = proxy(s, s["kept"])
        lodo = proxy(s, choose_keep(s, probabilities(s, w, b), model["drop_below"], model["restore_above"]))
        print(f"| {held} | {_fmt(rules)} | {_fmt(lodo)} | {model['drop_below']} | {model['restore_above']} |")
    enabled = args.enable or (
        not args.disable and args.out.exists() and json.loads(args.out.read_text()).get("enabled", False)
    )
    model = train(sets, TRAIN_SETS)
    write_model(model, args.out, enabled)
    drop, restore = model["drop_below"], model["restore_above"]
    print(f"wrote {args.out} (enabled: {enabled}; drop < {drop}, restore ≥ {restore})")


def _fmt(score: dict[str, float]) -> str:
    if "with" in score:
        return f"with {score['with']:.3f} / without {score['without']:.3f}"
    return f"F1 {score['f1']:.3f} (P {score['precision']:.3f} R {score['recall']:.3f})"


if __name__ == "__main__":
    main()
