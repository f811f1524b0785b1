"""The extractor's version: which code turned a page into an article (stored with each version).

Input: nothing but this package's own files. Output: "<package version>+<digest>", where the
digest covers every module and model file of scraper/extract, so any change to a rule, a threshold
or a model gives a new version without anyone remembering to bump a number. `scraper reextract`
and readers of a corpus use it to tell which articles an older extractor produced.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from .. import __version__

# Hex digits of the digest kept: 12 (48 bits) tell releases apart with no realistic collision.
DIGEST_CHARS = 12


@functools.cache
def extractor_version() -> str:
    """This process's extractor version, computed once from the package files."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*here.glob("*.py"), *here.glob("model/*.json")]):
        digest.update(path.relative_to(here).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:DIGEST_CHARS]}"
