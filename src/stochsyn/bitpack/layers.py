"""Packed layers of a deployed binary network, and the folding of (bias, batch norm, sign).

A deployed hidden layer computes (export contract, ``stochsyn.deep``)

    z = x · Wᵀ (+ b),   y = BN_eval(z) = (z − μ) γ / √(σ² + ε) + β,   out = sign(y), sign(0) := +1,

in float32 (PyTorch ``F.linear``, ``F.batch_norm(training=False)``). Because
every rounded float32 operation is monotone, y is a monotone function of its
input v = z (+ b), so {v : y(v) ≥ 0} is a half-line of float32 values,
[t, ∞) when γ > 0 or (−∞, t] when γ < 0 (the direction flips with the sign of
the BN scale), everything when γ = 0 and β ≥ 0, nothing when γ = 0 and β < 0.
:func:`fold_sign_threshold` finds that float32 boundary t *by evaluating the
reference float32 batch norm itself* (bisection over the ordered float32
values), so no algebraic re-derivation can round differently from the
reference. For a binary-input layer z is an exact integer (|z| ≤ n < 2²⁴),
so the rule becomes an integer comparison z' ≥ T with z' = ±z; a negative
direction is folded into the weights (row k of W is negated, giving z' = −z).
For the first layer (real inputs) the rule is z' ≥ t' on the float64 sum.

The final layer ("activation": "none") gives class scores. With binary inputs
z takes only the n + 1 values −n, −n + 2, …, n, so the scores are a lookup
table evaluated with the reference float32 (bias, batch norm) at export time:
packed scores are then bit-identical to the reference for the same z.

Ternary weights T ∈ {−1, 0, +1} (every layer kind takes them) are stored as two
bit planes: ``weights`` = U, the sign plane with the zeros read as +1, and
``mask``, the non-zero plane. With V = U AND mask (the zeros read as −1),
T = (U + V)/2, so T·a = (U·a + V·a)/2 is two exact ±1 products of the same
kernels, and the integer z of a ternary layer on ±1 inputs takes every value in
[−n, n] (the score table then has 2n + 1 rows, indexed by z + n).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .kernels import (
    XnorPanels,
    guarded_sign_pack,
    real_binary_matmul,
    real_float_matmul,
    xnor_matmul,
    xnor_panels,
    xnor_sign_pack,
)
from .packing import n_words, pack, padding_is_clear, unpack

__all__ = [
    "LAYER_KINDS",
    "RealSignLayer",
    "BinarySignLayer",
    "BinaryScoreLayer",
    "RealScoreLayer",
    "RealReluLayer",
    "REAL_INPUT_KINDS",
    "output_is_real",
    "reference_activation_input",
    "fold_sign_threshold",
    "build_layer",
    "unpacked_weights",
    "float_weights",
]

LAYER_KINDS = ("real_sign", "binary_sign", "binary_score", "real_score", "real_relu")
# Kinds that take real-valued inputs (the first layer, or any layer after a ReLU layer).
REAL_INPUT_KINDS = ("real_sign", "real_score", "real_relu")

_F32_MAX = float(np.finfo(np.float32).max)


def output_is_real(layer: Any) -> bool:
    """True when ``layer`` hands real values to the next layer (ReLU units; see also PackedConv2d)."""
    real = getattr(layer, "real_output", None)
    return bool(real) if real is not None else getattr(layer, "kind", None) == "real_relu"


def _as_f32_vector(name: str, v: Any, k: int) -> np.ndarray:
    arr = np.asarray(v)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name}: expected a float array, got dtype {arr.dtype}")
    if arr.shape != (k,):
        raise ValueError(f"{name}: expected shape ({k},), got {arr.shape}")
    arr = arr.astype(np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values")
    return arr


def _check_bn(bn: dict | None, k: int, where: str) -> dict | None:
    if bn is None:
        return None
    if not isinstance(bn, dict):
        raise TypeError(f"{where}.bn: expected a dict or None, got {type(bn).__name__}")
    out: dict[str, Any] = {}
    for key in ("running_mean", "running_var", "weight", "bias"):
        if key not in bn:
            raise ValueError(f"{where}.bn: missing key {key!r}")
        out[key] = _as_f32_vector(f"{where}.bn.{key}", bn[key], k)
    if np.any(out["running_var"] < 0):
        raise ValueError(f"{where}.bn.running_var: expected non-negative values")
    eps = bn.get("eps", 1e-5)
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not eps >= 0:
        raise ValueError(f"{where}.bn.eps={eps!r}: expected a non-negative float")
    out["eps"] = float(eps)
    return out


def reference_activation_input(v: np.ndarray, bn: dict | None) -> np.ndarray:
    """y = F.batch_norm(v, training=False) in float32, exactly as PyTorch computes it.

    ``v`` (M, K) float32 holds the layer's pre-activations (bias included);
    with ``bn`` None, y = v. Evaluated with torch itself so that the folded
    thresholds and score tables reproduce the reference rounding.
    """
    v = np.ascontiguousarray(v, dtype=np.float32)
    if bn is None:
        return v
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        y = F.batch_norm(
            torch.from_numpy(v),
            torch.from_numpy(bn["running_mean"]),
            torch.from_numpy(bn["running_var"]),
            torch.from_numpy(bn["weight"]),
            torch.from_numpy(bn["bias"]),
            False,
            0.0,
            bn["eps"],
        )
    return y.numpy()


def _f32_to_key(x: np.ndarray) -> np.ndarray:
    """Order-preserving map float32 → int64 (−0.0 sorts just below +0.0)."""
    b = np.asarray(x, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(b >= 0, b, -(b & 0x7FFFFFFF) - 1)


def _key_to_f32(key: np.ndarray) -> np.ndarray:
    key = np.asarray(key, dtype=np.int64)
    b = np.where(key >= 0, key, (-(key + 1)) | 0x80000000)
    return b.astype(np.uint32).view(np.float32)


def fold_sign_threshold(bn: dict | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Fold sign(BN_eval(v)) into per-unit (direction, float32 boundary).

    Returns ``(signs, bounds)``, int8 and float64 of shape (K,), such that for
    every float32 v the reference output sign(y(v)) (sign(0) := +1) is +1 iff
    ``signs_k * v >= bounds_k``. ``signs_k = -1`` when the batch-norm scale γ_k
    is negative (the comparison direction flips); ``bounds_k = -inf`` for a unit
    that is always +1 and ``+inf`` for one that is never +1. The boundary is
    found by bisection over the ordered float32 values, evaluating the float32
    reference :func:`reference_activation_input` (about 33 evaluations of one
    row), so the fold is exact for the reference's own rounding.
    """
    lo_key = int(_f32_to_key(np.float32(-_F32_MAX)))
    hi_key = int(_f32_to_key(np.float32(_F32_MAX)))

    def positive(keys: np.ndarray) -> np.ndarray:
        v = _key_to_f32(keys)[None, :]
        y = reference_activation_input(v, bn)[0]
        return y >= 0

    f_lo = positive(np.full(k, lo_key, dtype=np.int64))
    f_hi = positive(np.full(k, hi_key, dtype=np.int64))
    signs = np.ones(k, dtype=np.int8)
    bounds = np.zeros(k, dtype=np.float64)
    always = f_lo & f_hi
    never = ~f_lo & ~f_hi
    inc = ~f_lo & f_hi
    dec = f_lo & ~f_hi
    bounds[always] = -np.inf
    bounds[never] = np.inf
    # For increasing units search the smallest key with y >= 0; for decreasing
    # ones the largest, by searching the smallest key of the mirrored predicate.
    lo = np.full(k, lo_key, dtype=np.int64)  # predicate false here (mirrored for dec)
    hi = np.full(k, hi_key, dtype=np.int64)  # predicate true here
    active = inc | dec
    while True:
        todo = active & (hi - lo > 1)
        if not np.any(todo):
            break
        mid = lo + (hi - lo) // 2
        # A decreasing unit is searched at the mirrored key lo+hi−mid, where
        # "y >= 0" is false for small mid and true for large mid, as for inc.
        pred = positive(np.where(dec, lo_key + hi_key - mid, mid))
        take_hi = todo & pred
        take_lo = todo & ~pred
        hi = np.where(take_hi, mid, hi)
        lo = np.where(take_lo, mid, lo)
    inc_bound = _key_to_f32(hi).astype(np.float64)
    dec_bound = _key_to_f32(lo_key + hi_key - hi).astype(np.float64)
    bounds[inc] = inc_bound[inc]
    signs[dec] = -1
    bounds[dec] = -dec_bound[dec]
    return signs, bounds


