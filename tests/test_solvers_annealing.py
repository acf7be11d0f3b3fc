"""Simulated annealing: kernel against a plain reference, schedules, restarts, options.

Tiny deterministic instances only; successes are re-checked with count_errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from stochsyn.problems import Instance, count_errors, random_patterns
from stochsyn.solvers import get_solver, solve
from stochsyn.solvers._anneal import anneal_sweep
from stochsyn.solvers.annealing import beta_schedule


def _reference_sweep(ct, w, sites, coins, beta, kind, kappa, power):
    """Metropolis sweep with the full O(P) energy difference, recomputed from scratch."""

    def energy(v):
        d = ct.T @ v
        if kind == 0:
            return float(np.count_nonzero(d <= 0))
        return float(np.sum(np.maximum(0.0, kappa - d) ** power))

    w = w.copy()
    for i, c in zip(sites, coins):
        v = w.copy()
        v[i] = -v[i]
        de = energy(v) - energy(w)
        if de <= 0 or c < math.exp(-beta * de):
            w = v
            if np.all(ct.T @ w > 0):
                break
    return w


@pytest.mark.parametrize("kind,kappa,power", [(0, 1.0, 1.0), (1, 1.0, 1.0), (1, 3.0, 1.0), (1, 2.5, 2.0)])
@pytest.mark.parametrize("binary", [True, False])
def test_kernel_matches_full_energy_reference(kind, kappa, power, binary):
    rng = np.random.default_rng(11)
    n, p = 15, 11
    x = np.where(rng.random((p, n)) < 0.5, -1.0, 1.0) if binary else rng.normal(size=(p, n))
    ct = np.ascontiguousarray(x.T)
    window = (kappa if kind == 1 else 0.0) + 2.0 * np.abs(ct).max() * (1 + 1e-9) + 1e-9
    w = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    active = np.empty(p, dtype=np.int64)
    for beta in (0.3, 1.0, 4.0):
        sites = rng.integers(0, n, size=n)
        coins = rng.random(n)
        expect = _reference_sweep(ct, w, sites, coins, beta, kind, kappa, power)
        delta = ct.T @ w
        e, errors, acc, tried = anneal_sweep(ct, w, delta, sites, coins, beta, kind, kappa, power, window, active)
        np.testing.assert_array_equal(w, expect)
        np.testing.assert_allclose(delta, ct.T @ w, atol=1e-9)
        assert errors == np.count_nonzero(ct.T @ w <= 0)
        assert 0 <= acc <= tried <= n


def test_schedules():
    assert beta_schedule(0, 5, 0.5, 8.0, "geometric") == 0.5
    assert beta_schedule(4, 5, 0.5, 8.0, "geometric") == pytest.approx(8.0)
    assert beta_schedule(2, 5, 0.5, 8.0, "geometric") == pytest.approx(2.0)
    assert beta_schedule(2, 5, 0.5, 8.0, "linear") == pytest.approx(4.25)
    assert beta_schedule(0, 1, 0.5, 8.0, "linear") == 8.0
    inst = random_patterns(101, 0.75, seed=2)
    res = get_solver("annealing")(inst, seed=0, max_epochs=7, beta0=0.1, beta1=0.4, schedule="linear")
    np.testing.assert_allclose(res.history["beta"], np.linspace(0.1, 0.4, 7)[: res.epochs])


def test_large_margin_stops_at_first_solution():
    """With κ well above 1 the hinge energy is not zero at a solution; the run still stops there."""
    inst = random_patterns(51, 0.3, seed=3)
    res = solve(inst, method="annealing", seed=0, kappa=6.0, beta0=0.1, beta1=2.0, max_epochs=3000)
    assert res.solved and count_errors(inst.patterns, inst.labels, res.weights) == 0
    assert res.history["errors"][-1] == 0 and res.history["energy"][-1] > 0


def test_restarts_run_fresh_schedules_and_keep_the_best():
    inst = random_patterns(101, 0.75, seed=0)  # not solved in 3 sweeps
    res = get_solver("annealing")(inst, seed=4, max_epochs=3, restarts=2)
    assert not res.solved
    assert res.info["runs"] == 3 and res.epochs == 9
    assert res.history["run"] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    ends = [res.history["errors"][k] for k in (2, 5, 8)]
    assert res.errors == min(ends)
    assert res.errors == count_errors(inst.patterns, inst.labels, res.weights)
    np.testing.assert_allclose(res.history["beta"][:3], res.history["beta"][3:6])
    # the first run is the run without restarts
    one = get_solver("annealing")(inst, seed=4, max_epochs=3)
    assert one.history["errors"] == res.history["errors"][:3]


def test_restarts_stop_after_a_solution():
    inst = random_patterns(51, 0.3, seed=3)
    res = solve(inst, method="annealing", seed=1, restarts=5)
    assert res.solved and res.info["runs"] == 1


def test_power_two_solves_and_is_deterministic():
    inst = random_patterns(51, 0.3, seed=3)
    a = solve(inst, method="annealing", seed=2, power=2.0, kappa=2.0, beta0=0.05, beta1=5.0)
    b = solve(inst, method="annealing", seed=2, power=2.0, kappa=2.0, beta0=0.05, beta1=5.0)
    assert a.solved and count_errors(inst.patterns, inst.labels, a.weights) == 0
    assert np.array_equal(a.weights, b.weights) and a.history == b.history


def test_real_patterns_with_margin():
    rng = np.random.default_rng(4)
    teacher = np.where(rng.random(41) < 0.5, 1, -1)
    x = rng.normal(size=(12, 41))
    inst = Instance(x, np.where(x @ teacher > 0, 1, -1), teacher)
    res = solve(inst, method="annealing", seed=0, kappa=3.0, schedule="linear", beta0=0.1, beta1=3.0)
    assert res.solved


@pytest.mark.parametrize(
    "opts,exc,word",
    [
        ({"power": 0.0}, ValueError, "power"),
        ({"power": "2"}, TypeError, "power"),
        ({"schedule": "cosine"}, ValueError, "schedule"),
        ({"restarts": -1}, ValueError, "restarts"),
        ({"restarts": 1.5}, TypeError, "restarts"),
    ],
)
def test_new_option_validation(opts, exc, word):
    with pytest.raises(exc, match=word):
        solve(random_patterns(21, 0.3, seed=0), method="annealing", seed=0, **opts)
