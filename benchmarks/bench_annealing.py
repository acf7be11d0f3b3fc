"""Benchmark of the simulated-annealing solver (stochsyn.solvers.annealing).

    make bench BENCH=annealing                 # or: .venv/bin/python benchmarks/bench_annealing.py [options]

1. Kernel (default, ~1 minute): sweeps per second of the Metropolis kernel with
   the active-pattern window against the same kernel forced to sum over all P
   patterns (window = +inf, the previous kernel's cost), on
   random_patterns(1001, 0.6) at three inverse temperatures (hot, near the
   freezing point, frozen), same sites and coins; the trajectories are checked
   to be identical.
2. --solve: solved fraction and seconds at N = 1001 for the loads in --alphas
   (default 0.5,0.55,0.6) on instances random_patterns(1001, α, seed=s) with
   solver seed s, s in --seeds (default 10..14: neither the tuning seeds
   100..105 nor the headline's 0..2), with the settings in --options (default:
   the N = 1001 settings of docs/solvers.md). Rows are appended to
   <--out>/anneal_n1001.csv as they finish (resumable: finished rows are skipped)
   and the table is printed at the end.

Options: --repeats R (kernel, default 3), --sweeps S (kernel sweeps per timing,
default 200), --solve, --alphas, --seeds, --options JSON, --out DIR
(default bench-out/annealing), --report (print the table of finished rows).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from stochsyn.problems import random_patterns  # noqa: E402
from stochsyn.solvers import solve  # noqa: E402
from stochsyn.solvers._anneal import anneal_sweep  # noqa: E402

N1001_OPTIONS = {"max_epochs": 30000, "kappa": 9.0, "beta0": 0.08, "beta1": 0.4, "restarts": 2}
FIELDS = ["alpha", "seed", "solved", "errors", "epochs", "runs", "seconds", "options"]


def bench_kernel(repeats: int, sweeps: int) -> None:
    inst = random_patterns(1001, 0.6, seed=7)
    n, p = inst.n, inst.p
    ct = np.ascontiguousarray((inst.patterns.astype(np.float64) * inst.labels[:, None]).T)
    kappa = N1001_OPTIONS["kappa"]
    rng = np.random.default_rng(0)
    # a configuration from a short anneal, so that the "frozen" timings see a realistic
    # stability distribution rather than a random start
    w0 = solve(inst, method="annealing", seed=0, max_epochs=3000, kappa=kappa, beta0=0.08, beta1=0.4).weights
    w0 = w0.astype(np.float64)
    sites = rng.integers(0, n, size=(sweeps, n))
    coins = rng.random((sweeps, n))
    active = np.empty(p, dtype=np.int64)
    window = kappa + 2.0 * (1.0 + 1e-9) + 1e-9
    print(f"kernel: N={n} P={p} hinge κ={kappa}, {sweeps} sweeps per timing, min of {repeats}")
    print(f"{'beta':>6} {'acceptance':>10} {'full sum sweeps/s':>18} {'window sweeps/s':>16} {'ratio':>6} identical")
    for beta in (0.08, 0.3, 2.0):
        res = {}
        for name, win in (("full", math.inf), ("window", window)):
            best = math.inf
            for _ in range(repeats):
                w = w0.copy()
                delta = ct.T @ w
                acc = tried = 0
                t0 = time.perf_counter()
                for s in range(sweeps):
                    _, _, a, t = anneal_sweep(ct, w, delta, sites[s], coins[s], beta, 1, kappa, 1.0, win, active)
                    acc += a
                    tried += t
                best = min(best, time.perf_counter() - t0)
            res[name] = (sweeps / best, w.copy(), acc / tried)
        same = np.array_equal(res["full"][1], res["window"][1])
        print(f"{beta:6.2f} {res['window'][2]:10.4f} {res['full'][0]:18.1f} {res['window'][0]:16.1f} "
              f"{res['window'][0] / res['full'][0]:6.2f} {same}")


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def bench_solve(alphas: list[float], seeds: list[int], options: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "anneal_n1001.csv"
    opt_s = json.dumps(options, sort_keys=True)
    done = {(float(r["alpha"]), int(r["seed"]), r["options"]) for r in _rows(path)}
    for a in alphas:
        for s in seeds:
            if (a, s, opt_s) in done:
                continue
            inst = random_patterns(1001, a, seed=s)
            t0 = time.perf_counter()
            r = solve(inst, method="annealing", seed=s, **options)
            row = {"alpha": a, "seed": s, "solved": int(r.solved), "errors": r.errors, "epochs": r.epochs,
                   "runs": r.info.get("runs", 1), "seconds": round(time.perf_counter() - t0, 2), "options": opt_s}
            print(f"alpha={a} seed={s}: solved={r.solved} errors={r.errors} sweeps={r.epochs} "
                  f"runs={row['runs']} {row['seconds']}s", flush=True)
            rows = _rows(path) + [row]
            tmp = path.with_suffix(".csv.tmp")
            with tmp.open("w", newline="") as f:
                wr = csv.DictWriter(f, fieldnames=FIELDS)
                wr.writeheader()
                wr.writerows(rows)
            tmp.replace(path)
    report(path)


def report(path: Path) -> None:
    rows = _rows(path)
    print(f"\nN = 1001 simulated annealing ({path}):")
    print(f"{'options':60s} {'alpha':>6} {'solved':>8} {'median s':>9} {'max s':>7} {'median sweeps':>13} errors left")
    keys = sorted({(r["options"], float(r["alpha"])) for r in rows})
    for opt, a in keys:
        rs = [r for r in rows if r["options"] == opt and float(r["alpha"]) == a]
        ok = [r for r in rs if r["solved"] == "1"]
        secs = [float(r["seconds"]) for r in ok]
        sw = [int(r["epochs"]) for r in ok]
        left = ",".join(r["errors"] for r in rs if r["solved"] != "1") or "-"
        med = f"{np.median(secs):9.1f} {max(secs):7.1f} {int(np.median(sw)):13d}" if ok else f"{'-':>9} {'-':>7} {'-':>13}"
        print(f"{opt:60s} {a:6.2f} {len(ok):>3d}/{len(rs):<4d} {med} {left}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sweeps", type=int, default=200)
    ap.add_argument("--solve", action="store_true")
    ap.add_argument("--alphas", type=lambda s: [float(x) for x in s.split(",")], default=[0.5, 0.55, 0.6])
    ap.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=list(range(10, 15)))
    ap.add_argument("--options", type=json.loads, default=N1001_OPTIONS)
    ap.add_argument("--out", type=Path, default=Path("bench-out/annealing"))
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args(argv)
    if args.report:
        report(args.out / "anneal_n1001.csv")
        return 0
    if args.solve:
        bench_solve(args.alphas, args.seeds, args.options, args.out)
    else:
        bench_kernel(args.repeats, args.sweeps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
