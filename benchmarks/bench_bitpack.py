"""Benchmark of stochsyn.bitpack: ratios measured in one run, on this machine, with its threads.

    make bench BENCH=bitpack                      # or: .venv/bin/python benchmarks/bench_bitpack.py [options]

1. Kernel: the ±1 product A·Bᵀ, batch 1024 × 4096 inputs × 4096 outputs, as
   XNOR-popcount on packed words (numba) against float32 BLAS matmul of the
   same ±1 data (numpy → OpenBLAS, torch → MKL), all with the same number of
   threads. Results are checked to be identical integers.
2. Weight memory: packed uint64 words against float32 (and int8) storage.
3. End to end: a stochastic-synapse MLP (stochsyn.deep, default
   mlp:784-1024-1024-10) on the Fashion-MNIST test set, packed inference
   against the PyTorch float deploy-mode forward of the same model: identical
   predictions (and scores), and the throughput ratio. Without --run the MLP
   is trained here first, for --epochs epochs (default 1) on the first
   --train-images training images (default 10000; 0 = all): the inference
   measurement does not depend on how well it was trained.

Options: --repeats R (timed repetitions, minimum reported; default 5),
--run RUN_DIR (a `stochsyn deep train` run to use; trained there and kept if
it has no checkpoint yet; also $BITPACK_RUN), --skip-kernel, --skip-e2e,
--epochs E, --train-images N, --arch A,
--data-dir D, --threads T (default 2).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """(min, median) seconds over ``repeats`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info

        parts = []
        for info in threadpool_info():
            if info.get("user_api") == "blas":
                parts.append(
                    f"numpy BLAS = {info.get('internal_api')} {info.get('version')} "
                    f"(kernel {info.get('architecture')}, {info.get('num_threads')} threads)"
                )
        return "; ".join(parts) or "numpy BLAS: unknown"
    except ImportError:  # pragma: no cover
        return "numpy BLAS: threadpoolctl not installed"


def set_threads(threads: int) -> None:
    import numba
    import torch

    torch.set_num_threads(threads)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")
    except ImportError:  # pragma: no cover
        pass


def row(cols: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths)))


def bench_kernel(repeats: int) -> dict:
    import torch

    from stochsyn.bitpack import pack, xnor_matmul
    from stochsyn.bitpack.kernels import xnor_sign_pack

    m, n, k = 1024, 4096, 4096
    rng = np.random.default_rng(0)
    a = (rng.integers(0, 2, size=(m, n), dtype=np.int8) * 2 - 1).astype(np.int8)
    b = (rng.integers(0, 2, size=(k, n), dtype=np.int8) * 2 - 1).astype(np.int8)
    pa, pb = pack(a), pack(b)
    af, bf = a.astype(np.float32), b.astype(np.float32)
    at, bt = torch.from_numpy(af), torch.from_numpy(bf)
    thresholds = np.zeros(k, dtype=np.int32)

    xnor_matmul(pa[:8], pb[:8], n)  # JIT warm-up (compilation or cache load), not timed
    xnor_sign_pack(pa[:8], pb, n, thresholds)
    # Interleaved: one round times each kernel once, in rotating order; the best of
    # `repeats` rounds is kept, so a load burst hits every kernel alike, not one.
    kernels = {
        "xnor (numba popcount)": lambda: xnor_matmul(pa, pb, n),
        "xnor + sign + pack (fused)": lambda: xnor_sign_pack(pa, pb, n, thresholds),
        "numpy float32 BLAS": lambda: af @ bf.T,
        "torch float32 (MKL)": lambda: at @ bt.T,
    }
    times: dict[str, list[float]] = {name: [] for name in kernels}
    last: dict[str, object] = {}
    names = list(kernels)
    with torch.no_grad():
        for r in range(repeats):
            for j in range(len(names)):
                name = names[(r + j) % len(names)]
                t0 = time.perf_counter()
                last[name] = kernels[name]()
                times[name].append(time.perf_counter() - t0)
    res = {name: (min(t), statistics.median(t), last[name]) for name, t in times.items()}
    res["xnor (numpy bitwise_count)"] = timed(lambda: xnor_matmul(pa, pb, n, backend="numpy"), 1)
    res["pack activations (1024x4096)"] = timed(lambda: pack(a), repeats)

    z = res["xnor (numba popcount)"][2]
    exact = bool(np.array_equal(z, res["numpy float32 BLAS"][2]) and np.array_equal(z, res["torch float32 (MKL)"][2].numpy()))
    exact_np = bool(np.array_equal(z, res["xnor (numpy bitwise_count)"][2]))
    t_x = res["xnor (numba popcount)"][0]
    t_np = res["numpy float32 BLAS"][0]
    t_th = res["torch float32 (MKL)"][0]
    best_float = min(t_np, t_th)

    print(f"\n[1] ±1 product A·Bᵀ, batch {m} × {n} inputs × {k} outputs "
          f"({2 * m * n * k / 1e9:.1f} G float ops), best of {repeats} interleaved rounds")  # fmt: skip
    w = [30, 10, 10, 16]
    print(row(["kernel", "min s", "median s", "float32/this"], w))
    for name, (tmin, tmed, _) in res.items():
        ratio = best_float / tmin
        print(row([name, f"{tmin:.4f}", f"{tmed:.4f}", f"{ratio:.2f}x"], w))
    print(f"exact: xnor == float32 BLAS (numpy and torch): {exact}; numba == numpy backend: {exact_np}")
    print(f"SPEED-UP of XNOR-popcount vs numpy float32 BLAS: {t_np / t_x:.1f}x; vs torch float32: {t_th / t_x:.1f}x; "
          f"vs the faster float32 BLAS: {best_float / t_x:.1f}x   (bar >= 10x, issue 14)")  # fmt: skip
    macs = m * n * k
    print(f"throughput: XNOR-popcount {macs / t_x / 1e9:.0f} G ±1 multiply-adds/s; float32 BLAS "
          f"{macs / best_float / 1e9:.0f} G multiply-adds/s ({2 * macs / best_float / 1e9:.0f} GFLOP/s); peaks "
          f"per core and cycle in docs/bitpack.md, 'Kernel peak'")  # fmt: skip

    fbytes, pbytes = bf.nbytes, pb.nbytes
    print(f"\n[2] weight memory, {k} × {n} ±1 matrix: float32 {fbytes:,} B, int8 {b.nbytes:,} B, "
          f"packed {pbytes:,} B -> {fbytes / pbytes:.1f}x smaller than float32, {b.nbytes / pbytes:.1f}x than int8")  # fmt: skip
    return {"speedup_numpy": t_np / t_x, "speedup_torch": t_th / t_x, "exact": exact, "memory_ratio": fbytes / pbytes}


def bench_end_to_end(args: argparse.Namespace) -> None:
    import torch
    import torch.nn.functional as F

    from stochsyn import deep
    from stochsyn.bitpack import PackedNetwork, export_run
    from stochsyn.deep.data import load_dataset

    try:
        data = load_dataset("fashion-mnist", args.data_dir)
    except (FileNotFoundError, ValueError) as exc:
        print(f"\n[3] end to end: SKIPPED, Fashion-MNIST not available: {exc}")
        return
    with tempfile.TemporaryDirectory(prefix="bench_bitpack_") as tmp:
        run = Path(args.run) if args.run else Path(tmp) / "run"
        if (run / "checkpoint.pt").is_file():
            print(f"\n[3] end to end: model from run {run}")
        else:
            n_train = min(args.train_images, len(data.x_train)) if args.train_images else len(data.x_train)
            train_data = deep.Dataset(data.name, data.x_train[:n_train], data.y_train[:n_train],
                                      data.x_test, data.y_test, data.class_names)  # fmt: skip
            print(f"\n[3] end to end: training {args.arch} on {n_train} Fashion-MNIST training images for "
                  f"{args.epochs} epoch(s), seed 0, into {run} ...", flush=True)  # fmt: skip
            t0 = time.perf_counter()
            deep.train(run, dataset="fashion-mnist", arch=args.arch, epochs=args.epochs, seed=0,
                       data=train_data, threads=args.threads,
                       calib_samples=min(10000, n_train))  # fmt: skip
            print(f"    trained in {time.perf_counter() - t0:.1f} s")
        model, cfg = deep.load_run(run)
        set_threads(args.threads)  # load_run/train may change torch's thread count
        out = Path(tmp) / "packed.npz"
        t0 = time.perf_counter()
        export_run(run, out)
        t_export = time.perf_counter() - t0
        net = PackedNetwork.load(out)
        x, y = data.x_test, data.y_test
        xt = torch.as_tensor(x).to(torch.float32) / 255.0

        def torch_scores(bs: int) -> np.ndarray:
            with torch.no_grad():
                return torch.cat([model(xt[i : i + bs]) for i in range(0, len(xt), bs)]).numpy()

        def torch_scores_from_uint8(bs: int) -> np.ndarray:
            # The same job as the packed engine: uint8 images in, scores out.
            with torch.no_grad():
                return torch.cat(
                    [model(torch.as_tensor(x[i : i + bs]).to(torch.float32) / 255.0) for i in range(0, len(x), bs)]
                ).numpy()

        spec = model.export_spec()
        mean32, std32 = torch.tensor(spec["preprocess"]["mean"]), torch.tensor(spec["preprocess"]["std"])
        plain = []
        for layer in spec["layers"]:
            bn = layer["bn"]
            plain.append((
                torch.from_numpy(layer["weight"].astype(np.float32)),
                None if layer["bias"] is None else torch.from_numpy(layer["bias"]),
                None if bn is None else ([torch.from_numpy(bn[k]) for k in ("running_mean", "running_var", "weight", "bias")], bn["eps"]),
                layer["activation"],
            ))  # fmt: skip

        def plain_scores_from_uint8(bs: int) -> np.ndarray:
            # The strongest float baseline: the contract's forward with float32 ±1 weights prepared once.
            outs = []
            with torch.no_grad():
                for i in range(0, len(x), bs):
                    h = ((torch.as_tensor(x[i : i + bs]).to(torch.float32) / 255.0 - mean32) / std32).flatten(1)
                    for w_t, b_t, bn_t, act in plain:
                        h = F.linear(h, w_t, b_t)
                        if bn_t is not None:
                            h = F.batch_norm(h, *bn_t[0], False, 0.0, bn_t[1])
                        if act == "sign":
                            h = torch.where(h >= 0, 1.0, -1.0)
                    outs.append(h)
            return torch.cat(outs).numpy()

        net.scores(x[:64])  # JIT warm-up
        torch_scores(64)
        print(f"    {cfg['arch']} ({cfg['model']}), {len(x)} test images; export {t_export:.2f} s; "
              f"weights {net.n_weights:,} bits = {net.weight_bytes:,} B packed vs {4 * net.n_weights:,} B float32 "
              f"({4 * net.n_weights / net.weight_bytes:.1f}x)")  # fmt: skip
        print("    images/s; 'torch deploy' = the model's own deploy-mode forward; 'torch plain' = the contract's")
        print("    forward with float32 ±1 weights prepared once (F.linear, F.batch_norm, sign), the strongest float baseline")
        w = [8, 14, 14, 14, 16, 16]
        print(row(["batch", "torch deploy", "torch plain", "packed", "vs deploy", "vs plain"], w))
        for bs in args.batches:
            t_t, _, _ = timed(lambda bs=bs: torch_scores_from_uint8(bs), args.repeats_e2e)
            t_f, _, _ = timed(lambda bs=bs: plain_scores_from_uint8(bs), args.repeats_e2e)
            t_p, _, _ = timed(lambda bs=bs: net.scores(x, batch_size=bs), args.repeats_e2e)
            print(row([str(bs), f"{len(x) / t_t:,.0f}", f"{len(x) / t_f:,.0f}", f"{len(x) / t_p:,.0f}",
                       f"{t_t / t_p:.2f}x faster", f"{t_f / t_p:.2f}x faster"], w))  # fmt: skip
        ref = torch_scores(1000)
        packed = net.scores(x, batch_size=1000)
        p_ref, p_pk = ref.argmax(1), packed.argmax(1)
        print(f"    predictions identical: {int((p_ref == p_pk).sum())}/{len(x)} "
              f"({'IDENTICAL' if np.array_equal(p_ref, p_pk) else 'DIFFERENT'}); "
              f"scores bit-identical: {bool(np.array_equal(ref, packed))}")  # fmt: skip
        print(f"    accuracy: torch deploy {np.mean(p_ref == y):.4f}, packed {np.mean(p_pk == y):.4f}; "
              f"torch plain == torch deploy scores: {bool(np.array_equal(plain_scores_from_uint8(1000), ref))}")  # fmt: skip
        if not np.array_equal(ref, packed):
            rows = np.flatnonzero(np.any(ref != packed, axis=1))
            print(f"    {len(rows)} test images have scores that differ; largest |difference| "
                  f"{np.abs(ref - packed).max():.3g}")  # fmt: skip
        diagnose_layers(model.export_spec(), net, x)
        print(f"    timing: min of {args.repeats_e2e} runs; both sides start from the uint8 images "
              f"(scaling, standardization included)")  # fmt: skip


def diagnose_layers(spec: dict, net, x: np.ndarray) -> None:
    """Per layer: units whose ±1 output differs between the contract's float32 forward and the packed one."""
    import torch
    import torch.nn.functional as F

    x_dep = net.prepare_input(x)
    trace = net.trace(x_dep)
    h = torch.from_numpy(x_dep)
    parts = []
    with torch.no_grad():
        for i, layer in enumerate(spec["layers"]):
            b = None if layer["bias"] is None else torch.from_numpy(layer["bias"])
            z = F.linear(h, torch.from_numpy(layer["weight"].astype(np.float32)), b)
            bn = layer["bn"]
            if bn is not None:
                stats = [torch.from_numpy(bn[k]) for k in ("running_mean", "running_var", "weight", "bias")]
                z = F.batch_norm(z, *stats, False, 0.0, bn["eps"])
            h = torch.where(z >= 0, 1.0, -1.0) if layer["activation"] == "sign" else z
            diff = int(np.sum(h.numpy() != trace["a"][i]))
            parts.append(f"layer {i}: {diff} of {h.numel():,}")
    print("    outputs differing from the float32 contract forward (units x images): " + "; ".join(parts))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--repeats-e2e", type=int, default=3)
    p.add_argument("--run", default=os.environ.get("BITPACK_RUN"))
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--train-images", type=int, default=10000, help="training subset size (0 = all 60000)")
    p.add_argument("--arch", default="mlp:784-1024-1024-10")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--batches", type=int, nargs="+", default=[10000, 1000, 100])
    p.add_argument("--skip-e2e", action="store_true")
    p.add_argument("--skip-kernel", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    set_threads(args.threads)
    import numba
    import torch

    print("stochsyn.bitpack benchmark")
    print(f"threads: numba {numba.get_num_threads()}, torch {torch.get_num_threads()} (MKL {torch.backends.mkl.is_available()}); "
          f"{blas_description()}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; "
          f"cpu count {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    if not args.skip_kernel:
        bench_kernel(args.repeats)
    if not args.skip_e2e:
        bench_end_to_end(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
