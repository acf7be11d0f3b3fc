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


def test_overlap_ramp_target_and_one_sided_thermostat():
    from stochsyn.solvers._overlap_ramp import OverlapRamp

    ramp = OverlapRamp(0.2, 1e-3, epochs=100, q_start=0.3, q_final=0.99, gain=5.0)
    assert ramp.target(0) == pytest.approx(0.3) and ramp.target(100) == pytest.approx(0.99)
    assert ramp.target(400) == pytest.approx(0.99)
    assert all(ramp.target(t) < ramp.target(t + 1) for t in range(100))
    # below the target τ is the base schedule: the factor never goes under 1
    assert [ramp.tau(t, 0.0) for t in range(1, 6)] == pytest.approx([0.2 * 0.999 ** (t - 1) for t in range(1, 6)])
    # above it τ grows by exp(g (q − q*)) per epoch
    before = ramp.factor
    ramp.tau(6, ramp.target(6) + 0.1)
    assert ramp.factor == pytest.approx(before * np.exp(0.5))
    off = OverlapRamp(0.2, 1e-3, epochs=0, q_start=0.3, q_final=0.99, gain=5.0)
    assert off.tau(10, 1.0) == pytest.approx(0.2 * 0.999**9)
    with pytest.raises(ValueError, match="q_final must exceed q_start"):
        OverlapRamp(0.2, 1e-3, epochs=10, q_start=0.5, q_final=0.4, gain=1.0)


def test_committee_stochastic_thermostat_holds_the_overlap_under_its_target():
    inst = committee_patterns(201, 3, 0.4, seed=7)
    seen = []
    solve(inst, method="stochastic", seed=0, max_epochs=300, overlap_epochs=2000, overlap_gain=20.0,
          callback=lambda e, d: seen.append((e, d["q"], d["tau"])) and False)
    from stochsyn.solvers._overlap_ramp import OverlapRamp

    ramp = OverlapRamp(0.15, 1e-3, epochs=2000, q_start=0.3, q_final=0.999, gain=20.0)
    # the thermostat raised τ above the base schedule and kept q near the target
    assert max(t / (0.15 * 0.999 ** (e - 1)) for e, _, t in seen) > 1.5
    assert all(q < ramp.target(e) + 0.1 for e, q, _ in seen[20:])


def test_registry_lists_the_committee_solvers():
    assert {"stochastic", "lal", "fbp", "rbp", "maxsum"} <= set(available("committee"))
    with pytest.raises(ValueError, match="committee-machine solver"):
        solve(committee_patterns(11, 3, 0.2), method="sbpi")
    with pytest.raises(TypeError, match="unknown option"):
        solve(committee_patterns(11, 3, 0.2), method="stochastic", states=3)


@pytest.mark.parametrize("method", ["stochastic", "lal", "fbp", "rbp", "maxsum"])
@pytest.mark.parametrize("seed", [0, 1])
def test_every_solver_solves_a_small_instance(method, seed):
    inst = committee_patterns(101, 3, 0.2, seed=seed)
    res = solve(inst, method=method, seed=seed)
    assert res.solved and res.errors == 0
    assert res.weights.shape == (3, 101) and res.weights.dtype == np.int8
    assert _brute_errors(inst.patterns, inst.labels, res.weights, inst.mask()) == 0
    assert "duplicate_pairs" in res.info


@pytest.mark.parametrize("method", ["stochastic", "lal", "fbp", "rbp", "maxsum"])
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


def _factor_messages_by_enumeration(inst, u, h, min_var=1.0):
    """The committee BP messages from a sum over all 2^K hidden agreement patterns
    (no Poisson-binomial recursion), with the same Gaussian hidden fields."""
    import itertools

    from scipy.special import ndtr

    x, y, mask = inst.patterns.astype(float), inst.labels.astype(float), inst.mask()
    p, k, n = u.shape
    out = np.zeros_like(u)
    for mu in range(p):
        mc = np.tanh(h - u[mu]) * mask
        a = (x[mu] * mc).sum(1)
        v = ((1 - mc ** 2) * mask).sum(1)
        q = ndtr(y[mu] * a / np.sqrt(np.maximum(v, min_var)))
        for kk in range(k):
            for i in np.flatnonzero(mask[kk]):
                ac = a[kk] - x[mu, i] * mc[kk, i]
                vc = max(v[kk] - (1 - mc[kk, i] ** 2), min_var)
                lik = []
                for w in (1.0, -1.0):
                    qk = ndtr(y[mu] * (ac + x[mu, i] * w) / np.sqrt(vc))
                    tot = 0.0
                    for agree in itertools.product((0, 1), repeat=k):
                        pr = 1.0
                        for j in range(k):
                            qj = qk if j == kk else q[j]
                            pr *= qj if agree[j] else 1 - qj
                        if sum(agree) > k // 2:
                            tot += pr
                    lik.append(tot)
                out[mu, kk, i] = 0.5 * np.log(lik[0] / lik[1])
    return out


