"""Numba kernel for simulated annealing on binary perceptron weights.

Single-flip Metropolis moves at inverse temperature β on an energy that is a
sum over patterns of e(Δ_μ), Δ_μ = σ^μ Σ_i w_i ξ_i^μ:

* kind 0, "errors": e(Δ) = [Δ ≤ 0] (the number of training errors);
* kind 1, "hinge":  e(Δ) = max(0, κ − Δ)^p (stability based; zero iff Δ ≥ κ;
  p = 1 is the plain hinge).

The stabilities Δ are kept up to date incrementally: flipping w_i changes
every Δ_μ by −2 w_i σ^μ ξ_i^μ, so an accepted move costs O(P). A proposal only
needs the patterns whose term can change: a flip moves Δ_μ by at most
2 max|ξ|, so with Δ_μ above that window (κ + 2 max|ξ| for the hinge, 2 max|ξ|
for errors) the term is 0 before and after. The kernel keeps the list of such
"active" patterns (rebuilt on every accepted move, which is O(P) anyway), so a
rejected proposal costs O(#active) instead of O(P); inactive patterns would add
exactly 0.0 to ΔE, so the result is bit-identical to the full sum. Random
numbers come from the caller.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _energy_term(d: float, kind: int, kappa: float, power: float) -> float:
    if kind == 0:
        return 1.0 if d <= 0.0 else 0.0
    if d >= kappa:
        return 0.0
    x = kappa - d
    if power == 1.0:
        return x
    if power == 2.0:
        return x * x
    return x**power


@njit(cache=True, nogil=True)
def anneal_sweep(
    ct: np.ndarray,
    w: np.ndarray,
    delta: np.ndarray,
    sites: np.ndarray,
    coins: np.ndarray,
    beta: float,
    kind: int,
    kappa: float,
    power: float,
    window: float,
    active: np.ndarray,
) -> tuple[float, int, int, int]:
    """Propose a flip at each of ``sites`` in turn, Metropolis acceptance at ``beta``.

    ``ct`` is (N, P) with ct[i, μ] = σ^μ ξ_i^μ; ``w`` (N,) float64 ±1 and
    ``delta`` (P,) the current stabilities are updated in place. ``window`` is
    the stability above which a pattern's energy term cannot change under one
    flip (κ + 2 max|ξ| for the hinge, 2 max|ξ| for errors); ``active`` is an
    int64 work buffer of length P. The sweep stops early at the first move that
    leaves no training error. Returns (energy, errors, accepted moves,
    proposals made) after the sweep.
    """
    p = delta.shape[0]
    n_active = 0
    for mu in range(p):
        if delta[mu] <= window:
            active[n_active] = mu
            n_active += 1
    accepted = 0
    proposals = 0
    for k in range(sites.shape[0]):
        proposals += 1
        i = sites[k]
        step = -2.0 * w[i]
        de = 0.0
        for a in range(n_active):
            mu = active[a]
            d = delta[mu]
            de += _energy_term(d + step * ct[i, mu], kind, kappa, power) - _energy_term(d, kind, kappa, power)
        if de <= 0.0 or coins[k] < math.exp(-beta * de):
            w[i] = -w[i]
            n_active = 0
            errors = 0
            for mu in range(p):
                delta[mu] += step * ct[i, mu]
                if delta[mu] <= window:
                    active[n_active] = mu
                    n_active += 1
                if delta[mu] <= 0.0:
                    errors += 1
            accepted += 1
            if errors == 0:
                break
    energy = 0.0
    errors = 0
    for mu in range(p):
        energy += _energy_term(delta[mu], kind, kappa, power)
        if delta[mu] <= 0.0:
            errors += 1
    return energy, errors, accepted, proposals
