"""Products of a packed ±1 matrix ξ (layout of :mod:`.layout`) with vectors, in numba.

With b_μk ∈ {0, 1} the bit of entry ξ_μk = 2 b_μk − 1,

    (ξ v)_μ = 2 Σ_{k: b_μk = 1} v_k − Σ_k v_k,        (ξᵀ g)_k = 2 Σ_{μ: b_μk = 1} g_μ − Σ_μ g_μ,

so both products only need sums over the set bits. The kernels read the bits as
64-bit words (one unaligned load per 8 bytes) and turn each word into lane masks,
which LLVM compiles to AVX-512 mask registers with masked vector adds where the
CPU has them (``kmov`` + ``vaddps {k}``); the last, partial word of a row is
assembled from its bytes. Sums run in float32 lanes and are combined in float64.

For a ±1 vector s packed the same way (``pack_signs``), ξ_μ · s = N − 2 popcount(b_μ XOR s)
is exact; the row kernel computes it in the same pass as ξ·v, which is how the
stochastic solver checks its deployed weights sign(m) at no extra read of ξ.

Slots: inside one byte the layout is most-significant-bit first, while bit t of a
little-endian 64-bit load is bit t % 8 of byte t // 8. The kernels therefore use vectors
in *slot order*: entry 8j + k of v sits at slot 8j + 7 − k (the bits of each byte
reversed), see :func:`to_slots` / :func:`from_slots`.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from .layout import packed_width

__all__ = ["rows_dot", "cols_dot", "sign_dot", "pack_signs", "to_slots", "from_slots", "load_u64", "popcount", "prefetch"]

# Rows per tile of the transposed product: the tile's words stay in L1 while a
# register block of 64 column sums sweeps it (measured best at N = 10^4..10^5).
_TILE_ROWS = 64
_TILE_WORDS = 128
# The tile reads 64 rows 12.5 kB apart (N = 10^5): more streams than the hardware
# prefetcher follows, so the kernel prefetches each row 128 bytes ahead (-15% time).
_PREFETCH_AHEAD = 128


@intrinsic
def load_u64(typingctx, arr, r, j):
    """Bytes ``arr[r, j:j+8]`` of a C-contiguous 2-D uint8 array as one little-endian uint64.

    An unaligned 8-byte load: rows of a packed matrix are ⌈N/8⌉ bytes, not a multiple of 8.
    """
    if not (isinstance(arr, types.Array) and arr.ndim == 2 and arr.dtype == types.uint8):
        return None
    sig = types.uint64(arr, r, j)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        strides = cgutils.unpack_tuple(builder, ary.strides, 2)
        ri = context.cast(builder, args[1], signature.args[1], types.intp)
        ji = context.cast(builder, args[2], signature.args[2], types.intp)
        ptr = builder.gep(ary.data, [builder.add(builder.mul(ri, strides[0]), ji)])
        return builder.load(builder.bitcast(ptr, ir.IntType(64).as_pointer()), align=1)

    return sig, codegen


@intrinsic
def prefetch(typingctx, arr, r, j):
    """Hint the CPU to load ``arr[r, j]`` into cache (LLVM ``llvm.prefetch``, read, high locality)."""
    if not (isinstance(arr, types.Array) and arr.ndim == 2):
        return None
    sig = types.void(arr, r, j)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        strides = cgutils.unpack_tuple(builder, ary.strides, 2)
        ri = context.cast(builder, args[1], signature.args[1], types.intp)
        ji = context.cast(builder, args[2], signature.args[2], types.intp)
        ptr = builder.gep(ary.data, [builder.add(builder.mul(ri, strides[0]), ji)])
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def popcount(typingctx, x):
    """Number of set bits of a 64-bit word (LLVM ``ctpop``: the POPCNT instruction)."""
    if not isinstance(x, types.Integer):
        return None
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(context.cast(builder, args[0], signature.args[0], types.uint64))

    return sig, codegen


@njit(cache=True, inline="always", boundscheck=False)
def _word(bits, r, q, nw, nbyt):  # pragma: no cover - compiled
    """Word q of row r; the last, partial word (q == nw) is assembled from its bytes."""
    if q < nw:
        return load_u64(bits, r, 8 * q)
    w = np.uint64(0)
    for j in range(8 * q, nbyt):
        w |= np.uint64(bits[r, j]) << np.uint64(8 * (j - 8 * q))
    return w


@njit(parallel=True, fastmath=True, cache=True, boundscheck=False)
def _rows_kernel(bits, vs, sbits, out_v, out_c):  # pragma: no cover - compiled
    p, nbyt = bits.shape
    nw = nbyt // 8
    zero = np.float32(0.0)
    for r in prange(p):
        acc = np.zeros(32, dtype=np.float32)
        c = np.uint64(0)
        for q in range(nw):
            w = load_u64(bits, r, 8 * q)
            c += popcount(w ^ load_u64(sbits, 0, 8 * q))
            lo = np.uint32(w & np.uint64(0xFFFFFFFF))
            hi = np.uint32(w >> np.uint64(32))
            base = 64 * q
            for t in range(32):
                acc[t] += vs[base + t] if (lo >> np.uint32(t)) & np.uint32(1) else zero
            for t in range(32):
                acc[t] += vs[base + 32 + t] if (hi >> np.uint32(t)) & np.uint32(1) else zero
        s = 0.0
        for t in range(32):
            s += acc[t]
        out_v[r] = s
        out_c[r] = c


@njit(parallel=True, fastmath=True, cache=True, boundscheck=False)
def _cols_kernel(bits, g, out, nthr, tile_rows, tile_words, ahead):  # pragma: no cover - compiled
    # out[slot] = Σ_r g[r] · bit(slot) of row r; threads own disjoint word ranges. ``out`` is
    # float32 so that a tile's 128 words x 64 sums (32 KiB) stay in L1 (float64 measured 1.6x slower).
    p, nbyt = bits.shape
    nw = nbyt // 8
    zero = np.float32(0.0)
    for tb in prange(nthr):
        qa = tb * nw // nthr
        qb = (tb + 1) * nw // nthr
        for k in range(64 * qa, 64 * qb):
            out[k] = 0.0
        for q0 in range(qa, qb, tile_words):
            q1 = min(qb, q0 + tile_words)
            for r0 in range(0, p, tile_rows):
                r1 = min(p, r0 + tile_rows)
                for q in range(q0, q1):
                    lo_acc = np.zeros(32, dtype=np.float32)
                    hi_acc = np.zeros(32, dtype=np.float32)
                    pf = 8 * q + ahead
                    fetch = (q & 7) == 0 and pf < nbyt  # once per 64-byte step of a row
                    for r in range(r0, r1):
                        if fetch:
                            prefetch(bits, r, pf)
                        w = load_u64(bits, r, 8 * q)
                        gv = g[r]
                        lo = np.uint32(w & np.uint64(0xFFFFFFFF))
                        hi = np.uint32(w >> np.uint64(32))
                        for t in range(32):
                            lo_acc[t] += gv if (lo >> np.uint32(t)) & np.uint32(1) else zero
                            hi_acc[t] += gv if (hi >> np.uint32(t)) & np.uint32(1) else zero
                    for t in range(32):
                        out[64 * q + t] += lo_acc[t]
                        out[64 * q + 32 + t] += hi_acc[t]


# The last, partial word of each row (when ⌈N/8⌉ is not a multiple of 8) is handled
# by kernels of its own: a branch for it inside the word loops above changes how LLVM
# compiles them (measured 1.1-1.4x slower at N = 10^5).


@njit(parallel=True, fastmath=True, cache=True, boundscheck=False)
def _rows_tail(bits, vs, sbits, out_v, out_c):  # pragma: no cover - compiled
    p, nbyt = bits.shape
    nw = nbyt // 8
    zero = np.float32(0.0)
    base = 64 * nw
    sw = _word(sbits, 0, nw, nw, nbyt)
    for r in prange(p):
        w = _word(bits, r, nw, nw, nbyt)
        lo = np.uint32(w & np.uint64(0xFFFFFFFF))
        hi = np.uint32(w >> np.uint64(32))
        acc = np.zeros(32, dtype=np.float32)
        for t in range(32):
            acc[t] += vs[base + t] if (lo >> np.uint32(t)) & np.uint32(1) else zero
            acc[t] += vs[base + 32 + t] if (hi >> np.uint32(t)) & np.uint32(1) else zero
        s = 0.0
        for t in range(32):
            s += acc[t]
        out_v[r] += s
        out_c[r] += popcount(w ^ sw)


@njit(cache=True, fastmath=True, boundscheck=False)
def _cols_tail(bits, g, out):  # pragma: no cover - compiled
    p, nbyt = bits.shape
    nw = nbyt // 8
    zero = np.float32(0.0)
    lo_acc = np.zeros(32, dtype=np.float32)
    hi_acc = np.zeros(32, dtype=np.float32)
    for r in range(p):
        w = _word(bits, r, nw, nw, nbyt)
        gv = g[r]
        lo = np.uint32(w & np.uint64(0xFFFFFFFF))
        hi = np.uint32(w >> np.uint64(32))
        for t in range(32):
            lo_acc[t] += gv if (lo >> np.uint32(t)) & np.uint32(1) else zero
            hi_acc[t] += gv if (hi >> np.uint32(t)) & np.uint32(1) else zero
    for t in range(32):
        out[64 * nw + t] = lo_acc[t]
        out[64 * nw + 32 + t] = hi_acc[t]


@njit(parallel=True, cache=True, boundscheck=False)
def _sign_kernel(bits, sbits, out_c):  # pragma: no cover - compiled
    p, nbyt = bits.shape
    nw = nbyt // 8
    for r in prange(p):
        c = np.uint64(0)
        for q in range((nbyt + 7) // 8):
            c += popcount(_word(bits, r, q, nw, nbyt) ^ _word(sbits, 0, q, nw, nbyt))
        out_c[r] = c


def _n_slots(n: int) -> int:
    """Slots for n entries: whole 64-bit words, 64⌈⌈n/8⌉/8⌉ (the last word may be partial)."""
    return 64 * ((packed_width(n) + 7) // 8)


def to_slots(v: np.ndarray, n: int) -> np.ndarray:
    """``v`` (length n) as a float32 vector in slot order (zeros past n, whole words)."""
    out = np.zeros(_n_slots(n), dtype=np.float32)
    out[:n] = v
    return np.ascontiguousarray(out.reshape(-1, 8)[:, ::-1]).reshape(-1)


def from_slots(s: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`to_slots`: the first ``n`` entries in column order."""
    return s.reshape(-1, 8)[:, ::-1].reshape(-1)[:n]


