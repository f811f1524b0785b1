"""Tree helpers shared by the content steps: class/id names, ancestry, containment.

Input: lxml elements. Output: plain values; nothing here changes the tree.
Settings: NAME_CACHE_SIZE.
"""

from __future__ import annotations

import bisect
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
    names, ident = el.get("class"), el.get("id")  # no generator: this runs on most elements, often twice
    if names and ident:
        return f"{names} {ident}"
    return names or ident or ""


class NamedElements:
    """(element, "class id") for every element under <body> with a class or id, in document order.

    Read once on first use and shared by the metadata searches that test class/id names (bylines,
    date zones, breadcrumbs): each used to walk the body again. Same elements, order and string as
    `//body//*[@class or @id]` with f"{class} {id}" (missing attributes give "").
    """

    __slots__ = ("_items", "_joined", "_lower", "_root", "_starts")

    def __init__(self, root: etree._Element) -> None:
        self._root = root
        self._items: list[tuple[etree._Element, str]] | None = None
        self._joined = ""
        self._lower: str | None = None
        self._starts: list[int] = []

    def items(self) -> list[tuple[etree._Element, str]]:
        """The (element, names) pairs, read on the first call."""
        if self._items is None:
            # libxml2 puts the one <body> under <html> (a second <body> tag only adds attributes)
            body = self._root.find("body") if self._root.tag == "html" else None
            if body is None:
                named = self._root.xpath("//body//*[@class or @id]")
                self._items = [(el, f"{el.get('class', '')} {el.get('id', '')}") for el in named]
                return self._items
            self._items = []
            walk = body.iter(etree.Element)
            next(walk)  # the body itself: `//body//*` is its descendants only
            for el in walk:  # each attribute read once (twice per element was a fifth of this walk)
                names, ident = el.get("class"), el.get("id")
                if names is not None or ident is not None:
                    self._items.append((el, f"{names or ''} {ident or ''}"))
        return self._items

    def matching(self, regex: re.Pattern[str]) -> list[tuple[etree._Element, str]]:
        """The pairs whose names regex.search() matches, in document order.

        One search over all names joined by newlines instead of one per element: exact for a
        regex that cannot match a newline (the name patterns are words), since then no match
        spans two elements' names. An all-lower-case IGNORECASE pattern runs case-sensitively on
        the lower-cased names when they are ASCII (the same matches; re skips ahead far faster).
        """
        items = self.items()
        if not self._starts and items:
            self._joined = "\n".join(names for _, names in items)
            self._lower = self._joined.lower() if self._joined.isascii() else None
            offset = 0
            for _, names in items:
                self._starts.append(offset)
                offset += len(names) + 1
        text = self._joined
        if self._lower is not None and regex.flags == re.IGNORECASE | re.UNICODE and regex.pattern.islower():
            regex, text = _case_sensitive(regex.pattern), self._lower
        hits: list[tuple[etree._Element, str]] = []
        last = -1
        for match in regex.finditer(text):
            index = bisect.bisect_right(self._starts, match.start()) - 1
            if index != last:
                hits.append(items[index])
                last = index
        return hits


@functools.cache
def _case_sensitive(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


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
