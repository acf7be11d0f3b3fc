"""Reference solvers: sbpi, cp, cpr, rbp, fbp, maxsum, annealing.

Tiny deterministic instances; every success is re-checked here with
count_errors, independently of the solver and of solve().
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from stochsyn.problems import Instance, count_errors, random_patterns, teacher_student
from stochsyn.solvers import available, get_solver, solve

BASELINES = ["sbpi", "cp", "cpr", "rbp", "fbp", "maxsum", "annealing"]
# (method, options): fbp is exercised with both of its protocols
CASES = [(m, {}) for m in BASELINES] + [("fbp", {"protocol": "pseudo"})]


@pytest.fixture(scope="module")
def tiny() -> Instance:
    return random_patterns(51, 0.3, seed=3)


def test_all_registered():
    names = available()
    for m in BASELINES:
        assert m in names


@pytest.mark.parametrize("method,opts", CASES)
def test_solves_tiny_instance(tiny, method, opts):
    res = solve(tiny, method=method, seed=1, **opts)
    assert res.solved, (method, res.errors, res.epochs)
    assert count_errors(tiny.patterns, tiny.labels, res.weights) == 0
    assert res.weights.dtype == np.int8 and set(np.unique(res.weights)) <= {-1, 1}
    assert 0 < res.epochs
    assert res.history is not None and len(res.history["errors"]) == res.epochs
    assert res.history["errors"][-1] == 0


@pytest.mark.parametrize("method,opts", CASES)
def test_raw_solver_reports_its_own_errors_honestly(tiny, method, opts):
    """Without solve()'s re-check, the solver's own error count must be the true one."""
    res = get_solver(method)(tiny, seed=2, max_epochs=3, **opts)
    assert res.errors == count_errors(tiny.patterns, tiny.labels, res.weights)
    assert res.solved == (res.errors == 0)
    assert res.epochs <= 3


@pytest.mark.parametrize("method,opts", CASES)
def test_deterministic_under_seed(method, opts):
    inst = random_patterns(41, 0.4, seed=5)
    a = solve(inst, method=method, seed=7, max_epochs=40, **opts)
    b = solve(inst, method=method, seed=7, max_epochs=40, **opts)
    assert np.array_equal(a.weights, b.weights)
    assert a.epochs == b.epochs and a.errors == b.errors
    assert a.history == b.history


@pytest.mark.parametrize("method", ["sbpi", "cp", "cpr", "rbp", "fbp", "annealing"])
def test_seed_matters(method):
    """Different seeds give different trajectories (the seed is really used)."""
    inst = random_patterns(41, 0.4, seed=5)
    runs = [solve(inst, method=method, seed=s, max_epochs=5) for s in range(4)]
    traces = {tuple(r.weights.tolist()) + tuple(r.history["errors"]) for r in runs}
    assert len(traces) > 1


@pytest.mark.parametrize("method", BASELINES)
def test_callback_stops_and_sees_errors(method):
    inst = random_patterns(101, 0.7, seed=0)  # not solved in 3 epochs by anyone
    seen = []

    def cb(epoch, info):
        seen.append((epoch, info["errors"]))
        return epoch >= 3

    res = solve(inst, method=method, seed=0, callback=cb, max_epochs=50)
    assert res.epochs == 3
    assert [e for e, _ in seen] == [1, 2, 3]
    assert res.info["stopped_by_callback"] is True
    assert "callback" not in res.options


@pytest.mark.parametrize("method", BASELINES)
def test_zero_budget(method, tiny):
    res = solve(tiny, method=method, seed=0, max_epochs=0)
    assert res.epochs == 0
    assert res.errors == count_errors(tiny.patterns, tiny.labels, res.weights)


@pytest.mark.parametrize(
    "method,opts,exc,word",
    [
        ("sbpi", {"states": 7}, ValueError, "states"),
        ("sbpi", {"p_s": 1.5}, ValueError, "p_s"),
        ("sbpi", {"theta_m": -1}, ValueError, "theta_m"),
        ("sbpi", {"max_epochs": 2.5}, TypeError, "max_epochs"),
        ("sbpi", {"max_epochs": -1}, ValueError, "max_epochs"),
        ("cp", {"states": 0}, ValueError, "states"),
        ("cpr", {"p_r": -0.1}, ValueError, "p_r"),
        ("cpr", {"p_r": "x"}, TypeError, "p_r"),
        ("rbp", {"damping": 1.0}, ValueError, "damping"),
        ("rbp", {"rho_step": -1.0}, ValueError, "rho_step"),
        ("fbp", {"protocol": "magic"}, ValueError, "protocol"),
        ("fbp", {"y": 1.0}, ValueError, "y"),
        ("fbp", {"gamma_step": float("nan")}, ValueError, "gamma_step"),
        ("fbp", {"x": 1.0}, ValueError, "x"),
        ("maxsum", {"kappa": 2}, ValueError, "kappa"),
        ("maxsum", {"noise": 0.0}, ValueError, "noise"),
        ("annealing", {"energy": "free"}, ValueError, "energy"),
        ("annealing", {"beta0": 2.0, "beta1": 1.0}, ValueError, "beta1"),
        ("annealing", {"kappa": 0}, ValueError, "kappa"),
        ("sbpi", {"no_such_option": 1}, TypeError, "no_such_option"),
    ],
)
def test_option_validation(tiny, method, opts, exc, word):
    with pytest.raises(exc, match=word):
        solve(tiny, method=method, seed=0, **opts)


@pytest.mark.parametrize("method", ["sbpi", "cp", "cpr", "maxsum"])
def test_binary_only_rules_reject_real_patterns(method):
    rng = np.random.default_rng(0)
    inst = Instance(rng.normal(size=(10, 21)), np.ones(10, dtype=np.int8))
    with pytest.raises(ValueError, match="±1 patterns"):
        solve(inst, method=method, seed=0)


@pytest.mark.parametrize("method", ["rbp", "fbp", "annealing"])
def test_real_valued_patterns(method):
    rng = np.random.default_rng(4)
    teacher = np.where(rng.random(41) < 0.5, 1, -1)
    x = rng.normal(size=(12, 41))
    inst = Instance(x, np.where(x @ teacher > 0, 1, -1), teacher)
    res = solve(inst, method=method, seed=0)
    assert res.solved
    assert count_errors(inst.patterns, inst.labels, res.weights) == 0


def test_teacher_student_instance():
    inst = teacher_student(51, 0.5, seed=2)
    for m in ("sbpi", "fbp"):
        assert solve(inst, method=m, seed=0).solved


def test_bp_kernel_matches_numpy_reference():
    from stochsyn.solvers._gaussbp import bp_sweep, factor_fields

    rng = np.random.default_rng(0)
    s = np.where(rng.random((9, 31)) < 0.5, 1.0, -1.0)
    u = rng.normal(scale=0.3, size=s.shape)
    h = rng.normal(scale=2.0, size=31)
    ref = factor_fields(s, s * s, np.tanh(h[None, :] - u))
    got = u.copy()
    bp_sweep(s, s * s, got, h, 0.0)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    damped = u.copy()
    bp_sweep(s, s * s, damped, h, 0.25)
    np.testing.assert_allclose(damped, 0.25 * u + 0.75 * ref, rtol=1e-10, atol=1e-12)


def test_bp_message_matches_exact_marginal_on_one_factor():
    """With exact cavity enumeration on a small factor, the Gaussian message has the right sign
    and is close to the exact log-ratio for moderate N."""
    from stochsyn.solvers._gaussbp import factor_fields

    rng = np.random.default_rng(1)
    n = 11
    s = np.where(rng.random((1, n)) < 0.5, 1.0, -1.0)
    m = np.tanh(rng.normal(scale=0.5, size=(1, n)))
    u = factor_fields(s, s * s, m)[0]
    for i in range(n):
        others = [j for j in range(n) if j != i]
        p = {1: 0.0, -1: 0.0}
        for ws in itertools.product([1, -1], repeat=n - 1):
            prob = np.prod([(1 + m[0, j] * w) / 2 for j, w in zip(others, ws)])
            field = sum(s[0, j] * w for j, w in zip(others, ws))
            for wi in (1, -1):
                if field + s[0, i] * wi > 0:
                    p[wi] += prob
        exact = 0.5 * np.log(p[1] / p[-1])
        assert np.sign(u[i]) == np.sign(exact)
        assert abs(u[i] - exact) < 0.25 * abs(exact) + 0.02


def test_focusing_field_limits():
    from stochsyn.solvers.focusing import focusing_field

    H = np.array([-3.0, -0.2, 0.0, 0.5, 40.0])
    np.testing.assert_allclose(focusing_field(H, np.inf, 4.0), 3.0 * H)
    np.testing.assert_allclose(focusing_field(H, 0.7, 1.0), 0.0, atol=1e-15)
    np.testing.assert_allclose(focusing_field(H, 0.0, 5.0), 0.0, atol=1e-15)
    g, y = 0.9, 3.0
    direct = np.arctanh(np.tanh(g) * np.tanh((y - 1) * np.arctanh(np.tanh(g) * np.tanh(H))))
    np.testing.assert_allclose(focusing_field(H, g, y), direct, rtol=1e-10)
    assert np.all(np.isfinite(focusing_field(np.array([1e6, -1e6]), 50.0, 100.0)))


@pytest.mark.parametrize("kappa", [1, 3])
def test_maxsum_messages_match_brute_force(kappa):
    from stochsyn.solvers.maxsum import maxsum_factor_fields

    rng = np.random.default_rng(kappa)
    p, n = 4, 7
    s = np.where(rng.random((p, n)) < 0.5, 1.0, -1.0)
    hc = rng.normal(size=(p, n))
    got = maxsum_factor_fields(s, hc, kappa)
    confs = np.array(list(itertools.product([1.0, -1.0], repeat=n - 1)))
    for mu in range(p):
        for i in range(n):
            others = [j for j in range(n) if j != i]
            stab = confs @ s[mu, others]
            gain = confs @ hc[mu, others]
            best = {}
            for wi in (1.0, -1.0):
                ok = stab + s[mu, i] * wi >= kappa
                best[wi] = gain[ok].max()
            assert got[mu, i] == pytest.approx(0.5 * (best[1.0] - best[-1.0]), abs=1e-12)


def test_online_rules_keep_hidden_states_in_range():
    from stochsyn.solvers._online import online_epoch

    inst = random_patterns(31, 0.8, seed=0)
    rng = np.random.default_rng(0)
    h = np.ones(31, dtype=np.int32)
    w = np.ones(31, dtype=np.int8)
    for _ in range(30):
        online_epoch(inst.patterns, inst.labels, h, w, rng.permutation(inst.p).astype(np.int64),
                     rng.random(inst.p), 5, 1, 1.0, 0.0)
        assert np.all(np.abs(h) <= 5) and np.all(h % 2 == 1)
        assert np.array_equal(w, np.where(h > 0, 1, -1))


def test_annealing_errors_energy(tiny):
    res = solve(tiny, method="annealing", seed=0, energy="errors", beta0=1.0, beta1=10.0)
    assert res.solved
    assert count_errors(tiny.patterns, tiny.labels, res.weights) == 0


def test_sequential_kernel_updates_one_factor_and_fields():
    from stochsyn.solvers._gaussbp import bp_sweep_sequential, factor_fields

    rng = np.random.default_rng(3)
    s = np.where(rng.random((6, 21)) < 0.5, 1.0, -1.0)
    u = rng.normal(scale=0.3, size=s.shape)
    h = rng.normal(scale=2.0, size=21)
    ref = factor_fields(s, s * s, np.tanh(h[None, :] - u))
    got, hh = u.copy(), h.copy()
    bp_sweep_sequential(s, s * s, got, hh, np.array([2], dtype=np.int64), 0.0)
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(np.delete(got, 2, axis=0), np.delete(u, 2, axis=0))
    np.testing.assert_allclose(hh, h + ref[2] - u[2], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", ["rbp", "fbp"])
def test_parallel_schedule_solves_tiny(tiny, method):
    res = solve(tiny, method=method, seed=0, update="parallel", damping=0.5)
    assert res.solved and count_errors(tiny.patterns, tiny.labels, res.weights) == 0


@pytest.mark.parametrize("method", ["rbp", "fbp"])
def test_patience_stops_a_stalled_run(method):
    inst = random_patterns(51, 1.5, seed=0)  # far above capacity: never solved
    res = solve(inst, method=method, seed=0, patience=5, max_epochs=500)
    assert not res.solved
    assert res.info["stalled"] or res.info["converged_at"] is not None
    assert res.epochs < 500
