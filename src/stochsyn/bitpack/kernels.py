"""Matrix kernels on bit-packed ±1 matrices.

* :func:`xnor_matmul` — exact integer product A·Bᵀ of two ±1 matrices given
  packed (see :mod:`stochsyn.bitpack.packing`):
  (A·Bᵀ)_ik = n − 2 · Σ_w popcount(a_iw XOR b_kw)
  (XNOR-popcount, Hubara et al., arXiv:1609.07061, Sec. 2.3; Rastegari et al.,
  XNOR-Net, arXiv:1603.05279).
* :func:`real_binary_matmul` — X·Wᵀ for a real matrix X and a packed ±1 matrix W
  (the first layer of a binary network sees real inputs), accumulated in
  float64: Σ_j W_kj x_ij = 2 Σ_{j: W_kj=+1} x_ij − Σ_j x_ij.

Each kernel has a numba backend and a pure-numpy backend (``np.bitwise_count``)
used as a reference and as a fallback when numba is unavailable. The numba XNOR
kernel is written on eight-lane uint64 vectors (:mod:`stochsyn.packed.simd`):
B is copied into panels of 32 rows stored word-major, and a register tile of 4
A rows × 32 B rows keeps 16 vector accumulators, so that the loop is bound by
the popcount unit (AVX-512 VPOPCNTQ on zmm registers where the CPU has it; a
nibble-lookup popcount on AVX2), not by memory; tasks (row blocks × panel
groups) are spread over threads with ``prange``. The real-input kernels use
4 × 4 register tiles of float sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .packing import n_words, packed_n

__all__ = [
    "BACKENDS",
    "XnorPanels",
    "xnor_panels",
    "xnor_matmul",
    "real_binary_matmul",
    "xnor_sign_pack",
    "real_sign_pack",
]

BACKENDS = ("numba", "numpy")

try:  # numba is a declared dependency; the numpy path keeps working without it
    import numba
    from numba import njit, prange

    _HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only on broken installs
    _HAVE_NUMBA = False

# XNOR product: B rows per panel (4 vectors of 8 lanes; see _micro_4x32), panel
# words per L1-resident chunk, and the largest number of A rows per parallel task.
_PANEL = 32
_W_CHUNK = 64
_ROW_BLOCK = 64
# Upper bound on the temporary (rows × K × words) array of the numpy backend.
_NUMPY_CHUNK_BYTES = 32 * 1024 * 1024


def _check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r}: expected one of {BACKENDS}")
    if backend == "numba" and not _HAVE_NUMBA:  # pragma: no cover
        return "numpy"
    return backend


def _check_packed(name: str, arr: np.ndarray, n: int) -> np.ndarray:
    packed_with = packed_n(arr)
    if packed_with is not None and packed_with != n:
        raise ValueError(f"{name} was packed from {packed_with} entries per row, but n={n} was given")
    arr = np.asarray(arr)
    if arr.dtype != np.uint64:
        raise TypeError(f"{name}: expected dtype uint64 (from bitpack.pack), got {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-d packed matrix, got shape {arr.shape}")
    if arr.shape[1] != n_words(n):
        raise ValueError(f"{name}: has {arr.shape[1]} words per row, expected ceil(n/64) = {n_words(n)} for n={n}")
    return np.ascontiguousarray(arr)


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n={n!r}: expected an int")
    if n < 1:
        raise ValueError(f"n={n}: expected a positive int (number of ±1 entries per row)")
    return int(n)


if _HAVE_NUMBA:
    # eight-lane uint64 vectors (LLVM <8 x i64>): vpopcntq on zmm registers where the CPU has it
    from ..packed.simd import (
        v_broadcast,
        v_zero,
        v_load,
        v_sign_bits,
        v_store,
        v_store_affine_i32,
        v_xor_popcount_add,
    )

    @njit(cache=True, inline="always")
    def _guard_decide(zz, t, bound):
        """(bit, unsure) for [exact sum >= t] from a float32 sum zz within ``bound`` of the exact one:
        bit = zz > t + margin (branch-free: the comparisons are close to random); unsure when
        |zz − t| <= margin, where the caller recomputes the sum exactly."""
        d = zz - t
        margin = bound + 1e-15 * (abs(zz) + abs(t))
        return d > margin, abs(d) <= margin

    # The ±1 product runs on 512-bit vectors (stochsyn.packed.simd): B is copied
    # into panels of _PANEL = 32 rows stored word-major (panel[w, jj] = b[q·32 + jj, w]),
    # so one vector load gives word w of 8 consecutive B rows, and a register
    # tile of 4 A rows × 32 B rows (16 vector accumulators) does 16
    # xor-popcount-adds per 4 broadcasts and 4 loads: the kernel is bound by
    # the popcount unit, not by memory. Counts stay in uint64 lanes; the panel
    # of one task is swept in chunks of _W_CHUNK words (_W_CHUNK·32·8 bytes,
    # 16 KiB, stays in L1 while the task's rows pass over it).

    @njit(cache=True, parallel=True)
    def _pack_panels(b, n_panels):
        """Flat uint64 (n_panels·nw·32): entry (q·nw + w)·32 + jj = b[q·32 + jj, w] (0 past the last row)."""
        k, nw = b.shape
        panels = np.empty(n_panels * nw * _PANEL, dtype=np.uint64)
        for q in prange(n_panels):
            for jj in range(_PANEL):
                j = q * _PANEL + jj
                base = q * nw * _PANEL + jj
                if j < k:
                    for w in range(nw):
                        panels[base + w * _PANEL] = b[j, w]
                else:
                    for w in range(nw):
                        panels[base + w * _PANEL] = 0
        return panels

    @njit(cache=True, inline="always")
    def _micro_4x32(a, i, panels, pbase, w0, w1, acc, abase, fresh):
        """acc[abase + 32 r + jj] (+)= Σ_{w0 ≤ w < w1} popcount(a[i + r, w] XOR panel[w, jj]), r < 4, jj < 32;
        ``fresh``: start from 0 instead of adding to acc (the first word chunk)."""
        if fresh:
            z = v_zero()
            c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = z
            c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = z
        else:
            c00 = v_load(acc, abase)
            c01 = v_load(acc, abase + 8)
            c02 = v_load(acc, abase + 16)
            c03 = v_load(acc, abase + 24)
            c10 = v_load(acc, abase + 32)
            c11 = v_load(acc, abase + 40)
            c12 = v_load(acc, abase + 48)
            c13 = v_load(acc, abase + 56)
            c20 = v_load(acc, abase + 64)
            c21 = v_load(acc, abase + 72)
            c22 = v_load(acc, abase + 80)
            c23 = v_load(acc, abase + 88)
            c30 = v_load(acc, abase + 96)
            c31 = v_load(acc, abase + 104)
            c32 = v_load(acc, abase + 112)
            c33 = v_load(acc, abase + 120)
        for w in range(w0, w1):
            x0 = v_broadcast(a[i, w])
            x1 = v_broadcast(a[i + 1, w])
            x2 = v_broadcast(a[i + 2, w])
            x3 = v_broadcast(a[i + 3, w])
            o = pbase + w * _PANEL
            y = v_load(panels, o)
            c00 = v_xor_popcount_add(c00, x0, y)
            c10 = v_xor_popcount_add(c10, x1, y)
            c20 = v_xor_popcount_add(c20, x2, y)
            c30 = v_xor_popcount_add(c30, x3, y)
            y = v_load(panels, o + 8)
            c01 = v_xor_popcount_add(c01, x0, y)
            c11 = v_xor_popcount_add(c11, x1, y)
            c21 = v_xor_popcount_add(c21, x2, y)
            c31 = v_xor_popcount_add(c31, x3, y)
            y = v_load(panels, o + 16)
            c02 = v_xor_popcount_add(c02, x0, y)
            c12 = v_xor_popcount_add(c12, x1, y)
            c22 = v_xor_popcount_add(c22, x2, y)
            c32 = v_xor_popcount_add(c32, x3, y)
            y = v_load(panels, o + 24)
            c03 = v_xor_popcount_add(c03, x0, y)
            c13 = v_xor_popcount_add(c13, x1, y)
            c23 = v_xor_popcount_add(c23, x2, y)
            c33 = v_xor_popcount_add(c33, x3, y)
        v_store(acc, abase, c00)
        v_store(acc, abase + 8, c01)
        v_store(acc, abase + 16, c02)
        v_store(acc, abase + 24, c03)
        v_store(acc, abase + 32, c10)
        v_store(acc, abase + 40, c11)
        v_store(acc, abase + 48, c12)
        v_store(acc, abase + 56, c13)
        v_store(acc, abase + 64, c20)
        v_store(acc, abase + 72, c21)
        v_store(acc, abase + 80, c22)
        v_store(acc, abase + 88, c23)
        v_store(acc, abase + 96, c30)
        v_store(acc, abase + 104, c31)
        v_store(acc, abase + 112, c32)
        v_store(acc, abase + 120, c33)

    @njit(cache=True, inline="always")
    def _micro_1x32(a, i, panels, pbase, w0, w1, acc, abase, fresh):
        """The one-row version of :func:`_micro_4x32` (row tails and single inputs)."""
        if fresh:
            c0 = c1 = c2 = c3 = v_zero()
        else:
            c0 = v_load(acc, abase)
            c1 = v_load(acc, abase + 8)
            c2 = v_load(acc, abase + 16)
            c3 = v_load(acc, abase + 24)
        for w in range(w0, w1):
            x = v_broadcast(a[i, w])
            o = pbase + w * _PANEL
            c0 = v_xor_popcount_add(c0, x, v_load(panels, o))
            c1 = v_xor_popcount_add(c1, x, v_load(panels, o + 8))
            c2 = v_xor_popcount_add(c2, x, v_load(panels, o + 16))
            c3 = v_xor_popcount_add(c3, x, v_load(panels, o + 24))
        v_store(acc, abase, c0)
        v_store(acc, abase + 8, c1)
        v_store(acc, abase + 16, c2)
        v_store(acc, abase + 24, c3)

    @njit(cache=True, inline="always")
    def _count_panel(a, panels, q, i0, rows, w_chunk, acc):
        """acc[32 r + jj] = popcount(a[i0 + r] XOR b[32 q + jj]) over all words, r < rows."""
        nw = a.shape[1]
        pbase = q * nw * _PANEL
        for w0 in range(0, nw, w_chunk):
            w1 = min(nw, w0 + w_chunk)
            r = 0
            while r + 4 <= rows:
                _micro_4x32(a, i0 + r, panels, pbase, w0, w1, acc, r * _PANEL, w0 == 0)
                r += 4
            while r < rows:
                _micro_1x32(a, i0 + r, panels, pbase, w0, w1, acc, r * _PANEL, w0 == 0)
                r += 1

    @njit(cache=True, inline="always")
    def _task_tile(task, m, n_panels, row_block, panel_group):
        """(first row, rows, first panel, end panel) of one task; group-major, so that a
        thread's consecutive tasks reuse one panel group (in L2)."""
        n_rb = (m + row_block - 1) // row_block
        i0 = (task % n_rb) * row_block
        q0 = (task // n_rb) * panel_group
        return i0, min(m, i0 + row_block) - i0, q0, min(n_panels, q0 + panel_group)

    @njit(cache=True, inline="always")
    def _n_tasks(m, n_panels, row_block, panel_group):
        return ((m + row_block - 1) // row_block) * ((n_panels + panel_group - 1) // panel_group)

    @njit(cache=True, inline="always")
    def _matmul_task(a, panels, n, k, out, row_block, panel_group, w_chunk, task):
        """out[i, j] = n − 2 popcount(a_i XOR b_j) on the tile of one task."""
        n_panels = panels.shape[0] // (a.shape[1] * _PANEL)
        i0, rows, q0, q1 = _task_tile(task, a.shape[0], n_panels, row_block, panel_group)
        acc = np.empty(row_block * _PANEL, dtype=np.uint64)
        for q in range(q0, q1):
            _count_panel(a, panels, q, i0, rows, w_chunk, acc)
            j0 = q * _PANEL
            width = min(_PANEL, k - j0)
            for r in range(rows):
                if width == _PANEL:
                    for v in range(0, _PANEL, 8):
                        v_store_affine_i32(out, i0 + r, j0 + v, n, v_load(acc, r * _PANEL + v))
                else:
                    for jj in range(width):
                        out[i0 + r, j0 + jj] = n - 2 * np.int64(acc[r * _PANEL + jj])

    @njit(cache=True, parallel=True)
    def _xnor_matmul_numba(a, panels, n, k, out, row_block, panel_group, w_chunk):
        """All tasks of :func:`_matmul_task` over the thread pool."""
        n_panels = panels.shape[0] // (a.shape[1] * _PANEL)
        for task in prange(_n_tasks(a.shape[0], n_panels, row_block, panel_group)):
            _matmul_task(a, panels, n, k, out, row_block, panel_group, w_chunk, task)

    # Products of a few microseconds run on the calling thread. (A separate function:
    # numba's cache would mix up two dispatchers of one Python function.)
    @njit(cache=True)
    def _xnor_matmul_serial(a, panels, n, k, out, row_block, panel_group, w_chunk):
        n_panels = panels.shape[0] // (a.shape[1] * _PANEL)
        for task in range(_n_tasks(a.shape[0], n_panels, row_block, panel_group)):
            _matmul_task(a, panels, n, k, out, row_block, panel_group, w_chunk, task)

    @njit(cache=True, inline="always")
    def _sign_pack_task(a, panels, n, k, thresholds, out, row_block, panel_group, w_chunk, task):
        """Bit j of out row i = [n − 2 popcount(a_i XOR b_j) ≥ thresholds[j]], packed 64 per
        word, on the tile of one task; ``thresholds`` int64 padded to whole panels; panel_group even."""
        n_panels = panels.shape[0] // (a.shape[1] * _PANEL)
        i0, rows, q0, q1 = _task_tile(task, a.shape[0], n_panels, row_block, panel_group)
        acc = np.empty(row_block * _PANEL, dtype=np.uint64)
        for q in range(q0, q1):
            _count_panel(a, panels, q, i0, rows, w_chunk, acc)
            j0 = q * _PANEL
            width = min(_PANEL, k - j0)
            keep = (np.uint64(1) << np.uint64(width)) - np.uint64(1)
            shift = np.uint64(j0 % 64)
            for r in range(rows):
                bits = np.uint64(0)
                for v in range(0, _PANEL, 8):
                    lanes = v_sign_bits(n, v_load(acc, r * _PANEL + v), v_load(thresholds, j0 + v))
                    bits |= lanes << np.uint64(v)
                bits = (bits & keep) << shift
                # panels 2p and 2p + 1 fill word p, the even one first (same task)
                if shift == 0:
                    out[i0 + r, j0 // 64] = bits
                else:
                    out[i0 + r, j0 // 64] |= bits

    @njit(cache=True, parallel=True)
    def _xnor_sign_pack_numba(a, panels, n, k, thresholds, out, row_block, panel_group, w_chunk):
        """All tasks of :func:`_sign_pack_task` over the thread pool."""
        n_panels = panels.shape[0] // (a.shape[1] * _PANEL)
        for task in prange(_n_tasks(a.shape[0], n_panels, row_block, panel_group)):
            _sign_pack_task(a, panels, n, k, thresholds, out, row_block, panel_group, w_chunk, task)

    @njit(cache=True)
    def _xnor_sign_pack_serial(a, panels, n, k, thresholds, out, row_block, panel_group, w_chunk):
        n_panels = panels.shape[0] // (a.shape[1] * _PANEL)
        for task in range(_n_tasks(a.shape[0], n_panels, row_block, panel_group)):
            _sign_pack_task(a, panels, n, k, thresholds, out, row_block, panel_group, w_chunk, task)

    @njit(cache=True)
    def _expand_rows(w, n, k0, k1, dest):
        """dest[k - k0, j] = ±1.0 for the packed rows k0..k1 of w."""
        for k in range(k0, k1):
            for j in range(n):
                bit = (w[k, j >> 6] >> np.uint64(j & 63)) & np.uint64(1)
                dest[k - k0, j] = 2.0 * np.float64(bit) - 1.0

    @njit(cache=True, fastmath={"reassoc", "contract"})
    def _real_dot(x, i, wt, t, n):
        s = wt[t, 0] - wt[t, 0]
        for j in range(n):
            s += x[i, j] * wt[t, j]
        return s

    # A 4 rows x 4 units register tile: 8 loads feed 16 multiply-adds. The sums
    # are accumulated in wt's dtype (float64, or float32 for the guarded fast
    # path). reassoc lets LLVM vectorize them; the summation order is still
    # fixed by the compiled code, so results are deterministic.
    @njit(cache=True, fastmath={"reassoc", "contract"})
    def _real_rows(x, wt, i0, i1, k0, k1, out, oi0):
        n = x.shape[1]
        i = i0
        while i + 4 <= i1:
            r = i - oi0
            k = k0
            while k + 4 <= k1:
                t = k - k0
                zero = wt[t, 0] - wt[t, 0]
                s00 = s01 = s02 = s03 = zero
                s10 = s11 = s12 = s13 = zero
                s20 = s21 = s22 = s23 = zero
                s30 = s31 = s32 = s33 = zero
                for j in range(n):
                    w0 = wt[t, j]
                    w1 = wt[t + 1, j]
                    w2 = wt[t + 2, j]
                    w3 = wt[t + 3, j]
                    x0 = x[i, j]
                    x1 = x[i + 1, j]
                    x2 = x[i + 2, j]
                    x3 = x[i + 3, j]
                    s00 += x0 * w0
                    s01 += x0 * w1
                    s02 += x0 * w2
                    s03 += x0 * w3
                    s10 += x1 * w0
                    s11 += x1 * w1
                    s12 += x1 * w2
                    s13 += x1 * w3
                    s20 += x2 * w0
                    s21 += x2 * w1
                    s22 += x2 * w2
                    s23 += x2 * w3
                    s30 += x3 * w0
                    s31 += x3 * w1
                    s32 += x3 * w2
                    s33 += x3 * w3
                out[r, k] = s00
                out[r, k + 1] = s01
                out[r, k + 2] = s02
                out[r, k + 3] = s03
                out[r + 1, k] = s10
                out[r + 1, k + 1] = s11
                out[r + 1, k + 2] = s12
                out[r + 1, k + 3] = s13
                out[r + 2, k] = s20
                out[r + 2, k + 1] = s21
                out[r + 2, k + 2] = s22
                out[r + 2, k + 3] = s23
                out[r + 3, k] = s30
                out[r + 3, k + 1] = s31
                out[r + 3, k + 2] = s32
                out[r + 3, k + 3] = s33
                k += 4
            while k < k1:
                for ii in range(i, i + 4):
                    out[ii - oi0, k] = _real_dot(x, ii, wt, k - k0, n)
                k += 1
            i += 4
        while i < i1:
            for k in range(k0, k1):
                out[i - oi0, k] = _real_dot(x, i, wt, k - k0, n)
            i += 1

    @njit(cache=True, parallel=True)
    def _real_matmul_numba(x, w, n, out, row_block, unit_tile):
        m = x.shape[0]
        k = w.shape[0]
        n_blocks = (m + row_block - 1) // row_block
        for blk in prange(n_blocks):
            i0 = blk * row_block
            i1 = min(m, i0 + row_block)
            wt = np.empty((unit_tile, n), dtype=np.float64)
            for k0 in range(0, k, unit_tile):
                k1 = min(k, k0 + unit_tile)
                _expand_rows(w, n, k0, k1, wt)
                _real_rows(x, wt, i0, i1, k0, k1, out, 0)

    @njit(cache=True)
    def _exact_real_dot(x, i, w, k, n):
        """float64 Σ_j W_kj x_ij straight from the packed bits (the guard's slow path)."""
        s = 0.0
        for j in range(n):
            v = np.float64(x[i, j])
            if (w[k, j >> 6] >> np.uint64(j & 63)) & np.uint64(1):
                s += v
            else:
                s -= v
        return s

    @njit(cache=True)
    def _guarded_threshold_pack(x, w, n, z, i0, rows, thresholds, gamma, out):
        """Bits of [z_exact >= t] from float32 sums z: decided by z when it is
        farther from t than the float32 error bound, else by an exact float64 sum."""
        k = z.shape[1]
        nwo = out.shape[1]
        for r in range(rows):
            i = i0 + r
            absx = 0.0
            for j in range(n):
                absx += abs(np.float64(x[i, j]))
            bound = gamma * absx
            for q in range(nwo):
                word = np.uint64(0)
                base = q * 64
                top = min(64, k - base)
                for u in range(top):
                    kk = base + u
                    bit, unsure = _guard_decide(np.float64(z[r, kk]), thresholds[kk], bound)
                    if unsure:
                        bit = _exact_real_dot(x, i, w, kk, n) >= thresholds[kk]
                    word |= np.uint64(bit) << np.uint64(u)
                out[i, q] = word

    @njit(cache=True, parallel=True)
    def _real_sign_pack_numba(x, w, n, thresholds, out, row_block, unit_tile, gamma):
        m = x.shape[0]
        k = w.shape[0]
        n_blocks = (m + row_block - 1) // row_block
        for blk in prange(n_blocks):
            i0 = blk * row_block
            i1 = min(m, i0 + row_block)
            wt = np.empty((unit_tile, n), dtype=np.float32)
            z = np.empty((i1 - i0, k), dtype=np.float32)
            for k0 in range(0, k, unit_tile):
                k1 = min(k, k0 + unit_tile)
                _expand_rows(w, n, k0, k1, wt)
                _real_rows(x, wt, i0, i1, k0, k1, z, i0)
            _guarded_threshold_pack(x, w, n, z, i0, i1 - i0, thresholds, gamma, out)

    @njit(cache=True, parallel=True)
    def _float_matmul_numba(x, w, out, row_block, unit_tile):
        """out = x · wᵀ for float32 x (M, n) and w (K, n), register-tiled like the real-input kernel."""
        m = x.shape[0]
        k = w.shape[0]
        n_blocks = (m + row_block - 1) // row_block
        for blk in prange(n_blocks):
            i0 = blk * row_block
            i1 = min(m, i0 + row_block)
            for k0 in range(0, k, unit_tile):
                k1 = min(k, k0 + unit_tile)
                _real_rows(x, w[k0:k1], i0, i1, k0, k1, out, 0)

    @njit(cache=True, parallel=True)
    def _guarded_pack_f32w_numba(x, wf, z, thresholds, gamma, out):
        """Bits of [exact Σ_j x_ij wf_jk >= t_k] from float32 sums z (any order): z decides outside
        the float32 error bound gamma Σ_j |x_ij|, an exact float64 sum inside it."""
        m, n = x.shape
        k = z.shape[1]
        nwo = out.shape[1]
        for i in prange(m):
            absx = 0.0
            for j in range(n):
                absx += abs(np.float64(x[i, j]))
            bound = gamma * absx
            for q in range(nwo):
                word = np.uint64(0)
                top = min(64, k - q * 64)
                for u in range(top):
                    kk = q * 64 + u
                    bit, unsure = _guard_decide(np.float64(z[i, kk]), thresholds[kk], bound)
                    if unsure:
                        e = 0.0
                        for j in range(n):
                            e += np.float64(x[i, j]) * np.float64(wf[kk, j])
                        bit = e >= thresholds[kk]
                    word |= np.uint64(bit) << np.uint64(u)
                out[i, q] = word


def real_float_matmul(x: np.ndarray, w_rows: np.ndarray) -> np.ndarray:
    """x · wᵀ in float32 (M, K) for float32 x (M, n) and weight rows w (K, n), e.g. ±1/0 values.

    The numba real-input kernel (4 rows × 4 units register tiles, rows split across
    numba's threads) on weights already expanded to float32: unlike a BLAS call it
    shares numba's thread pool with the XNOR kernels, so a network alternating the
    two does not run two spinning thread pools on the same cores.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    w = np.ascontiguousarray(w_rows, dtype=np.float32)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(f"real_float_matmul: shapes x {x.shape} and w {w.shape} do not agree")
    out = np.empty((x.shape[0], w.shape[0]), dtype=np.float32)
    if not _HAVE_NUMBA:  # pragma: no cover
        return x @ w.T
    if x.shape[0] and w.shape[0]:
        _float_matmul_numba(x, w, out, _row_block(x.shape[0], _REAL_ROW_BLOCK, 4), _REAL_UNIT_TILE)
    return out


def guarded_sign_pack(x: np.ndarray, w_float: np.ndarray, z: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Packed bits of [exact Σ_j x_ij w_jk ≥ t_k] (uint64 (M, ⌈K/64⌉)) from float32 sums ``z`` = x·w of any order.

    ``x`` float32 (M, n), ``w_float`` float32 weight rows (K, n) with values in {−1, 0, +1}
    (every product exact), ``z`` float32 (M, K) (e.g. :func:`real_float_matmul`), ``thresholds``
    float64 (K,). A sum of n exact terms in float32, in any order, is within
    1.01·n·2⁻²⁴·Σ_j|x_ij| of the exact sum (Higham, §4.2); outside that distance of
    the threshold z decides, inside it an exact float64 sum does. The decisions
    are therefore those of the exact sum, whatever order the BLAS summed in.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    wf = np.ascontiguousarray(w_float, dtype=np.float32)
    z = np.ascontiguousarray(z, dtype=np.float32)
    m, n = x.shape
    k = wf.shape[0]
    if wf.shape[1] != n or z.shape != (m, k):
        raise ValueError(f"guarded_sign_pack: shapes x {x.shape}, w {wf.shape}, z {z.shape} do not agree")
    t = _check_thresholds(thresholds, k, np.float64)
    out = np.empty((m, n_words(k)), dtype=np.uint64)
    if not _HAVE_NUMBA:  # pragma: no cover
        return _pack_bits((x.astype(np.float64) @ wf.astype(np.float64).T) >= t[None, :])
    if m:
        _guarded_pack_f32w_numba(x, wf, z, t, 1.01 * n * 2.0**-24, out)
    return out


def _row_block(m: int, largest: int, multiple: int) -> int:
    """Rows per parallel task: ``largest``, or fewer so that small batches still
    give every thread about two tasks (a multiple of ``multiple`` rows)."""
    threads = numba.get_num_threads() if _HAVE_NUMBA else 1
    want = -(-m // (2 * threads))
    want = -(-want // multiple) * multiple
    return max(multiple, min(largest, want))


def _xnor_plan(m: int, n_panels: int, group_multiple: int) -> tuple[int, int]:
    """(rows, panels) per parallel task of the XNOR product: up to _ROW_BLOCK rows (a
    multiple of 4), and the panels split into groups (a multiple of ``group_multiple``)
    so that even one input row gives every thread about four tasks."""
    threads = numba.get_num_threads() if _HAVE_NUMBA else 1
    row_block = _row_block(m, _ROW_BLOCK, 4)
    n_rb = -(-m // row_block)
    n_groups = min(n_panels, max(1, -(-4 * threads // n_rb)))
    group = -(-n_panels // n_groups)
    group = -(-group // group_multiple) * group_multiple
    return row_block, group


@dataclass(frozen=True, eq=False)
class XnorPanels:
    """The right-hand ±1 matrix of the XNOR product, prepared once (e.g. a layer's weights).

    ``packed`` is B (K, ceil(n/64)) uint64 as given; ``panels`` is B copied into
    panels of 32 rows stored word-major (what the numba kernel reads). Build it
    with :func:`xnor_panels`; :func:`xnor_matmul` and :func:`xnor_sign_pack` accept
    it wherever they take B, and then skip the copy (at batch 1 the copy of a
    1024 × 1024 layer costs more than the product).
    """

    packed: np.ndarray
    n: int
    panels: np.ndarray

    @property
    def k(self) -> int:
        return int(self.packed.shape[0])


def xnor_panels(b_packed: np.ndarray, n: int) -> XnorPanels:
    """B (K, ceil(n/64)) packed ±1 rows, prepared for repeated XNOR products (see :class:`XnorPanels`)."""
    n = _check_n(n)
    b = _check_packed("b_packed", b_packed, n)
    k = b.shape[0]
    if _HAVE_NUMBA and k:
        panels = _pack_panels(b, -(-k // _PANEL))
    else:  # pragma: no cover - numba-less installs use the numpy backend only
        panels = np.zeros(0, dtype=np.uint64)
    return XnorPanels(b, n, panels)


def _check_prepared(name: str, b: XnorPanels, n: int) -> XnorPanels:
    if b.n != n:
        raise ValueError(f"{name} was prepared for n={b.n}, but n={n} was given")
    return b


def _serial(m: int, k: int, nw: int) -> bool:
    """Below ~2¹⁶ word pairs (a few microseconds of work) starting the thread pool costs more."""
    return m * k * nw < 1 << 16


def xnor_matmul(
    a_packed: np.ndarray, b_packed: np.ndarray | XnorPanels, n: int, *, backend: str = "numba"
) -> np.ndarray:
    """Exact A·Bᵀ (int32, shape (M, K)) of ±1 matrices A (M, n) and B (K, n) given packed.

    (A·Bᵀ)_ik = n − 2 Σ_w popcount(a_iw XOR b_kw)  (XNOR-popcount).

    ``a_packed`` (M, ceil(n/64)) and ``b_packed`` (K, ceil(n/64)) are uint64 from
    :func:`stochsyn.bitpack.pack` with clear padding bits; ``b_packed`` may also be
    an :class:`XnorPanels` from :func:`xnor_panels`. ``backend`` (default
    ``"numba"``): ``"numba"`` for the vectorized, multithreaded popcount kernel
    (module docstring), ``"numpy"`` for the ``np.bitwise_count`` reference.
    """
    n = _check_n(n)
    a = _check_packed("a_packed", a_packed, n)
    backend = _check_backend(backend)
    prepared = _check_prepared("b_packed", b_packed, n) if isinstance(b_packed, XnorPanels) else None
    b = prepared.packed if prepared is not None else _check_packed("b_packed", b_packed, n)
    m, k = a.shape[0], b.shape[0]
    out = np.empty((m, k), dtype=np.int32)
    if m == 0 or k == 0:
        return out
    if backend == "numba":
        bp = prepared if prepared is not None else xnor_panels(b, n)
        row_block, panel_group = _xnor_plan(m, -(-k // _PANEL), 1)
        kernel = _xnor_matmul_serial if _serial(m, k, a.shape[1]) else _xnor_matmul_numba
        kernel(a, bp.panels, n, k, out, row_block, panel_group, _W_CHUNK)
        return out
    per_row = max(1, k * a.shape[1] * 8)
    rows = max(1, _NUMPY_CHUNK_BYTES // per_row)
    for i0 in range(0, m, rows):
        diff = np.bitwise_count(a[i0 : i0 + rows, None, :] ^ b[None, :, :]).sum(axis=-1, dtype=np.int64)
        out[i0 : i0 + rows] = n - 2 * diff
    return out


def _check_real(name: str, x: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name}: expected a float32/float64 array, got dtype {x.dtype}")
    if x.ndim != 2 or x.shape[1] != n:
        raise ValueError(f"{name}: expected shape (M, {n}), got {x.shape}")
    return np.ascontiguousarray(x)


def _check_thresholds(thresholds: np.ndarray, k: int, dtype: type) -> np.ndarray:
    t = np.asarray(thresholds)
    if t.shape != (k,):
        raise ValueError(f"thresholds: expected shape ({k},), got {t.shape}")
    if dtype is np.int32 and not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"thresholds: expected integer thresholds for binary inputs, got dtype {t.dtype}")
    return np.ascontiguousarray(t, dtype=dtype)


def _pack_bits(bits: np.ndarray) -> np.ndarray:
    from .packing import pack

    return pack(bits)


_REAL_ROW_BLOCK = 128
_REAL_UNIT_TILE = 32


def real_binary_matmul(x: np.ndarray, w_packed: np.ndarray, n: int, *, backend: str = "numba") -> np.ndarray:
    """X·Wᵀ (float64, shape (M, K)) for real X (M, n) and packed ±1 W (K, n).

    z_ik = Σ_j W_kj x_ij accumulated in float64 (every float32 input is exact in
    float64, so the only rounding is that of the float64 sum). ``backend``
    (default ``"numba"``): ``"numba"`` expands a tile of 32 weight rows at a time
    to ±1.0 and runs a register-tiled (4 rows × 4 units), vectorized,
    multithreaded loop; ``"numpy"`` unpacks all of
    W and calls the float64 BLAS.
    """
    n = _check_n(n)
    x = _check_real("x", x, n)
    w = _check_packed("w_packed", w_packed, n)
    backend = _check_backend(backend)
    m, k = x.shape[0], w.shape[0]
    if backend == "numpy" or m == 0 or k == 0:
        from .packing import unpack

        return x.astype(np.float64) @ unpack(w, n).astype(np.float64).T
    out = np.empty((m, k), dtype=np.float64)
    _real_matmul_numba(x, w, n, out, _row_block(m, _REAL_ROW_BLOCK, 4), _REAL_UNIT_TILE)
    return out


def xnor_sign_pack(
    a_packed: np.ndarray,
    w_packed: np.ndarray | XnorPanels,
    n: int,
    thresholds: np.ndarray,
    *,
    backend: str = "numba",
) -> np.ndarray:
    """Packed binary layer: bits of y_ik = +1 iff (A·Wᵀ)_ik ≥ T_k, as uint64 (M, ceil(K/64)).

    A (M, n) and W (K, n) are ±1 matrices given packed (W also as an
    :class:`XnorPanels`); ``thresholds`` T are int32 (K,). The integer products
    are those of :func:`xnor_matmul`; the output is packed directly for the next
    layer (convention of :mod:`stochsyn.bitpack.packing`), eight comparisons per
    vector instruction. ``backend`` as in :func:`xnor_matmul`.
    """
    n = _check_n(n)
    a = _check_packed("a_packed", a_packed, n)
    backend = _check_backend(backend)
    prepared = _check_prepared("w_packed", w_packed, n) if isinstance(w_packed, XnorPanels) else None
    w = prepared.packed if prepared is not None else _check_packed("w_packed", w_packed, n)
    t = _check_thresholds(thresholds, w.shape[0], np.int32)
    m, k = a.shape[0], w.shape[0]
    if backend == "numpy" or m == 0 or k == 0:
        z = xnor_matmul(a, w, n, backend=backend)
        return _pack_bits(z >= t[None, :])
    wp = prepared if prepared is not None else xnor_panels(w, n)
    out = np.empty((m, n_words(k)), dtype=np.uint64)
    n_panels = -(-k // _PANEL)
    # a task's columns must cover whole output words: panel groups of 64 / _PANEL panels
    row_block, panel_group = _xnor_plan(m, n_panels, 64 // _PANEL)
    t_lanes = np.zeros(n_panels * _PANEL, dtype=np.int64)  # padded columns are masked off
    t_lanes[:k] = t
    kernel = _xnor_sign_pack_serial if _serial(m, k, a.shape[1]) else _xnor_sign_pack_numba
    kernel(a, wp.panels, n, k, t_lanes, out, row_block, panel_group, _W_CHUNK)
    return out


def real_sign_pack(
    x: np.ndarray, w_packed: np.ndarray, n: int, thresholds: np.ndarray, *, backend: str = "numba"
) -> np.ndarray:
    """Packed first layer: bits of y_ik = +1 iff Σ_j W_kj x_ij ≥ t_k, as uint64 (M, ceil(K/64)).

    X (M, n) is real, W (K, n) is ±1 given packed, ``thresholds`` t are float
    (K,) (compared in float64; ±inf for units that are always −1 / +1). The
    decisions are those of the exact sum: the numba backend accumulates in
    float32 (twice the SIMD width of float64) and recomputes in float64 only the
    units whose float32 sum is within the rigorous float32 error bound
    γ Σ_j |x_ij|, γ = 1.01 n 2⁻²⁴, of the threshold. ``backend`` as in
    :func:`real_binary_matmul`.
    """
    n = _check_n(n)
    x = _check_real("x", x, n)
    w = _check_packed("w_packed", w_packed, n)
    t = _check_thresholds(thresholds, w.shape[0], np.float64)
    backend = _check_backend(backend)
    m, k = x.shape[0], w.shape[0]
    if backend == "numpy" or m == 0 or k == 0:
        z = real_binary_matmul(x, w, n, backend=backend)
        return _pack_bits(z >= t[None, :])
    out = np.empty((m, n_words(k)), dtype=np.uint64)
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    if not np.array_equal(x32, x):  # float64 inputs that float32 cannot hold: exact float64 kernel
        z = real_binary_matmul(x, w, n, backend=backend)
        return _pack_bits(z >= t[None, :])
    # Float32 sums of n terms ±x_j, in any order, are within (n-1)·2⁻²⁴/(1-(n-1)·2⁻²⁴) Σ|x_j|
    # of the exact sum (Higham, Accuracy and Stability of Numerical Algorithms, §4.2);
    # 1.01·n·2⁻²⁴ covers that for any n < 10⁶.
    gamma = 1.01 * n * 2.0**-24
    _real_sign_pack_numba(x32, w, n, t, out, _row_block(m, _REAL_ROW_BLOCK, 4), _REAL_UNIT_TILE, gamma)
    return out
