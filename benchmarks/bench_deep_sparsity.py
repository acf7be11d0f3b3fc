"""Accuracy against sparsity for ternary stochastic synapses, with the binary network and TWN beside them.

    .venv/bin/python benchmarks/bench_deep_sparsity.py        # or: make bench BENCH=deep_sparsity

Trains (through the CLI, resumable) the stochastic model with ternary synapses at
each ``zero_prior`` of STOCHSYN_SPARSITY_PRIORS, the binary stochastic model and
TWN, same architecture, data and epochs; prints the deployed test accuracy
against the fraction of zero deployed weights (mean ± s.e. over seeds) and draws
the curve into STOCHSYN_SPARSITY_FIGURE (default docs/figures/deep/sparsity.png).

Settings (environment variables):
    STOCHSYN_BENCH_OUT        output folder (default bench-out/deep)
    STOCHSYN_BENCH_ARCH       architecture (default mlp:784-1024-1024-10)
    STOCHSYN_BENCH_EPOCHS     epochs (default 4)
    STOCHSYN_BENCH_DATASET    dataset (default fashion-mnist)
    STOCHSYN_BENCH_SEEDS      comma list of seeds (default 0)
    STOCHSYN_BENCH_ACTIVATION hidden units of the stochastic rows (default sign)
    STOCHSYN_SPARSITY_PRIORS  comma list of zero_prior values (default 0,0.5,1)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_deep import ROOT, TRAIN_ACC_SAMPLES, _deployed_stats, _mean_se, _run  # noqa: E402


def main() -> int:
    out_root = Path(os.environ.get("STOCHSYN_BENCH_OUT", ROOT / "bench-out" / "deep"))
    arch = os.environ.get("STOCHSYN_BENCH_ARCH", "mlp:784-1024-1024-10")
    epochs = int(os.environ.get("STOCHSYN_BENCH_EPOCHS", "4"))
    dataset = os.environ.get("STOCHSYN_BENCH_DATASET", "fashion-mnist")
    seeds = [int(v) for v in os.environ.get("STOCHSYN_BENCH_SEEDS", "0").split(",")]
    activation = os.environ.get("STOCHSYN_BENCH_ACTIVATION", "sign")
    priors = [float(v) for v in os.environ.get("STOCHSYN_SPARSITY_PRIORS", "0,0.5,1").split(",")]
    figure = Path(os.environ.get("STOCHSYN_SPARSITY_FIGURE", ROOT / "docs" / "figures" / "deep" / "sparsity.png"))
    rows = [("binary", "stochastic", {"activation": activation})]
    rows += [(f"ternary zero_prior={p:g}", "stochastic", {"activation": activation, "synapses": "ternary",
                                                          "zero_prior": p}) for p in priors]  # fmt: skip
    rows += [("twn", "twn", {})]
    tag = arch.replace(":", "_")
    results = []
    for name, kind, options in rows:
        acc, zeros = [], []
        for seed in seeds:
            folder = out_root / "sparsity" / dataset / tag / f"{name.replace(' ', '_')}-seed{seed}"
            m = _run(folder, kind, arch, dataset, epochs, seed, options)
            acc.append(m["epochs"][epochs - 1]["test_accuracy_deployed"])
            zeros.append(_deployed_stats(folder, TRAIN_ACC_SAMPLES)[1])
        a, a_se = _mean_se(acc)
        z, _ = _mean_se(zeros)
        results.append({"row": name, "model": kind, "options": options, "deployed": a, "deployed_se": a_se,
                        "zero_fraction": z, "per_seed": acc})  # fmt: skip
    print(f"\n== accuracy vs sparsity: {dataset}, {arch}, {epochs} epochs, seeds {seeds}, {activation} units")
    print(f"{'row':26s} {'zero fraction':>13s} {'deployed acc':>18s}")
    for r in results:
        print(f"{r['row']:26s} {r['zero_fraction']:13.3f} {r['deployed']:10.4f} ± {r['deployed_se']:.4f}")
    out_root.mkdir(parents=True, exist_ok=True)
    (out_root / "sparsity.json").write_text(json.dumps({"arch": arch, "epochs": epochs, "seeds": seeds,
                                                         "rows": results}, indent=1))  # fmt: skip
    import matplotlib

    backend = matplotlib.get_backend()
    matplotlib.use("Agg")
    try:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.5, 3.8))
        tern = [r for r in results if r["row"].startswith("ternary")]
        ax.errorbar([r["zero_fraction"] for r in tern], [r["deployed"] for r in tern],
                    yerr=[r["deployed_se"] for r in tern], marker="o", label="stochastic ternary (zero_prior)")  # fmt: skip
        for r in tern:
            ax.annotate(r["row"].split("=")[1], (r["zero_fraction"], r["deployed"]), textcoords="offset points",
                        xytext=(4, 4), fontsize=8)  # fmt: skip
        for r, mk in ((results[0], "s"), (results[-1], "^")):
            ax.errorbar([r["zero_fraction"]], [r["deployed"]], yerr=[r["deployed_se"]], marker=mk, ls="none",
                        label=r["row"] if r["row"] != "binary" else "stochastic binary")  # fmt: skip
        ax.set_xlabel("fraction of zero deployed weights")
        ax.set_ylabel("deployed test accuracy")
        ax.set_title(f"{dataset}, {arch}, {epochs} epochs", fontsize=9)
        ax.legend(fontsize=8)
        fig.tight_layout()
        figure.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(figure, dpi=120)
        plt.close(fig)
    finally:
        matplotlib.use(backend)
    print(f"figure: {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
