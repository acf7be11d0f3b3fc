"""Committee machines: instances, the exact error count, solvers (stochsyn.committee, solvers.committee)."""

import itertools

import numpy as np
import pytest

from stochsyn.committee import CommitteeInstance, committee_outputs, committee_patterns, committee_teacher_student
from stochsyn.solvers import available, solve
from stochsyn.solvers.committee import committee_loss_grad, majority_probability


def _brute_errors(x, y, w, mask):
    errs = 0
    for xi, yi in zip(x, y):
        hidden = [int(np.sum(w[k][mask[k]] * xi[mask[k]])) for k in range(w.shape[0])]
        if any(u == 0 for u in hidden):
            errs += 1
            continue
        errs += int(np.sign(sum(np.sign(hidden))) != yi)
    return errs


@pytest.mark.parametrize("tree", [False, True])
def test_error_count_matches_a_plain_loop(tree):
    inst = committee_patterns(15, 3, 0.5, seed=2, tree=tree)
    w = np.where(np.random.default_rng(1).random((3, 15)) < 0.5, -1, 1).astype(np.int8)
    assert inst.errors(w) == _brute_errors(inst.patterns, inst.labels, w, inst.mask())


def test_zero_hidden_field_is_an_error():
    assert committee_outputs(np.array([[3, -1, 0]])).tolist() == [0]
    x = np.array([[1, 1, -1, -1]], dtype=np.int8)  # tree of 2-input units can give 0
    inst = CommitteeInstance(x, np.array([1]), 1)
    assert inst.errors(np.ones((1, 4), dtype=np.int8)) == 1


def test_teacher_student_labels_come_from_the_teacher_and_alpha_convention():
    inst = committee_teacher_student(99, 3, 0.5, seed=3, tree=True)
    assert inst.errors(inst.teacher) == 0
    assert inst.p == round(0.5 * 99)  # tree: α = P/N
    full = committee_patterns(101, 5, 0.2, seed=0)
    assert full.p == round(0.2 * 5 * 101)  # fully connected: α = P/(K·N)


def test_instance_validation_and_round_trip(tmp_path):
    x = np.where(np.random.default_rng(0).random((6, 9)) < 0.5, -1, 1)
    y = np.ones(6)
    with pytest.raises(ValueError, match="odd"):
        CommitteeInstance(x, y, 2)
    with pytest.raises(ValueError, match="divisible"):
        CommitteeInstance(x, y, 5, tree=True)
    with pytest.raises(ValueError):
        CommitteeInstance(x * 0.5, y, 3)
    with pytest.raises(ValueError):
        CommitteeInstance(x, y[:-1], 3)
    inst = CommitteeInstance(x, y, 3, tree=True)
    back = CommitteeInstance.load(inst.save(tmp_path / "c.npz"))
    assert back.tree and back.k == 3 and np.array_equal(back.patterns, inst.patterns)
    with pytest.raises(ValueError):
        inst.errors(np.ones((3, 8)))


def test_majority_probability_against_enumeration():
    q = np.random.default_rng(0).random((4, 5))
    p_ok, piv = majority_probability(q)
    brute = np.zeros(4)
    for bits in itertools.product([0, 1], repeat=5):
        pr = np.prod(np.where(np.array(bits) == 1, q, 1 - q), axis=1)
        brute += pr * (sum(bits) >= 3)
    assert np.allclose(p_ok, brute, atol=1e-14)
    eps = 1e-7
    q2 = q.copy()
    q2[:, 1] += eps
    assert np.allclose((majority_probability(q2)[0] - p_ok) / eps, piv[:, 1], atol=1e-6)


def test_loss_gradient_against_finite_differences():
    inst = committee_patterns(31, 3, 0.3, seed=0)
    x, y = inst.patterns.astype(np.float64), inst.labels.astype(np.float64)
    mask = inst.mask().astype(np.float64)
    m = np.tanh(0.5 * np.random.default_rng(1).standard_normal((3, 31)))
    _, g = committee_loss_grad(x, y, m, mask)
    eps = 1e-6
    for (k, i) in [(0, 3), (2, 10), (1, 30)]:
        mp, mm = m.copy(), m.copy()
        mp[k, i] += eps
        mm[k, i] -= eps
        fd = (committee_loss_grad(x, y, mp, mask)[0] - committee_loss_grad(x, y, mm, mask)[0]) / (2 * eps)
        assert fd == pytest.approx(g[k, i], rel=1e-6, abs=1e-8)


def test_registry_lists_the_committee_solvers():
    assert {"stochastic", "lal"} <= set(available("committee"))
    with pytest.raises(ValueError, match="committee-machine solver"):
        solve(committee_patterns(11, 3, 0.2), method="sbpi")
    with pytest.raises(TypeError, match="unknown option"):
        solve(committee_patterns(11, 3, 0.2), method="stochastic", states=3)


@pytest.mark.parametrize("method", ["stochastic", "lal"])
@pytest.mark.parametrize("seed", [0, 1])
def test_every_solver_solves_a_small_instance(method, seed):
    inst = committee_patterns(101, 3, 0.2, seed=seed)
    res = solve(inst, method=method, seed=seed)
    assert res.solved and res.errors == 0
    assert res.weights.shape == (3, 101) and res.weights.dtype == np.int8
    assert _brute_errors(inst.patterns, inst.labels, res.weights, inst.mask()) == 0
    assert "duplicate_pairs" in res.info


@pytest.mark.parametrize("method", ["stochastic", "lal"])
def test_tree_committee_is_solved(method):
    inst = committee_patterns(99, 3, 0.3, seed=5, tree=True)
    assert solve(inst, method=method, seed=1).solved


def test_cli_solve_committee(capsys, tmp_path):
    import json

    from stochsyn.cli import main

    assert main(["solve", "--hidden", "3", "--n", "101", "--alpha", "0.2", "--json", "--out", str(tmp_path / "w.npz")]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["solved"] and rec["k"] == 3 and rec["p"] == 61
    assert np.load(tmp_path / "w.npz")["weights"].shape == (3, 101)
    inst = committee_patterns(101, 3, 0.2, seed=4)
    inst.save(tmp_path / "c.npz")
    assert main(["solve", "--hidden", "3", "--instance", str(tmp_path / "c.npz"), "--solver", "lal", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["p"] == inst.p
    assert main(["solve", "--hidden", "2"]) == 2
    assert main(["solve", "--tree"]) == 2
    assert main(["solve", "--hidden", "3", "--solver", "sbpi"]) == 2
