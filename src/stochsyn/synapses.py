"""Discrete synaptic levels and the distributions over them: one module for every user.

A synapse takes one of q integer *levels*: binary (−1, +1), ternary (−1, 0, +1),
or −L…L (q = 2L + 1). A stochastic synapse is a categorical distribution p_i(w)
over the levels; with real fields θ_i(w),

    p_i(w) = exp θ_i(w) / Σ_v exp θ_i(v)        (softmax),
    m_i = Σ_w w p_i(w),   r_i = Σ_w w² p_i(w),   var_i = r_i − m_i²,
    S(p_i) = −Σ_w p_i(w) log p_i(w).

These are the only moments the central-limit loss needs (pre-activation mean
Σ_i m_i ξ_i, variance Σ_i var_i ξ_i²). Chain rules for a loss L(m, r):

    ∂L/∂θ_i(w) = p_i(w) [ (w − m_i) ∂L/∂m_i + (w² − r_i) ∂L/∂r_i ],
    ∂S/∂θ_i(w) = −p_i(w) [ log p_i(w) + S(p_i) ].

The deployed synapse is the most probable level (ties to the level of smallest
|w|, then the larger one: zero before ±1, +1 before −1). Binary stochastic synapses
m = tanh(h) are the q = 2 case with θ(±1) = ±h.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import validation as V

__all__ = ["levels_for", "softmax", "moments", "entropy", "grad_fields", "entropy_grad", "deploy",
           "zero_fraction"]


def levels_for(spec: int | Sequence[int]) -> np.ndarray:
    """The sorted integer levels of ``spec``: a count q (2 → (−1, 1); odd q = 2L+1 → −L…L)
    or an explicit sequence of distinct integers. Returns an int64 array."""
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        q = V.integer("levels", spec, lo=2)
        if q == 2:
            return np.array([-1, 1], dtype=np.int64)
        if q % 2 == 0:
            raise ValueError(f"levels={q}: a count of levels must be 2 or odd (−L…L); give the levels "
                             "explicitly otherwise, e.g. levels=(-2, -1, 1, 2)")
        half = (q - 1) // 2
        return np.arange(-half, half + 1, dtype=np.int64)
    if isinstance(spec, (str, bytes)) or not hasattr(spec, "__len__"):
        raise TypeError(f"levels must be a count or a sequence of integers, got {spec!r}")
    vals = [V.integer("levels", v) for v in spec]
    if len(vals) < 2 or len(set(vals)) != len(vals):
        raise ValueError(f"levels must be at least two distinct integers, got {list(spec)!r}")
    return np.array(sorted(vals), dtype=np.int64)


def softmax(fields: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, q) fields (stable: the row maximum is subtracted)."""
    z = fields - fields.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def moments(p: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(m, r): mean Σ_w w p(w) and second moment Σ_w w² p(w) of each row of ``p``."""
    lv = np.asarray(levels, dtype=np.float64)
    return p @ lv, p @ (lv * lv)


def entropy(p: np.ndarray) -> np.ndarray:
    """S(p) = −Σ_w p(w) log p(w) per row (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)


def grad_fields(p: np.ndarray, levels: np.ndarray, dm: np.ndarray, dr: np.ndarray | float) -> np.ndarray:
    """∂L/∂θ (N, q) from ∂L/∂m (N,) and ∂L/∂r (N,) or a scalar: the chain rule above."""
    lv = np.asarray(levels, dtype=np.float64)
    m, r = moments(p, levels)
    dr_arr = np.broadcast_to(np.asarray(dr, dtype=np.float64), m.shape)
    return p * ((lv[None, :] - m[:, None]) * dm[:, None] + (lv[None, :] ** 2 - r[:, None]) * dr_arr[:, None])


def entropy_grad(p: np.ndarray) -> np.ndarray:
    """∂S/∂θ (N, q) = −p (log p + S)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(p > 0, np.log(p), 0.0)
    return -p * (logp + entropy(p)[:, None])


def deploy(p: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The most probable level of each synapse (int8), ties broken toward small |w|, then +."""
    lv = np.asarray(levels)
    # rank levels by preference in ties: small |w| first, then positive
    pref = np.lexsort((-lv, np.abs(lv)))
    best = np.argmax(p[:, pref], axis=1)
    return lv[pref][best].astype(np.int8)


def zero_fraction(weights: np.ndarray) -> float:
    """Fraction of weights equal to 0."""
    w = np.asarray(weights)
    return float(np.count_nonzero(w == 0)) / max(1, w.size)
