"""ONNX export of a deployed binary (or ternary) MLP with sign or ReLU units (the export spec of :mod:`.export`).

The graph uses standard operators only (opset 17) and reproduces torch deploy mode:

* input ``pixels``: float32 (M, D) in [0, 1] (0–255 images divided by 255);
  ``a = (pixels − mean) / std`` (Sub, Div);
* every layer ``v = a·Wᵀ (+ b)`` (MatMul with the ±1 weights stored as float32, Add);
* hidden layers: sign(BN_eval(v)) with sign(0) = +1, as the folded comparison
  ``s ⊙ v ≥ t`` of :func:`~stochsyn.bitpack.layers.fold_sign_threshold` (Mul,
  GreaterOrEqual, Where → ±1). The fold is exact for every float32 v, so the only
  possible difference from torch is the rounding of the first layer's real-valued
  sums (an accumulation-order effect; the later sums are of ±1 integers and exact);
* hidden ReLU layers (real-valued units with binary or ternary weights):
  BatchNormalization of v, then Relu;
* the last layer's class scores: after real inputs BatchNormalization
  (or nothing); after ±1 inputs the integer sum z ∈ {−n, −n+2, …, n} indexes the
  table of torch's own float32 values BN_eval(z + b) (Add, Div, Cast, GatherElements),
  so the scores are bit-identical to torch for the same z;
* output ``scores`` (M, classes) and ``label`` (ArgMax).

Requires the ``onnx`` package (a dependency of stochsyn); ``onnxruntime`` runs the
file (tests).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write_bytes
from .export import export_spec_of, load_run_model
from .layers import _check_bn, fold_sign_threshold, reference_activation_input

__all__ = ["spec_to_onnx", "export_onnx", "export_run_onnx"]

OPSET = 17


def spec_to_onnx(spec: dict) -> Any:
    """An ``onnx.ModelProto`` for an export spec (contract in :mod:`.export`), checked by onnx.checker."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from .export import network_from_spec

    network_from_spec(spec)  # validates the whole spec with the packed engine's checks
    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    layers = spec["layers"]
    d_in = int(np.asarray(layers[0]["weight"]).shape[1])
    prep = spec["preprocess"]
    const("mean", np.array(prep["mean"], dtype=np.float32))
    const("std", np.array(prep["std"], dtype=np.float32))
    nodes.append(helper.make_node("Sub", ["pixels", "mean"], ["centred"]))
    nodes.append(helper.make_node("Div", ["centred", "std"], ["a0"]))
    cur = "a0"
    last = len(layers) - 1
    for i, ls in enumerate(layers):
        w = np.asarray(ls["weight"]).astype(np.float32)
        k, n = w.shape
        bias = ls.get("bias")
        bn = _check_bn(ls.get("bn"), k, f"layers[{i}]")
        nodes.append(helper.make_node("MatMul", [cur, const(f"W{i}T", np.ascontiguousarray(w.T))], [f"z{i}"]))
        v = f"z{i}"
        real_inputs = i == 0 or layers[i - 1].get("activation") == "relu"
        if ls.get("activation") == "relu":  # real units: BN_eval(x·Wᵀ + b), then Relu
            if bias is not None:
                nodes.append(helper.make_node("Add", [v, const(f"b{i}", np.asarray(bias, np.float32))], [f"v{i}"]))
                v = f"v{i}"
            if bn is not None:
                nodes.append(helper.make_node(
                    "BatchNormalization",
                    [v, const(f"bn_w{i}", bn["weight"]), const(f"bn_b{i}", bn["bias"]),
                     const(f"bn_m{i}", bn["running_mean"]), const(f"bn_v{i}", bn["running_var"])],
                    [f"y{i}"], epsilon=float(bn["eps"])))  # fmt: skip
                v = f"y{i}"
            nodes.append(helper.make_node("Relu", [v], [f"a{i + 1}"]))
            cur = f"a{i + 1}"
            continue
        if i < last:
            if bias is not None:
                nodes.append(helper.make_node("Add", [v, const(f"b{i}", np.asarray(bias, np.float32))], [f"v{i}"]))
                v = f"v{i}"
            signs, bounds = fold_sign_threshold(bn, k)
            nodes.append(helper.make_node("Mul", [v, const(f"s{i}", signs.astype(np.float32))], [f"sv{i}"]))
            nodes.append(helper.make_node("GreaterOrEqual", [f"sv{i}", const(f"t{i}", bounds.astype(np.float32))],
                                          [f"on{i}"]))
            nodes.append(helper.make_node("Where", [f"on{i}", const(f"one{i}", np.float32(1.0)),
                                                    const(f"minus{i}", np.float32(-1.0))], [f"a{i + 1}"]))
            cur = f"a{i + 1}"
            continue
        if real_inputs:  # real inputs (one-layer or ReLU network): scores = BN_eval(x·Wᵀ + b)
            if bias is not None:
                nodes.append(helper.make_node("Add", [v, const("b_last", np.asarray(bias, np.float32))], ["v_last"]))
                v = "v_last"
            if bn is None:
                nodes.append(helper.make_node("Identity", [v], ["scores"]))
            else:
                nodes.append(helper.make_node(
                    "BatchNormalization",
                    [v, const("bn_w", bn["weight"]), const("bn_b", bn["bias"]), const("bn_m", bn["running_mean"]),
                     const("bn_v", bn["running_var"])], ["scores"], epsilon=float(bn["eps"])))
            continue
        # ±1 inputs: z is an integer in {−n, …, n} (step 2; step 1 for ternary weights);
        # look up torch's own float32 values
        step = 1 if np.any(w == 0) else 2
        z = np.arange(-n, n + 1, step, dtype=np.float32)[:, None] * np.ones((1, k), dtype=np.float32)
        vz = z if bias is None else (z + np.asarray(bias, np.float32)[None, :]).astype(np.float32)
        table = reference_activation_input(vz, bn).astype(np.float32)
        nodes.append(helper.make_node("Add", [v, const("n_last", np.float32(n))], ["zn"]))
        nodes.append(helper.make_node("Div", ["zn", const("step", np.float32(step))], ["zi"]))
        nodes.append(helper.make_node("Cast", ["zi"], ["idx"], to=TensorProto.INT64))
        nodes.append(helper.make_node("GatherElements", [const("score_table", table), "idx"], ["scores"], axis=0))
    nodes.append(helper.make_node("ArgMax", ["scores"], ["label"], axis=1, keepdims=0))
    k_out = int(np.asarray(layers[-1]["weight"]).shape[0])
    graph = helper.make_graph(
        nodes, "stochsyn_binary_mlp",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", d_in])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", k_out]),
         helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="stochsyn")
    model.ir_version = 8
    meta = model.metadata_props.add()
    meta.key, meta.value = "arch", str(spec["arch"])
    meta = model.metadata_props.add()
    meta.key, meta.value = "class_names", ",".join(map(str, spec["class_names"]))
    onnx.checker.check_model(model)
    return model


def export_onnx(model_or_spec: Any, out: str | os.PathLike) -> Path:
    """Write the ONNX file of a model with ``export_spec()`` (or of a spec dict) to ``out`` (atomic)."""
    out = Path(out)
    atomic_write_bytes(out, spec_to_onnx(export_spec_of(model_or_spec)).SerializeToString())
    return out


def export_run_onnx(run_dir: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Load a ``stochsyn deep train`` run and write its deployed network as ONNX to ``out``."""
    return export_onnx(load_run_model(run_dir), out)
