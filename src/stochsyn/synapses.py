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

:func:`softmax`, :func:`moments`, :func:`entropy` and :func:`deploy` take numpy
arrays (the perceptron solvers) or torch tensors (the ternary layers of
:mod:`stochsyn.deep`, where autograd differentiates them); the levels axis is
the last one.
"""

from __future__ import annotations

from typing import Any, Sequence

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


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or np.isscalar(x)


def _levels_like(p: Any, levels: np.ndarray) -> Any:
    """The levels as float64 numpy values, or as a tensor of p's dtype and device."""
    if _is_array(p):
        return np.asarray(levels, dtype=np.float64)
    import torch  # only reached with tensors, so the solvers never import torch

    return torch.as_tensor(np.asarray(levels), dtype=p.dtype, device=p.device)


def softmax(fields: Any) -> Any:
    """Softmax over the last axis of (..., q) fields (stable: the maximum is subtracted)."""
    if not _is_array(fields):
        return fields.softmax(dim=-1)
    z = fields - fields.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def moments(p: Any, levels: np.ndarray) -> tuple[Any, Any]:
    """(m, r): mean Σ_w w p(w) and second moment Σ_w w² p(w) over the last axis of ``p``."""
    lv = _levels_like(p, levels)
    return p @ lv, p @ (lv * lv)


def entropy(p: Any) -> Any:
    """S(p) = −Σ_w p(w) log p(w) over the last axis (0 log 0 = 0)."""
    if not _is_array(p):
        return -(p * p.clamp_min(1e-30).log()).sum(dim=-1)
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


def deploy(p: Any, levels: np.ndarray) -> Any:
    """The most probable level of each synapse (int8; last axis of ``p``), ties broken toward small |w|, then +."""
    lv = np.asarray(levels)
    # rank levels by preference in ties: small |w| first, then positive (argmax keeps the first maximum)
    pref = np.lexsort((-lv, np.abs(lv)))
    if _is_array(p):
        best = np.argmax(p[..., pref], axis=-1)
        return lv[pref][best].astype(np.int8)
    import torch

    order = torch.as_tensor(pref, device=p.device)
    ranked = torch.as_tensor(lv[pref], dtype=torch.int8, device=p.device)
    return ranked[p.index_select(-1, order).argmax(dim=-1)]


def zero_fraction(weights: np.ndarray) -> float:
    """Fraction of weights equal to 0."""
    w = np.asarray(weights)
    return float(np.count_nonzero(w == 0)) / max(1, w.size)
