"""Replicon eigenvalue of the Gardner RS saddle point (theory.stability)."""

import numpy as np
import pytest
from scipy.special import log_ndtr

from stochsyn.theory import capacity, gardner_at_line, gardner_entropy, gardner_replicon
from stochsyn.theory.gaussian import GH, dGH


def test_at_line_at_zero_margin_matches_gardner_derrida():
    # Gardner & Derrida (1988): α_AT ≈ 1.015 for the binary perceptron at κ = 0.
    assert gardner_at_line(0.0) == pytest.approx(1.0146, abs=1e-3)


@pytest.mark.parametrize("kappa", [-0.5, 0.0, 0.5])
def test_rs_is_stable_over_the_whole_sat_phase(kappa):
    ac = capacity(kappa)
    assert gardner_at_line(kappa) > ac
    assert gardner_replicon(ac, kappa).stable
    assert gardner_replicon(0.5 * ac, kappa).eigenvalue > gardner_replicon(ac, kappa).eigenvalue


def test_replicon_vanishes_at_the_at_line_and_changes_sign():
    a = gardner_at_line(0.25)
    assert abs(gardner_replicon(a, 0.25).eigenvalue) < 1e-8
    assert not gardner_replicon(1.05 * a, 0.25).stable


@pytest.mark.parametrize("kappa", [0.0, 0.7])
def test_small_load_limit(kappa):
    # As α → 0: q → 0, q̂ → 0, γ_S → 1 and γ_E → (∂²_h ln H(κ − h))² at h = 0 = GH'(κ)².
    alpha = 1e-4
    r = gardner_replicon(alpha, kappa)
    assert (1.0 - r.eigenvalue) / alpha == pytest.approx(dGH(np.array(kappa)) ** 2, rel=2e-2)


def test_energetic_factor_is_the_squared_second_derivative_of_ln_h():
    # Finite differences of ln H((κ − h)/√(1 − q)) in h against the closed form GH'(x)/(1 − q).
    q, kappa, h, eps = 0.4, 0.3, 0.2, 1e-4

    def lnh(hh):
        return float(log_ndtr(-(kappa - hh) / np.sqrt(1 - q)))

    fd = (lnh(h + eps) - 2 * lnh(h) + lnh(h - eps)) / eps**2
    x = (kappa - h) / np.sqrt(1 - q)
    assert fd == pytest.approx(-float(dGH(np.array(x))) / (1 - q), rel=1e-5)
    assert float(dGH(np.array(x))) == pytest.approx(float(GH(np.array(x)) * (GH(np.array(x)) - x)), rel=1e-10)


def test_replicon_uses_the_rs_saddle_point():
    st = gardner_entropy(0.6, 0.0)
    r = gardner_replicon(0.6, 0.0)
    assert (r.q, r.qhat) == (st.q, st.qhat)
    assert 0 < r.gamma_entropic < 1 and r.gamma_energetic > 0
    assert r.as_dict()["stable"] is True


def test_bad_inputs_are_clean_errors():
    with pytest.raises(ValueError):
        gardner_replicon(0.0)
    with pytest.raises(ValueError):
        gardner_replicon(float("nan"))
