"""Export a trained binary MLP (``stochsyn.deep``) to a :class:`PackedNetwork` file.

The export contract (implemented by ``stochsyn.deep`` models as ``export_spec()``)::

    {"arch": str, "class_names": list[str],
     "preprocess": {"mean": float, "std": float},      # deployed input = (x − mean)/std, flattened
     "layers": [{"kind": "linear",
                 "weight": int8 (out, in) of ±1,
                 "bias": float32 (out,) or None,
                 "bn": None or {"running_mean", "running_var", "weight", "bias": float32 (out,), "eps": float},
                 "activation": "sign" (hidden) or "none" (last: class scores)}, ...]}

whose torch deploy-mode forward is z = x·Wᵀ (+b) → F.batch_norm(eval) → sign
(sign(0) = +1) for hidden layers. The folding of (bias, BN, sign) into packed
thresholds is described in :mod:`stochsyn.bitpack.layers`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .layers import build_layer
from .model import PackedNetwork

__all__ = ["network_from_spec", "export_model", "export_run"]


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
    last = len(layer_specs) - 1
    layers = []
    for i, ls in enumerate(layer_specs):
        before = layer_specs[i - 1] if i > 0 else None
        real_inputs = before is None or (isinstance(before, dict) and before.get("activation") == "relu")
        layers.append(build_layer(ls, index=i, first=real_inputs, last=i == last))
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
