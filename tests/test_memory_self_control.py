"""Self-control noise estimates (sc_variance), the capacity scan and the best fixed threshold."""

import math

import numpy as np
import pytest

from stochsyn.memory.capacity import best_fixed_capacity, final_overlap, storage_capacity
from stochsyn.memory.fully_connected import approximate_dynamics, simulate_fully_connected
from stochsyn.memory.layered import layered_recursion, simulate_layered
from stochsyn.memory.sparse_hopfield import (
    SC_VARIANCES,
    SynapticNoise,
    check_sc_variance,
    extra_field_variance,
    self_control_c,
    self_control_variance,
)

ADD = SynapticNoise("additive", 0.5)
MUL = SynapticNoise("multiplicative", 0.5)


def test_self_control_variance_formulas():
    d, al, q = 0.3, 0.5, 0.06
    vsyn = extra_field_variance(ADD, al, q)
    assert vsyn == pytest.approx(0.25 * q)
    assert self_control_variance("field", d, al, q, ADD) == pytest.approx(d + vsyn)
    assert self_control_variance("cross-talk", d, al, q, ADD) == pytest.approx(d)
    assert self_control_variance("alpha-q", d, al, q, ADD) == pytest.approx(al * q)
    assert self_control_variance("alpha-q+synaptic", d, al, q, MUL) == pytest.approx(al * q * (1 + 0.25))
    assert set(SC_VARIANCES) == {"field", "cross-talk", "alpha-q", "alpha-q+synaptic"}
    with pytest.raises(ValueError, match="sc_variance"):
        check_sc_variance("total")
    with pytest.raises(ValueError, match="sc_variance"):
        layered_recursion(0.3, 0.05, sc_variance="D")


def test_recursion_thresholds_follow_the_chosen_noise():
    a, alpha = 0.05, 0.6
    c = self_control_c(a)
    tr = layered_recursion(alpha, a, 0.8, steps=6, sc_variance="alpha-q")
    assert np.allclose(tr.theta[:-1], c * np.sqrt(alpha * tr.q[:-1]))
    # without synaptic noise "cross-talk" is the whole field noise, and the two α q forms agree
    f = layered_recursion(alpha, a, 0.8, steps=6, sc_variance="field")
    ct = layered_recursion(alpha, a, 0.8, steps=6, sc_variance="cross-talk")
    aqs = layered_recursion(alpha, a, 0.8, steps=6, sc_variance="alpha-q+synaptic")
    assert np.array_equal(f.m, ct.m) and np.array_equal(tr.m, aqs.m)
    assert np.allclose(f.theta[:-1], c * np.sqrt(f.variance[:-1]))
    # the layered cross-talk D_t exceeds α q_t after the first layer, so the α q threshold is lower
    assert np.all(tr.theta[1:-1] < f.theta[1:-1])
    # with synaptic noise the field threshold sits above the cross-talk one
    fn = layered_recursion(alpha, a, 0.8, steps=3, noise=MUL, sc_variance="field")
    cn = layered_recursion(alpha, a, 0.8, steps=3, noise=MUL, sc_variance="cross-talk")
    assert fn.theta[0] == pytest.approx(c * math.sqrt(alpha * a * 1.25))
    assert cn.theta[0] == pytest.approx(c * math.sqrt(alpha * a))
    fc = approximate_dynamics(alpha, a, 0.8, steps=3, sc_variance="alpha-q")
    assert np.allclose(fc.theta[:-1], c * np.sqrt(alpha * fc.q[:-1]))


def test_simulations_use_the_chosen_noise():
    a, n, alpha = 0.1, 800, 0.3
    c = self_control_c(a)
    p = round(alpha * n)
    sim = simulate_layered(n, alpha, a, 0.8, steps=3, seed=4, sc_variance="alpha-q")
    assert np.allclose(sim.theta[:-1], c * np.sqrt(p / n * sim.q[:-1]))
    assert sim.params["sc_variance"] == "alpha-q"
    # measured cross-talk (noise left out) is below the measured field variance when noise is on
    f = simulate_layered(n, alpha, a, 1.0, steps=1, seed=4, noise=ADD)
    ct = simulate_layered(n, alpha, a, 1.0, steps=1, seed=4, noise=ADD, sc_variance="cross-talk")
    assert ct.theta[0] < f.theta[0] == pytest.approx(c * math.sqrt(f.variance[0]))
    fcs = simulate_fully_connected(n, alpha, a, 1.0, steps=2, seed=1, noise=MUL, sc_variance="cross-talk")
    fcf = simulate_fully_connected(n, alpha, a, 1.0, steps=2, seed=1, noise=MUL)
    assert fcs.theta[0] < fcf.theta[0]
    aq = simulate_fully_connected(n, alpha, a, 1.0, steps=2, seed=1, noise=ADD, sc_variance="alpha-q+synaptic")
    assert np.allclose(aq.theta[:-1], c * np.sqrt((p / n + 0.25) * aq.q[:-1]))


