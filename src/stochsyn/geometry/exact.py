"""Exact solution counts by enumeration of all 2^N binary weight vectors (N ≤ 25).

For an instance with P patterns, the number of solutions at Hamming distance k
from a reference W̃,

    𝒩(k) = #{ W ∈ {±1}^N : σ^μ Σ_i W_i ξ_i^μ > 0 ∀μ,  Σ_i [W_i ≠ W̃_i] = k },

is counted exhaustively. The per-weight local entropy is S(d) = (1/N) ln 𝒩(N d)
(Baldassi et al., PRL 2015 arXiv:1509.05753, Eq. 1; PRL 2018 arXiv:1710.09825).

Enumeration scheme (bit tricks, no Gray-code drift). A configuration is an
integer c in [0, 2^N) whose bit i set means W_i = +1. The N synapses are split
into L low bits and N − L high bits. The contributions of the low bits to every
stability, for all 2^L low configurations, are tabulated once (a (2^L, P)
matrix); for each high configuration its contribution is summed directly and
the inner loop over the table only adds and compares, stopping at the first
violated pattern. Distances are popcount(c xor c̃), split the same way. For ±1
patterns everything is exact int64 arithmetic; for real patterns each stability
is a sum of two directly computed float64 partial sums (no accumulated
round-off), so it can differ from a direct dot product only at |stability| ~
1e-15.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..problems import Instance
from .. import validation as V
from ..problems import as_instance

__all__ = [
    "MAX_EXACT_N",
    "local_entropy_exact",
    "count_solutions",
    "solutions_from_indices",
    "entropy_from_counts",
    "free_entropy_from_counts",
]

MAX_EXACT_N = 25
# 2^12 low configurations: the table (4096 × P) stays in L1/L2 cache for small P.
_LOW_BITS = 12


def _check_size(instance: Instance, max_n: int) -> None:
    if isinstance(max_n, bool) or not isinstance(max_n, (int, np.integer)) or not 1 <= max_n <= 40:
        raise ValueError(f"max_n must be an integer in [1, 40], got max_n={max_n!r}")
    if instance.n > max_n:
        raise ValueError(
            f"exact enumeration needs instance.n <= max_n={max_n} (2^N configurations), got n={instance.n}; "
            "use local_entropy_bp for large N or raise max_n (at most 40)"
        )


def _signed_patterns(instance: Instance) -> np.ndarray:
    """a_μi = σ^μ ξ_i^μ: stability of pattern μ is Σ_i a_μi W_i. int64 for ±1 patterns."""
    if instance.binary_patterns:
        return instance.labels.astype(np.int64)[:, None] * instance.patterns.astype(np.int64)
    return instance.labels.astype(np.float64)[:, None] * instance.patterns.astype(np.float64)


def _pm1_bits(n_bits: int) -> np.ndarray:
    """(2^n_bits, n_bits) int64 matrix: row c holds W_i = +1 if bit i of c is set else −1."""
    c = np.arange(1 << n_bits, dtype=np.int64)[:, None]
    return ((c >> np.arange(n_bits, dtype=np.int64)) & 1) * 2 - 1


def _to_bits(w: np.ndarray) -> int:
    """Integer code of a ±1 vector (bit i set ⇔ w_i = +1)."""
    return int(sum(1 << i for i in np.flatnonzero(np.asarray(w) > 0)))


def _tables(instance: Instance) -> tuple[np.ndarray, np.ndarray, int]:
    a = _signed_patterns(instance)
    n_low = min(instance.n, _LOW_BITS)
    low = np.ascontiguousarray(_pm1_bits(n_low).astype(a.dtype) @ a[:, :n_low].T)  # (2^L, P)
    high_a = np.ascontiguousarray(a[:, n_low:])  # (P, N-L)
    return low, high_a, n_low


@njit(cache=True)
def _popcount(x):
    c = 0
    while x:
        x &= x - 1
        c += 1
    return c


@njit(cache=True)
def _high_fields(high_a, h, out):
    p, nh = high_a.shape
    for mu in range(p):
        out[mu] = 0  # N <= 12 leaves no high bits: the partial stability is 0
        for j in range(nh):
            if (h >> j) & 1:
                out[mu] += high_a[mu, j]
            else:
                out[mu] -= high_a[mu, j]


@njit(cache=True)
def _count_kernel(low, high_a, n_low, ref_code, n):
    n_lowconf, p = low.shape
    n_high = high_a.shape[1]
    counts = np.zeros(n + 1, dtype=np.int64)
    low_mask = (1 << n_low) - 1
    ref_low = ref_code & low_mask
    ref_high = ref_code >> n_low
    low_dist = np.empty(n_lowconf, dtype=np.int64)
    for l in range(n_lowconf):
        low_dist[l] = _popcount(l ^ ref_low)
    hf = np.empty(p, dtype=low.dtype)
    for h in range(1 << n_high):
        _high_fields(high_a, h, hf)
        dh = _popcount(h ^ ref_high)
        for l in range(n_lowconf):
            ok = True
            for mu in range(p):
                if hf[mu] + low[l, mu] <= 0:
                    ok = False
                    break
            if ok:
                counts[dh + low_dist[l]] += 1
    return counts


@njit(cache=True)
def _select_kernel(low, high_a, n_low, targets):
    """Configuration codes of the solutions with ranks ``targets`` (sorted, ascending)
    in the enumeration order c = h·2^L + l."""
    n_lowconf, p = low.shape
    n_high = high_a.shape[1]
    out = np.full(targets.shape[0], -1, dtype=np.int64)
    hf = np.empty(p, dtype=low.dtype)
    rank = 0
    t = 0
    nt = targets.shape[0]
    for h in range(1 << n_high):
        if t >= nt:
            break
        _high_fields(high_a, h, hf)
        for l in range(n_lowconf):
            ok = True
            for mu in range(p):
                if hf[mu] + low[l, mu] <= 0:
                    ok = False
                    break
            if ok:
                while t < nt and targets[t] == rank:
                    out[t] = (h << n_low) | l
                    t += 1
                rank += 1
                if t >= nt:
                    break
    return out


def local_entropy_exact(instance: Instance, reference: np.ndarray, *, max_n: int = MAX_EXACT_N) -> np.ndarray:
    """Number of solutions at each Hamming distance from ``reference``, by full enumeration.

    Returns 𝒩(k), k = 0…N, as an int64 array of length N + 1, where 𝒩(k) counts the
    W ∈ {±1}^N with σ^μ Σ_i W_i ξ_i^μ > 0 for all μ (ties are errors) and exactly k
    entries different from ``reference``. ``counts.sum()`` is the total number of
    solutions; the local entropy per weight is S(k/N) = ln 𝒩(k) / N
    (see :func:`entropy_from_counts`). The reference need not be a solution.

    Args:
        instance: the problem (±1 or real patterns).
        reference: (N,) ±1 vector W̃.
        max_n: refuse instances with N > max_n (default 25; at most 40). The cost is
            2^N · (a few) pattern checks.

    Raises:
        ValueError: N > max_n, or ``reference`` not an (N,) ±1 vector.
    """
    as_instance(instance)
    _check_size(instance, max_n)
    ref = V.pm1_vector(reference, instance.n, "reference")
    low, high_a, n_low = _tables(instance)
    return _count_kernel(low, high_a, n_low, _to_bits(ref), instance.n)


def count_solutions(instance: Instance, *, max_n: int = MAX_EXACT_N) -> int:
    """Total number of binary solutions of ``instance`` (exact enumeration, N ≤ ``max_n``, default 25)."""
    as_instance(instance)
    ref = np.ones(instance.n, dtype=np.int8)
    return int(local_entropy_exact(instance, ref, max_n=max_n).sum())


def solutions_from_indices(instance: Instance, ranks: np.ndarray, *, max_n: int = MAX_EXACT_N) -> np.ndarray:
    """The solutions with the given ranks in the enumeration order, as a (len(ranks), N) int8 array.

    Ranks are 0-based indices into the list of all solutions ordered by the integer
    code c = Σ_i [W_i = +1] 2^i. Raises ValueError if a rank is out of range.
    """
    as_instance(instance)
    _check_size(instance, max_n)
    r = np.asarray(ranks, dtype=np.int64).ravel()
    if r.size and r.min() < 0:
        raise ValueError(f"ranks must be >= 0, got {r.min()}")
    order = np.argsort(r, kind="stable")
    low, high_a, n_low = _tables(instance)
    codes_sorted = _select_kernel(low, high_a, n_low, r[order])
    if np.any(codes_sorted < 0):
        raise ValueError(f"ranks must be below the number of solutions; got max rank {int(r.max())}")
    codes = np.empty_like(codes_sorted)
    codes[order] = codes_sorted
    bits = (codes[:, None] >> np.arange(instance.n, dtype=np.int64)) & 1
    return (bits * 2 - 1).astype(np.int8)


def entropy_from_counts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(d, S) with d_k = k/N and S_k = ln 𝒩(k)/N; −inf where 𝒩(k) = 0."""
    c = np.asarray(counts, dtype=np.float64)
    n = c.size - 1
    if n < 1:
        raise ValueError(f"counts must have length N + 1 >= 2, got length {c.size}")
    with np.errstate(divide="ignore"):
        s = np.log(c) / n
    return np.arange(n + 1) / n, s


