"""Near-duplicate quality benchmark: edited copies of real articles against different articles.

Run by hand (not a test):

    python benchmarks/neardup_bench.py [--data ../shared/data] [--pairs 300] [--seed 0]

Texts: the truth bodies of ../shared/data (English: wcxb-dev articles and readability-testpages;
Chinese: cwced-zh-dev, and gne-zh pages as scraper.extract() reads them), 120 words (characters
for Chinese) or more, split into paragraphs on newlines.

Positive pairs (a text and an edited copy, per kind): template (a byline, a dateline and a
credit line added, quotes changed), headline (the first paragraph replaced), plus1 / minus1 (a
paragraph added or removed), typos (2 % of words changed), moved (a paragraph moved), teaser (the
first three paragraphs of a text of eight or more), boilerplate (a 150-word related-links block
left in). Negative pairs: same_template (two different texts with the same 40 words of template
lines), same_topic (two different texts sharing one paragraph, a quote or agency line, and the
template), briefs (the first 40 words of two texts and the same template line).

Methods, each at several thresholds: anchors (scraper.dedupe.near_anchors: shared anchors over
the smaller text's anchors), simhash (scraper.dedupe.simhash, Hamming distance), and the exact
Jaccard of 5-token shingles, which MinHash estimates (so an upper bound for MinHash + LSH at that
threshold: banding only loses recall). Printed: recall per positive kind, false-positive rate per
negative kind, and precision per kind with as many negatives as positives of that kind.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.dedupe import (  # noqa: E402
    NEAR_SHINGLE,
    TOKEN_RE,
    near_anchors,
    normalize_text,
    simhash,
    simhash_distance,
)

MIN_TOKENS = 120
POSITIVE = ("template", "headline", "plus1", "minus1", "typos", "moved", "teaser", "boilerplate")
NEGATIVE = ("same_template", "same_topic", "briefs")
TEMPLATE_HEAD = "By Staff Reporter | Updated 12:04 GMT | Source: Wire Agency"
TEMPLATE_TAIL = "Editor: Li Ming. Follow us on Twitter and Facebook for more news from the region today."
TEMPLATE_HEAD_ZH = "来源：新华社 | 发布时间：2021-06-29 10:20 | 作者：本报记者"
TEMPLATE_TAIL_ZH = "责任编辑：李明。欢迎关注我们的微信公众号，获取更多本地新闻资讯。"


def load_texts(data: Path) -> tuple[list[list[str]], list[list[str]]]:
    """English and Chinese texts as paragraph lists."""
    english: list[list[str]] = []
    chinese: list[list[str]] = []
    for name, out in (("wcxb-dev", english), ("readability-testpages", english), ("cwced-zh-dev", chinese)):
        for line in (data / name / "manifest.jsonl").read_text(encoding="utf-8").split("\n"):
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec.get("page_type", "article") == "article" and rec.get("body"):
                out.append([p.strip() for p in rec["body"].split("\n") if p.strip()])
    from scraper.extract import extract

    for line in (data / "gne-zh" / "manifest.jsonl").read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        rec = json.loads(line)
        raw = gzip.decompress((data / "gne-zh" / rec["html"]).read_bytes())
        try:
            text = extract(raw.decode("utf-8", "replace"), rec.get("url")).text
        except Exception:
            continue
        chinese.append([p.strip() for p in text.split("\n") if p.strip()])

    def long_enough(paras: list[str]) -> bool:
        return len(TOKEN_RE.findall(" ".join(paras))) >= MIN_TOKENS and len(paras) >= 3

    return [t for t in english if long_enough(t)], [t for t in chinese if long_enough(t)]


def _typos(paras: list[str], rng: random.Random) -> list[str]:
    out = []
    for para in paras:
        words = para.split(" ") if " " in para else list(para)
        for i in range(len(words)):
            if rng.random() < 0.02 and len(words[i]) > 1:
                w = words[i]
                j = rng.randrange(len(w) - 1)
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if len(w) > 2 else w[::-1]
        out.append((" " if " " in para else "").join(words))
    return out


def positive(kind: str, paras: list[str], other: list[str], rng: random.Random, zh: bool) -> list[str]:
    """An edited copy of paras of the given kind."""
    head, tail = (TEMPLATE_HEAD_ZH, TEMPLATE_TAIL_ZH) if zh else (TEMPLATE_HEAD, TEMPLATE_TAIL)
    if kind == "template":
        swapped = [p.replace('"', "\u201c").replace("'", "\u2019") for p in paras]
        return [head, *swapped, tail]
    if kind == "headline":
        return [other[0], *paras[1:]]
    if kind == "plus1":
        i = rng.randrange(len(paras) + 1)
        return [*paras[:i], rng.choice(other), *paras[i:]]
    if kind == "minus1":
        i = rng.randrange(len(paras))
        return paras[:i] + paras[i + 1 :]
    if kind == "typos":
        return _typos(paras, rng)
    if kind == "moved":
        out = list(paras)
        para = out.pop(rng.randrange(len(out)))
        out.insert(rng.randrange(len(out) + 1), para)
        return out
    if kind == "teaser":
        return paras[:3]
    if kind == "boilerplate":
        words = " ".join(other).split() if not zh else list("".join(other))
        start = rng.randrange(max(1, len(words) - 150))
        block = (" " if not zh else "").join(words[start : start + 150])
        return [*paras, "Related: " + block]
    raise ValueError(kind)


def negative(
    kind: str, a: list[str], b: list[str], rng: random.Random, zh: bool
) -> tuple[list[str], list[str]]:
    """Two different texts that a careless dedupe would merge."""
    head, tail = (TEMPLATE_HEAD_ZH, TEMPLATE_TAIL_ZH) if zh else (TEMPLATE_HEAD, TEMPLATE_TAIL)
    if kind == "same_template":
        return [head, *a, tail], [head, *b, tail]
    if kind == "same_topic":
        shared = rng.choice(a)
        i = rng.randrange(len(b) + 1)
        return [head, *a, tail], [head, *b[:i], shared, *b[i:], tail]
    if kind == "briefs":

        def brief(paras: list[str]) -> str:
            text = " ".join(paras)
            return "".join(text[:60]) if zh else " ".join(text.split()[:40])

        return [brief(a), tail], [brief(b), tail]
    raise ValueError(kind)


def _shingles(text: str) -> set[str]:
    tokens = TOKEN_RE.findall(normalize_text(text))
    width = min(NEAR_SHINGLE, len(tokens))
    return {" ".join(tokens[i : i + width]) for i in range(len(tokens) - width + 1)}


def scores(a: str, b: str) -> dict[str, float]:
    """Each method's similarity of two texts (higher is more alike)."""
    xa, xb = set(near_anchors(a)), set(near_anchors(b))
    containment = len(xa & xb) / min(len(xa), len(xb)) if xa and xb else 0.0
    sa, sb = _shingles(a), _shingles(b)
    jaccard = len(sa & sb) / len(sa | sb) if sa | sb else 0.0
    return {
        "anchors": containment,
        "anchors_min": float(min(len(xa), len(xb))),
        "simhash": 64.0 - simhash_distance(simhash(a), simhash(b)),
        "jaccard": jaccard,
    }


