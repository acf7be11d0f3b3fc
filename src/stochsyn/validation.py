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

__all__ = ["real", "integer", "count", "choice", "flag", "seed", "pm1_vector", "real_array", "grid", "seed_list",
           "GRID_DECIMALS"]


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


#: Values of a ``start:stop:step`` range are rounded to this many decimals, so that
#: 0.50:0.75:0.05 gives 0.55 and not 0.5500000000000002.
GRID_DECIMALS = 10


def grid(spec: Any, name: str) -> list[float]:
    """Numbers from the one range syntax of the package.

    ``spec`` is a number, a list of numbers, or a string: ``"0.1,0.2,0.4"`` (a list) or
    ``"start:stop:step"`` (start, start+step, …, up to stop included when it lies on the
    grid). The third field is always a *step*: ``"0.5:0.75:6"`` is refused (a step larger
    than the whole range is almost always a count typed by mistake), as are a step ≤ 0
    and stop < start. Values are rounded to :data:`GRID_DECIMALS` decimals.
    """
    if isinstance(spec, str):
        text = spec.replace(" ", "")
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError(f"{name}={spec!r}: a range is 'start:stop:step', e.g. 0.50:0.75:0.05")
            try:
                start, stop, step = (float(x) for x in parts)
            except ValueError:
                raise ValueError(f"{name}={spec!r}: a range is three numbers 'start:stop:step'") from None
            if not all(math.isfinite(v) for v in (start, stop, step)):
                raise ValueError(f"{name}={spec!r}: the range must be finite numbers")
            if step <= 0:
                raise ValueError(f"{name}={spec!r}: the step must be > 0")
            if stop < start:
                raise ValueError(f"{name}={spec!r}: stop must be >= start")
            if stop > start and step > stop - start + 1e-12:
                raise ValueError(
                    f"{name}={spec!r}: the step {parts[2]} is larger than the range {stop - start:g}; "
                    "ranges are 'start:stop:step' (not a count), e.g. 0.50:0.75:0.05"
                )
            k = int(math.floor((stop - start) / step + 1e-9)) + 1
            if k > 10_000_000:
                raise ValueError(f"{name}={spec!r}: {k} values; at most 10,000,000")
            return [round(start + i * step, GRID_DECIMALS) for i in range(k)]
        items = [x for x in text.split(",") if x]
        if not items:
            raise ValueError(f"{name}={spec!r}: expected numbers '0.1,0.2' or a range 'start:stop:step'")
        try:
            values = [float(x) for x in items]
        except ValueError:
            raise ValueError(f"{name}={spec!r}: expected numbers '0.1,0.2' or a range 'start:stop:step'") from None
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"{name}={spec!r}: the numbers must be finite")
        return [round(v, GRID_DECIMALS) for v in values]
    if isinstance(spec, (int, float, np.integer, np.floating)) and not isinstance(spec, bool):
        return [round(real(name, spec), GRID_DECIMALS)]
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError(f"{name} must list at least one number")
        return [round(real(name, x), GRID_DECIMALS) for x in spec]
    raise TypeError(f"{name} must be a number, a list or a string, got {spec!r}")


def seed_list(spec: Any, name: str = "seeds") -> list[int]:
    """Seeds from a count ``10`` (0…9), a range ``"3:7"`` (3…6, stop excluded), a list
    ``"1,5,9"`` or a sequence of integers; seeds are ≥ 0 and distinct."""
    if isinstance(spec, bool):
        raise TypeError(f"{name} must be a count, 'start:stop' or a list, got {spec!r}")
    if isinstance(spec, (int, np.integer)):
        if spec < 1:
            raise ValueError(f"{name}: a count of seeds must be >= 1, got {name}={int(spec)}")
        return list(range(int(spec)))
    if isinstance(spec, str):
        text = spec.replace(" ", "")
        try:
            if ":" in text:
                start, stop = (int(x) for x in text.split(":"))
                if start < 0 or stop <= start:
                    raise ValueError(f"{name}={spec!r}: a seed range 'start:stop' needs 0 <= start < stop")
                values = list(range(start, stop))
            elif "," in text:
                values = [int(x) for x in text.split(",") if x]
            else:
                return seed_list(int(text), name)
        except ValueError as exc:
            if str(exc).startswith(name):
                raise
            raise ValueError(f"{name}={spec!r}: expected a count '10', a range 'start:stop' or a list '1,5,9'") from None
    elif isinstance(spec, (list, tuple)):
        values = [integer(name, x) for x in spec]
    else:
        raise TypeError(f"{name} must be a count, 'start:stop' or a list, got {spec!r}")
    if not values:
        raise ValueError(f"{name}={spec!r}: no seeds")
    if any(v < 0 for v in values):
        raise ValueError(f"{name}={spec!r}: seeds must be >= 0")
    if len(set(values)) != len(values):
        raise ValueError(f"{name}={spec!r}: a seed is listed twice")
    return values
