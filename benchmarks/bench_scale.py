"""The paper's solver at every size: default options from N = 1001 to N = 100,001.

Issue-12 bars, checked on instances generated here, outside the project's
generators (numpy's own Generator, packed with ``numpy.packbits`` block by block),
each run in a fresh subprocess so that its peak resident memory is its own:

* N = 10,001, alpha = 0.6: 3 of 3 solved (``Instance(x, y)``, dense int8);
* N = 30,001, alpha = 0.6: solved (dense int8);
* N = 100,001, alpha = 0.6, built with ``Instance.from_packbits``: solved, with the
  process's peak resident memory <= 2 GB including the packed instance; the goal
  is under 10 minutes on this 2-core machine.

Every run calls ``solve(inst, method="stochastic", seed=s)`` with no options.
Peak memory is ``getrusage(RUSAGE_SELF).ru_maxrss`` of the subprocess at its end.

Run: ``make bench BENCH=scale`` (about 15 minutes) or
``.venv/bin/python benchmarks/bench_scale.py [--sizes 10001,30001,100001] [--seeds 3,1,1]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import numpy as np
from stochsyn.problems import Instance
from stochsyn.solvers import solve

n, alpha, seed, packed = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
p = int(np.floor(alpha * n + 0.5))
rng = np.random.default_rng(7_000_000 + 1000 * seed + n % 1000)
t0 = time.perf_counter()
if packed:
    bits = np.empty((p, (n + 7) // 8), dtype=np.uint8)
    for r0 in range(0, p, 256):
        rows = min(256, p - r0)
        bits[r0:r0 + rows] = np.packbits(rng.integers(0, 2, size=(rows, n), dtype=np.uint8), axis=1)
    y = np.where(rng.integers(0, 2, size=p) > 0, 1, -1)
    inst = Instance.from_packbits(bits, y, n)
else:
    x = np.empty((p, n), dtype=np.int8)
    for r0 in range(0, p, 256):
        rows = min(256, p - r0)
        x[r0:r0 + rows] = 2 * rng.integers(0, 2, size=(rows, n), dtype=np.int8) - 1
    y = np.where(rng.integers(0, 2, size=p) > 0, 1, -1)
    inst = Instance(x, y)
gen = time.perf_counter() - t0

def progress(epoch, info):
    if epoch % 100 == 0:
        print(f"  epoch {epoch}: errors {info['errors']}, tau {info['tau']:.3f}", file=sys.stderr, flush=True)

res = solve(inst, method="stochastic", seed=seed, callback=progress)
print(json.dumps({"n": n, "alpha": alpha, "seed": seed, "storage": inst.storage, "solved": bool(res.solved),
                  "errors": int(res.errors), "epochs": int(res.epochs), "solve_s": res.seconds,
                  "generate_s": gen, "instance_gb": inst.nbytes / 1e9,
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10001,30001,100001")
    ap.add_argument("--seeds", default="3,1,1", help="runs per size (comma list matching --sizes)")
    ap.add_argument("--alpha", type=float, default=0.6)
    ap.add_argument("--packed-from", type=int, default=100001, help="sizes >= this use Instance.from_packbits")
    args = ap.parse_args()
    sizes = [int(v) for v in args.sizes.split(",")]
    seeds = [int(v) for v in args.seeds.split(",")]
    if len(seeds) != len(sizes):
        ap.error("--seeds needs one count per size")
    rows = []
    for n, k in zip(sizes, seeds):
        for s in range(k):
            packed = n >= args.packed_from
            print(f"N={n} alpha={args.alpha} seed={s} ({'from_packbits' if packed else 'Instance(x, y) int8'})",
                  file=sys.stderr, flush=True)
            out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(args.alpha), str(s), "1" if packed else "0"],
                                 stdout=subprocess.PIPE, check=True, text=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    print(f"\n{'N':>8} {'alpha':>6} {'seed':>4} {'storage':>7} {'solved':>6} {'epochs':>6} {'solve s':>8} "
          f"{'instance GB':>11} {'peak RSS GB':>11}")
    for r in rows:
        print(f"{r['n']:>8} {r['alpha']:>6} {r['seed']:>4} {r['storage']:>7} {str(r['solved']):>6} {r['epochs']:>6} "
              f"{r['solve_s']:>8.1f} {r['instance_gb']:>11.3f} {r['peak_rss_gb']:>11.2f}")
    for n in sizes:
        rs = [r for r in rows if r["n"] == n]
        print(f"N={n}: solved {sum(r['solved'] for r in rs)}/{len(rs)}; max peak RSS {max(r['peak_rss_gb'] for r in rs):.2f} GB")


if __name__ == "__main__":
    main()
