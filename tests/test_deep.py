"""Tests of stochsyn.deep: moments vs Monte Carlo, gradients, resume, training, data errors, export."""

from __future__ import annotations

import gzip
import json
import struct

import numpy as np
import pytest
import torch

from stochsyn.deep import (
    MeanVarBatchNorm,
    StochasticBinaryConv2d,
    StochasticBinaryLinear,
    build_model,
    load_dataset,
    load_run,
    parse_arch,
    read_idx,
    relu_moments,
    sign_moments,
    train,
)
from stochsyn.deep.data import synthetic_dataset
from stochsyn.deep.train import evaluate, evaluate_ensemble

torch.set_num_threads(1)


def _sample_pm1(mean: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """n independent ±1 draws with E = mean (broadcast), shape (n, *mean.shape)."""
    u = torch.rand((n, *mean.shape), generator=gen, dtype=torch.float64)
    return torch.where(u < (1 + mean) / 2, 1.0, -1.0).to(torch.float64)


# ---------------------------------------------------------------- moments vs Monte Carlo


def test_linear_moments_match_monte_carlo():
    gen = torch.Generator().manual_seed(1)
    layer = StochasticBinaryLinear(40, 3, bias=True, h_init=1.5).double()
    with torch.no_grad():
        layer.bias.copy_(torch.tensor([0.5, -1.0, 0.0]))
    a = torch.empty(40, dtype=torch.float64).uniform_(-0.9, 0.9, generator=gen)  # input means, ±1 inputs
    s = 1 - a * a
    mean, var = layer.forward_moments(a[None], s[None])
    n = 40000
    x = _sample_pm1(a, n, gen)  # (n, 40)
    w = _sample_pm1(layer.m.detach(), n, gen)  # (n, 3, 40), a fresh network per draw
    z = torch.einsum("noi,ni->no", w, x) + layer.bias.detach()
    emp_mean, emp_var = z.mean(0), z.var(0)
    se_mean = torch.sqrt(var[0] / n)
    assert torch.all((emp_mean - mean[0]).abs() < 5 * se_mean)
    # relative standard error of a sample variance is about sqrt(2/n) for near-Gaussian z
    assert torch.all((emp_var / var[0] - 1).abs() < 5 * np.sqrt(2 / n) + 0.01)


def test_linear_deterministic_input_and_sample_mode():
    gen = torch.Generator().manual_seed(2)
    layer = StochasticBinaryLinear(30, 4, h_init=1.0).double()
    x = torch.randn(1, 30, generator=gen, dtype=torch.float64)
    mean, var = layer.forward_moments(x)
    m = layer.m.detach()
    assert torch.allclose(var, (x**2) @ (1 - m**2).T)
    n = 40000
    w = _sample_pm1(m, n, gen)
    z = torch.einsum("noi,i->no", w, x[0])
    assert torch.all((z.mean(0) - mean[0]).abs() < 5 * torch.sqrt(var[0] / n))
    zs = layer.forward_sample(x.expand(n, 30), generator=gen)
    assert torch.all((zs.mean(0) - mean[0]).abs() < 5 * torch.sqrt(var[0] / n))
    assert torch.all((zs.var(0) / var[0] - 1).abs() < 5 * np.sqrt(2 / n))
    # deploy mode uses sign(m), sign(0) = +1
    with torch.no_grad():
        layer.h[0, 0] = 0.0
    assert layer.deployed_weight()[0, 0] == 1.0
    assert torch.equal(layer(x), x @ torch.where(layer.h >= 0, 1.0, -1.0).T.double())


def test_conv_moments_match_monte_carlo():
    gen = torch.Generator().manual_seed(3)
    conv = StochasticBinaryConv2d(2, 2, 3, padding=1, h_init=1.2).double()
    a = torch.empty(1, 2, 4, 4, dtype=torch.float64).uniform_(-0.8, 0.8, generator=gen)
    s = 1 - a * a
    mean, var = conv.forward_moments(a, s)
    n = 20000
    x = _sample_pm1(a[0], n, gen)  # (n, 2, 4, 4)
    w = _sample_pm1(conv.m.detach(), n, gen)  # (n, 2, 2, 3, 3)
    xp = torch.nn.functional.pad(x, (1, 1, 1, 1))
    patches = xp.unfold(2, 3, 1).unfold(3, 3, 1)  # (n, cin, 4, 4, 3, 3)
    z = torch.einsum("ncyxij,nocij->noyx", patches, w)
    assert torch.all((z.mean(0) - mean[0]).abs() < 5 * torch.sqrt(var[0] / n))
    assert torch.all((z.var(0) / var[0] - 1).abs() < 5 * np.sqrt(2 / n) + 0.01)


@pytest.mark.parametrize("fn,name", [(sign_moments, "sign"), (relu_moments, "relu")])
def test_activation_moments_match_monte_carlo(fn, name):
    gen = torch.Generator().manual_seed(4)
    mu = torch.tensor([-1.5, -0.2, 0.0, 0.7, 2.0], dtype=torch.float64)
    v = torch.tensor([0.5, 1.0, 2.0, 0.3, 4.0], dtype=torch.float64)
    n = 200000
    z = mu + torch.sqrt(v) * torch.randn(n, 5, generator=gen, dtype=torch.float64)
    f = torch.where(z >= 0, 1.0, -1.0) if name == "sign" else torch.relu(z)
    mean, var = fn(mu, v)
    assert torch.all((f.mean(0) - mean).abs() < 5 * torch.sqrt(var / n) + 1e-6)
    assert torch.all((f.var(0) - var).abs() < 0.02 * var.clamp_min(0.1))


# ---------------------------------------------------------------- gradients


class _Moments(torch.nn.Module):
    """Exposes a layer's forward_moments as forward, so functional_call can vary its parameters."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, a, s):
        return self.layer.forward_moments(a, s)


def test_gradcheck_custom_pieces():
    gen = torch.Generator().manual_seed(5)
    mu = torch.randn(6, dtype=torch.float64, generator=gen, requires_grad=True)
    v = (torch.rand(6, dtype=torch.float64, generator=gen) + 0.2).requires_grad_()
    assert torch.autograd.gradcheck(sign_moments, (mu, v))
    assert torch.autograd.gradcheck(relu_moments, (mu, v))

    layers = [
        (StochasticBinaryLinear(7, 3, bias=True).double(), (4, 7)),
        (StochasticBinaryConv2d(2, 2, 3, padding=1, bias=True).double(), (2, 2, 4, 4)),
    ]
    for layer, shape in layers:
        wrapped = _Moments(layer)
        a = torch.randn(*shape, dtype=torch.float64, generator=gen, requires_grad=True)
        s = torch.rand(*shape, dtype=torch.float64, generator=gen, requires_grad=True)
        h = layer.h.detach().clone().requires_grad_()
        b = layer.bias.detach().clone().requires_grad_()
        fn = lambda a, s, h, b, wrapped=wrapped: torch.func.functional_call(  # noqa: E731
            wrapped, {"layer.h": h, "layer.bias": b}, (a, s))
        assert torch.autograd.gradcheck(fn, (a, s, h, b))

    bn = _Moments(MeanVarBatchNorm(3).double().train())
    bm = torch.randn(5, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    bv = (torch.rand(5, 3, dtype=torch.float64, generator=gen) + 0.5).requires_grad_()
    assert torch.autograd.gradcheck(lambda m, v: bn.layer.forward_moments(m, v), (bm, bv))

    model = build_model("stochastic", "mlp:6-5-3", sample_units=0.0).double().train()  # the mean-field pass
    x = torch.rand(4, 6, dtype=torch.float64, generator=gen)
    h0 = model.layers[0].h.detach().clone().requires_grad_()
    h1 = model.layers[1].h.detach().clone().requires_grad_()
    fn = lambda h0, h1: torch.func.functional_call(model, {"layers.0.h": h0, "layers.1.h": h1}, (x,), strict=False)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (h0, h1))


# ---------------------------------------------------------------- training, resume, export


def test_resume_reproduces_uninterrupted_run(tmp_path):
    data = synthetic_dataset(n_train=300, n_test=100, seed=0)
    for model, opts in (("stochastic", {"beta_growth": 1.5}), ("binaryconnect", {"stochastic": True})):
        kw = dict(model=model, arch="mlp:784-32-10", dataset="synthetic", seed=3, data=data,
                  batch_size=50, calib_samples=200, threads=1, model_options=opts)  # fmt: skip
        full = train(tmp_path / f"{model}_full", epochs=2, **kw)
        train(tmp_path / f"{model}_part", epochs=1, **kw)
        with pytest.raises(ValueError, match="--resume"):
            train(tmp_path / f"{model}_part", epochs=2, **kw)
        resumed = train(tmp_path / f"{model}_part", epochs=2, resume=True, **kw)
        strip = lambda recs: [{k: v for k, v in r.items() if not k.endswith("seconds")} for r in recs]  # noqa: E731
        assert strip(full["epochs"]) == strip(resumed["epochs"])
        a = torch.load(tmp_path / f"{model}_full" / "checkpoint.pt", weights_only=True)["model"]
        b = torch.load(tmp_path / f"{model}_part" / "checkpoint.pt", weights_only=True)["model"]
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        with pytest.raises(ValueError, match="seed"):
            train(tmp_path / f"{model}_part", epochs=3, resume=True, **{**kw, "seed": 4})


def test_end_to_end_training_beats_chance(tmp_path):
    data = synthetic_dataset(seed=1)
    m = train(tmp_path / "run", model="stochastic", arch="mlp:784-64-10", dataset="synthetic", epochs=3, seed=0,
              data=data, threads=1)  # fmt: skip
    last = m["epochs"][-1]
    assert last["test_accuracy_deployed"] > 0.6  # chance is 0.1
    assert last["test_accuracy"] > 0.6
    assert m["epochs"][0]["train_loss"] > last["train_loss"]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics) == {"epochs", "config"}
    assert set(metrics["epochs"][0]) == {"epoch", "train_loss", "test_accuracy", "test_accuracy_deployed", "seconds",
                                          "train_seconds"}
    assert (tmp_path / "run" / "learning_curve.png").stat().st_size > 1000

    model, cfg = load_run(tmp_path / "run")
    assert model.mode == "deploy" and not model.training and cfg["seed"] == 0
    assert evaluate(model, data.x_test, data.y_test, "deploy") == last["test_accuracy_deployed"]
    ens = evaluate_ensemble(model, data.x_test, data.y_test, n_samples=4, seed=0)
    assert ens > 0.5 and ens == evaluate_ensemble(model, data.x_test, data.y_test, n_samples=4, seed=0)


def _spec_forward(spec, x01, levels=(-1, 1)):
    """Reference implementation of the export contract in numpy (float64)."""
    pre = spec["preprocess"]
    a = ((x01.reshape(len(x01), -1) - pre["mean"]) / pre["std"]).astype(np.float64)
    for layer in spec["layers"]:
        assert layer["kind"] == "linear" and layer["weight"].dtype == np.int8
        assert set(np.unique(layer["weight"])) <= set(levels)
        z = a @ layer["weight"].T.astype(np.float64)
        if layer["bias"] is not None:
            z = z + layer["bias"]
        if layer["bn"] is not None:
            bn = layer["bn"]
            z = (z - bn["running_mean"]) / np.sqrt(bn["running_var"] + bn["eps"]) * bn["weight"] + bn["bias"]
        a = np.where(z >= 0, 1.0, -1.0) if layer["activation"] == "sign" else z
    return a


@pytest.mark.parametrize("kind", ["stochastic", "bnn"])
def test_export_spec_matches_deploy_forward(tmp_path, kind):
    data = synthetic_dataset(n_train=300, n_test=100, seed=2)
    train(tmp_path / kind, model=kind, arch="mlp:784-48-24-10", dataset="synthetic", epochs=1, seed=0,
          data=data, threads=1, model_options={"bias": True})  # fmt: skip
    model, _ = load_run(tmp_path / kind)
    spec = model.export_spec()
    assert spec["arch"] == "mlp:784-48-24-10" and len(spec["class_names"]) == 10
    assert [l["activation"] for l in spec["layers"]] == ["sign", "sign", "none"]
    assert spec["layers"][0]["weight"].shape == (48, 784)
    for layer in spec["layers"]:
        assert layer["bias"].dtype == np.float32 and layer["bn"]["running_var"].dtype == np.float32
    x = data.x_test.astype(np.float32) / 255.0
    with torch.no_grad():
        scores = model(torch.from_numpy(x)).numpy()
    ref = _spec_forward(spec, x)
    np.testing.assert_allclose(scores, ref, rtol=1e-4, atol=1e-3)
    assert np.mean(scores.argmax(1) == ref.argmax(1)) >= 0.99


def test_float_refuses_export_and_relu_models_export_relu_layers():
    with pytest.raises(ValueError, match="cannot be exported"):
        build_model("float", "mlp:10-5-2").export_spec()
    for kind, opts in (("binaryconnect", {}), ("stochastic", {"activation": "relu"}), ("twn", {})):
        spec = build_model(kind, "mlp:10-5-4-2", **opts).export_spec()
        assert [l["activation"] for l in spec["layers"]] == ["relu", "relu", "none"]


def test_calibrate_deploy_sets_exact_statistics():
    model = build_model("stochastic", "mlp:784-16-10").eval()
    x = torch.rand(64, 784, generator=torch.Generator().manual_seed(0))
    model.calibrate_deploy(x, batch_size=10)
    z = model.layers[0](model.preprocess(x))
    assert torch.allclose(model.norms[0].deploy_mean, z.mean(0), atol=1e-5)
    assert torch.allclose(model.norms[0].deploy_var, z.var(0, unbiased=False), rtol=1e-4)
    # conv maps, chunks of unequal size, and inputs far from zero mean (a large common offset
    # per channel: the streamed variance must not cancel)
    cnn = build_model("stochastic", "cnn:3c3-p2-8-10").eval()
    xc = 50.0 + torch.rand(23, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    cnn.calibrate_deploy(xc, batch_size=5)
    z = cnn.layers[0](cnn.preprocess(xc))
    var, mean = torch.var_mean(z.double(), dim=(0, 2, 3), correction=0)
    assert torch.allclose(cnn.norms[0].deploy_mean.double(), mean, rtol=1e-5)
    assert torch.allclose(cnn.norms[0].deploy_var.double(), var, rtol=1e-3)


def test_cnn_runs_in_all_modes():
    model = build_model("stochastic", "cnn:4-4-16-10")
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    out = model(x)
    assert out.shape == (8, 10)
    out.sum().backward()
    model.eval()
    model.calibrate_deploy(x)
    for mode in ("deploy", "sample"):
        assert model.set_mode(mode)(x, generator=torch.Generator().manual_seed(1)).shape == (8, 10)


@pytest.mark.parametrize(
    "kind,arch,opts,match",
    [
        ("stochastic", "mlp:784", {}, "at least"),
        ("stochastic", "conv:1-2", {}, "unknown family"),
        ("stochastic", "mlp:784-x-10", {}, "integers"),
        ("resnet", "mlp:784-10", {}, "model="),
        ("stochastic", "mlp:784-10", {"activation": "tanh"}, "activation"),
        ("stochastic", "mlp:784-10", {"output": "logit"}, "output"),
        ("stochastic", "mlp:784-10", {"h_init": -1.0}, "h_init"),
        ("float", "cnn:4c4-16-10", {}, "odd"),
        ("stochastic", "cnn:4-4-16-10", {"batch_norm": False}, "batch norm"),
    ],
)
def test_invalid_models_raise(kind, arch, opts, match):
    with pytest.raises(ValueError, match=match):
        build_model(kind, arch, **opts)
    assert parse_arch("mlp:784-10") == ("mlp", [784, 10])


# ---------------------------------------------------------------- data


def _write_idx(path, arr, gz=True):
    arr = np.asarray(arr, dtype=np.uint8)
    raw = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}i", *arr.shape) + arr.tobytes()
    if gz:
        raw = gzip.compress(raw)
    path.write_bytes(raw)


def _write_idx_dir(d, n_train=20, n_test=10, gz=True):
    rng = np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    _write_idx(d / f"train-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n_train, 28, 28)), gz)
    _write_idx(d / f"train-labels-idx1-ubyte{suffix}", rng.integers(0, 10, n_train), gz)
    _write_idx(d / f"t10k-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n_test, 28, 28)), gz)
    _write_idx(d / f"t10k-labels-idx1-ubyte{suffix}", rng.integers(0, 10, n_test), gz)


@pytest.mark.parametrize("gz", [True, False])
def test_idx_directory_roundtrip(tmp_path, monkeypatch, gz):
    _write_idx_dir(tmp_path, gz=gz)
    d = load_dataset("idx", data_dir=tmp_path)
    assert d.x_train.shape == (20, 28, 28) and d.x_test.shape == (10, 28, 28) and d.x_train.dtype == np.uint8
    monkeypatch.setenv("STOCHSYN_DATA", str(tmp_path))
    assert np.array_equal(load_dataset("fashion-mnist").x_train, d.x_train)  # env override
    assert load_dataset("fashion-mnist").class_names[0] == "T-shirt/top"


def test_missing_and_corrupt_data_give_clear_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("STOCHSYN_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist", data_dir=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_dataset("fashion-mnist", data_dir=tmp_path)
    with pytest.raises(ValueError, match="--data-dir"):
        load_dataset("idx")
    _write_idx_dir(tmp_path)
    p = tmp_path / "t10k-labels-idx1-ubyte.gz"
    p.write_bytes(p.read_bytes()[:-7])  # truncated gzip stream
    with pytest.raises(ValueError, match="corrupt"):
        load_dataset("idx", data_dir=tmp_path)
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x08\x03\x00\x00" + b"\x00" * 20)
    with pytest.raises(ValueError, match="invalid header"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(struct.pack(">BBBBi", 0, 0, 8, 1, 100) + b"\x00" * 10)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(short)
    with pytest.raises(ValueError, match="dataset="):
        load_dataset("cifar")


def test_mnist_5k_subset():
    d = load_dataset("mnist-5k")
    assert d.x_train.shape == (4000, 28, 28) and d.x_test.shape == (1000, 28, 28)
    assert np.array_equal(np.bincount(d.y_train), np.full(10, 400))
    assert np.array_equal(np.bincount(d.y_test), np.full(10, 100))


def test_fashion_mnist_if_installed():
    from stochsyn.deep.data import FASHION_MNIST_DIR

    if not FASHION_MNIST_DIR.is_dir():
        pytest.skip("dataset-fashion-mnist not installed")
    d = load_dataset("fashion-mnist", data_dir=FASHION_MNIST_DIR)
    assert d.x_train.shape == (60000, 28, 28) and d.x_test.shape == (10000, 28, 28)
    assert np.array_equal(np.bincount(d.y_test), np.full(10, 1000))


# ---------------------------------------------------------------- CLI


def test_cli_train_eval_and_errors(tmp_path, capsys):
    from stochsyn.cli import main

    out = tmp_path / "run"
    rc = main(["deep", "train", "--model", "stochastic", "--arch", "mlp:784-32-10", "--dataset", "synthetic",
               "--epochs", "1", "--seed", "0", "--out", str(out), "--threads", "1"])  # fmt: skip
    assert rc == 0 and (out / "metrics.json").exists()
    capsys.readouterr()
    assert main(["deep", "eval", str(out), "--json", "--samples", "2"]) == 0
    res = json.loads(capsys.readouterr().out)
    stored = json.loads((out / "metrics.json").read_text())["epochs"][-1]
    assert res["test_accuracy_deployed"] == stored["test_accuracy_deployed"]
    assert 0.0 <= res["test_accuracy_ensemble"] <= 1.0
    rc = main(["deep", "train", "--dataset", "fashion-mnist", "--data-dir", str(tmp_path / "none"), "--out",
               str(tmp_path / "x"), "--epochs", "1"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and "dataset-fashion-mnist" in err and "Traceback" not in err
    assert main(["deep", "eval", str(tmp_path / "none")]) == 2
    assert main(["deep", "train", "--model", "svm", "--out", str(tmp_path / "y")]) == 2


def test_cli_export_calls_bitpack(tmp_path):
    pytest.importorskip("stochsyn.bitpack")
    import stochsyn.bitpack as bitpack

    if not hasattr(bitpack, "export_run"):
        pytest.skip("stochsyn.bitpack.export_run not written yet")
    from stochsyn.cli import main

    out = tmp_path / "run"
    assert main(["deep", "train", "--arch", "mlp:784-32-10", "--dataset", "synthetic", "--epochs", "1",
                 "--out", str(out), "--threads", "1"]) == 0  # fmt: skip
    assert main(["deep", "export", str(out), str(tmp_path / "net.npz")]) == 0
    assert (tmp_path / "net.npz").exists()


def test_compiled_training_matches_eager_and_resumes(tmp_path):
    # torch.compile fuses the element-wise moment rules; the computation is the same up to
    # float32 rounding, so two epochs on a small CNN track the eager run closely.
    data = synthetic_dataset(n_train=200, n_test=100, seed=2)
    kw = dict(model="stochastic", arch="cnn:4c3-p2-16-10", dataset="synthetic", seed=1, data=data,
              batch_size=50, calib_samples=100, threads=1)  # fmt: skip
    eager = train(tmp_path / "eager", epochs=2, **kw)
    compiled = train(tmp_path / "compiled", epochs=1, compile=True, **kw)
    compiled = train(tmp_path / "compiled", epochs=2, resume=True, **kw)  # resuming may drop --compile
    for a, b in zip(eager["epochs"], compiled["epochs"]):
        assert abs(a["train_loss"] - b["train_loss"]) < 1e-3 * max(1.0, a["train_loss"])
        # the test passes of epoch 1 ran compiled too: the same predictions up to rounding
        assert abs(a["test_accuracy"] - b["test_accuracy"]) <= 0.02
        assert abs(a["test_accuracy_deployed"] - b["test_accuracy_deployed"]) <= 0.02
    assert json.loads((tmp_path / "compiled" / "config.json").read_text())["compile"] is False
    with pytest.raises(TypeError, match="compile"):
        train(tmp_path / "bad", epochs=1, compile="yes", **kw)


def test_compiled_forward_follows_the_beta_schedule_without_recompiling():
    # beta_growth changes beta every epoch: the compiled graph must see the new value (not a
    # stale constant) and must not be rebuilt for it (recompiles hit dynamo's limit, and the
    # forward then fell back to eager).
    from torch._dynamo.utils import counters

    torch.manual_seed(0)
    model = build_model("stochastic", "cnn:4c3-p2-16-10", beta_growth=1.3, activation="relu").train()
    compiled = torch.compile(model, dynamic=False)
    x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    outputs = []
    for epoch in (2, 3, 4):
        model.set_epoch(epoch)
        with torch.no_grad():
            eager = model(x)
            if epoch == 3:
                graphs = counters["stats"]["unique_graphs"]
            got = compiled(x)
        assert torch.allclose(got, eager, atol=1e-4, rtol=1e-4)
        outputs.append(got)
    assert counters["stats"]["unique_graphs"] == graphs  # epoch 4: the graph of epoch 3
    assert not torch.allclose(outputs[1], outputs[2])  # beta changed the outputs
    assert model.beta_growth == 1.3 and abs(model.layers[0].beta - 1.3**3) < 1e-6


@pytest.mark.parametrize("kind,opts", [("binaryconnect", {}), ("binaryconnect", {"stochastic": True}), ("bnn", {}),
                                       ("twn", {}), ("float", {})])  # fmt: skip
def test_one_test_pass_serves_both_accuracies_only_where_the_modes_coincide(kind, opts):
    model = build_model(kind, "cnn:4c3-p2-8-10", **opts).eval()
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert model.eval_modes_coincide
    assert torch.equal(model.set_mode("mean-field")(x), model.set_mode("deploy")(x))
    assert not build_model("stochastic", "cnn:4c3-p2-8-10").eval_modes_coincide


def test_training_flushes_subnormals_and_restores_the_default(tmp_path):
    seen = []

    def callback(epoch, record):
        seen.append(float(torch.tensor([1e-40]) * 1.0))  # 0 while subnormals are flushed
        return False

    data = synthetic_dataset(n_train=100, n_test=40, seed=0)
    train(tmp_path / "run", model="stochastic", arch="mlp:784-8-10", dataset="synthetic", epochs=1, seed=0,
          data=data, threads=1, calib_samples=40, callback=callback)  # fmt: skip
    assert seen == [0.0]
    assert float(torch.tensor([1e-40]) * 1.0) > 0.0  # back to torch's default
