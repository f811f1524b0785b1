"""One-line tests shared by the content steps: is this line prose, footer boilerplate, a dateline?

Input: a paragraph (flatten.Para, or anything with its weight and link density) or
its text. Output: a yes or no. Settings: boilerplate.py, "shared" heading.
"""

from __future__ import annotations

import functools
from typing import Protocol

from .boilerplate import (
    COPYRIGHT_LINE_RE,
    COPYRIGHT_MAX_CHARS,
    DATELINE_MAX_OTHER_WORDS,
    DATELINE_WORDS_RE,
    DISCLOSURE_HINT_RE,
    DISCLOSURE_MAX_CHARS,
    DISCLOSURE_RE,
    FURNITURE_RE,
    PAGER_MAX_CHARS,
    PAGER_RE,
    PARTNER_LIST_RE,
    PROMO_MAX_CHARS,
    PROMO_RE,
    PROSE_MAX_LINK_DENSITY,
    PROSE_PARAGRAPH_CHARS,
    WORD_RE,
)
from .dates import DIGIT_RE, text_date_res


class Measured(Protocol):
    """A paragraph as the prose test reads it."""

    @property
    def weight(self) -> int: ...

    @property
    def link_density(self) -> float: ...


def is_prose(
    para: Measured,
    min_weight: int = PROSE_PARAGRAPH_CHARS,
    max_link_density: float = PROSE_MAX_LINK_DENSITY,
    *,
    at_limit: bool = False,
) -> bool:
    """At least min_weight CJK-weighted characters and less link text than max_link_density.

    Args:
        at_limit: a paragraph exactly at max_link_density counts too. The block-rescue
            weights and the standfirst test have always counted it, the other callers not.
    """
    if para.weight < min_weight:
        return False
    if at_limit:
        return para.link_density <= max_link_density
    return para.link_density < max_link_density


# Block scoring and the paragraph filter test the same lines: remember the last pages' answers.
@functools.lru_cache(maxsize=4096)
def is_boilerplate_text(text: str) -> bool:
    """A copyright, partner-list, promotion, affiliate-disclosure, pager or sharing line."""
    if len(text) <= COPYRIGHT_MAX_CHARS and COPYRIGHT_LINE_RE.search(text.lower()):
        return True
    if PARTNER_LIST_RE.match(text):
        return True
    if len(text) <= PROMO_MAX_CHARS and PROMO_RE.search(text):
        return True
    if len(text) <= DISCLOSURE_MAX_CHARS and DISCLOSURE_HINT_RE.search(text) and DISCLOSURE_RE.search(text):
        return True
    if len(text) <= PAGER_MAX_CHARS and PAGER_RE.search(text):
        return True
    return bool(FURNITURE_RE.match(text))


@functools.lru_cache(maxsize=4096)
def is_dateline(text: str) -> bool:
    """A line of dates and their labels only: "Pubblicato il 19 Febbraio 2020 Ultima modifica …"."""
    if not DIGIT_RE.search(text):
        return False
    rest = text
    for regex in text_date_res(text):
        rest = regex.sub(" ", rest)
    if rest == text:
        return False
    rest = DATELINE_WORDS_RE.sub(" ", rest)
    return len(WORD_RE.findall(rest)) <= DATELINE_MAX_OTHER_WORDS
