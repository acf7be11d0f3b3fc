"""``stochsyn infer MODEL.npz|MODEL.onnx --dataset NAME``: deployed inference, accuracy and throughput."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import console, err_console, print_json

_ALIASES = {"mnist5k": "mnist-5k", "fmnist": "fashion-mnist"}


def register(app: typer.Typer) -> None:
    """Add the ``infer`` command to the root app."""

    @app.command("infer")
    def infer(
        model: Path = typer.Argument(..., help="Model file written by `stochsyn deep export`: .npz (packed engine) "
                                               "or .onnx (run by onnxruntime)."),
        dataset: str = typer.Option(
            "fashion-mnist", "--dataset", help="fashion-mnist, mnist-5k (alias mnist5k), idx (with --data-dir) or synthetic."
        ),
        data_dir: Path | None = typer.Option(None, "--data-dir", help="Directory of IDX files (default: $STOCHSYN_DATA or the system path)."),
        split: str = typer.Option("test", "--split", help="test or train."),
        batch_size: int = typer.Option(4096, "--batch-size", min=1, help="Images per packed batch."),
        limit: int = typer.Option(0, "--limit", min=0, help="Use only the first N images (0 = all)."),
        backend: str = typer.Option("numba", "--backend", help="Kernel backend: numba (popcount, multithreaded) or numpy."),
        seed: int = typer.Option(0, "--seed", min=0, help="Seed of the synthetic dataset (other datasets are fixed)."),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    ) -> None:
        """Run a bit-packed network on a dataset split; report accuracy and throughput (images/s).

        Throughput is measured after a warm-up batch so that numba's one-time
        compilation is not counted; the time includes input preprocessing.
        """
        import time

        import numpy as np
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from ..bitpack import OnnxNetwork, PackedNetwork
        from ..bitpack.kernels import BACKENDS
        from ..deep.data import load_dataset

        if split not in ("test", "train"):
            raise ValueError(f"--split={split!r}: expected 'test' or 'train'")
        if backend not in BACKENDS:
            raise ValueError(f"--backend={backend!r}: expected one of {BACKENDS}")
        net = OnnxNetwork.load(model) if model.suffix.lower() == ".onnx" else PackedNetwork.load(model)
        if isinstance(net, OnnxNetwork):
            backend = "onnxruntime"
        name = _ALIASES.get(dataset, dataset)
        data = load_dataset(name, None if data_dir is None else str(data_dir), seed=seed)
        x, y = (data.x_test, data.y_test) if split == "test" else (data.x_train, data.y_train)
        if limit:
            x, y = x[:limit], y[:limit]
        if int(np.prod(x.shape[1:])) != net.input_dim:
            raise ValueError(f"{model}: the network takes {net.input_dim} inputs, {name} images have {int(np.prod(x.shape[1:]))}")
        if data.n_classes != net.n_classes:
            raise ValueError(f"{model}: the network has {net.n_classes} outputs, {name} has {data.n_classes} classes")

        net.predict(x[: min(len(x), 64)], backend=backend)  # warm-up: JIT compilation / loading of cached code
        preds = np.empty(len(x), dtype=np.int64)
        elapsed = 0.0
        with Progress(
            TextColumn("[bold]infer[/]"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=err_console, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task("infer", total=len(x))
            for i in range(0, len(x), batch_size):
                t0 = time.perf_counter()
                preds[i : i + batch_size] = net.predict(x[i : i + batch_size], batch_size=batch_size, backend=backend)
                elapsed += time.perf_counter() - t0
                bar.advance(task, min(batch_size, len(x) - i))
        accuracy = float(np.mean(preds == y)) if len(x) else float("nan")
        result = {
            "model": str(model),
            "arch": net.arch,
            "dataset": name,
            "split": split,
            "n": int(len(x)),
            "accuracy": accuracy,
            "seconds": elapsed,
            "images_per_s": (len(x) / elapsed) if elapsed > 0 else float("inf"),
            "batch_size": batch_size,
            "backend": backend,
            "weight_bytes": net.weight_bytes,
            "n_weights": net.n_weights,
        }
        if json_out:
            print_json(result)
            return
        from rich.table import Table

        engine = "ONNX (onnxruntime)" if isinstance(net, OnnxNetwork) else "packed"
        table = Table(title=f"{engine} inference: {net.arch} on {name} ({split})")
        table.add_column("quantity")
        table.add_column("value", justify="right")
        table.add_row("images", f"{result['n']}")
        table.add_row("accuracy", f"{accuracy:.4f}")
        table.add_row("throughput", f"{result['images_per_s']:,.0f} images/s")
        table.add_row("time", f"{elapsed:.3f} s")
        stored = "file of" if isinstance(net, OnnxNetwork) else "bits in"
        table.add_row("weights", f"{net.n_weights:,} weights, {stored} {net.weight_bytes:,} bytes")
        table.add_row("backend / batch", f"{backend} / {batch_size}")
        console.print(table)
