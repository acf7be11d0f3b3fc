"""Benchmark of the geometry measurements (run by `make bench BENCH=geometry`).

Ratios are against references measured in the same run:
  * exact enumeration (numba, table of low-bit stabilities + early exit) against a
    straightforward numpy brute force over all 2^N configurations in chunks;
  * one BP sweep with exact (Poisson-binomial) factor messages against one with
    Gaussian factor messages, and the Gaussian sweep at N=1001, α=0.6.
"""

from __future__ import annotations

import time

import numpy as np

from stochsyn.geometry import local_entropy_bp, local_entropy_exact
from stochsyn.problems import random_patterns


def numpy_brute_force(inst, ref):
    n = inst.n
    a = (inst.labels[:, None] * inst.patterns).astype(np.int16).T  # (N, P)
    counts = np.zeros(n + 1, dtype=np.int64)
    chunk = 1 << 16
    shifts = np.arange(n, dtype=np.int64)
    ref_code = int(sum(1 << i for i in np.flatnonzero(ref > 0)))
    for start in range(0, 1 << n, chunk):
        codes = np.arange(start, min(start + chunk, 1 << n), dtype=np.int64)
        w = (((codes[:, None] >> shifts) & 1) * 2 - 1).astype(np.int16)
        ok = np.all(w @ a > 0, axis=1)
        x = codes[ok] ^ ref_code
        dist = ((x[:, None] >> shifts) & 1).sum(axis=1)
        counts += np.bincount(dist, minlength=n + 1)
    return counts


def best_of(fn, repeat=3):
    best = np.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    rows = []
    for n in (18, 21):
        inst = random_patterns(n, 0.5, seed=1)
        ref = np.ones(n, dtype=np.int8)
        local_entropy_exact(inst, ref)  # compile (cached on disk after the first run)
        t_fast, c_fast = best_of(lambda inst=inst, ref=ref: local_entropy_exact(inst, ref))
        t_ref, c_ref = best_of(lambda inst=inst, ref=ref: numpy_brute_force(inst, ref), repeat=1)
        assert np.array_equal(c_fast, c_ref), "enumeration disagrees with brute force"
        rows.append((f"exact counts N={n} P={inst.p}", t_fast, f"numpy brute force {t_ref:.3f} s", t_ref / t_fast))
    inst = random_patterns(25, 0.5, seed=1)
    t25, _ = best_of(lambda: local_entropy_exact(inst, np.ones(25, dtype=np.int8)))
    rows.append(("exact counts N=25 P=13 (2^25 configs)", t25, "-", float("nan")))

    inst = random_patterns(21, 0.5, seed=1)
    ref = np.ones(21, dtype=np.int8)
    lam = [1.0]
    local_entropy_bp(inst, ref, lam, factor="exact", max_iter=2)
    kw = dict(max_iter=200, tol=1e-300)  # fixed sweep count: never converges at tol=1e-300
    t_ex, _ = best_of(lambda: local_entropy_bp(inst, ref, lam, factor="exact", **kw))
    t_g, _ = best_of(lambda: local_entropy_bp(inst, ref, lam, factor="gaussian", **kw))
    rows.append(("BP sweep N=21, exact factors", t_ex / 200, f"gaussian {t_g / 200 * 1e3:.3f} ms", t_g / t_ex))
    inst = random_patterns(1001, 0.6, seed=1)
    ref = np.ones(1001, dtype=np.int8)
    t_big, _ = best_of(lambda: local_entropy_bp(inst, ref, [0.5], factor="gaussian", max_iter=20, tol=1e-300), 2)
    rows.append(("BP sweep N=1001 P=601, gaussian", t_big / 20, "-", float("nan")))

    print(f"{'measurement':44s} {'seconds':>10s}   {'reference':28s} {'speed-up':>8s}")
    for name, t, refdesc, ratio in rows:
        print(f"{name:44s} {t:10.5f}   {refdesc:28s} {ratio:8.1f}")


if __name__ == "__main__":
    main()