def _integer_thresholds(signs: np.ndarray, bounds: np.ndarray, bias: np.ndarray | None, n: int) -> np.ndarray:
    """Integer T with: signs * fl32(z + b) >= bounds  ⟺  signs * z >= T, for integer |z| ≤ n."""
    k = signs.shape[0]
    t = np.empty(k, dtype=np.int64)
    b = np.zeros(k, dtype=np.float32) if bias is None else bias
    for idx in range(k):
        s = int(signs[idx])
        bound = bounds[idx]
        if bound == -np.inf:
            t[idx] = -n - 1
            continue
        if bound == np.inf:
            t[idx] = n + 1
            continue

        def ok(z: int, idx=idx, s=s, bound=bound) -> bool:
            v = np.float32(np.float32(z) + b[idx])  # the reference's single float32 add
            return s * float(v) >= bound

        # s*z' >= T: search over u = s*z, predicate monotone non-decreasing in u.
        guess = int(np.ceil(bound - s * float(b[idx])))
        guess = min(max(guess, -n - 1), n + 1)
        u = guess
        while u > -n - 1 and ok(s * (u - 1)):
            u -= 1
        while u <= n and not ok(s * u):
            u += 1
        t[idx] = u
    return np.clip(t, -n - 1, n + 1).astype(np.int32)


