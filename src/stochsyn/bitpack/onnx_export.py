"""ONNX export of a deployed binary (or ternary) MLP or CNN with sign or ReLU units (the export spec of :mod:`.export`).

The graph uses standard operators only (opset 17) and reproduces torch deploy mode:

* input ``pixels``: float32 (M, D) in [0, 1] (0–255 images divided by 255);
  ``a = (pixels − mean) / std`` (Sub, Div);
* convolutional networks: the inputs reshaped to NCHW (Reshape), every conv layer
  ``v = conv(a, W) (+ b)`` (Conv, zero padding as in torch, the ±1/0 kernels stored
  as float32), its pools (MaxPool / AveragePool, kernel = stride), Flatten before
  the first dense layer (torch's (c, y, x) order);
* every dense layer ``v = a·Wᵀ (+ b)`` (MatMul with the ±1 weights stored as float32, Add);
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
    d_in = int(np.prod(spec["input_shape"])) if "input_shape" in spec else int(np.asarray(layers[0]["weight"]).shape[1])
    prep = spec["preprocess"]
    const("mean", np.array(prep["mean"], dtype=np.float32))
    const("std", np.array(prep["std"], dtype=np.float32))
    nodes.append(helper.make_node("Sub", ["pixels", "mean"], ["centred"]))
    nodes.append(helper.make_node("Div", ["centred", "std"], ["a0"]))
    cur = "a0"
    if "input_shape" in spec:  # NCHW images, as torch's conv layers see them
        shape = np.array([-1, *map(int, spec["input_shape"])], dtype=np.int64)
        nodes.append(helper.make_node("Reshape", ["a0", const("input_shape", shape)], ["a0_maps"]))
        cur = "a0_maps"
    last = len(layers) - 1
    for i, ls in enumerate(layers):
        conv = ls.get("kind") == "conv"
        w = np.asarray(ls["weight"]).astype(np.float32)
        k, n = w.shape[0], int(np.prod(w.shape[1:]))
        bias = ls.get("bias")
        bn = _check_bn(ls.get("bn"), k, f"layers[{i}]")

        def per_unit(name: str, v: np.ndarray, conv: bool = conv) -> str:
            """A per-unit constant, shaped (1, C, 1, 1) to broadcast over NCHW maps in conv layers."""
            v = np.asarray(v, dtype=np.float32)
            return const(name, v.reshape(1, -1, 1, 1) if conv else v)

        if conv:
            p = int(ls.get("padding", 0))
            nodes.append(helper.make_node("Conv", [cur, const(f"W{i}", w)], [f"z{i}"], kernel_shape=list(w.shape[2:]),
                                          pads=[p, p, p, p], strides=[1, 1]))  # fmt: skip
        else:
            if i > 0 and layers[i - 1].get("kind") == "conv":
                nodes.append(helper.make_node("Flatten", [cur], [f"flat{i}"], axis=1))
                cur = f"flat{i}"
            nodes.append(helper.make_node("MatMul", [cur, const(f"W{i}T", np.ascontiguousarray(w.T))], [f"z{i}"]))
        v = f"z{i}"
        real_inputs = i == 0 or _real_output(layers[i - 1])
        if i < last and bias is not None:
            nodes.append(helper.make_node("Add", [v, per_unit(f"b{i}", bias)], [f"v{i}"]))
            v = f"v{i}"
        if ls.get("activation") == "relu":  # real units: BN_eval(x·Wᵀ + b), then Relu
            if bn is not None:
                nodes.append(helper.make_node(
                    "BatchNormalization",
                    [v, const(f"bn_w{i}", bn["weight"]), const(f"bn_b{i}", bn["bias"]),
                     const(f"bn_m{i}", bn["running_mean"]), const(f"bn_v{i}", bn["running_var"])],
                    [f"y{i}"], epsilon=float(bn["eps"])))  # fmt: skip
                v = f"y{i}"
            nodes.append(helper.make_node("Relu", [v], [f"a{i + 1}"]))
            cur = _pools(nodes, f"a{i + 1}", ls, i)
            continue
        if i < last:
            signs, bounds = fold_sign_threshold(bn, k)
            nodes.append(helper.make_node("Mul", [v, per_unit(f"s{i}", signs)], [f"sv{i}"]))
            nodes.append(helper.make_node("GreaterOrEqual", [f"sv{i}", per_unit(f"t{i}", bounds)], [f"on{i}"]))
            nodes.append(helper.make_node("Where", [f"on{i}", const(f"one{i}", np.float32(1.0)),
                                                    const(f"minus{i}", np.float32(-1.0))], [f"a{i + 1}"]))
            cur = _pools(nodes, f"a{i + 1}", ls, i)
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
        nodes, "stochsyn_binary_network",
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
    meta = model.metadata_props.add()
    meta.key, meta.value = "stochsyn_digest", _graph_digest(model)
    onnx.checker.check_model(model)
    return model


def _graph_digest(model: Any) -> str:
    """SHA-256 over the graph's nodes and constants (ONNX has no checksum of its own): detects corrupt weights."""
    import hashlib

    h = hashlib.sha256()
    for node in model.graph.node:
        h.update(node.SerializeToString(deterministic=True))
    for init in model.graph.initializer:
        h.update(init.SerializeToString(deterministic=True))
    return h.hexdigest()


def _real_output(ls: dict) -> bool:
    """The layer hands real values on: ReLU units, or sign units average-pooled."""
    return ls.get("activation") == "relu" or any(p[0] == "avg" for p in ls.get("pools", []))


