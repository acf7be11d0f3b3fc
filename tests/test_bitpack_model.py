"""Packed networks against the PyTorch deploy-mode forward; batch-norm folding; the .npz format."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stochsyn.bitpack import PackedNetwork, export_model, network_from_spec, pack
from stochsyn.bitpack.layers import fold_sign_threshold, reference_activation_input
from stochsyn.bitpack.model import _digest


# --------------------------------------------------------------------------- helpers
def random_bn(rng: np.random.Generator, k: int, n: int) -> dict:
    gamma = rng.normal(size=k).astype(np.float32)
    gamma[::5] = -np.abs(gamma[::5])  # negative scales flip the comparison
    beta = np.where(rng.random(k) < 0.4, 0.0, rng.normal(size=k)).astype(np.float32)
    if k > 7:
        gamma[3], beta[3] = 0.0, -0.5  # constant unit, always -1
        gamma[6], beta[6] = 0.0, 0.0  # constant unit, always +1 (sign(0) = +1)
    return {
        # integer means with beta = 0 put y = 0 exactly on reachable z: sign(0) must be +1
        "running_mean": np.round(rng.normal(scale=np.sqrt(n), size=k)).astype(np.float32),
        "running_var": (rng.random(k) * n + 0.5).astype(np.float32),
        "weight": gamma,
        "bias": beta,
        "eps": 1e-5,
    }


def random_spec(dims: list[int], seed: int, *, bias: bool, bn: bool = True) -> dict:
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append({
            "kind": "linear",
            "weight": (rng.integers(0, 2, size=(b, a)) * 2 - 1).astype(np.int8),
            "bias": rng.normal(size=b).astype(np.float32) if bias else None,
            "bn": random_bn(rng, b, a) if bn else None,
            "activation": "sign" if i < len(dims) - 2 else "none",
        })  # fmt: skip
    return {
        "arch": "mlp:" + "-".join(map(str, dims)),
        "class_names": [f"c{c}" for c in range(dims[-1])],
        "preprocess": {"mean": 0.2860, "std": 0.3530},
        "layers": layers,
    }


def torch_deploy_forward(spec: dict, x_dep: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The contract's deploy forward, written from its formula:
    z = x @ W.T (+b) -> F.batch_norm(eval) -> sign (sign(0)=+1); last layer: scores.
    Returns the bias-free products x @ W.T and the layer outputs."""
    h = torch.from_numpy(x_dep)
    prods, outs = [], []
    with torch.no_grad():
        for layer in spec["layers"]:
            w = torch.from_numpy(layer["weight"].astype(np.float32))
            prods.append(F.linear(h, w).numpy())
            b = None if layer["bias"] is None else torch.from_numpy(layer["bias"])
            z = F.linear(h, w, b)
            bn = layer["bn"]
            if bn is not None:
                stats = [torch.from_numpy(bn[key]) for key in ("running_mean", "running_var", "weight", "bias")]
                z = F.batch_norm(z, *stats, False, 0.0, bn["eps"])
            h = torch.where(z >= 0, 1.0, -1.0) if layer["activation"] == "sign" else z
            outs.append(h.numpy())
    return prods, outs


def image_inputs(seed: int, m: int, d: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(m, d)).astype(np.uint8)


# --------------------------------------------------------------------------- folding
@pytest.mark.parametrize("with_bias", [False, True])
def test_integer_thresholds_reproduce_float_reference_for_every_reachable_z(with_bias: bool) -> None:
    # Binary-input layer with n inputs: z ∈ {-n, -n+2, ..., n}; check every value of every unit.
    n, k = 31, 40
    spec = random_spec([5, n, k, 3], seed=11 + with_bias, bias=with_bias)
    layer_spec = spec["layers"][1]
    net = network_from_spec(spec)
    layer = net.layers[1]
    z = np.arange(-n, n + 1, 2, dtype=np.float32)[:, None] * np.ones((1, k), dtype=np.float32)
    v = z if layer_spec["bias"] is None else (z + layer_spec["bias"][None, :]).astype(np.float32)
    ref = np.where(reference_activation_input(v, layer_spec["bn"]) >= 0, 1, -1)
    packed = np.where(layer.signs[None, :].astype(np.int64) * z.astype(np.int64) >= layer.thresholds[None, :], 1, -1)
    np.testing.assert_array_equal(packed, ref)
    assert np.any(layer.signs == -1)  # the direction flip was exercised
    assert np.all(ref[:, 3] == -1) and np.all(ref[:, 6] == 1)  # gamma = 0: constant units


