"""Bit packing of ±1 arrays into 64-bit words.

Convention (used by every kernel, layer and file of :mod:`stochsyn.bitpack`):
element ``j`` of the last axis goes to word ``j // 64``, bit ``j % 64`` (least
significant bit first); a set bit means +1, a clear bit means −1. Positions
past ``n`` in the last word (the padding) are always 0.

With that convention the dot product of two ±1 vectors a, b of length n is

    a · b = n − 2 · popcount(pack(a) XOR pack(b)),

because XOR marks the positions where the signs differ, and the zero padding
of both operands never differs (Hubara et al., "Quantized Neural Networks",
arXiv:1609.07061, Sec. 2.3: XNOR-popcount).
"""

from __future__ import annotations

import numpy as np

__all__ = ["WORD_BITS", "n_words", "pack", "unpack", "padding_is_clear", "PackedArray"]

WORD_BITS = 64


class PackedArray(np.ndarray):
    """uint64 words from :func:`pack` that remember ``n``, the number of ±1 entries per row.

    A packed row cannot tell an entry −1 from padding, so the kernels check a
    ``PackedArray``'s ``n`` against the ``n`` they are given (``xnor_matmul(a, b, n=100)``
    on data packed from 70 columns is an error, not −40 instead of −70). Arithmetic and
    slicing give plain arrays back.
    """

    n: int

    def __array_finalize__(self, obj: object) -> None:
        self.n = getattr(obj, "n", -1)

    def __array_wrap__(self, out_arr, context=None, return_scalar=False):  # noqa: D105
        return np.asarray(out_arr)


def packed_n(arr: object) -> int | None:
    """The ``n`` a :class:`PackedArray` was packed with, else None."""
    n = getattr(arr, "n", None)
    return n if isinstance(n, int) and n >= 0 else None


def n_words(n: int) -> int:
    """Number of uint64 words holding ``n`` bits: ceil(n / 64)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n={n!r}: expected an int")
    if n < 0:
        raise ValueError(f"n={n}: expected a non-negative int")
    return (int(n) + WORD_BITS - 1) // WORD_BITS


def pack(x: np.ndarray) -> np.ndarray:
    """Pack a ±1 array (any shape, packing along the last axis) into uint64 words.

    ``x`` may be int8 (or any integer / float / bool array whose values are ±1;
    a bool array is read as True = +1, False = −1). Returns a C-contiguous
    uint64 array of shape ``x.shape[:-1] + (ceil(n / 64),)`` where ``n =
    x.shape[-1]``; bit ``j % 64`` of word ``j // 64`` is 1 iff ``x[..., j] == +1``.
    The padding bits past ``n`` are 0. Inverse: :func:`unpack`.
    """
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("x: expected an array with at least one axis, got a scalar")
    if x.dtype == np.bool_:
        bits = x
    elif np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating):
        ok = (x == 1) | (x == -1)
        if not bool(np.all(ok)):
            bad = x[~ok].ravel()[0]
            raise ValueError(f"x: expected only ±1 values, found {bad!r}")
        bits = x > 0
    else:
        raise TypeError(f"x: expected an integer, float or bool array of ±1, got dtype {x.dtype}")
    n = x.shape[-1]
    words = n_words(n)
    # packbits works on bytes; pad the bit axis to whole 64-bit words first so
    # the byte buffer can be reinterpreted as little-endian uint64.
    pad = words * WORD_BITS - n
    if pad:
        bits = np.concatenate([bits, np.zeros(x.shape[:-1] + (pad,), dtype=bool)], axis=-1)
    packed8 = np.packbits(bits, axis=-1, bitorder="little")
    packed8 = np.ascontiguousarray(packed8)
    out = np.ascontiguousarray(packed8.view("<u8"), dtype=np.uint64).view(PackedArray)
    out.n = int(n)
    return out


def unpack(packed: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`pack`: the int8 ±1 array of last-axis length ``n``.

    ``packed`` must be uint64 with ``ceil(n / 64)`` words on its last axis;
    padding bits are ignored.
    """
    packed = np.asarray(packed)
    if packed.dtype != np.uint64:
        raise TypeError(f"packed: expected dtype uint64, got {packed.dtype}")
    if packed.ndim == 0:
        raise ValueError("packed: expected an array with at least one axis, got a scalar")
    words = n_words(n)
    if packed.shape[-1] != words:
        raise ValueError(
            f"packed: last axis has {packed.shape[-1]} words, expected ceil(n/64) = {words} for n={n}"
        )
    bytes_ = np.ascontiguousarray(packed, dtype="<u8").view(np.uint8)
    bits = np.unpackbits(bytes_, axis=-1, count=n, bitorder="little")
    return (bits.astype(np.int8) * np.int8(2) - np.int8(1)).astype(np.int8)


def padding_is_clear(packed: np.ndarray, n: int) -> bool:
    """True iff every bit past position ``n`` in the last word of ``packed`` is 0.

    The XNOR-popcount identity needs clear padding in both operands; loaders
    use this to reject files whose packed weights were altered.
    """
    packed = np.asarray(packed)
    rem = int(n) % WORD_BITS
    if rem == 0 or packed.size == 0:
        return True
    mask = np.uint64((1 << rem) - 1)
    return bool(np.all((packed[..., -1] & ~mask) == 0))
