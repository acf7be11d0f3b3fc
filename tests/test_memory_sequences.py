"""MPN sequence memory and the asymmetric-Hebb baseline (stochsyn.memory.sequences)."""

import numpy as np
import pytest

from stochsyn.memory.sequences import (
    MPN,
    random_sequences,
    recall,
    recall_accuracy,
    train_asymmetric_hebb,
    train_mpn,
)


def test_random_sequences_deterministic():
    a = random_sequences(3, 5, 20, seed=1)
    assert a.shape == (3, 5, 20) and a.dtype == np.uint8
    assert np.array_equal(a, random_sequences(3, 5, 20, seed=1))
    assert not np.array_equal(a, random_sequences(3, 5, 20, seed=2))
    with pytest.raises(ValueError, match="length"):
        random_sequences(3, 1, 20)


def test_likelihood_gradient_matches_finite_differences():
    """The local learning rule is the exact gradient of the transition log-likelihood."""
    rng = np.random.default_rng(0)
    seqs = random_sequences(2, 4, 6, seed=3)
    w = rng.normal(size=(6, 6))
    b = rng.normal(size=6)
    model = MPN(w, b, tau=0.7, dt=0.5)
    x = seqs[:, :-1].reshape(-1, 6).astype(float)
    f = seqs[:, 1:].reshape(-1, 6) != seqs[:, :-1].reshape(-1, 6)
    s = 1 - 2 * x
    log_u = model.log_rates(x) + np.log(model.dt)
    u = np.exp(log_u)
    g = np.where(f, u / np.expm1(u), -u) * s / model.tau
    grad_w = g.T @ x
    eps = 1e-6
    for i, j in [(0, 1), (3, 3), (5, 2)]:
        wp = w.copy(); wp[i, j] += eps
        wm = w.copy(); wm[i, j] -= eps
        num = (MPN(wp, b, 0.7, 0.5).log_likelihood(seqs) - MPN(wm, b, 0.7, 0.5).log_likelihood(seqs)) / (2 * eps)
        assert grad_w[i, j] == pytest.approx(num, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("method", ["lbfgs", "adam"])
def test_mpn_recalls_and_beats_hebb(method):
    seqs = random_sequences(8, 10, 100, seed=0)  # 72 transitions on 100 units: above asymmetric-Hebb capacity
    mpn = train_mpn(seqs, method=method, epochs=300 if method == "lbfgs" else 1500)
    acc = recall_accuracy(mpn, seqs)
    hebb = recall_accuracy(train_asymmetric_hebb(seqs), seqs)
    assert acc["bits_correct"] >= 0.99
    assert hebb["bits_correct"] < acc["bits_correct"] - 0.05


def test_mpn_stochastic_recall_is_seeded_and_save_load(tmp_path):
    seqs = random_sequences(2, 6, 40, seed=4)
    mpn = train_mpn(seqs, epochs=200)
    r1 = recall(mpn, seqs[:, 0], 5, rng=np.random.default_rng(7))
    r2 = recall(mpn, seqs[:, 0], 5, rng=np.random.default_rng(7))
    assert np.array_equal(r1, r2)
    mpn.save(tmp_path / "mpn.npz")
    back = MPN.load(tmp_path / "mpn.npz")
    assert np.array_equal(back.weights, mpn.weights) and back.tau == mpn.tau
    assert recall_accuracy(back, seqs)["bits_correct"] == recall_accuracy(mpn, seqs)["bits_correct"]


def test_hebb_recalls_at_low_load():
    seqs = random_sequences(1, 5, 200, seed=2)
    assert recall_accuracy(train_asymmetric_hebb(seqs), seqs)["bits_correct"] == 1.0


def test_generative_mode_learns_teacher_statistics():
    from stochsyn.memory.sequences import generative_check

    r = generative_check(16, 1500, seed=0, epochs=200)
    assert r["heldout_ll_fitted"] > r["heldout_ll_independent"]
    assert r["heldout_ll_fitted"] <= r["heldout_ll_teacher"] + 0.01
    assert r["weight_correlation"] > 0.6
    assert abs(r["rate_sampled"] - r["rate_data"]) < 0.05
