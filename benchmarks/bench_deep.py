"""Benchmark of stochsyn.deep: deployed test accuracy and seconds/epoch of the four models.

For each dataset (Fashion-MNIST 60k/10k, then the MNIST 5k subset) it trains the
same MLP with the same epoch budget as "stochastic", "binaryconnect", "bnn" and
"float", then prints one table per dataset and checks the bars:

* stochastic deployed accuracy > BinaryConnect deployed accuracy (equal epochs);
* float accuracy - stochastic deployed accuracy <= 2 points;
* (Fashion-MNIST) epoch 1 of `stochsyn deep train --model stochastic` (run through
  the CLI; the learning-rate schedule does not depend on the epoch budget, so
  epoch 1 of the run *is* a one-epoch run) has deployed accuracy >= 80%.

Runs are resumable: rerunning continues the runs found in the output folder.
Settings (environment variables):
    STOCHSYN_BENCH_OUT      output folder (default bench-out/deep)
    STOCHSYN_BENCH_ARCH     architecture (default mlp:784-1024-1024-10)
    STOCHSYN_BENCH_EPOCHS   epochs on Fashion-MNIST (default 4)
    STOCHSYN_BENCH_EPOCHS_5K  epochs on the MNIST 5k subset (default 10)
    STOCHSYN_BENCH_DATASETS comma list (default fashion-mnist,mnist-5k)
    STOCHSYN_BENCH_SEED     seed (default 0)
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
    metrics = out / "metrics.json"
    if metrics.exists():
        done = len(json.loads(metrics.read_text())["epochs"])
        if done >= epochs:
            return json.loads(metrics.read_text())
        cmd.append("--resume")
    print(f"--- {' '.join(cmd[1:])}", flush=True)
    subprocess.run(cmd, check=True)
    return json.loads(metrics.read_text())


def _train_accuracy(run_dir: Path, n: int) -> float:
    """Deployed accuracy on the first ``n`` training images (overfitting diagnostic)."""
    import torch

    from stochsyn.deep import evaluate, load_dataset, load_run

    torch.set_num_threads(1)
    model, cfg = load_run(run_dir)
    data = load_dataset(cfg["dataset"], cfg.get("data_dir"), seed=cfg["seed"])
    return evaluate(model, data.x_train[:n], data.y_train[:n], "deploy")


def main() -> int:
    out_root = Path(os.environ.get("STOCHSYN_BENCH_OUT", ROOT / "bench-out" / "deep"))
    arch = os.environ.get("STOCHSYN_BENCH_ARCH", "mlp:784-1024-1024-10")
    epochs = {
        "fashion-mnist": int(os.environ.get("STOCHSYN_BENCH_EPOCHS", "4")),
        "mnist-5k": int(os.environ.get("STOCHSYN_BENCH_EPOCHS_5K", "10")),
    }
    datasets = os.environ.get("STOCHSYN_BENCH_DATASETS", "fashion-mnist,mnist-5k").split(",")
    seed = int(os.environ.get("STOCHSYN_BENCH_SEED", "0"))
    fmnist = Path("/usr/share/datasets/fashion-mnist")
    summary: dict = {"arch": arch, "seed": seed, "datasets": {}}
    all_ok = True
    for dataset in datasets:
        if dataset == "fashion-mnist" and not fmnist.is_dir() and not os.environ.get("STOCHSYN_DATA"):
            print("SKIP fashion-mnist: install dataset-fashion-mnist (make data as root)", flush=True)
            continue
        t0 = time.time()
        rows = {}
        for model, kind, options in MODELS:
            m = _run(out_root / dataset / model, kind, arch, dataset, epochs[dataset], seed, options)
            eps = m["epochs"][: epochs[dataset]]
            rows[model] = {
                "epochs": len(eps),
                "deployed": eps[-1]["test_accuracy_deployed"],
                "training_net": eps[-1]["test_accuracy"],
                "best_deployed": max(r["test_accuracy_deployed"] for r in eps),
                "epoch1_deployed": eps[0]["test_accuracy_deployed"],
                "s_per_epoch": sum(r["seconds"] for r in eps) / len(eps),
            }
            if len(m["epochs"]) == epochs[dataset]:  # the checkpoint is the budget's last epoch
                rows[model]["train_deployed"] = _train_accuracy(out_root / dataset / model, TRAIN_ACC_SAMPLES)
        st, bc, fl = rows["stochastic"]["deployed"], rows["binaryconnect"]["deployed"], rows["float"]["deployed"]
        sr = rows["stochastic-relu"]["deployed"]
        bars = {
            "stochastic_beats_binaryconnect": st > bc,
            "stochastic_within_2_points_of_float": (fl - st) <= 0.02,
            "stochastic-relu_beats_binaryconnect": sr > bc,
            "stochastic-relu_within_2_points_of_float": (fl - sr) <= 0.02,
            "stochastic_beats_bnn": st > rows["bnn"]["deployed"],
        }
        if dataset == "fashion-mnist":
            bars["one_epoch_cli_deployed_ge_80"] = rows["stochastic"]["epoch1_deployed"] >= 0.80
        all_ok &= all(bars.values())
        summary["datasets"][dataset] = {"epochs": epochs[dataset], "rows": rows, "bars": bars,
                                        "wall_seconds": time.time() - t0}  # fmt: skip
        print(f"\n== {dataset}, {arch}, {epochs[dataset]} epochs, seed {seed} (deployed = binary network; "
              "float has no binary deployment)")  # fmt: skip
        print(f"{'model':15s} {'deployed acc':>12s} {'train-net acc':>13s} {'best deployed':>13s} "
              f"{'epoch-1 depl.':>13s} {'depl. on train':>14s} {'s/epoch':>8s} {'s/epoch ratio':>13s}")  # fmt: skip
        ref = rows["float"]["s_per_epoch"]
        for model, r in rows.items():
            tr = f"{r['train_deployed']:14.4f}" if "train_deployed" in r else f"{'-':>14s}"
            print(f"{model:15s} {r['deployed']:12.4f} {r['training_net']:13.4f} {r['best_deployed']:13.4f} "
                  f"{r['epoch1_deployed']:13.4f} {tr} {r['s_per_epoch']:8.1f} {r['s_per_epoch'] / ref:13.2f}")  # fmt: skip
        print(f"(depl. on train: deployed accuracy on the first {TRAIN_ACC_SAMPLES} training images, or all of them if fewer)")
        print(f"stochastic - binaryconnect: {100 * (st - bc):+.2f} points; float - stochastic: {100 * (fl - st):+.2f} points; "
              f"stochastic-relu - binaryconnect: {100 * (sr - bc):+.2f}; float - stochastic-relu: {100 * (fl - sr):+.2f}")
        for name, ok in bars.items():
            print(f"  bar {name}: {'PASS' if ok else 'FAIL'}")
    out_root.mkdir(parents=True, exist_ok=True)
    (out_root / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"\nsummary written to {out_root / 'summary.json'}")
    print("ALL BARS PASS" if all_ok else "SOME BARS FAIL (see above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
