"""Sweep runner benchmark: one grid run in-process, on a local process pool and on a Dask
LocalCluster; wall time, throughput and speed-up against the in-process run (same run),
and whether the three databases hold the same rows bit for bit (weights hashes included).

    make bench BENCH=sweeps
    .venv/bin/python benchmarks/bench_sweeps.py --n 1001 --alpha 0.5,0.6 --seeds 3 --workers 3

Also measures the result store alone: committed single-row transactions per second
(WAL, synchronous=FULL) against the same inserts into an in-memory database.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

VOLATILE = ("seconds", "host", "pid", "finished_at")


def _stable(rows):
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]


def _store_bench(tmp: Path, n_rows: int) -> tuple[float, float]:
    from stochsyn.experiments.grid import Trial, solver_seed
    from stochsyn.experiments.store import ResultStore

    def row(i):
        t = Trial("x", "{}", "random", 101, 0.5, i)
        return {"key": t.key, "solver": "x", "options": "{}", "problem": "random", "n": 101, "alpha": 0.5,
                "p": 51, "seed": i, "solver_seed": solver_seed(i), "solved": 1, "errors": 0, "epochs": 1,
                "seconds": 0.1, "weights_sha256": "0" * 64, "version": "bench", "solver_code": "", "host": "h", "pid": 0}

    rows = [row(i) for i in range(n_rows)]
    with ResultStore(tmp / "store.db") as s:
        t0 = time.perf_counter()
        for r in rows:
            s.add(r)
        disk = n_rows / (time.perf_counter() - t0)
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (key TEXT PRIMARY KEY, v TEXT)")
    t0 = time.perf_counter()
    for r in rows:
        con.execute("INSERT OR IGNORE INTO t VALUES (?, ?)", (r["key"], str(r)))
        con.commit()
    mem = n_rows / (time.perf_counter() - t0)
    return disk, mem


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--solvers", default="stochastic", help="comma-separated solvers (default stochastic)")
    ap.add_argument("--n", default="201", help="N values (default 201)")
    ap.add_argument("--alpha", default="0.3,0.4,0.5", help="loads (default 0.3,0.4,0.5)")
    ap.add_argument("--seeds", default="8", help="seeds (default 8)")
    ap.add_argument("--workers", type=int, default=2, help="pool size and Dask workers (default 2)")
    ap.add_argument("--store-rows", type=int, default=300, help="rows for the store benchmark (default 300)")
    args = ap.parse_args()

    from stochsyn.experiments import ResultStore, build_grid, run_sweep

    grid = build_grid(solvers=args.solvers, n=args.n, alpha=args.alpha, seeds=args.seeds)
    k = args.workers
    print(f"grid: {grid.describe()}")
    results = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name, sched, workers in (("serial (in-process)", "serial", None),
                                     (f"process pool, {k} workers", "processes", k),
                                     (f"Dask LocalCluster, {k} workers", f"local:{k}", None)):
            with ResultStore(tmp / f"{len(results)}.db") as store:
                t0 = time.perf_counter()
                s = run_sweep(grid, store, scheduler=sched, workers=workers)
                wall = time.perf_counter() - t0
                rows = store.rows()
            results[name] = (wall, s, rows)
        disk, mem = _store_bench(tmp, args.store_rows)

    base_wall, _, base_rows = results["serial (in-process)"]
    pool_rows = results[f"process pool, {k} workers"][2]
    solver_s = sum(r["seconds"] for r in base_rows)
    print()
    print(f"{'runner':34s} {'wall s':>8s} {'trials/s':>9s} {'speed-up vs serial':>19s} {'solved':>7s} {'rows == serial':>15s} {'rows == pool':>13s}")
    for name, (wall, s, rows) in results.items():
        same = _stable(rows) == _stable(base_rows)
        same_pool = _stable(rows) == _stable(pool_rows)
        print(f"{name:34s} {wall:8.2f} {s.completed / wall:9.2f} {base_wall / wall:19.2f} "
              f"{s.solved:4d}/{s.completed:<3d} {'yes' if same else 'NO':>14s} {'yes' if same_pool else 'NO':>13s}")
    print(f"(sum of solver seconds in the serial run: {solver_s:.2f} s; wall includes process/cluster start-up)")
    print()
    print(f"result store: {disk:8.0f} committed rows/s on disk (WAL, synchronous=FULL), "
          f"{mem:8.0f} rows/s in-memory SQLite; ratio {disk / mem:.3f}")


if __name__ == "__main__":
    main()
