"""Packed convolution (stochsyn.bitpack.conv) and packed / ONNX CNNs against torch deploy mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

deep = pytest.importorskip("stochsyn.deep")

from stochsyn.bitpack import PackedNetwork, network_from_spec, pack, unpack  # noqa: E402
from stochsyn.bitpack.conv import flatten_maps, im2col, pool_maps, tap_weights, xnor_conv2d  # noqa: E402
from stochsyn.deep import build_model  # noqa: E402


def _torch_conv(a_pm1: np.ndarray, w: np.ndarray, padding: int) -> np.ndarray:
    """int64 reference: torch's zero-padded conv of channels-last ±1 maps with (out, in, K, K) kernels."""
    x = torch.from_numpy(a_pm1.transpose(0, 3, 1, 2).astype(np.float64))
    z = torch.nn.functional.conv2d(x, torch.from_numpy(w.astype(np.float64)), padding=padding)
    return z.numpy().transpose(0, 2, 3, 1).round().astype(np.int64)


@pytest.mark.parametrize(
    "c_in,c_out,k,padding,hw",
    [(3, 5, 3, 1, (7, 6)), (64, 9, 3, 1, (5, 5)), (70, 65, 5, 2, (6, 9)), (130, 3, 1, 0, (4, 3)),
     (8, 4, 2, 0, (5, 4)), (5, 7, 3, 0, (3, 3)), (2, 3, 3, 2, (2, 2))],
)  # fmt: skip
def test_xnor_conv2d_equals_the_zero_padded_integer_convolution(c_in, c_out, k, padding, hw) -> None:
    rng = np.random.default_rng(c_in * 100 + c_out + k)
    a = rng.choice(np.array([-1, 1], dtype=np.int8), size=(3, *hw, c_in))
    w = rng.choice(np.array([-1, 1], dtype=np.int8), size=(c_out, c_in, k, k))
    taps = tap_weights(pack(w.transpose(0, 2, 3, 1).reshape(c_out, -1)), c_in, k)
    want = _torch_conv(a, w, padding)
    for backend in ("numba", "numpy"):
        z = xnor_conv2d(pack(a), taps, c_in, k, padding, backend=backend)
        assert z.dtype == np.int32
        np.testing.assert_array_equal(z, want)
        t = rng.integers(-3, 4, size=c_out)
        bits = xnor_conv2d(pack(a), taps, c_in, k, padding, t, backend=backend)
        np.testing.assert_array_equal(unpack(bits, c_out), np.where(want >= t, 1, -1))


def test_padding_convention_is_zero_not_a_sign() -> None:
    """An all-(+1) map and all-(+1) kernel: a corner sums only its valid taps (4·C of 9·C for 3×3)."""
    c = 3
    a = np.ones((1, 4, 4, c), dtype=np.int8)
    taps = tap_weights(pack(np.ones((1, 9 * c), dtype=np.int8)), c, 3)
    z = xnor_conv2d(pack(a), taps, c, 3, 1)[0, :, :, 0]
    assert z[0, 0] == 4 * c and z[0, 1] == 6 * c and z[1, 1] == 9 * c