def pack_signs(v: np.ndarray) -> np.ndarray:
    """The ±1 vector sign(v) (sign(0) := +1) packed as a (1, ⌈n/8⌉) uint8 row."""
    return np.packbits(np.asarray(v) >= 0)[None, :]


def rows_dot(bits: np.ndarray, n: int, v: np.ndarray, s_packed: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """(ξ·v, ξ·s) for a packed (P, ⌈n/8⌉) matrix in one pass over the bits.

    Args:
        bits: C-contiguous packed ±1 matrix (see :mod:`.layout`).
        n: entries per row N.
        v: (N,) real vector; the sums run in float32 lanes.
        s_packed: optional packed ±1 vector (:func:`pack_signs`); its product is exact.

    Returns:
        (float64 (P,) ξ·v, int64 (P,) ξ·s or None).
    """
    v = np.asarray(v)
    p = bits.shape[0]
    sb = s_packed if s_packed is not None else np.zeros((1, bits.shape[1]), dtype=np.uint8)
    out_v = np.empty(p, dtype=np.float64)
    out_c = np.empty(p, dtype=np.uint64)
    vs = to_slots(v, n)
    _rows_kernel(bits, vs, sb, out_v, out_c)
    if bits.shape[1] % 8:
        _rows_tail(bits, vs, sb, out_v, out_c)
    out_v *= 2.0
    out_v -= float(np.sum(v, dtype=np.float64))
    if s_packed is None:
        return out_v, None
    return out_v, n - 2 * out_c.astype(np.int64)


def cols_dot(bits: np.ndarray, n: int, g: np.ndarray) -> np.ndarray:
    """ξᵀ·g (length N, float64) for a packed (P, ⌈n/8⌉) matrix and a (P,) real vector g."""
    g32 = np.ascontiguousarray(g, dtype=np.float32)
    out = np.empty(_n_slots(n), dtype=np.float32)
    _cols_kernel(bits, g32, out, nb.get_num_threads(), _TILE_ROWS, _TILE_WORDS, _PREFETCH_AHEAD)
    if bits.shape[1] % 8:
        _cols_tail(bits, g32, out)
    res = from_slots(out, n).astype(np.float64) * 2.0
    res -= float(np.sum(g32, dtype=np.float64))
    return res


def sign_dot(bits: np.ndarray, n: int, s_packed: np.ndarray) -> np.ndarray:
    """Exact integer ξ·s (int64, (P,)) for a packed ±1 vector s: N − 2 popcount(ξ_μ XOR s)."""
    out_c = np.empty(bits.shape[0], dtype=np.uint64)
    _sign_kernel(bits, s_packed, out_c)
    return n - 2 * out_c.astype(np.int64)
