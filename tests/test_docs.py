"""The documents name tests that exist: docs/RELIABILITY.md promises nothing no test holds."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _named_tests(table_cell: str) -> list[tuple[str, str]]:
    """(file, test) pairs of a cell like 'test_a.py::test_x, test_y (note), test_b.py::test_z'."""
    found, current = [], ""
    for item in re.findall(r"(?:(test_\w+\.py)::)?(test_\w+)", table_cell):
        current = item[0] or current
        found.append((current, item[1]))
    return found


def test_every_test_the_fault_matrix_names_exists() -> None:
    rows = [
        line for line in (ROOT / "docs" / "RELIABILITY.md").read_text().splitlines() if line.startswith("| ")
    ]
    named = [pair for row in rows for pair in _named_tests(row.rstrip(" |").rsplit(" | ", 1)[-1])]
    assert len(named) > 60
    for file, test in named:
        source = (ROOT / "tests" / file).read_text()
        assert re.search(rf"^(?:async )?def {test}\(", source, re.M), (
            f"{file}::{test} named in RELIABILITY.md"
        )
