"""Numba kernels for the stochastic solver on ±1 patterns stored as int8.

Every full-batch epoch needs X·m (folded means), X·s (stabilities of the
deployed weights s = sign(m)) and Xᵀ·a (the gradient), with X_μi = σ^μ ξ_i^μ.
At large N these products are limited by memory traffic, so keeping X as int8
(1 byte per entry instead of 4 for float32 BLAS) and computing X·m and X·s in
the same pass makes an epoch cost about what two float32 BLAS mat-vecs cost
(benchmarks/bench_core.py measures the ratio).
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["rows_dot2", "cols_dot"]


@nb.njit(parallel=True, fastmath=True, cache=True)
def _rows_dot2(x, m, s, out_m, out_s):  # pragma: no cover - compiled
    p, n = x.shape
    for i in nb.prange(p):
        a = m.dtype.type(0.0)
        b = m.dtype.type(0.0)
        for j in range(n):
            v = m.dtype.type(x[i, j])
            a += v * m[j]
            b += v * s[j]
        out_m[i] = a
        out_s[i] = b


@nb.njit(parallel=True, fastmath=True, cache=True)
def _cols_dot(x, g, out, n_blocks):  # pragma: no cover - compiled
    # Column blocks are independent, so threads never write the same entry; four
    # rows per inner sweep keep the block accumulator in L1 for 4x fewer passes.
    p, n = x.shape
    bs = (n + n_blocks - 1) // n_blocks
    for k in nb.prange(n_blocks):
        lo = k * bs
        hi = min(n, lo + bs)
        width = hi - lo
        if width <= 0:
            continue
        acc = np.zeros(width, dtype=g.dtype)
        i = 0
        while i + 4 <= p:
            g0, g1, g2, g3 = g[i], g[i + 1], g[i + 2], g[i + 3]
            r0 = x[i, lo:hi]
            r1 = x[i + 1, lo:hi]
            r2 = x[i + 2, lo:hi]
            r3 = x[i + 3, lo:hi]
            for j in range(width):
                acc[j] += g0 * r0[j] + g1 * r1[j] + g2 * r2[j] + g3 * r3[j]
            i += 4
        while i < p:
            r0 = x[i, lo:hi]
            g0 = g[i]
            for j in range(width):
                acc[j] += g0 * r0[j]
            i += 1
        out[lo:hi] = acc


def rows_dot2(x: np.ndarray, m: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(X·m, X·s) in one pass over the C-contiguous int8 matrix ``x``, in m's float dtype.

    Sums of ±1·±1 terms are exact in float32 up to 2²⁴ synapses, so the
    stabilities of sign(m) are exact.
    """
    out_m = np.empty(x.shape[0], dtype=m.dtype)
    out_s = np.empty(x.shape[0], dtype=m.dtype)
    _rows_dot2(x, m, s.astype(m.dtype), out_m, out_s)
    return out_m, out_s


def cols_dot(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Xᵀ·g for the C-contiguous int8 matrix ``x`` and float vector ``g`` (in g's dtype)."""
    out = np.empty(x.shape[1], dtype=g.dtype)
    n_blocks = max(1, min(64, x.shape[1] // 256))
    _cols_dot(x, g, out, n_blocks)
    return out
