"""Cost of the q-state Max-Sum factor update against N and q: the N log N law.

Issue-15 bar: the factor-to-variable update of :mod:`stochsyn.solvers.maxsum` costs
O(N q log(N q)) per factor (one sort of the N(q − 1) step costs of the concave
cavity functions, then O(q) work per outgoing message), not the O(N² q²) of a
direct max-convolution. This benchmark times the update itself
(:func:`stochsyn.solvers.maxsum.maxsum_messages` on ``--factors`` factors with
random concave cavity functions) for N from 500 to 32000 and q = 2, 3, 5, 7, and a
whole solver sweep (``solve(..., method="maxsum", levels=q)``, callback to callback)
at α = 0.5 for N = 501…2001.

Reading the table: ``us/factor`` is the update time per factor, and
``ns/(Nq·log2 Nq)`` that time divided by the predicted law; flat along N means the
law holds (an N² algorithm would double it with every doubling of N). The fitted
exponent ν of time ∝ N^ν at fixed q is printed per q over N ≥ 2000 (below that a
factor's arrays stay in L1/L2 and run faster): N log N over this range reads as
ν ≈ 1.1; N² would read 2. Along q at fixed N the step bookkeeping adds an
O(N q²) term beside the O(N q log Nq) sort, visible at q = 7.

The machine is shared: every round times each (N, q) once in an interleaved order,
and each cell keeps its best round (at least 3 rounds, default 5). The update runs on one
thread, so the times measure work per factor; the whole sweeps use the default threads.

Run: ``make bench BENCH=maxsum`` or ``.venv/bin/python benchmarks/bench_maxsum.py [--rounds R] [--factors P]``.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from stochsyn.problems import random_patterns
from stochsyn.solvers import solve
from stochsyn.solvers.maxsum import maxsum_messages
from stochsyn.synapses import levels_for


def concave_cavities(p: int, n: int, lv: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random concave cavity functions h(w) = a w − b w² (b ≥ 0) plus tiny noise, (P, N, q)."""
    a = rng.normal(0.0, 3.0, size=(p, n, 1))
    b = rng.exponential(1.0, size=(p, n, 1))
    w = lv.astype(np.float64)[None, None, :]
    return a * w - b * w * w


def time_update(s: np.ndarray, hc: np.ndarray, kappa: int, levels: int) -> float:
    t0 = time.perf_counter()
    maxsum_messages(s, hc, kappa, levels=levels)
    return time.perf_counter() - t0


def solver_sweeps(n: int, alpha: float, q: int, sweeps: int) -> float:
    """Median seconds per sweep of a real maxsum run (between successive callbacks)."""
    stamps: list[float] = []

    def cb(epoch, info):
        stamps.append(time.perf_counter())

    solve(random_patterns(n, alpha, seed=1), method="maxsum", levels=q, seed=1, max_epochs=sweeps,
          callback=cb, patience=0)
    return float(np.median(np.diff(stamps)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--factors", type=int, default=32)
    args = ap.parse_args()
    rounds = max(3, args.rounds)
    ns = [500, 1000, 2000, 4000, 8000, 16000, 32000]
    qs = [2, 3, 5, 7]
    rng = np.random.default_rng(0)
    cases = {}
    for n in ns:
        s = rng.choice(np.array([-1, 1], dtype=np.int8), size=(args.factors, n))
        for q in qs:
            lv = levels_for(q)
            kappa = max(1, int(round(0.35 * np.sqrt(n))))
            if q == 2 and kappa % 2 == 0:
                kappa += 1
            cases[(n, q)] = (s, concave_cavities(args.factors, n, lv, rng), kappa)
    # compile once
    s0, h0, k0 = cases[(ns[0], 2)]
    maxsum_messages(s0[:2], h0[:2], k0, levels=2)
    for q in qs[1:]:
        maxsum_messages(cases[(ns[0], q)][0][:2], cases[(ns[0], q)][1][:2], cases[(ns[0], q)][2], levels=q)

    best = {key: np.inf for key in cases}
    keys = list(cases)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # the law is about the work per factor: one thread, no scheduling noise
    try:
        for r in range(rounds):
            order = keys if r % 2 == 0 else keys[::-1]
            for key in order:
                s, hc, kappa = cases[key]
                best[key] = min(best[key], time_update(s, hc, kappa, key[1]))
    finally:
        numba.set_num_threads(threads)

    print(f"Max-Sum factor update, one thread, {args.factors} factors per call, best of {rounds} interleaved rounds")
    print(f"{'N':>6} {'q':>2} {'us/factor':>10} {'ns/(Nq*log2 Nq)':>16}")
    for n in ns:
        for q in qs:
            t = best[(n, q)] / args.factors
            law = n * q * np.log2(n * q)
            print(f"{n:>6} {q:>2} {1e6 * t:>10.1f} {1e9 * t / law:>16.3f}")
    big = [n for n in ns if n >= 2000]  # below, a factor's arrays stay in L1/L2 and run faster
    for q in qs:
        t = np.array([best[(n, q)] for n in big]) / args.factors  # per factor, as in the table
        nu = np.polyfit(np.log(big), np.log(t), 1)[0]
        norm = t / np.array([n * q * np.log2(n * q) for n in big])
        print(f"q={q}: time ∝ N^{nu:.2f} over N = {big[0]}…{big[-1]} (N log N: "
              f"{np.polyfit(np.log(big), np.log([n * np.log(n * q) for n in big]), 1)[0]:.2f}, N²: 2); "
              f"time/(Nq log2 Nq) from {1e9 * norm.min():.2f} to {1e9 * norm.max():.2f} ns")
    for q in qs:
        tq = np.array([best[(n, q)] for n in ns]) / np.array([best[(n, 2)] for n in ns])
        pred = np.array([q * np.log2(n * q) / (2 * np.log2(2 * n)) for n in ns])
        print(f"q={q} vs q=2 at equal N: measured ratio {tq.mean():.2f} (N log N law predicts {pred.mean():.2f})")

    print("\nWhole maxsum sweeps (P = 0.5 N factors, update + cavities + reinforcement):")
    print(f"{'N':>6} {'q':>2} {'ms/sweep':>9} {'us/factor':>10}")
    for n in (501, 1001, 2001):
        for q in (2, 3, 5):
            t = solver_sweeps(n, 0.5, q, 12)
            print(f"{n:>6} {q:>2} {1e3 * t:>9.1f} {1e6 * t / (n // 2):>10.1f}")


if __name__ == "__main__":
    main()
