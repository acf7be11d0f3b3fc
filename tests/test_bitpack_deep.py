"""A real (tiny, quickly trained) stochsyn.deep model: export, packed inference, `stochsyn infer`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

deep = pytest.importorskip("stochsyn.deep")

import torch  # noqa: E402

from stochsyn.bitpack import PackedNetwork, export_run  # noqa: E402
from stochsyn.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from stochsyn.deep.data import synthetic_dataset

    run = tmp_path_factory.mktemp("bitpack_run")
    data = synthetic_dataset(n_train=300, n_test=200, seed=0)
    deep.train(run, dataset="synthetic", arch="mlp:784-48-40-10", epochs=1,
               calib_samples=300, seed=0, data=data)  # fmt: skip
    out = run / "packed.npz"
    export_run(run, out)
    return run, out


def test_trained_model_packed_predictions_identical_to_torch_deploy(trained: tuple[Path, Path]) -> None:
    from stochsyn.deep.data import synthetic_dataset

    run, out = trained
    model, _cfg = deep.load_run(run)
    net = PackedNetwork.load(out)
    x = synthetic_dataset(n_train=300, n_test=200, seed=0).x_test
    with torch.no_grad():
        ref = model(torch.as_tensor(x).to(torch.float32) / 255.0)
        a = model.preprocess(torch.as_tensor(x).to(torch.float32) / 255.0)
        z1 = model.layers[1](torch.where(model.norms[0](model.layers[0](a)) >= 0, 1.0, -1.0))
    np.testing.assert_array_equal(net.prepare_input(x), a.numpy())  # same deployed inputs
    trace = net.trace(net.prepare_input(x))
    np.testing.assert_array_equal(trace["z"][1], z1.numpy().astype(np.int64))  # same integer pre-activations
    np.testing.assert_array_equal(net.scores(x), ref.numpy())  # bit-identical class scores
    np.testing.assert_array_equal(net.predict(x), ref.numpy().argmax(axis=1))


def test_cli_infer_reports_accuracy(trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    from stochsyn.deep.data import synthetic_dataset

    run, out = trained
    assert main(["infer", str(out), "--dataset", "synthetic", "--json", "--batch-size", "64"]) == 0
    result = json.loads(capsys.readouterr().out)
    model, _ = deep.load_run(run)
    d = synthetic_dataset(seed=0)  # what `--dataset synthetic --seed 0` loads
    with torch.no_grad():
        acc = float((model(torch.as_tensor(d.x_test).float() / 255.0).argmax(1).numpy() == d.y_test).mean())
    assert result["n"] == len(d.x_test) and result["accuracy"] == pytest.approx(acc, abs=0)
    assert result["images_per_s"] > 0


def test_cli_infer_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    assert main(["infer", str(bad), "--dataset", "synthetic"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("stochsyn: error:") and "\n" not in err and "bad.npz" in err