@pytest.mark.parametrize("k,tree", [(3, False), (5, False), (3, True)])
def test_committee_bp_messages_against_enumeration(k, tree):
    from stochsyn.solvers.committee_bp import committee_factor_messages

    inst = committee_patterns(15, k, 0.3, seed=2, tree=tree)
    rng = np.random.default_rng(0)
    mask = inst.mask()
    u = rng.normal(0, 0.3, size=(inst.p, k, inst.n)) * mask
    h = rng.normal(0, 1.0, size=(k, inst.n)) * mask + u.sum(0)
    got = committee_factor_messages(inst, u, h)
    ref = _factor_messages_by_enumeration(inst, u, h)
    np.testing.assert_allclose(got[:, mask], ref[:, mask], rtol=1e-9, atol=1e-12)


def test_committee_bp_with_one_hidden_unit_is_perceptron_bp():
    from stochsyn.solvers._gaussbp import factor_fields
    from stochsyn.solvers.committee_bp import committee_factor_messages

    inst = committee_patterns(21, 1, 0.5, seed=3)
    rng = np.random.default_rng(1)
    u = rng.normal(0, 0.3, size=(inst.p, 1, inst.n))
    h = rng.normal(0, 1.0, size=(1, inst.n)) + u.sum(0)
    s = inst.patterns * inst.labels[:, None].astype(float)
    ref = factor_fields(s, s * s, np.tanh(h - u[:, 0, :]))
    np.testing.assert_allclose(committee_factor_messages(inst, u, h)[:, 0, :], ref, rtol=1e-9, atol=1e-12)


def test_committee_bp_options_are_checked():
    inst = committee_patterns(11, 3, 0.2)
    with pytest.raises(ValueError, match="damping"):
        solve(inst, method="fbp", damping=1.0)
    with pytest.raises(ValueError, match="protocol"):
        solve(inst, method="fbp", protocol="nope")
    with pytest.raises(ValueError, match="rho_step"):
        solve(inst, method="rbp", rho_step=-1.0)


@pytest.mark.parametrize("kappa,tree", [(1, False), (3, False), (1, True)])
def test_committee_maxsum_fields_against_exhaustive_search(kappa, tree):
    """Max-sum messages = max over all 2^(K·N) weight configurations (tiny K·N)."""
    import itertools

    from stochsyn.solvers.committee_maxsum import committee_maxsum_fields

    n = 6 if tree else 5
    inst = committee_patterns(n, 3, 0.4, seed=7, tree=tree)
    mask = inst.mask()
    rng = np.random.default_rng(3)
    hcav = rng.normal(0, 1, size=(inst.p, 3, n)) * mask
    idx = np.argwhere(mask)
    configs = np.array(list(itertools.product((-1, 1), repeat=len(idx))), dtype=np.int64)
    w = np.zeros((len(configs), 3, n), dtype=np.int64)
    w[:, idx[:, 0], idx[:, 1]] = configs
    fields = np.einsum("ckn,pn->cpk", w, inst.patterns.astype(np.int64)) * inst.labels[None, :, None]
    agree = fields >= kappa
    allowed = np.all(agree | (fields <= -1), axis=2) & (agree.sum(2) >= 2)  # (configs, P)
    got = committee_maxsum_fields(inst, hcav, kappa)
    for mu in range(inst.p):
        obj = np.einsum("ckn,kn->c", w, hcav[mu]).astype(float)
        for k, i in idx:
            own = hcav[mu, k, i] * w[:, k, i]
            val = np.where(allowed[:, mu], obj - own, -np.inf)
            best = [val[w[:, k, i] == s].max() for s in (1, -1)]
            if np.isfinite(best[0]) and np.isfinite(best[1]):
                assert got[mu, k, i] == pytest.approx(0.5 * (best[0] - best[1]), abs=1e-9)
            else:  # one value forced: the message is a huge field of the right sign
                assert np.sign(got[mu, k, i]) == (1 if np.isfinite(best[0]) else -1)
                assert abs(got[mu, k, i]) > 1e9
