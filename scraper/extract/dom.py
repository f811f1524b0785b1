"""Tree helpers shared by the content steps: class/id names, ancestry, containment.

Input: lxml elements. Output: plain values; nothing here changes the tree.
Settings: NAME_CACHE_SIZE.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from lxml import etree

# Class/id strings remembered per name test: a page repeats a few hundred names over thousands of
# elements, and sites repeat them across pages (speed only; a bound keeps memory flat).
NAME_CACHE_SIZE = 8192


def name_matcher(regex: re.Pattern[str]) -> Callable[[str], bool]:
    """regex.search(names) as a yes or no, remembered per class/id string."""

    @functools.lru_cache(maxsize=NAME_CACHE_SIZE)
    def matches(names: str) -> bool:
        return regex.search(names) is not None

    return matches


def class_id(el: etree._Element) -> str:
    """An element's class and id, space-separated ("" when it has neither)."""
    return " ".join(v for v in (el.get("class"), el.get("id")) if v)


def is_ancestor(ancestor: etree._Element, el: etree._Element) -> bool:
    """True when ancestor is a proper ancestor of el."""
    return any(a is ancestor for a in el.iterancestors())


def is_inside(el: etree._Element, roots: list[etree._Element]) -> bool:
    """True when el is one of roots or inside one of them."""
    return any(el is r for r in roots) or any(a is r for a in el.iterancestors() for r in roots)


def outermost(elements: list[etree._Element]) -> list[etree._Element]:
    """The elements not inside another one of them (document order in, document order out)."""
    inside = set(elements)
    return [el for el in elements if not any(a in inside for a in el.iterancestors())]
