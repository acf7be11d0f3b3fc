"""RS theory of the ternary perceptron: limits, stationarity, enumeration, the capacity curve."""

import itertools
import math

import numpy as np
import pytest

from stochsyn.theory import capacity
from stochsyn.theory.ternary import ternary_capacity, ternary_entropy, ternary_free_entropy


@pytest.mark.parametrize("f", [0.05, 0.3, 0.6])
def test_zero_load_is_the_entropy_of_ternary_vectors(f):
    exact = -(f * math.log(f) + (1 - f) * math.log(1 - f)) + (1 - f) * math.log(2)
    assert ternary_entropy(0.0, f).entropy == pytest.approx(exact, abs=1e-12)


def test_binary_limit():
    assert ternary_capacity(1e-9) == pytest.approx(capacity(), abs=2e-6)
    assert capacity(levels=3, zero_fraction=0.0) == pytest.approx(0.8331, abs=1e-4)
    assert ternary_entropy(0.5, 0.0).entropy == pytest.approx(ternary_entropy(0.5, 1e-10).entropy, abs=1e-6)


@pytest.mark.parametrize("alpha, f", [(0.4, 0.2), (0.9, 0.4)])
def test_saddle_point_is_stationary(alpha, f):
    s = ternary_entropy(alpha, f)
    x = np.array([s.q, s.qhat, s.Qhat])
    h = 1e-6
    for i in range(3):
        e = np.zeros(3)
        e[i] = h
        g = (ternary_free_entropy(*(x + e), alpha, 0.0, f) - ternary_free_entropy(*(x - e), alpha, 0.0, f)) / (2 * h)
        assert abs(g) < 1e-6, (i, g)


def test_entropy_falls_with_the_load_and_the_capacity_curve():
    phis = [ternary_entropy(a, 0.3).entropy for a in (0.2, 0.5, 0.8, 1.1)]
    assert all(a > b for a, b in zip(phis, phis[1:]))
    caps = {f: capacity(levels=3, zero_fraction=f) for f in (0.1, 0.3, 0.5)}
    assert caps[0.1] == pytest.approx(1.0446, abs=2e-3)
    assert caps[0.3] == pytest.approx(1.1666, abs=2e-3)
    assert caps[0.5] == pytest.approx(1.1449, abs=2e-3)
    assert ternary_entropy(caps[0.3], 0.3).entropy == pytest.approx(0.0, abs=1e-8)


def test_entropy_drop_matches_exhaustive_enumeration():
    # N = 12 with 3 zeros: 9 nonzero weights, so a stability is never exactly 0 (no ties).
    # The finite-N offset of the entropy itself is O(ln N / N); its drop with the load is
    # what the theory predicts at this size already (within 0.01 over 100 instances).
    n, k = 12, 3
    ws = []
    for zeros in itertools.combinations(range(n), k):
        rest = [i for i in range(n) if i not in zeros]
        for signs in itertools.product([-1, 1], repeat=n - k):
            w = np.zeros(n, dtype=np.int32)
            w[rest] = signs
            ws.append(w)
    W = np.array(ws)
    s0 = math.log(len(W)) / n
    rng = np.random.default_rng(7)
    for p in (2, 5):
        logs = []
        for _ in range(100):
            x = rng.choice([-1, 1], size=(p, n)) * rng.choice([-1, 1], size=(p, 1))
            logs.append(math.log(np.count_nonzero((W @ x.T > 0).all(axis=1))))
        drop = s0 - np.mean(logs) / n
        theory = ternary_entropy(0.0, k / n).entropy - ternary_entropy(p / n, k / n).entropy
        assert drop == pytest.approx(theory, abs=0.01), (p, drop, theory)
