"""Shared pieces of the peer benchmarks (bench_peer_fbp.py, bench_peer_committee.py):
crash-safe JSON-lines records and the α_50 read-off of a success curve."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path


def append_jsonl(path: Path, record: dict) -> None:
    """Append one record as one line, flushed and fsynced: a crash costs at most that line."""
    with open(path, "a") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def load_jsonl(path: Path, key: Callable[[dict], tuple]) -> dict[tuple, dict]:
    """Records of a JSON-lines file by ``key(record)``; a torn last line is skipped."""
    done: dict[tuple, dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            done[key(r)] = r
    return done


class CellClaim:
    """Exclusive claim of one benchmark cell by this process, so that several processes can
    share one results file and one seed range without running a cell twice.

    A claim is a file created with O_EXCL holding the owner's PID; a claim whose owner is
    no longer alive (a killed run) is stale and taken over. Use as a context manager:
    ``with CellClaim(folder, name) as mine: if mine: ...`` (False: another live process has it).
    """

    def __init__(self, folder: Path, name: str) -> None:
        self.path = Path(folder) / f"{name}.claim"
        self.mine = False

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def __enter__(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    owner = int(self.path.read_text().strip() or 0)
                except (OSError, ValueError):
                    owner = 0
                if owner and self._alive(owner):
                    return False
                self.path.unlink(missing_ok=True)  # stale: its owner died
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            self.mine = True
            return True
        return False

    def __exit__(self, *exc) -> None:
        if self.mine:
            self.path.unlink(missing_ok=True)


def alpha_50(alphas: list[float], frac: list[float]) -> float | None:
    """Load at which the success fraction first crosses 1/2, by linear interpolation
    between the two grid points around the crossing (None if it never crosses).
    Loads without finished runs (NaN) are left out."""
    pairs = [(a, f) for a, f in zip(alphas, frac) if f == f]
    for (a0, f0), (a1, f1) in zip(pairs, pairs[1:]):
        if f0 >= 0.5 > f1:
            return a0 + (f0 - 0.5) / (f0 - f1) * (a1 - a0)
    return None
