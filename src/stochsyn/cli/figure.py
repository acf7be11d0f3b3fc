"""``stochsyn figure local-entropy|robustness|generalization``: the paper-style
geometry figures. Each writes a PNG and a CSV of exactly the plotted numbers;
the CSV is rewritten (atomically) as results come in."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from ._common import atomic_write_text, err_console, save_figure, use_agg
from ._geometry_io import parse_floats, parse_names

figure_app = typer.Typer(help="Paper-style figures of the geometry of solutions (PNG + CSV).", no_args_is_help=True)

_N = typer.Option(1001, "--n", help="Number of weights N (N <= 25 adds exact counts and 'typical').")
_SOLVERS = typer.Option(
    "stochastic", "--solvers", help="Comma-separated solver names; 'typical' = uniform solution (N <= 25)."
)
_INSTANCES = typer.Option(1, "--instances", help="Instances (seeds seed, seed+1, …).")
_SEED = typer.Option(0, "--seed", help="First instance / solver seed.")
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
    solvers: str = _SOLVERS,
    instances: int = _INSTANCES,
    seed: int = _SEED,
    typical: int = _TYPICAL,
    lambdas: Optional[str] = typer.Option(None, "--lambdas", help="BP couplings λ (default 4 → 0)."),
    bp: bool = typer.Option(True, "--bp/--no-bp", help="Run BP (for N <= 25 the exact counts are always drawn)."),
    theory: bool = typer.Option(
        True, "--theory/--no-theory", help="Overlay stochsyn.theory curves when available (replica saddle points: minutes)."
    ),
    out: Path = _OUT,
    name: Optional[str] = _NAME,
) -> None:
    """(a) Local entropy S(d) around each solver's solutions (BP; exact counts for N <= 25)."""
    use_agg()
    from ..geometry.figures import collect_local_entropy, plot_local_entropy

    srcs = parse_names(solvers, "--solvers")
    stem = out / (name or f"local_entropy_N{n}_a{alpha:g}")
    records = _run(
        collect_local_entropy, instances * len(srcs), _with(stem, ".csv"),
        n=n, alpha=alpha, sources=srcs, n_instances=instances, seed=seed,
        lambdas=parse_floats(lambdas, "--lambdas"), n_typical=typical, bp=bp,
    )
    save_figure(plot_local_entropy(records, alpha=alpha, n=n, theory=theory), _with(stem, ".png"))
    _report(stem, records)


@figure_app.command("robustness")
def robustness_cmd(
    n: int = _N,
    alpha: float = _ALPHA,
    solvers: str = _SOLVERS,
    instances: int = _INSTANCES,
    seed: int = _SEED,
    typical: int = _TYPICAL,
    fractions: str = typer.Option("0,0.005,0.01,0.02,0.03,0.05,0.1", "--fractions", help="Flip fractions."),
    draws: int = typer.Option(100, "--draws", help="Random flips per fraction."),
    out: Path = _OUT,
    name: Optional[str] = _NAME,
) -> None:
    """(b) Flip robustness: training error after flipping a fraction of the weights."""
    use_agg()
    from ..geometry.figures import collect_robustness, plot_robustness

    srcs = parse_names(solvers, "--solvers")
    stem = out / (name or f"robustness_N{n}_a{alpha:g}")
    records = _run(
        collect_robustness, instances * len(srcs), _with(stem, ".csv"),
        n=n, alpha=alpha, sources=srcs, n_instances=instances, seed=seed,
        fractions=parse_floats(fractions, "--fractions"), n_draws=draws, n_typical=typical,
    )
    save_figure(plot_robustness(records, alpha=alpha, n=n), _with(stem, ".png"))
    _report(stem, records)


@figure_app.command("generalization")
def generalization_cmd(
    n: int = _N,
    alpha: str = typer.Option("0.5,1.0,1.5", "--alpha", help="Comma-separated loads α."),
    solvers: str = _SOLVERS,
    instances: int = _INSTANCES,
    seed: int = _SEED,
    n_test: int = typer.Option(20_000, "--n-test", help="Fresh test patterns per student."),
    theory: bool = typer.Option(True, "--theory/--no-theory", help="Overlay Gibbs learning from stochsyn.theory."),
    out: Path = _OUT,
    name: Optional[str] = _NAME,
) -> None:
    """(c) Teacher-student generalization error against α, next to Gibbs learning."""
    use_agg()
    from ..geometry.figures import collect_generalization, plot_generalization

    srcs = parse_names(solvers, "--solvers")
    alphas = parse_floats(alpha, "--alpha")
    stem = out / (name or f"generalization_N{n}")
    records = _run(
        collect_generalization, len(alphas) * instances, _with(stem, ".csv"),
        n=n, alphas=alphas, sources=srcs, n_instances=instances, seed=seed, n_test=n_test,
    )
    save_figure(plot_generalization(records, n=n, theory=theory), _with(stem, ".png"))
    _report(stem, records)


def _report(stem: Path, records: list[dict[str, Any]]) -> None:
    unsolved = sorted({r["source"] for r in records if not r.get("solved", True)})
    err_console.print(f"wrote {_with(stem, '.png')} and {_with(stem, '.csv')} ({len(records)} rows)")
    if unsolved:
        err_console.print(f"note: some runs of {', '.join(unsolved)} did not find a solution (solved=False in the CSV)")


def register(app: typer.Typer) -> None:
    """Add the ``figure`` command group."""
    app.add_typer(figure_app, name="figure")
