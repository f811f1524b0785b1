"""The learned paragraph scorer: which paragraphs of the main block belong to the article text.

Input: the main block's paragraphs, which of them the rules kept, and the page kind.
Output: the paragraphs to keep, in order. Settings: the model file, block.json here
(logistic regression weights over features.paragraph_features, and the two
thresholds chosen leave-one-dataset-out), or the file SCRAPER_BLOCK_MODEL names;
SCRAPER_BLOCK_MODEL=off turns the model off. The shipped file says whether it is
enabled by default; a file named by SCRAPER_BLOCK_MODEL is always used.
Retrain with `python benchmarks/train_block_model.py`.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..features import FEATURE_COUNT, FEATURE_VERSION, paragraph_features
from ..flatten import Para

__all__ = ["BlockModel", "load_model", "refine_paragraphs"]

logger = logging.getLogger(__name__)

MODEL_ENV = "SCRAPER_BLOCK_MODEL"
SHIPPED_MODEL = Path(__file__).with_name("block.json")


@dataclass(frozen=True, slots=True)
class BlockModel:
    """Logistic regression weights (already scaled to raw features) and the keep/restore thresholds."""

    weights: np.ndarray
    bias: float
    drop_below: float
    restore_above: float | None

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """P(paragraph belongs to the article text) for each row of features."""
        z = np.clip(x @ self.weights + self.bias, -30.0, 30.0)
        probs: np.ndarray = 1.0 / (1.0 + np.exp(-z))
        return probs

    def choose(self, probs: np.ndarray, kept: Sequence[bool]) -> list[bool]:
        """Keep what the rules kept unless the model is sure it is not text; restore only when very sure."""
        restore = self.restore_above
        return [
            bool(p >= self.drop_below) if k else restore is not None and bool(p >= restore)
            for p, k in zip(probs.tolist(), kept, strict=True)
        ]


def read_model(path: Path) -> BlockModel:
    """A model file as train_block_model.py writes it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("feature_version") != FEATURE_VERSION or len(data["weights"]) != FEATURE_COUNT:
        raise ValueError(f"{path}: trained on other features (version {data.get('feature_version')})")
    restore = data.get("restore_above")
    return BlockModel(
        weights=np.asarray(data["weights"], dtype=np.float64),
        bias=float(data["bias"]),
        drop_below=float(data["drop_below"]),
        restore_above=None if restore is None else float(restore),
    )


def model_file(env: str, shipped: Path) -> Path | None:
    """The model file in use: the one `env` names ("" or "off": none), else `shipped` if it says enabled."""
    named = os.environ.get(env)
    if named is not None:
        return None if named in ("", "off") else Path(named)
    if not shipped.exists():
        return None
    return shipped if json.loads(shipped.read_text(encoding="utf-8")).get("enabled", False) else None


@functools.cache
def load_model() -> BlockModel | None:
    """The model in use, read once: SCRAPER_BLOCK_MODEL's file, else the shipped one if enabled."""
    path = model_file(MODEL_ENV, SHIPPED_MODEL)
    return None if path is None else read_model(path)


def refine_paragraphs(paras: list[Para], kept: list[Para], kind: str) -> list[Para]:
    """The paragraphs to keep: the rules' choice, corrected by the model where it is confident."""
    model = load_model()
    if model is None or not paras:
        return kept
    kept_ids = {id(p) for p in kept}
    mask = [id(p) in kept_ids for p in paras]
    probs = model.probabilities(paragraph_features(paras, mask, kind))
    return [p for p, keep in zip(paras, model.choose(probs, mask), strict=True) if keep]
