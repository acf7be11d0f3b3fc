"""``stochsyn geometry …``: single measurements of where a solution lives (JSON with --json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from .. import validation as V
from ._common import console, err_console, print_json
from ._geometry_io import load_instance, load_weights, parse_floats
from ._grammar import (
    check_output_file,
    check_solvers,
    json_option,
    option_option,
    parse_problem,
    parse_solver_options,
    problem_option,
    solver_option,
)

geometry_app = typer.Typer(
    help="Measure the geometry around a solution: exact/BP local entropy, robustness, generalization.",
    no_args_is_help=True,
)

_INSTANCE = typer.Option(None, "--instance", help="Instance .npz (from Instance.save); else generate with --n/--alpha.")
_N = typer.Option(None, "--n", help="Number of weights N of a generated instance.")
_ALPHA = typer.Option(None, "--alpha", help="Load α = P/N of a generated instance.")
_SEED = typer.Option(0, "--seed", min=0, help="Seed of the generated instance, the solver and the measurement.")
_PROBLEM = problem_option()
_SOLVER = solver_option("stochastic", extra="; also 'teacher' (the instance's teacher) or 'typical' "
                        "(a uniform solution, N <= 25). Ignored with --weights")
_WEIGHTS = typer.Option(None, "--weights", help="Measure these weights instead: a .npz (array 'weights') or .npy file.")
_OPTION = option_option()
_JSON = json_option()
_SAVE = typer.Option(None, "--save-weights", help="Also write the measured weights to this .npz.")


def _setup(instance, n, alpha, seed, problem, solver, weights, option, save_weights):
    import numpy as np

    from ..atomic import atomic_savez

    check_output_file(save_weights, "--save-weights")
    check_solvers([solver], extra=("teacher", "typical"))
    pseudo = solver in ("teacher", "typical")
    opts = parse_solver_options(option, [solver])[solver] if not pseudo else {}
    if pseudo and option:
        raise ValueError(f"--option does not apply to --solver {solver}")
    inst = load_instance(instance, n, alpha, seed, parse_problem(problem) == "teacher")
    w, info = load_weights(str(weights) if weights is not None else solver, inst, seed, opts)
    if save_weights is not None:
        atomic_savez(save_weights, weights=np.asarray(w, dtype=np.int8))
    info = {"instance": repr(inst), "n": inst.n, "p": inst.p, "alpha": inst.alpha,
            "errors": inst.errors(w), **info}
    return inst, w, info


@geometry_app.command("exact")
def exact_cmd(
    instance: Optional[Path] = _INSTANCE, n: Optional[int] = _N, alpha: Optional[float] = _ALPHA,
    seed: int = _SEED, problem: str = _PROBLEM, solver: str = _SOLVER, weights: Optional[Path] = _WEIGHTS,
    option: Optional[list[str]] = _OPTION, json: bool = _JSON, save_weights: Optional[Path] = _SAVE,
    max_n: int = typer.Option(25, "--max-n", help="Refuse N above this (enumeration costs 2^N)."),
) -> None:
    """Exact number of solutions at each Hamming distance from the weights (N <= 25)."""
    import math

    from ..geometry import local_entropy_exact

    inst, w, info = _setup(instance, n, alpha, seed, problem, solver, weights, option, save_weights)
    counts = local_entropy_exact(inst, w, max_n=max_n)
    ent = [math.log(c) / inst.n if c > 0 else None for c in counts]
    out = {**info, "counts": counts.tolist(), "total_solutions": int(counts.sum()), "entropy": ent}
    if json:
        print_json(out)
        return
    console.print(f"{info['instance']}  weights: {info['source']}  errors: {info['errors']}")
    console.print(f"total solutions: {int(counts.sum())}")
    for k, c in enumerate(counts):
        if c:
            console.print(f"  k={k:3d}  d={k / inst.n:.4f}  count={int(c):10d}  S={ent[k]:.4f}")


@geometry_app.command("bp")
def bp_cmd(
    instance: Optional[Path] = _INSTANCE, n: Optional[int] = _N, alpha: Optional[float] = _ALPHA,
    seed: int = _SEED, problem: str = _PROBLEM, solver: str = _SOLVER, weights: Optional[Path] = _WEIGHTS,
    option: Optional[list[str]] = _OPTION, json: bool = _JSON, save_weights: Optional[Path] = _SAVE,
    lambdas: Optional[str] = typer.Option(None, "--lambdas", help="Comma-separated couplings λ (default 4 → 0)."),
    distances: str = typer.Option("0.005,0.01,0.02", "--distances", help="Report S at these d (interpolated)."),
    factor: str = typer.Option("auto", "--factor", help="auto | exact | gaussian factor messages."),
    branch: str = typer.Option("local", "--branch", help="local (warm start from the reference) | dominant."),
    damping: float = typer.Option(0.5, "--damping", help="BP damping in [0, 1)."),
    max_iter: int = typer.Option(1000, "--max-iter", help="BP sweeps per λ."),
) -> None:
    """BP local entropy S(d) around the weights, via a coupling λ and a Legendre transform."""
    from rich.progress import Progress

    from ..geometry import local_entropy_bp

    inst, w, info = _setup(instance, n, alpha, seed, problem, solver, weights, option, save_weights)
    lam = parse_floats(lambdas, "--lambdas")
    ds = parse_floats(distances, "--distances")
    from ..geometry.bp_local_entropy import DEFAULT_LAMBDAS

    total = len(lam) if lam is not None else len(DEFAULT_LAMBDAS)
    with Progress(console=err_console, transient=True) as prog:
        task = prog.add_task("BP over λ", total=total)
        curve = local_entropy_bp(
            inst, w, lam, factor=factor, branch=branch, damping=damping, max_iter=max_iter, seed=seed,
            progress=lambda j, l: prog.update(task, advance=1, description=f"BP λ={l:.3g}"),
        )
    at = curve.entropy_at(ds)
    out = {**info, **curve.to_dict(), "entropy_at": {str(d): (None if v != v else float(v)) for d, v in zip(ds, at)}}
    if json:
        print_json(out)
        return
    console.print(f"{info['instance']}  weights: {info['source']}  errors: {info['errors']}  factor: {curve.factor}",
                  highlight=False)
    for j in range(curve.lambdas.size):
        flag = "" if curve.valid[j] else ("  NOT CONVERGED" if not curve.converged[j] else "  CONTRADICTION")
        console.print(
            f"  λ={curve.lambdas[j]:6.3f}  d={curve.distance[j]:.5f}  S={curve.entropy[j]: .5f}  "
            f"φ={curve.phi[j]: .5f}  iters={int(curve.iterations[j])}{flag}"
        )
    for d, v in zip(ds, at):
        console.print(f"  S(d={d:g}) = {v:.5f}" if v == v else f"  S(d={d:g}) = n/a (no converged BP point there)")


@geometry_app.command("flip")
def flip_cmd(
    instance: Optional[Path] = _INSTANCE, n: Optional[int] = _N, alpha: Optional[float] = _ALPHA,
    seed: int = _SEED, problem: str = _PROBLEM, solver: str = _SOLVER, weights: Optional[Path] = _WEIGHTS,
    option: Optional[list[str]] = _OPTION, json: bool = _JSON, save_weights: Optional[Path] = _SAVE,
    fractions: str = typer.Option("0,0.005,0.01,0.02,0.05,0.1", "--fractions", help="Flip fractions."),
    draws: int = typer.Option(100, "--draws", help="Random draws per fraction."),
) -> None:
    """Training error after flipping a random fraction of the weights."""
    from ..geometry import flip_robustness

    inst, w, info = _setup(instance, n, alpha, seed, problem, solver, weights, option, save_weights)
    curve = flip_robustness(inst, w, parse_floats(fractions, "--fractions"), seed=seed, n_draws=draws)
    _print_curve(info, curve.to_dict(), json, "flip fraction")


@geometry_app.command("noise")
def noise_cmd(
    instance: Optional[Path] = _INSTANCE, n: Optional[int] = _N, alpha: Optional[float] = _ALPHA,
    seed: int = _SEED, problem: str = _PROBLEM, solver: str = _SOLVER, weights: Optional[Path] = _WEIGHTS,
    option: Optional[list[str]] = _OPTION, json: bool = _JSON, save_weights: Optional[Path] = _SAVE,
    levels: str = typer.Option("0,0.25,0.5,1,1.5,2", "--levels", help="Noise amplitudes η: ξ → ξ(1 + η z)."),
    draws: int = typer.Option(20, "--draws", help="Noise draws per level."),
) -> None:
    """Training error under multiplicative Gaussian input noise."""
    from ..geometry import noise_robustness

    inst, w, info = _setup(instance, n, alpha, seed, problem, solver, weights, option, save_weights)
    curve = noise_robustness(inst, w, parse_floats(levels, "--levels"), seed=seed, n_draws=draws)
    _print_curve(info, curve.to_dict(), json, "noise η")


def _print_curve(info: dict[str, Any], d: dict[str, Any], json: bool, label: str) -> None:
    out = {**info, **d}
    if json:
        print_json(out)
        return
    console.print(f"{info['instance']}  weights: {info['source']}  errors: {info['errors']}")
    for x, e, s in zip(d["levels"], d["error"], d["sem"]):
        console.print(f"  {label}={x:<8g} training error={e:.5f} ± {s:.5f}")


@geometry_app.command("generalization")
def generalization_cmd(
    instance: Optional[Path] = _INSTANCE, n: Optional[int] = _N, alpha: Optional[float] = _ALPHA,
    seed: int = _SEED, solver: str = _SOLVER, weights: Optional[Path] = _WEIGHTS,
    option: Optional[list[str]] = _OPTION, json: bool = _JSON, save_weights: Optional[Path] = _SAVE,
    n_test: int = typer.Option(100_000, "--n-test", help="Fresh test patterns."),
) -> None:
    """Teacher-student test error of the weights (always a teacher-student instance)."""
    from ..geometry import generalization_error

    inst, w, info = _setup(instance, n, alpha, seed, "teacher", solver, weights, option, save_weights)
    g = generalization_error(inst, w, n_test=n_test, seed=seed)
    out = {**info, **g.to_dict()}
    if json:
        print_json(out)
        return
    console.print(f"{info['instance']}  weights: {info['source']}  training errors: {info['errors']}")
    console.print(f"  test error = {g.error:.5f} ± {g.sem:.5f}   R = {g.overlap:.4f}   arccos(R)/π = {g.error_overlap:.5f}")


@geometry_app.command("sample")
def sample_cmd(
    out: Path = typer.Option(..., "--out", help="Output .npz with array 'weights' (count, N)."),
    instance: Optional[Path] = _INSTANCE, n: Optional[int] = _N, alpha: Optional[float] = _ALPHA,
    seed: int = _SEED, problem: str = _PROBLEM, count: int = typer.Option(1, "--count", help="How many solutions."),
    json: bool = _JSON,
) -> None:
    """Draw solutions uniformly at random (exact enumeration, N <= 25)."""
    from ..atomic import atomic_savez
    from ..geometry import count_solutions, sample_typical_solutions

    check_output_file(out, "--out")
    V.count("--count", count)
    inst = load_instance(instance, n, alpha, seed, parse_problem(problem) == "teacher")
    ws = sample_typical_solutions(inst, count, seed)
    atomic_savez(out, weights=ws if count > 1 else ws[0])
    res = {"instance": repr(inst), "total_solutions": count_solutions(inst), "count": count, "out": str(out)}
    if json:
        print_json(res)
    else:
        console.print(f"{res['instance']}: {res['total_solutions']} solutions; wrote {count} uniform draw(s) to {out}")


def register(app: typer.Typer) -> None:
    """Add the ``geometry`` command group."""
    app.add_typer(geometry_app, name="geometry")
