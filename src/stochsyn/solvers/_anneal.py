"""Numba kernel for simulated annealing on binary perceptron weights.

Single-flip Metropolis moves at inverse temperature β on an energy that is a
sum over patterns of e(Δ_μ), Δ_μ = σ^μ Σ_i w_i ξ_i^μ:

* kind 0, "errors": e(Δ) = [Δ ≤ 0] (the number of training errors);
* kind 1, "hinge":  e(Δ) = max(0, κ − Δ) (stability based; zero iff Δ ≥ κ).

The stabilities Δ are kept up to date incrementally: flipping w_i changes
every Δ_μ by −2 w_i σ^μ ξ_i^μ, so a proposal costs O(P) and a sweep of N
proposals O(PN). Random numbers come from the caller.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _energy_term(d: float, kind: int, kappa: float) -> float:
    if kind == 0:
        return 1.0 if d <= 0.0 else 0.0
    return kappa - d if d < kappa else 0.0


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
) -> tuple[float, int, int]:
    """Propose a flip at each of ``sites`` in turn, Metropolis acceptance at ``beta``.

    ``ct`` is (N, P) with ct[i, μ] = σ^μ ξ_i^μ; ``w`` (N,) float64 ±1 and
    ``delta`` (P,) the current stabilities are updated in place. Returns
    (energy, errors, accepted moves) after the sweep.
    """
    p = delta.shape[0]
    accepted = 0
    for k in range(sites.shape[0]):
        i = sites[k]
        step = -2.0 * w[i]
        de = 0.0
        for mu in range(p):
            d = delta[mu]
            de += _energy_term(d + step * ct[i, mu], kind, kappa) - _energy_term(d, kind, kappa)
        if de <= 0.0 or coins[k] < math.exp(-beta * de):
            w[i] = -w[i]
            for mu in range(p):
                delta[mu] += step * ct[i, mu]
            accepted += 1
    energy = 0.0
    errors = 0
    for mu in range(p):
        energy += _energy_term(delta[mu], kind, kappa)
        if delta[mu] <= 0.0:
            errors += 1
    return energy, errors, accepted
