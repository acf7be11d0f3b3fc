"""Simulated annealing on the binary weights: the local-search reference.

Metropolis single-flip dynamics (Kirkpatrick, Gelatt, Vecchi, Science 220, 671
(1983)) on an error-counting or a stability-based (hinge) energy, with a
geometric schedule of the inverse temperature. Kernel:
:mod:`stochsyn.solvers._anneal`.
"""

from __future__ import annotations

import numpy as np

from ..problems import Instance
from ._anneal import anneal_sweep
from ._checks import check_choice, check_float, check_instance, check_int
from .base import Callback, Result, register

_KINDS = {"errors": 0, "hinge": 1}


@register("annealing", "simulated annealing (Metropolis single flips) on an errors or hinge energy")
def annealing(
    instance: Instance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int = 2000,
    energy: str = "hinge",
    kappa: float = 1.0,
    beta0: float = 0.5,
    beta1: float = 20.0,
) -> Result:
    """Simulated annealing. Start from uniform random ±1 weights; each epoch proposes
    N single flips at uniformly random sites, accepted with probability
    min(1, e^{−β ΔE}); β grows geometrically from β_0 (first epoch) to β_1
    (epoch ``max_epochs``), β_t = β_0 (β_1/β_0)^{t/(T−1)}. Energy E = Σ_μ e(Δ_μ),
    Δ_μ = σ^μ Σ_i w_i ξ_i^μ, with e(Δ) = [Δ ≤ 0] for "errors" and
    e(Δ) = max(0, κ − Δ) for "hinge". Stops at the first epoch without training errors.

    Args:
        instance: the problem (±1 or real patterns).
        seed: seeds the initial weights, the proposed sites and the acceptance coins.
        callback: ``callback(epoch, {"errors", "energy", "beta", "acceptance"})``; True stops.
        max_epochs: number of sweeps T, also the length of the β schedule (default 2000).
        energy: "hinge" or "errors" (default "hinge").
        kappa: margin κ > 0 of the hinge energy, in units of the unnormalized
            stability (default 1.0: with ±1 patterns and odd N, E = 0 iff solved).
        beta0: initial inverse temperature > 0 (default 0.5).
        beta1: final inverse temperature >= beta0 (default 20.0).

    Returns:
        Result with the final weights (the run ends at a solution or at the budget)
        and ``history`` of per-epoch "errors", "energy", "beta", "acceptance".
    """
    check_instance(instance, "annealing")
    max_epochs = check_int("max_epochs", max_epochs, minimum=0)
    kind = _KINDS[check_choice("energy", energy, tuple(_KINDS))]
    kappa = check_float("kappa", kappa, low=0.0, low_open=True)
    beta0 = check_float("beta0", beta0, low=0.0, low_open=True)
    beta1 = check_float("beta1", beta1, low=beta0)
    rng = np.random.default_rng(seed)
    n, p = instance.n, instance.p
    ct = np.ascontiguousarray((instance.patterns.astype(np.float64) * instance.labels[:, None]).T)
    w = (rng.integers(0, 2, size=n) * 2 - 1).astype(np.float64)
    delta = ct.T @ w
    errors = int(np.count_nonzero(delta <= 0))
    hist: dict[str, list] = {"errors": [], "energy": [], "beta": [], "acceptance": []}
    epochs = 0
    stopped = False
    ratio = beta1 / beta0
    while errors > 0 and epochs < max_epochs:
        beta = beta0 * ratio ** (epochs / (max_epochs - 1)) if max_epochs > 1 else beta1
        sites = rng.integers(0, n, size=n)
        coins = rng.random(n)
        e, errors, acc = anneal_sweep(ct, w, delta, sites, coins, beta, kind, kappa)
        errors = int(errors)
        epochs += 1
        hist["errors"].append(errors)
        hist["energy"].append(float(e))
        hist["beta"].append(beta)
        hist["acceptance"].append(acc / n)
        if callback is not None and callback(
            epochs, {"errors": errors, "energy": float(e), "beta": beta, "acceptance": acc / n}
        ):
            stopped = True
            break
    weights = np.where(w > 0, 1, -1).astype(np.int8)
    info = {"stopped_by_callback": stopped, "final_beta": hist["beta"][-1] if hist["beta"] else beta0}
    return Result(weights, errors == 0, errors, epochs, history=hist, info=info)
