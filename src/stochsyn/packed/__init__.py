"""Bit-packed ±1 matrices: one layout for perceptron patterns, and the products that read it.

The layout is exactly what :func:`numpy.packbits` returns along the last axis with its
default big bit order: entry ``k`` of a row lives in byte ``k // 8``, bit ``7 - k % 8``
(most significant bit first), a set bit means +1 and a clear bit −1, and the bits past
``n`` in the last byte are 0. A (P, N) ±1 matrix therefore takes P·⌈N/8⌉ bytes, one bit
per entry (8x less than int8, 32x less than float32).

* :mod:`.layout` — packing (in row blocks, without full-size temporaries), unpacking,
  validation of a caller's packed array, block-wise generation of random packed rows.
* :mod:`.products` — numba kernels for the products a solver needs: ξ·v together with
  the exact integer ξ·s of a ±1 vector s (popcount), and ξᵀ·g, reading the bits directly.
"""

from .layout import (
    check_packbits,
    pack_rows,
    packed_width,
    unpack_rows,
)
from .products import cols_dot, pack_signs, rows_dot, sign_dot

__all__ = [
    "packed_width",
    "pack_rows",
    "unpack_rows",
    "check_packbits",
    "pack_signs",
    "rows_dot",
    "cols_dot",
    "sign_dot",
]
