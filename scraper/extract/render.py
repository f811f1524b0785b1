"""Content step 5, rendering: the text's paragraphs -> plain text and cleaned HTML; that HTML -> Markdown.

Input: the paragraphs the content steps keep (flatten.Para), or the cleaned HTML
render_html() wrote (p, h2-h4, ul/ol/li, blockquote, pre, table/tr/td, a, em,
strong, code). Output: plain text (paragraphs separated by a blank line), cleaned
HTML, or CommonMark-style Markdown with headings, lists, pipe tables, links and
emphasis. Pure functions, no I/O.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

from .flatten import Para

__all__ = ["render_html", "render_text", "to_markdown"]

# Characters that would start Markdown syntax inside running text.
_ESCAPE_RE = re.compile(r"([\\`*_\[\]<>|])")
_HEADING_LEVEL = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


def _rows(paras: list[Para]) -> list[Para]:
    """Join the cells of one table row into one paragraph when each cell holds one line."""
    out: list[Para] = []
    i = 0
    while i < len(paras):
        para = paras[i]
        row = para.container.getparent() if para.container.tag in ("td", "th") else None
        if row is None:
            out.append(para)
            i += 1
            continue
        j = i
        while (
            j < len(paras)
            and paras[j].container.tag in ("td", "th")
            and paras[j].container.getparent() is row
        ):
            j += 1
        cells = [p.container for p in paras[i:j]]
        if len(cells) > 1 and len(set(map(id, cells))) == len(cells):
            out.append(
                Para(
                    container=row,
                    text=" ".join(p.text for p in paras[i:j]),
                    link_chars=sum(p.link_chars for p in paras[i:j]),
                    quote=para.quote,
                    weight=sum(p.weight for p in paras[i:j]),
                    _html="<tr>" + "".join(f"<td>{p.html}</td>" for p in paras[i:j]) + "</tr>",
                )
            )
        else:
            out.extend(paras[i:j])
        i = j
    return out


def render_text(paras: list[Para]) -> str:
    """Plain text: one paragraph (or table row) a block, separated by a blank line."""
    return "\n\n".join(p.text for p in _rows(paras))


def _html_tag(para: Para) -> str:
    tag = str(para.container.tag)
    if tag in ("h1", "h2"):
        return "h2"
    if tag == "h3":
        return "h3"
    if tag in ("h4", "h5", "h6"):
        return "h4"
    if tag in ("li", "pre", "tr"):
        return tag
    return "p"


def render_html(paras: list[Para]) -> str:
    """Cleaned HTML: p, h2-h4, ul/ol/li, blockquote, pre, table rows and links."""
    parts: list[str] = []
    open_group: tuple[str, etree._Element | None] | None = None
    for para in _rows(paras):
        tag = _html_tag(para)
        group: tuple[str, etree._Element | None] | None = None
        if tag == "li":
            parent = para.container.getparent()
            group = ("ol" if parent is not None and parent.tag == "ol" else "ul", parent)
        elif tag == "tr":
            group = ("table", para.container.getparent())
        elif para.quote:
            group = ("blockquote", None)
        if open_group is not None and (group is None or group != open_group):
            parts.append(f"</{open_group[0]}>")
            open_group = None
        if group is not None and open_group is None:
            parts.append(f"<{group[0]}>")
            open_group = group
        parts.append(para.html if tag == "tr" else f"<{tag}>{para.html}</{tag}>")
    if open_group is not None:
        parts.append(f"</{open_group[0]}>")
    return "\n".join(parts)


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
