"""The packed ±1 layout: packing, unpacking and validation, block by block.

Convention (that of ``numpy.packbits(x > 0, axis=1)``, big bit order): entry k of
a row is bit ``7 - k % 8`` of byte ``k // 8``; 1 ↔ +1, 0 ↔ −1; padding bits 0.
Every function here works on blocks of rows, so that no temporary is ever as
large as the dense matrix (which, for the sizes this layout is for, would not fit).
"""

from __future__ import annotations

import numpy as np

__all__ = ["packed_width", "pack_rows", "unpack_rows", "check_packbits", "padding_mask", "BLOCK_BYTES"]

#: Target size of the dense temporaries made while packing or unpacking a block of rows.
BLOCK_BYTES = 1 << 25


def packed_width(n: int) -> int:
    """Bytes per packed row of ``n`` ±1 entries: ⌈n/8⌉."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an integer, got {n!r} of type {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got n={n}")
    return (int(n) + 7) // 8


def padding_mask(n: int) -> int:
    """Bits of the last byte of a row that lie past entry n−1 (all must be 0), as an int mask."""
    pad = 8 * packed_width(n) - int(n)
    return (1 << pad) - 1


def block_rows(row_bytes: int) -> int:
    """Rows per block so that a dense block of ``row_bytes`` per row is about :data:`BLOCK_BYTES`."""
    return max(1, BLOCK_BYTES // max(1, int(row_bytes)))


def pack_rows(x: np.ndarray, name: str = "patterns") -> np.ndarray:
    """Pack a (P, N) ±1 array (any integer, float or bool dtype; bool True = +1) into bits.

    Returns the (P, ⌈N/8⌉) uint8 array ``numpy.packbits(x > 0, axis=1)``. Values other
    than ±1 raise ValueError naming ``name``; the check and the packing go block by block.
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (P, N) array, got shape {x.shape}")
    p, n = x.shape
    out = np.empty((p, packed_width(n)), dtype=np.uint8)
    step = block_rows(n * max(1, x.dtype.itemsize))
    for r0 in range(0, p, step):
        blk = x[r0 : r0 + step]
        if x.dtype != np.bool_:
            ok = (blk == 1) | (blk == -1)
            if not ok.all():
                bad = blk[~ok].ravel()[:3]
                raise ValueError(f"{name} must contain only +1 and -1, found values such as {bad.tolist()}")
        out[r0 : r0 + step] = np.packbits(blk > 0, axis=1)
    return out


def unpack_rows(bits: np.ndarray, n: int, rows: slice | np.ndarray | None = None, dtype=np.int8) -> np.ndarray:
    """The dense ±1 rows ``rows`` (all by default) of a packed matrix, as ``dtype``.

    The caller is responsible for the memory of the result (P_rows × n entries).
    """
    sel = bits if rows is None else bits[rows]
    if sel.ndim == 1:
        sel = sel[None, :]
    out = np.empty((sel.shape[0], n), dtype=dtype)
    step = block_rows(n)
    for r0 in range(0, sel.shape[0], step):
        u = np.unpackbits(sel[r0 : r0 + step], axis=1, count=n)
        np.multiply(u, 2, out=out[r0 : r0 + step], casting="unsafe")
        out[r0 : r0 + step] -= 1
    return out


def check_packbits(bits: np.ndarray, n: int, name: str = "bits") -> np.ndarray:
    """Validate a caller's packed ±1 matrix for ``n`` entries per row; return it C-contiguous.

    Requires dtype uint8, shape (P, ⌈n/8⌉) with P ≥ 1 and zero padding bits (a set
    padding bit would mean a row that is not the packing of any ±1 vector of length n).
    No copy is made when ``bits`` is already a C-contiguous uint8 array.
    """
    if isinstance(bits, np.ndarray) and bits.dtype != np.uint8:
        raise TypeError(f"{name} must be a uint8 array as returned by numpy.packbits, got dtype {bits.dtype}")
    bits = np.asarray(bits)
    if bits.dtype != np.uint8:
        raise TypeError(f"{name} must be a uint8 array as returned by numpy.packbits, got dtype {bits.dtype}")
    width = packed_width(n)
    if bits.ndim != 2 or bits.shape[1] != width or bits.shape[0] < 1:
        raise ValueError(
            f"{name} must have shape (P, ceil(n/8)) = (P, {width}) with P >= 1 for n={n}, got {bits.shape}"
        )
    mask = padding_mask(n)
    if mask:
        bad = np.flatnonzero(bits[:, -1] & np.uint8(mask))
        if bad.size:
            raise ValueError(
                f"{name}: row {int(bad[0])} has set bits past entry n-1={n - 1} (the padding of "
                f"numpy.packbits must be 0); is n={n} right?"
            )
    return np.ascontiguousarray(bits)
