"""The full-text index's text form: words as they are, CJK runs as overlapping bigrams.

Input: a title or text (to index) or one user term (to query). Output: the text the FTS5
unicode61 tokenizer sees. Settings: none.

unicode61 splits spaced scripts into words, so "AI" matches the word "AI" and never "said"; but
it reads a run of Chinese or Japanese characters (no spaces) as one token. So every CJK run is
rewritten as its overlapping bigrams ("投身外交" -> "投身 身外 外交"), a one-character run as
itself: a two-character word is then one token, found by Datasette and `sqlite-utils search`
with the user's raw text, and a longer word is a phrase of bigrams. The `articles_fts` table
keeps `articles` as its external content (what snippets and Datasette read), while its index
holds this form: the triggers call FTS_FUNCTION, which open_db() registers on every writable
connection (a writer without it gets "no such function: scraper_fts").
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata

FTS_FUNCTION = "scraper_fts"
# unicode61 with diacritics folded ("cafe" finds "café"); its token characters are letters,
# numbers and private-use characters.
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
# Han (with extension A and compatibility ideographs), kana and the iteration mark: the
# scripts written without spaces. Hangul is spaced, so unicode61 words fit it.
CJK_RUN_RE = re.compile(r"[\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# word_text(): the combining diacritics unicode61's remove_diacritics folds away (kana's voicing
# marks, U+3099-309A, stay: "が" is not "か"), and what separates words (not a letter or digit).
_DIACRITIC_RE = re.compile(r"[\u0300-\u036f]")
_SEPARATOR_RE = re.compile(r"[\W_]+")


def _bigrams(match: re.Match[str]) -> str:
    run = match[0]
    if len(run) < 2:
        return f" {run} "
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


def index_text(text: str | None) -> str | None:
    """The form the index holds: text unchanged outside CJK runs, each run as its bigrams."""
    if text is None or CJK_RUN_RE.search(text) is None:
        return text
    return CJK_RUN_RE.sub(_bigrams, text)


def word_text(text: str | None) -> str:
    """index_text() as unicode61 would tokenize it, for PostgreSQL's 'simple' parser (store/pg/search.py).

    Lower case, Latin/Greek/Cyrillic diacritics removed ("Café" -> "cafe"), and every character
    that is not a letter or digit a space: PostgreSQL's parser alone keeps "e-mail", "3.14" and
    "x.com" whole and lower-cases only ASCII under the C locale, where unicode61 splits and folds.
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", (index_text(text) or "").lower())
    folded = unicodedata.normalize("NFC", _DIACRITIC_RE.sub("", decomposed))
    return _SEPARATOR_RE.sub(" ", folded).strip()


def is_single_cjk(term: str) -> bool:
    """A term that is one CJK character: no bigram holds it whole, so the index cannot find it."""
    return len(term) == 1 and CJK_RUN_RE.fullmatch(term) is not None


def register_function(conn: sqlite3.Connection) -> None:
    """Make FTS_FUNCTION (index_text) callable from SQL on conn, for the articles_fts triggers."""
    conn.create_function(FTS_FUNCTION, 1, index_text, deterministic=True)
