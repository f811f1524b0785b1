"""Extraction: HTML -> Article (title, date, author, source line, clean text).

Input: the page (str, or bytes decoded here in WHATWG order) and its URL.
Output: an Article. Settings: per-site Rules from config.yaml.
The page is parsed once with lxml; metadata is read from the whole tree
first, then the content step removes boilerplate and keeps the main text.
"""

from __future__ import annotations

from ..config import Rules
from ..models import Article


def extract(html: str | bytes, url: str | None = None, rules: Rules | None = None) -> Article:
    """Extract the article in one HTML page."""
    raise NotImplementedError
