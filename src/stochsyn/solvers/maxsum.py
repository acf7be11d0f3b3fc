"""Max-Sum (zero-temperature BP) for the binary perceptron.

Baldassi & Braunstein, "A max-sum algorithm for training discrete neural
networks", J. Stat. Mech. P08008 (2015), arXiv:1505.05401. Binary weights only
(the q-state version of the paper is not implemented).

Messages are log-likelihood fields. Variable to factor: the cavity field
h_{i→μ} = Σ_{ν≠μ} u_{ν→i} + F_i + ε r_i, where r_i ~ U(−1, 1) is a fixed
random field that breaks ties and F_i a reinforcement. Factor μ enforces the
hard constraint Δ_μ = Σ_i s_{μi} w_i ≥ κ (s_{μi} = σ^μ ξ_i^μ, κ odd, κ = 1
means Δ > 0 for odd N; a margin κ ~ 0.35√N works much better, see ``kappa``). Its max-sum message is

    u_{μ→i} = ½ [ G_{μ\\i}(κ − s_{μi}) − G_{μ\\i}(κ + s_{μi}) ],
    G_{μ\\i}(T) = max { Σ_{j≠i} h_{j→μ} w_j  :  Σ_{j≠i} s_{μj} w_j ≥ T }.

For binary weights and ±1 patterns G is solved exactly by a greedy argument:
start from w_j = sign h_{j→μ}, whose cavity stability is S_{μ\\i}; each flip
of a "misaligned" j (s_{μj} sign h_{j→μ} = −1) raises the stability by 2 at a
cost 2|h_{j→μ}|, so the cheapest flips are taken first. Writing c_(k) for the
k-th smallest misaligned cost (0-based, i excluded) and
k = (κ − 1 − S_{μ\\i})/2,

    u_{μ→i} = s_{μi} c_(k)   if S_{μ\\i} ≤ κ − 1,   else 0,

(+∞ when there are not enough misaligned variables: the constraint forces
w_i). One sort per factor gives all these order statistics: O(PN log N) per
sweep, vectorized over factors with numpy. Reinforcement as in rBP,
F_i(t+1) = ρ_t h_i(t), ρ_t = min(1, ρ_0 + t·ρ_step), with damping on u.
"""

from __future__ import annotations

import numpy as np

from ..problems import Instance
from ._checks import check_instance, pm1_sign, require_pattern_memory
from .. import validation as V
from .base import Callback, Result, register

# Stand-in for an infinite field: finite so that sums and differences stay defined.
_FORCED = 1e12


def maxsum_factor_fields(s: np.ndarray, hcav: np.ndarray, kappa: int) -> np.ndarray:
    """Exact max-sum messages u_{μ→i} (P, N) for binary weights and ±1 patterns.

    Args:
        s: (P, N) float64, s_{μi} = σ^μ ξ_i^μ ∈ {±1}.
        hcav: (P, N) cavity fields h_{i→μ}.
        kappa: stability threshold κ (odd, >= 1).
    """
    p, n = s.shape
    sg = np.where(hcav >= 0, 1.0, -1.0)
    t = s * sg  # +1 where the preferred value helps factor μ
    total = t.sum(axis=1, keepdims=True)
    cav_stab = total - t  # S_{μ\i}
    cost = np.where(t < 0, np.abs(hcav), np.inf)
    order = np.argsort(cost, axis=1, kind="stable")
    sorted_cost = np.take_along_axis(cost, order, axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(n), (p, n)), axis=1)
    k = (kappa - 1 - cav_stab) * 0.5
    active = k >= 0
    k = np.where(active, k, 0).astype(np.int64)
    # skip i itself when it is among the misaligned and ranked at or before k
    k = k + ((t < 0) & (rank <= k))
    over = k >= n
    c = np.take_along_axis(sorted_cost, np.minimum(k, n - 1), axis=1)
    c = np.where(over | ~np.isfinite(c), _FORCED, c)
    return np.where(active, s * c, 0.0)


