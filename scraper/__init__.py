"""scraper: news and article websites into a clean, deduplicated, searchable SQLite corpus."""

from __future__ import annotations

__version__ = "0.1.0"

# `scraper.extract` stays the subpackage (its function is scraper.extract.extract): re-exporting
# the function under that name made `import scraper.extract.content` and `scraper.extract.extract` fail.
from . import extract
from .config import Config, load_config
from .models import Article
from .query import Corpus, open_corpus

__all__ = ["Article", "Config", "Corpus", "__version__", "extract", "load_config", "open_corpus"]
