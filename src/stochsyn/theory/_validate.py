"""Argument checks shared by the theory modules (ValueError/TypeError naming the argument)."""

from __future__ import annotations

import math

import numpy as np


def real(name: str, value, *, lo: float | None = None, hi: float | None = None,
         lo_open: bool = False, hi_open: bool = False) -> float:
    """Return ``value`` as float after checking it is a finite real in the given range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}={value!r}: expected a real number")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name}={value!r}: expected a finite number")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValueError(f"{name}={value!r}: expected a number {'>' if lo_open else '>='} {lo}")
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise ValueError(f"{name}={value!r}: expected a number {'<' if hi_open else '<='} {hi}")
    return v


def count(name: str, value, *, lo: int = 1) -> int:
    """Return ``value`` as int after checking it is an integer >= lo."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}={value!r}: expected an integer")
    if int(value) < lo:
        raise ValueError(f"{name}={value!r}: expected an integer >= {lo}")
    return int(value)
