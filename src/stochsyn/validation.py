"""Argument checks for the whole package: one place for what is accepted and for the messages.

Every public function checks its arguments through these helpers, so the same
mistake gets the same exception type and the same wording everywhere:

* a value of the wrong *type* (a string where a number is expected, a bool where
  an integer is expected) raises ``TypeError``;
* a value of the right type outside its domain (a negative count, a load ≤ 0, a
  non-finite number, an unknown choice) raises ``ValueError``.

Messages name the argument as the caller spelled it, show the value received and
say what was expected, e.g. ``alpha must lie in (0, inf), got alpha=-1.0``. The
command line maps argument names to its option names (``--alpha``) where they differ.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

__all__ = ["real", "integer", "count", "choice", "flag", "seed", "pm1_vector", "real_array"]


def _num(v: float | None) -> str:
    return "inf" if v is None else repr(v)


def real(name: str, value: Any, *, lo: float | None = None, hi: float | None = None,
         lo_open: bool = False, hi_open: bool = False) -> float:
    """``value`` as a finite float inside [lo, hi] (open ends with ``lo_open``/``hi_open``).

    Raises:
        TypeError: not a real number (bools are rejected).
        ValueError: NaN/inf, or outside the interval.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {name}={value!r} ({type(value).__name__})")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {name}={value!r}")
    below = lo is not None and (v <= lo if lo_open else v < lo)
    above = hi is not None and (v >= hi if hi_open else v > hi)
    if below or above:
        lb = "(" if lo_open or lo is None else "["
        hb = ")" if hi_open or hi is None else "]"
        low = "-inf" if lo is None else repr(lo)
        raise ValueError(f"{name} must lie in {lb}{low}, {_num(hi)}{hb}, got {name}={value!r}")
    return v


def integer(name: str, value: Any, *, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as a Python int inside [lo, hi] (bools and floats are rejected, even 3.0).

    Raises:
        TypeError: not an integer.
        ValueError: outside [lo, hi].
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {name}={value!r} ({type(value).__name__})")
    v = int(value)
    if lo is not None and v < lo:
        raise ValueError(f"{name} must be >= {lo}, got {name}={v}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}, got {name}={v}")
    return v


def count(name: str, value: Any, *, lo: int = 1) -> int:
    """An integer ≥ ``lo`` (default 1): a number of things."""
    return integer(name, value, lo=lo)


def choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``; ValueError listing them otherwise."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {name}={value!r}")
    return value


def flag(name: str, value: Any) -> bool:
    """``value`` if it is a bool (numpy bools included); TypeError otherwise (no truthy strings)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {name}={value!r}")
    return bool(value)


def seed(value: Any, name: str = "seed") -> int | None:
    """A seed: a non-negative integer, or None for fresh entropy."""
    if value is None:
        return None
    return integer(name, value, lo=0)


def pm1_vector(value: Any, n: int, name: str) -> np.ndarray:
    """``value`` as an int8 (n,) array of ±1 (ValueError/TypeError naming ``name``)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iufb":
        raise TypeError(f"{name} must be a numeric array of ±1, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got shape {arr.shape}")
    ok = (arr == 1) | (arr == -1)
    if not np.all(ok):
        bad = arr[~ok].ravel()[:3]
        raise ValueError(f"{name} must contain only +1 and -1, found values such as {bad.tolist()}")
    return arr.astype(np.int8)


def real_array(value: Any, name: str, *, ndim: int | None = None) -> np.ndarray:
    """``value`` as a float64 array of finite numbers (of ``ndim`` dimensions when given)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iufb":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr
