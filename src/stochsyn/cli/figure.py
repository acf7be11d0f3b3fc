"""``stochsyn figure local-entropy|robustness|generalization|capacity``: the paper-style
figures. Each writes a PNG and a CSV of exactly the plotted numbers; the geometry
figures rewrite the CSV (atomically) as results come in, ``capacity`` reads a
sweep database."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from ._common import atomic_write_text, console, err_console, print_json, save_figure, use_agg
from ._geometry_io import parse_floats
from ._grammar import (
    check_output_dir,
    check_solvers,
    json_option,
    option_option,
    parse_grid,
    parse_names,
    parse_seeds,
    parse_solver_options,
    seeds_option,
    solver_option,
)

figure_app = typer.Typer(help="Paper-style figures: geometry of solutions, q-state capacity (PNG + CSV).",
                         no_args_is_help=True)

_N = typer.Option(1001, "--n", help="Number of weights N (N <= 25 adds exact counts and 'typical').")
_SOLVERS = solver_option("stochastic", several=True, extra="; 'typical' = a uniform solution (N <= 25)")
_SEEDS = seeds_option("1", "instances (instance and solver seed s)")
_ALPHA = typer.Option(0.6, "--alpha", help="Load α = P/N.")
_TYPICAL = typer.Option(1, "--typical", help="Uniform solutions per instance when 'typical' is listed.")
_OUT = typer.Option(Path("figures"), "--out", help="Output folder.")
_NAME = typer.Option(None, "--name", help="File stem (default: derived from the figure and parameters).")


def _with(stem: Path, suffix: str) -> Path:
    # not Path.with_suffix: a stem like "…_a0.5" would lose its ".5"
    return stem.parent / (stem.name + suffix)


def _writer(csv_path: Path):
    from ..geometry.figures import records_to_csv

    def write(records: list[dict[str, Any]]) -> None:
        atomic_write_text(csv_path, records_to_csv(records))

    return write


def _prepare(out: Path, solvers: list[str] | str, seeds: str, option: list[str] | None
             ) -> tuple[list[str], list[int], dict[str, dict[str, Any]]]:
    """Check the output folder and parse the solver list, the seeds and the solver options
    before any work (so a bad --out fails at once, not after the figure is computed)."""
    check_output_dir(out, "--out")
    srcs = check_solvers(parse_names(solvers, "--solver"), extra=("typical",))
    seed_list = parse_seeds(seeds)
    opts = parse_solver_options(option, [s for s in srcs if s != "typical"])
    return srcs, seed_list, opts


def _run(collect, total: int, csv_path: Path, **kwargs: Any) -> list[dict[str, Any]]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    write = _writer(csv_path)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err_console, transient=True
    ) as prog:
        task = prog.add_task("starting", total=total)

        def on_records(records: list[dict[str, Any]]) -> None:
            write(records)
            prog.update(task, advance=1)

        records = collect(progress=lambda msg: prog.update(task, description=msg), on_records=on_records, **kwargs)
    write(records)
    return records


@figure_app.command("local-entropy")
def local_entropy_cmd(
    n: int = _N,
    alpha: float = _ALPHA,
    solvers: list[str] = _SOLVERS,
    seeds: str = _SEEDS,
    option: Optional[list[str]] = option_option(),
    typical: int = _TYPICAL,
    lambdas: Optional[str] = typer.Option(None, "--lambdas", help="BP couplings λ (default 4 → 0)."),
    bp: bool = typer.Option(True, "--bp/--no-bp", help="Run BP (for N <= 25 the exact counts are always drawn)."),
    theory: bool = typer.Option(
        True, "--theory/--no-theory", help="Overlay stochsyn.theory curves when available (replica saddle points: minutes)."
    ),
    out: Path = _OUT,
    name: Optional[str] = _NAME,
    as_json: bool = json_option(),
) -> None:
    """(a) Local entropy S(d) around each solver's solutions (BP; exact counts for N <= 25)."""
    srcs, seed_list, opts = _prepare(out, solvers, seeds, option)
    lam = parse_floats(lambdas, "--lambdas")
    use_agg()
    from ..geometry.figures import collect_local_entropy, plot_local_entropy

    stem = out / (name or f"local_entropy_N{n}_a{alpha:g}")
    records = _run(
        collect_local_entropy, len(seed_list) * len(srcs), _with(stem, ".csv"),
        n=n, alpha=alpha, sources=srcs, seeds=seed_list, solver_options=opts,
        lambdas=lam, n_typical=typical, bp=bp,
    )
    save_figure(plot_local_entropy(records, alpha=alpha, n=n, theory=theory), _with(stem, ".png"))
    _report(stem, records, as_json)


