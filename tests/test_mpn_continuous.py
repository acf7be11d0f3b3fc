"""The MPN as a continuous-time jump process (memory.mpn_continuous)."""

import math

import numpy as np
import pytest
from scipy.linalg import expm

from stochsyn.memory import mpn_continuous as M
from stochsyn.memory.sequences import MPN, random_mpn


def _index(states):
    return (states.astype(np.int64) << np.arange(states.shape[-1])).sum(-1)


def test_generator_rows_sum_to_zero_and_rates_match():
    net = random_mpn(3, seed=1)
    q = M.generator_matrix(net)
    assert np.allclose(q.sum(1), 0.0)
    x = np.array([1, 0, 1], dtype=np.uint8)
    lam = np.exp((1 - 2 * x) * (x @ net.weights.T + net.bias) / net.tau)
    i = _index(x[None])[0]
    assert q[i, i ^ 2] == pytest.approx(lam[1])


def test_time_average_matches_the_exact_stationary_law():
    net = random_mpn(4, gain=1.5, bias=-0.5, seed=3)
    q = M.generator_matrix(net)
    w, v = np.linalg.eig(q.T)
    pi = np.real(v[:, np.argmin(np.abs(w))])
    pi /= pi.sum()
    path = M.simulate(net, t_end=5000.0, seed=1)
    occ = np.bincount(_index(path.states()), weights=path.holding_times(), minlength=16) / path.t_end
    assert 0.5 * np.abs(occ - pi).sum() < 0.02


def test_transient_law_matches_the_matrix_exponential():
    net = random_mpn(3, gain=2.0, bias=0.0, seed=5)
    t = 0.4
    exact = expm(M.generator_matrix(net) * t)[0]  # from the all-off state
    finals = [_index(M.simulate(net, t_end=t, seed=s).states()[-1][None])[0] for s in range(3000)]
    emp = np.bincount(finals, minlength=8) / 3000
    assert 0.5 * np.abs(emp - exact).sum() < 0.04


def test_holding_time_is_exponential_with_the_total_rate():
    net = random_mpn(5, seed=2)
    x0 = np.zeros(5, dtype=np.uint8)
    total = float(np.exp(net.bias / net.tau).sum())
    first = np.array([M.simulate(net, max_jumps=1, x0=x0, seed=s).times[0] for s in range(2000)])
    assert first.mean() * total == pytest.approx(1.0, abs=0.07)


def test_log_likelihood_of_a_hand_made_path():
    net = MPN(np.array([[0.0, 1.0], [-0.5, 0.0]]), np.array([0.2, -0.3]), 0.5, 1.0)
    path = M.JumpPath(np.array([0, 0]), np.array([0.3, 1.0]), np.array([0, 1]), 2.5)

    def lam(x):
        x = np.array(x, dtype=float)
        return np.exp((1 - 2 * x) * (net.weights @ x + net.bias) / net.tau)

    ll = (math.log(lam([0, 0])[0]) - 0.3 * lam([0, 0]).sum()
          + math.log(lam([1, 0])[1]) - 0.7 * lam([1, 0]).sum() - 1.5 * lam([1, 1]).sum())
    assert M.path_log_likelihood(net, path) == pytest.approx(ll, rel=1e-12)


def test_gradient_is_the_derivative_of_the_likelihood():
    rng = np.random.default_rng(0)
    net = MPN(rng.normal(size=(4, 4)), rng.normal(size=4), 0.7, 1.0)
    path = M.simulate(random_mpn(4, seed=9), max_jumps=150, seed=2)
    gw, gb = M.path_gradient(net, path)
    eps = 1e-6
    for (i, j) in [(1, 2), (3, 0), (2, 2)]:
        net.weights[i, j] += eps
        up = M.path_log_likelihood(net, path)
        net.weights[i, j] -= 2 * eps
        down = M.path_log_likelihood(net, path)
        net.weights[i, j] += eps
        assert (up - down) / (2 * eps) == pytest.approx(gw[i, j], rel=1e-6, abs=1e-6)
    net.bias[1] += eps
    up = M.path_log_likelihood(net, path)
    net.bias[1] -= 2 * eps
    assert (up - M.path_log_likelihood(net, path)) / (2 * eps) == pytest.approx(gb[1], rel=1e-6, abs=1e-6)


def test_fit_recovers_the_couplings_of_a_known_network():
    rows = M.coupling_recovery(6, [3000, 30000], seed=4, epochs=1500)
    assert rows[1]["correlation"] > 0.97
    assert rows[1]["relative_error"] < rows[0]["relative_error"]


def test_learned_sequence_is_recalled_where_hebb_fails():
    rows = M.sequence_capacity(30, 6, [2], flips=3, seeds=1, seed=1, epochs=1500)
    mpn = next(r for r in rows if r["rule"] == "mpn")
    hebb = next(r for r in rows if r["rule"] == "asymmetric-hebb")
    assert mpn["frames_reached"] == 1.0
    assert hebb["frames_reached"] < 0.5


def test_sequence_path_flips_each_transition_one_unit_at_a_time():
    seqs = M.flip_sequences(1, 4, 12, 3, seed=0)
    path = M.sequence_path(seqs[0], dt=0.5, seed=1)
    assert path.n_jumps == 9
    states = path.states()
    assert np.array_equal(states[[0, 3, 6, 9]], seqs[0])
    assert np.allclose(path.holding_times(), 0.5)


def test_bad_inputs():
    net = random_mpn(3)
    with pytest.raises(ValueError):
        M.simulate(net)
    with pytest.raises(ValueError):
        M.simulate(net, t_end=-1.0)
    with pytest.raises(ValueError):
        M.JumpPath(np.array([0, 2]), np.array([]), np.array([]), 1.0)
    with pytest.raises(ValueError):
        M.JumpPath(np.array([0, 1]), np.array([0.5, 0.2]), np.array([0, 1]), 1.0)
    with pytest.raises(ValueError):
        M.generator_matrix(random_mpn(13))
    with pytest.raises(ValueError):
        M.flip_sequences(1, 3, 4, 5)
