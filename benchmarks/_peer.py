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


def alpha_50(alphas: list[float], frac: list[float]) -> float | None:
    """Load at which the success fraction first crosses 1/2, by linear interpolation
    between the two grid points around the crossing (None if it never crosses).
    Loads without finished runs (NaN) are left out."""
    pairs = [(a, f) for a, f in zip(alphas, frac) if f == f]
    for (a0, f0), (a1, f1) in zip(pairs, pairs[1:]):
        if f0 >= 0.5 > f1:
            return a0 + (f0 - 0.5) / (f0 - f1) * (a1 - a0)
    return None
