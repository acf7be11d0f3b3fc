"""Tests of the stochastic models' epoch schedules (polarization term) and the gap diagnostics."""

from __future__ import annotations

import json

import pytest
import torch

from stochsyn.deep import build_model, train
from stochsyn.deep.data import synthetic_dataset
from stochsyn.deep.models import synaptic_variance

torch.set_num_threads(1)


def test_synaptic_variance_and_penalty_schedule():
    model = build_model("stochastic", "mlp:784-16-10", polarize=0.5)
    ms = [layer.m.detach() for layer in model.layers]
    expected = sum(float((1 - m * m).sum()) for m in ms) / sum(m.numel() for m in ms)
    assert float(synaptic_variance(model).detach()) == pytest.approx(expected, rel=1e-6)
    assert model.penalty() is None  # before any epoch, and in epoch 1: lambda = 0
    model.set_epoch(1)
    assert model.penalty() is None
    model.set_epoch(3)  # lambda_3 = 0.5 * 2
    pen = model.penalty()
    assert float(pen.detach()) == pytest.approx(1.0 * expected, rel=1e-6)
    pen.backward()
    # the term pushes |h| up: its gradient has the opposite sign of h
    g, h = model.layers[0].h.grad, model.layers[0].h.detach()
    assert bool(((g * h) <= 0).all()) and float(g.abs().sum()) > 0
    cnn = build_model("stochastic", "cnn:4-4-16-10", polarize=0.5)
    cnn.set_epoch(2)
    assert float(cnn.penalty().detach()) == pytest.approx(0.5 * float(synaptic_variance(cnn).detach()), rel=1e-6)
    assert build_model("stochastic", "mlp:784-16-10").penalty() is None
    assert build_model("float", "mlp:784-16-10").penalty() is None
    with pytest.raises(ValueError, match="no stochastic synapses"):
        synaptic_variance(build_model("float", "mlp:784-16-10"))
    with pytest.raises(ValueError, match="polarize"):
        build_model("stochastic", "mlp:784-10", polarize=-1.0)
    with pytest.raises(ValueError, match="polarize"):
        build_model("stochastic", "mlp:784-10", polarize=float("nan"))


def test_polarization_polarizes_and_leaves_epoch_one_alone(tmp_path):
    data = synthetic_dataset(n_train=300, n_test=100, seed=0)
    kw = dict(model="stochastic", arch="mlp:784-32-10", dataset="synthetic", epochs=3, seed=1,
              data=data, batch_size=50, calib_samples=200, threads=1)  # fmt: skip
    variances = {}
    runs = {}
    for pol in (0.0, 20.0):
        runs[pol] = train(tmp_path / f"p{pol}", model_options={"polarize": pol}, **kw)["epochs"]
        state = torch.load(tmp_path / f"p{pol}" / "checkpoint.pt", weights_only=True)["model"]
        hs = [v for k, v in state.items() if k.endswith(".h")]
        variances[pol] = sum(float((1 - torch.tanh(h) ** 2).sum()) for h in hs) / sum(h.numel() for h in hs)
    strip = lambda r: {k: v for k, v in r.items() if not k.endswith("seconds")}  # noqa: E731
    # lambda_1 = 0: the first epoch is bit-identical with and without the term
    assert strip(runs[0.0][0]) == strip(runs[20.0][0])
    assert runs[0.0][1]["train_loss"] != runs[20.0][1]["train_loss"]
    assert variances[20.0] < 0.8 * variances[0.0]


def test_resume_exact_with_polarization(tmp_path):
    data = synthetic_dataset(n_train=200, n_test=50, seed=0)
    kw = dict(model="stochastic", arch="mlp:784-24-10", dataset="synthetic", seed=2, data=data,
              batch_size=50, calib_samples=100, threads=1, model_options={"polarize": 5.0})  # fmt: skip
    full = train(tmp_path / "full", epochs=3, **kw)
    train(tmp_path / "part", epochs=2, **kw)
    resumed = train(tmp_path / "part", epochs=3, resume=True, **kw)
    strip = lambda recs: [{k: v for k, v in r.items() if not k.endswith("seconds")} for r in recs]  # noqa: E731
    assert strip(full["epochs"]) == strip(resumed["epochs"])
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_cli_eval_reports_train_accuracy_and_variance(tmp_path, capsys):
    from stochsyn.cli import main

    out = tmp_path / "run"
    assert main(["deep", "train", "--arch", "mlp:784-32-10", "--dataset", "synthetic", "--epochs", "1",
                 "--out", str(out), "--threads", "1", "-o", "polarize=0.5"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["deep", "eval", str(out), "--json", "--samples", "2", "--train-samples", "100"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert 0.0 <= res["train_accuracy_deployed"] <= 1.0 and 0.0 <= res["train_accuracy_mean_field"] <= 1.0
    assert 0.0 < res["synaptic_variance"] < 1.0
    assert json.loads((out / "config.json").read_text())["model_options"] == {"polarize": 0.5, "variance": "filter-mean",
                                                                        "sample_units": 1.0, "sample_warmup": 200}
    assert main(["deep", "eval", str(out), "--train-samples", "-1"]) == 2
