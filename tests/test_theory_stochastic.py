"""Tests of stochsyn.theory.stochastic_measure (β → ∞ RS of the CLT loss at fixed polarization)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import log_ndtr

from stochsyn.theory.gaussian import GH
from stochsyn.theory.stochastic_measure import (
    clt_loss,
    stochastic_energy_curve,
    stochastic_functional,
    stochastic_ground_state,
)


def _direct_minimum(n: int, alpha: float, q0: float, seed: int):
    """Minimize Σ_μ ℓ(λ^μ) over m ∈ [−1,1]^N with |m|² = N q0 by projected gradient (independent route)."""
    rng = np.random.default_rng(seed)
    X = rng.choice([-1.0, 1.0], size=(int(round(alpha * n)), n))  # σ^μ ξ^μ
    s = math.sqrt(1 - q0)

    def project(v):
        f = lambda la: float(np.mean(np.clip(math.exp(la) * v, -1, 1) ** 2)) - q0  # noqa: E731
        return np.clip(math.exp(brentq(f, -30, 30, xtol=1e-13)) * v, -1, 1)

    m = project(rng.standard_normal(n))
    for _ in range(5000):
        lam = X @ m / math.sqrt(n)
        grad = X.T @ (-GH(-lam / s) / s) / math.sqrt(n)
        new = project(m - 0.5 * grad)
        done = np.max(np.abs(new - m)) < 1e-11
        m = new
        if done:
            break
    lam = X @ m / math.sqrt(n)
    energy = -float(log_ndtr(lam / s).sum()) / n
    w = np.where(m >= 0, 1.0, -1.0)
    return energy, float(np.mean(X @ w <= 0)), float(np.mean(np.abs(m)))


def test_saddle_is_stationary_point_of_functional():
    st = stochastic_ground_state(0.4, 0.6)
    assert st.report.converged
    base = dict(A=st.A, hhat=st.hhat, chi=st.chi)
    assert stochastic_functional(0.4, 0.6, **base) == pytest.approx(-st.energy, abs=1e-9)
    for k in base:
        h = 1e-6 * max(1.0, abs(base[k]))
        up, dn = dict(base), dict(base)
        up[k] += h
        dn[k] -= h
        grad = (stochastic_functional(0.4, 0.6, **up) - stochastic_functional(0.4, 0.6, **dn)) / (2 * h)
        assert abs(grad) < 1e-6, k


def test_small_polarization_limit():
    # q0 → 0: m → 0, every pattern costs ℓ(0) = ln 2
    st = stochastic_ground_state(0.5, 1e-6)
    assert st.loss_per_pattern == pytest.approx(math.log(2), abs=2e-3)
    assert clt_loss(np.array([0.0]), 0.3)[0] == pytest.approx(math.log(2))


def test_energy_and_sign_error_decrease_with_polarization():
    sts = stochastic_energy_curve(0.5, [0.2, 0.5, 0.8])
    e = [s.energy for s in sts]
    err = [s.train_error_sign for s in sts]
    assert e[0] > e[1] > e[2] > 0
    assert err[0] > err[1] > err[2] >= 0
    assert all(0 < s.frac_polarized < 1 for s in sts)


def test_agrees_with_direct_minimization():
    alpha, q0 = 0.5, 0.4
    st = stochastic_ground_state(alpha, q0)
    runs = np.array([_direct_minimum(801, alpha, q0, seed) for seed in range(6)])
    e, err, rho = runs.mean(axis=0)
    assert e == pytest.approx(st.energy, abs=0.01)
    assert err == pytest.approx(st.train_error_sign, abs=0.015)
    assert rho == pytest.approx(st.rho, abs=0.01)


def test_rejects_bad_polarization():
    with pytest.raises(ValueError, match="q0"):
        stochastic_ground_state(0.5, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        stochastic_ground_state(0.0, 0.5)