def test_im2col_pools_and_flatten_match_torch() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 5, 7, 3)).astype(np.float32)
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    z = (im2col(x, 3, 1) @ w.transpose(0, 2, 3, 1).reshape(4, -1).T).reshape(2, 5, 7, 4)
    ref = torch.nn.functional.conv2d(torch.from_numpy(x.transpose(0, 3, 1, 2)), torch.from_numpy(w), padding=1)
    np.testing.assert_allclose(z, ref.numpy().transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-5)
    s = rng.choice(np.array([-1, 1], dtype=np.int8), size=(2, 5, 7, 70))
    t = torch.from_numpy(s.transpose(0, 3, 1, 2).astype(np.float32))
    for kind, fn in (("max", torch.nn.functional.max_pool2d), ("avg", torch.nn.functional.avg_pool2d)):
        want = fn(t, 2).numpy().transpose(0, 2, 3, 1)
        got, bits = pool_maps(pack(s), kind, 2, 70, bits=True)
        assert bits == (kind == "max")
        np.testing.assert_array_equal(unpack(got, 70) if bits else got, want)
        got_real, _ = pool_maps(x, kind, 2, 3, bits=False)
        np.testing.assert_array_equal(got_real, fn(torch.from_numpy(x.transpose(0, 3, 1, 2)), 2).numpy().transpose(0, 2, 3, 1))
    for c in (64, 70):
        m = s[..., :c]
        np.testing.assert_array_equal(unpack(flatten_maps(pack(m), c, bits=True), 5 * 7 * c), m.reshape(2, -1))


def _trained_like(kind: str, arch: str, seed: int, **opts) -> torch.nn.Module:
    """A model with random weights and batch norms fitted to random images (means and scales of both signs)."""
    torch.manual_seed(seed)
    model = build_model(kind, arch, **opts)
    x = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(x[:100])
        for norm in model.norms:
            norm.weight.normal_()  # negative scales flip the folded comparisons
            norm.bias.normal_(0.0, 0.5)
    model.eval()
    if kind == "stochastic":
        model.set_mode("deploy")
        model.calibrate_deploy(x)
    return model


