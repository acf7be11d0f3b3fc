"""Cost of one full-batch epoch of the stochastic solver vs two bare BLAS products.

Issue bar: at N = 10001, alpha = 0.7 (P = 7001), one epoch of
``solve(method="stochastic")`` must cost at most 1.5x two BLAS matrix-vector
products over the same pattern matrix, measured in the same run.

The epoch time is taken between successive callbacks of a real solver run (so it
includes everything the solver does per epoch: the fused product for the means
and the sign(m) check, the loss and gradient kernel, the optimizer step). The
reference is X @ v followed by X.T @ g on the same float32 (P, N) matrix, with
the same BLAS threads. Medians over the repetitions are compared.

Run: ``make bench BENCH=core`` or ``.venv/bin/python benchmarks/bench_core.py [--n N] [--epochs K]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_info

from stochsyn.problems import random_patterns
from stochsyn.solvers import solve


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10001)
    ap.add_argument("--alpha", type=float, default=0.7)
    ap.add_argument("--epochs", type=int, default=40)
    args = ap.parse_args()

    inst = random_patterns(args.n, args.alpha, seed=0)
    stamps: list[float] = []

    def cb(epoch, info):
        stamps.append(time.perf_counter())

    res = solve(inst, method="stochastic", seed=0, max_epochs=args.epochs, callback=cb, history=False)
    epoch_times = np.diff(stamps)  # each difference spans exactly one epoch of work

    x = np.multiply(inst.patterns, inst.labels[:, None], dtype=np.float32)
    rng = np.random.default_rng(1)
    v = np.tanh(rng.normal(size=inst.n)).astype(np.float32)
    g = rng.random(inst.p).astype(np.float32)
    ref = []
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        a = x @ v
        b = x.T @ g
        ref.append(time.perf_counter() - t0)
    assert np.isfinite(a).all() and np.isfinite(b).all()

    blas = [(i["internal_api"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]
    epoch_med = float(np.median(epoch_times))
    ref_med = float(np.median(ref))
    ratio = epoch_med / ref_med
    print(f"instance: N={inst.n} P={inst.p} float32 pattern matrix {x.nbytes / 2**20:.0f} MiB; BLAS {blas}")
    print(f"solver ran {res.epochs} epochs (solved={res.solved}); timed {epoch_times.size} epoch intervals")
    print(f"{'quantity':<40}{'median ms':>12}")
    print(f"{'one full-batch epoch (solver)':<40}{epoch_med * 1e3:>12.2f}")
    print(f"{'two BLAS mat-vec products (reference)':<40}{ref_med * 1e3:>12.2f}")
    print(f"ratio epoch / reference = {ratio:.3f}   (bar: <= 1.5)  {'PASS' if ratio <= 1.5 else 'FAIL'}")


if __name__ == "__main__":
    main()