def _pools(nodes: list[Any], cur: str, ls: dict, i: int) -> str:
    """MaxPool / AveragePool nodes (kernel = stride = size) for the pools of layer i; returns the output name."""
    from onnx import helper

    for j, (kind, size) in enumerate(ls.get("pools", [])):
        op = "MaxPool" if kind == "max" else "AveragePool"
        nodes.append(helper.make_node(op, [cur], [f"pool{i}_{j}"], kernel_shape=[size, size], strides=[size, size]))
        cur = f"pool{i}_{j}"
    return cur


def export_onnx(model_or_spec: Any, out: str | os.PathLike) -> Path:
    """Write the ONNX file of a model with ``export_spec()`` (or of a spec dict) to ``out`` (atomic)."""
    out = Path(out)
    atomic_write_bytes(out, spec_to_onnx(export_spec_of(model_or_spec)).SerializeToString())
    return out


def export_run_onnx(run_dir: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Load a ``stochsyn deep train`` run and write its deployed network as ONNX to ``out``."""
    return export_onnx(load_run_model(run_dir), out)


class OnnxNetwork:
    """An exported ONNX network run by onnxruntime, with the inference interface of PackedNetwork.

    Load with :meth:`load`; ``predict`` / ``scores`` take the same pixel arrays
    (integer 0–255 or float [0, 1]) as :meth:`PackedNetwork.prepare_input`.
    """

    def __init__(self, session: Any, *, arch: str, class_names: list[str], input_dim: int, n_weights: int,
                 file_bytes: int) -> None:  # fmt: skip
        self.session = session
        self.arch = arch
        self.class_names = class_names
        self.input_dim = input_dim
        self.n_classes = len(class_names)
        self.n_weights = n_weights
        self.weight_bytes = file_bytes  # the whole file: ONNX stores the ±1 weights as float32

    @classmethod
    def load(cls, path: str | os.PathLike, *, threads: int | None = None) -> "OnnxNetwork":
        """Read, check and open an ONNX file written by :func:`export_onnx`.

        Raises FileNotFoundError if it is missing and one ValueError naming the file
        for anything else: not ONNX, truncated or corrupt (protobuf or checker
        errors), not a stochsyn network (no ``pixels`` input / ``scores``,
        ``label`` outputs), or onnxruntime missing.
        """
        import onnx

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such ONNX model file")
        try:
            proto = onnx.load(str(path))
            onnx.checker.check_model(proto)
        except Exception as exc:  # onnx raises protobuf DecodeError, ValidationError, OSError...
            raise ValueError(f"{path}: not a readable ONNX model ({type(exc).__name__}: {str(exc)[:200]})") from None
        graph = proto.graph
        inputs = [i.name for i in graph.input]
        outputs = {o.name for o in graph.output}
        if inputs != ["pixels"] or not {"scores", "label"} <= outputs:
            raise ValueError(f"{path}: not a stochsyn network (expected the input 'pixels' and the outputs 'scores', "
                             f"'label'; found inputs {inputs}, outputs {sorted(outputs)})")  # fmt: skip
        meta = {p.key: p.value for p in proto.metadata_props}
        if "stochsyn_digest" not in meta:
            raise ValueError(f"{path}: not written by stochsyn (no stochsyn_digest metadata)")
        if meta["stochsyn_digest"] != _graph_digest(proto):
            raise ValueError(f"{path}: checksum mismatch: the file is corrupt or was modified")
        try:
            dims = graph.input[0].type.tensor_type.shape.dim
            input_dim = int(dims[1].dim_value)
            n_classes = int(graph.output[0].type.tensor_type.shape.dim[1].dim_value)
        except (IndexError, ValueError):
            raise ValueError(f"{path}: the graph's input/output shapes are not (batch, D) / (batch, classes)") from None
        names = meta.get("class_names", "").split(",") if meta.get("class_names") else [str(c) for c in range(n_classes)]
        if len(names) != n_classes:
            raise ValueError(f"{path}: metadata names {len(names)} classes, the graph has {n_classes} outputs")
        try:
            import onnxruntime as ort
        except ImportError:
            raise ValueError(f"{path}: running ONNX files needs onnxruntime (pip install onnxruntime)") from None
        opts = ort.SessionOptions()
        if threads is not None:
            opts.intra_op_num_threads = int(threads)
        try:
            session = ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own graph errors
            raise ValueError(f"{path}: onnxruntime cannot run it ({type(exc).__name__}: {str(exc)[:200]})") from None
        n_weights = sum(int(np.prod(t.dims)) for t in graph.initializer if t.name.startswith("W"))
        return cls(session, arch=meta.get("arch", "?"), class_names=names, input_dim=input_dim, n_weights=n_weights,
                   file_bytes=path.stat().st_size)  # fmt: skip

    def scores(self, x: np.ndarray, *, batch_size: int = 4096, backend: str | None = None) -> np.ndarray:
        """Class scores (M, classes) float32; ``backend`` is ignored (onnxruntime chooses its kernels)."""
        from .model import PackedNetwork

        x = np.asarray(x)
        pixels = PackedNetwork._pixels(x, self.input_dim)
        out = [self.session.run(["scores"], {"pixels": pixels[i : i + batch_size]})[0]
               for i in range(0, len(pixels), batch_size)]  # fmt: skip
        return np.concatenate(out) if out else np.empty((0, self.n_classes), dtype=np.float32)

    def predict(self, x: np.ndarray, *, batch_size: int = 4096, backend: str | None = None) -> np.ndarray:
        """Predicted class indices (int64, (M,)): argmax of :meth:`scores` (first maximum)."""
        return np.argmax(self.scores(x, batch_size=batch_size), axis=1)