def _hidden_margin(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    """Per image, the smallest |pre-activation| of the deployed network's hidden sign units
    (inf where no hidden layer has sign units)."""
    from stochsyn.deep.models import _activate_pool, _flatten_for

    margin = torch.full((len(x),), float("inf"))
    with torch.no_grad():
        a = model.preprocess(x)
        last = len(model.layers) - 1
        for i, layer in enumerate(model.layers[:last]):
            z = layer(_flatten_for(layer, a))
            if model.norms is not None:
                z = model.norms[i](z)
            act = model.act if hasattr(model, "act") else model._act
            if getattr(act, "name", getattr(model, "activation", None)) == "sign":
                margin = torch.minimum(margin, z.abs().flatten(1).amin(dim=1))
            a = _activate_pool(act, z, model.pools[i])
    return margin.numpy()


CASES = [
    ("stochastic", "cnn:8c3-p2-16c3-p2-24-10", {}),
    ("stochastic", "cnn:6c5-p2-70c3-a2-20-10", {}),  # 70 channels (words with padding bits), avg pool → real inputs
    ("bnn", "cnn:8c3-p2-64c3-p2-16-10", {}),
    ("bnn", "cnn:8c3-a2-16c3-p2-24-10", {}),  # a real-input sign conv of 72 inputs: BLAS and the exact guard
    ("stochastic", "cnn:8c3-p2-16c3-p2-24-10", {"synapses": "ternary", "zero_prior": 0.5}),
    ("twn", "cnn:8c3-p2-16c3-p2-24-10", {}),
    ("binaryconnect", "cnn:8c3-p2-16c3-p2-24-10", {}),
    ("stochastic", "cnn:8c3-p2-16c3-24-10", {"activation": "relu"}),
]


@pytest.mark.parametrize("kind,arch,opts", CASES)
def test_packed_cnn_reproduces_torch_deploy(tmp_path: Path, kind: str, arch: str, opts: dict) -> None:
    model = _trained_like(kind, arch, seed=len(arch) + len(opts), **opts)
    x = torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        ref = model(x).numpy()
    spec = model.export_spec()
    if opts.get("synapses") == "ternary" or kind == "twn":
        assert any(np.any(ls["weight"] == 0) for ls in spec["layers"])
    net = network_from_spec(spec)
    assert net.input_shape == (1, 28, 28) and net.input_dim == 784
    path = net.save(tmp_path / "cnn.npz")
    loaded = PackedNetwork.load(path)
    # a sign unit whose pre-activation is within float32 rounding of 0 may flip either way:
    # compare the images without one (nearly all of them)
    clear = _hidden_margin(model, x) > 1e-5
    top2 = np.sort(ref, axis=1)[:, -2:]
    clear &= top2[:, 1] - top2[:, 0] > 1e-3  # and no near-tie between the top two scores
    assert clear.mean() > 0.9
    for backend in ("numba", "numpy"):
        got = loaded.scores(x.numpy(), backend=backend, batch_size=128)
        np.testing.assert_array_equal(got.argmax(1)[clear], ref.argmax(1)[clear])
        if spec["layers"][-2]["activation"] == "sign":  # ±1 inputs to the last layer: the reference's own table
            np.testing.assert_array_equal(got[clear], ref[clear])
        else:
            np.testing.assert_allclose(got[clear], ref[clear], rtol=1e-4, atol=1e-4)
    trace = loaded.trace(loaded.prepare_input(x.numpy()[:4]))
    assert trace["z"][0].shape[:3] == (4, 28, 28)


@pytest.mark.parametrize("kind,arch,opts", CASES[:1] + CASES[3:6])
def test_onnx_cnn_reproduces_torch_deploy(kind: str, arch: str, opts: dict) -> None:
    ort = pytest.importorskip("onnxruntime")
    from stochsyn.bitpack import spec_to_onnx

    model = _trained_like(kind, arch, seed=3, **opts)
    x = torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        ref = model(x).numpy()
    proto = spec_to_onnx(model.export_spec())
    assert {"Conv", "MaxPool", "Flatten"} <= {node.op_type for node in proto.graph.node}
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    scores, label = sess.run(None, {"pixels": x.numpy().reshape(300, -1)})
    np.testing.assert_array_equal(label, ref.argmax(1))
    np.testing.assert_allclose(scores, ref, rtol=1e-4, atol=1e-4)


def test_cnn_file_with_broken_conv_metadata_gives_one_clear_error(tmp_path: Path) -> None:
    import json

    net = network_from_spec(_trained_like("stochastic", "cnn:4c3-p2-8-10", seed=1).export_spec())
    arrays = net.to_arrays()
    meta = json.loads(str(arrays["metadata"]))
    meta["layers"][0]["conv"]["in_shape"] = [1, 27, 28]
    arrays["metadata"] = np.array(json.dumps(meta))
    from stochsyn.bitpack.model import _digest

    arrays["digest"] = np.array(_digest({k: v for k, v in arrays.items() if k != "digest"}))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="bad.npz: invalid stochsyn packed model"):
        PackedNetwork.load(tmp_path / "bad.npz")
    del meta["layers"][0]["conv"]
    arrays["metadata"] = np.array(json.dumps(meta))
    arrays["digest"] = np.array(_digest({k: v for k, v in arrays.items() if k != "digest"}))
    np.savez(tmp_path / "bad2.npz", **arrays)
    with pytest.raises(ValueError, match="conv geometry"):
        PackedNetwork.load(tmp_path / "bad2.npz")


def test_cnn_spec_errors_name_the_layer() -> None:
    spec = _trained_like("stochastic", "cnn:4c3-p2-8-10", seed=2).export_spec()
    bad = dict(spec, layers=[dict(spec["layers"][0], weight=spec["layers"][0]["weight"][:, :, :2])] + spec["layers"][1:])
    with pytest.raises(ValueError, match=r"layers\[0\].weight: expected a conv kernel"):
        network_from_spec(bad)
    no_shape = {k: v for k, v in spec.items() if k != "input_shape"}
    with pytest.raises(ValueError, match="needs \\(C, H, W\\) maps"):
        network_from_spec(no_shape)
    bad_pool = dict(spec, layers=[dict(spec["layers"][0], pools=[["min", 2]])] + spec["layers"][1:])
    with pytest.raises(ValueError, match="pools="):
        network_from_spec(bad_pool)