def _check_packed_weights(name: str, w: np.ndarray, n: int) -> np.ndarray:
    w = np.asarray(w)
    if w.dtype != np.uint64 or w.ndim != 2 or w.shape[1] != n_words(n):
        raise ValueError(f"{name}: expected uint64 of shape (K, {n_words(n)}), got {w.dtype} {w.shape}")
    if not padding_is_clear(w, n):
        raise ValueError(f"{name}: padding bits past n={n} are set (corrupt packed weights)")
    return np.ascontiguousarray(w)


def _check_signs(name: str, s: np.ndarray, k: int) -> np.ndarray:
    s = np.asarray(s)
    if s.dtype != np.int8 or s.shape != (k,) or not np.all((s == 1) | (s == -1)):
        raise ValueError(f"{name}: expected int8 ±1 of shape ({k},), got {s.dtype} {s.shape}")
    return s


def _check_mask(layer: Any) -> None:
    """A ternary layer's non-zero plane: same layout as the weights, and U = 1 wherever T = 0.

    Also stores the stacked planes [U; V] (V = U AND mask) that every product of the
    layer multiplies, once, as ``layer._planes`` (None for binary layers).
    """
    mask, weights, n = layer.mask, layer.weights, layer.n_in
    object.__setattr__(layer, "_planes", None)
    if mask is None:
        return
    _check_packed_weights("mask", mask, n)
    if mask.shape != weights.shape:
        raise ValueError(f"mask: shape {mask.shape} differs from the weights' {weights.shape}")
    if np.any(~weights & ~mask & pack(np.ones((1, n), dtype=np.int8))):
        raise ValueError("weights: the sign plane of a ternary layer must read +1 where the mask is 0")
    object.__setattr__(layer, "_planes", np.ascontiguousarray(np.concatenate([weights, weights & mask])))


def _xnor_operand(layer: Any, planes: bool = False) -> XnorPanels:
    """The layer's weights (or its two stacked ternary planes) prepared for the XNOR kernels,
    once per layer (cached on the frozen layer like ``_planes``)."""
    name = "_xnor_planes" if planes else "_xnor_weights"
    cached = layer.__dict__.get(name)
    if cached is None:
        cached = xnor_panels(layer._planes if planes else layer.weights, layer.n_in)
        object.__setattr__(layer, name, cached)
    return cached


def _product(kernel: Any, h: np.ndarray, layer: Any, backend: str) -> np.ndarray:
    """h · Tᵀ with the given ±1 kernel: T = U for binary layers, (U·h + V·h)/2 for ternary ones."""
    xnor = kernel is xnor_matmul
    if layer.mask is None:
        return kernel(h, _xnor_operand(layer) if xnor else layer.weights, layer.n_in, backend=backend)
    k = layer.weights.shape[0]
    both = kernel(h, _xnor_operand(layer, True) if xnor else layer._planes, layer.n_in, backend=backend)
    total = both[:, :k] + both[:, k:]
    return total // 2 if np.issubdtype(total.dtype, np.integer) else total * 0.5


