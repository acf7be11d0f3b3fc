"""Gaussian special functions and quadrature for the Gaussian measure Dz.

Conventions used throughout :mod:`stochsyn.theory`:

* ``Dz = exp(-z**2/2) dz / sqrt(2 pi)`` (standard normal measure),
* ``G(x) = exp(-x**2/2) / sqrt(2 pi)`` (the density),
* ``H(x) = int_x^inf Dz = erfc(x/sqrt 2)/2`` (upper tail), so ``Phi(x) = H(-x)``,
* ``GH(x) = G(x)/H(x)`` (inverse Mills ratio), evaluated as
  ``exp(-x**2/2 - log H(x)) / sqrt(2 pi)`` so it is finite for every real x
  (``GH(x) ~ x`` for x -> +inf, ``-> 0`` for x -> -inf).

All functions are pure and vectorized over numpy arrays.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss
from scipy.special import log_ndtr, ndtr

__all__ = [
    "G",
    "H",
    "log_H",
    "GH",
    "dGH",
    "log_2cosh",
    "gh_from_log_h",
    "dgh_from_gh",
    "gauss_hermite",
    "gauss_legendre",
    "gauss_expect",
    "truncated_normal_nodes",
]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def G(x: np.ndarray | float) -> np.ndarray:
    """Standard normal density ``G(x) = exp(-x^2/2)/sqrt(2 pi)``."""
    x = np.asarray(x, dtype=float)
    return np.exp(-0.5 * x * x - _LOG_SQRT_2PI)


def H(x: np.ndarray | float) -> np.ndarray:
    """Gaussian upper tail ``H(x) = int_x^inf Dz = Phi(-x)``."""
    return ndtr(-np.asarray(x, dtype=float))


def log_H(x: np.ndarray | float) -> np.ndarray:
    """``log H(x)`` without underflow (``scipy.special.log_ndtr(-x)``; ~ -x^2/2 for large x)."""
    return log_ndtr(-np.asarray(x, dtype=float))


def GH(x: np.ndarray | float) -> np.ndarray:
    """Inverse Mills ratio ``G(x)/H(x) = -d log H / dx``, stable for all real x."""
    x = np.asarray(x, dtype=float)
    return np.exp(-0.5 * x * x - _LOG_SQRT_2PI - log_ndtr(-x))


def dGH(x: np.ndarray | float) -> np.ndarray:
    """Derivative ``d/dx [G/H](x) = GH(x) * (GH(x) - x)`` (in (0, 1) for every x)."""
    x = np.asarray(x, dtype=float)
    g = GH(x)
    # For large x, g - x suffers cancellation; use the asymptotic series there.
    out = g * (g - x)
    big = x > 30.0
    if np.any(big):
        xb = x[big] if out.ndim else x
        val = 1.0 - 1.0 / xb**2 + 6.0 / xb**4 - 50.0 / xb**6
        if out.ndim:
            out[big] = val
        else:
            out = val
    return out


def gh_from_log_h(x: np.ndarray, log_h: np.ndarray) -> np.ndarray:
    """``G(x)/H(x)`` given ``log_h = log H(x)`` already computed (saves a log_ndtr)."""
    return np.exp(-0.5 * x * x - _LOG_SQRT_2PI - log_h)


def dgh_from_gh(x: np.ndarray, gh: np.ndarray) -> np.ndarray:
    """``GH'(x) = GH (GH − x)`` given ``gh = GH(x)``; asymptotic series for x > 30."""
    big = x > 30.0
    if not np.any(big):
        return gh * (gh - x)
    xs = np.where(big, x, 1.0)
    return np.where(big, 1.0 - 1.0 / xs**2 + 6.0 / xs**4 - 50.0 / xs**6, gh * (gh - x))


def log_2cosh(x: np.ndarray | float) -> np.ndarray:
    """``log(2 cosh x) = |x| + log1p(exp(-2|x|))`` without overflow."""
    a = np.abs(np.asarray(x, dtype=float))
    return a + np.log1p(np.exp(-2.0 * a))


