"""``stochsyn figure local-entropy|robustness|generalization``: the paper-style
geometry figures. Each writes a PNG and a CSV of exactly the plotted numbers;
the CSV is rewritten (atomically) as results come in."""

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

figure_app = typer.Typer(help="Paper-style figures of the geometry of solutions (PNG + CSV).", no_args_is_help=True)

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
