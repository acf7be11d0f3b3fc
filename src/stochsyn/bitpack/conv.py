"""Packed convolution for deployed binary / ternary CNNs (``cnn:...`` networks of ``stochsyn.deep``).

Feature maps are stored channels-last, one image per row:

* real maps (ReLU units, the input pixels, or sign units after an average pool):
  float (M, H, W, C);
* ±1 maps (sign units): the channels of every pixel packed into words,
  uint64 (M, H, W, ⌈C/64⌉), bit c % 64 of word c // 64 = +1 (padding bits 0).

A convolution layer (kernel K, stride 1, zero padding p) computes, like torch's
``F.conv2d`` in deploy mode,

    z[m, y, x, k] = Σ_{(dy, dx) inside the image} Σ_c W[k, c, dy, dx] · a[m, y + dy − p, x + dx − p, c].

**Padding convention.** Torch pads with 0, and a ±1 unit cannot be 0, so a
padded tap is not "a −1 input" nor "a +1 input": it contributes nothing. The
packed kernel (:func:`xnor_conv2d`) therefore *skips* the taps that fall outside
the image and counts the valid ones: for ±1 maps
z = Σ_valid (C − 2 popcount(a XOR W)), an exact integer whose range shrinks
at the border (nothing is replaced by a sign). Real maps (:func:`real_conv2d`, or
:func:`im2col` and a matmul for large patches) skip the same taps, or pad the
patches with 0.0: either contributes exactly 0 to the sums.

The layer's (bias, batch norm, activation) are those of a dense packed layer
(:mod:`.layers`) applied to the patch vectors, whose entries are ordered
(dy, dx, c): :class:`PackedConv2d` wraps that dense layer ("inner" layer) and
adds the geometry and the pools that follow it. Pools (non-overlapping
windows, stride = size, the last partial row/column dropped, as ``F.max_pool2d``):
max of ±1 units = OR of the bits; average of ±1 units leaves ±1 for real
values (the next layer then takes real inputs); max / average of real units as
torch computes them in float32.

The dense layer after the last convolution sees the maps flattened in (y, x, c)
order; :func:`stochsyn.bitpack.export.network_from_spec` permutes its weight
columns from torch's (c, y, x) flattening once, at export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .kernels import guarded_sign_pack, real_float_matmul
from .layers import REAL_INPUT_KINDS, float_weights, output_is_real
from .packing import n_words, pack, unpack

__all__ = [
    "POOL_KINDS",
    "xnor_conv2d",
    "real_conv2d",
    "tap_weights",
    "real_tap_weights",
    "im2col",
    "pool_maps",
    "flatten_maps",
    "PackedConv2d",
]

POOL_KINDS = ("max", "avg")

try:
    from numba import njit, prange

    from ..packed.products import popcount as _popcount
    from .kernels import _guard_decide

    _HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only on broken installs
    _HAVE_NUMBA = False


if _HAVE_NUMBA:

    @njit(cache=True, parallel=True)
    def _xnor_conv_numba(a, w, c_in, ks, pad, thresholds, fuse, z_out, bits_out):
        """z (or the packed bits of z >= thresholds when ``fuse``) of the ±1 convolution, padded taps skipped."""
        m, h, wd, nwc = a.shape
        k_out = w.shape[2]
        ho = h + 2 * pad - ks + 1
        wo = wd + 2 * pad - ks + 1
        nwo = (k_out + 63) // 64
        for r in prange(m * ho):
            i = r // ho
            y = r - i * ho
            acc = np.empty(k_out, dtype=np.int64)
            for x in range(wo):
                for k in range(k_out):
                    acc[k] = 0
                valid = 0
                for dy in range(ks):
                    yy = y + dy - pad
                    if yy < 0 or yy >= h:
                        continue
                    for dx in range(ks):
                        xx = x + dx - pad
                        if xx < 0 or xx >= wd:
                            continue
                        valid += 1
                        t = dy * ks + dx
                        for q in range(nwc):
                            av = a[i, yy, xx, q]
                            for k in range(k_out):
                                acc[k] += _popcount(av ^ w[t, q, k])
                base = valid * c_in
                if fuse:
                    for q in range(nwo):
                        word = np.uint64(0)
                        top = min(64, k_out - q * 64)
                        for u in range(top):
                            k = q * 64 + u
                            word |= np.uint64(base - 2 * acc[k] >= thresholds[k]) << np.uint64(u)
                        bits_out[i, y, x, q] = word
                else:
                    for k in range(k_out):
                        z_out[i, y, x, k] = base - 2 * acc[k]


    @njit(cache=True, parallel=True, fastmath={"reassoc", "contract"})
    def _real_conv_numba(x, wt, ks, pad, thresholds, gamma, fuse, z_out, bits_out):
        """float32 sums of the real convolution (padded taps skipped), or, when ``fuse``, the packed
        bits of [exact sum >= thresholds]: decided by the float32 sum when it is farther from the
        threshold than the float32 error bound gamma Σ|x|, else by an exact float64 sum."""
        m, h, wd, c = x.shape
        k_out = wt.shape[2]
        ho = h + 2 * pad - ks + 1
        wo = wd + 2 * pad - ks + 1
        nwo = (k_out + 63) // 64
        for r in prange(m * ho):
            i = r // ho
            y = r - i * ho
            # one output row at a time, taps outermost: a tap's C_out kernel values stay in
            # registers while they sweep the row
            zrow = np.zeros((wo, k_out), dtype=np.float32)
            arow = np.zeros(wo, dtype=np.float64)
            for dy in range(ks):
                yy = y + dy - pad
                if yy < 0 or yy >= h:
                    continue
                for dx in range(ks):
                    t = dy * ks + dx
                    x0 = max(0, pad - dx)
                    x1 = min(wo, wd + pad - dx)
                    for ci in range(c):
                        for xo in range(x0, x1):
                            v = x[i, yy, xo + dx - pad, ci]
                            arow[xo] += abs(np.float64(v))
                            for k in range(k_out):
                                zrow[xo, k] += v * wt[t, ci, k]
            for xo in range(wo):
                acc = zrow[xo]
                absx = arow[xo]
                if not fuse:
                    for k in range(k_out):
                        z_out[i, y, xo, k] = acc[k]
                    continue
                bound = gamma * absx
                for q in range(nwo):
                    word = np.uint64(0)
                    top = min(64, k_out - q * 64)
                    for u in range(top):
                        k = q * 64 + u
                        bit, unsure = _guard_decide(np.float64(acc[k]), thresholds[k], bound)
                        if unsure:  # too close to call in float32: the exact float64 sum
                            e = 0.0
                            for dy in range(ks):
                                yy = y + dy - pad
                                if yy < 0 or yy >= h:
                                    continue
                                for dx in range(ks):
                                    xx = xo + dx - pad
                                    if xx < 0 or xx >= wd:
                                        continue
                                    for ci in range(c):
                                        e += np.float64(x[i, yy, xx, ci]) * np.float64(wt[dy * ks + dx, ci, k])
                            bit = e >= thresholds[k]
                        word |= np.uint64(bit) << np.uint64(u)
                    bits_out[i, y, xo, q] = word


def real_conv2d(
    x: np.ndarray,
    w_taps: np.ndarray,
    kernel: int,
    padding: int,
    thresholds: np.ndarray | None = None,
    *,
    backend: str = "numba",
) -> np.ndarray:
    """Convolution of real maps with ±1 (or ternary) kernels, stride 1, zero padding.

    Args:
        x: float (M, H, W, C) real maps.
        w_taps: float32 (K·K, C, C_out) kernel values in {−1, 0, +1} (:func:`real_tap_weights`).
        kernel, padding: K and the zero padding p.
        thresholds: float64 (C_out,) or None. Given, the packed maps of [z ≥ thresholds]
            (uint64 (M, H', W', ⌈C_out/64⌉)), decided as by the exact sum (float32 sums,
            the ones within the rigorous float32 error bound 1.01·n·2⁻²⁴·Σ|x| of the
            threshold recomputed in float64, as :func:`~stochsyn.bitpack.kernels.real_sign_pack`);
            else the float32 sums z (M, H', W', C_out).
        backend: "numba" (direct multithreaded kernel) or "numpy" (im2col and float64 BLAS).
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    w = np.ascontiguousarray(w_taps, dtype=np.float32)
    m, h, wd, c = x.shape
    if w.ndim != 3 or w.shape[:2] != (kernel * kernel, c):
        raise ValueError(f"w_taps: expected ({kernel * kernel}, {c}, C_out), got {w.shape}")
    k_out = w.shape[2]
    ho, wo = h + 2 * padding - kernel + 1, wd + 2 * padding - kernel + 1
    fuse = thresholds is not None
    t = np.zeros(k_out) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    if backend == "numpy" or not _HAVE_NUMBA:
        z = im2col(x.astype(np.float64), kernel, padding) @ w.reshape(-1, k_out).astype(np.float64)
        z = z.reshape(m, ho, wo, k_out)
        return pack(z >= t) if fuse else z.astype(np.float32)
    z_out = np.empty((m, ho, wo, 0 if fuse else k_out), dtype=np.float32)
    bits = np.empty((m, ho, wo, n_words(k_out) if fuse else 0), dtype=np.uint64)
    gamma = 1.01 * kernel * kernel * c * 2.0**-24
    if m:
        _real_conv_numba(x, w, int(kernel), int(padding), t, gamma, fuse, z_out, bits)
    return bits if fuse else z_out


