"""Paragraph features for the learned paragraph scorer: the signals the rules read, as numbers.

Input: the main block's paragraphs (flatten.Para), which of them the rules kept,
and the page kind. Output: one row of floats per paragraph (numpy). Settings: the
"learned paragraph scorer" heading of boilerplate.py. The training script
(benchmarks/train_block_model.py) and the model (model/__init__.py) both call
paragraph_features(), so a feature means the same when trained and when used.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence

import numpy as np
from lxml import etree

from . import boilerplate as bp
from .flatten import Para
from .lines import is_prose

__all__ = ["FEATURE_COUNT", "FEATURE_VERSION", "paragraph_features"]

# Bumped whenever a column changes meaning: a model file trained on other columns is refused.
FEATURE_VERSION = 1

_TAGS = ("p", "div", "li", "td", "th", "heading", "blockquote", "pre", "figcaption", "dd", "dt", "span")
_KINDS = ("article", "forum", "product", "collection", "listing", "documentation", "service")
_NAME_TOKEN_RE = re.compile(r"[a-z]{2,}")
_TEXT_TOKEN_RE = re.compile(r"\w+")
_DIGIT_RE = re.compile(r"\d")

# column blocks, in order: own dense signals, neighbours, page, tag, class/id buckets, word buckets
_OWN = 16
_NEIGHBOUR = 5
_PAGE = 3 + len(_KINDS)
_DENSE = _OWN + 2 * _NEIGHBOUR + _PAGE + len(_TAGS) + 1
FEATURE_COUNT = _DENSE + 2 * bp.MODEL_NAME_BUCKETS + bp.MODEL_WORD_BUCKETS


def paragraph_features(paras: Sequence[Para], kept: Sequence[bool], kind: str) -> np.ndarray:
    """One row per paragraph: FEATURE_COUNT floats (see the column blocks above)."""
    n = len(paras)
    x = np.zeros((n, FEATURE_COUNT), dtype=np.float64)
    if n == 0:
        return x
    own = np.array([_own(p, k) for p, k in zip(paras, kept, strict=True)], dtype=np.float64)
    x[:, :_OWN] = own
    _add_position(x, own, kept)
    # neighbours: length, link density, kept, sentence end, prose (zero beyond the block's ends)
    cols = [1, 3, 8, 5, 9]
    x[1:, _OWN : _OWN + _NEIGHBOUR] = own[:-1, cols]
    x[:-1, _OWN + _NEIGHBOUR : _OWN + 2 * _NEIGHBOUR] = own[1:, cols]
    col = _OWN + 2 * _NEIGHBOUR
    weights = own[:, 15]
    x[:, col] = math.log1p(n)
    x[:, col + 1] = math.log1p(float(weights.sum()))
    x[:, col + 2] = sum(kept) / n
    if kind in _KINDS:
        x[:, col + 3 + _KINDS.index(kind)] = 1.0
    col += _PAGE
    names: dict[etree._Element, list[int]] = {}
    for i, para in enumerate(paras):
        _add_structure(x[i], para, col, names)
    return x


def _own(para: Para, kept: bool) -> list[float]:
    """The paragraph's own signals; column 15 is its raw weight (replaced by its share later)."""
    text = para.text
    length = len(text)
    punct = len(bp.PUNCTUATION_RE.findall(text))
    return [
        math.log1p(length),
        math.log1p(para.weight),
        (para.weight - length) / ((bp.CJK_WEIGHT - 1) * length) if length else 0.0,
        para.link_density,
        min(punct * 100.0 / length, bp.MODEL_PUNCTUATION_CAP) if length else 0.0,
        1.0 if bp.SENTENCE_END_RE.search(text) else 0.0,
        len(_DIGIT_RE.findall(text)) / length if length else 0.0,
        1.0 if para.quote else 0.0,
        1.0 if kept else 0.0,
        1.0 if is_prose(para) else 0.0,
        0.0,  # 10-14: position, filled by _add_position
        0.0,
        0.0,
        0.0,
        0.0,
        float(para.weight),
    ]


def _add_position(x: np.ndarray, own: np.ndarray, kept: Sequence[bool]) -> None:
    """Position as fractions of the block's weight, and whether prose comes before or after."""
    n = len(own)
    weights = own[:, 15]
    total = float(weights.sum()) or 1.0
    before = np.cumsum(weights) - weights
    prose = own[:, 9] * np.array(kept, dtype=np.float64)
    prose_before = np.cumsum(prose) - prose
    prose_after = prose[::-1].cumsum()[::-1] - prose
    x[:, 10] = before / total
    x[:, 11] = (total - before - weights) / total
    x[:, 12] = prose_before > 0
    x[:, 13] = prose_after > 0
    x[:, 14] = np.arange(n) / max(n - 1, 1)
    x[:, 15] = weights / total


def _add_structure(row: np.ndarray, para: Para, col: int, names: dict[etree._Element, list[int]]) -> None:
    """Tag, depth, hashed class/id tokens of the container and its ancestors, hashed words."""
    el = para.container
    tag = el.tag if isinstance(el.tag, str) else ""
    tag = "heading" if tag in bp.HEADING_TAGS else tag
    if tag in _TAGS:
        row[col + _TAGS.index(tag)] = 1.0
    ancestors = list(el.iterancestors())
    row[col + len(_TAGS)] = math.log1p(len(ancestors))
    col = _DENSE
    for bucket in _name_buckets(el, names):
        row[col + bucket] = 1.0
    col += bp.MODEL_NAME_BUCKETS
    for anc in ancestors[: bp.MODEL_ANCESTOR_LEVELS]:
        for bucket in _name_buckets(anc, names):
            row[col + bucket] = 1.0
    col += bp.MODEL_NAME_BUCKETS
    words = _TEXT_TOKEN_RE.findall(para.text.casefold())
    if len(words) > bp.MODEL_SHORT_WORDS:
        words = words[: bp.MODEL_LEAD_WORDS]
    for word in words:
        row[col + zlib.crc32(word[: bp.MODEL_WORD_CHARS].encode()) % bp.MODEL_WORD_BUCKETS] = 1.0


def _name_buckets(el: etree._Element, cache: dict[etree._Element, list[int]]) -> list[int]:
    """Hash buckets of an element's class and id tokens (crc32: the same in every process)."""
    found = cache.get(el)
    if found is None:
        names = " ".join(v for v in (el.get("class"), el.get("id")) if v).lower()
        found = [zlib.crc32(t.encode()) % bp.MODEL_NAME_BUCKETS for t in _NAME_TOKEN_RE.findall(names)]
        cache[el] = found
    return found
