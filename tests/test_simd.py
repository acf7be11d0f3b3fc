"""The eight-lane uint64 vector intrinsics of stochsyn.packed.simd, against numpy."""

from __future__ import annotations

import numpy as np
from numba import njit

from stochsyn.packed.simd import (
    v_broadcast,
    v_load,
    v_sign_bits,
    v_store,
    v_store_affine_i32,
    v_xor_popcount_add,
    v_zero,
)


@njit(cache=False)
def _xpa(acc, x, y, out):  # pragma: no cover - compiled
    v = v_xor_popcount_add(v_load(acc, 0), v_load(x, 0), v_load(y, 0))
    v = v_xor_popcount_add(v, v_broadcast(x[3]), v_zero())
    v_store(out, 0, v)


@njit(cache=False)
def _affine(counts, n, out, row, col):  # pragma: no cover - compiled
    v_store_affine_i32(out, row, col, n, v_load(counts, 0))


@njit(cache=False)
def _bits(n, counts, t):  # pragma: no cover - compiled
    return v_sign_bits(n, v_load(counts, 0), v_load(t, 0))


def test_xor_popcount_add_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    acc = rng.integers(0, 1000, size=8, dtype=np.uint64)
    x = rng.integers(0, 2**63, size=8, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    y = rng.integers(0, 2**63, size=8, dtype=np.uint64)
    out = np.zeros(8, dtype=np.uint64)
    _xpa(acc, x, y, out)
    expected = acc + np.bitwise_count(x ^ y).astype(np.uint64) + np.bitwise_count(x[3]).astype(np.uint64)
    np.testing.assert_array_equal(out, expected)


def test_affine_store_writes_one_row_slice_only() -> None:
    counts = np.arange(8, dtype=np.uint64) * np.uint64(3)
    out = np.full((3, 20), -7, dtype=np.int32)
    _affine(counts, 100, out, 1, 5)
    expected = np.full((3, 20), -7, dtype=np.int32)
    expected[1, 5:13] = 100 - 2 * counts.astype(np.int64)
    np.testing.assert_array_equal(out, expected)


def test_sign_bits_is_the_signed_comparison() -> None:
    n = 64
    counts = np.array([0, 64, 32, 31, 33, 10, 50, 64], dtype=np.uint64)  # sums 64, -64, 0, 2, -2, 44, -36, -64
    t = np.array([64, -64, 1, 2, -1, -1000, 1000, -65], dtype=np.int64)
    sums = n - 2 * counts.astype(np.int64)
    expected = sum(1 << lane for lane in range(8) if sums[lane] >= t[lane])
    assert _bits(n, counts, t) == expected
