"""Committee-machine solvers: stochastic synapses through the hidden layer, and least action.

Both take a :class:`stochsyn.committee.CommitteeInstance` and return (K, N) ±1 weights;
:func:`stochsyn.solvers.solve` dispatches here for committee instances and re-checks
the result exactly.

``stochastic`` — the paper's method (Baldassi et al., PRL 120, 268103 (2018)) through
the hidden layer. Synapse (k, i) is ±1 with mean m_ki = tanh h_ki. By the central limit
theorem the field of hidden unit k on pattern ξ is Gaussian with

    mean μ_k = Σ_{i∈R_k} m_ki ξ_i,   variance v_k = Σ_{i∈R_k} (1 − m_ki²),

so unit k agrees with the label σ with probability q_k = Φ(β σ μ_k/√v_k). The K
hidden units are independent given ξ, and the probability that the majority is right,

    P_ok = Σ_{c ≥ (K+1)/2} P(c of the K units agree),

is computed exactly (Poisson-binomial recursion over the K units, O(K²) per pattern;
no second CLT). Its derivative in q_k is the probability that the other K − 1 units
split evenly (the unit is pivotal). The run descends on
F = −(1/P) Σ_μ log P_ok^μ − τ_t (1/|R|) Σ_ki s(m_ki) with Adam on h, and stops at the
first epoch where W = sign(m) solves the instance. τ_t is the perceptron solver's
annealing τ₀(1 − d)^t (:mod:`.stochastic`) times a one-sided thermostat that keeps the
self-overlap q = ⟨m²⟩ at or below a target rising exponentially to 1
(:mod:`._overlap_ramp`): without it the hidden units, copies of one perceptron while q
is small, specialize and polarize together in ~100 epochs and the run freezes a few
errors short of a solution.

``lal`` — least action for committee machines with clipped binary synapses
(Nilsson 1965; Mitchison & Durbin, Biol. Cybern. 60, 345 (1989)): patterns in random
order; on an error, of the hidden units that disagree with the label only as many as
are needed to flip the majority are corrected — those with the smallest |u_k| (least
action) — each by the clipped-perceptron step on integer hidden states,
h_ki ← clip(h_ki + 2σξ_i, ±(S − 1)), W = sign(h) (Baldassi et al., PNAS 104, 11079 (2007)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtr

from .. import validation as V
from ..committee import CommitteeInstance
from .base import Callback, Result, register_committee
from ._overlap_ramp import OverlapRamp
from .stochastic import _Optimizer

__all__ = ["committee_stochastic", "committee_lal", "majority_probability", "committee_loss_grad"]


def _check(instance: Any, method: str) -> CommitteeInstance:
    if not isinstance(instance, CommitteeInstance):
        raise TypeError(f"method {method!r} (committee) needs a CommitteeInstance, got {type(instance).__name__}")
    return instance


def majority_probability(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(at least (K+1)/2 of K independent events happen) and its derivatives.

    Args:
        q: (P, K) probabilities of the K events (K odd).

    Returns:
        (p_ok, pivotal): (P,) the majority probability, and (P, K) ∂p_ok/∂q_k = the
        probability that exactly (K − 1)/2 of the other K − 1 events happen.
    """
    q = np.asarray(q, dtype=np.float64)
    p, k = q.shape
    half = (k - 1) // 2

    def counts(cols: np.ndarray) -> np.ndarray:
        d = np.zeros((p, cols.shape[1] + 1))
        d[:, 0] = 1.0
        for j in range(cols.shape[1]):
            qj = cols[:, j:j + 1]
            d[:, 1:j + 2] = d[:, 1:j + 2] * (1.0 - qj) + d[:, 0:j + 1] * qj
            d[:, 0] *= 1.0 - cols[:, j]
        return d

    p_ok = counts(q)[:, half + 1:].sum(1)
    piv = np.empty_like(q)
    for j in range(k):
        piv[:, j] = counts(np.delete(q, j, axis=1))[:, half]
    return p_ok, piv


