"""Option validation shared by the reference solvers.

Each helper raises a ValueError/TypeError that names the option, the value
received and what was expected, as the project's error convention asks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..problems import Instance
from ..resources import require_memory


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a Python int, rejecting bools, non-integers and values outside [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {name}={value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {name}={value}")
    return value


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite float inside the interval given by low/high (closed unless ``*_open``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {name}={value!r}")
    lo_bad = low is not None and (value <= low if low_open else value < low)
    hi_bad = high is not None and (value >= high if high_open else value > high)
    if lo_bad or hi_bad:
        lb = "(" if low_open else "["
        hb = ")" if high_open else "]"
        lo = "-inf" if low is None else repr(low)
        hi = "inf" if high is None else repr(high)
        raise ValueError(f"{name} must lie in {lb}{lo}, {hi}{hb}, got {name}={value!r}")
    return value


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``; ValueError listing them otherwise."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {name}={value!r}")
    return value


def check_instance(instance: Any, method: str, *, binary_patterns: bool = False) -> Instance:
    """The instance itself, after checking its type (and ±1 patterns when the rule needs them)."""
    if not isinstance(instance, Instance):
        raise TypeError(f"instance must be a stochsyn.problems.Instance, got {type(instance).__name__}")
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
