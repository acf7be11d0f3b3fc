"""Checks and helpers shared by the solvers (argument primitives live in :mod:`stochsyn.validation`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..problems import Instance, as_instance
from ..resources import require_memory


def check_instance(instance: Any, method: str, *, binary_patterns: bool = False) -> Instance:
    """The instance itself, after checking its type (and ±1 patterns when the rule needs them)."""
    as_instance(instance)
    if binary_patterns and not instance.binary_patterns:
        raise ValueError(
            f"method {method!r} needs ±1 patterns (instance.binary_patterns), got real-valued patterns; "
            "use 'rbp', 'fbp' or 'annealing' for real inputs"
        )
    return instance


def pm1_sign(x: np.ndarray) -> np.ndarray:
    """sign(x) as int8 with sign(0) := +1 (the project's convention for deployed weights)."""
    return np.where(x >= 0, 1, -1).astype(np.int8)


def require_pattern_memory(instance: Instance, method: str, bytes_per_entry: float, what: str) -> None:
    """Refuse, before allocating, a solver whose working set is ``bytes_per_entry`` per pattern entry.

    A packed instance that the solver reads densely also counts its dense int8 copy.
    The message names the method and the P×N size, e.g. ``method 'fbp' keeps P×N float64
    messages (P=60001, N=100001): needs 134.1 GiB; 21.0 GiB of memory is available``.
    """
    p, n = instance.p, instance.n
    extra = p * n if instance.storage == "bits" else 0
    require_memory(bytes_per_entry * p * n + extra, f"method {method!r} keeps {what} (P={p}, N={n}): it")