def real_tap_weights(layer: Any, c_in: int, kernel: int) -> np.ndarray:
    """float32 (K·K, C, C_out) kernel values of a dense packed layer over (dy, dx, c) patches (zeros of ternary
    layers included; the rows of flipped sign units as stored, the orientation of the thresholds)."""
    return np.ascontiguousarray(float_weights(layer, stored=True).T).reshape(kernel * kernel, c_in, -1)


def _check_maps(a: np.ndarray, c_in: int) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.uint64 or a.ndim != 4 or a.shape[3] != n_words(c_in):
        raise ValueError(f"a_packed: expected uint64 maps (M, H, W, {n_words(c_in)}), got {a.dtype} {a.shape}")
    return np.ascontiguousarray(a)


def tap_weights(weights: np.ndarray, c_in: int, kernel: int) -> np.ndarray:
    """Per-tap packed kernels (K·K, ⌈C/64⌉, C_out) from dense packed rows over (dy, dx, c) patches."""
    w = unpack(np.asarray(weights), kernel * kernel * c_in).reshape(-1, kernel * kernel, c_in)
    return np.ascontiguousarray(pack(w).transpose(1, 2, 0))


def xnor_conv2d(
    a_packed: np.ndarray,
    w_taps: np.ndarray,
    c_in: int,
    kernel: int,
    padding: int,
    thresholds: np.ndarray | None = None,
    *,
    backend: str = "numba",
) -> np.ndarray:
    """Exact ±1 convolution of packed maps, stride 1, zero padding (padded taps contribute 0).

    z[m, y, x, k] = Σ_{valid (dy, dx)} (C − 2 popcount(a[m, y+dy−p, x+dx−p] XOR W[dy·K+dx, :, k])).

    Args:
        a_packed: uint64 (M, H, W, ⌈c_in/64⌉), packed ±1 maps (padding bits 0).
        w_taps: uint64 (K·K, ⌈c_in/64⌉, C_out), from :func:`tap_weights`.
        c_in, kernel, padding: input channels C, kernel size K, zero padding p.
        thresholds: int (C_out,) or None. Given, the result is the packed maps of
            [z ≥ thresholds] (uint64 (M, H', W', ⌈C_out/64⌉)); else z itself (int32 (M, H', W', C_out)).
        backend: "numba" (multithreaded kernel) or "numpy" (the unpacked int64 reference).

    Shape: H' = H + 2p − K + 1, W' = W + 2p − K + 1.
    """
    a = _check_maps(a_packed, c_in)
    w = np.asarray(w_taps)
    if w.dtype != np.uint64 or w.ndim != 3 or w.shape[:2] != (kernel * kernel, n_words(c_in)):
        raise ValueError(f"w_taps: expected uint64 ({kernel * kernel}, {n_words(c_in)}, C_out), got {w.dtype} {w.shape}")
    m, h, wd, _ = a.shape
    ho, wo = h + 2 * padding - kernel + 1, wd + 2 * padding - kernel + 1
    if ho < 1 or wo < 1 or padding < 0:
        raise ValueError(f"kernel={kernel}, padding={padding} do not fit {h}×{wd} maps")
    k_out = w.shape[2]
    fuse = thresholds is not None
    t = np.zeros(k_out, dtype=np.int64) if thresholds is None else np.asarray(thresholds, dtype=np.int64)
    if t.shape != (k_out,):
        raise ValueError(f"thresholds: expected shape ({k_out},), got {t.shape}")
    if backend == "numpy" or not _HAVE_NUMBA:
        x = unpack(a, c_in).astype(np.int64)
        wt = unpack(np.ascontiguousarray(w.transpose(2, 0, 1)), c_in).astype(np.int64)  # (C_out, K·K, C)
        patches = im2col(x, kernel, padding)  # zero padding: the padded taps contribute 0
        z = (patches @ wt.reshape(k_out, -1).T).reshape(m, ho, wo, k_out)
        return pack(z >= t) if fuse else z.astype(np.int32)
    z_out = np.empty((m, ho, wo, 0 if fuse else k_out), dtype=np.int32)
    bits = np.empty((m, ho, wo, n_words(k_out) if fuse else 0), dtype=np.uint64)
    if m:
        _xnor_conv_numba(a, w, int(c_in), int(kernel), int(padding), t, fuse, z_out, bits)
    return bits if fuse else z_out


