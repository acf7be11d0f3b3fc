"""Committee machines: our solvers against the public C++ focusing BP with ``hidden=K``, same instances.

The peer is the PyPI package ReplicatedFocusingBeliefPropagation (C++ focusing BP by
N. Curti et al.), whose ``hidden=K`` trains a fully connected committee machine of K
binary perceptrons. It lives in a side virtual environment, never a dependency of
stochsyn; create it as described in benchmarks/bench_peer_fbp.py (``RFBP_PYTHON`` or
``--peer-python`` point at another interpreter).

For each (K, α, seed) the instance ``committee_patterns(N, K, α, seed=1000·K + s)``
(load per synapse α = P/(K·N)) is written to an .npz file; our solvers (default options,
solver seed s) and the peer (defaults except hidden=K, nth=1, seed=s) run on it, and
every returned (K, N) weight array is re-checked with
:meth:`stochsyn.committee.CommitteeInstance.errors` (exact integers). Reported per
solver: the success table, median seconds of the solved runs, α_50 with its 95%
interval (the sweep report's estimator: isotonic fit of the success curve crossed at
1/2, Jeffreys draws; "> a"/"< a" when the curve does not cross inside the loads), and
the duplicate hidden-unit pairs (|W_k·W_l|/N > 0.9): their number over all runs and
the runs with at least one. Results go to JSON-lines files as each run ends,
so an interrupted benchmark resumes where it stopped. Several processes may share one
work folder and seed range: each claims a cell before running it (a claim file under
``claims/``, taken over when its process has died) and rereads the results first, so no
cell runs twice.

    python benchmarks/bench_peer_committee.py --k 3,5 --alphas '3=0.5,0.55,0.6,0.65;5=0.35,0.4,0.45,0.5' --seeds 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from _peer import CellClaim, append_jsonl, load_jsonl  # noqa: E402  (benchmarks/ is on sys.path)
from stochsyn.committee import CommitteeInstance, committee_patterns
from stochsyn.experiments.report import alpha_50, alpha_50_interval
from stochsyn.solvers import solve

DEFAULT_PEER_PYTHON = "/tmp/rfbp-venv/bin/python"

PEER_RUNNER = r'''
import json, sys, time
import numpy as np
from ReplicatedFocusingBeliefPropagation import ReplicatedFocusingBeliefPropagation as RFBP
path, k, seed, max_iter, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
with np.load(path, allow_pickle=False) as f:
    x = f["patterns"].astype(np.float64)
    y = f["labels"].astype(np.int64)
t0 = time.perf_counter()
clf = RFBP(hidden=k, nth=1, seed=seed, max_iter=max_iter)
clf.fit(x, y)
seconds = time.perf_counter() - t0
np.save(out, np.asarray(clf.weights_).astype(np.int8), allow_pickle=False)
print(json.dumps({"seconds": seconds}))
'''


def _load(path: Path) -> dict[tuple, dict]:
    return load_jsonl(path, lambda r: (r["solver"], r["k"], round(r["alpha"], 6), r["seed"]))


def _alphas_per_k(spec: str, ks: list[int]) -> dict[int, list[float]]:
    """'0.5,0.6' (every K) or '3=0.5,0.6;5=0.35,0.45' (per K) → {K: loads}."""
    if "=" not in spec:
        return {k: [float(a) for a in spec.split(",")] for k in ks}
    per = {int(k): [float(a) for a in v.split(",")] for k, v in (g.split("=") for g in spec.split(";") if g)}
    missing = [k for k in ks if k not in per]
    if missing:
        raise SystemExit(f"--alphas names no loads for K = {missing}")
    return per


def _run_cell(args: argparse.Namespace, name: str, k: int, a: float, s: int, path: Path,
              inst: CommitteeInstance, runner: Path, work: Path) -> dict | None:
    """Run one (solver, K, α, seed) cell and return its record (None: the peer crashed)."""
    if name == "peer":
        wfile = work / "peer_weights" / (path.stem + ".npy")
        proc = subprocess.run([args.peer_python, str(runner), str(path), str(k), str(s),
                               str(args.peer_max_iter), str(wfile)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"[bench_peer_committee] peer failed on {path.name}: {proc.stderr[-300:]}", file=sys.stderr)
            return None
        secs = json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]
        w = np.load(wfile, allow_pickle=False)
        ok_shape = w.shape == (k, inst.n) and np.all(np.abs(w) == 1)
        err = inst.errors(w) if ok_shape else None
        dup = inst.duplicate_pairs(w) if ok_shape else None
    else:
        res = solve(inst, method=name, seed=s)
        secs, err, dup = res.seconds, res.errors, res.info["duplicate_pairs"]
    return {"solver": name, "k": k, "n": inst.n, "alpha": a, "seed": s, "solved": err == 0,
            "errors": err, "seconds": secs, "duplicate_pairs": dup}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1001, help="inputs N (odd)")
    ap.add_argument("--k", default="3,5", help="hidden units, comma-separated")
    ap.add_argument("--alphas", default="0.5,0.55,0.6,0.65",
                    help="loads per synapse, comma-separated; per K as '3=0.5,0.6;5=0.35,0.45'")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="run seeds FIRST … --seeds − 1 only (processes may also share a range: cells are claimed)")
    ap.add_argument("--solvers", default="stochastic,fbp,rbp,maxsum,lal", help="our committee solvers")
    ap.add_argument("--workdir", default="bench-out/peer_committee")
    ap.add_argument("--peer-python", default=os.environ.get("RFBP_PYTHON", DEFAULT_PEER_PYTHON))
    ap.add_argument("--peer-max-iter", type=int, default=1000)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--report", action="store_true", help="only print the tables from finished runs")
    args = ap.parse_args()
    ks = [int(v) for v in args.k.split(",")]
    alphas_of = _alphas_per_k(args.alphas, ks)
    seeds = list(range(args.seeds))
    ours = [s for s in args.solvers.split(",") if s]
    work = Path(args.workdir)
    (work / "instances").mkdir(parents=True, exist_ok=True)
    (work / "peer_weights").mkdir(parents=True, exist_ok=True)
    out = work / "results.jsonl"
    done = _load(out)
    peer_ok = not (args.skip_peer or args.report) and Path(args.peer_python).exists()
    if not peer_ok and not (args.skip_peer or args.report):
        print(f"[bench_peer_committee] peer skipped: no side interpreter at {args.peer_python} "
              "(see benchmarks/bench_peer_fbp.py for its set-up)", file=sys.stderr)
    runner = work / "_peer_runner.py"
    runner.write_text(PEER_RUNNER)
    names = ours + (["peer"] if peer_ok or any(k[0] == "peer" for k in done) else [])
    if not args.report:
        # seeds outermost: an interrupted run leaves every (K, α) cell with about as many seeds
        for s, k, a in ((s, k, a) for s in seeds[args.first_seed:] for k in ks for a in alphas_of[k]):
            path = work / "instances" / f"k{k}_n{args.n}_a{a:.4f}_s{s}.npz"
            if not path.exists():
                committee_patterns(args.n, k, a, seed=1000 * k + s).save(path)
            inst = CommitteeInstance.load(path)
            for name in ours + (["peer"] if peer_ok else []):
                key = (name, k, round(a, 6), s)
                if key in done:
                    continue
                with CellClaim(work / "claims", f"{name}_k{k}_a{a:.4f}_s{s}") as mine:
                    done.update(_load(out))  # another process sharing the file may have finished it
                    if not mine or key in done:
                        continue
                    rec = _run_cell(args, name, k, a, s, path, inst, runner, work)
                if rec is None:
                    continue
                append_jsonl(out, rec)
                done[key] = rec
                print(json.dumps(rec), flush=True)
    for k in ks:
        alphas = sorted(alphas_of[k])  # runs follow the order given, the table the loads
        print(f"\nK = {k}, N = {args.n}, fully connected, α = P/(K·N); cells: solved/run, median s of solved runs")
        header = f"{'solver':<12}" + "".join(f"{'α=' + format(a, '.3g'):>16}" for a in alphas) + f"{'α_50 [95%]':>24}{'dup pairs':>11}{'runs w/ dup':>13}"
        print(header)
        for name in names:
            cells, counts, dups, dup_runs, runs = [], [], 0, 0, 0
            for a in alphas:
                rs = [done.get((name, k, round(a, 6), s)) for s in seeds]
                rs = [r for r in rs if r is not None]
                if not rs:
                    cells.append(f"{'—':>16}")
                    continue
                solved = [r for r in rs if r["solved"]]
                med = f"{np.median([r['seconds'] for r in solved]):.1f}s" if solved else "—"
                cells.append(f"{len(solved):>3}/{len(rs):<3}{med:>9}")
                counts.append((a, len(solved), len(rs)))
                dups += sum(r["duplicate_pairs"] or 0 for r in rs)
                dup_runs += sum(bool(r["duplicate_pairs"]) for r in rs)
                runs += len(rs)
            a50 = "n/a"
            if counts:
                args_ = [list(v) for v in zip(*counts)]
                lo, hi = alpha_50_interval(*args_)
                a50 = f"{alpha_50(*args_)} [{lo:.3f}, {hi:.3f}]"
            print(f"{name:<12}" + "".join(f"{c:>16}" for c in cells) + f"{a50:>24}"
                  + f"{dups:>11}{f'{dup_runs}/{runs}':>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
