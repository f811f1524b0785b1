"""What `scraper crawl` and `ingest --warc/--files` show on stderr while they run: a one-line
progress display on a terminal, one plain line per URL otherwise, nothing but errors with
--quiet. Used by the scraper.cli package only.
"""

from __future__ import annotations

import time
from typing import TextIO

from .pipeline import UrlResult

_OUTCOME_WIDTH = 9
# Redraw the progress line at most this often (seconds): a fast crawl would flood the terminal.
_REDRAW_EVERY = 0.1
_SHOWN = ("new", "updated", "unchanged", "duplicate", "near", "listing", "filtered", "skipped", "failed")


class Progress:
    """Receives UrlResults from the crawl (its on_event) and writes them to a stream."""

    def __init__(self, stream: TextIO, *, mode: str, label: str = "crawling") -> None:
        """mode: "bar" (a terminal), "lines" (one line per URL) or "quiet" (nothing); label: what runs."""
        self.stream = stream
        self.mode = mode
        self.label = label
        self.counts: dict[str, int] = {}
        self._drawn = 0.0
        self._width = 0

    def __call__(self, result: UrlResult) -> None:
        """Count one outcome and show it."""
        self.counts[result.outcome] = self.counts.get(result.outcome, 0) + 1
        if self.mode == "lines":
            detail = result.title or result.reason or ""
            self.stream.write(f"{result.outcome:<{_OUTCOME_WIDTH}} {result.url}  {detail}".rstrip() + "\n")
        elif self.mode == "bar" and time.monotonic() - self._drawn >= _REDRAW_EVERY:
            self._draw()

    def _draw(self) -> None:
        parts = [f"{self.counts[k]} {k}" for k in _SHOWN if self.counts.get(k)]
        line = f"{self.label}: " + ", ".join(parts)
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)
        self._drawn = time.monotonic()

    def close(self) -> None:
        """End the progress line, if one was drawn."""
        if self.mode == "bar" and self._width:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