def im2col(x: np.ndarray, kernel: int, padding: int) -> np.ndarray:
    """Patches (M·H'·W', K·K·C) of real maps x (M, H, W, C), entries ordered (dy, dx, c), zero padded."""
    x = np.asarray(x)
    m, h, w, c = x.shape
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0))) if padding else x
    win = np.lib.stride_tricks.sliding_window_view(xp, (kernel, kernel), axis=(1, 2))  # (M, H', W', C, K, K)
    ho, wo = win.shape[1], win.shape[2]
    return np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3)).reshape(m * ho * wo, kernel * kernel * c)


def pool_maps(h: np.ndarray, kind: str, size: int, channels: int, bits: bool) -> tuple[np.ndarray, bool]:
    """Pool maps over size×size windows (stride size, remainder dropped); returns (maps, still_bits).

    Max of ±1 maps is the OR of their words; average of ±1 maps unpacks them to ±1.0
    (float32) first and returns real maps; real maps are pooled in float32.
    """
    if kind not in POOL_KINDS:
        raise ValueError(f"pool kind={kind!r}: expected one of {POOL_KINDS}")
    m, hh, ww = h.shape[:3]
    ho, wo = hh // size, ww // size
    if bits and kind == "max":
        v = h[:, : ho * size, : wo * size].reshape(m, ho, size, wo, size, h.shape[3])
        return np.bitwise_or.reduce(np.bitwise_or.reduce(v, axis=4), axis=2), True
    if bits:
        h = unpack(h, channels).astype(np.float32)
    # one strided view per window position: elementwise max / sum of size² quarter-size arrays
    parts = [h[:, dy : ho * size : size, dx : wo * size : size] for dy in range(size) for dx in range(size)]
    out = np.array(parts[0], dtype=np.float32)
    for part in parts[1:]:
        if kind == "max":
            np.maximum(out, part, out=out)
        else:
            out += part
    if kind == "avg":  # torch's average pool: the float32 sum of the window divided by its size
        out /= np.float32(size * size)
    return out, False


