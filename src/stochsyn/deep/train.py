"""Trainer: minibatch Adam with cross-entropy, atomic per-epoch checkpoints, exact resume.

``train(out_dir, model=..., arch=..., dataset=..., epochs=..., seed=...)`` writes into ``out_dir``:

* ``config.json`` — every setting (model options included), written once;
* ``checkpoint.pt`` — after every epoch, atomically: ``{"epoch", "model",
  "optimizer"}`` state dicts only (tensors and numbers; loaded with
  ``weights_only=True``);
* ``metrics.json`` — ``{"epochs": [{"epoch", "train_loss", "test_accuracy",
  "test_accuracy_deployed", "seconds"}, ...], "config": {...}}`` after every epoch;
* ``learning_curve.png`` — training loss and test accuracies per epoch.

Determinism: epoch e shuffles with a generator seeded from (seed, e) and seeds
torch's global generator likewise (BinaryConnect's stochastic binarization uses
it), so a run resumed from the checkpoint of epoch k repeats the uninterrupted
run bit for bit on the same machine and thread count. The learning rate of
epoch e is lr * lr_decay**(e - 1), so extending ``epochs`` on resume continues
the same schedule.

Metrics: ``test_accuracy`` is the training-time network in eval mode (for the
stochastic model the mean-field network), ``test_accuracy_deployed`` the
deployed binary network (for the stochastic model after recalibrating its
deploy batch-norm statistics on up to ``calib_samples`` training images).
"""

from __future__ import annotations

import inspect
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from .. import validation as V
from ..atomic import atomic_path, atomic_write_text
from .data import DATASETS, Dataset, load_dataset
from .architecture import Pool, parse_architecture
from .models import EVAL_BATCH_SIZE, MODEL_KINDS, DeepModel, build_model, check_arch_fits, default_unit_rule, model_class

__all__ = ["DEFAULTS", "train", "evaluate", "accuracies", "evaluate_ensemble", "load_run", "make_config", "to_float"]

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
METRICS = "metrics.json"
CURVE = "learning_curve.png"

# Per-model defaults of the training recipe (tuned on Fashion-MNIST; see docs/deep.md).
DEFAULTS: dict[str, dict[str, Any]] = {
    "stochastic": {"lr": 5e-2, "lr_decay": 0.85, "batch_size": 100},
    "binaryconnect": {"lr": 1e-2, "lr_decay": 0.85, "batch_size": 100},
    "bnn": {"lr": 1e-2, "lr_decay": 0.85, "batch_size": 100},
    "twn": {"lr": 1e-2, "lr_decay": 0.85, "batch_size": 100},
    "float": {"lr": 3e-3, "lr_decay": 0.85, "batch_size": 100},
}

# Model options whose default changed, with the value a config written before the change
# meant: such configs lack the key, and new configs carry the current default, read from the
# model class (make_config). Only where the option acts (max_pool: architectures with max
# pooling), so MLP configs are as before.
LEGACY_MODEL_OPTIONS: dict[str, dict[str, Any]] = {
    # max_pool: "comonotone" since 2026-12-06; variance, sample_units and sample_warmup: per
    # unit type since 2026-12-06 (models.default_unit_rule)
    "stochastic": {"max_pool": "independent", "variance": "exact", "sample_units": 0.0, "sample_warmup": 0},
}


