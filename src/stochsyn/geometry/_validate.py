"""Argument checks shared by the geometry measurements (one place for the error messages)."""

from __future__ import annotations

import numpy as np

from ..problems import Instance


def check_instance(instance: object, name: str = "instance") -> Instance:
    """Return ``instance`` if it is an :class:`Instance`, else raise TypeError naming it."""
    if not isinstance(instance, Instance):
        raise TypeError(f"{name} must be a stochsyn.problems.Instance, got {type(instance).__name__}")
    return instance


def check_pm1_vector(w: object, n: int, name: str) -> np.ndarray:
    """Return ``w`` as an int8 (n,) array of ±1, else raise ValueError/TypeError naming ``name``."""
    arr = np.asarray(w)
    if arr.dtype.kind not in "iufb":
        raise TypeError(f"{name} must be a numeric array of ±1, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got shape {arr.shape}")
    if not np.all((arr == 1) | (arr == -1)):
        bad = arr[(arr != 1) & (arr != -1)].ravel()[:3]
        raise ValueError(f"{name} must contain only +1 and -1, found values such as {bad.tolist()}")
    return arr.astype(np.int8)


def check_seed(seed: object) -> int | None:
    """Seeds are non-negative ints (or None for fresh entropy)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got seed={seed!r}")
    return int(seed)


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as int if it is an integer >= 1, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {name}={value}")
    return int(value)
