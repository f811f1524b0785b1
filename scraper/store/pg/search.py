"""Full-text search on PostgreSQL: the `search` tsvector every article carries, and queries over it.

Input: an article's title and text (to index), the user's parsed terms or raw FTS5 text (to query).
Output: SQL fragments and their parameters for store/pg/articles.py (writing) and store/pg/read.py
(ranking). Settings: none.

The index form is SQLite's (store/fts.py): words as unicode61 splits them, CJK runs as overlapping
bigrams, so a two-character Chinese word is one lexeme and a longer one a phrase of bigrams. That
form is computed in Python (fts.word_text), so the writer fills `search` in the same statement that
writes title and text: a trigger could not call the one definition of the bigram form, and a
trigger fed by extra index-text columns would store every text twice. Any statement that writes
articles.title or articles.text must set `search = SEARCH_VECTOR_SQL` too (search_params()).
The 'simple' configuration: no stemming and no stop words, as unicode61 has none. The title is
weight A, the text weight B; ranking weighs a title match TITLE_WEIGHT text matches, as bm25 does.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import QueryError
from ..fts import word_text
from ..schema import TITLE_WEIGHT

# The vector of one article; the writer passes search_params() (named parameters).
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('simple', %(search_title)s), 'A')"
    " || setweight(to_tsvector('simple', %(search_text)s), 'B')"
)
# Characters of a text's index form that go into its tsvector. A tsvector holds at most 1 MB
# (90k distinct 8-letter words failed the insert: "string is too long for tsvector") and positions
# up to 16,383 only, so a phrase past about that many words cannot match anyway; 100,000
# characters are about 16k English words, and at most ~0.5 MB even when every word is new. SQLite
# indexes a text whole: only an article over ~16k words is found by fewer of its words here.
MAX_INDEX_CHARS = 100_000
# ts_rank's weights for {D, C, B, A}: a title (A) match counts TITLE_WEIGHT text (B) matches.
RANK_WEIGHTS = f"'{{0, 0, {1 / TITLE_WEIGHT:g}, 1}}'::real[]"
# ts_rank normalization 1: divide by 1 + log(length), so a long text does not win by its length
# alone (bm25 normalizes by length too).
RANK_NORMALIZATION = 1
# FTS5 raw syntax -> tsquery: the column filters and what tsquery calls them.
_COLUMN_WEIGHTS = {"title": "A", "text": "B"}
_OPERATORS = frozenset({"&", "|", "& !"})
_RAW_TOKEN_RE = re.compile(r'"([^"]*)"|(\()|(\))|(\w+):|(\w+)(\*?)|(\S)')


def search_params(title: str | None, text: str | None) -> dict[str, str]:
    """The parameters of SEARCH_VECTOR_SQL for an article's title and text (each cut at MAX_INDEX_CHARS)."""
    return {"search_title": _capped(word_text(title)), "search_text": _capped(word_text(text))}


def _capped(words: str) -> str:
    """The first MAX_INDEX_CHARS characters of an index form, ending at a whole word."""
    if len(words) <= MAX_INDEX_CHARS:
        return words
    return words[:MAX_INDEX_CHARS].rsplit(" ", 1)[0]


def terms_query(terms: list[str]) -> tuple[str, list[Any]]:
    """A tsquery expression matching every term (a word, or a phrase of words), and its parameters."""
    parts = ["phraseto_tsquery('simple', %s)" for _ in terms]
    return " && ".join(parts), [word_text(term) for term in terms]


def raw_query(text: str) -> str:
    """FTS5 query syntax as tsquery text: AND, OR, NOT, (), "phrases", prefix*, title:/text: filters.

    Raises:
        QueryError: syntax with no tsquery form (NEAR, an unknown column, a stray character).
    """
    out: list[str] = []
    column = ""
    for phrase, opening, closing, name, word, star, other in _RAW_TOKEN_RE.findall(text):
        if other or word == "NEAR" or (name and name not in _COLUMN_WEIGHTS):
            what = "NEAR (use a phrase)" if word == "NEAR" else f"{name or other!r}"
            raise QueryError(
                f"bad FTS5 query {text!r}: {what} has no PostgreSQL form; drop --raw to search plain words"
            )
        if name:
            column = _COLUMN_WEIGHTS[name]
            continue
        operator = None if star or phrase else {"AND": "&", "OR": "|", "NOT": "& !"}.get(word)
        if operator or opening or closing:
            out.append(operator or opening or closing)
            continue
        if out and out[-1] not in _OPERATORS and out[-1] != "(":
            out.append("&")  # FTS5 reads two operands side by side as AND
        suffix = ":" + ("*" if star else "") + column if star or column else ""
        lexemes = [f"'{lexeme}'{suffix}" for lexeme in word_text(phrase or word).split()]
        # a quoted CJK run is a phrase of its bigrams, a bare one their AND (as FTS5 reads them)
        out.append("(" + (" <-> " if phrase else " & ").join(lexemes) + ")" if lexemes else "''")
        column = ""
    return " ".join(out)
