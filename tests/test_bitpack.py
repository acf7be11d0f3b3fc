"""Packing and XNOR-popcount kernels of stochsyn.bitpack (exactness against integer matmul)."""

from __future__ import annotations

import numpy as np
import pytest

from stochsyn.bitpack import kernels, n_words, pack, real_binary_matmul, unpack, xnor_matmul
from stochsyn.bitpack.kernels import real_sign_pack, xnor_sign_pack
from stochsyn.bitpack.packing import padding_is_clear


def pm1(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return (rng.integers(0, 2, size=shape) * 2 - 1).astype(np.int8)


@pytest.mark.parametrize("n", [1, 5, 63, 64, 65, 127, 128, 129, 200, 784])
def test_pack_unpack_round_trip_any_length(n: int) -> None:
    rng = np.random.default_rng(n)
    x = pm1(rng, (3, 4, n))
    p = pack(x)
    assert p.dtype == np.uint64 and p.shape == (3, 4, n_words(n))
    assert padding_is_clear(p, n)
    np.testing.assert_array_equal(unpack(p, n), x)


def test_pack_bit_convention() -> None:
    x = -np.ones(70, dtype=np.int8)
    x[[0, 3, 64, 69]] = 1
    p = pack(x)
    assert int(p[0]) == (1 << 0) | (1 << 3)
    assert int(p[1]) == (1 << 0) | (1 << 5)  # bits 64, 69 -> word 1, bits 0 and 5; padding clear


def test_pack_accepts_bool_and_float_and_rejects_other_values() -> None:
    x = np.array([[1, -1, -1, 1]], dtype=np.int8)
    np.testing.assert_array_equal(pack(x), pack(x > 0))
    np.testing.assert_array_equal(pack(x), pack(x.astype(np.float32)))
    with pytest.raises(ValueError, match="±1"):
        pack(np.array([1, 0, -1], dtype=np.int8))
    with pytest.raises(ValueError, match="scalar"):
        pack(np.int8(1))
    with pytest.raises(TypeError, match="uint64"):
        unpack(np.zeros((2, 1), dtype=np.int64), 10)
    with pytest.raises(ValueError, match="words"):
        unpack(np.zeros((2, 2), dtype=np.uint64), 10)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize(
    ("m", "n", "k"), [(1, 1, 1), (7, 63, 5), (37, 64, 9), (70, 65, 131), (33, 300, 66), (6, 5000, 97)]
)
def test_xnor_matmul_exact(backend: str, m: int, n: int, k: int) -> None:
    rng = np.random.default_rng(m * 1000 + n + k)
    a, b = pm1(rng, (m, n)), pm1(rng, (k, n))
    z = xnor_matmul(pack(a), pack(b), n, backend=backend)
    assert z.dtype == np.int32 and z.shape == (m, k)
    np.testing.assert_array_equal(z, a.astype(np.int64) @ b.T.astype(np.int64))


def test_xnor_matmul_cache_tiles_and_row_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny word chunks and row blocks force many chunks, tasks and ragged tails
    # (rows not a multiple of 4, a partial last panel) through the same kernel.
    monkeypatch.setattr(kernels, "_W_CHUNK", 3)
    monkeypatch.setattr(kernels, "_ROW_BLOCK", 8)
    rng = np.random.default_rng(1)
    a, b = pm1(rng, (101, 450)), pm1(rng, (70, 450))
    z = xnor_matmul(pack(a), pack(b), 450)
    np.testing.assert_array_equal(z, a.astype(np.int64) @ b.T.astype(np.int64))
    t = rng.integers(-40, 40, size=70).astype(np.int32)
    np.testing.assert_array_equal(unpack(xnor_sign_pack(pack(a), pack(b), 450, t), 70), np.where(z >= t, 1, -1))


def test_padding_must_not_corrupt_popcount() -> None:
    # Opposite vectors: padding bits are 0 in both operands, so they never count as disagreements.
    for n in (1, 65, 100):
        a = np.ones((1, n), dtype=np.int8)
        assert xnor_matmul(pack(a), pack(-a), n)[0, 0] == -n
        assert xnor_matmul(pack(a), pack(a), n)[0, 0] == n


def test_sign_pack_kernels_match_threshold_rule() -> None:
    rng = np.random.default_rng(2)
    m, n, k = 45, 130, 70
    a, w = pm1(rng, (m, n)), pm1(rng, (k, n))
    z = a.astype(np.int64) @ w.T.astype(np.int64)
    t = rng.integers(-12, 12, size=k).astype(np.int32)
    expect = np.where(z >= t, 1, -1)
    for backend in ("numba", "numpy"):
        np.testing.assert_array_equal(unpack(xnor_sign_pack(pack(a), pack(w), n, t, backend=backend), k), expect)
    x = rng.normal(size=(m, n)).astype(np.float32)
    zr = real_binary_matmul(x, pack(w), n)
    np.testing.assert_allclose(zr, x.astype(np.float64) @ w.T.astype(np.float64), rtol=0, atol=1e-9)
    np.testing.assert_allclose(zr, real_binary_matmul(x, pack(w), n, backend="numpy"), rtol=0, atol=1e-9)
    tr = rng.normal(size=k)
    tr[0], tr[1] = -np.inf, np.inf
    bits = unpack(real_sign_pack(x, pack(w), n, tr), k)
    np.testing.assert_array_equal(bits, np.where(zr >= tr, 1, -1))
    assert np.all(bits[:, 0] == 1) and np.all(bits[:, 1] == -1)


def test_kernels_validate_arguments() -> None:
    p = pack(np.ones((2, 10), dtype=np.int8))
    with pytest.raises(ValueError, match="packed from 10 entries per row, but n=100"):
        xnor_matmul(p, p, 100)
    with pytest.raises(ValueError, match="words per row"):  # a plain uint64 array has no n to compare
        xnor_matmul(np.asarray(p), np.asarray(p), 100)
    # same number of words, wrong n: -1 entries and padding look alike, so only the recorded n tells
    q = pack(-np.ones((1, 70), dtype=np.int8))
    assert xnor_matmul(q, pack(np.ones((1, 70), dtype=np.int8)), 70)[0, 0] == -70
    with pytest.raises(ValueError, match="packed from 70 entries per row, but n=100"):
        xnor_matmul(q, q, 100)
    with pytest.raises(TypeError, match="uint64"):
        xnor_matmul(p.astype(np.int64), p, 10)
    with pytest.raises(ValueError, match="backend"):
        xnor_matmul(p, p, 10, backend="cuda")
    with pytest.raises(ValueError, match="positive"):
        xnor_matmul(p, p, 0)
    with pytest.raises(TypeError, match="float"):
        real_binary_matmul(np.ones((2, 10), dtype=np.int8), p, 10)


def test_first_layer_guard_decides_near_ties_exactly() -> None:
    # Inputs on a 1/256 grid: every sum is exact in float32 and float64, so the
    # expected bits are known exactly. Thresholds at, just above and just below
    # the sums fall inside the float32 error bound and take the exact path.
    rng = np.random.default_rng(7)
    m, n, k = 9, 300, 70
    x = (rng.integers(-255, 256, size=(m, n)) / 256.0).astype(np.float32)
    w = pm1(rng, (k, n))
    z = x.astype(np.float64) @ w.T.astype(np.float64)
    for row in range(m):
        t = z[row].copy()
        t[1::3] += 1 / 512
        t[2::3] -= 1 / 512
        expect = np.where(z >= t[None, :], 1, -1)
        got = unpack(real_sign_pack(x, pack(w), n, t), k)
        np.testing.assert_array_equal(got, expect)
        assert np.all(got[row, 0::3] == 1) and np.all(got[row, 1::3] == -1) and np.all(got[row, 2::3] == 1)
    # float64 inputs that float32 cannot represent go through the float64 kernel
    x64 = x.astype(np.float64) + 1e-12
    t = np.zeros(k)
    z64 = x64 @ w.T.astype(np.float64)
    np.testing.assert_array_equal(unpack(real_sign_pack(x64, pack(w), n, t), k), np.where(z64 >= 0, 1, -1))


def test_prepared_panels_give_the_same_products_and_check_n() -> None:
    rng = np.random.default_rng(5)
    a, b = pm1(rng, (9, 130)), pm1(rng, (45, 130))
    prepared = kernels.xnor_panels(pack(b), 130)
    z = a.astype(np.int64) @ b.T.astype(np.int64)
    for backend in ("numba", "numpy"):
        np.testing.assert_array_equal(xnor_matmul(pack(a), prepared, 130, backend=backend), z)
        t = rng.integers(-20, 20, size=45).astype(np.int32)
        bits = xnor_sign_pack(pack(a), prepared, 130, t, backend=backend)
        np.testing.assert_array_equal(unpack(bits, 45), np.where(z >= t, 1, -1))
    with pytest.raises(ValueError, match="prepared for n=129, but n=130"):
        xnor_matmul(pack(a), kernels.xnor_panels(pack(b[:, :129]), 129), 130)
