"""q-state (ternary, −L…L) stochastic synapses in the `stochastic` solver."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.special import log_ndtr

from stochsyn import synapses as syn
from stochsyn.clt import clt_coefficients
from stochsyn.problems import Instance, count_errors, random_patterns
from stochsyn.solvers import solve
from stochsyn.solvers.stochastic import levels_gradient


def _free_energy(theta, xs, x2, lv, tau, zero_bias):
    """F = E/P − τ s̄ − λ p̄(0) written out from the definitions (float64, dense)."""
    p = syn.softmax(theta)
    m, r = syn.moments(p, lv)
    mean = xs @ m
    var = x2 @ (r - m * m)
    e = -np.sum(log_ndtr(mean / np.sqrt(var)))
    z = list(lv).index(0) if 0 in lv else None
    pz = 0.0 if z is None else np.mean(p[:, z])
    return e / xs.shape[0] - tau * np.mean(syn.entropy(p)) - zero_bias * pz


@pytest.mark.parametrize("levels,binary_patterns", [(3, True), (5, False), ((-2, 0, 1), True)])
def test_levels_gradient_matches_finite_differences(levels, binary_patterns):
    rng = np.random.default_rng(3)
    lv = syn.levels_for(levels)
    n, p, q = 9, 7, lv.size
    xi = rng.choice([-1.0, 1.0], size=(p, n)) if binary_patterns else rng.standard_normal((p, n))
    y = rng.choice([-1.0, 1.0], size=p)
    xs, x2 = xi * y[:, None], xi * xi
    theta = rng.standard_normal((n, q))
    tau, zb = 0.37, (0.8 if 0 in lv else 0.0)
    pr = syn.softmax(theta)
    m, r = syn.moments(pr, lv)
    _, a, b = clt_coefficients(xs @ m, x2 @ (r - m * m))
    grad = levels_gradient(pr, lv, xs.T @ a, x2.T @ b, p, tau=tau, zero_bias=zb)
    num = np.zeros_like(theta)
    eps = 1e-6
    for i in range(n):
        for k in range(q):
            d = np.zeros_like(theta)
            d[i, k] = eps
            num[i, k] = (_free_energy(theta + d, xs, x2, lv, tau, zb)
                         - _free_energy(theta - d, xs, x2, lv, tau, zb)) / (2 * eps)
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-8)


def test_ternary_solves_above_the_binary_capacity():
    # α = 0.9 > 0.833, the binary capacity: no ±1 solution exists at large N; ternary ones do
    inst = random_patterns(201, 0.9, seed=0)
    res = solve(inst, method="stochastic", levels=3, seed=0)
    assert res.solved and res.errors == 0
    assert set(np.unique(res.weights)) <= {-1, 0, 1}
    assert count_errors(inst.patterns, inst.labels, res.weights) == 0
    assert res.info["levels"] == [-1, 0, 1]
    assert 0.1 < res.info["zero_fraction"] < 0.6
    assert res.summary()["zero_fraction"] == pytest.approx(float(np.mean(res.weights == 0)))


def test_zero_bias_sets_the_sparsity():
    inst = random_patterns(301, 0.5, seed=4)
    fractions = []
    for zb in (-0.5, 0.0, 0.5, 1.0):
        res = solve(inst, method="stochastic", levels=3, zero_bias=zb, seed=1)
        assert res.solved and inst.errors(res.weights) == 0
        fractions.append(res.info["zero_fraction"])
    assert fractions == sorted(fractions)
    assert fractions[-1] >= 0.6  # far sparser than the unbiased run
    assert fractions[0] < 0.2


def test_packed_and_blas_kernels_agree():
    inst = random_patterns(1001, 0.6, seed=2)
    r_packed = solve(inst, method="stochastic", levels=3, seed=2, kernel="packed", max_epochs=50, history=True)
    r_blas = solve(inst, method="stochastic", levels=3, seed=2, kernel="blas", max_epochs=50, history=True)
    assert r_packed.info["kernel"] == "packed" and r_blas.info["kernel"] == "blas"
    # float32 sums in different orders: the loss curves agree closely, the error counts of
    # the first epochs (before rounding differences can flip a weight) exactly
    np.testing.assert_allclose(r_packed.history["loss"], r_blas.history["loss"], rtol=1e-3)
    assert r_packed.history["errors"][:10] == r_blas.history["errors"][:10]


def test_real_patterns_and_minibatches():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((150, 201))
    y = np.where(rng.random(150) < 0.5, 1, -1)
    inst = Instance(x, y)
    for bs in (None, 32):
        res = solve(inst, method="stochastic", levels=3, seed=1, batch_size=bs)
        assert res.solved and inst.errors(res.weights) == 0
        assert set(np.unique(res.weights)) <= {-1, 0, 1}


def test_five_levels_use_every_level():
    res = solve(random_patterns(301, 0.7, seed=5), method="stochastic", levels=5, seed=0)
    assert res.solved
    assert set(np.unique(res.weights)) == {-2, -1, 0, 1, 2}


def test_binary_levels_are_the_default_path():
    inst = random_patterns(201, 0.6, seed=1)
    a = solve(inst, method="stochastic", seed=3)
    b = solve(inst, method="stochastic", levels=(-1, 1), seed=3)
    assert a.epochs == b.epochs and np.array_equal(a.weights, b.weights)
    assert "levels" not in a.summary()


@pytest.mark.parametrize("opts,match", [
    ({"levels": 2, "zero_bias": 0.5}, "zero level"),
    ({"levels": 4}, "must be 2 or odd"),
    ({"levels": (1, 1)}, "distinct"),
    ({"levels": (-200, 0, 200)}, "int8"),
    ({"levels": 3, "zero_bias": float("nan")}, "zero_bias"),
])
def test_bad_level_options(opts, match):
    with pytest.raises(ValueError, match=match):
        solve(random_patterns(51, 0.5, seed=0), method="stochastic", seed=0, **opts)


def test_cli_reports_levels_and_zero_fraction():
    out = subprocess.run(
        [sys.executable, "-m", "stochsyn", "solve", "--n", "201", "--alpha", "0.5", "-s", "stochastic",
         "-o", "levels=3", "-o", "zero_bias=1", "--seed", "0", "--json"],
        capture_output=True, text=True, check=True,
    ).stdout
    rec = json.loads(out)
    assert rec["solved"] and rec["levels"] == [-1, 0, 1] and rec["zero_fraction"] > 0.5