def committee_loss_grad(x: np.ndarray, y: np.ndarray, m: np.ndarray, mask: np.ndarray, *, beta: float = 1.0,
                        var_floor: float = 1e-8) -> tuple[float, np.ndarray]:
    """E = −Σ_μ log P_ok^μ of the module docstring and ∂E/∂m (K, N).

    Args:
        x: (P, N) patterns (float32 or float64).
        y: (P,) labels ±1.
        m: (K, N) synapse means, zero outside the receptive fields.
        mask: (K, N) 1.0 inside the receptive fields, else 0.0.
        beta: inverse temperature inside Φ.
        var_floor: variance floor per input.

    With a = σμ/√v: ∂E/∂a_k = −piv_k βφ(βa_k)/P_ok, ∂a_k/∂m_ki = σξ_i/√v_k + a_k m_ki/v_k.
    """
    fan_in = mask.sum(1)
    mu = (x @ m.T.astype(x.dtype)).astype(np.float64)  # (P, K)
    var = np.maximum(((1.0 - m * m) * mask).sum(1), 0.0) + var_floor * fan_in
    sd = np.sqrt(var)
    a = y[:, None] * mu / sd  # folded normalized fields
    p_ok, piv = majority_probability(ndtr(beta * a))
    p_ok = np.maximum(p_ok, 1e-300)
    loss = float(-np.log(p_ok).sum())
    log_phi = -0.5 * (beta * a) ** 2 - 0.5 * np.log(2 * np.pi)  # φ/P_ok in logs: P_ok can be tiny
    g_a = -piv * beta * np.exp(log_phi - np.log(p_ok)[:, None])
    g_m = ((g_a * y[:, None] / sd).T.astype(x.dtype) @ x).astype(np.float64)
    g_m += m * ((g_a * a).sum(0) / var)[:, None]
    return loss, g_m * mask


def _deploy(h: np.ndarray) -> np.ndarray:
    return np.where(h >= 0, 1, -1).astype(np.int8)