METHODS: dict[str, list[tuple[str, Callable[[dict[str, float]], bool]]]] = {
    "anchors": [
        (
            f"containment>={c} and >={m} anchors",
            lambda s, c=c, m=m: s["anchors"] >= c and s["anchors_min"] >= m,
        )
        for c in (0.5, 0.6, 0.7)
        for m in (3, 5)
    ],
    "simhash": [(f"hamming<={k}", lambda s, k=k: s["simhash"] >= 64 - k) for k in (3, 6, 10)],
    "jaccard": [(f"jaccard>={t}", lambda s, t=t: s["jaccard"] >= t) for t in (0.3, 0.5, 0.7)],
}


def run(texts: list[list[str]], zh: bool, pairs: int, rng: random.Random) -> None:
    """Print the table for one language."""
    joiner = "\n"
    results: dict[str, list[dict[str, float]]] = {}
    for kind in POSITIVE:
        pool = [t for t in texts if len(t) >= 8] if kind == "teaser" else texts
        rows = []
        for _ in range(pairs):
            a, other = rng.sample(pool, 1)[0], rng.choice(texts)
            rows.append(scores(joiner.join(a), joiner.join(positive(kind, a, other, rng, zh))))
        results[kind] = rows
    for kind in NEGATIVE:
        rows = []
        for _ in range(pairs):
            a, b = rng.sample(texts, 2)
            x, y = negative(kind, a, b, rng, zh)
            rows.append(scores(joiner.join(x), joiner.join(y)))
        results[kind] = rows
    print(f"\n## {'Chinese' if zh else 'English'}: {len(texts)} texts, {pairs} pairs per kind\n")
    print(
        "| method | "
        + " | ".join(f"R {k}" for k in POSITIVE)
        + " | "
        + " | ".join(f"FPR {k}" for k in NEGATIVE)
        + " | min P |"
    )
    print("|---|" + "---:|" * (len(POSITIVE) + len(NEGATIVE) + 1))
    for family in METHODS.values():
        for label, decide in family:
            recall = {k: sum(map(decide, results[k])) / pairs for k in POSITIVE}
            fpr = {k: sum(map(decide, results[k])) / pairs for k in NEGATIVE}
            false_pos = sum(fpr.values()) / len(NEGATIVE)
            precision = min(r / (r + false_pos) if r + false_pos else 1.0 for r in recall.values())
            cells = [f"{recall[k]:.3f}" for k in POSITIVE] + [f"{fpr[k]:.3f}" for k in NEGATIVE]
            print(f"| {label} | " + " | ".join(cells) + f" | {precision:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    english, chinese = load_texts(args.data)
    rng = random.Random(args.seed)
    run(english, False, args.pairs, rng)
    run(chinese, True, args.pairs, rng)


if __name__ == "__main__":
    main()
