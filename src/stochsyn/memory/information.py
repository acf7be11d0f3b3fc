"""Mutual information between a stored sparse pattern and the network state.

For i.i.d. {0,1} patterns with activity a and a state whose neurons fire with
probability p1 where ξ = 1 and p0 where ξ = 0, the order parameters are
m = p1 − p0 and q = a p1 + (1−a) p0, hence p1 = q + (1−a) m, p0 = q − a m.
The mutual information per neuron (bits) is that of this binary channel
(Dominguez & Bollé 1998; Bollé, Dominguez & Amari, cond-mat/9806078):

    I(m, q; a) = S(q) − a S(p1) − (1−a) S(p0),   S(p) = −p log2 p − (1−p) log2(1−p).

The information per synapse of a network storing P = αN patterns in N² couplings
is i = α I (bits/synapse), the quantity plotted against α in the papers.
"""

from __future__ import annotations

import numpy as np

__all__ = ["binary_entropy", "mutual_information", "information_per_synapse"]


def binary_entropy(p: np.ndarray | float) -> np.ndarray | float:
    """S(p) = −p log2 p − (1−p) log2(1−p) in bits, with S(0) = S(1) = 0."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = -(np.where(p > 0, p * np.log2(p), 0.0) + np.where(p < 1, (1 - p) * np.log2(1 - p), 0.0))
    return s if s.ndim else float(s)


def mutual_information(m: np.ndarray | float, q: np.ndarray | float, a: float) -> np.ndarray | float:
    """I(m, q; a) in bits per neuron; see the module docstring for the formula."""
    m = np.asarray(m, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    p1 = np.clip(q + (1 - a) * m, 0.0, 1.0)
    p0 = np.clip(q - a * m, 0.0, 1.0)
    qq = a * p1 + (1 - a) * p0  # consistent with the clipped channel
    out = np.maximum(binary_entropy(qq) - a * binary_entropy(p1) - (1 - a) * binary_entropy(p0), 0.0)
    return out if np.ndim(out) else float(out)


def information_per_synapse(alpha: np.ndarray | float, m: np.ndarray | float, q: np.ndarray | float, a: float) -> np.ndarray | float:
    """i = α · I(m, q; a), bits per synapse."""
    out = np.asarray(alpha, dtype=np.float64) * np.asarray(mutual_information(m, q, a))
    return out if np.ndim(out) else float(out)
