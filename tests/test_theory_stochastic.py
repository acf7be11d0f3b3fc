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


# ---------------------------------------------------------------- local entropy around sign(m*)

from stochsyn.theory.franz_parisi import franz_parisi  # noqa: E402
from stochsyn.theory.stochastic_franz_parisi import (  # noqa: E402
    _SignRefModel,
    sign_reference_functional,
    sign_reference_local_entropy,
)


@pytest.fixture(scope="module")
def sign_curve():
    return sign_reference_local_entropy(0.5, 0.8, np.array([0.001, 0.01, 0.05]), max_step=0.5)


def test_sign_reference_free_point_is_gardner(sign_curve):
    # unconstrained solutions (x̂ = 0): V is the Gardner entropy, its maximum over d
    ref = sign_curve.reference
    assert sign_curve.free_entropy == pytest.approx(ref.entropy, abs=1e-9)
    assert np.all(sign_curve.entropy[np.isfinite(sign_curve.entropy)] < ref.entropy)
    assert 0.0 < sign_curve.free_distance < ref.typical_distance


def test_sign_reference_is_stationary(sign_curve):
    i = 2  # d = 0.05
    o = {k: float(v[i]) for k, v in sign_curve.order.items()}
    model = _SignRefModel(sign_curve.stochastic_reference, 0.0, 61, 24)
    args = dict(q1=o["q1"], r0=o["r0"], dr=o["dr"], p=o["p"], qh1=o["qhat1"], rh=o["rhohat"],
                drh=o["drhat"], xh=o["xhat"])
    assert sign_reference_functional(model, **args) == pytest.approx(sign_curve.entropy[i], abs=1e-12)
    for k in ("q1", "r0", "dr", "qh1", "rh", "drh", "xh"):
        a, b = dict(args), dict(args)
        a[k] += 1e-6
        b[k] -= 1e-6
        grad = (sign_reference_functional(model, **a) - sign_reference_functional(model, **b)) / 2e-6
        assert abs(grad) < 1e-6, k


def test_sign_reference_denser_than_typical_and_edge(sign_curve):
    # the paper's claim: around sign(m*) the local entropy at small d exceeds
    # that around typical (isolated) solutions
    fp = franz_parisi(0.5, np.array([0.01]), max_step=0.5)
    assert sign_curve.converged[1]
    assert sign_curve.entropy[1] > fp.entropy[0] + 0.02
    # closer than the nearest solutions the RS saddle disappears: V = -inf (or flagged NaN)
    assert not sign_curve.converged[0]
    assert not np.isfinite(sign_curve.entropy[0]) or sign_curve.entropy[0] < 0
