"""A writer process killed with SIGKILL at given moments, for the kill-safety tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def kill_writer_at(path: Path, script: str, delays: Iterable[float]) -> None:
    """Run `python -c script PATH RUN` once per delay, killing it that long after its first line.

    The script prints a line once it is saving in a loop, so each kill lands inside its writes.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    for run, kill_after in enumerate(delays):
        proc = subprocess.Popen(
            [sys.executable, "-c", script, str(path), str(run)], stdout=subprocess.PIPE, env=env, text=True
        )
        assert proc.stdout is not None
        assert proc.stdout.readline()  # the writer is saving in a loop now
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