def test_capacity_finds_the_upper_edge_of_a_retrieval_window():
    """A threshold blind to additive synaptic noise fails at small loads, retrieves at larger ones."""
    a = 0.05
    low = final_overlap(1e-3, a, 1.0, noise=ADD, steps=200, sc_variance="alpha-q")
    assert low < 0.5
    cap = storage_capacity(a, noise=ADD, steps=200, sc_variance="alpha-q")
    assert 0.9 < cap < 1.2
    assert final_overlap(0.9 * cap, a, 1.0, noise=ADD, steps=200, sc_variance="alpha-q") >= 0.5
    assert final_overlap(1.01 * cap, a, 1.0, noise=ADD, steps=200, sc_variance="alpha-q") < 0.5
    assert storage_capacity(a, threshold=np.array([0.99]), steps=20)[0] == 0.0
    with pytest.raises(ValueError, match="scan_points"):
        storage_capacity(a, scan_points=1)


def test_best_fixed_threshold_refines_the_grid():
    a = 0.05
    grid = np.linspace(0.3, 0.8, 11)
    coarse = np.asarray(storage_capacity(a, threshold=grid, steps=100, tol=1e-5))
    cap, theta = best_fixed_capacity(a, theta_grid=grid, steps=100)
    assert cap >= coarse.max() and abs(theta - grid[int(np.argmax(coarse))]) <= 2 * (grid[1] - grid[0])
    assert storage_capacity(a, threshold=np.array([theta]), steps=100, tol=1e-5)[0] == pytest.approx(cap)
    with pytest.raises(ValueError, match="refine_points"):
        best_fixed_capacity(a, theta_grid=grid, refine_points=-1)


def test_self_control_capacity_against_best_fixed_at_a005():
    """The a = 0.05 bar, stationary state (1000 steps), no noise: self-control with the
    α q_t threshold (extremely diluted form) beats the best fixed θ, the one on the whole field
    noise D_t of the layered network does not (see docs/memory.md)."""
    a, steps = 0.05, 1000
    cap_fx, theta = best_fixed_capacity(a, theta_grid=np.linspace(0.50, 0.58, 17), refine_points=41, steps=steps)
    assert 0.53 < theta < 0.56
    cap_aq = storage_capacity(a, steps=steps, tol=1e-5, sc_variance="alpha-q")
    cap_field = storage_capacity(a, steps=steps, tol=1e-5, sc_variance="field")
    assert cap_aq > cap_fx * 1.002
    assert cap_field < cap_fx * 0.998


@pytest.mark.parametrize("noise", [SynapticNoise(), ADD, MUL])
def test_stationary_states_solve_the_recursion(noise):
    from stochsyn.memory.capacity import stationary_states
    from stochsyn.memory.layered import transfer_step

    a = 0.05
    st = stationary_states(a, np.array([2.0, 3.0, 4.0]), np.array([2.0, 2.4, 2.8]), noise=noise)
    ok = np.isfinite(st["alpha"])
    assert ok.sum() >= 2
    al, m, q, th = st["alpha"][ok], st["m"][ok], st["q"][ok], st["theta"][ok]
    v = (m / np.array([2.0, 3.0, 4.0])[ok]) ** 2
    m1, q1, chi = transfer_step(m, q, v, th, a)
    assert np.allclose(m1, m) and np.allclose(q1, q)
    d = v - extra_field_variance(noise, al, q)
    assert np.allclose(al * q + chi * chi * d, d)


def test_stationary_capacity_matches_dynamics_and_bounds_every_rule():
    from stochsyn.memory.capacity import stationary_capacity

    a = 0.05
    sc = stationary_capacity(a)
    dyn = storage_capacity(a, steps=1000, tol=1e-5)
    assert sc["alpha_c"] == pytest.approx(dyn, rel=2e-4)  # SC loses retrieval where its fixed point vanishes
    env = stationary_capacity(a, rule="best-fixed")
    cap_fx, _ = best_fixed_capacity(a, theta_grid=np.linspace(0.5, 0.58, 9), refine_points=21, steps=300)
    assert env["alpha_c"] > cap_fx and env["alpha_c"] > storage_capacity(a, steps=1000, tol=1e-5, sc_variance="alpha-q")
    # the envelope is the self-control capacity at the best constant c
    assert stationary_capacity(a, c=env["k"])["alpha_c"] == pytest.approx(env["alpha_c"], rel=1e-4)
    with pytest.raises(ValueError, match="rule"):
        stationary_capacity(a, rule="fixed")
