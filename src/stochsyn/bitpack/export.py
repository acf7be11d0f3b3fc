"""Export a trained binary network (``stochsyn.deep``, MLP or CNN) to a :class:`PackedNetwork` file.

The export contract (implemented by ``stochsyn.deep`` models as ``export_spec()``)::

    {"arch": str, "class_names": list[str],
     "preprocess": {"mean": float, "std": float},      # deployed input = (x − mean)/std
     "input_shape": [C, H, W],                          # convolutional networks only
     "layers": [{"kind": "linear",
                 "weight": int8 (out, in) in {−1, 0, +1},
                 "bias": float32 (out,) or None,
                 "bn": None or {"running_mean", "running_var", "weight", "bias": float32 (out,), "eps": float},
                 "activation": "sign" | "relu" (hidden) or "none" (last: class scores)},
                {"kind": "conv", "weight": int8 (out, in, K, K), "padding": int,
                 "pools": [["max" | "avg", size], ...], "bias", "bn" (per channel), "activation"}, ...]}

whose torch deploy-mode forward is z = x·Wᵀ (+b) (or the zero-padded, stride-1
convolution) → F.batch_norm(eval) → sign (sign(0) = +1) or ReLU → pools for hidden
layers, torch's (c, y, x) flattening before the first dense layer. The folding of
(bias, BN, sign) into packed thresholds is described in :mod:`stochsyn.bitpack.layers`,
the packed convolution in :mod:`stochsyn.bitpack.conv`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .conv import POOL_KINDS, PackedConv2d
from .layers import build_layer, output_is_real
from .model import PackedNetwork

__all__ = ["network_from_spec", "export_model", "export_run"]


def _conv_spec_as_linear(ls: dict, index: int) -> tuple[dict, int, int]:
    """The dense layer over (dy, dx, c) patches of a "conv" spec entry, and its (kernel, padding)."""
    where = f"layers[{index}]"
    w = np.asarray(ls.get("weight"))
    if w.ndim != 4 or w.shape[2] != w.shape[3]:
        raise ValueError(f"{where}.weight: expected a conv kernel (out, in, K, K), got shape {w.shape}")
    padding = ls.get("padding", 0)
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(f"{where}.padding={padding!r}: expected a non-negative int")
    dense = {key: ls.get(key) for key in ("bias", "bn", "activation")}
    dense["kind"] = "linear"
    dense["weight"] = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(w.shape[0], -1)
    return dense, int(w.shape[2]), int(padding)


def _pools_of(ls: dict, index: int) -> tuple[tuple[str, int], ...]:
    pools = ls.get("pools", [])
    if not isinstance(pools, (list, tuple)) or not all(
        isinstance(p, (list, tuple)) and len(p) == 2 and p[0] in POOL_KINDS and isinstance(p[1], (int, np.integer))
        and p[1] >= 1 for p in pools  # fmt: skip
    ):
        raise ValueError(f"layers[{index}].pools={pools!r}: expected a list of [kind, size], kind in {POOL_KINDS}")
    return tuple((str(k), int(n)) for k, n in pools)


def network_from_spec(spec: dict) -> PackedNetwork:
    """Build the packed network for an export spec (the contract in the module docstring)."""
    if not isinstance(spec, dict):
        raise TypeError(f"spec: expected a dict (export contract), got {type(spec).__name__}")
    for key in ("arch", "class_names", "preprocess", "layers"):
        if key not in spec:
            raise ValueError(f"spec: missing key {key!r}")
    layer_specs = spec["layers"]
    if not isinstance(layer_specs, (list, tuple)) or not layer_specs:
        raise ValueError("spec.layers: expected a non-empty list of layer dicts")
    shape: tuple[int, ...] | None = None
    if "input_shape" in spec:
        shape = tuple(int(v) for v in spec["input_shape"])
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"spec.input_shape={spec['input_shape']!r}: expected [C, H, W]")
    last = len(layer_specs) - 1
    layers: list[Any] = []
    real_inputs = True  # the first layer sees the real pixels
    for i, ls in enumerate(layer_specs):
        if not isinstance(ls, dict):
            raise TypeError(f"layers[{i}]: expected a dict, got {type(ls).__name__}")
        if ls.get("kind") == "conv":
            if shape is None or len(shape) != 3:
                raise ValueError(f"layers[{i}]: a conv layer needs (C, H, W) maps (spec.input_shape, conv layers "
                                 "before any dense one)")  # fmt: skip
            if i == last:
                raise ValueError(f"layers[{i}]: the last layer must be dense (class scores)")
            dense, kernel, padding = _conv_spec_as_linear(ls, i)
            if dense["weight"].shape[1] != kernel * kernel * shape[0]:
                raise ValueError(f"layers[{i}].weight: {np.asarray(ls['weight']).shape[1]} input channels, "
                                 f"the maps have {shape[0]}")  # fmt: skip
            inner = build_layer(dense, index=i, first=real_inputs, last=False)
            layer: Any = PackedConv2d(inner, shape, kernel, padding, _pools_of(ls, i))  # type: ignore[arg-type]
            shape = layer.out_shape
        else:
            if shape is not None and len(shape) == 3:
                # torch flattens (c, y, x); the packed maps are flattened (y, x, c)
                c, h, w = shape
                wt = np.asarray(ls.get("weight"))
                if wt.ndim != 2 or wt.shape[1] != c * h * w:
                    raise ValueError(f"layers[{i}].weight: expected {c * h * w} = {c}×{h}×{w} inputs after the "
                                     f"conv layers, got shape {wt.shape}")  # fmt: skip
                ls = dict(ls, weight=wt.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(wt.shape[0], -1))
            layer = build_layer(ls, index=i, first=real_inputs, last=i == last)
            shape = (layer.n_out,)
        real_inputs = output_is_real(layer)
        layers.append(layer)
    prep = spec["preprocess"]
    if not isinstance(prep, dict) or "mean" not in prep or "std" not in prep:
        raise ValueError(f"spec.preprocess={prep!r}: expected {{'mean': float, 'std': float}}")
    return PackedNetwork(
        layers,
        arch=str(spec["arch"]),
        class_names=list(spec["class_names"]),
        preprocess={"mean": float(prep["mean"]), "std": float(prep["std"])},
    )


def export_spec_of(model_or_spec: Any) -> dict:
    """The export-spec dict of a model with ``export_spec()``, or the dict itself."""
    if isinstance(model_or_spec, dict):
        return model_or_spec
    if callable(getattr(model_or_spec, "export_spec", None)):
        return model_or_spec.export_spec()
    raise TypeError(
        f"model_or_spec: expected an export-spec dict or a model with export_spec(), got {type(model_or_spec).__name__}"
    )


def load_run_model(run_dir: str | os.PathLike) -> Any:
    """The model of a ``stochsyn deep train`` run folder, in eval mode (``stochsyn.deep.load_run``)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run_dir={str(run_dir)!r}: not a directory")
    from ..deep import load_run  # torch-heavy; imported only when exporting a run

    model, _config = load_run(run_dir)
    if hasattr(model, "eval"):
        model.eval()
    return model


def export_model(model_or_spec: Any, out: str | os.PathLike) -> Path:
    """Pack a model (anything with ``export_spec()``) or an export spec dict and save it to ``out``.

    Returns the path written (atomically: temp file + rename); read it back with
    :meth:`PackedNetwork.load`, or use :func:`network_from_spec` to pack without
    writing.
    """
    return network_from_spec(export_spec_of(model_or_spec)).save(Path(out))


def export_run(run_dir: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Load a training run with ``stochsyn.deep.load_run(run_dir)``, export its model to ``out``; returns the path."""
    return export_model(load_run_model(run_dir), out)