def _threshold_bits(z: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Packed bits of [z_ik >= thresholds_k] (the unfused path of ternary sign layers)."""
    return pack(np.where(z >= thresholds[None, :], 1, -1).astype(np.int8))


@dataclass(frozen=True, eq=False)
class RealSignLayer:
    """First hidden layer: real inputs x, ±1 weights, +1 iff signs_k · (x·W_k) ≥ thresholds_k.

    ``weights`` (K, ceil(n_in/64)) uint64 hold W with the rows of flipped units
    (signs = −1) negated; ``thresholds`` float64 (K,). Output: packed bits.
    """

    weights: np.ndarray
    n_in: int
    signs: np.ndarray
    thresholds: np.ndarray
    kind: str = "real_sign"
    mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        k = _check_packed_weights("weights", self.weights, self.n_in).shape[0]
        _check_mask(self)
        _check_signs("signs", self.signs, k)
        t = np.asarray(self.thresholds)
        if t.dtype != np.float64 or t.shape != (k,) or np.any(np.isnan(t)):
            raise ValueError(f"thresholds: expected float64 of shape ({k},) without NaN, got {t.dtype} {t.shape}")

    @property
    def n_out(self) -> int:
        return int(self.weights.shape[0])

    def forward(self, x: np.ndarray, backend: str = "numba") -> np.ndarray:
        """Packed output bits (M, ceil(K/64)) for real inputs x (M, n_in).

        Default: float32 BLAS on the weights expanded once, every decision checked
        against the float32 error bound and recomputed exactly near the threshold
        (:func:`~stochsyn.bitpack.kernels.guarded_sign_pack`); ``backend="numpy"``:
        the exact float64 product.
        """
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        if backend == "numpy" or not np.array_equal(x32, x):
            z = _product(real_binary_matmul, x, self, backend)
            return _threshold_bits(z, self.thresholds)
        wf = float_weights(self, stored=True)
        return guarded_sign_pack(x32, wf, real_float_matmul(x32, wf), self.thresholds)

    def preactivation(self, x: np.ndarray, backend: str = "numba") -> np.ndarray:
        """z = x · Wᵀ (float64, original weight signs, no bias)."""
        return _product(real_binary_matmul, x, self, backend) * self.signs[None, :]


@dataclass(frozen=True, eq=False)
class BinarySignLayer:
    """Hidden layer on ±1 inputs: +1 iff signs_k · (a·W_k) ≥ thresholds_k (int32), XNOR-popcount."""

    weights: np.ndarray
    n_in: int
    signs: np.ndarray
    thresholds: np.ndarray
    kind: str = "binary_sign"
    mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        k = _check_packed_weights("weights", self.weights, self.n_in).shape[0]
        _check_mask(self)
        _check_signs("signs", self.signs, k)
        t = np.asarray(self.thresholds)
        if t.dtype != np.int32 or t.shape != (k,):
            raise ValueError(f"thresholds: expected int32 of shape ({k},), got {t.dtype} {t.shape}")

    @property
    def n_out(self) -> int:
        return int(self.weights.shape[0])

    def forward(self, a_packed: np.ndarray, backend: str = "numba") -> np.ndarray:
        """Packed output bits (M, ceil(K/64)) for packed ±1 inputs (M, ceil(n_in/64))."""
        if self.mask is not None:
            z = _product(xnor_matmul, a_packed, self, backend)
            return _threshold_bits(z, self.thresholds)
        return xnor_sign_pack(a_packed, _xnor_operand(self), self.n_in, self.thresholds, backend=backend)

    def preactivation(self, a_packed: np.ndarray, backend: str = "numba") -> np.ndarray:
        """Integer z = a · Wᵀ (int32, original weight signs, no bias)."""
        z = _product(xnor_matmul, a_packed, self, backend)
        return z * self.signs[None, :].astype(np.int32)


@dataclass(frozen=True, eq=False)
class BinaryScoreLayer:
    """Final layer on ±1 inputs: scores_ik = score_table[(z_ik + n_in) / 2, k], z = a·Wᵀ.

    ``score_table`` (n_in + 1, K) float32 holds the reference float32 output of
    (bias, batch norm) for each possible integer pre-activation (ternary
    weights: (2 n_in + 1, K), indexed by z + n_in).
    """

    weights: np.ndarray
    n_in: int
    score_table: np.ndarray
    kind: str = "binary_score"
    mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        k = _check_packed_weights("weights", self.weights, self.n_in).shape[0]
        _check_mask(self)
        t = np.asarray(self.score_table)
        rows = self.n_in + 1 if self.mask is None else 2 * self.n_in + 1
        if t.dtype != np.float32 or t.shape != (rows, k):
            raise ValueError(f"score_table: expected float32 of shape ({rows}, {k}), got {t.dtype} {t.shape}")

    @property
    def n_out(self) -> int:
        return int(self.weights.shape[0])

    def preactivation(self, a_packed: np.ndarray, backend: str = "numba") -> np.ndarray:
        """Integer z = a · Wᵀ (int32)."""
        return _product(xnor_matmul, a_packed, self, backend)

    def forward(self, a_packed: np.ndarray, backend: str = "numba") -> np.ndarray:
        """Class scores (M, K) float32."""
        z = self.preactivation(a_packed, backend=backend)
        idx = (z + self.n_in) >> 1 if self.mask is None else z + self.n_in
        return self.score_table[idx, np.arange(self.n_out)[None, :]]


@dataclass(frozen=True, eq=False)
class RealScoreLayer:
    """Final layer on real inputs (a one-layer or ReLU network): scores = (x·Wᵀ) · scale + offset.

    (bias, batch norm) are folded algebraically: scale = γ/√(σ²+ε),
    offset = β + (b − μ)·scale. x·Wᵀ is float32 on the weights expanded once
    (:func:`float_weights`; float64 sums with ``backend="numpy"``). Unlike the
    other kinds this does not replay the reference float32 rounding; predictions
    can differ from it on near ties.
    """

    weights: np.ndarray
    n_in: int
    scale: np.ndarray
    offset: np.ndarray
    kind: str = "real_score"
    mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        k = _check_packed_weights("weights", self.weights, self.n_in).shape[0]
        _check_mask(self)
        for name in ("scale", "offset"):
            v = np.asarray(getattr(self, name))
            if v.dtype != np.float64 or v.shape != (k,) or not np.all(np.isfinite(v)):
                raise ValueError(f"{name}: expected finite float64 of shape ({k},), got {v.dtype} {v.shape}")

    @property
    def n_out(self) -> int:
        return int(self.weights.shape[0])

    def preactivation(self, x: np.ndarray, backend: str = "numba") -> np.ndarray:
        """z = x · Wᵀ: float32 BLAS on the weights expanded once (default), float64 with ``backend="numpy"``."""
        if backend == "numpy":
            return _product(real_binary_matmul, x, self, backend)
        return real_float_matmul(x, float_weights(self))

    def forward(self, x: np.ndarray, backend: str = "numba") -> np.ndarray:
        """Class scores (M, K) float64."""
        return self.preactivation(x, backend=backend) * self.scale[None, :] + self.offset[None, :]


@dataclass(frozen=True, eq=False)
class RealReluLayer(RealScoreLayer):
    """Hidden ReLU layer on real inputs: out = max(0, (x·Wᵀ) · scale + offset), float64.

    Binary or ternary weights against real-valued units (BinaryConnect-style
    networks): :class:`RealScoreLayer` followed by max(0, ·). The sums are float32
    in another order than the reference's (float64 with ``backend="numpy"``), so
    outputs differ from it by rounding (~1e-6 relative); predictions are compared
    in the tests.
    """

    kind: str = "real_relu"

    def forward(self, x: np.ndarray, backend: str = "numba") -> np.ndarray:
        """ReLU outputs (M, K) float64, the next layer's real inputs."""
        return np.maximum(super().forward(x, backend=backend), 0.0)


def float_weights(layer: Any, stored: bool = False) -> np.ndarray:
    """The layer's weights as float32 rows (K, n_in) of ±1/0 values, expanded from its bit planes once and cached.

    Real inputs gain nothing from XNOR arithmetic, so real-input layers multiply
    these with :func:`~stochsyn.bitpack.kernels.real_float_matmul`; the file keeps
    one bit per weight (two for ternary). ``stored``: the orientation the
    thresholds of a sign layer refer to (rows of flipped units negated), else the
    original weights.
    """
    name = "_f32_stored" if stored else "_f32"
    cached = getattr(layer, name, None)
    if cached is None:
        w = unpacked_weights(layer).astype(np.float32)
        signs = getattr(layer, "signs", None)
        if stored and signs is not None:
            w = w * signs[:, None].astype(np.float32)
        cached = np.ascontiguousarray(w)
        object.__setattr__(layer, name, cached)
    return cached


def _affine_fold(bn: dict | None, bias: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scale, offset) with BN_eval(z + b) = z · scale + offset (float64 algebra)."""
    b = np.zeros(k) if bias is None else bias.astype(np.float64)
    if bn is None:
        return np.ones(k), b
    scale = bn["weight"].astype(np.float64) / np.sqrt(bn["running_var"].astype(np.float64) + bn["eps"])
    return scale, bn["bias"].astype(np.float64) + (b - bn["running_mean"].astype(np.float64)) * scale


def build_layer(
    spec: dict, *, index: int, first: bool, last: bool
) -> RealSignLayer | BinarySignLayer | BinaryScoreLayer | RealScoreLayer | RealReluLayer:
    """Packed layer from one entry of an export spec (see :mod:`stochsyn.bitpack.export`).

    ``spec`` = {"kind": "linear", "weight": int8 (out, in) ±1, "bias": float32
    (out,) or None, "bn": None or {"running_mean", "running_var", "weight",
    "bias", "eps"}, "activation": "sign" or "relu" (hidden) or "none" (last)}.
    ``first``: the inputs are real (the first layer, or a layer after a ReLU
    layer); otherwise they are the ±1 outputs of the layer before.
    """
    where = f"layers[{index}]"
    if not isinstance(spec, dict):
        raise TypeError(f"{where}: expected a dict, got {type(spec).__name__}")
    kind = spec.get("kind", "linear")
    if kind != "linear":
        raise ValueError(f"{where}.kind={kind!r}: expected 'linear' (only MLPs can be packed)")
    w = np.asarray(spec.get("weight"))
    if w.ndim != 2 or not (np.issubdtype(w.dtype, np.integer) or np.issubdtype(w.dtype, np.floating)):
        raise ValueError(f"{where}.weight: expected a 2-d ±1 array (out, in), got {w.dtype} {w.shape}")
    if not np.all((w == 1) | (w == -1) | (w == 0)):
        raise ValueError(f"{where}.weight: expected only ±1 (binary) or -1/0/+1 (ternary) values")
    k, n = int(w.shape[0]), int(w.shape[1])
    if k < 1 or n < 1:
        raise ValueError(f"{where}.weight: expected a non-empty matrix, got shape {w.shape}")
    bias = spec.get("bias")
    bias = None if bias is None else _as_f32_vector(f"{where}.bias", bias, k)
    bn = _check_bn(spec.get("bn"), k, where)
    act = spec.get("activation")
    expected = ("none",) if last else ("sign", "relu")
    if act not in expected:
        raise ValueError(
            f"{where}.activation={act!r}: expected {' or '.join(map(repr, expected))} "
            f"({'last' if last else 'hidden'} layer of a binary MLP)"
        )
    w8 = w.astype(np.int8)
    ternary = bool(np.any(w8 == 0))
    mask = pack(np.where(w8 != 0, 1, -1).astype(np.int8)) if ternary else None

    def planes(t: np.ndarray) -> np.ndarray:
        """The sign plane U (zeros read as +1)."""
        return pack(np.where(t == 0, 1, t).astype(np.int8))

    if act == "relu":
        if not first:
            raise ValueError(f"{where}: a ReLU layer after a sign layer is not supported (mixed units)")
        return RealReluLayer(planes(w8), n, *_affine_fold(bn, bias, k), mask=mask)
    if not last:
        signs, bounds = fold_sign_threshold(bn, k)
        packed = planes(w8 * signs[:, None])
        if first:
            # signs*(z + b) >= bound ⟺ signs*z >= bound − signs*b (z is the float64 sum).
            shift = np.zeros(k) if bias is None else signs.astype(np.float64) * bias.astype(np.float64)
            return RealSignLayer(packed, n, signs, bounds - shift, mask=mask)
        return BinarySignLayer(packed, n, signs, _integer_thresholds(signs, bounds, bias, n), mask=mask)
    packed = planes(w8)
    if first:
        return RealScoreLayer(packed, n, *_affine_fold(bn, bias, k), mask=mask)
    z = np.arange(-n, n + 1, 1 if ternary else 2, dtype=np.float32)[:, None] * np.ones((1, k), dtype=np.float32)
    v = z if bias is None else (z + bias[None, :]).astype(np.float32)
    table = reference_activation_input(v, bn).astype(np.float32)
    return BinaryScoreLayer(packed, n, np.ascontiguousarray(table), mask=mask)


def unpacked_weights(layer: Any) -> np.ndarray:
    """The layer's ±1 (or ternary) weights (int8 (K, n_in)) in the original (unflipped) orientation."""
    w = unpack(layer.weights, layer.n_in)
    if getattr(layer, "mask", None) is not None:
        w = np.where(unpack(layer.mask, layer.n_in) > 0, w, 0).astype(np.int8)
    signs = getattr(layer, "signs", None)
    return w if signs is None else (w * signs[:, None]).astype(np.int8)
