"""`stochsyn deep …`: train, evaluate and export deep networks with binary synapses."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
import typer

from ._common import console, err_console, print_json
from ._grammar import check_output_dir, check_output_file, json_option

deep_app = typer.Typer(
    help="Deep networks with stochastic binary synapses vs BinaryConnect, BNN and float baselines.",
    no_args_is_help=True,
)


def _parse_options(pairs: list[str]) -> dict:
    """Model options ``KEY=VALUE`` (VALUE read as JSON when it parses)."""
    from ._grammar import parse_solver_options

    return parse_solver_options(pairs, ["model"])["model"]


class _TrainBar:
    """The rich progress bar of `deep train`, driven by the trainer's progress events."""

    def __init__(self, model: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.model = model
        self.bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"), console=err_console, transient=False,
        )  # fmt: skip
        self.task = None

    def __call__(self, event: str, info: dict) -> None:
        if event == "epoch":
            self.task = self.bar.add_task(f"{self.model} epoch {info['epoch']}/{info['epochs']}",
                                          total=info["batches"], info="")
        elif event == "batch" and self.task is not None:
            self.bar.update(self.task, completed=info["batch"], info=f"loss {info['loss']:.4f}")
        elif event == "record" and self.task is not None:
            self.bar.update(self.task, info=f"loss {info['train_loss']:.4f}  test {info['test_accuracy']:.4f}  "
                                            f"deployed {info['test_accuracy_deployed']:.4f}")

    def __enter__(self) -> "_TrainBar":
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


