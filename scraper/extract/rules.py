"""Per-site rules: CSS selectors from config.yaml that override the generic extractor.

Input: an lxml tree and a Rules object (title, body, date, author, source
selectors and `drop`, a tuple of selectors). Output: selected nodes or text.
Selectors are compiled once and cached; an invalid one is a ConfigError.
"""

from __future__ import annotations

import functools
import logging

from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from ..errors import ConfigError

logger = logging.getLogger(__name__)

# Attributes that hold the value when a selector picks a text-less element:
# <meta content="...">, <time datetime="...">.
_VALUE_ATTRIBUTES = ("content", "datetime", "title", "value")


@functools.lru_cache(maxsize=512)
def compile_selector(selector: str) -> CSSSelector:
    """Compile a CSS selector (HTML rules: case-insensitive tag names).

    Raises:
        ConfigError: the selector is not valid CSS.
    """
    try:
        return CSSSelector(selector, translator="html")
    except (SelectorError, SyntaxError) as exc:
        raise ConfigError(f"rules: invalid CSS selector {selector!r}: {exc}") from exc


def select_all(tree: etree._Element, selector: str) -> list[etree._Element]:
    """Every element the selector matches, in document order, outermost only."""
    matches = [el for el in compile_selector(selector)(tree) if isinstance(el.tag, str)]
    chosen = set(matches)
    return [el for el in matches if not any(a in chosen for a in el.iterancestors())]


def select_text(tree: etree._Element, selector: str | None) -> str | None:
    """Whitespace-normalised text of the first match that has any, else None."""
    if not selector:
        return None
    for el in compile_selector(selector)(tree):
        if not isinstance(el.tag, str):
            continue
        text = " ".join(el.text_content().split())
        if not text:
            text = next((" ".join(v.split()) for a in _VALUE_ATTRIBUTES if (v := el.get(a))), "")
        if text:
            return text
    return None


def drop_selected(tree: etree._Element, selectors: tuple[str, ...]) -> int:
    """Remove every element a `drop` selector matches (its tail text stays); returns the count."""
    removed = 0
    for selector in selectors:
        for el in select_all(tree, selector):
            if el.getparent() is not None:
                remove_keeping_tail(el)
                removed += 1
    if removed:
        logger.debug("rules.drop removed %d elements", removed)
    return removed


def remove_keeping_tail(el: etree._Element) -> None:
    """Detach an element; the text after it moves to the previous node."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)
