"""Simulated annealing on the binary weights: the local-search reference.

Metropolis single-flip dynamics (Kirkpatrick, Gelatt, Vecchi, Science 220, 671
(1983)) on an error-counting or a stability-based (hinge) energy, with a
geometric or linear schedule of the inverse temperature and optional
independent restarts. Kernel: :mod:`stochsyn.solvers._anneal`.

At large N and loads near 0.6 the default energy (hinge at κ = 1) freezes with
tens of errors (Horner, Z. Phys. B 86, 291 (1992), on the glassy dynamics of the
binary perceptron; Baldassi et al., J. Stat. Mech. 023301 (2016),
arXiv:1511.05634: SA needs very long coolings there). A margin κ of order
0.3 √N inside the hinge, with the β range placed around the freezing point,
solves N = 1001, α = 0.6 in 25 000–35 000 sweeps; see docs/solvers.md.
"""

from __future__ import annotations

import numpy as np

from ..problems import Instance
from ._anneal import anneal_sweep
from ..packed.layout import block_rows
from ._checks import check_instance, require_pattern_memory
from .. import validation as V
from .base import Callback, Result, register

_KINDS = {"errors": 0, "hinge": 1}
_SCHEDULES = ("geometric", "linear")


def beta_schedule(t: int, n_sweeps: int, beta0: float, beta1: float, schedule: str) -> float:
    """Inverse temperature of sweep t = 0 … T−1 (T = ``n_sweeps``).

    geometric: β_t = β_0 (β_1/β_0)^{t/(T−1)}; linear: β_t = β_0 + (β_1 − β_0) t/(T−1).
    A one-sweep schedule is at β_1.
    """
    if n_sweeps <= 1:
        return beta1
    f = t / (n_sweeps - 1)
    if schedule == "linear":
        return beta0 + (beta1 - beta0) * f
    return beta0 * (beta1 / beta0) ** f


def _folded_columns(instance: Instance) -> np.ndarray:
    """(N, P) matrix σ^μ ξ_i^μ, column i contiguous (a flip of w_i reads it): int8 for ±1
    patterns (dense or packed, built in row blocks), float64 otherwise."""
    p, n = instance.p, instance.n
    dt = np.int8 if instance.binary_patterns else np.float64
    require_pattern_memory(instance, "annealing", np.dtype(dt).itemsize, f"the transposed {np.dtype(dt)} pattern matrix")
    ct = np.empty((n, p), dtype=dt)
    step = block_rows(n * 8)
    for r0 in range(0, p, step):
        blk = instance.rows(slice(r0, r0 + step), dtype=dt)
        blk *= instance.labels[r0 : r0 + step, None].astype(dt)
        ct[:, r0 : r0 + blk.shape[0]] = blk.T
    return ct


