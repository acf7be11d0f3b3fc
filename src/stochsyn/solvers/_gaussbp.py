"""Belief propagation for the binary perceptron with Gaussian cavity fields,
vectorized in numpy (O(PN) per sweep). Shared by reinforced BP (``rbp``) and
focusing BP (``fbp``), which differ only in the extra field they add to every
variable.

Factor graph: variables w_i ∈ {±1}, one factor per pattern μ enforcing
σ^μ Σ_i w_i ξ_i^μ > 0. With s_{μi} = σ^μ ξ_i^μ, messages are fields:
u_{μ→i} (factor to variable) and cavity magnetizations m_{i→μ} (variable to
factor). For factor μ the cavity sum Σ_{j≠i} s_{μj} w_j is taken Gaussian
(Braunstein & Zecchina, PRL 96, 030201 (2006)) with

    a_{μi} = Σ_{j≠i} s_{μj} m_{j→μ},     v_{μi} = Σ_{j≠i} s_{μj}² (1 − m_{j→μ}²),

so that P(constraint | w_i) = Φ((a_{μi} + s_{μi} w_i)/√v_{μi}) and

    u_{μ→i} = ½ [ log Φ((a+s)/√v) − log Φ((a−s)/√v) ].

(For ±1 patterns and odd N the cavity sum is an even integer and the
threshold sits half way between its values, so no continuity correction is
needed.) Variables: H_i = Σ_μ u_{μ→i} (pattern field), total field
h_i = H_i + F_i with an external field F_i set by the caller's protocol, and
m_{i→μ} = tanh(h_i − u_{μ→i}). All factors are updated in parallel, with damping.

The sweep runs in one fused numba loop (:func:`bp_sweep`); :func:`factor_fields`
is the same computation in plain numpy, kept as the reference the tests
compare the kernel against.
"""

from __future__ import annotations

from typing import Callable

import math

import numpy as np
from numba import njit
from scipy.special import log_ndtr

from ._checks import pm1_sign, require_pattern_memory

# Floor on the cavity variance v_{μi}. When almost every other synapse is polarized
# the Gaussian form of a sum of few fluctuating ±1 terms is poor and v → 0 makes
# u_{μ→i} ~ a²/v explode; at N = 1001, α = 0.75 that drove fBP from a few errors
# to ~150 within a few sweeps. One unit of variance (that of a single unpolarized
# ±1 synapse) removes the blow-up.
_MIN_VAR = 1.0
# Largest message change below which a run is considered frozen and stops.
_FROZEN = 1e-9


def log_cosh(x: np.ndarray) -> np.ndarray:
    """log cosh x computed without overflow: |x| + log1p(e^{−2|x|}) − log 2."""
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2.0 * ax)) - np.log(2.0)


def atanh_tanh_product(g: float, x: np.ndarray) -> np.ndarray:
    """atanh(tanh g · tanh x) = ½ [log cosh(x+g) − log cosh(x−g)], stable for large g, x.

    This is the field transmitted through a coupling exp(g w w') from a variable
    with field x. ``g = inf`` transmits x unchanged.
    """
    if np.isinf(g):
        return np.array(x, dtype=np.float64, copy=True)
    return 0.5 * (log_cosh(x + g) - log_cosh(x - g))


def factor_fields(s: np.ndarray, s2: np.ndarray, mcav: np.ndarray, min_var: float = _MIN_VAR) -> np.ndarray:
    """u_{μ→i} for all (μ, i) from cavity magnetizations ``mcav`` (P, N).

    ``s`` holds σ^μ ξ_i^μ (float64) and ``s2`` its square.
    """
    sm = s * mcav
    a = sm.sum(axis=1, keepdims=True) - sm
    vt = s2 * (1.0 - mcav * mcav)
    v = vt.sum(axis=1, keepdims=True) - vt
    np.maximum(v, min_var, out=v)
    r = 1.0 / np.sqrt(v)
    return 0.5 * (log_ndtr((a + s) * r) - log_ndtr((a - s) * r))


@njit(cache=True, nogil=True)
def _log_phi(x: float) -> float:
    """log Φ(x), Φ the standard Gaussian CDF; erfc while it does not underflow,
    then the asymptotic series of the Mills ratio (error < 1e-10 at x = −35)."""
    if x > -35.0:
        return math.log(0.5 * math.erfc(-x * 0.7071067811865476))
    z2 = 1.0 / (x * x)
    return (
        -0.5 * x * x
        - math.log(-x)
        - 0.9189385332046728
        + math.log(1.0 - z2 + 3.0 * z2 * z2 - 15.0 * z2 * z2 * z2)
    )


@njit(cache=True, nogil=True)
def _factor_update(
    s: np.ndarray,
    s2: np.ndarray,
    u: np.ndarray,
    h: np.ndarray,
    mu: int,
    mc: np.ndarray,
    damping: float,
    min_var: float,
    absorb: bool,
) -> float:
    """Recompute the messages of factor ``mu`` from the cavity magnetizations
    m_{i→μ} = tanh(h_i − u_{μ→i}) and store the damped messages in ``u[mu]``;
    with ``absorb`` the total fields take the change at once (h_i += u_new − u_old).
    ``mc`` is scratch of length N. Returns the largest undamped message change."""
    n = s.shape[1]
    am = 0.0
    vm = 0.0
    for i in range(n):
        m = math.tanh(h[i] - u[mu, i])
        mc[i] = m
        am += s[mu, i] * m
        vm += s2[mu, i] * (1.0 - m * m)
    delta = 0.0
    for i in range(n):
        si = s[mu, i]
        a = am - si * mc[i]
        v = vm - s2[mu, i] * (1.0 - mc[i] * mc[i])
        if v < min_var:
            v = min_var
        r = 1.0 / math.sqrt(v)
        new = 0.5 * (_log_phi((a + si) * r) - _log_phi((a - si) * r))
        old = u[mu, i]
        d = abs(new - old)
        if d > delta:
            delta = d
        upd = damping * old + (1.0 - damping) * new
        u[mu, i] = upd
        if absorb:
            h[i] += upd - old
    return delta


