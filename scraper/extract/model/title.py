"""The learned title chooser: which of a page's title candidates is the headline.

Input: the candidates and feature rows of title_features.py. Output: the chosen candidate's text,
or None to keep the rules' title. Settings: the model file, title.json here (a linear ranker's
weights over title_features.FEATURE_NAMES, softmax-trained), or the file SCRAPER_TITLE_MODEL
names; SCRAPER_TITLE_MODEL=off turns it off. The shipped file says whether it is enabled by
default; a file named by SCRAPER_TITLE_MODEL is always used.
Retrain with `python benchmarks/train_title_model.py`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from ..title_features import FEATURE_COUNT, TITLE_FEATURE_VERSION
from . import model_file

__all__ = ["TitleModel", "load_title_model", "read_title_model"]

TITLE_MODEL_ENV = "SCRAPER_TITLE_MODEL"
SHIPPED_TITLE_MODEL = Path(__file__).with_name("title.json")


@dataclass(frozen=True, slots=True)
class TitleModel:
    """A linear ranker: the candidate with the highest score is the title."""

    weights: tuple[float, ...]

    def best(self, rows: list[list[float]]) -> int:
        """Index of the highest-scoring row (the first on a tie)."""
        scores = [sum(w * x for w, x in zip(self.weights, row, strict=True)) for row in rows]
        return max(range(len(scores)), key=scores.__getitem__)


def read_title_model(path: Path) -> TitleModel:
    """A model file as train_title_model.py writes it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("feature_version") != TITLE_FEATURE_VERSION or len(data["weights"]) != FEATURE_COUNT:
        raise ValueError(f"{path}: trained on other features (version {data.get('feature_version')})")
    return TitleModel(tuple(float(w) for w in data["weights"]))


@functools.cache
def load_title_model() -> TitleModel | None:
    """The model in use, read once: SCRAPER_TITLE_MODEL's file, else the shipped one if enabled."""
    path = model_file(TITLE_MODEL_ENV, SHIPPED_TITLE_MODEL)
    return None if path is None else read_title_model(path)