def _changed_options(model: str, arch: str, *, legacy: bool, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The options of ``model`` whose default changed and that act on ``arch``: their old
    values (``legacy``) or the current defaults given the other options ``given`` (the
    stochastic model's variance rule and unit draws depend on its activation)."""
    options = dict(LEGACY_MODEL_OPTIONS.get(model, {}))
    if not legacy and options:
        params = inspect.signature(model_class(model)).parameters
        options = {key: params[key].default for key in options}
        if model == "stochastic":
            activation = (given or {}).get("activation", params["activation"].default)
            options.update(default_unit_rule(activation))
    if "max_pool" in options:
        try:
            max_pools = any(isinstance(t, Pool) and t.kind == "max" for t in parse_architecture(arch).layers)
        except (ValueError, TypeError):
            max_pools = False  # a bad arch is reported by check_arch_fits / build_model
        if not max_pools:
            del options["max_pool"]
    return options


def _with_legacy_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """A stored config with the pre-change meaning of every changed option it lacks."""
    legacy = _changed_options(cfg.get("model", ""), cfg.get("arch", ""), legacy=True)
    return {**cfg, "model_options": {**legacy, **cfg.get("model_options", {})}}


def to_float(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 images -> float32 tensor in [0, 1]."""
    t = torch.as_tensor(x)
    return t.to(torch.float32) / 255.0


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, dtype=np.uint64)[0] >> 1)


def make_config(
    model: str = "stochastic",
    arch: str = "mlp:784-1024-1024-10",
    dataset: str = "fashion-mnist",
    epochs: int = 20,
    seed: int = 0,
    batch_size: int | None = None,
    lr: float | None = None,
    lr_decay: float | None = None,
    weight_decay: float = 0.0,
    calib_samples: int = 10000,
    data_dir: str | None = None,
    threads: int = 1,
    model_options: dict[str, Any] | None = None,
    compile: bool = False,
) -> dict[str, Any]:
    """Validated training configuration (a JSON-friendly dict).

    Args:
        model: one of "stochastic", "binaryconnect", "bnn", "twn", "float" (default "stochastic").
        arch: architecture string (default "mlp:784-1024-1024-10"); the input size must match the data.
        dataset: "fashion-mnist" (default), "mnist-5k", "idx" or "synthetic".
        epochs: passes over the training set (default 20).
        seed: seed of initialization, shuffling and sampling (default 0).
        batch_size: minibatch size (default per model, 100).
        lr: Adam learning rate (default per model: 5e-2 stochastic, 1e-2 binaryconnect, bnn and twn, 3e-3 float).
        lr_decay: learning-rate factor per epoch (default 0.85).
        weight_decay: Adam L2 weight decay (default 0).
        calib_samples: training images used to calibrate the deployed network (default 10000).
        data_dir: data directory override (default None: $STOCHSYN_DATA or the system path).
        threads: torch CPU threads (default 1; the machines are shared, more threads oversubscribe).
        model_options: keyword options of the model class (default {}); options whose
            default changed are written out (their current defaults) so the stored
            config keeps its meaning, and a stored config without them means the old
            default (``LEGACY_MODEL_OPTIONS``).
        compile: run the training steps through ``torch.compile`` (default False). The
            first step pays a one-off compilation (5–60 s measured on the default CNN);
            after it the fused element-wise kernels make a stochastic CNN step about
            2.3× faster (docs/deep.md, "Training cost"). Needs a C++ compiler; a failed
            compilation is an error that says so. Results are the same computation.
    """
    V.choice("model", model, MODEL_KINDS)
    if not isinstance(compile, bool):
        raise TypeError(f"compile={compile!r}: expected True or False")
    V.choice("dataset", dataset, DATASETS)
    d = DEFAULTS[model]
    cfg = {
        "model": model,
        "arch": arch,
        "dataset": dataset,
        "epochs": epochs,
        "seed": seed,
        "batch_size": d["batch_size"] if batch_size is None else batch_size,
        "lr": d["lr"] if lr is None else lr,
        "lr_decay": d["lr_decay"] if lr_decay is None else lr_decay,
        "weight_decay": weight_decay,
        "calib_samples": calib_samples,
        "data_dir": None if data_dir is None else str(data_dir),
        "threads": threads,
        "model_options": {**_changed_options(model, arch, legacy=False, given=model_options), **(model_options or {})},
        "compile": compile,
    }
    for key in ("epochs", "batch_size", "calib_samples", "threads"):
        V.count(key, cfg[key])
    V.seed(seed)
    for key in ("lr", "lr_decay"):
        V.real(key, cfg[key], lo=0.0, lo_open=True)
    V.real("weight_decay", weight_decay, lo=0.0)
    return cfg


def _atomic_torch_save(obj: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _atomic_json(obj: Any, path: Path) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1))


def _model_for(cfg: dict[str, Any], data: Dataset) -> DeepModel:
    model = build_model(cfg["model"], cfg["arch"], class_names=data.class_names, **cfg["model_options"])
    mean, std = data.pixel_stats()
    model.set_preprocess(mean, std)
    return model


@torch.no_grad()
def evaluate(model: DeepModel, x: np.ndarray, y: np.ndarray, mode: str, batch_size: int = EVAL_BATCH_SIZE,
             forward: Callable[[torch.Tensor], torch.Tensor] | None = None) -> float:  # fmt: skip
    """Accuracy of ``model`` (eval mode, forward ``mode``) on uint8 images ``x`` with labels ``y``;
    ``forward``: the model's compiled forward, if any (default: the model itself)."""
    was_training, old_mode = model.training, model.mode
    model.eval()
    model.set_mode(mode)
    run = model if forward is None else forward
    correct = 0
    try:
        for i in range(0, len(x), batch_size):
            scores = run(to_float(x[i : i + batch_size]))
            correct += int((scores.argmax(dim=1) == torch.as_tensor(y[i : i + batch_size])).sum())
    finally:
        model.train(was_training)
        model.set_mode(old_mode)
    return correct / len(x)


def accuracies(model: DeepModel, x: np.ndarray, y: np.ndarray,
               forward: Callable[[torch.Tensor], torch.Tensor] | None = None) -> tuple[float, float]:  # fmt: skip
    """(training-network, deployed) test accuracy, as an epoch of :func:`train` records them:
    one pass where the two networks coincide at evaluation (``model.eval_modes_coincide``)."""
    trained = evaluate(model, x, y, "mean-field", forward=forward)
    return trained, trained if model.eval_modes_coincide else evaluate(model, x, y, "deploy", forward=forward)


@torch.no_grad()
def evaluate_ensemble(
    model: DeepModel, x: np.ndarray, y: np.ndarray, n_samples: int = 16, seed: int = 0, batch_size: int = 1000
) -> float:
    """Accuracy of the sampled-ensemble prediction: argmax of the softmax averaged over
    ``n_samples`` stochastic networks (local reparameterization, independent draws per example)."""
    if "sample" not in model.modes:
        raise ValueError(f"a {model.kind} model has no sampling mode; the ensemble needs model='stochastic'")
    if not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples={n_samples!r}: expected a positive int")
    was_training, old_mode = model.training, model.mode
    model.eval()
    model.set_mode("sample")
    gen = torch.Generator().manual_seed(seed)
    correct = 0
    try:
        for i in range(0, len(x), batch_size):
            xb = to_float(x[i : i + batch_size])
            probs = sum(F.softmax(model(xb, generator=gen), dim=1) for _ in range(n_samples))
            correct += int((probs.argmax(dim=1) == torch.as_tensor(y[i : i + batch_size])).sum())
    finally:
        model.train(was_training)
        model.set_mode(old_mode)
    return correct / len(x)


def _calibration_images(cfg: dict[str, Any], data: Dataset) -> torch.Tensor:
    rng = np.random.default_rng(_epoch_seed(cfg["seed"], 0))
    n = min(cfg["calib_samples"], len(data.x_train))
    idx = np.sort(rng.permutation(len(data.x_train))[:n])
    return to_float(data.x_train[idx])


def _plot_curve(out: Path, records: list[dict[str, Any]], title: str) -> None:
    # A Figure with its own Agg canvas: no pyplot state and no global backend switch.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    ep = [r["epoch"] for r in records]
    fig = Figure(figsize=(9, 3.4))
    FigureCanvasAgg(fig)
    ax = fig.subplots(1, 2)
    ax[0].plot(ep, [r["train_loss"] for r in records], "o-")
    ax[0].set_xlabel("epoch")
    ax[0].set_ylabel("training loss")
    ax[1].plot(ep, [r["test_accuracy"] for r in records], "o-", label="training network")
    ax[1].plot(ep, [r["test_accuracy_deployed"] for r in records], "s--", label="deployed binary")
    ax[1].set_xlabel("epoch")
    ax[1].set_ylabel("test accuracy")
    ax[1].legend()
    for a in ax:
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(out / CURVE, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100)


def _comparable(cfg: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cfg.items() if k not in ("epochs", "data_dir", "threads", "compile")}


#: ``progress(event, info)`` receives ``("epoch", {"epoch", "epochs", "batches"})`` when an
#: epoch starts, ``("batch", {"epoch", "batch", "batches", "loss"})`` every 20 batches and at
#: the last one, and ``("record", record)`` when an epoch is evaluated.
Progress = Callable[[str, dict[str, Any]], None]


def train(
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    progress: Progress | None = None,
    callback: Callable[[int, dict[str, Any]], bool | None] | None = None,
    data: Dataset | None = None,
    **config: Any,
) -> dict[str, Any]:
    """Train one model and write checkpoints, metrics and the learning curve into ``out_dir``.

    Args:
        out_dir: run directory (created).
        resume: continue from ``out_dir/checkpoint.pt`` (default False); the stored
            config must match apart from ``epochs``, ``data_dir``, ``threads`` and ``compile``.
            Without ``resume`` an existing checkpoint is an error (no silent overwrite).
        progress: optional :data:`Progress` callable (the CLI draws its bar from it).
        callback: ``callback(epoch, record)`` after each epoch; True stops early.
        data: an already loaded :class:`Dataset` (default None: load ``dataset``).
        **config: settings of :func:`make_config`.

    Torch's thread count is set to ``threads`` for the run and restored afterwards.

    Returns:
        the metrics dict written to ``metrics.json``.
    """
    cfg = make_config(**config)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"run directory {str(out)!r} exists and is not a directory")
    threads_before = torch.get_num_threads()
    torch.set_num_threads(cfg["threads"])
    # Subnormal floats appear in the moment rules as training proceeds and each costs the CPU
    # a slow path: a compiled stochastic CNN step went 95 -> 241 ms within 60 steps, and stays
    # at ~95 ms with them flushed to zero. torch has no getter for this mode, so it is set back
    # to torch's default (off) on the way out.
    flushing = torch.set_flush_denormal(True)
    try:
        if data is None:
            data = load_dataset(cfg["dataset"], cfg["data_dir"], seed=cfg["seed"])
        check_arch_fits(cfg["arch"], data.n_features, data.n_classes)
        torch.manual_seed(cfg["seed"])
        model = _model_for(cfg, data)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
        start, records = _restore(out, cfg, model, optimizer, resume)
        out.mkdir(parents=True, exist_ok=True)
        _atomic_json(cfg, out / CONFIG)
        calib = _calibration_images(cfg, data) if cfg["model"] == "stochastic" else None
        step_forward = _compiled(model) if cfg["compile"] else model
        for epoch in range(start, cfg["epochs"] + 1):
            t0 = time.perf_counter()
            loss = _train_epoch(model, step_forward, optimizer, cfg, data, epoch, progress)
            train_seconds = time.perf_counter() - t0
            model.eval()
            if calib is not None:
                model.calibrate_deploy(calib)
            # with compile=True the test passes run compiled as well (their own graphs, eval mode)
            test_accuracy, test_accuracy_deployed = accuracies(model, data.x_test, data.y_test, step_forward)
            record = {
                "epoch": epoch,
                "train_loss": loss,
                "test_accuracy": test_accuracy,
                "test_accuracy_deployed": test_accuracy_deployed,
                "seconds": time.perf_counter() - t0,
                # the pass over the training set alone; the rest of "seconds" is the deploy
                # calibration and the test evaluations
                "train_seconds": train_seconds,
            }
            records.append(record)
            if progress is not None:
                progress("record", record)
            _save_epoch(out, cfg, model, optimizer, records)
            if callback is not None and callback(epoch, record):
                break
    finally:
        torch.set_num_threads(threads_before)
        if flushing:
            torch.set_flush_denormal(False)
    if not records:
        raise ValueError(f"epochs={cfg['epochs']}: nothing to do, the run in {str(out)!r} already has {start - 1} epochs")
    return {"epochs": records, "config": cfg}


def _restore(out: Path, cfg: dict[str, Any], model: DeepModel, optimizer: torch.optim.Optimizer,
             resume: bool) -> tuple[int, list[dict[str, Any]]]:
    """(first epoch to run, records so far): from the checkpoint when resuming."""
    ckpt_path = out / CHECKPOINT
    if not ckpt_path.exists():
        if resume:
            raise FileNotFoundError(f"--resume: no {CHECKPOINT} in {str(out)!r}")
        return 1, []
    if not resume:
        raise ValueError(f"{str(out)!r} already holds a checkpoint; pass --resume to continue or choose another --out")
    stored = _with_legacy_options(json.loads((out / CONFIG).read_text()))
    if _comparable(stored) != _comparable(cfg):
        diff = sorted(k for k in _comparable(cfg) if stored.get(k) != cfg.get(k))
        raise ValueError(f"--resume: settings {diff} differ from the run stored in {str(out)!r}")
    state = torch.load(ckpt_path, weights_only=True)
    model.load_state_dict(state["model"])
    model.set_epoch(int(state["epoch"]))
    optimizer.load_state_dict(state["optimizer"])
    start = int(state["epoch"]) + 1
    return start, json.loads((out / METRICS).read_text())["epochs"][: start - 1]


class CompileFailed(RuntimeError):
    """``torch.compile`` could not compile the training step (compile=True)."""


def _compiled(model: DeepModel) -> Callable[[torch.Tensor], torch.Tensor]:
    """``torch.compile`` of the model's forward (the training steps and the test passes, each
    mode its own graph); a compiler failure becomes one clear error."""
    compiled = torch.compile(model, dynamic=False)

    def forward(xb: torch.Tensor) -> torch.Tensor:
        try:
            return compiled(xb)
        except Exception as exc:  # only torch's compiler stack is re-labelled
            if type(exc).__module__.startswith(("torch._dynamo", "torch._inductor")):
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise CompileFailed(f"compile=True: torch.compile failed ({first}); train without --compile") from exc
            raise

    return forward


def _train_epoch(model: DeepModel, forward: Callable[[torch.Tensor], torch.Tensor], optimizer: torch.optim.Optimizer,
                 cfg: dict[str, Any], data: Dataset, epoch: int, progress: Progress | None) -> float:
    """One pass over the shuffled training set (``forward``: the model, or its compiled
    training forward); returns the mean training loss."""
    x_train, y_train = data.x_train, torch.as_tensor(data.y_train)
    n, bs = len(x_train), cfg["batch_size"]
    n_batches = math.ceil(n / bs)
    es = _epoch_seed(cfg["seed"], epoch)
    torch.manual_seed(es)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(es)).numpy()
    for group in optimizer.param_groups:
        group["lr"] = cfg["lr"] * cfg["lr_decay"] ** (epoch - 1)
    model.train()
    model.set_mode("mean-field")
    model.set_epoch(epoch)
    if progress is not None:
        progress("epoch", {"epoch": epoch, "epochs": cfg["epochs"], "batches": n_batches})
    loss_sum = 0.0
    for b in range(n_batches):
        idx = perm[b * bs : (b + 1) * bs]
        xb, yb = to_float(x_train[idx]), y_train[idx]
        model.set_step((epoch - 1) * n_batches + b)
        loss = F.cross_entropy(forward(xb), yb)
        extra = model.penalty()
        optimizer.zero_grad(set_to_none=True)
        (loss if extra is None else loss + extra).backward()
        optimizer.step()
        model.after_step()
        loss_sum += loss.item() * len(idx)
        if progress is not None and (b % 20 == 0 or b == n_batches - 1):
            progress("batch", {"epoch": epoch, "batch": b + 1, "batches": n_batches,
                               "loss": loss_sum / min(n, (b + 1) * bs)})
    return loss_sum / n


def _save_epoch(out: Path, cfg: dict[str, Any], model: DeepModel, optimizer: torch.optim.Optimizer,
                records: list[dict[str, Any]]) -> None:
    """Checkpoint, metrics and learning curve after an epoch (each write atomic)."""
    epoch = records[-1]["epoch"]
    _atomic_torch_save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()},
                       out / CHECKPOINT)
    _atomic_json({"epochs": records, "config": cfg}, out / METRICS)
    _plot_curve(out, records, f"{cfg['model']} {cfg['arch']} on {cfg['dataset']}")


def load_run(run_dir: str | os.PathLike) -> tuple[DeepModel, dict[str, Any]]:
    """Rebuild the trained model of a run directory; returned in eval mode, deploy mode.

    Returns (model, config). Raises FileNotFoundError when the run is incomplete.
    """
    run = Path(run_dir)
    for name in (CONFIG, CHECKPOINT):
        if not (run / name).is_file():
            raise FileNotFoundError(f"{str(run / name)!r} not found; is {str(run)!r} a `stochsyn deep train` directory?")
    cfg = _with_legacy_options(json.loads((run / CONFIG).read_text()))
    state = torch.load(run / CHECKPOINT, weights_only=True)
    from .data import DIGITS, FASHION_MNIST_CLASSES

    names = {"fashion-mnist": FASHION_MNIST_CLASSES, "mnist-5k": DIGITS}.get(cfg["dataset"])
    model = build_model(cfg["model"], cfg["arch"], class_names=names, **cfg["model_options"])
    model.load_state_dict(state["model"])
    model.set_epoch(int(state["epoch"]))
    model.eval()
    model.set_mode("deploy")
    return model, cfg
