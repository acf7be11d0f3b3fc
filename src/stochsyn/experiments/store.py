"""SQLite result store for sweeps: one row per finished trial.

Durability. The database runs in WAL mode with ``synchronous=FULL`` and every
trial is its own transaction, so a row, once :meth:`ResultStore.add` returns,
survives Ctrl-C, a killed worker or a killed driver. Only the driver process
writes; workers return plain data. The trial key is the primary key, so a
trial can never be stored twice (a duplicate insert is ignored and reported).

Table ``trials`` (one row per finished trial):

===============  ==========================================================
key              ``solver|options|problem|N|alpha|seed`` (see ``Trial.key``)
solver           registry name
options          canonical JSON of the solver options
problem          ``random`` or ``teacher``
n, alpha, p      N, load α, number of patterns P
seed             trial seed (the instance is ``random_patterns(N, α, seed)``)
solver_seed      seed passed to the solver (``grid.solver_seed(seed)``)
solved           1 when the verified weights have zero training errors
errors           verified training errors
epochs           solver epochs / iterations
seconds          wall time of the solver call (instance generation excluded)
weights_sha256   SHA-256 of the returned int8 weight bytes (bit-identity checks)
zero_fraction    fraction of the returned weights equal to 0 (q-state solvers; 0 for ±1)
version          stochsyn version of the worker
solver_code      first 16 hex digits of the SHA-256 of the solver function's source
                 file, as the worker loaded it (tells apart rows made while the
                 solver's code changed; '' in databases made before this column)
host, pid        where it ran
finished_at      UTC ISO-8601 time the driver stored it
===============  ==========================================================

Table ``failures`` records trials whose solver raised (the trial stays
unfinished, so a rerun retries it); table ``meta`` holds the schema version.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping

__all__ = ["SCHEMA_VERSION", "TRIAL_COLUMNS", "ResultStore"]

SCHEMA_VERSION = 1

#: Columns of the ``trials`` table, in order.
TRIAL_COLUMNS = (
    "key",
    "solver",
    "options",
    "problem",
    "n",
    "alpha",
    "p",
    "seed",
    "solver_seed",
    "solved",
    "errors",
    "epochs",
    "seconds",
    "weights_sha256",
    "zero_fraction",
    "version",
    "solver_code",
    "host",
    "pid",
    "finished_at",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    key TEXT PRIMARY KEY,
    solver TEXT NOT NULL,
    options TEXT NOT NULL,
    problem TEXT NOT NULL,
    n INTEGER NOT NULL,
    alpha REAL NOT NULL,
    p INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    solver_seed INTEGER NOT NULL,
    solved INTEGER NOT NULL CHECK (solved IN (0, 1)),
    errors INTEGER NOT NULL,
    epochs INTEGER NOT NULL,
    seconds REAL NOT NULL,
    weights_sha256 TEXT NOT NULL,
    zero_fraction REAL NOT NULL DEFAULT 0,
    version TEXT NOT NULL,
    solver_code TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    finished_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trials_group ON trials (solver, options, problem, n, alpha);
CREATE TABLE IF NOT EXISTS failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    solver TEXT NOT NULL,
    options TEXT NOT NULL,
    problem TEXT NOT NULL,
    n INTEGER NOT NULL,
    alpha REAL NOT NULL,
    seed INTEGER NOT NULL,
    error TEXT NOT NULL,
    host TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
"""


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class ResultStore:
    """A sweep's SQLite database (created on first use).

    Args:
        path: the ``.db`` file. Its folder is created if missing.
        create: when False, a missing file raises FileNotFoundError (for readers
            such as ``stochsyn report``). Default True.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise FileNotFoundError(f"no result database at {self.path}")
        if self.path.exists() and self.path.is_dir():
            raise ValueError(f"result database path {self.path} is a directory; expected a file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per trial.
        self._con = sqlite3.connect(str(self.path), isolation_level=None, timeout=30.0)
        try:
            # another program's database is left exactly as it was (no WAL switch, no tables)
            tables = {r[0] for r in self._con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            ours = "meta" in tables and self._con.execute(
                "SELECT 1 FROM meta WHERE name = 'schema_version'").fetchone() is not None
            if tables and not ours:
                self._con.close()
                raise ValueError(
                    f"{self.path} is an SQLite database of another program (tables {sorted(tables)[:5]}); "
                    "a sweep needs its own file"
                )
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=FULL")
            if create:
                self._con.executescript(_SCHEMA)
                self._con.execute(
                    "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            row = self._con.execute(
                "SELECT value FROM meta WHERE name = 'schema_version'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            self._con.close()
            raise ValueError(f"{self.path} is not a stochsyn result database: {exc}") from None
        if row is None or int(row[0]) != SCHEMA_VERSION:
            self._con.close()
            raise ValueError(
                f"{self.path} has result schema version {row[0] if row else None!r}; expected {SCHEMA_VERSION}"
            )
        # Columns added after a database was created are appended with their default.
        have = {r[1] for r in self._con.execute("PRAGMA table_info(trials)")}
        if "solver_code" not in have:
            self._con.execute("ALTER TABLE trials ADD COLUMN solver_code TEXT NOT NULL DEFAULT ''")
        if "zero_fraction" not in have:
            self._con.execute("ALTER TABLE trials ADD COLUMN zero_fraction REAL NOT NULL DEFAULT 0")

    # -- context manager --------------------------------------------------------
    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._con.close()

    # -- writing ----------------------------------------------------------------
    def add(self, row: Mapping[str, Any]) -> bool:
        """Store one finished trial in its own committed transaction.

        ``row`` needs every column of :data:`TRIAL_COLUMNS` except ``finished_at``
        (stamped here). Returns False when the key was already stored (the old
        row is kept).
        """
        values = dict(row)
        values.setdefault("finished_at", _utc_now())
        missing = [c for c in TRIAL_COLUMNS if c not in values]
        if missing:
            raise ValueError(f"trial row is missing columns {missing}")
        values["solved"] = int(bool(values["solved"]))
        cols = ", ".join(TRIAL_COLUMNS)
        marks = ", ".join("?" for _ in TRIAL_COLUMNS)
        with self._transaction():
            cur = self._con.execute(
                f"INSERT OR IGNORE INTO trials ({cols}) VALUES ({marks})",
                tuple(values[c] for c in TRIAL_COLUMNS),
            )
        return cur.rowcount == 1

    def add_failure(self, trial: Mapping[str, Any], error: str, host: str = "") -> None:
        """Record a trial whose solver raised; the trial stays unfinished."""
        with self._transaction():
            self._con.execute(
                "INSERT INTO failures (key, solver, options, problem, n, alpha, seed, error, host, finished_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    trial["key"],
                    trial["solver"],
                    trial["options_json"],
                    trial["problem"],
                    int(trial["n"]),
                    float(trial["alpha"]),
                    int(trial["seed"]),
                    str(error),
                    host,
                    _utc_now(),
                ),
            )

    class _Tx:
        def __init__(self, con: sqlite3.Connection) -> None:
            self.con = con

        def __enter__(self) -> None:
            self.con.execute("BEGIN IMMEDIATE")

        def __exit__(self, exc_type: object, *rest: object) -> None:
            self.con.execute("ROLLBACK" if exc_type else "COMMIT")

    def _transaction(self) -> "ResultStore._Tx":
        return ResultStore._Tx(self._con)

    # -- reading ----------------------------------------------------------------
    def finished_keys(self) -> set[str]:
        """Keys of every stored trial."""
        return {r[0] for r in self._con.execute("SELECT key FROM trials")}

    def count(self) -> int:
        """Number of stored trials."""
        return int(self._con.execute("SELECT COUNT(*) FROM trials").fetchone()[0])

    def rows(self) -> list[dict[str, Any]]:
        """Every stored trial as a dict, ordered by solver, options, problem, N, α, seed."""
        return list(self.iter_rows())

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        """Like :meth:`rows`, lazily."""
        cur = self._con.execute(
            f"SELECT {', '.join(TRIAL_COLUMNS)} FROM trials ORDER BY solver, options, problem, n, alpha, seed"
        )
        for r in cur:
            yield dict(zip(TRIAL_COLUMNS, r))

    def failures(self) -> list[dict[str, Any]]:
        """Recorded solver failures (oldest first)."""
        cols = ("key", "solver", "options", "problem", "n", "alpha", "seed", "error", "host", "finished_at")
        cur = self._con.execute(f"SELECT {', '.join(cols)} FROM failures ORDER BY id")
        return [dict(zip(cols, r)) for r in cur]
