"""Tests of stochsyn.theory.dense_limit: maximal (y → ∞) local entropy and the break-up α."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from stochsyn.theory.dense_limit import (DenseLimitModel, LIMIT_ORDER, binary_entropy, cluster_onset_alpha,
                                         cluster_state, local_entropy_max, local_entropy_max_curve, slope_minimum)
from stochsyn.theory.franz_parisi import franz_parisi
from stochsyn.theory.local_entropy import local_entropy_dense
from stochsyn.theory.saddle import SaddlePointError


@pytest.fixture(scope="module")
def point():
    return local_entropy_max(0.5, 0.05)


def test_converges_and_is_stationary(point):
    """The saddle point is a stationary point of the y → ∞ functional in all five parameters."""
    assert point.converged and point.report.residual < 1e-10
    m = DenseLimitModel(0.5, 0.0, 0.9)
    p = np.array([point.order[k] for k in LIMIT_ORDER])
    assert m.value(p) == pytest.approx(point.local_entropy, abs=1e-14)
    for i, k in enumerate(LIMIT_ORDER):
        h = 1e-6 * max(abs(p[i]), 1e-2)
        e = np.zeros(5)
        e[i] = h
        deriv = (m.value(p + e) - m.value(p - e)) / (2 * h)
        assert abs(deriv) < 1e-7, (k, deriv)


def test_quadrature_refinement(point):
    fine = local_entropy_max(0.5, 0.05, n_half=24, n_gh=151, start=point.order)
    assert fine.local_entropy == pytest.approx(point.local_entropy, abs=1e-8)


def test_default_of_local_entropy_dense_is_the_limit(point):
    r = local_entropy_dense(0.5, 0.05)
    assert r.y == np.inf and r.entropy == pytest.approx(point.local_entropy, abs=1e-12)
    assert r.as_dict()["y"] == "inf"


def test_slope_is_twice_X(point):
    """Envelope theorem: dS_∞/dd = 2X."""
    h = 1e-5
    up = local_entropy_max(0.5, 0.05 + h, start=point.order).local_entropy
    dn = local_entropy_max(0.5, 0.05 - h, start=point.order).local_entropy
    assert (up - dn) / (2 * h) == pytest.approx(2 * point.order["X"], rel=1e-6)


def test_small_distance_limit():
    """d → 0: S_∞ → 0 from above, and the whole small ball is made of solutions (S_∞ → H2(d))."""
    ds = np.array([0.001, 0.003, 0.01])
    s = np.array([r.local_entropy for r in local_entropy_max_curve(0.5, ds)])
    assert np.all(s > 0) and np.all(s <= binary_entropy(ds) + 1e-12)
    assert s[0] == pytest.approx(binary_entropy(0.001), rel=1e-9)
    assert np.all(np.diff(s) > 0)


def test_small_load_limit():
    """α → 0: every configuration is a solution, S_∞ → H2(d) = −d ln d − (1−d) ln(1−d)."""
    gaps = [binary_entropy(0.3) - local_entropy_max(a, 0.3).local_entropy for a in (0.05, 0.01)]
    assert 0 <= gaps[1] < gaps[0] and gaps[1] < 1e-5


def test_dense_regions_beat_typical_and_are_monotonic_well_below_breakup():
    """α = 0.5: S_∞(d) > 0, increasing, above the Franz–Parisi curve and below H2(d)."""
    ds = np.array([0.01, 0.02, 0.05, 0.1])
    curve = local_entropy_max_curve(0.5, ds)
    s = np.array([r.local_entropy for r in curve])
    assert np.all(s > 0) and np.all(np.diff(s) > 0) and all(r.order["X"] > 0 for r in curve)
    fp = franz_parisi(0.5, ds[1:], n_quad=31, check_tol=None).entropy
    assert np.all(s[1:] > fp) and np.all(s < binary_entropy(ds))


def test_limit_is_above_and_consistent_with_finite_y():
    """S_∞ ≥ S_I(y) and the finite-y gap closes like 1/y.

    S_I(y) at α = 0.5, d = 0.05 for y = 2..5 are the finite-y solver's values
    (docs/theory.md §6 table, n_outer 16, n_inner 14, n_panel 6; y = 2 is
    recomputed in tests/test_theory_local_entropy.py). y (S_∞ − S_I(y)) must be
    positive, increasing and level off (a 1/y approach), not grow like y.
    """
    s_y = {2: 0.116883, 3: 0.126336, 4: 0.133576, 5: 0.139191}
    s_inf = local_entropy_max(0.5, 0.05).local_entropy
    scaled = np.array([y * (s_inf - v) for y, v in s_y.items()])
    assert np.all(scaled > 0)
    steps = np.diff(scaled)
    assert np.all(steps > 0) and np.all(steps[1:] < 0.5 * steps[:-1])


def test_breakup_bracket():
    """Monotonic at α = 0.74 (min X > 0), broken at α = 0.77; and at α = 0.78 the small-d X > 0 branch
    ends higher than where the large-d one starts, so the latter is subdominant there to the plateau
    at the X = 0 cluster state (docs/theory.md §7)."""
    ok, mx, dstar = slope_minimum(0.74, n_grid=12)
    assert ok and 0.05 < mx < 0.2 and 0.01 < dstar < 0.04
    ok, mx, _ = slope_minimum(0.77, n_grid=12)
    assert not ok and np.isnan(mx)
    a, b = local_entropy_max_curve(0.78, [0.01, 0.04], plateau=False)
    assert a.local_entropy > b.local_entropy
    plateau = cluster_state(0.78)
    assert plateau.entropy > a.local_entropy > b.local_entropy
    # by default the curve takes the plateau where it dominates (d >= d0), in the library,
    # so library callers and the CLI get the same S(d)
    pa, pb = local_entropy_max_curve(0.78, [0.005, 0.04])
    assert not pa.plateau and pb.plateau and pb.local_entropy == plateau.entropy
    assert pb.branch_local_entropy == pytest.approx(b.local_entropy, abs=1e-9) and pb.converged
    with pytest.raises(SaddlePointError):
        local_entropy_max(0.78, 0.02)


def test_cluster_state_is_a_saddle_point_and_ends_the_small_d_branch():
    """At α = 0.76 the X = 0 equations have two solutions, stationary points of the functional in
    (q1, δq, q̂0, δ); the small-d branch of X > 0 saddle points runs into the first one (X → 0,
    S_∞ → φ0 from below) and there is no X > 0 saddle point just beyond its d0."""
    a = cluster_state(0.76)
    b = cluster_state(0.76, start={"q1": 0.88, "dq": 0.8})
    assert a.report.converged and b.report.converged
    assert a.d0 < b.d0 and a.entropy > b.entropy
    m = DenseLimitModel(0.76, 0.0, 0.5)  # S is irrelevant at X = 0
    p = np.array([a.order[k] for k in LIMIT_ORDER])
    assert m.value(p) == pytest.approx(a.entropy, abs=1e-14)
    for i in range(4):
        e = np.zeros(5)
        e[i] = h = 1e-6 * p[i]
        assert abs(m.value(p + e) - m.value(p - e)) / (2 * h) < 1e-7, LIMIT_ORDER[i]
    r = local_entropy_max(0.76, a.d0 - 5e-4)
    assert r.order["X"] < 0.03 and a.entropy - 1e-4 < r.local_entropy < a.entropy
    with pytest.raises(SaddlePointError):
        local_entropy_max(0.76, 0.5 * (a.d0 + b.d0))
    with pytest.raises(SaddlePointError):
        cluster_state(0.75)


def test_cluster_onset_is_the_breakup_alpha():
    """The fold of the X = 0 equations gives the break-up α found by scanning X(d)
    (docs/theory.md §7: bisection bracket 0.75527–0.75547, d* ≈ 0.0207)."""
    alpha_u, state = cluster_onset_alpha(bracket=(0.74, 0.78), xtol=1e-5)
    assert 0.7550 < alpha_u < 0.7556
    assert 0.019 < state.d0 < 0.022
    with pytest.raises(ValueError, match="bracket="):
        cluster_onset_alpha(bracket=(0.70, 0.74))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="d="):
        local_entropy_max(0.5, 0.7)
    with pytest.raises(ValueError, match="alpha="):
        local_entropy_max(-0.1, 0.1)
    with pytest.raises(TypeError, match="n_gh="):
        local_entropy_max(0.5, 0.1, n_gh=10.5)


def test_cli_limit_table_and_json(tmp_path):
    from stochsyn.cli import main

    png = tmp_path / "le.png"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["theory", "local-entropy", "--alpha", "0.5,0.78", "--d", "0.01,0.02,0.05", "--json",
                     "--plot", str(png)]) == 0
    rows = json.loads(out.getvalue())
    assert [(r["alpha"], r["d"]) for r in rows] == [(a, d) for a in (0.5, 0.78) for d in (0.01, 0.02, 0.05)]
    assert all(r["y"] == "inf" for r in rows if r["saddle"]["converged"])
    conv = {(r["alpha"], r["d"]): r["saddle"]["converged"] for r in rows}
    assert all(conv.values())
    plateau = {(r["alpha"], r["d"]): bool(r["saddle"].get("plateau")) for r in rows}
    # beyond α_U: no X > 0 saddle point at d = 0.02, a subdominant one at 0.05 -> the cluster plateau
    assert plateau == {(0.5, 0.01): False, (0.5, 0.02): False, (0.5, 0.05): False,
                       (0.78, 0.01): False, (0.78, 0.02): True, (0.78, 0.05): True}
    by = {(r["alpha"], r["d"]): r for r in rows}
    assert by[(0.78, 0.02)]["local_entropy"] == by[(0.78, 0.05)]["local_entropy"] == pytest.approx(0.031615, abs=1e-5)
    assert by[(0.78, 0.05)]["saddle"]["branch_local_entropy"] < by[(0.78, 0.05)]["local_entropy"]
    assert png.stat().st_size > 0
    assert main(["theory", "local-entropy", "--y", "two"]) == 2


def _finite_y_phi_free(alpha, S, y, od, kappa=0.0):
    """Φ(y) of the free-reference measure (exact k-sum form, module free_reference) on fine grids.

    Uniform grids instead of Gauss–Hermite: at large y the reference's choice
    switches within |z| ~ 1/y and the W clouds' common shift A is a sharp
    large-deviation peak, both of which a fixed Hermite rule cannot resolve.
    """
    from scipy.special import gammaln, logsumexp

    from stochsyn.theory.gaussian import G, gauss_hermite, log_H

    k = np.arange(y + 1)
    m = (y - 2 * k).astype(float)
    logc = gammaln(y + 1) - gammaln(k + 1) - gammaln(y - k + 1)
    z = np.linspace(-11, 11, 44001)
    wz = (z[1] - z[0]) * G(z)
    dh = od["qhat1"] - od["qhat0"]
    a = np.sqrt(od["qhat0"]) * z
    parts = [logsumexp(logc + m * (a[:, None] + od["Shat"] * w) + 0.5 * m * m * dh, axis=1) for w in (1, -1)]
    gs = float(np.sum(wz * np.logaddexp(parts[0], parts[1])))
    ze, we = gauss_hermite(80)
    q1, q0 = od["q1"], od["q0"]
    sg = np.sqrt(q1 - q0)
    A = np.linspace(-4, 8, 24001)
    log_wa = np.log((A[1] - A[0]) / sg) - 0.5 * (A / sg) ** 2 - 0.5 * np.log(2 * np.pi)
    x = (kappa - np.sqrt(q0) * ze[:, None] - A[None, :]) / np.sqrt(1 - q1)
    ge = float(np.sum(we * logsumexp(y * log_H(x) + log_wa, axis=1)))
    return (-y * od["Shat"] * S - 0.5 * y * (y - 1) * od["qhat1"] * q1 - 0.5 * y * od["qhat1"]
            + 0.5 * y * y * od["qhat0"] * q0 + gs + alpha * ge)


def test_laplace_limit_of_the_finite_y_functional(point):
    """Φ(y)/y at the scaled limit parameters (q0 = q1 − δq/y, q̂1 = q̂0 + δ/y, Ŝ = X) → S_∞."""
    o = point.order
    errs = []
    for y in (20, 80, 160):
        od = {"q1": o["q1"], "q0": o["q1"] - o["dq"] / y, "qhat0": o["qhat0"],
              "qhat1": o["qhat0"] + o["delta"] / y, "Shat": o["X"]}
        errs.append(abs(_finite_y_phi_free(0.5, 0.9, y, od) / y - point.local_entropy))
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-3


def test_free_reference_sequence_approaches_the_limit(point):
    """Free-reference finite-y saddle points (y = 4, 8) move towards the y → ∞ one and stay below S_∞."""
    from stochsyn.theory.free_reference import local_entropy_free_reference

    o = point.order
    r4 = local_entropy_free_reference(0.5, 0.05, y=4)
    r8 = local_entropy_free_reference(0.5, 0.05, y=8, start=r4.order)
    assert r4.report.converged and r8.report.converged
    assert r4.local_entropy < r8.local_entropy < point.local_entropy

    def dist(r):
        y = r.y
        return np.array([abs(r.order["q1"] - o["q1"]), abs(r.order["qhat0"] - o["qhat0"]),
                         abs(y * (r.order["qhat1"] - r.order["qhat0"]) - o["delta"]),
                         abs(y * (r.order["q1"] - r.order["q0"]) - o["dq"])])

    assert np.all(dist(r8) < dist(r4))


def test_reference_is_a_solution_where_the_dense_regions_are():
    """The optimal reference (sign of its cloud) violates no pattern at small d — so the constrained
    measure (reference a solution) has the same S_∞ there — but does at large d (then S_∞ is an
    upper bound for it). The quadrature agrees with a direct sampling of the same stability."""
    import math

    small = local_entropy_max_curve(0.75, [0.01, 0.02])
    assert all(r.order["center_violation"] < 1e-6 for r in small)
    big = [r.order["center_violation"] for r in local_entropy_max_curve(0.5, [0.05, 0.1, 0.2])]
    assert big[0] < 1e-12 < 1e-5 < big[1] < big[2]
    r = local_entropy_max(0.7, 0.05)
    o = r.order
    S = 0.9
    rng = np.random.default_rng(0)
    n = 200_000
    z = rng.standard_normal(n)
    c = S * z + math.sqrt(o["q1"] - S * S) * rng.standard_normal(n)
    m = DenseLimitModel(0.7, 0.0, S)
    m.ze = c / math.sqrt(o["q1"])
    A, _ = m.pattern_field(o["q1"], o["dq"])
    p_mc = float(np.mean(z + o["dt"] / o["dq"] * A < 0))
    assert abs(p_mc - o["center_violation"]) < 4 * math.sqrt(o["center_violation"] / n)


def test_large_distance_end_is_gardner_entropy():
    """As X → 0 (δ, δq → 0) the functional is Gardner's: S_∞ reaches φ(α) at
    d_end = (1 − ∫Dz |tanh(√q̂_G z)|)/2 (the ball around the best centre holds all solutions)."""
    from stochsyn.theory.gardner import gardner_entropy

    g = gardner_entropy(0.5)
    half = DenseLimitModel(0.5, 0.0, 0.5)  # its half-line rule: ∫Dz f(|z|) without the kink error
    d_end = 0.5 * (1 - float(np.sum(half.wh * np.tanh(np.sqrt(g.qhat) * half.zh))))
    r = local_entropy_max(0.5, 0.24)
    r = local_entropy_max(0.5, d_end - 1e-3, start=r.order)
    assert r.order["X"] < 0.01 and r.order["q1"] == pytest.approx(g.q, abs=2e-3)
    assert r.local_entropy == pytest.approx(g.entropy, abs=1e-5) and r.local_entropy < g.entropy
    with pytest.raises(SaddlePointError):
        local_entropy_max(0.5, d_end + 5e-3)


def test_margin_lowers_the_local_entropy():
    """κ > 0 (satellites with margin) converges and gives a lower S_∞ than κ = 0."""
    r0 = local_entropy_max(0.5, 0.05)
    r1 = local_entropy_max(0.5, 0.05, kappa=0.2)
    assert r1.converged and 0 < r1.local_entropy < r0.local_entropy
