"""Belief propagation for committee machines with binary synapses: focusing BP and reinforced BP.

Factor graph: variables W_ki ∈ {±1} (hidden unit k, input i ∈ R_k), one factor per
pattern μ enforcing σ^μ = sign(Σ_k sign(u_k^μ)), u_k = Σ_{i∈R_k} W_ki ξ_i^μ. Messages
are fields: u_{μ→ki} (factor to variable) and cavity magnetizations
m_{ki→μ} = tanh(h_ki − u_{μ→ki}). Inside factor μ each hidden field is taken Gaussian
(the perceptron's cavity approximation, :mod:`._gaussbp`, applied unit by unit):

    a_k = Σ_i ξ_i m_{ki→μ},   v_k = Σ_i (1 − m_{ki→μ}²),
    q_k = P(σ sign u_k = +1) = Φ(σ a_k/√v_k).

The K hidden units are independent given the messages, so the majority is summed
exactly: with c the number of the *other* K − 1 units that agree with σ,

    A_k = P(c ≥ (K+1)/2),   π_k = P(c = (K−1)/2)   (unit k is pivotal),

and P(factor satisfied | W_ki = w) = A_k + π_k Φ(σ(a_k − ξ_i m_{ki→μ} + ξ_i w)/√v_{k\\i}),
v_{k\\i} = v_k − (1 − m_{ki→μ}²). The message is half the log-ratio of the w = ±1 values.
For K = 1 (A = 0, π = 1) this is the perceptron's BP message.

The protocols are those of the perceptron solvers, applied per synapse:

* ``fbp`` — focusing BP on y replicas coupled to a reference (Baldassi et al., PNAS 113,
  E7655 (2016), arXiv:1605.06444, where it is run on committee machines): external field
  F_ki = atanh(tanh γ tanh((y − 1) atanh(tanh γ tanh H_ki))), γ and y scheduled by
  :func:`stochsyn.solvers.focusing.focusing_schedule`;
* ``rbp`` — reinforcement F_ki(t+1) = ρ_t h_ki(t) (Braunstein & Zecchina, PRL 96,
  030201 (2006)).

The random initial messages break the permutation symmetry of the hidden units; the
cost is O(P·K·N) per sweep and the messages take P·K·N float64.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
from numba import njit

from ..committee import CommitteeInstance
from ..resources import require_memory
from ._gaussbp import _FROZEN, _log_phi
from .base import Callback, Result, register_committee
from .bp import check_rbp_options
from .focusing import check_fbp_options, focusing_field, focusing_schedule

__all__ = ["committee_fbp", "committee_rbp", "committee_factor_messages"]


@njit(cache=True, nogil=True)
def _others_majority(q: np.ndarray, k: int, half: int, dist: np.ndarray) -> tuple[float, float]:
    """(A_k, π_k): P(≥ half+1 of the units other than k agree), P(exactly half agree)."""
    kk = q.shape[0]
    for c in range(kk + 1):
        dist[c] = 0.0
    dist[0] = 1.0
    seen = 0
    for j in range(kk):
        if j == k:
            continue
        qj = q[j]
        for c in range(seen + 1, 0, -1):
            dist[c] = dist[c] * (1.0 - qj) + dist[c - 1] * qj
        dist[0] *= 1.0 - qj
        seen += 1
    a = 0.0
    for c in range(half + 1, seen + 1):
        a += dist[c]
    return a, dist[half]


@njit(cache=True, nogil=True)
def _committee_factor(x: np.ndarray, y: np.ndarray, mask: np.ndarray, u: np.ndarray, h: np.ndarray, mu: int,
                      mc: np.ndarray, damping: float, min_var: float, absorb: bool) -> float:
    """New messages of factor ``mu`` (module docstring), damped into ``u[mu]``; with
    ``absorb`` the total fields ``h`` take the change at once. Returns the largest
    undamped change."""
    kk, n = h.shape
    half = (kk - 1) // 2
    s = y[mu]
    av = np.zeros(kk)
    vv = np.zeros(kk)
    q = np.empty(kk)
    dist = np.empty(kk + 1)
    for k in range(kk):
        a = 0.0
        v = 0.0
        for i in range(n):
            if mask[k, i]:
                m = math.tanh(h[k, i] - u[mu, k, i])
                mc[k, i] = m
                a += x[mu, i] * m
                v += 1.0 - m * m
        av[k] = a
        vv[k] = v
        q[k] = math.exp(_log_phi(s * a / math.sqrt(max(v, min_var))))
    delta = 0.0
    for k in range(kk):
        big_a, piv = _others_majority(q, k, half, dist)
        for i in range(n):
            if not mask[k, i]:
                continue
            xi = x[mu, i]
            m = mc[k, i]
            a = av[k] - xi * m
            v = vv[k] - (1.0 - m * m)
            if v < min_var:
                v = min_var
            r = 1.0 / math.sqrt(v)
            lp = _log_phi(s * (a + xi) * r)
            lm = _log_phi(s * (a - xi) * r)
            if big_a > 0.0:
                new = 0.5 * (math.log(big_a + piv * math.exp(lp)) - math.log(big_a + piv * math.exp(lm)))
            elif piv > 0.0:
                new = 0.5 * (lp - lm)
            else:  # unit k cannot change the outcome as far as the messages know
                new = 0.0
            old = u[mu, k, i]
            d = abs(new - old)
            if d > delta:
                delta = d
            upd = damping * old + (1.0 - damping) * new
            u[mu, k, i] = upd
            if absorb:
                h[k, i] += upd - old
    return delta


@njit(cache=True, nogil=True)
def _committee_sweep(x: np.ndarray, y: np.ndarray, mask: np.ndarray, u: np.ndarray, h: np.ndarray,
                     order: np.ndarray, damping: float, min_var: float, absorb: bool) -> float:
    mc = np.zeros(h.shape)
    delta = 0.0
    for t in range(order.shape[0]):
        d = _committee_factor(x, y, mask, u, h, order[t], mc, damping, min_var, absorb)
        if d > delta:
            delta = d
    return delta


def committee_factor_messages(instance: CommitteeInstance, u: np.ndarray, h: np.ndarray,
                              min_var: float = 1.0) -> np.ndarray:
    """The undamped factor-to-variable messages (P, K, N) for cavity fields h − u (module docstring).

    The same computation as the solvers' sweep, exposed so that tests can check it
    against exact enumeration on small instances.
    """
    x = instance.patterns.astype(np.float64)
    y = instance.labels.astype(np.float64)
    mask = instance.mask()
    out = np.array(u, dtype=np.float64, copy=True)
    _committee_sweep(x, y, mask, out, np.array(h, dtype=np.float64), np.arange(instance.p, dtype=np.int64),
                     0.0, float(min_var), False)
    return out


def _check(instance: Any, method: str) -> CommitteeInstance:
    if not isinstance(instance, CommitteeInstance):
        raise TypeError(f"method {method!r} (committee) needs a CommitteeInstance, got {type(instance).__name__}")
    return instance


def _deploy(h: np.ndarray) -> np.ndarray:
    return np.where(h >= 0, 1, -1).astype(np.int8)


def _run_committee_bp(inst: CommitteeInstance, *, method: str, seed: int | None, callback: Callback | None,
                      max_epochs: int, damping: float, init_scale: float, sequential: bool, patience: int,
                      min_var: float, external_field: Callable[[int, np.ndarray, np.ndarray], tuple[np.ndarray, dict]],
                      ) -> Result:
    """Sweeps until sign(h) solves the instance, the messages freeze, the budget ends, or
    the fewest errors seen has not improved for ``patience`` sweeps (as :func:`._gaussbp.run_bp`)."""
    k, n, p = inst.k, inst.n, inst.p
    require_memory(8.0 * p * (k + 1) * n, f"method {method!r} keeps P×K×N float64 messages (P={p}, K={k}, N={n}): it")
    rng = np.random.default_rng(seed)
    x = inst.patterns.astype(np.float64)
    y = inst.labels.astype(np.float64)
    mask = inst.mask()
    u = rng.normal(0.0, init_scale / np.sqrt(n), size=(p, k, n)) * mask
    h_prev = np.zeros((k, n))
    best_w = _deploy(u.sum(axis=0))
    best_err = inst.errors(best_w)
    hist: dict[str, list] = {"errors": [], "max_delta": [], "mean_abs_m": []}
    epochs, best_at = 0, 0
    stopped = stalled = False
    converged_at = None
    while best_err > 0 and epochs < max_epochs:
        big_h = u.sum(axis=0)
        f, record = external_field(epochs, big_h, h_prev)
        h = np.ascontiguousarray(big_h + f)
        order = rng.permutation(p).astype(np.int64) if sequential else np.arange(p, dtype=np.int64)
        delta = float(_committee_sweep(x, y, mask, u, h, order, damping, min_var, sequential))
        epochs += 1
        h_prev = u.sum(axis=0) + f
        w = _deploy(h_prev)
        err = inst.errors(w)
        if err < best_err:
            best_err, best_w, best_at = err, w, epochs
        hist["errors"].append(err)
        hist["max_delta"].append(delta)
        hist["mean_abs_m"].append(float(np.abs(np.tanh(h_prev))[mask].mean()))
        for key, val in record.items():
            hist.setdefault(key, []).append(val)
        if delta < _FROZEN:
            converged_at = epochs
            break
        if callback is not None and callback(epochs, {"errors": err, "max_delta": delta, **record}):
            stopped = True
            break
        if patience and epochs - best_at >= patience:
            stalled = True
            break
    info = {"stopped_by_callback": stopped, "best_errors": int(best_err), "converged_at": converged_at,
            "stalled": stalled}
    return Result(best_w, best_err == 0, int(best_err), epochs, history=hist, info=info)


@register_committee("fbp", "Focusing BP for committee machines (Gaussian hidden fields, exact majority)")
def committee_fbp(
    instance: CommitteeInstance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int = 1000,
    protocol: str = "scoping",
    y: float = 7.0,
    gamma0: float = 0.0,
    gamma_step: float = 0.01,
    rho0: float = 0.0,
    rho_step: float = 5e-3,
    rho_max: float = 1.0 - 1e-6,
    x: float = 0.5,
    damping: float = 0.5,
    init_scale: float = 1.0,
    update: str = "sequential",
    patience: int = 200,
    min_var: float = 1.0,
) -> Result:
    """Focusing BP on a committee machine (module docstring; Baldassi et al. PNAS 2016).

    Args:
        instance: the committee instance (fully connected or tree).
        seed: seeds the random initial messages, which also break the hidden units' symmetry.
        callback: ``callback(epoch, {"errors", "max_delta", "gamma", "y"})``; True stops.
        max_epochs: budget of BP sweeps (default 1000).
        protocol: "scoping" (fixed y, γ_t = γ_0 + t·γ_step) or "pseudo" (pseudo-reinforcement,
            growing γ and y) (default "scoping").
        y: replicas for "scoping", > 1 (default 7.0).
        gamma0: initial coupling γ_0 >= 0 (default 0.0).
        gamma_step: γ increase per sweep, >= 0 (default 0.01).
        rho0: initial ρ in [0, 1) for "pseudo" (default 0.0).
        rho_step: ρ increase per sweep for "pseudo", >= 0 (default 5e-3).
        rho_max: cap on ρ for "pseudo", in (0, 1) (default 1 − 1e-6).
        x: exponent of the pseudo-reinforcement map, in (0, 1) (default 0.5).
        damping: weight of the old message, in [0, 1) (default 0.5).
        init_scale: standard deviation × √N of the initial messages, >= 0 (default 1.0).
        update: "sequential" (seeded random factor order, the fields absorbing each factor
            at once) or "parallel" (default "sequential": at K = 3, N = 101, α = 0.2 parallel
            stalled at 4 errors on 1 of 6 seeds where sequential solved 6/6; at N = 1001,
            α = 0.6 both solved 2/2 in 129–192 sweeps).
        patience: stop when the fewest errors has not improved for this many sweeps; 0
            disables (default 200).
        min_var: floor on each cavity variance v_{k\\i}, > 0 (default 1.0).

    Returns:
        Result with (K, N) weights sign(h) from the sweep with the fewest errors.
    """
    inst = _check(instance, "fbp")
    (max_epochs, protocol, y, gamma0, gamma_step, rho0, rho_step, rho_max, x, damping, init_scale, update, patience, min_var) = check_fbp_options(
        max_epochs, protocol, y, gamma0, gamma_step, rho0, rho_step, rho_max, x, damping, init_scale, update, patience, min_var)

    def focusing(t: int, big_h: np.ndarray, h_prev: np.ndarray) -> tuple[np.ndarray, dict]:
        gamma, yy = focusing_schedule(t, protocol, y=y, gamma0=gamma0, gamma_step=gamma_step, rho0=rho0,
                                      rho_step=rho_step, rho_max=rho_max, x=x)
        return focusing_field(big_h, gamma, yy), {"gamma": gamma, "y": yy}

    return _run_committee_bp(inst, method="fbp", seed=seed, callback=callback, max_epochs=max_epochs,
                             damping=damping, init_scale=init_scale, sequential=update == "sequential",
                             patience=patience, min_var=min_var, external_field=focusing)


@register_committee("rbp", "Reinforced BP for committee machines (Gaussian hidden fields, exact majority)")
def committee_rbp(
    instance: CommitteeInstance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int = 1000,
    rho0: float = 0.0,
    rho_step: float = 1e-2,
    damping: float = 0.0,
    init_scale: float = 1.0,
    update: str = "sequential",
    patience: int = 200,
    min_var: float = 1.0,
) -> Result:
    """Reinforced BP on a committee machine: F_ki(t+1) = ρ_t h_ki(t), ρ_t = min(1, ρ_0 + t·ρ_step).

    Args:
        instance: the committee instance (fully connected or tree).
        seed: seeds the random initial messages.
        callback: ``callback(epoch, {"errors", "max_delta", "rho"})``; True stops.
        max_epochs: budget of BP sweeps (default 1000).
        rho0: initial reinforcement in [0, 1] (default 0.0).
        rho_step: growth of ρ per sweep, >= 0 (default 1e-2).
        damping: weight of the old message, in [0, 1) (default 0.0).
        init_scale: standard deviation × √N of the initial messages, >= 0 (default 1.0).
        update: "sequential" or "parallel" (default "sequential").
        patience: stop when the fewest errors has not improved for this many sweeps; 0
            disables (default 200).
        min_var: floor on each cavity variance, > 0 (default 1.0).

    Returns:
        Result with (K, N) weights sign(h) from the sweep with the fewest errors.
    """
    inst = _check(instance, "rbp")
    (max_epochs, rho0, rho_step, damping, init_scale, update, patience, min_var) = check_rbp_options(max_epochs, rho0, rho_step, damping, init_scale, update, patience, min_var)

    def reinforcement(t: int, big_h: np.ndarray, h_prev: np.ndarray) -> tuple[np.ndarray, dict]:
        rho = min(1.0, rho0 + t * rho_step)
        return rho * h_prev, {"rho": rho}

    return _run_committee_bp(inst, method="rbp", seed=seed, callback=callback, max_epochs=max_epochs,
                             damping=damping, init_scale=init_scale, sequential=update == "sequential",
                             patience=patience, min_var=min_var, external_field=reinforcement)