@register("maxsum", "Max-Sum (zero-temperature BP) with reinforcement, binary weights")
def maxsum(
    instance: Instance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int = 1000,
    kappa: int | None = None,
    rho0: float = 0.0,
    rho_step: float = 1e-2,
    damping: float = 0.5,
    noise: float = 1e-3,
    patience: int = 200,
) -> Result:
    """Max-Sum for binary synapses (Baldassi & Braunstein 2015) with reinforcement
    F_i(t+1) = ρ_t h_i(t), ρ_t = min(1, ρ_0 + t·ρ_step). Needs ±1 patterns.

    Args:
        instance: the problem (±1 patterns).
        seed: seeds the tie-breaking random fields ε r_i.
        callback: ``callback(epoch, {"errors", "max_delta", "rho"})``; True stops.
        max_epochs: budget of parallel sweeps (default 1000).
        kappa: stability each factor demands, odd, >= 1; κ = 1 is plain Δ > 0. Default
            None: the odd integer nearest 0.35·√N (11 at N = 1001, 5 at N = 201), a
            margin that measured far better than κ = 1 (N = 201, α = 0.5: 6/6 solved
            with κ = 5 vs 4/6 with κ = 1; N = 1001, α = 0.6: κ = 11 solved 2/2, κ = 7 failed).
        rho0: initial reinforcement in [0, 1] (default 0.0).
        rho_step: reinforcement growth per sweep, >= 0 (default 1e-2).
        damping: weight of the old message, in [0, 1) (default 0.5).
        noise: ε, amplitude of the fixed random tie-breaking fields, > 0 (default 1e-3).
        patience: stop when the fewest errors seen has not improved for this many
            sweeps; 0 disables (default 200).

    Returns:
        Result whose weights are the sign of the total fields with the fewest
        training errors seen; ``history`` of "errors", "max_delta", "rho".
    """
    check_instance(instance, "maxsum", binary_patterns=True)
    max_epochs = V.integer("max_epochs", max_epochs, lo=0)
    if kappa is None:
        kappa = max(1, 2 * int(round((0.35 * np.sqrt(instance.n) - 1) / 2)) + 1)
    kappa = V.integer("kappa", kappa, lo=1)
    if kappa % 2 == 0:
        raise ValueError(f"kappa must be odd (stabilities of ±1 patterns with odd N are odd), got kappa={kappa}")
    rho0 = V.real("rho0", rho0, lo=0.0, hi=1.0)
    rho_step = V.real("rho_step", rho_step, lo=0.0)
    damping = V.real("damping", damping, lo=0.0, hi=1.0, hi_open=True)
    noise = V.real("noise", noise, lo=0.0, lo_open=True)
    patience = V.integer("patience", patience, lo=0)

    # patterns, messages, cavity fields, new messages and the kernel's temporaries
    require_pattern_memory(instance, "maxsum", 6 * 8, "about six float64 P×N arrays")
    rng = np.random.default_rng(seed)
    y = instance.labels
    s = instance.rows(slice(None), dtype=np.float64)
    s *= y[:, None].astype(np.float64)
    p, n = s.shape
    tie_break = np.asarray(noise * rng.uniform(-1.0, 1.0, size=n))
    u = np.zeros((p, n))
    reinf = np.zeros(n)
    h = tie_break.copy()
    best_w = pm1_sign(h)
    best_err = instance.errors(best_w)
    hist: dict[str, list] = {"errors": [], "max_delta": [], "rho": []}
    epochs = 0
    stopped = False
    stalled = False
    best_at = 0
    while best_err > 0 and epochs < max_epochs:
        rho = min(1.0, rho0 + epochs * rho_step)
        reinf = rho * h
        hcav = (u.sum(axis=0) + reinf + tie_break)[None, :] - u
        u_new = maxsum_factor_fields(s, hcav, kappa)
        delta = float(np.max(np.abs(u_new - u)))
        u = damping * u + (1.0 - damping) * u_new
        epochs += 1
        h = u.sum(axis=0) + reinf + tie_break
        # Max-sum messages are homogeneous of degree one in (u, F, ε r), and the
        # reinforcement makes them grow geometrically: rescale all together so
        # that nothing overflows (signs and the dynamics are unchanged).
        scale = float(np.max(np.abs(h)))
        if scale > 1e50:
            u /= scale
            h /= scale
            tie_break = tie_break / scale
        w = pm1_sign(h)
        err = instance.errors(w)
        if err < best_err:
            best_err, best_w, best_at = err, w, epochs
        hist["errors"].append(err)
        hist["max_delta"].append(delta)
        hist["rho"].append(rho)
        if callback is not None and callback(epochs, {"errors": err, "max_delta": delta, "rho": rho}):
            stopped = True
            break
        if patience and epochs - best_at >= patience:
            stalled = True
            break
    info = {"stopped_by_callback": stopped, "best_errors": int(best_err), "stalled": stalled, "kappa": kappa}
    return Result(best_w, best_err == 0, best_err, epochs, history=hist, info=info)
