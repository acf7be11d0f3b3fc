"""Packed ±1 patterns: layout, products, packed instances, and the solvers that read bits."""

import numpy as np
import pytest

from stochsyn.packed import check_packbits, cols_dot, pack_rows, pack_signs, rows_dot, sign_dot, unpack_rows
from stochsyn.problems import Instance, random_patterns, teacher_student
from stochsyn.resources import MemoryBudgetError, format_bytes, require_memory
from stochsyn.solvers import solve

# sizes around every boundary of the kernels: sub-byte rows, whole bytes, whole
# 64-bit words, a word plus a tail, and P not a multiple of the 64-row tiles
SHAPES = [(1, 1), (3, 7), (5, 8), (9, 63), (33, 64), (70, 65), (65, 129), (101, 1001), (130, 523)]


def _pm1(rng, p, n):
    return np.where(rng.random((p, n)) < 0.5, -1, 1).astype(np.int8)


@pytest.mark.parametrize("p, n", SHAPES)
def test_layout_is_numpy_packbits_and_round_trips(p, n):
    x = _pm1(np.random.default_rng(p * n), p, n)
    bits = pack_rows(x)
    assert bits.dtype == np.uint8 and np.array_equal(bits, np.packbits(x > 0, axis=1))
    assert np.array_equal(unpack_rows(bits, n), x)
    assert np.array_equal(unpack_rows(bits, n, np.array([p - 1, 0])), x[[p - 1, 0]])


@pytest.mark.parametrize("p, n", SHAPES)
def test_products_match_dense_arithmetic(p, n):
    rng = np.random.default_rng(100 + p + n)
    x = _pm1(rng, p, n)
    bits = pack_rows(x)
    v = rng.normal(size=n)
    s = np.where(rng.random(n) < 0.5, -1, 1)
    g = rng.normal(size=p)
    xv, xs = rows_dot(bits, n, v, pack_signs(s))
    xf = x.astype(np.float64)
    np.testing.assert_allclose(xv, xf @ v, rtol=0, atol=1e-4 * (1 + np.abs(v).sum() ** 0.5))
    assert np.array_equal(xs, x.astype(np.int64) @ s)  # the deployed product is exact
    assert np.array_equal(sign_dot(bits, n, pack_signs(s)), x.astype(np.int64) @ s)
    np.testing.assert_allclose(cols_dot(bits, n, g), xf.T @ g, rtol=0, atol=1e-4 * (1 + np.abs(g).sum() ** 0.5))


def test_pack_signs_uses_sign_zero_as_plus_one():
    v = np.array([0.0, -0.0, -1e-30, 2.0, -3.0])
    assert np.array_equal(np.unpackbits(pack_signs(v)[0])[:5], [1, 1, 0, 1, 0])


def test_check_packbits_rejects_bad_input():
    x = _pm1(np.random.default_rng(0), 4, 13)
    bits = np.packbits(x > 0, axis=1)
    assert check_packbits(bits, 13) is bits  # no copy for a C-contiguous uint8 array
    with pytest.raises(TypeError, match="uint8"):
        check_packbits(bits.astype(np.int16), 13)
    with pytest.raises(ValueError, match=r"shape \(P, ceil\(n/8\)\) = \(P, 3\).*got \(4, 2\)"):
        check_packbits(bits, 17)
    bad = bits.copy()
    bad[2, -1] |= 1  # a padding bit
    with pytest.raises(ValueError, match="row 2 has set bits past entry n-1=12"):
        check_packbits(bad, 13)
    with pytest.raises(ValueError, match="values such as"):
        pack_rows(np.array([[1, 0, -1]]))


@pytest.mark.parametrize("n, alpha", [(61, 0.6), (64, 0.9), (203, 0.3)])
def test_generators_give_the_same_instance_in_both_storages(n, alpha):
    for gen in (random_patterns, teacher_student):
        dense = gen(n, alpha, seed=5)
        packed = gen(n, alpha, seed=5, packed=True)
        assert dense.storage == "int8" and packed.storage == "bits"
        assert np.array_equal(packed.bits, dense.bits)
        assert np.array_equal(packed.patterns, dense.patterns)
        assert np.array_equal(packed.labels, dense.labels)
        if dense.teacher is not None:
            assert np.array_equal(packed.teacher, dense.teacher) and packed.errors(packed.teacher) == 0


def test_block_generation_reproduces_one_draw_of_the_whole_matrix(monkeypatch):
    # the generator draws rows in blocks of a multiple of 4 entries; the stream must be
    # that of a single draw (what the first version of random_patterns did)
    import stochsyn.packed.layout as layout

    n, alpha, seed = 37, 2.0, 9
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(74, n), dtype=np.int8) * 2 - 1
    y = rng.integers(0, 2, size=74, dtype=np.int8) * 2 - 1
    monkeypatch.setattr(layout, "BLOCK_BYTES", 5 * n)  # force many small blocks
    inst = random_patterns(n, alpha, seed=seed)
    assert np.array_equal(inst.patterns, x) and np.array_equal(inst.labels, y)


