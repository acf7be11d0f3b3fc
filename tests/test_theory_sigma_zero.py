"""Tests of stochsyn.theory.sigma_zero: the Σ(y*) = 0 large-deviation point and the reference's constraint."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stochsyn.theory.gaussian import H
from stochsyn.theory.large_y import local_entropy_free_reference_y
from stochsyn.theory.sigma_zero import reference_constraint, sigma_zero_point


@pytest.fixture(scope="module")
def point():
    return sigma_zero_point(0.5, 0.05, y_guess=20.0)


def test_sigma_vanishes_and_s_star_is_the_minimum_of_phi_over_y(point):
    """At y*: Σ = 0, S_I = Φ/y*; and Φ(y)/y is larger on both sides (d(Φ/y)/dy = −Σ/y²)."""
    p = point
    assert 20.0 < p.y_star < 23.0  # docs/theory.md §7: Σ changes sign near y ≈ 22 at α = 0.5, d = 0.05
    r = local_entropy_free_reference_y(0.5, 0.05, p.y_star, start=p.order, n_panel=6, du=0.04)
    assert abs(r.external_entropy) < 1e-5
    assert r.local_entropy == pytest.approx(p.local_entropy, abs=1e-6)
    for y in (p.y_star - 4.0, p.y_star + 4.0):
        ry = local_entropy_free_reference_y(0.5, 0.05, y, start=p.order, n_panel=6, du=0.04)
        assert ry.free_entropy / y > p.local_entropy + 1e-5


def test_slope_of_s_star_is_twice_shat(point):
    """dS*/dd = 2Ŝ along the Σ = 0 branch (envelope theorem), by a central difference in d."""
    h = 0.002
    up = sigma_zero_point(0.5, 0.05 + h, start=point.order, y_guess=point.y_star)
    dn = sigma_zero_point(0.5, 0.05 - h, start=point.order, y_guess=point.y_star)
    assert (up.local_entropy - dn.local_entropy) / (2 * h) == pytest.approx(2 * point.Shat, rel=2e-3)
    assert up.local_entropy > point.local_entropy > dn.local_entropy


def test_reference_is_almost_a_solution_at_half_capacity(point):
    """At α = 0.5 the free reference violates ~1e-5 of the patterns, so the constraint barely moves S*."""
    assert 0 < point.p_viol < 1e-3
    assert 0 <= point.local_entropy - point.constrained_local_entropy < 1e-5


def test_reference_constraint_without_tilt_is_the_bare_gaussian():
    """As y → 0 the group carries no information on the reference: P_viol = H(−κ)… i.e. P(λ̃ < κ)."""
    for kappa in (0.0, 0.5):
        pv, _ = reference_constraint(0.5, kappa, 0.9, 1e-8, 0.8, 0.74, 0.9, 0.7)
        assert pv == pytest.approx(1.0 - float(H(kappa)), abs=1e-6)


def test_reference_constraint_against_monte_carlo():
    """P_viol at y = 2 against sampling the stabilities of the module docstring's decomposition."""
    alpha, kappa, S, y, Q, t, q1, q0 = 0.7, 0.0, 0.9, 2.0, 0.8, 0.74, 0.9, 0.7
    pv, dG = reference_constraint(alpha, kappa, S, y, Q, t, q1, q0)
    rng = np.random.default_rng(0)
    n_out, n_in = 400, 20000
    cov = np.array([[Q, t], [t, q0]])
    c = rng.multivariate_normal([0.0, 0.0], cov, size=n_out)
    sq, rho = math.sqrt(1 - Q), (S - t) / math.sqrt(1 - Q)
    sw = math.sqrt(q1 - q0 - rho * rho)
    u = rng.standard_normal((n_out, n_in))
    w = rng.standard_normal((n_out, n_in))
    weight = H((kappa - c[:, 1:2] - rho * u - sw * w) / math.sqrt(1 - q1)) ** y
    viol = (c[:, 0:1] + sq * u) < kappa
    ratio = np.sum(weight * viol, axis=1) / np.sum(weight, axis=1)
    assert pv == pytest.approx(float(np.mean(ratio)), abs=4 * float(np.std(ratio)) / math.sqrt(n_out) + 2e-3)
    assert dG <= math.log(1 - pv) + 1e-12  # Jensen: E ln(1 − p) ≤ ln(1 − E p)


def test_errors():
    with pytest.raises(ValueError):
        sigma_zero_point(0.5, 0.05, y_bracket=(10.0, 5.0))
    with pytest.raises(ValueError):
        sigma_zero_point(0.5, 0.7)


def test_intact_needs_one_increasing_branch(point):
    """A curve is intact only if every point exists, lies on the first branch and S*_c increases."""
    import dataclasses

    from stochsyn.theory.sigma_zero import _intact

    ds = np.array([0.04, 0.05, 0.06])
    pts = [dataclasses.replace(point, d=float(dv), constrained_local_entropy=0.1 + dv) for dv in ds]
    assert _intact(pts, ds)[0]
    assert not _intact([None] + pts[1:], ds)[0]
    assert "ends above d = 0.04" in _intact([dataclasses.replace(pts[0], branch=1)] + pts[1:], ds)[1]
    flat = pts[:2] + [dataclasses.replace(pts[2], constrained_local_entropy=0.1)]
    assert "decreases" in _intact(flat, ds)[1]


def test_cli_sigma0_table():
    """``stochsyn theory local-entropy --y sigma0`` prints one JSON row per (α, d) with y*, S*, S*_c."""
    import contextlib
    import io
    import json

    from stochsyn.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["theory", "local-entropy", "--y", "sigma0", "--alpha", "0.5", "--d", "0.05", "--json"]) == 0
    rows = json.loads(out.getvalue())
    assert len(rows) == 1 and rows[0]["branch"] == 0
    assert 20 < rows[0]["y_star"] < 23 and rows[0]["local_entropy"] == pytest.approx(0.16175, abs=2e-5)
