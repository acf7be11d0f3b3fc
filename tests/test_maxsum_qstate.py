"""q-state Max-Sum: the O(N log N) kernel against exhaustive search and a naive DP, and the solver."""

import itertools

import numpy as np
import pytest

from stochsyn.problems import Instance, random_patterns
from stochsyn.solvers import solve
from stochsyn.solvers.maxsum import maxsum_messages
from stochsyn.synapses import levels_for


def _concave(rng, shape, q):
    """Random concave functions over q levels (cumulative sums of decreasing increments)."""
    inc = -np.sort(-rng.normal(size=shape + (q - 1,)), axis=-1)  # decreasing increments
    start = rng.normal(size=shape + (1,))
    return np.concatenate([start, start + np.cumsum(inc, axis=-1)], axis=-1)


def _dp_messages(s, hcav, kappa, lv):
    """Naive reference: max-plus convolution of the others by dynamic programming, O(N² q²)."""
    p, n, q = hcav.shape
    out = np.empty_like(hcav)
    lmax = int(np.abs(lv).max())
    for mu in range(p):
        for i in range(n):
            best = {0: 0.0}  # contribution sum -> best value
            for j in range(n):
                if j == i:
                    continue
                nxt: dict[int, float] = {}
                for total, val in best.items():
                    for k in range(q):
                        t = total + int(s[mu, j] * lv[k])
                        v = val + hcav[mu, j, k]
                        if v > nxt.get(t, -np.inf):
                            nxt[t] = v
                best = nxt
            top = sum(hcav[mu, j].max() for j in range(n) if j != i)
            for k in range(q):
                need = kappa - int(s[mu, i] * lv[k])
                feas = [v for t, v in best.items() if t >= need]
                out[mu, i, k] = (max(feas) - top) if feas else -1e12
    assert lmax >= 1
    return out


@pytest.mark.parametrize("levels", [2, 3, 5])
@pytest.mark.parametrize("kappa", [1, 3])
def test_kernel_equals_exhaustive_search(levels, kappa):
    lv = levels_for(levels)
    q = lv.size
    rng = np.random.default_rng(10 * q + kappa)
    p, n = 3, 6
    s = np.where(rng.random((p, n)) < 0.5, 1, -1)
    hc = _concave(rng, (p, n), q)
    got = maxsum_messages(s, hc, kappa, levels=levels)
    confs = np.array(list(itertools.product(range(q), repeat=n - 1)))
    for mu in range(p):
        for i in range(n):
            others = [j for j in range(n) if j != i]
            stab = (lv[confs] * s[mu, others]).sum(axis=1)
            gain = hc[mu, others][np.arange(n - 1), confs].sum(axis=1)
            top = hc[mu, others].max(axis=1).sum()
            for k in range(q):
                ok = stab + s[mu, i] * lv[k] >= kappa
                want = gain[ok].max() - top if ok.any() else -1e12
                assert got[mu, i, k] == pytest.approx(want, abs=1e-9), (levels, mu, i, k)


@pytest.mark.parametrize("levels", [3, 7])
def test_kernel_equals_naive_dp_at_moderate_n(levels):
    lv = levels_for(levels)
    rng = np.random.default_rng(levels)
    p, n = 2, 25
    s = np.where(rng.random((p, n)) < 0.5, 1, -1)
    hc = _concave(rng, (p, n), lv.size) * 3.0
    for kappa in (1, 4, 9):
        np.testing.assert_allclose(maxsum_messages(s, hc, kappa, levels=levels), _dp_messages(s, hc, kappa, lv),
                                   atol=1e-9)


def test_messages_are_concave_in_the_level():
    rng = np.random.default_rng(0)
    s = np.where(rng.random((4, 40)) < 0.5, 1, -1)
    u = maxsum_messages(s, _concave(rng, (4, 40), 5), 5, levels=5)
    second = u[..., 2:] - 2 * u[..., 1:-1] + u[..., :-2]
    assert np.all(second[u[..., 1:-1] > -1e11] <= 1e-9)


def test_levels_must_be_even_and_symmetric():
    with pytest.raises(ValueError, match="evenly spaced levels symmetric"):
        maxsum_messages(np.ones((1, 3)), np.zeros((1, 3, 4)), 1, levels=(-2, -1, 1, 2))
    with pytest.raises(ValueError, match="count of levels must be 2 or odd"):
        levels_for(4)


def test_ternary_solver_returns_verified_ternary_weights_and_l0_sparsifies():
    inst = random_patterns(201, 0.5, seed=3)
    dense = solve(inst, method="maxsum", levels=3, seed=0)
    sparse = solve(inst, method="maxsum", levels=3, l0=0.5, seed=0)
    for r in (dense, sparse):
        assert r.solved and set(np.unique(r.weights)) <= {-1, 0, 1} and inst.errors(r.weights) == 0
        assert r.info["levels"] == [-1, 0, 1]
    assert np.mean(sparse.weights == 0) > np.mean(dense.weights == 0)
    packed = random_patterns(201, 0.5, seed=3, packed=True)
    again = solve(packed, method="maxsum", levels=3, l0=0.5, seed=0)
    assert np.array_equal(again.weights, sparse.weights) and again.errors == 0


def test_zero_stability_is_an_error_with_zero_weights():
    x = np.array([[1, -1, 1], [1, 1, -1]], dtype=np.int8)
    inst = Instance(x, [1, 1])
    assert inst.errors(np.array([0, 0, 0], dtype=np.int8)) == 2  # every stability is exactly 0
    assert inst.errors(np.array([1, 0, 0], dtype=np.int8)) == 0
    packed = Instance.from_packbits(np.packbits(x > 0, axis=1), [1, 1], 3)
    assert packed.errors(np.array([0, 0, 0], dtype=np.int8)) == 2 and packed.errors(np.array([1, 0, 0])) == 0
