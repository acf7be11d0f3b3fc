"""ONNX export of deployed binary MLPs, run by onnxruntime against torch deploy mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

deep = pytest.importorskip("stochsyn.deep")
ort = pytest.importorskip("onnxruntime")

import onnx  # noqa: E402
import torch  # noqa: E402

from stochsyn.bitpack import PackedNetwork, export_run, export_run_onnx  # noqa: E402
from stochsyn.cli import main  # noqa: E402

FMNIST = Path("/usr/share/datasets/fashion-mnist")


def _train(run: Path, arch: str, dataset: str, data=None) -> None:
    deep.train(run, dataset=dataset, arch=arch, epochs=1, calib_samples=300, seed=0, data=data)


def _ort_scores(path: Path, x01: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    scores, label = sess.run(["scores", "label"], {"pixels": x01.astype(np.float32)})
    return scores, label


def _torch_and_ort(run: Path, onnx_path: Path, x_uint8: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Torch deploy-mode scores of the run's model, and onnxruntime's scores and labels, on the same images."""
    model, _ = deep.load_run(run)
    with torch.no_grad():
        ref = model(torch.as_tensor(x_uint8).float() / 255.0).numpy()
    x01 = x_uint8.reshape(len(x_uint8), -1).astype(np.float32) / np.float32(255.0)
    return (ref, *_ort_scores(onnx_path, x01))


@pytest.mark.parametrize("arch", ["mlp:784-48-40-10", "mlp:784-10"])
def test_onnx_matches_torch_deploy_on_synthetic_data(tmp_path: Path, arch: str) -> None:
    from stochsyn.deep.data import synthetic_dataset

    data = synthetic_dataset(n_train=300, n_test=200, seed=0)
    run = tmp_path / "run"
    _train(run, arch, "synthetic", data)
    out = export_run_onnx(run, tmp_path / "net.onnx")
    m = onnx.load(out)
    onnx.checker.check_model(m)
    ops = {n.op_type for n in m.graph.node}
    assert ops <= {"Sub", "Div", "MatMul", "Add", "Mul", "GreaterOrEqual", "Where", "Cast", "GatherElements",
                   "ArgMax", "BatchNormalization", "Identity"}
    ref, scores, label = _torch_and_ort(run, out, data.x_test)
    np.testing.assert_array_equal(label, ref.argmax(1))
    if arch.count("-") > 1:  # hidden layers: the scores come from torch's own table, bit for bit
        np.testing.assert_array_equal(scores, ref)
    else:
        np.testing.assert_allclose(scores, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not FMNIST.is_dir(), reason="Fashion-MNIST (Debian dataset-fashion-mnist) not installed")
def test_onnx_matches_torch_deploy_and_packed_engine_on_fashion_mnist(tmp_path: Path) -> None:
    import dataclasses

    from stochsyn.deep.data import load_dataset

    full = load_dataset("fashion-mnist")
    data = dataclasses.replace(full, x_train=full.x_train[:2000], y_train=full.y_train[:2000],
                               x_test=full.x_test[:2000], y_test=full.y_test[:2000])
    run = tmp_path / "run"
    _train(run, "mlp:784-64-64-10", "fashion-mnist", data)
    out = export_run_onnx(run, tmp_path / "net.onnx")
    ref, scores, label = _torch_and_ort(run, out, data.x_test)
    np.testing.assert_array_equal(label, ref.argmax(1))
    packed = PackedNetwork.load(export_run(run, tmp_path / "net.npz"))
    np.testing.assert_array_equal(packed.predict(data.x_test), label)
    assert float((label == data.y_test).mean()) > 0.5


def test_cli_export_writes_onnx_by_suffix(tmp_path: Path, capsys) -> None:
    from stochsyn.deep.data import synthetic_dataset

    run = tmp_path / "run"
    _train(run, "mlp:784-16-10", "synthetic", synthetic_dataset(n_train=200, n_test=50, seed=1))
    assert main(["deep", "export", str(run), str(tmp_path / "n.onnx")]) == 0
    onnx.checker.check_model(onnx.load(tmp_path / "n.onnx"))
    assert main(["deep", "export", str(run), str(tmp_path / "n.bin")]) == 2
    assert ".onnx" in capsys.readouterr().err


