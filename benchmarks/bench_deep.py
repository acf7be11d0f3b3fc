"""Benchmark of stochsyn.deep: deployed test accuracy and seconds/epoch of every model.

For each dataset (Fashion-MNIST 60k/10k, then the MNIST 5k subset) it trains the
same architecture (an MLP by default; ``STOCHSYN_BENCH_ARCH=cnn`` for the default
CNN) with the same epoch budget as "stochastic" (sign and ReLU units, binary and
ternary synapses), "binaryconnect", "bnn", "twn" and "float", for each seed of
``STOCHSYN_BENCH_SEEDS``, then prints one table per dataset (3-seed means with
the standard error over seeds) and checks the bars:

* stochastic deployed accuracy > BinaryConnect deployed accuracy (equal epochs);
* float accuracy - stochastic deployed accuracy <= 2 points;
* (Fashion-MNIST) epoch 1 of `stochsyn deep train --model stochastic` (run through
  the CLI; the learning-rate schedule does not depend on the epoch budget, so
  epoch 1 of the run *is* a one-epoch run) has deployed accuracy >= 80%;
* (Fashion-MNIST, a ``cnn`` architecture: issue 13) epoch 1 >= 0.86; deployed accuracy
  >= 0.90 with sign units and >= 0.92 with ReLU units; seconds per epoch <= 1.5×
  BinaryConnect's.

Runs are resumable: rerunning continues the runs found in the output folder.
Settings (environment variables):
    STOCHSYN_BENCH_OUT      output folder (default bench-out/deep)
    STOCHSYN_BENCH_ARCH     architecture (default mlp:784-1024-1024-10)
    STOCHSYN_BENCH_EPOCHS   epochs on Fashion-MNIST (default 4)
    STOCHSYN_BENCH_EPOCHS_5K  epochs on the MNIST 5k subset (default 10)
    STOCHSYN_BENCH_DATASETS comma list (default fashion-mnist,mnist-5k)
    STOCHSYN_BENCH_SEEDS    comma list of seeds (default 0; STOCHSYN_BENCH_SEED also accepted)
    STOCHSYN_BENCH_ZERO_PRIOR  zero_prior of the ternary stochastic row (default 0.5)
    STOCHSYN_BENCH_COMPILE  1: train every row with --compile (torch.compile; default 0)
    STOCHSYN_BENCH_MODELS   comma list of row names to run (default: all rows); it must
                            include binaryconnect and float; the bars whose rows are left
                            out are not checked (e.g. the real-unit bar alone:
                            stochastic-relu-bg1.3,binaryconnect,float)

Besides the bars it prints the cost ratio stochastic / BinaryConnect in seconds
per epoch (same architecture, same data) and the ternary rows' zero fractions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

# (row name, --model, model options); the stochastic model with ReLU units is the
# like-for-like comparison with BinaryConnect (binary weights, real activations),
# the default sign-unit one with BNN (binary weights and activations).
MODELS = (
    ("stochastic", "stochastic", {}),
    ("binaryconnect", "binaryconnect", {}),
    ("float", "float", {}),
    ("bnn", "bnn", {}),
    ("stochastic-relu", "stochastic", {"activation": "relu"}),
    # ReLU units whose inverse temperature grows 1.3x per epoch (m = tanh(beta h)): the
    # deployed sign(m) network then matches the mean-field one (docs/deep.md, 2026-12-07)
    ("stochastic-relu-bg1.3", "stochastic", {"activation": "relu", "beta_growth": 1.3}),
    # the sign-unit model without unit draws: filter-mean, and the exact rule (the default
    # before 2026-12-06; docs/deep.md)
    ("stochastic-fm", "stochastic", {"sample_units": 0.0}),
    ("stochastic-exact", "stochastic", {"variance": "exact", "sample_units": 0.0}),
    # half of the sign units drawn from the first step, exact variance (the first 0.90 CNN recipe)
    ("stochastic-su", "stochastic", {"variance": "exact", "sample_units": 0.5, "sample_warmup": 0}),
    ("stochastic-ternary", "stochastic", {"activation": "relu", "synapses": "ternary"}),
    ("twn", "twn", {}),
)
ROOT = Path(__file__).resolve().parents[1]
# Training images on which the deployed networks' accuracy is also reported: a
# deployed network far better on training than on test data overfits, one
# whose training accuracy is low underfits.
TRAIN_ACC_SAMPLES = 10000


def _run(out: Path, model: str, arch: str, dataset: str, epochs: int, seed: int, options: dict) -> dict:
    """Train (or resume) one run through the CLI and return its metrics."""
    stochsyn = Path(sys.executable).with_name("stochsyn")
    cmd = [str(stochsyn), "deep", "train", "--model", model, "--arch", arch, "--dataset", dataset,
           "--epochs", str(epochs), "--seed", str(seed), "--out", str(out)]  # fmt: skip
    for key, value in options.items():
        cmd += ["-o", f"{key}={json.dumps(value)}"]
    if os.environ.get("STOCHSYN_BENCH_COMPILE", "0") == "1":
        cmd.append("--compile")
    metrics = out / "metrics.json"
    if metrics.exists():
        done = len(json.loads(metrics.read_text())["epochs"])
        if done >= epochs:
            return json.loads(metrics.read_text())
        cmd.append("--resume")
    print(f"--- {' '.join(cmd[1:])}", flush=True)
    subprocess.run(cmd, check=True)
    return json.loads(metrics.read_text())


def _deployed_stats(run_dir: Path, n: int) -> tuple[float, float]:
    """(deployed accuracy on the first ``n`` training images, fraction of zero deployed weights)."""
    import torch

    from stochsyn.deep import evaluate, load_dataset, load_run
    from stochsyn.deep.models import zero_weight_fraction

    torch.set_num_threads(1)
    model, cfg = load_run(run_dir)
    data = load_dataset(cfg["dataset"], cfg.get("data_dir"), seed=cfg["seed"])
    return evaluate(model, data.x_train[:n], data.y_train[:n], "deploy"), zero_weight_fraction(model)


def _mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean over seeds (0 for one seed)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, (var / n) ** 0.5


def main() -> int:
    out_root = Path(os.environ.get("STOCHSYN_BENCH_OUT", ROOT / "bench-out" / "deep"))
    arch = os.environ.get("STOCHSYN_BENCH_ARCH", "mlp:784-1024-1024-10")
    epochs = {
        "fashion-mnist": int(os.environ.get("STOCHSYN_BENCH_EPOCHS", "4")),
        "mnist-5k": int(os.environ.get("STOCHSYN_BENCH_EPOCHS_5K", "10")),
    }
    datasets = os.environ.get("STOCHSYN_BENCH_DATASETS", "fashion-mnist,mnist-5k").split(",")
    seeds = [int(v) for v in os.environ.get("STOCHSYN_BENCH_SEEDS", os.environ.get("STOCHSYN_BENCH_SEED", "0")).split(",")]
    zero_prior = float(os.environ.get("STOCHSYN_BENCH_ZERO_PRIOR", "0.5"))
    fmnist = Path("/usr/share/datasets/fashion-mnist")
    summary: dict = {"arch": arch, "seeds": seeds, "datasets": {}}
    all_ok = True
    # runs of the default MLP keep their earlier folder names (seed 0 of "mlp:784-1024-1024-10")
    tag = "" if arch == "mlp:784-1024-1024-10" else arch.replace(":", "_") + "/"
    for dataset in datasets:
        if dataset == "fashion-mnist" and not fmnist.is_dir() and not os.environ.get("STOCHSYN_DATA"):
            print("SKIP fashion-mnist: install dataset-fashion-mnist (make data as root)", flush=True)
            continue
        t0 = time.time()
        rows = {}
        epochs.setdefault(dataset, epochs["fashion-mnist"])  # e.g. "synthetic", for a quick check of this script
        wanted = os.environ.get("STOCHSYN_BENCH_MODELS")
        needed = {"binaryconnect", "float"}
        if wanted and not needed <= set(wanted.split(",")):
            raise SystemExit(f"STOCHSYN_BENCH_MODELS={wanted!r}: must include {sorted(needed)} (the references of the bars)")
        for model, kind, options in MODELS:
            if wanted and model not in wanted.split(","):
                continue
            if options.get("synapses") == "ternary":
                options = {**options, "zero_prior": zero_prior}
            per_seed = []
            for seed in seeds:
                folder = out_root / dataset / f"{tag}{model}" if seed == 0 else out_root / dataset / f"{tag}{model}-seed{seed}"
                m = _run(folder, kind, arch, dataset, epochs[dataset], seed, options)
                eps = m["epochs"][: epochs[dataset]]
                r = {
                    "deployed": eps[-1]["test_accuracy_deployed"],
                    "training_net": eps[-1]["test_accuracy"],
                    "best_deployed": max(e["test_accuracy_deployed"] for e in eps),
                    "epoch1_deployed": eps[0]["test_accuracy_deployed"],
                    "s_per_epoch": sum(e["seconds"] for e in eps) / len(eps),
                }
                if all("train_seconds" in e for e in eps):  # runs from before 2026-12-06 lack it
                    r["train_s_per_epoch"] = sum(e["train_seconds"] for e in eps) / len(eps)
                if len(m["epochs"]) == epochs[dataset] and kind != "float":  # the checkpoint is the budget's last epoch
                    r["train_deployed"], r["zero_fraction"] = _deployed_stats(folder, TRAIN_ACC_SAMPLES)
                per_seed.append(r)
            row = {"seeds": len(per_seed), "per_seed": per_seed}
            for key in per_seed[0]:
                vals = [r[key] for r in per_seed if key in r]
                row[key], row[key + "_se"] = _mean_se(vals)
            rows[model] = row
        bc, fl = rows["binaryconnect"]["deployed"], rows["float"]["deployed"]
        relu_rows = [name for name in rows if name.startswith("stochastic-relu")]
        cnn = arch.startswith("cnn")
        bars = {}
        cost = None
        # a bar is checked only when its rows were run (STOCHSYN_BENCH_MODELS)
        if "stochastic" in rows:
            st = rows["stochastic"]["deployed"]
            cost = rows["stochastic"]["s_per_epoch"] / rows["binaryconnect"]["s_per_epoch"]
            bars["stochastic_beats_binaryconnect"] = st > bc
            bars["stochastic_within_2_points_of_float"] = (fl - st) <= 0.02
            if "bnn" in rows:
                bars["stochastic_beats_bnn"] = st > rows["bnn"]["deployed"]
            if dataset == "fashion-mnist":
                bars["one_epoch_cli_deployed_ge_80"] = rows["stochastic"]["epoch1_deployed"] >= 0.80
                if cnn:  # issue 13: the binary-weight CNN
                    bars["cnn_one_epoch_cli_deployed_ge_86"] = rows["stochastic"]["epoch1_deployed"] >= 0.86
                    bars["cnn_sign_units_deployed_ge_90"] = st >= 0.90
                    bars["cnn_cost_s_per_epoch_le_1.5"] = cost <= 1.5
        for name in relu_rows:
            sr = rows[name]["deployed"]
            bars[f"{name}_beats_binaryconnect"] = sr > bc
            bars[f"{name}_within_2_points_of_float"] = (fl - sr) <= 0.02
            if dataset == "fashion-mnist" and cnn:  # issue 13: binary weights, real units
                bars[f"cnn_real_units_deployed_ge_92[{name}]"] = sr >= 0.92
        all_ok &= all(bars.values())
        summary["datasets"][dataset] = {"epochs": epochs[dataset], "rows": rows, "bars": bars,
                                        "cost_ratio_stochastic_binaryconnect": cost,
                                        "wall_seconds": time.time() - t0}  # fmt: skip
        print(f"\n== {dataset}, {arch}, {epochs[dataset]} epochs, seeds {seeds} (mean ± s.e. over seeds; "
              "deployed = binary/ternary network; float has no low-precision deployment)")  # fmt: skip
        print(f"{'model':21s} {'deployed acc':>16s} {'train-net acc':>13s} {'best deployed':>13s} "
              f"{'epoch-1 depl.':>13s} {'depl. on train':>14s} {'zeros':>6s} {'s/epoch':>8s} {'s/epoch ratio':>13s}")  # fmt: skip
        ref = rows["float"]["s_per_epoch"]
        for model, r in rows.items():
            tr = f"{r['train_deployed']:14.4f}" if "train_deployed" in r else f"{'-':>14s}"
            zf = f"{r['zero_fraction']:6.3f}" if "zero_fraction" in r else f"{'-':>6s}"
            dep = f"{r['deployed']:.4f} ± {r['deployed_se']:.4f}"
            print(f"{model:21s} {dep:>16s} {r['training_net']:13.4f} {r['best_deployed']:13.4f} "
                  f"{r['epoch1_deployed']:13.4f} {tr} {zf} {r['s_per_epoch']:8.1f} {r['s_per_epoch'] / ref:13.2f}")  # fmt: skip
        print(f"(depl. on train: deployed accuracy on the first {TRAIN_ACC_SAMPLES} training images, or all of them if fewer; "
              f"zeros: fraction of deployed weights equal to 0; ternary zero_prior={zero_prior})")
        for name in ["stochastic", *relu_rows]:
            if name in rows:
                d = rows[name]["deployed"]
                print(f"{name} - binaryconnect: {100 * (d - bc):+.2f} points; float - {name}: {100 * (fl - d):+.2f} points")
        if cost is not None:
            print(f"cost: s/epoch stochastic / binaryconnect = {cost:.2f} (issue bar <= 1.5; the epochs include "
                  "the deploy calibration and the test passes)")
        bc_row = rows["binaryconnect"]
        for name, r in rows.items():
            if name.startswith("stochastic") and not name.startswith("stochastic-relu") and "bnn" in rows:
                line = (f"  {name}: deployed {r['deployed']:.4f}, - bnn {100 * (r['deployed'] - rows['bnn']['deployed']):+.2f}"
                        f" points, s/epoch ratio {r['s_per_epoch'] / bc_row['s_per_epoch']:.2f}")
                if "train_s_per_epoch" in r and "train_s_per_epoch" in bc_row:
                    line += f", training-pass ratio {r['train_s_per_epoch'] / bc_row['train_s_per_epoch']:.2f}"
                print(line)
        for name, ok in bars.items():
            print(f"  bar {name}: {'PASS' if ok else 'FAIL'}")
    out_root.mkdir(parents=True, exist_ok=True)
    (out_root / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"\nsummary written to {out_root / 'summary.json'}")
    print("ALL BARS PASS" if all_ok else "SOME BARS FAIL (see above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
