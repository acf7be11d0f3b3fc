"""Headline measurements of the geometry of solutions (issue 5).

Parts (each writes <out>/<part>.json and .csv as it goes, and prints a table):

  large    N=1001, α=0.6: BP local entropy S(d) at d = 0.005, 0.01, 0.02 and flip
           robustness around solutions of stochastic GD, annealing and BP-family solvers.
  small    N=21, α=0.5, ≥20 instances: exact counts 𝒩(k) at k = 1, 2, 3 and flip
           robustness, solver solutions vs uniformly sampled (typical) solutions; plus
           the deviation of BP (exact and Gaussian factors) from exact enumeration.
  teacher  teacher–student α ∈ {0.5, 1.0, 1.5}: generalization error of the solvers'
           solutions vs the Gibbs-learning prediction (stochsyn.theory when present),
           at large N and at N=21 (where 'typical' is exact Gibbs learning).

Usage:
  .venv/bin/python scripts/geometry_headline.py --part all --out results/geometry
  .venv/bin/python scripts/geometry_headline.py --part small --instances 20
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from stochsyn.geometry import (
    flip_robustness,
    free_entropy_from_counts,
    generalization_error,
    local_entropy_bp,
    local_entropy_exact,
    sample_typical_solutions,
)
from stochsyn.geometry.figures import records_to_csv
from stochsyn.problems import atomic_savez, random_patterns, teacher_student  # noqa: F401
from stochsyn.solvers import available, solve

err = Console(stderr=True)
out_console = Console()

WANTED = ["stochastic", "annealing", "rbp", "fbp", "maxsum", "sbpi", "cpr", "cp"]
D_LARGE = (0.005, 0.01, 0.02)
MAX_GAP = 0.02


def large_annealing_options(n: int) -> dict[str, Any]:
    """Annealing settings for part 'large' (tuned at N = 1001, α = 0.6 on seeds 100–105, see
    docs/solvers.md): hinge margin κ ≈ 0.28 √N (9 at N = 1001), β from 0.08 to 0.4 over
    30 000 sweeps, up to two restarts. The registry defaults freeze with tens of errors there."""
    return {"max_epochs": 30000, "kappa": float(max(1, round(0.28 * math.sqrt(n)))), "beta0": 0.08, "beta1": 0.4,
            "restarts": 2}


def _write(out: Path, part: str, summary: dict[str, Any], records: list[dict[str, Any]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{part}.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1, default=float))
    tmp.replace(out / f"{part}.json")
    tmp = out / f".{part}.csv.tmp"
    tmp.write_text(records_to_csv(records))
    tmp.replace(out / f"{part}.csv")


def _mean_sem(x: list[float]) -> tuple[float, float, int]:
    a = np.asarray([v for v in x if v is not None and np.isfinite(v)], dtype=np.float64)
    if a.size == 0:
        return math.nan, math.nan, 0
    return float(a.mean()), float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else 0.0, int(a.size)


def _solvers(requested: list[str] | None) -> tuple[list[str], list[str]]:
    names = available()
    want = requested or WANTED
    return [s for s in want if s in names], [s for s in want if s not in names]


def part_large(args: argparse.Namespace) -> dict[str, Any]:
    n, alpha = args.n_large, 0.6
    lambdas = np.round(np.arange(4.0, 0.5 - 1e-9, -args.lambda_step), 6)
    solvers, missing = _solvers(args.solvers)
    records: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"n": n, "alpha": alpha, "solvers": solvers, "missing_solvers": missing,
                               "instances": args.instances_large, "lambdas": lambdas.tolist()}
    fr = [0.005, 0.01, 0.02, 0.05]
    options = {"annealing": large_annealing_options(n)}
    options.update(args.solver_options)
    summary["solver_options"] = options
    # Besides random labels: teacher-student instances at the same α, where the planted
    # teacher is distributed exactly like a uniformly drawn solution (Nishimori/planting),
    # i.e. a typical solution that can be had at N = 1001.
    jobs = [("random", s) for s in solvers] + [("planted", s) for s in ["teacher"] + args.planted_solvers]
    for i in range(args.instances_large):
        insts = {"random": random_patterns(n, alpha, seed=i), "planted": teacher_student(n, alpha, seed=i)}
        for ens, s in jobs:
            inst = insts[ens]
            err.print(f"[large] instance {i} {ens} {s} …")
            t0 = time.perf_counter()
            if s == "teacher":
                w, solved, errors, secs = inst.teacher, True, 0, 0.0
            else:
                res = solve(inst, method=s, seed=i, **options.get(s, {}))
                w, solved, errors, secs = res.weights, res.solved, res.errors, res.seconds
                epochs = res.epochs
            rec: dict[str, Any] = {"instance": i, "ensemble": ens, "source": f"{s} ({ens})", "solved": solved,
                                   "errors": errors, "solve_seconds": secs,
                                   "solve_epochs": 0 if s == "teacher" else epochs}
            if solved:
                bp = local_entropy_bp(inst, w, lambdas, factor="gaussian", seed=i)
                # no interpolation across a jump of BP between branches (> MAX_GAP apart in d)
                at = bp.entropy_at(D_LARGE, max_gap=MAX_GAP)
                valid_d = bp.distance[bp.valid]
                rec.update({f"S_{d}": float(v) for d, v in zip(D_LARGE, at)})
                rec["bp_all_valid"] = bool(bp.valid.all())
                rec["bp_d_reached"] = ",".join(f"{x:.4f}" for x in bp.distance)
                rec["bp_S_curve"] = ",".join(f"{x:.4f}" for x in bp.entropy)
                rec["bp_min_positive_d"] = float(valid_d[valid_d > 1e-4].min()) if np.any(valid_d > 1e-4) else math.nan
                fl = flip_robustness(inst, w, fr, seed=i, n_draws=args.draws)
                rec.update({f"flip_{f}": float(e) for f, e in zip(fr, fl.error)})
            rec["seconds"] = time.perf_counter() - t0
            records.append(rec)
            summary["table"] = _table_large(records, [f"{s} ({e})" for e, s in jobs], fr)
            _write(args.out, "large", summary, records)
    return summary


def _table_large(records, solvers, fr):
    tab = {}
    for s in solvers:
        rs = [r for r in records if r["source"] == s]
        ok = [r for r in rs if r["solved"]]
        row = {"runs": len(rs), "solved": len(ok),
               "errors left (unsolved)": ",".join(str(r["errors"]) for r in rs if not r["solved"]) or "-",
               "solve seconds (median)": float(np.median([r["solve_seconds"] for r in rs])) if rs else math.nan,
               "BP S(d) undefined (frozen/gap)": sum(not np.isfinite(r.get("S_0.005", math.nan)) for r in ok)}
        for d in D_LARGE:
            m, se, k = _mean_sem([r.get(f"S_{d}") for r in ok])
            row[f"S({d})"] = (m, se, k)
        for f in fr:
            m, se, k = _mean_sem([r.get(f"flip_{f}") for r in ok])
            row[f"flip {f}"] = (m, se, k)
        tab[s] = row
    return tab


def part_small(args: argparse.Namespace) -> dict[str, Any]:
    n, alpha = 21, 0.5
    solvers, missing = _solvers(args.solvers)
    sources = ["typical"] + solvers
    records: list[dict[str, Any]] = []
    bp_dev: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"n": n, "alpha": alpha, "sources": sources, "missing_solvers": missing,
                               "instances": args.instances_small, "typical_per_instance": args.typical}
    ks = (1, 2, 3)
    fr = [k / n for k in ks]
    lam_fine = np.linspace(6.0, -0.0, 601)
    for i in range(args.instances_small):
        inst = random_patterns(n, alpha, seed=1000 + i)
        refs: list[tuple[str, np.ndarray, bool]] = []
        for w in sample_typical_solutions(inst, args.typical, seed=i):
            refs.append(("typical", w, True))
        for s in solvers:
            res = solve(inst, method=s, seed=i, **args.solver_options.get(s, {}))
            refs.append((s, res.weights, res.solved))
        err.print(f"[small] instance {i}: {len(refs)} references")
        for src, w, solved in refs:
            rec: dict[str, Any] = {"instance": 1000 + i, "source": src, "solved": solved}
            if solved:
                counts = local_entropy_exact(inst, w)
                rec["total"] = int(counts.sum())
                for k in ks:
                    rec[f"count_{k}"] = int(counts[k])
                    rec[f"S_{k}"] = math.log(counts[k]) / n if counts[k] > 0 else -math.inf
                fl = flip_robustness(inst, w, fr, seed=i, n_draws=args.draws)
                rec.update({f"flip_{k}": float(e) for k, e in zip(ks, fl.error)})
                # BP against exact enumeration (same reference, same λ)
                ex_fine = free_entropy_from_counts(counts, lam_fine)
                for fac in ("exact", "gaussian"):
                    bp = local_entropy_bp(inst, w, factor=fac, seed=i)
                    ex = free_entropy_from_counts(counts, bp.lambdas)
                    v = bp.valid
                    dphi = np.abs(bp.phi - ex["phi"])[v]
                    dd = np.abs(bp.distance - ex["distance"])[v]
                    # S at equal distance: exact Legendre curve interpolated at BP's d(λ)
                    o = np.argsort(ex_fine["distance"])
                    s_ex = np.interp(bp.distance[v], ex_fine["distance"][o], ex_fine["entropy"][o])
                    ds = np.abs(bp.entropy[v] - s_ex)
                    small = (bp.distance[v] > 0.01) & (bp.distance[v] <= 0.15)
                    bp_dev.append({
                        "instance": 1000 + i, "source": src, "factor": fac, "valid": int(v.sum()), "points": int(v.size),
                        "max_dphi": float(dphi.max()) if dphi.size else math.nan,
                        "max_dd": float(dd.max()) if dd.size else math.nan,
                        "max_dS_equal_d": float(ds.max()) if ds.size else math.nan,
                        "max_dS_small_d": float(ds[small].max()) if np.any(small) else math.nan,
                        "phi0_bp": float(bp.phi[-1]), "phi0_exact": float(ex["phi"][-1]),
                        "frozen_at_0": bool(bp.distance[-1] < 1e-6),
                    })
            records.append(rec)
        summary["table"] = _table_small(records, sources, ks)
        summary["bp_vs_exact"] = _table_bp(bp_dev)
        _write(args.out, "small", summary, records)
        _write(args.out, "small_bp_vs_exact", {"rows": bp_dev}, bp_dev)
    return summary


def _table_small(records, sources, ks):
    tab = {}
    for s in sources:
        ok = [r for r in records if r["source"] == s and r["solved"]]
        row = {"references": len([r for r in records if r["source"] == s]), "solved": len(ok)}
        row["total"] = _mean_sem([r["total"] for r in ok])
        for k in ks:
            row[f"mean count k={k}"] = _mean_sem([r[f"count_{k}"] for r in ok])
            row[f"P(count k={k} = 0)"] = float(np.mean([r[f"count_{k}"] == 0 for r in ok])) if ok else math.nan
            row[f"ln(mean count)/N k={k}"] = (math.log(row[f"mean count k={k}"][0]) / 21
                                             if ok and row[f"mean count k={k}"][0] > 0 else -math.inf)
            row[f"flip k={k}"] = _mean_sem([r[f"flip_{k}"] for r in ok])
        tab[s] = row
    return tab


def _table_bp(rows):
    tab = {}
    for fac in ("exact", "gaussian"):
        for frozen in (False, True):
            rs = [r for r in rows if r["factor"] == fac and r["frozen_at_0"] == frozen]
            key = f"{fac} factor, {'frozen local branch' if frozen else 'unfrozen'}"
            if not rs:
                continue
            tab[key] = {
                "references": len(rs),
                "all points valid": sum(r["valid"] == r["points"] for r in rs),
                "max|dphi| median/max": (float(np.nanmedian([r["max_dphi"] for r in rs])),
                                         float(np.nanmax([r["max_dphi"] for r in rs]))),
                "max|dS| at equal d, 0.01<d<=0.15, median/max": (
                    float(np.nanmedian([r["max_dS_small_d"] for r in rs])) if any(np.isfinite(r["max_dS_small_d"]) for r in rs) else math.nan,
                    float(np.nanmax([r["max_dS_small_d"] for r in rs])) if any(np.isfinite(r["max_dS_small_d"]) for r in rs) else math.nan),
                "|phi(0) BP - exact| median": float(np.median([abs(r["phi0_bp"] - r["phi0_exact"]) for r in rs])),
            }
    return tab


def part_teacher(args: argparse.Namespace) -> dict[str, Any]:
    solvers, missing = _solvers(args.solvers)
    alphas = (0.5, 1.0, 1.5)
    theory: dict[str, Any] = {}
    try:
        from stochsyn.theory.teacher_student import perfect_generalization_threshold, teacher_student_gibbs

        thr = perfect_generalization_threshold()
        for a in alphas:
            st = teacher_student_gibbs(a)
            theory[str(a)] = {"metastable_branch_eps": float(st.gen_error),
                              "equilibrium_eps": 0.0 if a >= thr else float(st.gen_error)}
        theory["alpha_threshold"] = float(thr)
    except Exception as exc:  # the theory module may not exist yet
        theory["unavailable"] = repr(exc)
    records: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"alphas": alphas, "solvers": solvers, "missing_solvers": missing, "theory": theory}
    for n, sources, k_inst in ((args.n_teacher, solvers, args.instances_teacher),
                               (21, ["typical"] + solvers, args.instances_small)):
        for a in alphas:
            for i in range(k_inst):
                inst = teacher_student(n, a, seed=2000 + i)
                for s in sources:
                    if s == "typical":
                        w, solved = sample_typical_solutions(inst, 1, seed=i)[0], True
                    else:
                        res = solve(inst, method=s, seed=i, **args.solver_options.get(s, {}))
                        w, solved = res.weights, res.solved
                    g = generalization_error(inst, w, n_test=args.n_test, seed=i)
                    records.append({"n": n, "alpha": a, "instance": 2000 + i, "source": s, "solved": solved,
                                    "error": g.error, "error_overlap": g.error_overlap, "overlap": g.overlap})
                err.print(f"[teacher] N={n} alpha={a} instance {i} done")
                summary["table"] = _table_teacher(records)
                _write(args.out, "teacher", summary, records)
    return summary


def _table_teacher(records):
    tab = {}
    for n in sorted({r["n"] for r in records}):
        for s in sorted({r["source"] for r in records if r["n"] == n}):
            for a in sorted({r["alpha"] for r in records}):
                rs = [r for r in records if r["n"] == n and r["source"] == s and r["alpha"] == a]
                if not rs:
                    continue
                ok = [r for r in rs if r["solved"]]
                tab[f"N={n} {s} alpha={a}"] = {
                    "runs": len(rs), "solved": len(ok),
                    "eps (solved)": _mean_sem([r["error"] for r in ok]),
                    "eps (all)": _mean_sem([r["error"] for r in rs]),
                }
    return tab


def _fmt(v: Any) -> str:
    if isinstance(v, tuple) and len(v) == 3:
        return f"{v[0]:.4f} ± {v[1]:.4f} (n={v[2]})"
    if isinstance(v, tuple) and len(v) == 2:
        return f"{v[0]:.4f} / {v[1]:.4f}"
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def _print(title: str, tab: dict[str, dict[str, Any]]) -> None:
    out_console.print(f"\n== {title}")
    for key, row in tab.items():
        out_console.print(f"  {key}")
        for k, v in row.items():
            out_console.print(f"      {k:48s} {_fmt(v)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=["large", "small", "teacher", "all"], default="all")
    ap.add_argument("--out", type=Path, default=Path("results/geometry"))
    ap.add_argument("--solvers", type=lambda s: [x for x in s.split(",") if x], default=None,
                    help=f"comma-separated solver names (default: those of {WANTED} that are registered)")
    ap.add_argument("--n-large", type=int, default=1001)
    ap.add_argument("--instances-large", type=int, default=3)
    ap.add_argument("--lambda-step", type=float, default=0.125,
                    help="part large: λ grid from 4 down to 0.5 in this step (default 0.125; 0.25 before annealing "
                         "solved N=1001, which left S(0.02) undefined where d(λ) jumped by more than 0.02)")
    ap.add_argument("--planted-solvers", type=lambda s: [x for x in s.split(",") if x], default=["stochastic"],
                    help="solvers also run on the teacher-student (planted) instances of part 'large'")
    ap.add_argument("--instances-small", type=int, default=20)
    ap.add_argument("--typical", type=int, default=3, help="uniform solutions per small instance")
    ap.add_argument("--n-teacher", type=int, default=1001)
    ap.add_argument("--instances-teacher", type=int, default=3)
    ap.add_argument("--n-test", type=int, default=20000)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--solver-options", type=json.loads, default={},
                    help='JSON mapping solver → options, e.g. \'{"annealing": {"max_epochs": 5000}}\'; in part '
                         '"large" it replaces the per-solver defaults (annealing: large_annealing_options(N))')
    args = ap.parse_args(argv)
    parts = ["small", "large", "teacher"] if args.part == "all" else [args.part]
    for p in parts:
        summary = {"large": part_large, "small": part_small, "teacher": part_teacher}[p](args)
        if summary.get("missing_solvers"):
            out_console.print(f"\n[{p}] solvers not registered (not measured): {', '.join(summary['missing_solvers'])}")
        _print(f"{p}: results", summary.get("table", {}))
        if p == "small":
            _print("small: BP vs exact enumeration", summary.get("bp_vs_exact", {}))
        if p == "teacher":
            out_console.print(f"  theory: {summary['theory']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