@register("annealing", "simulated annealing (Metropolis single flips) on an errors or hinge energy")
def annealing(
    instance: Instance,
    *,
    seed: int | None = 0,
    callback: Callback | None = None,
    max_epochs: int = 2000,
    energy: str = "hinge",
    kappa: float = 1.0,
    power: float = 1.0,
    beta0: float = 0.5,
    beta1: float = 20.0,
    schedule: str = "geometric",
    restarts: int = 0,
) -> Result:
    """Simulated annealing. Start from uniform random ±1 weights; each epoch (sweep)
    proposes N single flips at uniformly random sites, accepted with probability
    min(1, e^{−β ΔE}); β follows ``schedule`` from β_0 (first sweep) to β_1 (sweep
    ``max_epochs``): geometric β_t = β_0 (β_1/β_0)^{t/(T−1)} or linear
    β_t = β_0 + (β_1 − β_0) t/(T−1). Energy E = Σ_μ e(Δ_μ), Δ_μ = σ^μ Σ_i w_i ξ_i^μ,
    with e(Δ) = [Δ ≤ 0] for "errors" and e(Δ) = max(0, κ − Δ)^p for "hinge".
    Stops at the first accepted flip that leaves no training error. If a run of T
    sweeps ends unsolved, up to ``restarts`` further runs start from fresh random
    weights with the same schedule.

    Settings that solve N = 1001, α ≤ 0.6 (5/5 instances each, docs/solvers.md):
    ``max_epochs=30000, kappa=9, beta0=0.08, beta1=0.4, restarts=2`` — κ ≈ 0.28 √N and
    a β range that ends just past the freezing point (the default β_1 = 20 is far in
    the frozen phase, where sweeps are wasted).

    Args:
        instance: the problem (±1 or real patterns).
        seed: seeds the initial weights, the proposed sites and the acceptance coins.
        callback: ``callback(epoch, {"errors", "energy", "beta", "acceptance", "run"})``;
            True stops. ``epoch`` counts sweeps over all runs.
        max_epochs: number of sweeps T of one annealing run, also the length of the
            β schedule (default 2000).
        energy: "hinge" or "errors" (default "hinge").
        kappa: margin κ > 0 of the hinge energy, in units of the unnormalized
            stability (default 1.0: with ±1 patterns and odd N, E = 0 iff solved).
            A larger κ still stops at the first zero-error configuration.
        power: exponent p > 0 of the hinge, e = max(0, κ − Δ)^p (default 1.0).
        beta0: initial inverse temperature > 0 (default 0.5).
        beta1: final inverse temperature >= beta0 (default 20.0).
        schedule: "geometric" or "linear" in β (default "geometric").
        restarts: further independent runs after an unsolved one (default 0).

    Returns:
        Result with the weights (the first solution found, else those of the run that
        ended with the fewest errors), ``history`` of per-sweep "errors", "energy",
        "beta", "acceptance" (accepted / proposed) and "run", and ``info`` with
        "runs" (runs made), "final_beta" and "stopped_by_callback".
    """
    check_instance(instance, "annealing")
    max_epochs = V.integer("max_epochs", max_epochs, lo=0)
    kind = _KINDS[V.choice("energy", energy, tuple(_KINDS))]
    kappa = V.real("kappa", kappa, lo=0.0, lo_open=True)
    power = V.real("power", power, lo=0.0, lo_open=True)
    beta0 = V.real("beta0", beta0, lo=0.0, lo_open=True)
    beta1 = V.real("beta1", beta1, lo=beta0)
    schedule = V.choice("schedule", schedule, _SCHEDULES)
    restarts = V.integer("restarts", restarts, lo=0)
    rng = np.random.default_rng(seed)
    n, p = instance.n, instance.p
    ct = _folded_columns(instance)
    c_max = float(np.abs(ct).max()) if ct.size else 0.0
    # a flip moves a stability by at most 2 c_max; the small slack keeps rounding of
    # real-valued patterns from hiding a term that the full sum would have seen
    window = (kappa if kind == 1 else 0.0) + 2.0 * c_max * (1.0 + 1e-9) + 1e-9
    active = np.empty(p, dtype=np.int64)
    hist: dict[str, list] = {"errors": [], "energy": [], "beta": [], "acceptance": [], "run": []}
    epochs = 0
    stopped = False
    best_w: np.ndarray | None = None
    best_errors = p + 1
    runs = 0
    for run in range(restarts + 1):
        runs += 1
        w = (rng.integers(0, 2, size=n) * 2 - 1).astype(np.float64)
        delta = ct.T @ w
        errors = int(np.count_nonzero(delta <= 0))
        t = 0
        while errors > 0 and t < max_epochs:
            beta = beta_schedule(t, max_epochs, beta0, beta1, schedule)
            sites = rng.integers(0, n, size=n)
            coins = rng.random(n)
            e, errors, acc, tried = anneal_sweep(ct, w, delta, sites, coins, beta, kind, kappa, power, window, active)
            errors = int(errors)
            t += 1
            epochs += 1
            rate = acc / tried
            hist["errors"].append(errors)
            hist["energy"].append(float(e))
            hist["beta"].append(beta)
            hist["acceptance"].append(rate)
            hist["run"].append(run)
            if callback is not None and callback(
                epochs, {"errors": errors, "energy": float(e), "beta": beta, "acceptance": rate, "run": run}
            ):
                stopped = True
                break
        if errors < best_errors:
            best_errors, best_w = errors, w.copy()
        if errors == 0 or stopped:
            break
    assert best_w is not None
    weights = np.where(best_w > 0, 1, -1).astype(np.int8)
    info = {"stopped_by_callback": stopped, "final_beta": hist["beta"][-1] if hist["beta"] else beta0, "runs": runs}
    return Result(weights, best_errors == 0, best_errors, epochs, history=hist, info=info)
