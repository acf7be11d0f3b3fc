"""Tests of stochsyn.theory.large_y: independent finite-(real)-y free-reference solver, check of the y → ∞ limit."""

from __future__ import annotations

import pytest

from stochsyn.theory.dense_limit import local_entropy_max
from stochsyn.theory.large_y import LargeYModel, local_entropy_free_reference_y

COARSE = {"n_panel": 6, "n_gh": 61}


def test_closed_form_averages_are_the_gradients():
    """(S, q1, q0) and (q̂1, q̂0) from tilted averages equal the finite-difference gradients of G_S, G_E."""
    y, a, h = 3.0, 0.5, 1e-6
    m = LargeYModel(a, 0.0, 0.9, y, **COARSE)
    _, S, q1, q0 = m.entropic(0.9, 0.35, 0.2, averages=True)
    dS = (m.entropic(0.9 + h, 0.35, 0.2) - m.entropic(0.9 - h, 0.35, 0.2)) / (2 * h)
    d1 = (m.entropic(0.9, 0.35 + h, 0.2) - m.entropic(0.9, 0.35 - h, 0.2)) / (2 * h)
    d0 = (m.entropic(0.9, 0.35, 0.2 + h) - m.entropic(0.9, 0.35, 0.2 - h)) / (2 * h)
    assert S == pytest.approx(dS / y, abs=1e-8)
    assert q1 == pytest.approx((2 * d1 - y) / (y * (y - 1)), abs=1e-8)
    assert q0 == pytest.approx(-2 * d0 / y**2, abs=1e-8)
    _, qh1, qh0 = m.energetic(0.82, 0.6, averages=True)
    e1 = (m.energetic(0.82 + h, 0.6) - m.energetic(0.82 - h, 0.6)) / (2 * h)
    e0 = (m.energetic(0.82, 0.6 + h) - m.energetic(0.82, 0.6 - h)) / (2 * h)
    assert qh1 == pytest.approx(2 * a * e1 / (y * (y - 1)), abs=1e-8)
    assert qh0 == pytest.approx(-2 * a * e0 / y**2, abs=1e-8)


def test_agrees_with_the_integer_y_module():
    """Two independent implementations of the same functional (k-sum at integer y in free_reference,
    u grids here) give the same G_S, G_E and Φ at y = 2 and 4."""
    from stochsyn.theory.free_reference import _FreeModel

    o = {"Shat": 0.95, "qhat1": 0.3, "qhat0": 0.15, "q1": 0.83, "q0": 0.55}
    for y in (2, 4):
        ref = _FreeModel(0.5, 0.0, y, 96, 96)  # converged to 1e-10 (24 nodes: 1e-5 off at y = 4)
        m = LargeYModel(0.5, 0.0, 0.9, float(y), **COARSE)
        assert m.entropic(o["Shat"], o["qhat1"], o["qhat0"]) == pytest.approx(
            ref.G_S(o["Shat"], o["qhat1"], o["qhat0"]), abs=1e-8)
        assert m.energetic(o["q1"], o["q0"]) == pytest.approx(ref.G_E(o["q1"], o["q0"]), abs=1e-8)
        assert m.phi(o) == pytest.approx(ref.phi(o, 0.9), abs=1e-7)


def test_large_y_saddle_point_approaches_the_limit():
    """At y = 64 and 128 the finite-y saddle point is close to the y → ∞ one and closer at 128:
    S_I(y) < S_∞ with S_∞ − S_I(y) ~ 1/y², Ŝ → X, y(q1 − q0) → δq (docs/theory.md §7)."""
    lim = local_entropy_max(0.5, 0.05)
    o = lim.order
    start = {"q1": o["q1"], "q0": o["q1"] - o["dq"], "y": 1.0, "Shat": o["X"]}
    r64 = local_entropy_free_reference_y(0.5, 0.05, 64.0, start=start, **COARSE)
    r128 = local_entropy_free_reference_y(0.5, 0.05, 128.0, start=r64.order, **COARSE)
    gaps = [lim.local_entropy - r.local_entropy for r in (r64, r128)]
    assert 0 < gaps[1] < gaps[0] < 1e-3
    assert gaps[1] < 0.5 * gaps[0]  # faster than 1/y
    for r in (r64, r128):
        assert abs(r.order["Shat"] - o["X"]) < 2.0 / r.y
        assert abs(r.order["dq"] - o["dq"]) < 6.0 / r.y
        assert abs(r.order["delta"] - o["delta"]) < 1.0 / r.y
    assert r128.external_entropy < 0  # Σ(y) < 0 at large y (section 7)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="y="):
        local_entropy_free_reference_y(0.5, 0.05, 1.0)
    with pytest.raises(TypeError, match="alpha="):
        local_entropy_free_reference_y("0.5", 0.05, 4.0)
    with pytest.raises(ValueError, match="d="):
        local_entropy_free_reference_y(0.5, 0.6, 4.0)
