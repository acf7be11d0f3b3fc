"""Tests of stochsyn.theory: quadrature, saddle solver, Gardner, teacher–student, Franz–Parisi.

Independent routes: adaptive quadrature (scipy.integrate.quad) with a
root-finder for the saddle point, small-α expansions, exact limits, and
finite-difference stationarity of the RS functionals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, special

from stochsyn.theory import gaussian as gs
from stochsyn.theory.franz_parisi import franz_parisi, franz_parisi_functional
from stochsyn.theory.gardner import capacity, gardner_entropy, gardner_free_entropy
from stochsyn.theory.saddle import SaddlePointError, fixed_point
from stochsyn.theory.teacher_student import (
    perfect_generalization_threshold,
    teacher_student_free_entropy,
    teacher_student_gibbs,
)

# ---------------------------------------------------------------- independent adaptive-quadrature route


def _dz(f, lo=-12.0, hi=12.0):
    """∫Dz f(z) by adaptive quadrature (independent of Gauss–Hermite)."""
    val, _ = integrate.quad(lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi) * f(z), lo, hi,
                            epsabs=1e-13, epsrel=1e-12, limit=200)
    return val


def _logH(x):
    return float(special.log_ndtr(-x))


def _GH(x):
    return math.exp(-x * x / 2 - 0.5 * math.log(2 * math.pi) - _logH(x))


def _gardner_quad(alpha, kappa):
    """Gardner saddle point by quad + Brent on q (no fixed-point iteration, no Gauss–Hermite)."""
    def qhat_of(q):
        return alpha / (1 - q) * _dz(lambda z: _GH((kappa - math.sqrt(q) * z) / math.sqrt(1 - q)) ** 2)

    def resid(q):
        qh = qhat_of(q)
        return _dz(lambda z: math.tanh(math.sqrt(qh) * z) ** 2) - q

    q = optimize.brentq(resid, 1e-9, 0.97, xtol=1e-14)
    qh = qhat_of(q)
    phi = (-qh * (1 - q) / 2 + _dz(lambda z: math.log(2 * math.cosh(math.sqrt(qh) * z)))
           + alpha * _dz(lambda z: _logH((kappa - math.sqrt(q) * z) / math.sqrt(1 - q))))
    return q, qh, phi


# ---------------------------------------------------------------- gaussian helpers


def test_gauss_hermite_moments_and_stable_ratios():
    x, w = gs.gauss_hermite(41)
    assert w.sum() == pytest.approx(1.0, abs=1e-14)
    assert np.dot(w, x**2) == pytest.approx(1.0, abs=1e-13)
    assert np.dot(w, x**4) == pytest.approx(3.0, abs=1e-12)
    # GH(x) ~ x + 1/x for large x, finite where H underflows
    big = np.array([50.0, 200.0])
    assert np.allclose(gs.GH(big), big + 1 / big, rtol=1e-6)
    assert np.all(np.isfinite(gs.log_H(np.array([60.0, -60.0]))))
    # derivative formula against a central difference
    xs = np.linspace(-6, 12, 19)
    fd = (gs.GH(xs + 1e-5) - gs.GH(xs - 1e-5)) / 2e-5
    assert np.allclose(gs.dGH(xs), fd, atol=1e-7)


def test_truncated_normal_rule_matches_closed_forms():
    lower = np.array([-4.0, -1.0, 0.0, 1.5, 8.0])
    u, w = gs.truncated_normal_nodes(lower)
    assert np.allclose(w.sum(-1), 1.0, atol=1e-12)
    # E[u | u > a] = GH(a); E[u^2 | u > a] = 1 + a GH(a)
    assert np.allclose((w * u).sum(-1), gs.GH(lower), rtol=1e-11)
    assert np.allclose((w * u * u).sum(-1), 1 + lower * gs.GH(lower), rtol=1e-10)


# ---------------------------------------------------------------- saddle solver


def test_fixed_point_converges_and_reports():
    rep = fixed_point(lambda x: np.cos(x), [0.0], damping=0.3, tol=1e-13)
    assert rep.converged and rep.residual < 1e-13
    assert rep.x[0] == pytest.approx(0.7390851332151607, abs=1e-12)
    with pytest.raises(SaddlePointError) as ei:
        fixed_point(lambda x: 2 * x + 1, [0.0], damping=0.0, max_iter=50)
    assert not ei.value.report.converged
    with pytest.raises(ValueError, match="damping"):
        fixed_point(np.cos, [0.0], damping=1.0)


# ---------------------------------------------------------------- Gardner


def test_capacity_kappa0_krauth_mezard():
    assert capacity(0.0) == pytest.approx(0.8331, abs=1e-3)


@pytest.mark.parametrize("alpha,kappa", [(0.3, 0.5), (0.6, -0.3), (0.8, 0.0)])
def test_gardner_matches_adaptive_quadrature(alpha, kappa):
    st = gardner_entropy(alpha, kappa)
    q, qh, phi = _gardner_quad(alpha, kappa)
    assert st.report.converged
    assert st.q == pytest.approx(q, abs=1e-8)
    assert st.qhat == pytest.approx(qh, abs=1e-7)
    assert st.entropy == pytest.approx(phi, abs=1e-9)


def test_capacity_with_margin_matches_adaptive_quadrature():
    kappa = 0.5
    ac_quad = optimize.brentq(lambda a: _gardner_quad(a, kappa)[2], 0.3, 0.6, xtol=1e-9)
    assert capacity(kappa) == pytest.approx(ac_quad, abs=1e-6)
    # larger margin, smaller capacity
    assert capacity(1.0) < capacity(0.5) < capacity(0.0) < capacity(-0.5)


@pytest.mark.parametrize("kappa", [0.0, 0.7])
def test_gardner_small_alpha_expansion(kappa):
    # φ = ln2 + α ln H(κ) − α² (G/H)^4/4 + O(α³)
    alpha = 2e-3
    st = gardner_entropy(alpha, kappa)
    c = float(gs.GH(kappa)) ** 2
    second = (st.entropy - math.log(2) - alpha * float(gs.log_H(kappa))) / alpha**2
    assert second == pytest.approx(-c * c / 4, rel=2e-2)
    assert st.q == pytest.approx(alpha * c, rel=2e-2)
    assert gardner_entropy(0.0).entropy == pytest.approx(math.log(2))


def test_gardner_saddle_is_stationary():
    st = gardner_entropy(0.6, 0.2)
    h = 1e-6
    dq = (gardner_free_entropy(st.q + h, st.qhat, 0.6, 0.2) - gardner_free_entropy(st.q - h, st.qhat, 0.6, 0.2)) / (2 * h)
    dqh = (gardner_free_entropy(st.q, st.qhat + h, 0.6, 0.2) - gardner_free_entropy(st.q, st.qhat - h, 0.6, 0.2)) / (2 * h)
    assert abs(dq) < 1e-7 and abs(dqh) < 1e-7


def test_gardner_rejects_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        gardner_entropy(-0.1)
    with pytest.raises(TypeError, match="kappa"):
        gardner_entropy(0.5, "0")


# ---------------------------------------------------------------- teacher–student


def _ts_quad(alpha):
    def qhat_of(q):
        s = math.sqrt(q)
        return alpha / (math.pi * math.sqrt(1 - q)) * _dz(lambda z: math.exp(-q * z * z / 2 - _logH(-s * z)))

    def resid(q):
        qh = qhat_of(q)
        return _dz(lambda z: math.tanh(math.sqrt(qh) * z + qh), -14, 14) - q

    # poorly-generalizing branch: the smallest root
    grid = np.linspace(1e-6, 0.95, 40)
    vals = [resid(q) for q in grid]
    i = next(k for k in range(len(grid) - 1) if vals[k] > 0 >= vals[k + 1])
    q = optimize.brentq(resid, grid[i], grid[i + 1], xtol=1e-14)
    return q, qhat_of(q)


def test_teacher_student_matches_adaptive_quadrature_and_is_stationary():
    alpha = 0.9
    st = teacher_student_gibbs(alpha)
    q, qh = _ts_quad(alpha)
    assert st.R == pytest.approx(q, abs=1e-8)
    assert st.qhat == pytest.approx(qh, abs=1e-7)
    assert st.gen_error == pytest.approx(math.acos(q) / math.pi, abs=1e-9)
    h = 1e-6
    f = teacher_student_free_entropy
    assert abs((f(st.R + h, st.qhat, alpha) - f(st.R - h, st.qhat, alpha)) / (2 * h)) < 1e-7
    assert abs((f(st.R, st.qhat + h, alpha) - f(st.R, st.qhat - h, alpha)) / (2 * h)) < 1e-7


def test_teacher_student_limits():
    st = teacher_student_gibbs(1e-3)
    assert st.R == pytest.approx(2e-3 / math.pi, rel=5e-3)  # R ≈ 2α/π
    assert st.entropy == pytest.approx(math.log(2) - 1e-3 * math.log(2), abs=1e-5)
    z = teacher_student_gibbs(0.0)
    assert z.gen_error == 0.5 and z.entropy == pytest.approx(math.log(2))


def test_perfect_generalization_threshold_gyorgyi():
    ac = perfect_generalization_threshold()
    assert ac == pytest.approx(1.245, abs=3e-3)
    assert teacher_student_gibbs(ac - 0.05).entropy > 0 > teacher_student_gibbs(ac + 0.05).entropy


# ---------------------------------------------------------------- Franz–Parisi


@pytest.fixture(scope="module")
def fp_half():
    ref = gardner_entropy(0.5)
    d0 = ref.typical_distance
    return franz_parisi(0.5, np.array([0.003, 0.03, 0.9 * d0, d0, 1.1 * d0]), max_step=0.5)


def test_franz_parisi_negative_at_small_distance(fp_half):
    assert fp_half.converged.all()
    assert fp_half.entropy[0] < 0  # d = 0.003: typical solutions are isolated
    assert fp_half.entropy[1] > 0


def test_franz_parisi_tends_to_gardner_at_typical_distance(fp_half):
    ref = fp_half.reference
    assert fp_half.entropy[3] == pytest.approx(ref.entropy, abs=1e-7)  # 41-node vs 201-node quadrature
    # maximum at d0, continuous approach from both sides
    assert fp_half.entropy[2] < ref.entropy and fp_half.entropy[4] < ref.entropy
    assert abs(fp_half.entropy[2] - ref.entropy) < 5e-3
    assert fp_half.order["q1"][3] == pytest.approx(ref.q, abs=1e-7)


def test_franz_parisi_stationary_and_quadrature_converged(fp_half):
    o = {k: float(v[1]) for k, v in fp_half.order.items()}
    h = 1e-5
    for k in ("q1", "t", "qhat1", "that", "xhat"):
        a, b = dict(o), dict(o)
        a[k] += h
        b[k] -= h
        grad = (franz_parisi_functional(0.5, 0.0, **a) - franz_parisi_functional(0.5, 0.0, **b)) / (2 * h)
        assert abs(grad) < 1e-6, k
    # doubling-ish the quadrature changes nothing at the 1e-7 level
    fine = franz_parisi(0.5, fp_half.d[2], n_quad=61, n_panel=12)
    assert fine.entropy[0] == pytest.approx(fp_half.entropy[2], abs=1e-7)


def test_franz_parisi_small_alpha_limit_is_binary_entropy():
    # α → 0: every configuration is a solution, V(d) → −d ln d − (1−d) ln(1−d)
    d = np.array([0.05, 0.2])
    v = franz_parisi(1e-3, d).entropy
    s = -d * np.log(d) - (1 - d) * np.log(1 - d)
    assert np.all(v < s) and np.allclose(v, s, atol=5e-3)


def test_franz_parisi_rejects_bad_distance():
    with pytest.raises(ValueError, match="d="):
        franz_parisi(0.5, 0.7)


def test_franz_parisi_flags_points_failing_the_quadrature_check():
    # an impossible tolerance forces the refinement check to fail: NaN, not converged
    c = franz_parisi(0.5, 0.25, check_tol=1e-17, max_step=0.5)
    assert np.isnan(c.entropy[0]) and not c.converged[0]
    ok = franz_parisi(0.5, 0.25, max_step=0.5)
    assert np.isfinite(ok.entropy[0]) and ok.converged[0]
