"""Tree helpers shared by the content steps: class/id names, ancestry, containment.

Input: lxml elements. Output: plain values; nothing here changes the tree.
Settings: none.
"""

from __future__ import annotations

from lxml import etree


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