@pytest.mark.skipif(not FMNIST.is_dir(), reason="Fashion-MNIST (Debian dataset-fashion-mnist) not installed")
def test_trained_cnn_exports_and_infers_through_both_formats(tmp_path: Path, capsys) -> None:
    """A sign-unit CNN trained on real images: packed engine, ONNX and torch deploy give the same labels,
    and `stochsyn infer` runs both files."""
    import dataclasses
    import json

    from stochsyn.deep.data import load_dataset

    full = load_dataset("fashion-mnist")
    data = dataclasses.replace(full, x_train=full.x_train[:600], y_train=full.y_train[:600],
                               x_test=full.x_test[:1000], y_test=full.y_test[:1000])  # fmt: skip
    run = tmp_path / "run"
    _train(run, "cnn:8c5-p2-16c3-p2-32-10", "fashion-mnist", data)
    assert main(["deep", "export", str(run), str(tmp_path / "c.npz")]) == 0
    assert main(["deep", "export", str(run), str(tmp_path / "c.onnx")]) == 0
    ref, scores, label = _torch_and_ort(run, tmp_path / "c.onnx", data.x_test)
    np.testing.assert_array_equal(label, ref.argmax(1))
    np.testing.assert_array_equal(scores, ref)  # ±1 inputs to the last layer: torch's own score table
    packed = PackedNetwork.load(tmp_path / "c.npz")
    np.testing.assert_array_equal(packed.scores(data.x_test), ref)
    capsys.readouterr()
    accs = []
    for name in ("c.npz", "c.onnx"):
        assert main(["infer", str(tmp_path / name), "--limit", "1000", "--json"]) == 0
        accs.append(json.loads(capsys.readouterr().out)["accuracy"])
    assert accs[0] == accs[1] == float((ref.argmax(1) == data.y_test).mean())


def test_bad_onnx_files_give_one_clear_error(tmp_path: Path, capsys) -> None:
    from stochsyn.bitpack import OnnxNetwork
    from stochsyn.deep.data import synthetic_dataset

    run = tmp_path / "run"
    _train(run, "mlp:784-16-10", "synthetic", synthetic_dataset(n_train=200, n_test=50, seed=1))
    good = export_run_onnx(run, tmp_path / "n.onnx")
    blob = good.read_bytes()
    (tmp_path / "truncated.onnx").write_bytes(blob[: len(blob) // 3])
    corrupt = bytearray(blob)
    corrupt[len(blob) // 2 : len(blob) // 2 + 16] = b"\x7f" * 16  # inside the weights: still parses
    (tmp_path / "corrupt.onnx").write_bytes(bytes(corrupt))
    (tmp_path / "mistyped.onnx").write_bytes(export_run(run, tmp_path / "n.npz").read_bytes())
    foreign = onnx.helper.make_model(onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["x"], ["y"])], "g",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])]))  # fmt: skip
    onnx.save(foreign, tmp_path / "foreign.onnx")
    assert OnnxNetwork.load(good).predict(np.zeros((3, 784), dtype=np.uint8)).shape == (3,)
    for name, match in (("truncated", "not a readable ONNX model"), ("corrupt", "checksum mismatch"),
                        ("mistyped", "not a readable ONNX model"), ("foreign", "not a stochsyn network|not written")):  # fmt: skip
        with pytest.raises(ValueError, match=match):
            OnnxNetwork.load(tmp_path / f"{name}.onnx")
        capsys.readouterr()
        assert main(["infer", str(tmp_path / f"{name}.onnx"), "--dataset", "synthetic"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"{name}.onnx" in err[0] and "Traceback" not in err[0]
    with pytest.raises(FileNotFoundError):
        OnnxNetwork.load(tmp_path / "missing.onnx")
