"""Title candidates and their features, for the learned title chooser (model/title.json).

Input: the parsed page (read only), its URL, its <meta> tags, the JSON-LD headline, the site name
and the rules' title. Output: the candidate strings (each heading, each declared title, each run of
<title> segments, the rules' choice) and one feature row per candidate. The training script
(benchmarks/train_title_model.py) and the runtime chooser (titles.py) both call title_candidates(),
so the model is trained on exactly what it scores.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import lxml.html

from .boilerplate import TITLE_CANDIDATE_HEADINGS, TITLE_LABEL_RE
from .titles import (
    TITLE_META,
    TITLE_SEPARATOR_RE,
    UI_WORD_KEYS,
    clean_title,
    heading_text,
    squash,
    text_key,
)

# Bumped whenever a feature is added, removed or changes meaning: a model file says which it was fitted on.
TITLE_FEATURE_VERSION = 1

SOURCES = ("rules", "ld", "og", "twitter", "meta", "title", "segment", "clean", "h1", "h2", "itemprop")
FEATURE_NAMES = (
    *(f"src_{s}" for s in SOURCES),
    *("seg_first", "seg_last", "seg_share", "n_segments", "n_sources", "agree_heading", "agree_declared"),
    *("in_title", "has_site", "has_sep", "log_len", "n_words", "upper", "ui_word", "heading_pos"),
    *("slug_overlap", "title_overlap", "n_h1", "has_ld", "has_og", "ends_punct", "is_longest"),
)
FEATURE_COUNT = len(FEATURE_NAMES)
_WORD_RE = re.compile(r"[\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+")


@dataclass(slots=True)
class Candidate:
    """One title string and every place the page offers it."""

    text: str
    sources: set[str] = field(default_factory=set)
    seg_span: tuple[int, int] | None = None
    heading_pos: int | None = None


def title_candidates(
    tree: lxml.html.HtmlElement,
    meta: dict[str, str],
    headline: str | None,
    site_names: tuple[str, ...],
    host: str,
    rules_title: str | None,
) -> tuple[list[Candidate], int]:
    """Every title string the page offers, merged by text; and how many segments <title> has."""
    found: dict[str, Candidate] = {}

    def add(text: str | None, source: str) -> Candidate | None:
        text = squash(text or "")
        if not text or len(text) > 300:
            return None
        cand = found.setdefault(text, Candidate(text))
        cand.sources.add(source)
        return cand

    add(rules_title, "rules")
    add(headline, "ld")
    for key in TITLE_META:
        source = "og" if key == "og:title" else "twitter" if key == "twitter:title" else "meta"
        add(meta.get(key), source)
        if meta.get(key):
            add(clean_title(meta[key], site_names, host), "clean")
    raw = squash(tree.findtext(".//title") or "")
    segments = _segment_spans(raw)
    if raw:
        add(raw, "title")
        add(clean_title(raw, site_names, host), "clean")
    for i, (start, _) in enumerate(segments):
        for j in range(i, len(segments)):
            if (i, j) != (0, len(segments) - 1) and (c := add(raw[start : segments[j][1]], "segment")):
                c.seg_span = c.seg_span or (i, j)
    _add_headings(tree, add)
    return list(found.values()), len(segments)


def _add_headings(tree: lxml.html.HtmlElement, add: object) -> None:
    """h1, h2 and itemprop=headline elements, in page order, with their position."""
    for pos, el in enumerate(
        tree.xpath('//h1 | //h2 | //*[@itemprop="headline"]')[:TITLE_CANDIDATE_HEADINGS]
    ):
        source = el.tag if el.tag in ("h1", "h2") else "itemprop"
        cand = add(TITLE_LABEL_RE.sub("", heading_text(el)), source)  # type: ignore[operator]
        if cand is not None and cand.heading_pos is None:
            cand.heading_pos = pos


def _segment_spans(raw: str) -> list[tuple[int, int]]:
    """(start, end) of each non-empty part of <title> between separators."""
    spans, start = [], 0
    for m in TITLE_SEPARATOR_RE.finditer(raw):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(raw)))
    return [(a, b) for a, b in spans if text_key(raw[a:b])]


def candidate_features(
    cands: list[Candidate],
    n_segments: int,
    site_names: tuple[str, ...],
    url: str | None,
    page: dict[str, float],
) -> list[list[float]]:
    """One row of FEATURE_NAMES per candidate."""
    keys = [text_key(c.text) for c in cands]
    heading_keys = {k for c, k in zip(cands, keys, strict=True) if c.sources & {"h1", "h2", "itemprop"}}
    declared_keys = {
        k for c, k in zip(cands, keys, strict=True) if c.sources & {"ld", "og", "twitter", "meta"}
    }
    raw_key = next((k for c, k in zip(cands, keys, strict=True) if "title" in c.sources), "")
    name_keys = {k for k in map(text_key, site_names) if len(k) >= 3}
    slug = _words(unquote(urlsplit(url or "").path).replace("-", " ").replace("_", " "))
    raw_words = _words(next((c.text for c in cands if "title" in c.sources), ""))
    longest = max((len(k) for k in keys), default=0)
    rows = []
    for c, key in zip(cands, keys, strict=True):
        words = _words(c.text)
        span = c.seg_span
        rows.append(
            [
                *(float(s in c.sources) for s in SOURCES),
                float(span is not None and span[0] == 0),
                float(span is not None and span[1] == n_segments - 1),
                (span[1] - span[0] + 1) / n_segments if span and n_segments else 0.0,
                float(min(n_segments, 5)),
                float(len(c.sources)),
                float(key in heading_keys and not c.sources & {"h1", "h2", "itemprop"}),
                float(key in declared_keys),
                float(bool(key) and key in raw_key),
                float(any(n in key for n in name_keys)),
                float(bool(TITLE_SEPARATOR_RE.search(c.text))),
                math.log1p(len(c.text)),
                float(min(len(words), 30)) / 10,
                float(c.text.isupper()),
                float(key in UI_WORD_KEYS),
                -1.0 if c.heading_pos is None else min(c.heading_pos, 20) / 10,
                len(words & slug) / len(words) if words else 0.0,
                len(words & raw_words) / len(words) if words else 0.0,
                *(page["n_h1"], page["has_ld"], page["has_og"]),
                float(c.text[-1] in ".!?。！？"),
                float(len(key) == longest),
            ]
        )
    return rows


def _words(text: str) -> set[str]:
    return set(_WORD_RE.findall(text.casefold()))


def page_signals(tree: lxml.html.HtmlElement, meta: dict[str, str], headline: str | None) -> dict[str, float]:
    """Page-level features shared by every candidate."""
    return {
        "n_h1": float(min(len(tree.xpath("//h1")), 3)),
        "has_ld": float(bool(headline)),
        "has_og": float(bool(meta.get("og:title"))),
    }


def page_rows(
    tree: lxml.html.HtmlElement,
    url: str | None,
    meta: dict[str, str],
    headline: str | None,
    site_name: str | None,
    rules_title: str | None,
) -> tuple[list[Candidate], list[list[float]]]:
    """The page's title candidates and their feature rows, as the model sees them."""
    names = tuple(n for n in (site_name, meta.get("og:site_name")) if n)
    host = urlsplit(url or "").hostname or ""
    cands, n_segments = title_candidates(tree, meta, headline, names, host, rules_title)
    return cands, candidate_features(cands, n_segments, names, url, page_signals(tree, meta, headline))
