"""Datasette plugin: the search box reads Chinese and Japanese the way the scraper index holds them.

Load it with `datasette data/articles.db --metadata datasette/metadata.yml --plugins-dir datasette/plugins`.
articles_fts holds CJK runs as overlapping bigrams (scraper/store/fts.py). Without this plugin a
two-character word already matches (it is one bigram); with it, a longer word typed in the search
box becomes a phrase of bigrams too, as `scraper search` does.
"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl
from datasette.utils import escape_fts

from scraper.store.fts import index_text, register_function


def escape_fts_bigrams(query: str) -> str:
    """Datasette's escape_fts, then every CJK run in the quoted terms rewritten as bigrams."""
    return index_text(escape_fts(query)) or ""


@hookimpl(trylast=True)  # after Datasette's own prepare_connection, which registers escape_fts
def prepare_connection(conn: sqlite3.Connection) -> None:
    """Replace escape_fts (what the search box calls) and add the index function."""
    conn.create_function("escape_fts", 1, escape_fts_bigrams)
    register_function(conn)
