"""Cost of one full-batch epoch of the stochastic solver vs two float32 BLAS mat-vecs.

Issue-12 bar: at N = 10001, alpha = 0.7 (P = 7001), one epoch of
``solve(Instance(x, y), method="stochastic")`` (a dense int8 instance, default
options) must cost at most 0.5x two float32 BLAS matrix-vector products (X·v
and Xᵀ·g) over the same pattern matrix, measured in the same run.

The epoch time is taken between successive callbacks of a real solver run, so it
includes everything the solver does per epoch: the packed product for the means
together with the exact stabilities of sign(m), the CLT loss and gradient
coefficients, the transposed packed product and the Adam step. The reference is
X @ v followed by X.T @ g on the float32 (P, N) matrix with the labels folded in,
with the library's default BLAS threads.

These machines are shared and noisy, so the two timings are interleaved: each
round times a block of solver epochs, then a block of reference products, and
the ratio uses the best (smallest) per-round median of each, over ``--rounds``
rounds (at least 5). A busy moment slows whichever block it hits; it cannot make
the ratio look better than the quiet-machine value.

Run: ``make bench BENCH=core`` or ``.venv/bin/python benchmarks/bench_core.py [--n N] [--alpha A] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_info

from stochsyn.problems import Instance
from stochsyn.solvers import solve


def solver_epochs(inst: Instance, epochs: int, seed: int) -> np.ndarray:
    """Durations of ``epochs - 1`` consecutive epochs of a real run (callback to callback)."""
    stamps: list[float] = []

    def cb(epoch, info):
        stamps.append(time.perf_counter())

    solve(inst, method="stochastic", seed=seed, max_epochs=epochs, callback=cb, history=False)
    return np.diff(stamps)


def blas_pairs(x: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    v = np.tanh(rng.normal(size=x.shape[1])).astype(np.float32)
    g = rng.random(x.shape[0]).astype(np.float32)
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a = x @ v
        b = x.T @ g
        out.append(time.perf_counter() - t0)
    assert np.isfinite(a).all() and np.isfinite(b).all()
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10001)
    ap.add_argument("--alpha", type=float, default=0.7)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=30, help="epochs (and reference pairs) timed per round")
    args = ap.parse_args()
    if args.rounds < 5:
        ap.error("--rounds must be at least 5")

    # an instance generated outside the project, as a user would bring it
    rng = np.random.default_rng(20261201)
    p = int(np.floor(args.alpha * args.n + 0.5))
    x8 = np.where(rng.random((p, args.n), dtype=np.float32) < 0.5, -1, 1).astype(np.int8)
    y = np.where(rng.random(p) < 0.5, -1, 1).astype(np.int8)
    inst = Instance(x8, y)
    xf = x8.astype(np.float32) * y[:, None].astype(np.float32)

    solver_epochs(inst, 5, seed=0)  # compile the kernels and pack the instance once
    blas_pairs(xf, 3, rng)
    solver_med, ref_med = [], []
    for r in range(args.rounds):
        solver_med.append(float(np.median(solver_epochs(inst, args.epochs + 1, seed=r))))
        ref_med.append(float(np.median(blas_pairs(xf, args.epochs, rng))))
    best_epoch, best_ref = min(solver_med), min(ref_med)
    ratio = best_epoch / best_ref

    blas = [(i["internal_api"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]
    print(f"instance: N={inst.n} P={inst.p}; packed patterns {inst.bits.nbytes / 2**20:.1f} MiB, "
          f"float32 reference matrix {xf.nbytes / 2**20:.0f} MiB; BLAS {blas}")
    print(f"{args.rounds} interleaved rounds of {args.epochs} epochs / {args.epochs} reference pairs")
    print(f"{'round':>6}{'epoch median ms':>18}{'2 mat-vecs median ms':>24}")
    for r, (a, b) in enumerate(zip(solver_med, ref_med)):
        print(f"{r:>6}{a * 1e3:>18.2f}{b * 1e3:>24.2f}")
    print(f"best of rounds: epoch {best_epoch * 1e3:.2f} ms, reference {best_ref * 1e3:.2f} ms")
    print(f"ratio epoch / reference = {ratio:.3f}   (bar: <= 0.5)  {'PASS' if ratio <= 0.5 else 'FAIL'}")


if __name__ == "__main__":
    main()