@deep_app.command("train")
def train_cmd(
    model: str = typer.Option("stochastic", help="stochastic | binaryconnect | bnn | twn | float"),
    arch: str = typer.Option("mlp:784-1024-1024-10", help="'mlp:IN-H1-...-OUT', 'cnn' (the default CNN, docs/deep.md) or 'cnn:TOKENS' (NcK conv, pK/aK pooling, N dense)"),
    dataset: str = typer.Option("fashion-mnist", help="fashion-mnist | mnist-5k | idx | synthetic"),
    epochs: int = typer.Option(20, help="Passes over the training set."),
    seed: int = typer.Option(0, min=0, help="Seed of initialization, shuffling and sampling."),
    out: Path = typer.Option(..., help="Run directory: config.json, checkpoint.pt, metrics.json, learning_curve.png."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
    data_dir: Optional[Path] = typer.Option(None, help="Directory with the IDX files (default $STOCHSYN_DATA or the system path)."),
    batch_size: Optional[int] = typer.Option(None, help="Minibatch size (default 100)."),
    lr: Optional[float] = typer.Option(None, help="Adam learning rate (default 5e-2 stochastic, 1e-2 binaryconnect/bnn/twn, 3e-3 float)."),
    lr_decay: Optional[float] = typer.Option(None, help="Learning-rate factor per epoch (default 0.85)."),
    threads: int = typer.Option(1, help="torch CPU threads (1 is fastest on a shared machine)."),
    option: list[str] = typer.Option([], "--option", "-o", help="Model option KEY=VALUE, repeatable (e.g. -o h_init=1.5)."),
    compile_steps: bool = typer.Option(False, "--compile", help="Run the training steps through torch.compile: a one-off 5-60 s compilation, then ~2x faster stochastic CNN steps (needs a C++ compiler)."),
    as_json: bool = json_option(),
) -> None:
    """Train a model, checkpointing every epoch into --out; prints the last epoch's accuracies."""
    from ..deep.train import CompileFailed, train

    check_output_dir(out, "--out")
    options = _parse_options(option)
    with _TrainBar(model) as bar:
        try:
            metrics = train(
                out, progress=bar, resume=resume, model=model, arch=arch, dataset=dataset, epochs=epochs,
                seed=seed, batch_size=batch_size, lr=lr, lr_decay=lr_decay,
                data_dir=None if data_dir is None else str(data_dir), threads=threads, model_options=options,
                compile=compile_steps,
            )
        except CompileFailed as exc:  # one line, like every other bad run
            raise click.ClickException(str(exc)) from None
    last = metrics["epochs"][-1]
    if as_json:
        print_json({"run": str(out), **metrics})
        return
    console.print(
        f"[bold]{model}[/] {arch} on {dataset}: epoch {last['epoch']}  loss {last['train_loss']:.4f}  "
        f"test {last['test_accuracy']:.4f}  deployed {last['test_accuracy_deployed']:.4f}  -> {out}",
        highlight=False,
    )


@deep_app.command("eval")
def eval_cmd(
    run_dir: Path = typer.Argument(..., help="A `stochsyn deep train` directory."),
    samples: int = typer.Option(16, help="Networks sampled for the ensemble prediction (stochastic models)."),
    seed: int = typer.Option(0, min=0, help="Seed of the ensemble sampling."),
    data_dir: Optional[Path] = typer.Option(None, help="Data directory override."),
    train_samples: int = typer.Option(0, help="Also report accuracies on the first N training images (0: skip), "
                                      "to separate overfitting from the mean-field/deployed gap."),
    json_out: bool = json_option(),
) -> None:
    """Test accuracy of the deployed binary network (and of the sampled ensemble for stochastic models)."""
    import torch

    from ..deep.data import load_dataset
    from ..deep.train import evaluate, evaluate_ensemble, load_run

    model, cfg = load_run(run_dir)
    torch.set_num_threads(int(cfg.get("threads", 2)))
    data = load_dataset(cfg["dataset"], str(data_dir) if data_dir else cfg.get("data_dir"), seed=cfg["seed"])
    result = {
        "run": str(run_dir),
        "model": cfg["model"],
        "arch": cfg["arch"],
        "dataset": cfg["dataset"],
        "test_accuracy_deployed": evaluate(model, data.x_test, data.y_test, "deploy"),
    }
    if train_samples < 0:
        raise ValueError(f"--train-samples={train_samples!r}: expected a non-negative int")
    if train_samples:
        xt, yt = data.x_train[:train_samples], data.y_train[:train_samples]
        result["train_accuracy_deployed"] = evaluate(model, xt, yt, "deploy")
    if "sample" in model.modes:
        from ..deep.models import synaptic_variance

        result["test_accuracy_ensemble"] = evaluate_ensemble(model, data.x_test, data.y_test, samples, seed)
        result["ensemble_samples"] = samples
        result["test_accuracy_mean_field"] = evaluate(model, data.x_test, data.y_test, "mean-field")
        if train_samples:
            result["train_accuracy_mean_field"] = evaluate(model, xt, yt, "mean-field")
        with torch.no_grad():
            result["synaptic_variance"] = float(synaptic_variance(model))
    if json_out:
        print_json(result)
        return
    for key, value in result.items():
        console.print(f"{key:26s} {value:.4f}" if isinstance(value, float) else f"{key:26s} {value}", highlight=False)


@deep_app.command("export")
def export_cmd(
    run_dir: Path = typer.Argument(..., help="A `stochsyn deep train` directory."),
    out: Path = typer.Argument(..., help="Output file: .npz for the bit-packed inference engine, .onnx for ONNX."),
    as_json: bool = json_option(),
) -> None:
    """Export the deployed binary network: .npz for `stochsyn.bitpack` / `stochsyn infer`, .onnx (standard operators)."""
    suffix = out.suffix.lower()
    if suffix not in (".npz", ".onnx"):
        raise ValueError(f"OUT={str(out)!r}: the suffix chooses the format, expected .npz (bit-packed) or .onnx")
    check_output_file(out, "OUT")
    if suffix == ".onnx":
        from ..bitpack import export_run_onnx

        path = export_run_onnx(run_dir, out)
    else:
        from ..bitpack import export_run

        path = export_run(run_dir, out)
    written = path if path is not None else out
    if as_json:
        print_json({"run": str(run_dir), "out": str(written)})
        return
    console.print(f"exported {run_dir} -> {written}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `deep` sub-command group."""
    app.add_typer(deep_app, name="deep")
