"""Sparse associative memory with synaptic noise and self-control (stochsyn.memory)."""

import math

import numpy as np
import pytest

from stochsyn.memory.capacity import basin_boundary, compare_thresholds, max_information, storage_capacity
from stochsyn.memory.fully_connected import approximate_dynamics, simulate_fully_connected
from stochsyn.memory.information import binary_entropy, information_per_synapse, mutual_information
from stochsyn.memory.layered import layered_recursion, simulate_layered, simulate_layered_seeds
from stochsyn.memory.sparse_hopfield import (
    SynapticNoise,
    check_threshold,
    cue_state,
    hebbian_couplings,
    noisy_couplings,
    overlap,
    self_control_c,
    sparse_patterns,
)


def test_self_control_constant():
    assert self_control_c(0.05) == pytest.approx(math.sqrt(-2 * math.log(0.05)))
    with pytest.raises(ValueError, match="activity a"):
        self_control_c(0.7)


def test_information_limits():
    a = 0.05
    # perfect retrieval carries the full entropy of a pattern bit; no overlap carries nothing
    assert mutual_information(1.0, a, a) == pytest.approx(binary_entropy(a))
    assert mutual_information(0.0, a, a) == pytest.approx(0.0, abs=1e-12)
    assert information_per_synapse(2.0, 1.0, a, a) == pytest.approx(2 * binary_entropy(a))
    assert 0 < mutual_information(0.5, a, a) < binary_entropy(a)


def test_cue_state_and_overlap():
    rng = np.random.default_rng(0)
    xi = sparse_patterns(20000, 1, 0.1, rng)[0]
    s = cue_state(xi, 0.6, 0.1, rng)
    assert overlap(s, xi, 0.1) == pytest.approx(0.6, abs=0.05)
    assert s.mean() == pytest.approx(0.1, abs=0.01)
    with pytest.raises(ValueError, match="m0"):
        cue_state(xi, 1.0, 0.1, rng, q0=0.5)


def test_threshold_and_noise_validation():
    assert check_threshold("self-control") == "self-control"
    assert check_threshold("0.3") == 0.3
    with pytest.raises(ValueError, match="threshold"):
        check_threshold("sometimes")
    with pytest.raises(ValueError, match="noise kind"):
        SynapticNoise("gaussian", 0.1)
    with pytest.raises(ValueError, match="delta"):
        SynapticNoise("additive", -1.0)
    with pytest.raises(ValueError, match="alpha"):
        layered_recursion(-1.0, 0.05)


def test_noisy_couplings_statistics():
    rng = np.random.default_rng(1)
    xi = sparse_patterns(400, 40, 0.1, rng)
    j = hebbian_couplings(xi, xi, 0.1, zero_diagonal=True)
    ja = noisy_couplings(j, SynapticNoise("additive", 2.0), rng, symmetric=True)
    d = ja - j
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)
    assert np.var(d[np.triu_indices(400, 1)]) == pytest.approx(4.0 / 400, rel=0.05)
    jm = noisy_couplings(j, SynapticNoise("multiplicative", 0.5), rng)
    ratio = (jm - j)[j != 0] / j[j != 0]
    assert np.std(ratio) == pytest.approx(0.5, rel=0.05)


def test_recursion_broadcasts_and_retrieves_at_low_load():
    tr = layered_recursion(0.05, 0.05, 1.0, steps=10)
    assert tr.m[-1] > 0.99 and tr.q[-1] == pytest.approx(0.05, rel=0.1)
    grid = np.array([0.1, 0.3, 0.5])
    tr2 = layered_recursion(0.5, 0.05, 0.9, steps=5, threshold=grid)
    assert tr2.m.shape == (6, 3)


def test_layered_simulation_is_deterministic():
    r1 = simulate_layered(600, 0.4, 0.1, 0.8, steps=3, seed=3)
    r2 = simulate_layered(600, 0.4, 0.1, 0.8, steps=3, seed=3)
    r3 = simulate_layered(600, 0.4, 0.1, 0.8, steps=3, seed=4)
    assert np.array_equal(r1.m, r2.m) and np.array_equal(r1.theta, r2.theta)
    assert not np.array_equal(r1.m, r3.m)


