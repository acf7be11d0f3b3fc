"""Deployment benchmark: trained Fashion-MNIST networks through the packed engine and ONNX, against torch.

    make bench BENCH=deploy                 # or: .venv/bin/python benchmarks/bench_deploy.py [options]

For each trained network (a `stochsyn deep train` run folder; trained here for
--epochs epochs, seed 0, on the full training set when the folder has no
checkpoint yet), on the 10,000 Fashion-MNIST test images:

1. Identical predictions: the packed engine (`stochsyn deep export RUN x.npz`)
   against torch deploy mode, and the ONNX file (`... x.onnx`, run by
   onnxruntime) against torch deploy mode: the number of equal predictions, and
   whether the scores are bit-identical.
2. Throughput (images/s, from uint8 images to class scores, preprocessing
   included) at batch 1, 100 and 10,000, for torch fp32 deploy mode, the packed
   engine and onnxruntime, all with --threads threads. The three are timed
   interleaved (one round = one pass of each, in rotating order) and the best of
   --rounds rounds is reported, so that a busy machine cannot flatter a ratio.
   Batch 1 runs over the first --single-images images.

Default networks (folder under --runs, default runs/deploy):

    cnn_sign     stochastic, cnn (default CNN), sign units          (XNOR conv)
    cnn_relu     binaryconnect, cnn, ReLU units, binary weights     (real units)
    cnn_ternary  stochastic, cnn, ternary synapses (zero_prior 0.5), sign units
    mlp_sign     stochastic, mlp:784-1024-1024-10, sign units
    mlp_relu     stochastic, mlp:784-1024-1024-10, ReLU units

Options: --runs DIR, --models name,name (subset of the above), --epochs E
(default 1), --rounds R (default 5), --single-images N (default 300),
--threads T (default 2), --data-dir D.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_bitpack import row, set_threads  # same folder: the scripts run as files

MODELS = {
    "cnn_sign": ("stochastic", "cnn", {}),
    "cnn_relu": ("binaryconnect", "cnn", {}),
    "cnn_ternary": ("stochastic", "cnn", {"synapses": "ternary", "zero_prior": 0.5}),
    "mlp_sign": ("stochastic", "mlp:784-1024-1024-10", {}),
    "mlp_relu": ("stochastic", "mlp:784-1024-1024-10", {"activation": "relu"}),
}


def ensure_run(run: Path, name: str, epochs: int, threads: int, data) -> None:
    from stochsyn import deep

    if (run / "checkpoint.pt").is_file():
        return
    kind, arch, opts = MODELS[name]
    print(f"  training {name} ({kind} {arch} {opts}) for {epochs} epoch(s) into {run} ...", flush=True)
    t0 = time.perf_counter()
    deep.train(run, model=kind, arch=arch, dataset="fashion-mnist", epochs=epochs, seed=0, data=data,
               threads=threads, model_options=opts)  # fmt: skip
    print(f"  trained in {time.perf_counter() - t0:.0f} s", flush=True)


def interleaved_best(fns: dict, rounds: int) -> dict[str, float]:
    """Best seconds of each callable over ``rounds`` rounds; within a round the order rotates."""
    names = list(fns)
    best = {n: float("inf") for n in names}
    for r in range(rounds):
        for j in range(len(names)):
            name = names[(r + j) % len(names)]
            t0 = time.perf_counter()
            fns[name]()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def bench_model(name: str, run: Path, data, args: argparse.Namespace) -> dict:
    import onnxruntime as ort
    import torch

    from stochsyn import deep
    from stochsyn.bitpack import PackedNetwork, export_run, export_run_onnx

    model, cfg = deep.load_run(run)
    model.eval()
    set_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench_deploy_") as tmp:
        npz, onnx_path = export_run(run, Path(tmp) / "net.npz"), export_run_onnx(run, Path(tmp) / "net.onnx")
        net = PackedNetwork.load(npz)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = args.threads
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        onnx_bytes = onnx_path.stat().st_size
    x, y = data.x_test, data.y_test
    flat = x.reshape(len(x), -1)

    def torch_scores(xs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(xs).to(torch.float32) / 255.0).numpy()

    def onnx_scores(xs: np.ndarray) -> np.ndarray:
        return sess.run(["scores"], {"pixels": xs.reshape(len(xs), -1).astype(np.float32) / np.float32(255.0)})[0]

    def packed_scores(xs: np.ndarray, bs: int) -> np.ndarray:
        return net.scores(xs, batch_size=bs)

    ref = np.concatenate([torch_scores(x[i : i + 1000]) for i in range(0, len(x), 1000)])
    got = packed_scores(x, 1000)
    onx = np.concatenate([onnx_scores(flat[i : i + 1000]) for i in range(0, len(x), 1000)])
    same_packed = int(np.sum(ref.argmax(1) == got.argmax(1)))
    same_onnx = int(np.sum(ref.argmax(1) == onx.argmax(1)))
    acc = float(np.mean(ref.argmax(1) == y))
    print(f"\n{name}: {cfg['model']} {cfg['arch']} {cfg.get('model_options') or ''}  (run {run})")
    print(f"  weights: {net.n_weights:,} -> packed {net.weight_bytes:,} B (float32 {4 * net.n_weights:,} B); "
          f"ONNX file {onnx_bytes:,} B; torch deploy test accuracy {acc:.4f}")  # fmt: skip
    print(f"  identical predictions on {len(x)} test images: packed vs torch {same_packed}/{len(x)} "
          f"(scores bit-identical: {bool(np.array_equal(ref, got))}, max |diff| {np.abs(ref - got).max():.2g}); "
          f"ONNX vs torch {same_onnx}/{len(x)} (max |diff| {np.abs(ref - onx).max():.2g})")  # fmt: skip
    result = {"name": name, "packed_same": same_packed, "onnx_same": same_onnx, "accuracy": acc, "throughput": {}}
    w = [8, 14, 14, 14, 12, 12]
    print("  images/s, best of %d interleaved rounds, %d thread(s)" % (args.rounds, args.threads))
    print("  " + row(["batch", "torch fp32", "onnxruntime", "packed", "vs torch", "vs onnx"], w))
    for bs in (1, 100, 10000):
        n = min(args.single_images, len(x)) if bs == 1 else len(x)
        xs = x[:n]

        def run_torch(xs=xs, bs=bs):
            return [torch_scores(xs[i : i + bs]) for i in range(0, len(xs), bs)]

        def run_onnx(xs=xs, bs=bs):
            return [onnx_scores(xs[i : i + bs]) for i in range(0, len(xs), bs)]

        def run_packed(xs=xs, bs=bs):
            return [packed_scores(xs[i : i + bs], bs) for i in range(0, len(xs), bs)]

        run_packed(xs[: min(n, 2 * bs)])  # warm-up (JIT cache load, allocator)
        best = interleaved_best({"torch": run_torch, "onnx": run_onnx, "packed": run_packed}, args.rounds)
        ips = {k: n / v for k, v in best.items()}
        result["throughput"][bs] = ips
        print("  " + row([str(bs), f"{ips['torch']:,.0f}", f"{ips['onnx']:,.0f}", f"{ips['packed']:,.0f}",
                          f"{ips['packed'] / ips['torch']:.2f}x", f"{ips['packed'] / ips['onnx']:.2f}x"], w),
              flush=True)  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", default="runs/deploy")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--single-images", type=int, default=300)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        p.error(f"--models: unknown {unknown}; expected names from {list(MODELS)}")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        print("bench_deploy: SKIPPED, onnxruntime is not installed (make venv installs it)")
        return 0
    from stochsyn.deep.data import load_dataset

    try:
        data = load_dataset("fashion-mnist", args.data_dir)
    except (FileNotFoundError, ValueError) as exc:
        print(f"bench_deploy: SKIPPED, Fashion-MNIST not available: {exc}")
        return 0
    from stochsyn.bitpack.kernels import BACKENDS  # noqa: F401  (import check before the long part)

    print(f"bench_deploy: {len(names)} network(s), Fashion-MNIST test set ({len(data.x_test)} images), "
          f"{args.threads} thread(s)")  # fmt: skip
    results = []
    for name in names:
        run = Path(args.runs) / name
        ensure_run(run, name, args.epochs, args.threads, data)
        results.append(bench_model(name, run, data, args))
    print("\nsummary: identical predictions (packed / ONNX vs torch deploy, of 10000):")
    for r in results:
        print(f"  {r['name']:<12} {r['packed_same']:>5} / {r['onnx_same']:>5}   (accuracy {r['accuracy']:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
