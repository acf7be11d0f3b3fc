"""The CLT loss, its gradient, and the stochastic-synapse solver."""

import numpy as np
import pytest

from stochsyn.clt import clt_loss, clt_loss_grad, gaussian_hazard, log_phi
from stochsyn.problems import Instance, random_patterns, teacher_student
from stochsyn.solvers import Result, available, solve


def _brute_force_errors(patterns, labels, weights):
    """Independent error count in plain Python integers."""
    errors = 0
    for row, label in zip(patterns.tolist(), labels.tolist()):
        field = sum(int(a) * int(b) for a, b in zip(row, weights.tolist()))
        errors += label * field <= 0
    return errors


def _central_differences(f, m, eps=1e-6):
    g = np.empty_like(m)
    for i in range(m.size):
        e = np.zeros_like(m)
        e[i] = eps
        g[i] = (f(m + e) - f(m - e)) / (2 * eps)
    return g


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("beta, margin", [(1.0, 0.0), (2.5, 0.3)])
def test_gradient_matches_central_differences(binary, beta, margin):
    rng = np.random.default_rng(0)
    n, p = 23, 17
    x = rng.choice([-1, 1], size=(p, n)) if binary else rng.normal(size=(p, n))
    y = rng.choice([-1, 1], size=p)
    m = np.tanh(rng.normal(scale=0.8, size=n))
    loss, grad = clt_loss_grad(m, x, y, beta=beta, margin=margin)
    assert loss == pytest.approx(clt_loss(m, x, y, beta=beta, margin=margin), rel=1e-12)
    fd = _central_differences(lambda mm: clt_loss(mm, x, y, beta=beta, margin=margin), m)
    rel = np.linalg.norm(grad - fd) / np.linalg.norm(fd)
    assert rel < 1e-5


def test_gradient_check_can_fail():
    """Guard against a vacuous check: a wrong gradient (variance term dropped) is caught."""
    rng = np.random.default_rng(1)
    x = rng.choice([-1, 1], size=(15, 21))
    y = rng.choice([-1, 1], size=15)
    m = np.tanh(rng.normal(size=21))
    _, grad = clt_loss_grad(m, x, y)
    fd = _central_differences(lambda mm: clt_loss(mm, x, y), m)
    wrong = grad - m * (grad @ m) / (m @ m)  # perturbed along m
    assert np.linalg.norm(wrong - fd) / np.linalg.norm(fd) > 1e-3


def test_hazard_and_log_phi_finite_for_huge_arguments():
    u = np.array([-1e4, -1e3, -40.0, 0.0, 40.0, 1e3, 1e4])
    lp = log_phi(u)
    g = gaussian_hazard(u)
    assert np.all(np.isfinite(lp)) and np.all(np.isfinite(g))
    assert g[0] == pytest.approx(1e4, rel=1e-6)  # g(u) ~ -u for u -> -inf
    assert g[-1] == 0.0 or g[-1] < 1e-300
    assert lp[0] == pytest.approx(-0.5e8 - np.log(1e4 * np.sqrt(2 * np.pi)), rel=1e-9)


def test_loss_and_gradient_finite_when_all_synapses_polarized():
    inst = random_patterns(31, 0.8, seed=2)
    m = np.where(np.arange(31) % 2 == 0, 1.0, -1.0)  # fully polarized: sum(1 - m^2) = 0
    loss, grad = clt_loss_grad(m, inst.patterns, inst.labels)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    # with |u| ~ 1e4 the loss counts errors: -log Phi(u) ~ u^2/2 for each wrong pattern
    n_wrong = inst.errors(m.astype(np.int8))
    assert n_wrong > 0 and loss > n_wrong * 1e3


def test_large_stabilities_keep_loss_finite():
    x = np.array([[1.0] * 5, [-1.0] * 5])
    y = np.array([1, 1])
    m = np.full(5, 0.999999)
    loss, grad = clt_loss_grad(m, x, y)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


def test_registry_lists_stochastic_and_rejects_unknown():
    assert "stochastic" in available()
    with pytest.raises(ValueError, match="unknown solver method='nope'"):
        solve(random_patterns(11, 0.3), method="nope")
    with pytest.raises(TypeError, match="Instance"):
        solve(np.ones((3, 3)))


def test_solves_tiny_instance_and_weights_reverified_independently():
    inst = random_patterns(101, 0.4, seed=5)
    res = solve(inst, method="stochastic", seed=0)
    assert isinstance(res, Result)
    assert res.solved and res.errors == 0
    assert res.weights.dtype == np.int8 and res.weights.shape == (101,)
    assert _brute_force_errors(inst.patterns, inst.labels, res.weights) == 0
    assert res.history is not None and res.history["errors"][-1] == 0
    assert len(res.history["errors"]) == res.epochs
    assert res.seconds > 0 and res.method == "stochastic"


