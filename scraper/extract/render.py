"""Rendering: the cleaned HTML of the main content -> Markdown.

Input: the HTML that content.py renders (p, h2-h4, ul/ol/li, blockquote, pre,
table/tr/td, a, em, strong, code). Output: CommonMark-style Markdown with
headings, lists, pipe tables, links and emphasis. Pure function, no I/O.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

__all__ = ["to_markdown"]

# Characters that would start Markdown syntax inside running text.
_ESCAPE_RE = re.compile(r"([\\`*_\[\]<>|])")
_HEADING_LEVEL = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


def to_markdown(html: str) -> str:
    """Markdown for a cleaned-HTML fragment (Content.html / Article.html)."""
    if not html or not html.strip():
        return ""
    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    blocks = [b for b in (_block(el) for el in root) if b]
    return "\n\n".join(blocks).strip()


def _block(el: etree._Element) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _HEADING_LEVEL:
        return f"{'#' * _HEADING_LEVEL[tag]} {_inline(el)}"
    if tag in ("ul", "ol"):
        return _list(el)
    if tag == "blockquote":
        inner = "\n\n".join(b for b in (_block(c) for c in el) if b) or _inline(el)
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
    if tag == "pre":
        code = el.text_content().rstrip("\n")
        return f"```\n{code}\n```"
    if tag == "table":
        return _table(el)
    return _inline(el)


def _list(el: etree._Element) -> str:
    lines = []
    for number, item in enumerate((c for c in el if c.tag == "li"), start=1):
        marker = f"{number}." if el.tag == "ol" else "-"
        lines.append(f"{marker} {_inline(item)}")
    return "\n".join(lines)


def _table(el: etree._Element) -> str:
    rows = [
        [_inline(cell).replace("\n", " ") for cell in tr if cell.tag in ("td", "th")] for tr in el.iter("tr")
    ]
    rows = [r for r in rows if r]
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def _inline(el: etree._Element, strip: bool = True) -> str:
    parts: list[str] = [_escape(el.text or "")]
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        raw = _inline(child, strip=False)
        inner = raw.strip()
        lead = " " if raw[:1].isspace() else ""
        trail = " " if raw[-1:].isspace() else ""
        if tag == "a" and child.get("href") and inner:
            href = child.get("href", "").replace(" ", "%20").replace(")", "%29")
            parts.append(f"{lead}[{inner}]({href}){trail}")
        elif tag in ("em", "i") and inner:
            parts.append(f"{lead}*{inner}*{trail}")
        elif tag in ("strong", "b") and inner:
            parts.append(f"{lead}**{inner}**{trail}")
        elif tag == "code" and inner:
            parts.append(f"{lead}`{child.text_content().strip()}`{trail}")
        elif tag == "br":
            parts.append("  \n")
        else:
            parts.append(raw)
        parts.append(_escape(child.tail or ""))
    text = re.sub(r"[ \t\r\n]+", " ", "".join(parts).replace("  \n", "\x00"))
    text = text.replace("\x00", "  \n")
    return text.strip() if strip else text


def _escape(text: str) -> str:
    return _ESCAPE_RE.sub(r"\\\1", text)
