"""Text helpers shared by the content steps: CJK-weighted length, normalised forms, headline match.

Input: strings. Output: plain values. Settings: boilerplate.py, "shared" heading.
"""

from __future__ import annotations

from .boilerplate import (
    CJK_RE,
    CJK_WEIGHT,
    HEADLINE_MAX_GROWTH,
    HEADLINE_MIN_CUT_SHARE,
    NON_WORD_RE,
    TITLE_FORM_MIN_CHARS,
    TITLE_SEPARATOR_RE,
)


def weighted_len(text: str) -> int:
    """Length with each CJK character counted as CJK_WEIGHT Latin characters."""
    if text.isascii():  # O(1) in CPython; most paragraphs of most pages
        return len(text)
    return len(text) + (CJK_WEIGHT - 1) * len(CJK_RE.findall(text))


def normalise(text: str) -> str:
    """The text without punctuation or spaces, case-folded: the form lines are compared in."""
    return NON_WORD_RE.sub("", text).casefold()


def title_forms(title: str) -> tuple[str, ...]:
    """The normalised title, and its longest part when a site name is attached to it."""
    parts = [normalise(p) for p in TITLE_SEPARATOR_RE.split(title)]
    longest = max(parts, key=len, default="")
    return tuple(t for t in dict.fromkeys((normalise(title), longest)) if len(t) >= TITLE_FORM_MIN_CHARS)


def is_headline(normed: str, title: str) -> bool:
    """The paragraph (normalised) repeats the title, possibly cut, or with a site name added."""
    if not normed:
        return False
    if normed == title:
        return True
    if normed in title:
        return len(normed) >= HEADLINE_MIN_CUT_SHARE * len(title)
    return title in normed and len(normed) <= HEADLINE_MAX_GROWTH * len(title)