def test_sign_of_exact_zero_is_plus_one_in_both_directions() -> None:
    k = 4
    bn = {
        "running_mean": np.array([3, 3, -2, 0], dtype=np.float32),
        "running_var": np.ones(k, dtype=np.float32),
        "weight": np.array([1.5, -1.5, -0.25, 0.0], dtype=np.float32),
        "bias": np.zeros(k, dtype=np.float32),
        "eps": 0.0,
    }
    signs, bounds = fold_sign_threshold(bn, k)
    np.testing.assert_array_equal(signs, [1, -1, -1, 1])
    # y(3) = 0 -> +1 for unit 0 (z >= 3) and unit 1 (z <= 3); unit 3 has y = 0 always -> always +1.
    assert bounds[0] == 3.0 and bounds[1] == -3.0 and bounds[2] == 2.0 and bounds[3] == -np.inf


def test_real_thresholds_are_the_float32_boundary() -> None:
    rng = np.random.default_rng(5)
    k = 64
    bn = random_bn(rng, k, 100)
    signs, bounds = fold_sign_threshold(bn, k)
    finite = np.isfinite(bounds)
    t = (signs * bounds)[finite].astype(np.float32)
    # Just at and one float32 step beyond each boundary, the packed rule must agree with the reference.
    for v in (t, np.nextafter(t, np.float32(np.inf)), np.nextafter(t, np.float32(-np.inf))):
        vv = np.zeros((1, k), dtype=np.float32)
        vv[0, finite] = v
        ref = reference_activation_input(vv, bn)[0] >= 0
        rule = signs.astype(np.float64) * vv[0].astype(np.float64) >= bounds
        np.testing.assert_array_equal(rule[finite], ref[finite])


# --------------------------------------------------------------------------- whole network
@pytest.mark.parametrize(
    ("dims", "bias", "bn"),
    [([70, 130, 65, 10], False, True), ([100, 64, 129, 7], True, True), ([30, 50, 4], True, False)],
)
def test_packed_network_bit_exact_against_torch_deploy_forward(dims: list[int], bias: bool, bn: bool) -> None:
    spec = random_spec(dims, seed=sum(dims), bias=bias, bn=bn)
    net = network_from_spec(spec)
    u = image_inputs(1, 300, dims[0])
    x_dep = net.prepare_input(u)
    prods, outs = torch_deploy_forward(spec, x_dep)
    trace = net.trace(x_dep)
    np.testing.assert_allclose(trace["z"][0], prods[0], rtol=0, atol=1e-4)  # real first layer
    for i in range(len(dims) - 1):
        if i > 0:  # binary x binary: the same integers
            assert trace["z"][i].dtype == np.int32
            np.testing.assert_array_equal(trace["z"][i], prods[i].astype(np.int64))
        np.testing.assert_array_equal(trace["a"][i], outs[i])  # same ±1 outputs, same (bit-identical) scores
    np.testing.assert_array_equal(net.predict(u, batch_size=77), outs[-1].argmax(axis=1))
    np.testing.assert_array_equal(net.predict(u, backend="numpy"), outs[-1].argmax(axis=1))


def test_spec_validation_errors() -> None:
    spec = random_spec([10, 8, 3], seed=0, bias=False)
    bad = dict(spec, layers=[dict(spec["layers"][0], activation="tanh"), spec["layers"][1]])
    with pytest.raises(ValueError, match="activation"):
        network_from_spec(bad)
    w = spec["layers"][0]["weight"].copy()
    w[0, 0] = 2  # 0 is a valid ternary weight; 2 is no level
    with pytest.raises(ValueError, match="±1"):
        network_from_spec(dict(spec, layers=[dict(spec["layers"][0], weight=w), spec["layers"][1]]))
    with pytest.raises(ValueError, match="n_in"):
        network_from_spec(dict(spec, layers=[spec["layers"][0], dict(spec["layers"][0], activation="none")]))
    with pytest.raises(TypeError, match="export_spec"):
        export_model(object(), "unused.npz")