@register_committee("stochastic", "Stochastic binary synapses through the hidden layer: CLT per unit, exact majority")
def committee_stochastic(
    instance: CommitteeInstance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int | None = None,
    lr: float = 0.1,
    tau: float = 0.15,
    tau_decay: float = 1e-3,
    overlap_epochs: int | None = None,
    q_start: float = 0.3,
    q_final: float = 0.999,
    overlap_gain: float = 2.0,
    beta: float = 1.0,
    init_scale: float = 0.1,
    h_max: float = 10.0,
    var_floor: float = 1e-8,
) -> Result:
    """Train a committee machine through stochastic synapses m = tanh(h) (module docstring).

    Keyword Args:
        max_epochs (int | None, None): epoch budget (full-batch passes); None = 3T/2, the
            ramp plus half of it at q*_t = q₁ (9,000 at K = 3, 15,000 at K = 5).
        lr (float, 0.1): Adam step size on h.
        tau (float, 0.15): initial entropic temperature τ₀ per synapse. Lower than the
            perceptron's 0.6: at K = 3, N = 1001 solutions appear when τ ≈ 0.15 (from
            τ₀ = 0.6 every run at α ≤ 0.5 waited ~1,350 epochs for it; from 0.15, ~200).
        tau_decay (float, 1e-3): d in τ_t = τ₀(1 − d)^t.
        overlap_epochs (int | None, None): T of the overlap thermostat (:mod:`._overlap_ramp`):
            the target self-overlap q*_t = 1 − (1 − q₀)((1 − q₁)/(1 − q₀))^min(1, t/T), and τ
            is raised while q = ⟨m²⟩ exceeds it. 0 = the plain schedule; None = 2000·K
            (more hidden units take longer to specialize). Measured at K = 3, α = 0.6: 0 of 3
            solved without it, 4 of 4 with it (T = 3000); T = 6000 against 3000 on 16
            held-out N = 1001 instances (K = 5, α = 0.5 and 0.55; K = 3, α = 0.65): 9 solved
            against 5, none lost; at K = 5 T = 9000 against 6000 (docs/committee.md).
        q_start (float, 0.3): q₀.
        q_final (float, 0.999): q₁.
        overlap_gain (float, 2.0): g in c_{t+1} = max(1, c_t exp(g (q_t − q*_t))), τ_t = τ₀(1 − d)^t c_t.
        beta (float, 1.0): inverse temperature inside Φ.
        init_scale (float, 0.1): h ~ N(0, init_scale²); a larger start than the
            perceptron's 0.01 separates the hidden units from the first epoch (they are
            otherwise symmetric).
        h_max (float, 10.0): |h| clip.
        var_floor (float, 1e-8): variance floor per input.

    ``callback(epoch, {"errors", "loss", "tau", "q"})`` after each epoch; True stops.
    Returns the first solving W = sign(m), else the epoch with the fewest errors.
    """
    inst = _check(instance, "stochastic")
    if overlap_epochs is None:
        overlap_epochs = 2000 * inst.k
    overlap_epochs = V.integer("overlap_epochs", overlap_epochs, lo=0)
    if max_epochs is None:
        max_epochs = (3 * overlap_epochs) // 2 if overlap_epochs else 9000
    V.integer("max_epochs", max_epochs, lo=1)
    for name, val in (("lr", lr), ("beta", beta), ("h_max", h_max)):
        V.real(name, val, lo=0.0, lo_open=True)
    for name, val in (("tau", tau), ("init_scale", init_scale), ("var_floor", var_floor)):
        V.real(name, val, lo=0.0)
    thermostat = OverlapRamp(tau, tau_decay, epochs=overlap_epochs, q_start=q_start, q_final=q_final,
                             gain=overlap_gain)
    rng = np.random.default_rng(seed)
    k, n, p = inst.k, inst.n, inst.p
    mask = inst.mask().astype(np.float64)
    fan_in = mask.sum(1)  # |R_k|
    x = inst.patterns.astype(np.float32)
    y = inst.labels.astype(np.float64)
    h = init_scale * rng.standard_normal((k, n)) * mask
    opt = _Optimizer("adam", float(lr), 0.0, (k, n), float(h_max))
    best_err, best_w = p + 1, _deploy(h)
    hist_loss: list[float] = []
    hist_err: list[int] = []
    epoch = 0
    solved = False
    for epoch in range(1, int(max_epochs) + 1):
        m = np.tanh(h) * mask
        q_now = float((m * m).sum() / mask.sum())
        t_now = thermostat.tau(epoch, q_now)
        w = _deploy(h)
        fields = x @ (w * mask).T.astype(np.float32)  # exact: integer sums below 2^24
        agree = (np.sign(fields) * y[:, None]) > 0
        err = int(np.count_nonzero(agree.sum(1) <= k // 2))
        if err < best_err:
            best_err, best_w = err, w
        if err == 0:
            solved = True
            break
        loss, g_m = committee_loss_grad(x, y, m, mask, beta=beta, var_floor=var_floor)
        loss /= p
        grad = (1.0 - m * m) * (g_m / p + (t_now / fan_in)[:, None] * h) * mask
        opt.step(h, grad)
        hist_loss.append(loss)
        hist_err.append(err)
        if callback is not None and callback(epoch, {"errors": err, "loss": loss, "tau": t_now, "q": q_now}):
            break
    return Result(best_w if not solved else w, solved, best_err if not solved else 0, epoch,
                  history={"loss": hist_loss, "errors": hist_err}, info={"tau_final": t_now, "q_final": q_now,
                                                                      "thermostat_factor": thermostat.factor})


@register_committee("lal", "Least-action learning for committee machines, clipped binary synapses")
def committee_lal(
    instance: CommitteeInstance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int = 2000,
    states: int = 200,
) -> Result:
    """Least action with clipped-perceptron steps on integer hidden states (module docstring).

    Keyword Args:
        max_epochs (int, 2000): passes over the patterns (random order each pass).
        states (int, 200): S, even: the hidden states are the S odd integers in ±(S − 1)
            (as SBPI's K; with few states, e.g. 10, they saturate at N ≈ 1000 and the
            rule follows the last patterns: 270 of 601 errors at K = 3, α = 0.2).

    ``callback(epoch, {"errors"})`` after each pass; True stops.
    """
    inst = _check(instance, "lal")
    V.integer("max_epochs", max_epochs, lo=1)
    V.integer("states", states, lo=2)
    if states % 2:
        raise ValueError(f"states must be even (odd hidden values -(S-1)..S-1), got states={states}")
    rng = np.random.default_rng(seed)
    k, n, p = inst.k, inst.n, inst.p
    mask = inst.mask()
    cap = int(states) - 1
    hs = np.where(rng.random((k, n)) < 0.5, -1, 1).astype(np.int64)
    x = inst.patterns.astype(np.int64)
    y = inst.labels.astype(np.int64)
    w = np.sign(hs) * mask
    u = x @ w.T  # (P, K) exact hidden fields, kept up to date
    need = k // 2 + 1
    best_err, best_w = p + 1, np.sign(hs).astype(np.int8)
    epoch = 0
    for epoch in range(1, int(max_epochs) + 1):
        for mu in rng.permutation(p):
            ok = u[mu] * y[mu] > 0
            wrong = np.flatnonzero(~ok)
            deficit = need - (k - wrong.size)
            if deficit <= 0:
                continue
            for j in wrong[np.argsort(np.abs(u[mu, wrong]), kind="stable")[:deficit]]:
                step = 2 * y[mu] * x[mu] * mask[j]
                new = np.clip(hs[j] + step, -cap, cap)
                new_w = np.sign(new) * mask[j]
                changed = np.flatnonzero(new_w != w[j])
                if changed.size:
                    u[:, j] += x[:, changed] @ (new_w[changed] - w[j, changed])
                hs[j], w[j] = new, new_w
        err = int(np.count_nonzero((u * y[:, None] > 0).sum(1) < need))
        if err < best_err:
            best_err, best_w = err, np.sign(hs).astype(np.int8)
        if callback is not None and callback(epoch, {"errors": err}):
            break
        if err == 0:
            break
    return Result(best_w, best_err == 0, best_err, epoch, info={"states": int(states)})