def free_entropy_from_counts(counts: np.ndarray, lambdas: np.ndarray) -> dict[str, np.ndarray]:
    """Exact version of what BP estimates: the tilted free entropy and its Legendre transform.

    φ(λ) = (1/N) ln Σ_k 𝒩(k) e^{λ(N − 2k)} (coupling λ Σ_i W_i W̃_i to the reference),
    d(λ) = ⟨k⟩_λ / N = (1 − ∂φ/∂λ)/2, and S(λ) = φ(λ) − λ(1 − 2d(λ)), the Legendre
    transform of φ, i.e. the concave envelope of ln 𝒩(k)/N sampled at d(λ).

    Returns a dict of arrays ``lambda, phi, distance, entropy`` (float64).
    """
    c = np.asarray(counts, dtype=np.float64)
    n = c.size - 1
    lam = np.atleast_1d(np.asarray(lambdas, dtype=np.float64))
    if c.sum() <= 0:
        raise ValueError("counts are all zero: the instance has no solution, so φ(λ) = −inf")
    k = np.arange(n + 1)
    nz = c > 0
    # log-sum-exp over k for every λ
    logw = np.log(c[nz])[None, :] + lam[:, None] * (n - 2 * k[nz])[None, :]
    mx = logw.max(axis=1, keepdims=True)
    w = np.exp(logw - mx)
    z = w.sum(axis=1)
    phi = (mx[:, 0] + np.log(z)) / n
    kmean = (w * k[nz][None, :]).sum(axis=1) / z
    dist = kmean / n
    ent = phi - lam * (1 - 2 * dist)
    return {"lambda": lam, "phi": phi, "distance": dist, "entropy": ent}