@figure_app.command("robustness")
def robustness_cmd(
    n: int = _N,
    alpha: float = _ALPHA,
    solvers: list[str] = _SOLVERS,
    seeds: str = _SEEDS,
    option: Optional[list[str]] = option_option(),
    typical: int = _TYPICAL,
    fractions: str = typer.Option("0,0.005,0.01,0.02,0.03,0.05,0.1", "--fractions", help="Flip fractions."),
    draws: int = typer.Option(100, "--draws", help="Random flips per fraction."),
    out: Path = _OUT,
    name: Optional[str] = _NAME,
    as_json: bool = json_option(),
) -> None:
    """(b) Flip robustness: training error after flipping a fraction of the weights."""
    srcs, seed_list, opts = _prepare(out, solvers, seeds, option)
    fr = parse_floats(fractions, "--fractions")
    use_agg()
    from ..geometry.figures import collect_robustness, plot_robustness

    stem = out / (name or f"robustness_N{n}_a{alpha:g}")
    records = _run(
        collect_robustness, len(seed_list) * len(srcs), _with(stem, ".csv"),
        n=n, alpha=alpha, sources=srcs, seeds=seed_list, solver_options=opts,
        fractions=fr, n_draws=draws, n_typical=typical,
    )
    save_figure(plot_robustness(records, alpha=alpha, n=n), _with(stem, ".png"))
    _report(stem, records, as_json)


@figure_app.command("generalization")
def generalization_cmd(
    n: int = _N,
    alpha: str = typer.Option("0.5,1.0,1.5", "--alpha", help="Loads α: '0.5,1.0' or 'start:stop:step'."),
    solvers: list[str] = _SOLVERS,
    seeds: str = _SEEDS,
    option: Optional[list[str]] = option_option(),
    n_test: int = typer.Option(20_000, "--n-test", help="Fresh test patterns per student."),
    theory: bool = typer.Option(True, "--theory/--no-theory", help="Overlay Gibbs learning from stochsyn.theory."),
    out: Path = _OUT,
    name: Optional[str] = _NAME,
    as_json: bool = json_option(),
) -> None:
    """(c) Teacher-student generalization error against α, next to Gibbs learning."""
    srcs, seed_list, opts = _prepare(out, solvers, seeds, option)
    alphas = parse_grid(alpha, "--alpha")
    use_agg()
    from ..geometry.figures import collect_generalization, plot_generalization

    stem = out / (name or f"generalization_N{n}")
    records = _run(
        collect_generalization, len(alphas) * len(seed_list), _with(stem, ".csv"),
        n=n, alphas=alphas, sources=srcs, seeds=seed_list, solver_options=opts, n_test=n_test,
    )
    save_figure(plot_generalization(records, n=n, theory=theory), _with(stem, ".png"))
    _report(stem, records, as_json)


