"""The learned paragraph scorer: its model file, its features, and the training script's labels."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import lxml.html
import numpy as np
import pytest

from scraper.extract import model as block_model
from scraper.extract.features import FEATURE_COUNT, paragraph_features
from scraper.extract.flatten import flatten
from scraper.extract.prune import filter_paragraphs

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests" / "fixtures" / "pages" / "bjreview-century" / "page.html"


def _training_script():
    spec = importlib.util.spec_from_file_location(
        "train_block_model", ROOT / "benchmarks" / "train_block_model.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("train_block_model", module)
    spec.loader.exec_module(module)
    return module


def _fixture_paragraphs():
    tree = lxml.html.fromstring(PAGE.read_bytes())
    paras = flatten(tree.find("body"))
    return paras, filter_paragraphs(paras)


def test_shipped_model_loads_and_scores_a_page_deterministically():
    model = block_model.read_model(block_model.SHIPPED_MODEL)
    assert model.weights.shape == (FEATURE_COUNT,)
    assert 0.0 <= model.drop_below <= 1.0
    runs = []
    for _ in range(2):
        paras, kept = _fixture_paragraphs()
        ids = {id(p) for p in kept}
        x = paragraph_features(paras, [id(p) in ids for p in paras], "article")
        runs.append(model.probabilities(x))
    assert len(runs[0]) == len(paras) > 10
    assert np.array_equal(runs[0], runs[1])
    assert ((runs[0] >= 0.0) & (runs[0] <= 1.0)).all()


def test_model_off_keeps_the_rules_choice(monkeypatch):
    monkeypatch.setenv(block_model.MODEL_ENV, "off")
    block_model.load_model.cache_clear()
    try:
        paras, kept = _fixture_paragraphs()
        assert block_model.refine_paragraphs(paras, kept, "article") == kept
    finally:
        block_model.load_model.cache_clear()


def test_a_model_file_for_other_features_is_refused(tmp_path):
    path = tmp_path / "old.json"
    path.write_text('{"feature_version": 0, "weights": [0.0], "bias": 0, "drop_below": 0.1}')
    with pytest.raises(ValueError, match="other features"):
        block_model.read_model(path)


def test_training_labels_align_paragraphs_with_the_truth_body():
    train = _training_script()
    body = "The quick brown fox jumps over the lazy dog near the river bank.\n\nSubheading here\n\nMore text."
    texts = [
        "The quick brown fox jumps over the lazy dog near the river bank.",  # all in the truth
        "Like Loading...",  # a short line the truth does not hold
        "Subheading here",  # a short line the truth holds
        "Sign up for our newsletter to get the best stories every week.",  # none of it
        "The quick brown fox jumps over a fence, then sleeps all day long in the sun.",  # a third
    ]
    label, count, share, truth = train.body_labels(texts, body)
    assert label[:4].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert math.isnan(label[4])  # between the two shares: unlabelled
    assert share[0] == 1.0
    assert share[3] == 0.0
    assert count[0] == len(train.tokens(texts[0])) - 3
    assert truth == len(train.tokens(body)) - 3


def test_training_labels_from_with_and_without_snippets():
    train = _training_script()
    texts = ["Keep this sentence in the article.", "Like Loading...", "Neither here nor there."]
    label = train.snippet_labels(texts, ["sentence in the article"], ["Like  Loading"])
    assert label[0] == 1.0
    assert label[1] == 0.0
    assert math.isnan(label[2])
