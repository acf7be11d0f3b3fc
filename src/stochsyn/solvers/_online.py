"""Numba kernel shared by the online rules with hidden discrete synaptic states
(SBPI, clipped perceptron, CP+R).

Each synapse i has a hidden integer state h_i, odd, in [-(K-1), K-1] (K even
hidden states in all), and a visible weight w_i = sign(h_i). One call of
:func:`online_epoch` presents every pattern once, in the order given, and
applies (Baldassi, Braunstein, Brunel, Zecchina, PNAS 104, 11079 (2007);
Baldassi, J. Stat. Phys. 136, 902 (2009)), with Δ = σ Σ_i w_i ξ_i:

* R1 (all three rules) — error, Δ ≤ 0: h_i ← h_i + 2 σ ξ_i for every i;
* R2 (SBPI) — barely correct, 0 < Δ ≤ θ_m: with probability p_s,
  h_i ← h_i + 2 σ ξ_i only for synapses that already agree, σ ξ_i h_i > 0
  (a metaplastic change: |h_i| grows, w_i stays);
* R3 (CP+R) — correct, Δ > 0: with probability p_r, h_i ← h_i + 2 sign(h_i)
  for every i (unsupervised reinforcement, also metaplastic).

All states are clipped to [-(K-1), K-1]. The random numbers come from the
caller (a numpy Generator), so the kernel holds no random state of its own.

Two kernels apply the same rules: :func:`online_epoch` on dense int8 patterns
(the reference) and :func:`online_epoch_packed` on packed bits
(:mod:`stochsyn.packed`), which the solvers use for every ±1 instance. There Δ
is N − 2 popcount(ξ^μ XOR w) on the packed weights, kept in step with w, so a
correctly classified presentation costs N/64 word operations instead of N
multiply-adds; only the updates unpack the pattern. Both kernels give the same
states and weights for the same inputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..packed.products import load_u64, popcount


@njit(cache=True, nogil=True)
def online_epoch(
    x: np.ndarray,
    y: np.ndarray,
    h: np.ndarray,
    w: np.ndarray,
    order: np.ndarray,
    coins: np.ndarray,
    hmax: int,
    theta_m: int,
    p_s: float,
    p_r: float,
) -> int:
    """Present patterns ``order`` once, updating ``h`` and ``w`` in place; return the
    number of presentations that found an error (R1 applications).

    Args:
        x: (P, N) int8 ±1 patterns. y: (P,) int8 labels.
        h: (N,) int32 hidden states (odd). w: (N,) int8 weights = sign(h).
        order: (P,) presentation order. coins: (P,) uniforms in [0, 1).
        hmax: K - 1, the largest hidden state. theta_m: R2 threshold (≤ 0 disables R2).
        p_s: R2 probability. p_r: R3 probability.
    """
    n = x.shape[1]
    mistakes = 0
    for k in range(order.shape[0]):
        mu = order[k]
        s = y[mu]
        delta = 0
        for i in range(n):
            delta += w[i] * x[mu, i]
        delta *= s
        if delta <= 0:
            mistakes += 1
            for i in range(n):
                v = h[i] + 2 * s * x[mu, i]
                if v > hmax:
                    v = hmax
                elif v < -hmax:
                    v = -hmax
                h[i] = v
                w[i] = 1 if v > 0 else -1
        elif delta <= theta_m and coins[k] < p_s:
            for i in range(n):
                d = s * x[mu, i]
                if d * h[i] > 0:
                    v = h[i] + 2 * d
                    if v > hmax:
                        v = hmax
                    elif v < -hmax:
                        v = -hmax
                    h[i] = v
        elif p_r > 0.0 and coins[k] < p_r:
            for i in range(n):
                v = h[i] + (2 if h[i] > 0 else -2)
                if v > hmax:
                    v = hmax
                elif v < -hmax:
                    v = -hmax
                h[i] = v
    return mistakes


@njit(cache=True, nogil=True, inline="always")
def _clip(v: int, hmax: int) -> int:
    if v > hmax:
        return hmax
    if v < -hmax:
        return -hmax
    return v


@njit(cache=True, nogil=True)
def online_epoch_packed(
    bits: np.ndarray,
    y: np.ndarray,
    h: np.ndarray,
    w: np.ndarray,
    wbits: np.ndarray,
    order: np.ndarray,
    coins: np.ndarray,
    hmax: int,
    theta_m: int,
    p_s: float,
    p_r: float,
) -> int:
    """:func:`online_epoch` on packed patterns ``bits`` (P, ⌈N/8⌉); ``wbits`` (1, ⌈N/8⌉) holds
    w packed and is updated with it. N is ``h.shape[0]``. Returns the number of R1 applications."""
    n = h.shape[0]
    nbyt = bits.shape[1]
    nw = nbyt // 8
    mistakes = 0
    for k in range(order.shape[0]):
        mu = order[k]
        s = np.int64(y[mu])
        c = np.uint64(0)
        for q in range(nw):
            c += popcount(load_u64(bits, mu, 8 * q) ^ load_u64(wbits, 0, 8 * q))
        for j in range(8 * nw, nbyt):
            c += popcount(np.uint64(bits[mu, j] ^ wbits[0, j]))
        delta = s * (n - 2 * np.int64(c))
        if delta <= 0:
            mistakes += 1
            for j in range(nbyt):
                b = bits[mu, j]
                for t in range(8):
                    i = 8 * j + t
                    if i >= n:
                        break
                    x = 1 if (b >> (7 - t)) & 1 else -1
                    v = _clip(h[i] + 2 * s * x, hmax)
                    h[i] = v
                    nw_i = 1 if v > 0 else -1
                    if nw_i != w[i]:
                        w[i] = nw_i
                        wbits[0, j] ^= np.uint8(1 << (7 - t))
        elif delta <= theta_m and coins[k] < p_s:
            for j in range(nbyt):
                b = bits[mu, j]
                for t in range(8):
                    i = 8 * j + t
                    if i >= n:
                        break
                    d = s if (b >> (7 - t)) & 1 else -s
                    if d * h[i] > 0:
                        h[i] = _clip(h[i] + 2 * d, hmax)
        elif p_r > 0.0 and coins[k] < p_r:
            for i in range(n):
                h[i] = _clip(h[i] + (2 if h[i] > 0 else -2), hmax)
    return mistakes


def run_online(
    instance,
    *,
    seed: int | None,
    callback,
    max_epochs: int,
    states: int,
    theta_m: int,
    p_s: float,
    p_r: float,
):
    """Drive :func:`online_epoch` until the weights solve the instance or ``max_epochs``
    presentations of the whole training set have been made.

    Hidden states start at ±1 uniformly at random (the two states next to the
    boundary). After each epoch the training errors of w are counted; the run
    stops at the first epoch with zero errors or when ``callback`` returns True.
    Returns (w, epochs, history, info).
    """
    from ..packed import pack_signs, sign_dot

    rng = np.random.default_rng(seed)
    bits = instance.bits  # a dense instance packs itself once (P·N/8 bytes)
    y = np.ascontiguousarray(instance.labels)
    y64 = y.astype(np.int64)
    p, n = instance.p, instance.n
    h = (rng.integers(0, 2, size=n, dtype=np.int32) * 2 - 1).astype(np.int32)
    w = np.where(h > 0, 1, -1).astype(np.int8)
    wbits = np.ascontiguousarray(pack_signs(w))

    def count(wb: np.ndarray) -> int:
        return int(np.count_nonzero(y64 * sign_dot(bits, n, wb) <= 0))

    hist_err: list[int] = []
    hist_mis: list[int] = []
    errors = count(wbits)
    epochs = 0
    stopped = False
    while errors > 0 and epochs < max_epochs:
        order = rng.permutation(p).astype(np.int64)
        coins = rng.random(p)
        mistakes = online_epoch_packed(bits, y, h, w, wbits, order, coins, states - 1, theta_m, p_s, p_r)
        epochs += 1
        errors = count(wbits)
        hist_err.append(errors)
        hist_mis.append(int(mistakes))
        if callback is not None and callback(epochs, {"errors": errors, "mistakes": int(mistakes)}):
            stopped = True
            break
    history = {"errors": hist_err, "mistakes": hist_mis}
    info = {
        "stopped_by_callback": stopped,
        "mean_abs_hidden": float(np.mean(np.abs(h))),
    }
    return w, epochs, history, info
