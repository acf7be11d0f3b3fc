"""Tests of stochsyn.geometry: exact counts against brute force, uniform sampling,
BP against exact enumeration, robustness and generalization measurements."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from stochsyn.geometry import (
    flip_robustness,
    free_entropy_from_counts,
    generalization_error,
    local_entropy_bp,
    local_entropy_exact,
    noise_robustness,
    overlap_generalization_error,
    sample_typical_solution,
    sample_typical_solutions,
)
from stochsyn.geometry.exact import count_solutions, entropy_from_counts
from stochsyn.problems import Instance, random_patterns, teacher_student


def brute_force_counts(inst: Instance, ref: np.ndarray) -> np.ndarray:
    """Independent reference: itertools over all configurations, Instance.errors on each."""
    counts = np.zeros(inst.n + 1, dtype=np.int64)
    for w in itertools.product((-1, 1), repeat=inst.n):
        w = np.array(w, dtype=np.int8)
        if inst.errors(w) == 0:
            counts[int(np.count_nonzero(w != ref))] += 1
    return counts


def _instances():
    rng = np.random.default_rng(7)
    yield random_patterns(9, 0.5, seed=1)
    yield random_patterns(11, 0.3, seed=2)
    yield teacher_student(10, 1.0, seed=3)  # even N: ties are possible and count as errors
    x = rng.standard_normal((4, 8))
    yield Instance(x, np.where(rng.random(4) < 0.5, -1, 1))  # real-valued patterns
    yield random_patterns(13, 0.4, seed=4)  # N > 12: exercises the high-bit loop


@pytest.mark.parametrize("inst", list(_instances()), ids=repr)
def test_exact_counts_match_brute_force(inst):
    rng = np.random.default_rng(inst.n)
    for ref in (np.ones(inst.n, dtype=np.int8), (rng.integers(0, 2, inst.n) * 2 - 1).astype(np.int8)):
        got = local_entropy_exact(inst, ref)
        assert got.dtype == np.int64 and got.shape == (inst.n + 1,)
        np.testing.assert_array_equal(got, brute_force_counts(inst, ref))


def test_exact_counts_larger_n_against_vectorized_brute_force():
    inst = random_patterns(17, 0.5, seed=11)
    ref = sample_typical_solution(inst, seed=1)
    codes = np.arange(2**inst.n, dtype=np.int64)
    w = ((codes[:, None] >> np.arange(inst.n)) & 1) * 2 - 1
    ok = np.all((w @ inst.patterns.T.astype(np.int64)) * inst.labels > 0, axis=1)
    expect = np.bincount(np.count_nonzero(w[ok] != ref, axis=1), minlength=inst.n + 1)
    got = local_entropy_exact(inst, ref)
    np.testing.assert_array_equal(got, expect)
    assert got[0] == 1  # the reference is a solution


def test_exact_rejects_bad_input():
    inst = random_patterns(9, 0.5, seed=1)
    with pytest.raises(ValueError, match="reference"):
        local_entropy_exact(inst, np.zeros(9))
    with pytest.raises(ValueError, match="reference"):
        local_entropy_exact(inst, np.ones(8))
    with pytest.raises(ValueError, match="max_n"):
        local_entropy_exact(random_patterns(27, 0.5, seed=0), np.ones(27))
    with pytest.raises(TypeError, match="instance"):
        local_entropy_exact(np.ones((3, 9)), np.ones(9))


def test_free_entropy_from_counts_is_a_legendre_pair():
    counts = np.array([1, 0, 4, 10, 3, 0], dtype=np.int64)
    lam = np.array([0.0, 0.5, 1.0])
    out = free_entropy_from_counts(counts, lam)
    assert out["phi"][0] == pytest.approx(np.log(18) / 5)
    eps = 1e-6
    up = free_entropy_from_counts(counts, lam + eps)["phi"]
    dn = free_entropy_from_counts(counts, lam - eps)["phi"]
    np.testing.assert_allclose((up - dn) / (2 * eps), 1 - 2 * out["distance"], atol=1e-6)
    d, s = entropy_from_counts(counts)
    assert s[0] == 0.0 and s[1] == -np.inf and d[-1] == 1.0


def test_uniform_sampling_is_uniform_and_reproducible():
    inst = random_patterns(9, 0.4, seed=5)
    total = count_solutions(inst)
    assert 5 <= total <= 100
    draws = sample_typical_solutions(inst, 200 * total, seed=3)
    assert all(inst.is_solution(w) for w in np.unique(draws, axis=0))
    _, freq = np.unique(draws, axis=0, return_counts=True)
    assert freq.size == total  # every solution is reached
    # chi-square goodness of fit against the uniform law
    expected = draws.shape[0] / total
    chi2 = float(((freq - expected) ** 2 / expected).sum())
    from scipy.stats import chi2 as chi2_law

    assert chi2_law.sf(chi2, total - 1) > 1e-4
    np.testing.assert_array_equal(sample_typical_solution(inst, seed=9), sample_typical_solution(inst, seed=9))
    distinct = sample_typical_solutions(inst, total, seed=0, replace=False)
    assert np.unique(distinct, axis=0).shape[0] == total


def test_sampling_without_solutions_raises():
    x = np.array([[1, 1, 1], [1, 1, 1]], dtype=np.int8)
    inst = Instance(x, np.array([1, -1]))
    with pytest.raises(ValueError, match="no binary solution"):
        sample_typical_solution(inst, seed=0)


def test_bp_is_exact_on_a_tree():
    # One pattern: the factor graph is a star (a tree), so BP with exact factor
    # messages must reproduce the exact tilted free entropy and distance.
    inst = random_patterns(15, 0.07, seed=2)
    assert inst.p == 1
    ref = sample_typical_solution(inst, seed=0)
    lam = np.array([2.0, 1.0, 0.5, 0.0])
    bp = local_entropy_bp(inst, ref, lam, factor="exact", tol=1e-10)
    ex = free_entropy_from_counts(local_entropy_exact(inst, ref), bp.lambdas)
    assert bp.all_converged
    np.testing.assert_allclose(bp.phi, ex["phi"], atol=1e-7)
    np.testing.assert_allclose(bp.distance, ex["distance"], atol=1e-7)


def test_bp_close_to_exact_on_small_loopy_instance():
    inst = random_patterns(21, 0.5, seed=1)
    ref = sample_typical_solution(inst, seed=0)
    counts = local_entropy_exact(inst, ref)
    bp = local_entropy_bp(inst, ref, factor="exact")  # default λ grid, 4 → 0
    ex = free_entropy_from_counts(counts, bp.lambdas)
    assert bp.all_converged and bp.valid.all() and bp.factor == "exact"
    # loops of a 10-factor, 21-variable dense graph: a few 1e-2 at most (measured 0.015)
    assert np.max(np.abs(bp.phi - ex["phi"])) < 0.03
    # zero coupling: Bethe estimate of the total entropy ln(#solutions)/N
    assert bp.entropy[-1] == pytest.approx(np.log(counts.sum()) / inst.n, abs=0.03)
    # Gaussian factors add the central-limit error on top (measured 0.026)
    g = local_entropy_bp(inst, ref, factor="gaussian")
    assert np.max(np.abs(g.phi - ex["phi"])) < 0.05
    # a coarse grid jumps from a frozen state into a contradiction: flagged, not hidden
    coarse = local_entropy_bp(inst, ref, [3.0, 1.0, 0.6, 0.3, 0.0], factor="exact")
    ex = free_entropy_from_counts(counts, coarse.lambdas)
    bad = np.abs(coarse.phi - ex["phi"]) > 0.03
    assert bad.any() and np.all(coarse.contradiction[bad])
    assert np.all(~coarse.valid[bad])


def test_bp_dominant_branch_leaves_an_isolated_reference():
    inst = random_patterns(21, 0.5, seed=3)
    ref = sample_typical_solution(inst, seed=0)
    ex0 = np.log(count_solutions(inst)) / inst.n
    local = local_entropy_bp(inst, ref, factor="exact")
    dominant = local_entropy_bp(inst, ref, factor="exact", branch="dominant")
    # the local branch stays frozen on the (isolated) reference down to λ = 0 ...
    assert local.distance[-1] < 1e-6 and abs(local.phi[-1]) < 1e-6
    # ... while the dominant fixed point estimates the whole solution space
    assert dominant.from_cold_start.any() and dominant.phi[-1] == pytest.approx(ex0, abs=0.06)


def test_bp_overlap_is_derivative_of_free_entropy():
    inst = random_patterns(31, 0.4, seed=3)
    ref = np.where(np.arange(31) % 3 == 0, -1, 1).astype(np.int8)
    lam = np.array([0.3 + 1e-4, 0.3 - 1e-4])
    bp = local_entropy_bp(inst, ref, lam, factor="gaussian", tol=1e-12, max_iter=5000)
    assert bp.all_converged
    slope = (bp.phi[0] - bp.phi[1]) / 2e-4
    assert slope == pytest.approx(bp.overlap.mean(), abs=1e-3)


def test_bp_reports_non_convergence_and_is_reproducible():
    inst = random_patterns(41, 0.6, seed=0)
    ref = np.ones(41, dtype=np.int8)
    bp = local_entropy_bp(inst, ref, [0.5], max_iter=2, damping=0.9, seed=1)
    assert not bp.converged[0] and bp.iterations[0] == 2 and not bp.all_converged
    assert np.isnan(bp.entropy_at(0.1)).all()
    again = local_entropy_bp(inst, ref, [0.5], max_iter=2, damping=0.9, seed=1)
    np.testing.assert_array_equal(bp.phi, again.phi)
    with pytest.raises(ValueError, match="factor"):
        local_entropy_bp(inst, ref, factor="bogus")
    with pytest.raises(ValueError, match="damping"):
        local_entropy_bp(inst, ref, damping=1.0)


def test_flip_robustness():
    inst = teacher_student(51, 0.6, seed=0)
    w = inst.teacher
    curve = flip_robustness(inst, w, [0.0, 1 / 51, 1.0], seed=0, n_draws=3000)
    assert curve.error[0] == 0.0 and curve.error[2] == 1.0  # flipping all negates every stability
    np.testing.assert_array_equal(curve.extra["n_flipped"], [0, 1, 51])
    # single flips: the exact mean over the 51 possible flips
    exact = np.mean([inst.errors(w * np.where(np.arange(51) == i, -1, 1)) / inst.p for i in range(51)])
    assert abs(curve.error[1] - exact) < 4 * curve.sem[1] + 1e-12
    again = flip_robustness(inst, w, [0.0, 1 / 51, 1.0], seed=0, n_draws=3000)
    np.testing.assert_array_equal(curve.error, again.error)
    with pytest.raises(ValueError, match="fractions"):
        flip_robustness(inst, w, [1.5])


def test_noise_robustness():
    inst = teacher_student(101, 0.5, seed=1)
    curve = noise_robustness(inst, inst.teacher, [0.0, 0.5, 50.0], seed=0, n_draws=10)
    assert curve.error[0] == 0.0
    assert 0.0 < curve.error[1] < curve.error[2]
    assert curve.error[2] == pytest.approx(0.5, abs=0.08)  # noise dominates: a coin toss


def test_generalization_error():
    inst = teacher_student(401, 0.5, seed=2)
    t = inst.teacher
    assert generalization_error(inst, t, n_test=2000, seed=0).error == 0.0
    assert generalization_error(t, -t, n_test=2000, seed=0).error == 1.0
    rng = np.random.default_rng(0)
    w = t.copy()
    flip = rng.choice(401, size=100, replace=False)
    w[flip] = -w[flip]
    res = generalization_error(inst, w, n_test=40000, seed=1)
    assert res.overlap == pytest.approx(201 / 401)
    assert res.error_overlap == pytest.approx(np.arccos(201 / 401) / np.pi)
    assert overlap_generalization_error(inst, w) == pytest.approx(res.error_overlap)
    # ±1 inputs: arccos(R)/π holds up to O(1/√N) corrections
    assert res.error == pytest.approx(res.error_overlap, abs=0.015)
    with pytest.raises(ValueError, match="teacher"):
        generalization_error(random_patterns(11, 0.5), np.ones(11))


def test_bp_flags_partial_contradiction():
    # A fixed point found while un-freezing where three factors have ln Z_mu ~ -40:
    # phi = -4.2 there, which must be flagged rather than reported as a local entropy.
    inst = random_patterns(21, 0.5, seed=1007)
    w = np.array([-1, 1, -1, 1, 1, -1, -1, 1, 1, -1, -1, -1, 1, -1, 1, 1, 1, -1, 1, 1, -1], dtype=np.int8)
    assert inst.is_solution(w)
    bp = local_entropy_bp(inst, w, factor="exact", seed=7)
    ex = free_entropy_from_counts(local_entropy_exact(inst, w), bp.lambdas)
    wrong = np.abs(bp.phi - ex["phi"]) > 0.1
    assert wrong.any() and np.all(bp.contradiction[wrong])
    assert np.max(np.abs(bp.phi - ex["phi"])[bp.valid]) < 0.05


def test_entropy_at_refuses_to_bridge_gaps():
    from stochsyn.geometry import LocalEntropyBP

    z = np.zeros(4)
    curve = LocalEntropyBP(
        n=10, lambdas=np.array([3.0, 2.0, 1.0, 0.5]), phi=z, overlap=z,
        distance=np.array([0.0, 0.01, 0.1, 0.12]), entropy=np.array([0.0, 0.02, 0.2, 0.22]),
        converged=np.ones(4, bool), contradiction=np.zeros(4, bool), iterations=np.ones(4, int),
        max_change=z, factor="exact",
    )
    np.testing.assert_allclose(curve.entropy_at([0.005, 0.05, 0.11]), [0.01, 0.1, 0.21])
    got = curve.entropy_at([0.005, 0.05, 0.11, 0.1, 0.2], max_gap=0.03)
    np.testing.assert_allclose(got, [0.01, np.nan, 0.21, 0.2, np.nan])