def test_from_packbits_instance_behaves_like_the_dense_one(tmp_path):
    rng = np.random.default_rng(1)
    x = _pm1(rng, 40, 77)
    y = np.where(rng.random(40) < 0.5, -1, 1)
    bits = np.packbits(x > 0, axis=1)
    packed = Instance.from_packbits(bits, y, 77)
    dense = Instance(x, y)
    assert packed.p == 40 and packed.n == 77 and packed.binary_patterns and "packed" in repr(packed)
    for w in (np.ones(77, dtype=np.int8), np.where(rng.random(77) < 0.5, -1, 1)):
        assert packed.errors(w) == dense.errors(w)
        assert np.array_equal(packed.stabilities(w), dense.stabilities(w))
    wr = rng.normal(size=77)
    assert packed.errors(wr) == dense.errors(wr)
    np.testing.assert_allclose(packed.stabilities(wr), dense.stabilities(wr), atol=1e-4)
    assert packed.nbytes < dense.nbytes
    back = Instance.load(packed.save(tmp_path / "p.npz"))
    assert back.storage == "bits" and np.array_equal(back.bits, bits) and np.array_equal(back.labels, y)
    assert bits.flags.writeable  # the caller's array is left as it was
    with pytest.raises(ValueError):
        packed.bits[0, 0] = 1


def test_instance_does_not_freeze_the_callers_arrays():
    x = np.where(np.random.default_rng(0).random((3, 5)) < 0.5, -1, 1).astype(np.int8)
    y = np.array([1, -1, 1], dtype=np.int8)
    inst = Instance(x, y)
    assert x.flags.writeable and y.flags.writeable
    assert not inst.patterns.flags.writeable and not inst.labels.flags.writeable
    with pytest.raises(AttributeError, match="immutable"):
        inst.labels = y


def test_instances_pickle_through_their_constructors():
    import pickle

    for inst in (random_patterns(21, 0.5, seed=2), random_patterns(21, 0.5, seed=2, packed=True),
                 teacher_student(21, 0.5, seed=2, packed=True)):
        back = pickle.loads(pickle.dumps(inst))
        assert back.storage == inst.storage and np.array_equal(back.patterns, inst.patterns)
        assert (back.teacher is None) == (inst.teacher is None)


@pytest.mark.parametrize("method", ["stochastic", "sbpi", "cp", "cpr", "annealing"])
def test_solvers_give_the_same_run_on_packed_and_dense_storage(method):
    opts = {"stochastic": {"kernel": "packed"}, "annealing": {"max_epochs": 300}}.get(method, {})
    dense = random_patterns(101, 0.4, seed=3)
    packed = random_patterns(101, 0.4, seed=3, packed=True)
    a = solve(dense, method=method, seed=1, **opts)
    b = solve(packed, method=method, seed=1, **opts)
    assert a.solved and b.solved
    assert np.array_equal(a.weights, b.weights) and a.epochs == b.epochs


def test_online_kernel_on_bits_equals_the_dense_reference():
    from stochsyn.solvers._online import online_epoch, online_epoch_packed

    for n, alpha in [(31, 0.8), (64, 0.6), (203, 0.7)]:
        inst = random_patterns(n, alpha, seed=1)
        rng = np.random.default_rng(0)
        h1 = (rng.integers(0, 2, size=n, dtype=np.int32) * 2 - 1).astype(np.int32)
        w1 = np.where(h1 > 0, 1, -1).astype(np.int8)
        h2, w2 = h1.copy(), w1.copy()
        wbits = np.ascontiguousarray(pack_signs(w2))
        for _ in range(30):
            order = rng.permutation(inst.p).astype(np.int64)
            coins = rng.random(inst.p)
            k1 = online_epoch(inst.patterns, inst.labels, h1, w1, order, coins, 9, 1, 0.3, 0.02)
            k2 = online_epoch_packed(inst.bits, inst.labels, h2, w2, wbits, order, coins, 9, 1, 0.3, 0.02)
            assert k1 == k2 and np.array_equal(h1, h2) and np.array_equal(w1, w2)
            assert np.array_equal(wbits, pack_signs(w2))


def test_bp_solvers_refuse_what_does_not_fit(monkeypatch):
    import stochsyn.resources as resources

    monkeypatch.setattr(resources, "available_memory", lambda: 10_000_000)
    inst = random_patterns(1001, 0.6, seed=0, packed=True)  # 75 kB of bits
    for method in ("fbp", "rbp", "maxsum"):
        with pytest.raises(MemoryBudgetError, match=r"method '(BP|maxsum)' keeps .*P=601, N=1001.* needs .* is available"):
            solve(inst, method=method, seed=0)
    assert solve(inst, method="stochastic", seed=0).solved  # needs only vectors besides the bits


def test_memory_guard_message_and_generators(monkeypatch):
    import stochsyn.resources as resources

    monkeypatch.setattr(resources, "available_memory", lambda: 2**30)
    with pytest.raises(MemoryBudgetError, match=r"the int8 pattern matrix \(P=30000, N=100000\) needs 2.8 GiB; 1.0 GiB"):
        random_patterns(100_000, 0.3)
    with pytest.raises(MemoryBudgetError, match="packed pattern matrix"):
        teacher_student(400_001, 0.9, packed=True)
    require_memory(2**29, "half a GiB")  # fits
    assert format_bytes(1536) == "1.5 KiB" and format_bytes(12) == "12 B"
