"""PackedNetwork: a deployed binary (or ternary) MLP or CNN at one bit per weight, and its ``.npz`` file format.

Inference (deploy mode of the export contract, see :mod:`stochsyn.bitpack.layers`):

    x_dep = (x − mean) / std  (float32, flattened; x in [0, 1], uint8 input is divided by 255)
    a_1 = sign(BN(x_dep · W_1ᵀ + b_1))            RealSignLayer   (real × binary)
    a_l = sign(BN(a_{l−1} · W_lᵀ + b_l))          BinarySignLayer (XNOR-popcount, integer thresholds)
    scores = BN(a_{L−1} · W_Lᵀ + b_L)             BinaryScoreLayer (lookup table)
    prediction = argmax_k scores_k (first maximum on ties, as torch/numpy argmax)

File format (``FORMAT_NAME`` version ``FORMAT_VERSION`` = 1), an ``.npz`` read
with ``allow_pickle=False``:

=====================  =======================  ===============================================
key                    dtype, shape             meaning
=====================  =======================  ===============================================
``format``             str, ()                  ``"stochsyn.bitpack"``
``format_version``     int64, ()                1
``metadata``           str, ()                  JSON: arch, class_names, preprocess {mean, std},
                                                input_dim, layers [{kind, n_in, n_out}], creator
``digest``             str, ()                  SHA-256 over every other array (name, dtype,
                                                shape, bytes), sorted by name
``layer{i}.weights``   uint64, (K, ⌈n_in/64⌉)   packed ±1 weights, bit j%64 of word j//64 = +1;
                                                rows of flipped units negated; padding bits 0
``layer{i}.signs``     int8, (K,)               ±1, direction of the sign comparison (sign layers)
``layer{i}.thresholds``float64 / int32, (K,)    real_sign: float64 bound; binary_sign: int32 T
``layer{i}.score_table`` float32, (n_in+1, K)   binary_score: scores for z = −n_in, −n_in+2, …, n_in
``layer{i}.scale``,    float64, (K,)            real_score: scores = z · scale + offset
``layer{i}.offset``
``layer{i}.mask``      uint64, (K, ⌈n_in/64⌉)   ternary layers only (metadata ``"ternary": true``):
                                                the non-zero plane; ``weights`` is then the sign
                                                plane with zeros read as +1, and the score table
                                                has 2 n_in + 1 rows (z = −n_in, …, n_in)
=====================  =======================  ===============================================

Layer kinds: the first layer is ``real_sign`` (or ``real_score`` for a
one-layer network), later hidden layers ``binary_sign``, the last
``binary_score``. Networks of real-valued (ReLU) units have ``real_relu``
hidden layers (``scale``, ``offset`` as ``real_score``) and a ``real_score`` last layer.
Convolutional layers (:class:`~stochsyn.bitpack.conv.PackedConv2d`) store the
arrays of their inner dense layer over (dy, dx, c) patches; their metadata entry
is ``{"kind": "conv", "n_in", "n_out", "conv": {"layer_kind", "in_shape",
"kernel", "padding", "pools"}}``. :meth:`PackedNetwork.load` checks all of it and raises
ValueError naming the file and the problem for a truncated, corrupt or
inconsistent file.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .conv import PackedConv2d, flatten_maps
from .layers import BinaryScoreLayer, BinarySignLayer, RealReluLayer, RealScoreLayer, RealSignLayer, output_is_real

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "PackedNetwork"]

FORMAT_NAME = "stochsyn.bitpack"
FORMAT_VERSION = 1

_LAYER_CLASSES = {
    "real_sign": RealSignLayer,
    "binary_sign": BinarySignLayer,
    "binary_score": BinaryScoreLayer,
    "real_score": RealScoreLayer,
    "real_relu": RealReluLayer,
}
_LAYER_ARRAYS = {
    "real_sign": ("weights", "signs", "thresholds"),
    "binary_sign": ("weights", "signs", "thresholds"),
    "binary_score": ("weights", "score_table"),
    "real_score": ("weights", "scale", "offset"),
    "real_relu": ("weights", "scale", "offset"),
}

Layer = RealSignLayer | BinarySignLayer | BinaryScoreLayer | RealScoreLayer | RealReluLayer | PackedConv2d


def _layer_arrays(kind: str, ternary: bool) -> tuple[str, ...]:
    """The arrays stored for a layer: those of its kind, and the non-zero plane ``mask`` if ternary."""
    return _LAYER_ARRAYS[kind] + (("mask",) if ternary else ())


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


class PackedNetwork:
    """A binary MLP packed for inference; see the module docstring for the math and the file format.

    Parameters
    ----------
    layers: the packed layers, first (real inputs) to last (class scores).
    arch: free-text architecture name (e.g. ``"mlp-784-1024-1024-10"``).
    class_names: one name per output unit.
    preprocess: {"mean": float, "std": float}, deployed input = (x − mean)/std.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        *,
        arch: str,
        class_names: Sequence[str],
        preprocess: dict[str, float],
    ) -> None:
        layers = list(layers)
        if not layers:
            raise ValueError("layers: expected at least one layer")
        real = True  # the first layer sees the real pixels
        shape: tuple[int, ...] | None = None
        for i, layer in enumerate(layers):
            last = i == len(layers) - 1
            conv = isinstance(layer, PackedConv2d)
            if conv and last:
                raise ValueError(f"layers[{i}]: the last layer must be dense (class scores), got a conv layer")
            allowed = {
                (True, True): ("real_score",),
                (True, False): ("real_sign", "real_relu"),
                (False, True): ("binary_score",),
                (False, False): ("binary_sign",),
            }[(real, last)]
            kind = layer.layer.kind if conv else getattr(layer, "kind", None)
            if kind not in allowed:
                what = "real" if real else "±1"
                raise ValueError(f"layers[{i}]: kind {kind!r} on {what} inputs, expected one of {allowed}")
            if conv:
                if i > 0 and layer.in_shape != shape:
                    raise ValueError(f"layers[{i}]: input maps {layer.in_shape} do not match the output "
                                     f"{shape} of layers[{i - 1}]")  # fmt: skip
                shape = layer.out_shape
            else:
                n_in = int(np.prod(shape)) if shape is not None else layer.n_in
                if layer.n_in != n_in:
                    raise ValueError(f"layers[{i}]: n_in={layer.n_in} does not match the {n_in} outputs of "
                                     f"layers[{i - 1}]")  # fmt: skip
                shape = (layer.n_out,)
            real = output_is_real(layer)
        if not isinstance(arch, str):
            raise TypeError(f"arch={arch!r}: expected a str")
        names = [str(c) for c in class_names]
        if len(names) != layers[-1].n_out:
            raise ValueError(f"class_names: {len(names)} names for {layers[-1].n_out} output units")
        if not isinstance(preprocess, dict) or not {"mean", "std"} <= set(preprocess):
            raise ValueError(f"preprocess={preprocess!r}: expected a dict with 'mean' and 'std'")
        mean, std = float(preprocess["mean"]), float(preprocess["std"])
        if not (np.isfinite(mean) and np.isfinite(std) and std > 0):
            raise ValueError(f"preprocess={preprocess!r}: expected finite mean and std > 0")
        self.layers: list[Layer] = layers
        self.arch = arch
        self.class_names = names
        self.preprocess = {"mean": mean, "std": std}

    # ------------------------------------------------------------------ shape
    @property
    def input_shape(self) -> tuple[int, ...]:
        """(C, H, W) of the input images of a convolutional network, (features,) for an MLP."""
        first = self.layers[0]
        return first.in_shape if isinstance(first, PackedConv2d) else (int(first.n_in),)

    @property
    def input_dim(self) -> int:
        """Number of (flattened) inputs."""
        return int(np.prod(self.input_shape))

    @property
    def n_classes(self) -> int:
        return int(self.layers[-1].n_out)

    @property
    def weight_bytes(self) -> int:
        """Bytes of packed weight words (one bit per weight, two for ternary layers; rows padded to 64 bits)."""
        return int(sum(layer.weights.nbytes + (0 if layer.mask is None else layer.mask.nbytes) for layer in self.layers))

    @property
    def n_weights(self) -> int:
        """Number of binary weights."""
        return int(sum(layer.n_in * layer.n_out for layer in self.layers))

    def __repr__(self) -> str:
        dims = [self.input_dim] + [layer.n_out for layer in self.layers]
        return f"PackedNetwork(arch={self.arch!r}, dims={dims}, weight_bytes={self.weight_bytes})"

    # -------------------------------------------------------------- inference
    def prepare_input(self, x: np.ndarray) -> np.ndarray:
        """Deployed input (float32, (M, input_dim)): (x − mean)/std after flattening.

        ``x`` (M, …) is pixels: any integer dtype with values in [0, 255] (divided by
        255 in float32 first, like torchvision's ToTensor), or floats in [0, 1].
        Integers outside [0, 255], floats outside [0, 1] (e.g. 0–255 pixels cast to float)
        and NaN/inf raise ValueError instead of giving wrong classes.
        """
        x = self._pixels(x, self.input_dim)
        return (x - np.float32(self.preprocess["mean"])) / np.float32(self.preprocess["std"])

    @staticmethod
    def _pixels(x: np.ndarray, input_dim: int) -> np.ndarray:
        """Pixels in [0, 1] as float32 (M, input_dim), checked (the contract of :meth:`prepare_input`)."""
        x = np.asarray(x)
        if x.ndim < 1:
            raise ValueError("x: expected an array of shape (M, ...)")
        if np.issubdtype(x.dtype, np.integer) and not np.issubdtype(x.dtype, np.bool_):
            if x.size and (int(x.min()) < 0 or int(x.max()) > 255):
                raise ValueError(f"x: integer pixels must lie in [0, 255], got values in [{x.min()}, {x.max()}]")
            x = x.astype(np.float32) / np.float32(255.0)
        elif np.issubdtype(x.dtype, np.floating):
            if not np.all(np.isfinite(x)):
                raise ValueError("x contains NaN or inf")
            if x.size and (float(x.min()) < 0.0 or float(x.max()) > 1.0):
                raise ValueError(
                    f"x: float pixels must lie in [0, 1], got values in [{float(x.min()):g}, {float(x.max()):g}]; "
                    "pass 0-255 pixels as an integer array, or divide them by 255"
                )
            x = x.astype(np.float32)
        else:
            raise TypeError(f"x: expected an integer (0-255) or float ([0, 1]) pixel array, got dtype {x.dtype}")
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != input_dim:
            raise ValueError(f"x: {x.shape[1]} inputs per example, expected {input_dim}")
        return x

    def scores_prepared(self, x_dep: np.ndarray, *, backend: str = "numba") -> np.ndarray:
        """Class scores for already-preprocessed float inputs (M, input_dim)."""
        h = self._maps(x_dep)
        for i, layer in enumerate(self.layers):
            h = layer.forward(self._flatten_before(i, h), backend=backend)
        return h

    def _maps(self, x_dep: np.ndarray) -> np.ndarray:
        """Deployed inputs as the first layer takes them: rows, or channels-last maps (M, H, W, C)."""
        if not isinstance(self.layers[0], PackedConv2d):
            return x_dep
        c, h, w = self.input_shape
        return np.ascontiguousarray(x_dep.reshape(-1, c, h, w).transpose(0, 2, 3, 1))

    def _flatten_before(self, i: int, h: np.ndarray) -> np.ndarray:
        """The maps of conv layer i − 1 flattened for dense layer i (unchanged otherwise)."""
        if h.ndim != 4 or isinstance(self.layers[i], PackedConv2d):
            return h
        before = self.layers[i - 1]
        return flatten_maps(h, before.n_out, bits=not output_is_real(before))

    def scores(self, x: np.ndarray, *, batch_size: int = 4096, backend: str = "numba") -> np.ndarray:
        """Class scores (M, n_classes) for raw inputs (see :meth:`prepare_input`), in batches."""
        batch_size = _check_batch_size(batch_size)
        x = np.asarray(x)
        out = [self.scores_prepared(self.prepare_input(x[i : i + batch_size]), backend=backend)
               for i in range(0, x.shape[0], batch_size)]
        if not out:
            return np.empty((0, self.n_classes), dtype=np.float32)
        return np.concatenate(out, axis=0)

    def predict(self, x: np.ndarray, *, batch_size: int = 4096, backend: str = "numba") -> np.ndarray:
        """Predicted class indices (int64, (M,)): argmax of :meth:`scores` (first maximum)."""
        return np.argmax(self.scores(x, batch_size=batch_size, backend=backend), axis=1)

    def trace(self, x_dep: np.ndarray, *, backend: str = "numba") -> dict[str, list[np.ndarray]]:
        """Per-layer pre-activations z = a·Wᵀ (no bias; int32 for binary inputs) and ±1 outputs.

        For testing against a reference forward: returns {"z": [...], "a": [...]}
        with one entry per layer ("a" of the last layer = class scores).
        """
        from .packing import unpack

        h = self._maps(x_dep)
        zs, acts = [], []
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            h = self._flatten_before(i, h)
            zs.append(layer.preactivation(h, backend=backend))
            h = layer.forward(h, backend=backend)
            acts.append(h if i == last or output_is_real(layer) else unpack(h, layer.n_out))
        return {"z": zs, "a": acts}

    # -------------------------------------------------------------------- I/O
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays of the ``.npz`` file (format documented in the module docstring)."""
        meta = {
            "arch": self.arch,
            "class_names": self.class_names,
            "preprocess": self.preprocess,
            "input_dim": self.input_dim,
            "layers": [_layer_metadata(layer) for layer in self.layers],
            "creator": _creator(),
        }
        arrays: dict[str, np.ndarray] = {
            "format": np.array(FORMAT_NAME),
            "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
            "metadata": np.array(json.dumps(meta, sort_keys=True)),
        }
        for i, layer in enumerate(self.layers):
            inner = layer.layer if isinstance(layer, PackedConv2d) else layer
            for name in _layer_arrays(inner.kind, inner.mask is not None):
                arrays[f"layer{i}.{name}"] = np.ascontiguousarray(getattr(inner, name))
        arrays["digest"] = np.array(_digest(arrays))
        return arrays

    def save(self, path: str | os.PathLike) -> Path:
        """Write the network to ``path`` (``.npz``, atomically: temp file + rename)."""
        from ..atomic import atomic_savez

        return atomic_savez(path, **self.to_arrays())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "PackedNetwork":
        """Read and validate a file written by :meth:`save`.

        Raises FileNotFoundError if it is missing and ValueError naming the file
        for anything else wrong: not an npz, truncated, checksum mismatch,
        unknown format or version, missing arrays, wrong dtypes or shapes.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such packed model file")
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path}: not an .npz archive (export one with `stochsyn deep export RUN OUT.npz`)")
        try:
            with np.load(path, allow_pickle=False) as npz:
                # Reading every member also checks each zip entry's CRC-32.
                arrays = {name: npz[name] for name in npz.files}
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{path}: not a readable stochsyn packed model (.npz): {type(exc).__name__}: {exc}") from None
        try:
            return cls.from_arrays(arrays)
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"{path}: invalid stochsyn packed model: {exc}") from None

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "PackedNetwork":
        """Validate the arrays of a packed-model file and build the network."""
        for key in ("format", "format_version", "metadata", "digest"):
            if key not in arrays:
                raise ValueError(f"missing array {key!r}")
        fmt = arrays["format"]
        if fmt.dtype.kind != "U" or fmt.shape != () or str(fmt) != FORMAT_NAME:
            raise ValueError(f"format={fmt!r}: expected {FORMAT_NAME!r}")
        ver = arrays["format_version"]
        if ver.dtype.kind not in "iu" or ver.shape != ():
            raise ValueError(f"format_version: expected an integer scalar, got {ver.dtype} {ver.shape}")
        if int(ver) != FORMAT_VERSION:
            raise ValueError(f"format_version={int(ver)}: this stochsyn reads version {FORMAT_VERSION}")
        digest = arrays["digest"]
        body = {k: v for k, v in arrays.items() if k != "digest"}
        if digest.dtype.kind != "U" or str(digest) != _digest(body):
            raise ValueError("checksum mismatch: the file is corrupt or was modified")
        meta_arr = arrays["metadata"]
        if meta_arr.dtype.kind != "U" or meta_arr.shape != ():
            raise ValueError("metadata: expected a JSON string scalar")
        try:
            meta = json.loads(str(meta_arr))
        except json.JSONDecodeError as exc:
            raise ValueError(f"metadata: invalid JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise ValueError("metadata: expected a JSON object")
        for key in ("arch", "class_names", "preprocess", "input_dim", "layers"):
            if key not in meta:
                raise ValueError(f"metadata: missing {key!r}")
        specs = meta["layers"]
        if not isinstance(specs, list) or not specs:
            raise ValueError("metadata.layers: expected a non-empty list")
        layers: list[Layer] = []
        expected_keys = {"format", "format_version", "metadata", "digest"}
        for i, spec in enumerate(specs):
            kind = spec.get("kind") if isinstance(spec, dict) else None
            conv = spec.get("conv") if kind == "conv" else None
            if kind == "conv":
                if not isinstance(conv, dict):
                    raise ValueError(f"metadata.layers[{i}].conv: expected the conv geometry (a JSON object)")
                kind = conv.get("layer_kind")
            if kind not in _LAYER_CLASSES:
                raise ValueError(f"metadata.layers[{i}].kind={kind!r}: expected one of {tuple(_LAYER_CLASSES)}")
            n_in, n_out = spec.get("n_in"), spec.get("n_out")
            if not (isinstance(n_in, int) and isinstance(n_out, int) and n_in > 0 and n_out > 0):
                raise ValueError(f"metadata.layers[{i}]: expected positive int n_in, n_out")
            ternary = spec.get("ternary", False)
            if not isinstance(ternary, bool):
                raise ValueError(f"metadata.layers[{i}].ternary={ternary!r}: expected true or false")
            fields: dict[str, Any] = {}
            for name in _layer_arrays(kind, ternary):
                key = f"layer{i}.{name}"
                expected_keys.add(key)
                if key not in arrays:
                    raise ValueError(f"missing array {key!r}")
                fields[name] = arrays[key]
            if fields["weights"].ndim != 2 or fields["weights"].shape[0] != n_out:
                raise ValueError(f"layer{i}.weights: shape {fields['weights'].shape}, expected ({n_out}, ...)")
            try:
                layer = _LAYER_CLASSES[kind](n_in=n_in, **fields)
                if conv is not None:
                    layer = PackedConv2d(layer, tuple(conv["in_shape"]), int(conv["kernel"]), int(conv["padding"]),
                                         tuple(tuple(p) for p in conv["pools"]))  # fmt: skip
                layers.append(layer)
            except (ValueError, TypeError, KeyError) as exc:
                raise ValueError(f"layer{i}: {exc}") from None
        extra = set(arrays) - expected_keys
        if extra:
            raise ValueError(f"unexpected arrays {sorted(extra)}")
        net = cls(layers, arch=meta["arch"], class_names=meta["class_names"], preprocess=meta["preprocess"])
        if meta["input_dim"] != net.input_dim:
            raise ValueError(f"metadata.input_dim={meta['input_dim']} but the layers take {net.input_dim} inputs")
        return net


def _layer_metadata(layer: Layer) -> dict[str, Any]:
    """The metadata entry of one layer: kind and sizes (and, for a conv layer, its geometry)."""
    inner = layer.layer if isinstance(layer, PackedConv2d) else layer
    meta: dict[str, Any] = {"kind": layer.kind, "n_in": int(inner.n_in), "n_out": int(inner.n_out)}
    if inner.mask is not None:
        meta["ternary"] = True
    if isinstance(layer, PackedConv2d):
        meta["conv"] = {"layer_kind": inner.kind, "in_shape": list(layer.in_shape), "kernel": layer.kernel,
                        "padding": layer.padding, "pools": [list(p) for p in layer.pools]}  # fmt: skip
    return meta


def _check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}: expected a positive int")
    return int(batch_size)


def _creator() -> str:
    from .. import __version__

    return f"stochsyn {__version__}"