def test_unsolved_run_reports_true_error_count():
    # alpha = 1.2 is above capacity: no binary solution exists, the budget ends
    inst = random_patterns(41, 1.2, seed=0)
    res = solve(inst, method="stochastic", seed=0, max_epochs=30)
    assert not res.solved and res.epochs == 30
    assert res.errors == _brute_force_errors(inst.patterns, inst.labels, res.weights) > 0


def test_same_seed_same_result_and_seed_matters():
    inst = random_patterns(201, 0.6, seed=11)
    a = solve(inst, seed=3, max_epochs=300)
    b = solve(inst, seed=3, max_epochs=300)
    c = solve(inst, seed=4, max_epochs=300)
    assert np.array_equal(a.weights, b.weights) and a.epochs == b.epochs
    assert a.history["loss"] == b.history["loss"]
    assert a.history["loss"] != c.history["loss"]


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "gd", "lr": 20.0, "momentum": 0.5, "tau": 0.0},
        {"batch_size": 20, "lr": 0.05},
        {"beta_growth": 0.01, "margin": 0.1, "margin_growth": 1e-3},
        {"dtype": "float64"},
    ],
)
def test_variants_solve_easy_instances(options):
    inst = random_patterns(101, 0.3, seed=6)
    res = solve(inst, seed=1, **options)
    assert res.solved, options


def test_real_valued_patterns_use_the_general_variance():
    rng = np.random.default_rng(3)
    teacher = rng.choice([-1, 1], size=61)
    x = rng.normal(size=(25, 61)) * rng.uniform(0.2, 3.0, size=61)
    y = np.where(x @ teacher > 0, 1, -1)
    res = solve(Instance(x, y), seed=0)
    assert res.solved and Instance(x, y).errors(res.weights) == 0


def test_teacher_student_instance_is_solved():
    inst = teacher_student(101, 0.5, seed=2)
    assert solve(inst, seed=0).solved


def test_callback_can_stop_the_run():
    seen = []

    def cb(epoch, info):
        seen.append((epoch, info["errors"]))
        return epoch >= 3

    res = solve(random_patterns(101, 0.7, seed=1), seed=0, callback=cb)
    assert res.epochs == 3 and [e for e, _ in seen] == [1, 2, 3]
    assert "callback" not in res.options


@pytest.mark.parametrize(
    "options, exc, match",
    [
        ({"max_epochs": 0}, ValueError, "max_epochs"),
        ({"optimizer": "sgd"}, ValueError, "optimizer"),
        ({"lr": -1.0}, ValueError, r"lr must lie in \(0.0, inf\)"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"momentum": 1.0}, ValueError, r"momentum must lie in \[0.0, 1.0\)"),
        ({"tau_decay": 1.5}, ValueError, "tau_decay"),
        ({"temperature": 1e-3}, TypeError, r"'temperature' is now tau \(per-synapse units"),
        ({"kernel": "int8"}, ValueError, "kernel must be one of"),
        ({"dtype": "float16"}, ValueError, "dtype"),
        ({"lr": "fast"}, TypeError, "lr must be a real number"),
        ({"learning_rate": 0.1}, TypeError, "unknown option"),
    ],
)
def test_option_validation(options, exc, match):
    with pytest.raises(exc, match=match):
        solve(random_patterns(11, 0.3), seed=0, **options)


def test_packed_kernel_path_follows_the_blas_path():
    inst = random_patterns(101, 0.6, seed=9)
    a = solve(inst, seed=2, max_epochs=25, kernel="packed")
    b = solve(inst, seed=2, max_epochs=25, kernel="blas")
    packed = random_patterns(101, 0.6, seed=9, packed=True)
    c = solve(packed, seed=2, max_epochs=25)  # auto picks the packed kernel for packed storage
    assert a.info["kernel"] == c.info["kernel"] == "packed" and b.info["kernel"] == "blas"
    np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-4)
    assert a.history["loss"] == c.history["loss"]
    with pytest.raises(ValueError, match="packed"):
        solve(Instance(np.random.default_rng(0).normal(size=(5, 7)), np.ones(5)), kernel="packed")


def test_minibatches_on_packed_storage_match_dense():
    dense = random_patterns(75, 0.5, seed=4)
    packed = random_patterns(75, 0.5, seed=4, packed=True)
    a = solve(dense, seed=1, max_epochs=20, batch_size=10, kernel="packed")
    b = solve(packed, seed=1, max_epochs=20, batch_size=10)
    assert a.history == b.history and np.array_equal(a.weights, b.weights)
