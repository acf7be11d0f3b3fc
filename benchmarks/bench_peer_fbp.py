"""Our focusing BP (`fbp`) against a public peer on the SAME instances.

The peer is the PyPI package ReplicatedFocusingBeliefPropagation (C++ focusing
BP by N. Curti et al.; ``hidden=1`` is the perceptron). It is a comparison,
never a dependency of stochsyn: it lives in a side virtual environment.

Create the side environment once (network access to PyPI needed):

    python3 -m venv /tmp/rfbp-venv
    /tmp/rfbp-venv/bin/pip install numpy cython scikit-build setuptools wheel
    /tmp/rfbp-venv/bin/pip install --no-build-isolation ReplicatedFocusingBeliefPropagation
    # at import it tries to download an interpolation table; an empty file skips that
    # (its default MagP64 messages do not use the table):
    SP=$(/tmp/rfbp-venv/bin/python -c "import site; print(site.getsitepackages()[0])")
    mkdir -p "$SP/data" && touch "$SP/data/atanherf_interp.max_16.step_0.0001.first_1.dat"

Then ``make bench BENCH=peer_fbp`` (or run this file; ``--help`` for options;
``RFBP_PYTHON`` or ``--peer-python`` points at another side interpreter).

What it does: writes the instances random_patterns(N, α, seed=s) to .npz files
in the work folder; runs our ``fbp`` (default options, solver seed s) and the
peer (defaults except hidden=1, nth=1, seed=s) on each file; re-checks every
returned weight vector with stochsyn's count_errors; prints both success
tables, median solve times, and α_50 (linear interpolation of the success
fraction across 1/2). Results are appended to JSON-lines files as each run
ends, so an interrupted benchmark resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from _peer import alpha_50, append_jsonl, load_jsonl  # noqa: E402  (benchmarks/ is on sys.path)
from stochsyn.problems import Instance, count_errors, random_patterns
from stochsyn.solvers import solve

DEFAULT_PEER_PYTHON = "/tmp/rfbp-venv/bin/python"

# Runs inside the side venv: numpy + the peer only, one instance per call.
PEER_RUNNER = r'''
import json, sys, time
import numpy as np
from ReplicatedFocusingBeliefPropagation import ReplicatedFocusingBeliefPropagation as RFBP
path, seed, max_iter, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with np.load(path, allow_pickle=False) as f:
    x = f["patterns"].astype(np.float64)
    y = f["labels"].astype(np.int64)
t0 = time.perf_counter()
clf = RFBP(hidden=1, nth=1, seed=seed, max_iter=max_iter)
clf.fit(x, y)
seconds = time.perf_counter() - t0
w = np.asarray(clf.weights_).ravel().astype(np.int8)
np.save(out, w, allow_pickle=False)
print(json.dumps({"seconds": seconds}))
'''


def _load_jsonl(path: Path) -> dict[tuple, dict]:
    return load_jsonl(path, lambda r: (r["n"], round(r["alpha"], 6), r["seed"]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1001)
    ap.add_argument("--alphas", default="0.5,0.55,0.6,0.65,0.7,0.75")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--workdir", default="bench-out/peer_fbp")
    ap.add_argument("--peer-python", default=os.environ.get("RFBP_PYTHON", DEFAULT_PEER_PYTHON))
    ap.add_argument("--peer-max-iter", type=int, default=1000, help="peer max_iter (its default 1000)")
    ap.add_argument("--skip-ours", action="store_true")
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--report", action="store_true", help="only print the tables from finished runs")
    args = ap.parse_args()
    alphas = [float(a) for a in args.alphas.split(",") if a.strip()]
    seeds = list(range(args.seeds))
    work = Path(args.workdir)
    (work / "instances").mkdir(parents=True, exist_ok=True)
    (work / "peer_weights").mkdir(parents=True, exist_ok=True)

    if args.report:
        args.skip_ours = args.skip_peer = True
    peer_ok = Path(args.peer_python).exists() and not args.skip_peer
    if not peer_ok and not args.skip_peer:
        print(
            f"[bench_peer_fbp] peer skipped: no side interpreter at {args.peer_python}. "
            "Create it as described at the top of benchmarks/bench_peer_fbp.py "
            "(python3 -m venv /tmp/rfbp-venv; pip install numpy cython scikit-build; "
            "pip install --no-build-isolation ReplicatedFocusingBeliefPropagation; touch the empty "
            "data/atanherf_interp.max_16.step_0.0001.first_1.dat), or set RFBP_PYTHON.",
            file=sys.stderr,
        )

    paths: dict[tuple, Path] = {}
    for a in alphas:
        for s in seeds:
            p = work / "instances" / f"n{args.n}_a{a:.4f}_s{s}.npz"
            if not p.exists():
                random_patterns(args.n, a, seed=s).save(p)
            paths[(args.n, round(a, 6), s)] = p

    ours_file, peer_file = work / "ours.jsonl", work / "peer.jsonl"
    ours, peer = _load_jsonl(ours_file), _load_jsonl(peer_file)
    runner = work / "_peer_runner.py"
    runner.write_text(PEER_RUNNER)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    todo = [(key, p) for key, p in paths.items()]
    n_tasks = (0 if args.skip_ours else len(todo)) + (len(todo) if peer_ok else 0)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), transient=False,
    ) as bar:
        task = bar.add_task("instances", total=n_tasks)
        for key, p in todo:
            n, a, s = key
            inst = Instance.load(p)
            if not args.skip_ours:
                if key not in ours:
                    bar.update(task, description=f"ours  α={a:.2f} seed={s}")
                    res = solve(inst, method="fbp", seed=s)
                    rec = {"n": n, "alpha": a, "seed": s, "solved": bool(res.solved), "errors": res.errors,
                           "epochs": res.epochs, "seconds": res.seconds}
                    append_jsonl(ours_file, rec)
                    ours[key] = rec
                bar.advance(task)
            if peer_ok:
                if key not in peer:
                    bar.update(task, description=f"peer  α={a:.2f} seed={s}")
                    wfile = work / "peer_weights" / (p.stem + ".npy")
                    proc = subprocess.run(
                        [args.peer_python, str(runner), str(p), str(s), str(args.peer_max_iter), str(wfile)],
                        capture_output=True, text=True,
                    )
                    if proc.returncode != 0:
                        print(f"[bench_peer_fbp] peer failed on {p.name}: {proc.stderr.strip()[-500:]}", file=sys.stderr)
                        rec = {"n": n, "alpha": a, "seed": s, "solved": False, "errors": None,
                               "seconds": None, "failed": True}
                    else:
                        secs = json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]
                        w = np.load(wfile, allow_pickle=False)
                        if w.shape != (inst.n,) or not np.all(np.abs(w) == 1):
                            err = None
                        else:
                            err = count_errors(inst.patterns, inst.labels, w)
                        rec = {"n": n, "alpha": a, "seed": s, "solved": err == 0, "errors": err, "seconds": secs}
                    append_jsonl(peer_file, rec)
                    peer[key] = rec
                bar.advance(task)

    def table(results: dict[tuple, dict]) -> tuple[list[str], list[float]]:
        cells, fracs = [], []
        for a in alphas:
            rs = [results.get((args.n, round(a, 6), s)) for s in seeds]
            rs = [r for r in rs if r is not None]
            if not rs:
                cells.append(f"{'—':>16}")
                fracs.append(float("nan"))
                continue
            k = sum(r["solved"] for r in rs)
            t = [r["seconds"] for r in rs if r["solved"] and r["seconds"] is not None]
            med = f"{np.median(t):6.1f}s" if t else "     —"
            cells.append(f"{k:>3}/{len(rs):<3} {med:>8}")
            fracs.append(k / len(rs))
        return cells, fracs

    print(f"\nfocusing BP on random_patterns({args.n}, α, seed=s), s = 0..{len(seeds) - 1}")
    print("cells: solved/run   median seconds of the solved runs (peer: fit() wall time)")
    header = f"{'solver':<34}" + "".join(f"{'α=' + format(a, '.2f'):>17}" for a in alphas) + f"{'α_50':>9}"
    print(header)
    print("-" * len(header))
    rows = []
    if not args.skip_ours or ours:
        rows.append(("stochsyn fbp (defaults)", ours))
    if peer_ok or peer:
        rows.append(("peer RFBP C++ (hidden=1, defaults)", peer))
    a50s = {}
    for name, res in rows:
        cells, fracs = table(res)
        a50 = alpha_50(alphas, fracs)
        a50s[name] = a50
        a50s_txt = f"{a50:9.3f}" if a50 is not None else f"{'n/a':>9}"
        print(f"{name:<34}" + "".join(f"{c:>17}" for c in cells) + a50s_txt)
    if len(a50s) == 2 and all(v is not None for v in a50s.values()):
        ours_a, peer_a = list(a50s.values())
        verdict = "meets" if ours_a >= peer_a else "DOES NOT meet"
        print(f"\nα_50: ours {ours_a:.3f} vs peer {peer_a:.3f} -> ours {verdict} the peer's α_50")
    return 0


if __name__ == "__main__":
    sys.exit(main())