@lru_cache(maxsize=64)
def _gh_cached(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = hermegauss(n)
    w = w / np.sqrt(2.0 * np.pi)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def gauss_hermite(n: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the n-point Gauss–Hermite rule for the measure Dz.

    ``sum(w * f(x)) ≈ int Dz f(z)``, exact for polynomials of degree < 2n.
    Weights sum to 1. Arrays are read-only (shared cache).
    """
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= 300:
        # numpy's hermegauss overflows in the weights beyond ~300 nodes
        raise ValueError(f"n={n!r}: expected an integer number of Gauss–Hermite nodes in [1, 300]")
    return _gh_cached(int(n))


@lru_cache(maxsize=64)
def _gl_cached(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = leggauss(n)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the n-point Gauss–Legendre rule on [-1, 1] (read-only)."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n={n!r}: expected a positive integer number of quadrature nodes")
    return _gl_cached(int(n))


def gauss_expect(f, n: int = 101) -> float:
    """``int Dz f(z)`` by n-point Gauss–Hermite quadrature (f vectorized)."""
    x, w = gauss_hermite(n)
    return float(np.dot(w, f(x)))


# Breakpoints (distance above the truncation point) of the composite rule used
# for truncated-normal expectations: the integrands of the Franz–Parisi and
# local-entropy energetic terms vary on a scale ~ sqrt(1 - q1) right above the
# truncation point, so the panels are fine there and coarse further out.
_TRUNC_BREAKS = np.array([0.0, 0.01, 0.03, 0.07, 0.15, 0.3, 0.55, 1.0, 1.7, 2.7])


def truncated_normal_nodes(
    lower: np.ndarray, n_per_panel: int = 12, tail_panels: int = 4, reach: float = 9.0
) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature for ``E[f(u) | u > lower]`` with u standard normal.

    For each entry of ``lower`` returns nodes ``u`` (shape ``lower.shape + (K,)``)
    and normalized weights ``w`` (summing to 1 along the last axis) such that
    ``sum(w * f(u), -1) ≈ int_lower^inf Du f(u) / H(lower)``.

    Composite Gauss–Legendre on ``[lower, max(lower, 0) + reach]``: fine panels
    right above ``lower`` (see ``_TRUNC_BREAKS``) and ``tail_panels`` equal
    panels beyond; the neglected tail has weight below ``H(reach) ≈ 1e-19``.
    Weights are formed as ``exp(log G(u) - log H(lower))`` so they stay finite
    when ``H(lower)`` underflows.
    """
    lower = np.asarray(lower, dtype=float)
    xg, wg = gauss_legendre(n_per_panel)
    top = np.maximum(lower, 0.0) + reach - lower  # length of the integration range
    last = _TRUNC_BREAKS[-1]
    top = np.maximum(top, last + 1.0)
    fine = _TRUNC_BREAKS
    nodes = []
    weights = []
    for a, b in zip(fine[:-1], fine[1:]):
        half = 0.5 * (b - a)
        nodes.append(np.broadcast_to(a + half * (xg + 1.0), lower.shape + (n_per_panel,)))
        weights.append(np.broadcast_to(half * wg, lower.shape + (n_per_panel,)))
    edges = last + (top[..., None] - last) * np.linspace(0.0, 1.0, tail_panels + 1)
    for k in range(tail_panels):
        a = edges[..., k : k + 1]
        b = edges[..., k + 1 : k + 2]
        half = 0.5 * (b - a)
        nodes.append(a + half * (xg + 1.0))
        weights.append(half * wg)
    s = np.concatenate(nodes, axis=-1)
    ws = np.concatenate(weights, axis=-1)
    u = lower[..., None] + s
    w = ws * np.exp(-0.5 * u * u - _LOG_SQRT_2PI - log_H(lower)[..., None])
    return u, w