def test_layered_theory_matches_simulation_self_control():
    a, alpha, m0 = 0.05, 0.5, 0.8
    theo = layered_recursion(alpha, a, m0, steps=4)
    sim = simulate_layered_seeds(3000, alpha, a, m0, seeds=4, steps=4, seed=11)
    se = sim.m.std(axis=0, ddof=1) / 2.0
    assert np.all(np.abs(sim.m.mean(axis=0) - theo.m) < 4 * se + 0.03)
    assert np.all(np.abs(sim.q.mean(axis=0) - theo.q) < 0.004)


def test_layered_feedback_term_is_needed():
    """With a low fixed threshold the cross-talk variance exceeds αq; the χ²D term predicts it."""
    a, alpha = 0.05, 0.6
    theo = layered_recursion(alpha, a, 0.8, steps=4, threshold=0.25)
    sim = simulate_layered_seeds(3000, alpha, a, 0.8, seeds=2, steps=4, threshold=0.25, seed=5)
    v_sim = sim.variance.mean(axis=0)[3]  # variance of the field that produced layer 4
    assert v_sim == pytest.approx(theo.variance[3], rel=0.12)
    assert v_sim > 1.3 * alpha * sim.q.mean(axis=0)[3]


@pytest.mark.parametrize("noise", [SynapticNoise("additive", 0.6), SynapticNoise("multiplicative", 0.6)])
def test_synaptic_noise_variance_matches_theory(noise):
    a, alpha = 0.1, 0.3
    theo = layered_recursion(alpha, a, 1.0, steps=1, noise=noise)
    sim = simulate_layered_seeds(1500, alpha, a, 1.0, seeds=2, steps=1, noise=noise, seed=2)
    assert sim.variance.mean(axis=0)[0] == pytest.approx(theo.variance[0], rel=0.1)
    assert theo.variance[0] > alpha * a * 1.2  # noise adds to the cross-talk


def test_capacity_and_basins_self_control_vs_fixed():
    a = 0.05
    cap_sc = storage_capacity(a, steps=60)
    assert 0.8 < cap_sc < 2.0
    assert storage_capacity(a, steps=60, noise=SynapticNoise("additive", 0.5)) < cap_sc
    cmp = compare_thresholds(a, alphas=np.array([0.5]), theta_grid=np.linspace(0.1, 0.8, 15), steps=60)
    assert cmp.basin_self_control[0] < cmp.basin_best_fixed[0]
    assert math.isnan(basin_boundary(2 * cap_sc, a, steps=60))


def test_fully_connected_simulation_and_approximation():
    a, alpha = 0.1, 0.1
    sim = simulate_fully_connected(800, alpha, a, 0.8, steps=4, seed=0)
    again = simulate_fully_connected(800, alpha, a, 0.8, steps=4, seed=0)
    assert np.array_equal(sim.m, again.m)
    approx = approximate_dynamics(alpha, a, 0.8, steps=4)
    assert sim.m[-1] > 0.9 and approx.m[-1] > 0.9
    noisy = simulate_fully_connected(300, alpha, a, 0.8, steps=2, seed=0, noise=SynapticNoise("multiplicative", 0.3))
    assert noisy.m[-1] > 0.8


def test_max_information_is_bounded_and_peaks_inside_the_grid():
    a = 0.05
    i_sc, al_sc = max_information(a, alphas=np.linspace(0.1, 2.0, 40), steps=40)
    assert 0.05 < i_sc < al_sc * binary_entropy(a) + 1e-12
    assert 0.1 < al_sc < 2.0
    i_fx, _ = max_information(a, threshold=np.array([0.3, 0.5]), alphas=np.linspace(0.1, 2.0, 40), steps=40)
    assert i_fx.shape == (2,) and np.all(i_fx > 0)
