"""Ternary networks in the packed engine (two bit planes) and in ONNX, against torch deploy mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

deep = pytest.importorskip("stochsyn.deep")

from stochsyn.bitpack import PackedNetwork, export_run  # noqa: E402
from stochsyn.bitpack.export import network_from_spec  # noqa: E402
from stochsyn.bitpack.layers import unpacked_weights  # noqa: E402
from stochsyn.deep.data import synthetic_dataset  # noqa: E402


def _ternary_spec(seed: int, sizes: list[int]) -> dict:
    """A random ternary sign MLP spec with batch norms of both signs, biases and some always-on units."""
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=(b, a), p=[0.3, 0.4, 0.3])
        bn = {"running_mean": rng.normal(size=b).astype(np.float32), "running_var": rng.uniform(0.5, 3, b).astype(np.float32),
              "weight": rng.normal(size=b).astype(np.float32), "bias": rng.normal(size=b).astype(np.float32), "eps": 1e-5}  # fmt: skip
        layers.append({"kind": "linear", "weight": w, "bias": rng.normal(size=b).astype(np.float32), "bn": bn,
                       "activation": "sign" if i < len(sizes) - 2 else "none"})  # fmt: skip
    return {"arch": "mlp:" + "-".join(map(str, sizes)), "class_names": [str(c) for c in range(sizes[-1])],
            "preprocess": {"mean": 0.3, "std": 0.4}, "layers": layers}  # fmt: skip


def _torch_forward(spec: dict, x01: np.ndarray) -> np.ndarray:
    """Deploy-mode forward of the spec in torch float32 (F.linear, F.batch_norm eval, sign(0)=+1)."""
    pre = spec["preprocess"]
    a = (torch.from_numpy(x01.astype(np.float32)) - pre["mean"]) / pre["std"]
    for layer in spec["layers"]:
        z = torch.nn.functional.linear(a, torch.from_numpy(layer["weight"].astype(np.float32)),
                                       torch.from_numpy(layer["bias"]))  # fmt: skip
        bn = layer["bn"]
        z = torch.nn.functional.batch_norm(z, *(torch.from_numpy(bn[k]) for k in ("running_mean", "running_var")),
                                           torch.from_numpy(bn["weight"]), torch.from_numpy(bn["bias"]), False, 0.0,
                                           bn["eps"])  # fmt: skip
        a = torch.where(z >= 0, 1.0, -1.0) if layer["activation"] == "sign" else z
    return a.numpy()


@pytest.mark.parametrize("sizes", [[70, 130, 65, 7], [64, 64, 3], [33, 5]])
def test_ternary_packed_network_reproduces_torch_deploy(tmp_path: Path, sizes: list[int]) -> None:
    spec = _ternary_spec(sum(sizes), sizes)
    net = network_from_spec(spec)
    assert all(layer.mask is not None for layer in net.layers)
    for layer, ls in zip(net.layers, spec["layers"]):
        np.testing.assert_array_equal(unpacked_weights(layer), ls["weight"])
    x = np.random.default_rng(1).random((300, sizes[0])).astype(np.float32)
    ref = _torch_forward(spec, x)
    got = net.scores(x)
    assert np.array_equal(got.argmax(1), ref.argmax(1))
    if len(sizes) > 2:  # hidden layers: scores come from the reference's own float32 table
        np.testing.assert_array_equal(got, ref)
    # the file round trip keeps the two planes; a wrong plane is refused
    loaded = PackedNetwork.load(net.save(tmp_path / "t.npz"))
    np.testing.assert_array_equal(loaded.scores(x), got)
    layer = net.layers[0]
    with pytest.raises(ValueError, match="sign plane"):
        type(layer)(**{**{f: getattr(layer, f) for f in layer.__dataclass_fields__}, "weights": layer.weights & layer.mask})


def test_trained_ternary_network_packed_and_onnx_match_torch(tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    from stochsyn.bitpack import export_run_onnx

    data = synthetic_dataset(n_train=400, n_test=300, seed=4)
    run = tmp_path / "run"
    deep.train(run, model="stochastic", arch="mlp:784-40-32-10", dataset="synthetic", epochs=1, seed=0, data=data,
               calib_samples=300, threads=1, model_options={"synapses": "ternary", "zero_prior": 0.5})  # fmt: skip
    model, _ = deep.load_run(run)
    with torch.no_grad():
        ref = model(torch.as_tensor(data.x_test).float() / 255.0).numpy()
    packed = PackedNetwork.load(export_run(run, tmp_path / "net.npz"))
    assert any(layer.mask is not None for layer in packed.layers)
    np.testing.assert_array_equal(packed.predict(data.x_test), ref.argmax(1))
    sess = ort.InferenceSession(str(export_run_onnx(run, tmp_path / "net.onnx")), providers=["CPUExecutionProvider"])
    x01 = data.x_test.reshape(len(data.x_test), -1).astype(np.float32) / np.float32(255.0)
    scores, label = sess.run(["scores", "label"], {"pixels": x01})
    np.testing.assert_array_equal(label, ref.argmax(1))
    np.testing.assert_array_equal(scores, ref)


@pytest.mark.parametrize("kind,opts", [("binaryconnect", {}), ("stochastic", {"activation": "relu"}),
                                       ("twn", {}), ("stochastic", {"activation": "relu", "synapses": "ternary",
                                                                    "zero_prior": 0.5})])  # fmt: skip
def test_relu_networks_deploy_packed_and_onnx_with_torch_predictions(tmp_path: Path, kind: str, opts: dict) -> None:
    ort = pytest.importorskip("onnxruntime")
    from stochsyn.bitpack import export_run_onnx

    data = synthetic_dataset(n_train=400, n_test=300, seed=6)
    run = tmp_path / "run"
    deep.train(run, model=kind, arch="mlp:784-40-32-10", dataset="synthetic", epochs=1, seed=0, data=data,
               calib_samples=300, threads=1, model_options=opts)  # fmt: skip
    model, _ = deep.load_run(run)
    with torch.no_grad():
        ref = model(torch.as_tensor(data.x_test).float() / 255.0).numpy()
    packed = PackedNetwork.load(export_run(run, tmp_path / "net.npz"))
    assert [layer.kind for layer in packed.layers] == ["real_relu", "real_relu", "real_score"]
    np.testing.assert_allclose(packed.scores(data.x_test), ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(packed.predict(data.x_test), ref.argmax(1))
    sess = ort.InferenceSession(str(export_run_onnx(run, tmp_path / "net.onnx")), providers=["CPUExecutionProvider"])
    x01 = data.x_test.reshape(len(data.x_test), -1).astype(np.float32) / np.float32(255.0)
    scores, label = sess.run(["scores", "label"], {"pixels": x01})
    np.testing.assert_array_equal(label, ref.argmax(1))
    np.testing.assert_allclose(scores, ref, rtol=1e-4, atol=1e-4)