@figure_app.command("capacity")
def capacity(
    db: Path = typer.Argument(..., help="SQLite result file written by 'stochsyn sweep' (q-state and/or ±1 solvers)."),
    n: int = typer.Option(1001, "--n", help="The system size N to plot (it must be in the database)."),
    zero_fractions: str = typer.Option("0:0.9:0.05", "--zero-fractions",
                                       help="Zero fractions f of the RS curve α_c(f): '0,0.3' or 'start:stop:step'."),
    out: Path = _OUT,
    name: Optional[str] = _NAME,
    as_json: bool = json_option(),
) -> None:
    """(d) Success vs α of q-state solvers from a sweep, beside the RS capacity α_c(f) at their zero fraction."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..experiments.capacity_figure import capacity_curve, capacity_points, plot_success_and_capacity
    from ..experiments.report import alpha50_table, cell_table
    from ..experiments.store import ResultStore

    check_output_dir(out, "--out")
    fs = parse_grid(zero_fractions, "--zero-fractions")
    with ResultStore(db, create=False) as store:
        rows = store.rows()
    sizes = sorted({int(r["n"]) for r in rows})
    if n not in sizes:
        raise typer.BadParameter(f"N={n} is not in {db} (sizes there: {sizes or 'none'})", param_hint="--n")
    rows = [r for r in rows if int(r["n"]) == n]
    cells = cell_table(rows)
    points = capacity_points(cells, alpha50_table(cells, rows), n)
    need = sorted({round(p["zero_fraction"], 4) for p in points})
    with Progress(TextColumn("RS capacity α_c(f)"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as prog:
        task = prog.add_task("", total=len(fs) + len(need))
        curve = capacity_curve(fs, progress=lambda i, k: prog.update(task, completed=i))
        at = capacity_curve(need, progress=lambda i, k: prog.update(task, completed=len(fs) + i))
    cap = dict(zip(need, at.tolist()))
    for p in points:
        p["rs_capacity"] = cap[round(p["zero_fraction"], 4)]
    use_agg()
    stem = out / (name or f"capacity_N{n}")
    png = plot_success_and_capacity(cells, points, fs, curve.tolist(), _with(stem, ".png"), n=n,
                                    point_capacity={p["label"]: p["rs_capacity"] for p in points})
    import csv as csv_module
    import io

    buf = io.StringIO()
    writer = csv_module.writer(buf, lineterminator="\n")
    writer.writerow(["kind", "label", "zero_fraction", "alpha", "alpha_ci_low", "alpha_ci_high", "rs_capacity"])
    for p in points:
        writer.writerow(["alpha50", p["label"], p["zero_fraction"], p["alpha50"], p["alpha50_ci_low"],
                         p["alpha50_ci_high"], p["rs_capacity"]])
    for f, a in zip(fs, curve):
        writer.writerow(["rs_curve", "", f, float(a), "", "", float(a)])
    csv = atomic_write_text(_with(stem, ".csv"), buf.getvalue())
    if as_json:
        print_json({"png": str(png), "csv": str(csv), "points": points,
                    "rs_curve": [{"zero_fraction": f, "alpha_c": float(a)} for f, a in zip(fs, curve)]})
        return
    for p in points:
        a50 = "—" if p["alpha50"] is None else f"{p['alpha50']:.3f}"
        console.print(f"{p['label']}: α_50 = {a50} [{p['alpha50_ci_low']:.3f}, {p['alpha50_ci_high']:.3f}], "
                      f"zero fraction {p['zero_fraction']:.3f} (at α = {p['zero_fraction_at_alpha']:.3g}), "
                      f"RS capacity there {p['rs_capacity']:.4f}", highlight=False, soft_wrap=True)
    console.print(f"wrote {png} and {csv}", highlight=False, soft_wrap=True)


def _report(stem: Path, records: list[dict[str, Any]], as_json: bool) -> None:
    unsolved = sorted({r["source"] for r in records if not r.get("solved", True)})
    png, csv = _with(stem, ".png"), _with(stem, ".csv")
    if as_json:
        print_json({"png": str(png), "csv": str(csv), "rows": len(records), "unsolved_sources": unsolved,
                    "records": records})
        return
    console.print(f"wrote {png} and {csv} ({len(records)} rows)", highlight=False, soft_wrap=True)
    if unsolved:
        err_console.print(f"note: some runs of {', '.join(unsolved)} did not find a solution (solved=False in the CSV)")


def register(app: typer.Typer) -> None:
    """Add the ``figure`` command group."""
    app.add_typer(figure_app, name="figure")