# --------------------------------------------------------------------------- file format
@pytest.fixture
def saved(tmp_path: Path) -> tuple[PackedNetwork, Path]:
    spec = random_spec([70, 130, 65, 10], seed=3, bias=True)
    out = tmp_path / "model.npz"
    assert export_model(spec, out) == out
    return PackedNetwork.load(out), out


def test_save_load_round_trip(saved: tuple[PackedNetwork, Path]) -> None:
    net, path = saved
    again = PackedNetwork.load(path)
    assert again.arch == net.arch and again.class_names == net.class_names and again.preprocess == net.preprocess
    u = image_inputs(2, 50, 70)
    np.testing.assert_array_equal(again.scores(u), net.scores(u))
    with np.load(path, allow_pickle=False) as npz:
        assert str(npz["format"]) == "stochsyn.bitpack" and int(npz["format_version"]) == 1
        meta = json.loads(str(npz["metadata"]))
        assert [layer["kind"] for layer in meta["layers"]] == ["real_sign", "binary_sign", "binary_score"]
        assert npz["layer1.weights"].dtype == np.uint64 and npz["layer1.thresholds"].dtype == np.int32
    # one bit per weight (rows padded to whole 64-bit words)
    assert net.weight_bytes == sum(k * -(-n // 64) * 8 for n, k in [(70, 130), (130, 65), (65, 10)])


def _rewrite(path: Path, arrays: dict, *, fix_digest: bool = True) -> None:
    arrays = dict(arrays)
    if fix_digest:
        arrays.pop("digest", None)
        arrays["digest"] = np.array(_digest(arrays))
    np.savez(path, **arrays)


def _arrays(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def test_truncated_file_rejected(saved: tuple[PackedNetwork, Path]) -> None:
    _, path = saved
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="model.npz"):
            PackedNetwork.load(path)


def test_corrupted_bytes_rejected(saved: tuple[PackedNetwork, Path]) -> None:
    _, path = saved
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("layer1.weights.npy")
    pos = info.header_offset + 30 + len(info.filename) + 200  # inside the stored weight bytes
    data[pos] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="model.npz"):
        PackedNetwork.load(path)
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a readable|not an .npz archive"):
        PackedNetwork.load(path)
    with pytest.raises(FileNotFoundError):
        PackedNetwork.load(path.with_name("missing.npz"))


def test_consistent_but_invalid_contents_rejected(saved: tuple[PackedNetwork, Path]) -> None:
    _, path = saved
    good = _arrays(path)
    cases = {
        "checksum": (dict(good, **{"layer0.signs": -good["layer0.signs"]}), False),
        "format_version": (dict(good, format_version=np.array(2)), True),
        "format=": (dict(good, format=np.array("something.else")), True),
        "int32": (dict(good, **{"layer1.thresholds": good["layer1.thresholds"].astype(np.float32)}), True),
        "padding": (dict(good, **{"layer0.weights": good["layer0.weights"] | np.uint64(1 << 63)}), True),
        "missing array": ({k: v for k, v in good.items() if k != "layer2.score_table"}, True),
        "shape": (dict(good, **{"layer2.score_table": good["layer2.score_table"][:-1]}), True),
        "metadata": (dict(good, metadata=np.array("{not json")), True),
    }
    for match, (arrays, fix) in cases.items():
        _rewrite(path, arrays, fix_digest=fix)
        with pytest.raises(ValueError, match=match):
            PackedNetwork.load(path)


def test_pickled_object_arrays_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, format=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a readable|not an .npz archive"):
        PackedNetwork.load(path)


def test_layer_weights_are_packed_bits(saved: tuple[PackedNetwork, Path]) -> None:
    net, _ = saved
    from stochsyn.bitpack.layers import unpacked_weights

    spec = random_spec([70, 130, 65, 10], seed=3, bias=True)
    for layer, ls in zip(net.layers, spec["layers"]):
        np.testing.assert_array_equal(unpacked_weights(layer), ls["weight"])
        signs = getattr(layer, "signs", np.ones(layer.n_out, dtype=np.int8))
        np.testing.assert_array_equal(pack(ls["weight"] * signs[:, None]), layer.weights)