@njit(cache=True, nogil=True)
def bp_sweep(
    s: np.ndarray, s2: np.ndarray, u: np.ndarray, h: np.ndarray, damping: float, min_var: float = _MIN_VAR
) -> float:
    """One parallel BP sweep, in place: u ← d·u + (1−d)·u_new with u_new from
    :func:`factor_fields` evaluated at m_{i→μ} = tanh(h_i − u_{μ→i}), all
    factors seeing the same fields ``h``. Returns max |u_new − u_old|."""
    p, n = s.shape
    mc = np.empty(n)
    delta = 0.0
    for mu in range(p):
        d = _factor_update(s, s2, u, h, mu, mc, damping, min_var, False)
        if d > delta:
            delta = d
    return delta


@njit(cache=True, nogil=True)
def bp_sweep_sequential(
    s: np.ndarray,
    s2: np.ndarray,
    u: np.ndarray,
    h: np.ndarray,
    order: np.ndarray,
    damping: float,
    min_var: float = _MIN_VAR,
) -> float:
    """One sequential BP sweep, in place: factors are updated one at a time in
    ``order`` and the total fields ``h`` absorb each factor's new messages at
    once (h_i += u_new − u_old), so later factors see them. Returns the
    largest message change."""
    n = s.shape[1]
    mc = np.empty(n)
    delta = 0.0
    for k in range(order.shape[0]):
        d = _factor_update(s, s2, u, h, order[k], mc, damping, min_var, True)
        if d > delta:
            delta = d
    return delta


FieldProtocol = Callable[[int, np.ndarray, np.ndarray], "tuple[np.ndarray, dict]"]


def run_bp(
    instance,
    *,
    seed: int | None,
    callback,
    max_epochs: int,
    damping: float,
    init_scale: float,
    external_field: FieldProtocol,
    sequential: bool = False,
    patience: int = 0,
    min_var: float = _MIN_VAR,
):
    """Iterate BP sweeps until sign of the fields solves the instance.

    ``external_field(t, H, h_prev)`` returns (F, record): the field F_i added
    at sweep t given the pattern field H and the previous total field, and a
    dict of scalars for the history; F is held fixed during a sweep.
    ``sequential`` selects factor-by-factor updates in a seeded random order
    (:func:`bp_sweep_sequential`) instead of parallel ones. Initial messages u are i.i.d.
    N(0, init_scale²)/√N (seeded) so that the symmetric fixed point is left.
    The run also stops when no message changes by more than 1e-9 in a
    sweep (``info["converged_at"]``), and, if ``patience`` > 0, when the
    fewest errors seen has not improved for ``patience`` sweeps
    (``info["stalled"]``). Returns (w, epochs, history, info).
    """
    # s, s² and the messages u: three float64 P×N arrays
    require_pattern_memory(instance, "BP", 3 * 8 + 8, "three float64 P×N arrays (patterns, squares, messages)")
    rng = np.random.default_rng(seed)
    y = instance.labels
    s = instance.rows(slice(None), dtype=np.float64)
    s *= y[:, None].astype(np.float64)
    s2 = s * s
    p, n = s.shape
    u = rng.normal(0.0, init_scale / np.sqrt(n), size=(p, n))
    h_prev = np.zeros(n)
    best_w = pm1_sign(u.sum(axis=0))
    best_err = instance.errors(best_w)
    hist: dict[str, list] = {"errors": [], "max_delta": [], "mean_abs_m": []}
    epochs = 0
    stopped = False
    converged_at = None
    best_at = 0
    stalled = False
    while best_err > 0 and epochs < max_epochs:
        H = u.sum(axis=0)
        F, record = external_field(epochs, H, h_prev)
        h = H + F
        if sequential:
            order = rng.permutation(p).astype(np.int64)
            delta = float(bp_sweep_sequential(s, s2, u, np.ascontiguousarray(h), order, damping, min_var))
        else:
            delta = float(bp_sweep(s, s2, u, np.ascontiguousarray(h), damping, min_var))
        epochs += 1
        h_prev = u.sum(axis=0) + F
        w = pm1_sign(h_prev)
        err = instance.errors(w)
        if err < best_err:
            best_err, best_w, best_at = err, w, epochs
        hist["errors"].append(err)
        hist["max_delta"].append(delta)
        hist["mean_abs_m"].append(float(np.mean(np.abs(np.tanh(h_prev)))))
        for k, val in record.items():
            hist.setdefault(k, []).append(val)
        if delta < _FROZEN:
            # every message is at a fixed point with saturated fields: further
            # sweeps cannot change sign(h), so the budget is not spent on them
            converged_at = epochs
            break
        if callback is not None and callback(epochs, {"errors": err, "max_delta": delta, **record}):
            stopped = True
            break
        if patience and epochs - best_at >= patience:
            stalled = True
            break
    info = {
        "stopped_by_callback": stopped,
        "best_errors": int(best_err),
        "converged_at": converged_at,
        "stalled": stalled,
    }
    return best_w, epochs, hist, info