def flatten_maps(h: np.ndarray, channels: int, bits: bool) -> np.ndarray:
    """Maps (M, H, W, ·) as rows in (y, x, c) order: packed (M, ⌈H·W·C/64⌉) for ±1 maps, else (M, H·W·C)."""
    m = h.shape[0]
    if not bits:
        return h.reshape(m, -1)
    if channels % 64 == 0:  # the words of consecutive pixels already are the row's packing
        return np.ascontiguousarray(h).reshape(m, -1)
    return pack(unpack(h, channels).reshape(m, -1))


@dataclass(frozen=True, eq=False)
class PackedConv2d:
    """A packed convolution layer: a dense packed layer over (dy, dx, c) patches, its geometry and pools.

    Args:
        layer: the inner dense layer (:mod:`.layers`): ``real_sign`` or ``real_relu`` on real maps,
            ``binary_sign`` on ±1 maps; ``n_in`` = K·K·C, ``n_out`` = output channels.
        in_shape: (C, H, W) of the input maps.
        kernel, padding: K (odd or even) and the zero padding p (stride 1).
        pools: the pools after the activation, ((kind, size), ...).
    """

    layer: Any
    in_shape: tuple[int, int, int]
    kernel: int
    padding: int
    pools: tuple[tuple[str, int], ...] = ()
    kind: str = "conv"

    def __post_init__(self) -> None:
        c, h, w = (int(v) for v in self.in_shape)
        object.__setattr__(self, "in_shape", (c, h, w))
        object.__setattr__(self, "pools", tuple((str(k), int(s)) for k, s in self.pools))
        if min(c, h, w) < 1 or self.kernel < 1 or self.padding < 0:
            raise ValueError(f"in_shape={self.in_shape}, kernel={self.kernel}, padding={self.padding}: expected "
                             "positive sizes and a non-negative padding")  # fmt: skip
        if self.layer.kind not in ("real_sign", "real_relu", "binary_sign"):
            raise ValueError(f"conv: inner layer kind {self.layer.kind!r}, expected real_sign, real_relu or binary_sign")
        if self.layer.n_in != self.kernel * self.kernel * c:
            raise ValueError(f"conv: inner layer has n_in={self.layer.n_in}, expected K·K·C = {self.kernel**2 * c}")
        if h + 2 * self.padding < self.kernel or w + 2 * self.padding < self.kernel:
            raise ValueError(f"conv: kernel {self.kernel} with padding {self.padding} does not fit {h}×{w} maps")
        for kind, size in self.pools:
            if kind not in POOL_KINDS or size < 1:
                raise ValueError(f"conv: pool ({kind!r}, {size}): expected kind in {POOL_KINDS} and size >= 1")
        taps = planes = None
        if self.real_input:
            taps = real_tap_weights(self.layer, c, self.kernel)
        else:
            taps = tap_weights(self.layer.weights, c, self.kernel)
            if self.layer.mask is not None:
                planes = (taps, tap_weights(self.layer.weights & self.layer.mask, c, self.kernel))
        object.__setattr__(self, "_taps", taps)
        object.__setattr__(self, "_planes", planes)
        if min(self.out_shape) < 1:
            raise ValueError(f"conv: the pools {self.pools} leave no output pixel")

    # ---------------------------------------------------------------- shapes
    @property
    def real_input(self) -> bool:
        return self.layer.kind in REAL_INPUT_KINDS

    @property
    def conv_shape(self) -> tuple[int, int, int]:
        """(C_out, H', W') before the pools."""
        c, h, w = self.in_shape
        return (self.n_out, h + 2 * self.padding - self.kernel + 1, w + 2 * self.padding - self.kernel + 1)

    @property
    def out_shape(self) -> tuple[int, int, int]:
        """(C_out, H'', W'') after the pools."""
        c, h, w = self.conv_shape
        for _, size in self.pools:
            h, w = h // size, w // size
        return (c, h, w)

    @property
    def real_output(self) -> bool:
        """True when the output maps are real (ReLU units, or sign units after an average pool)."""
        return output_is_real(self.layer) or any(kind == "avg" for kind, _ in self.pools)

    @property
    def n_in(self) -> int:
        return int(self.layer.n_in)

    @property
    def n_out(self) -> int:
        return int(self.layer.n_out)

    @property
    def weights(self) -> np.ndarray:
        return self.layer.weights

    @property
    def mask(self) -> np.ndarray | None:
        return self.layer.mask

    # -------------------------------------------------------------- compute
    def _convolve(self, h: np.ndarray, backend: str) -> np.ndarray:
        """The activation maps before the pools: packed ±1 (sign units) or real (ReLU units)."""
        c, _, _ = self.in_shape
        if self.real_input:
            if self.layer.kind == "real_sign":
                if backend == "numpy" or self.layer.n_in < 64:
                    return real_conv2d(h, self._taps, self.kernel, self.padding, self.layer.thresholds, backend=backend)
                return self._im2col_conv(h, sign=True)
            z = self._real_sums(h, backend)
            # the fold BN_eval(z) = z·scale + offset and max(0, ·), in place in float32 as torch's BN
            z *= self.layer.scale.astype(np.float32)
            z += self.layer.offset.astype(np.float32)
            return np.maximum(z, np.float32(0.0), out=z)
        thresholds = self.layer.thresholds
        if self._planes is None:
            return xnor_conv2d(h, self._taps, c, self.kernel, self.padding, thresholds, backend=backend)
        zu, zv = (xnor_conv2d(h, p, c, self.kernel, self.padding, backend=backend) for p in self._planes)
        return pack((zu + zv) // 2 >= thresholds)

    def _real_sums(self, h: np.ndarray, backend: str) -> np.ndarray:
        """float32 sums of a real-input conv: the direct kernel for small patches, else im2col and a matmul."""
        if backend == "numpy" or self.layer.n_in < 64:
            return real_conv2d(h, self._taps, self.kernel, self.padding, backend=backend)
        return self._im2col_conv(h, sign=False)

    def _im2col_conv(self, h: np.ndarray, sign: bool) -> np.ndarray:
        """im2col and the float32 product in chunks of images (patches of at most ~8 MB): the float32
        sums, or (``sign``) the packed bits decided as by the exact sums (guarded, see real_conv2d)."""
        _, ho, wo = self.conv_shape
        n = self.layer.n_in
        w = float_weights(self.layer, stored=sign)
        chunk = max(1, (8 << 20) // (4 * ho * wo * n))
        width = n_words(self.n_out) if sign else self.n_out
        out = np.empty((h.shape[0], ho, wo, width), dtype=np.uint64 if sign else np.float32)
        for i in range(0, h.shape[0], chunk):
            part = h[i : i + chunk]
            patches = im2col(np.asarray(part, dtype=np.float32), self.kernel, self.padding)
            z = real_float_matmul(patches, w)
            if sign:
                z = guarded_sign_pack(patches, w, z, self.layer.thresholds)
            out[i : i + len(part)] = z.reshape(len(part), ho, wo, -1)
        return out

    def forward(self, h: np.ndarray, backend: str = "numba") -> np.ndarray:
        """Output maps (see the module docstring for the layouts) of input maps ``h``.

        Real-valued (ReLU) layers take large batches in chunks of images whose
        pre-pool maps fill about 16 MB, so that the activation and the pools run on
        maps still in cache.
        """
        c, ho, wo = self.conv_shape
        chunk = max(1, (16 << 20) // (4 * c * ho * wo))
        if h.shape[0] <= chunk or not output_is_real(self.layer):
            return self._forward(h, backend)
        return np.concatenate([self._forward(h[i : i + chunk], backend) for i in range(0, h.shape[0], chunk)])

    def _forward(self, h: np.ndarray, backend: str) -> np.ndarray:
        out = self._convolve(h, backend)
        bits = not output_is_real(self.layer)
        for kind, size in self.pools:
            out, bits = pool_maps(out, kind, size, self.n_out, bits)
        return out

    def preactivation(self, h: np.ndarray, backend: str = "numba") -> np.ndarray:
        """z maps (M, H', W', C_out) in the original weight orientation, no bias (int32 on ±1 maps)."""
        c, _, _ = self.in_shape
        if self.real_input:
            z = real_conv2d(h, self._taps, self.kernel, self.padding, backend=backend)
            return z * getattr(self.layer, "signs", np.ones(self.n_out, dtype=np.int8)).astype(np.float32)
        if self._planes is None:
            z = xnor_conv2d(h, self._taps, c, self.kernel, self.padding, backend=backend)
        else:
            zu, zv = (xnor_conv2d(h, p, c, self.kernel, self.padding, backend=backend) for p in self._planes)
            z = (zu + zv) // 2
        return z * self.layer.signs.astype(np.int32)
