"""``stochsyn solve``, ``stochsyn solvers`` and ``stochsyn demo``: the core perceptron workflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from ._common import console, err_console, print_json, save_figure, use_agg

DEMO_ALPHAS = (0.55, 0.6, 0.65, 0.7)


def parse_options(pairs: list[str] | None) -> dict[str, Any]:
    """Turn ``["lr=0.05", "optimizer=gd"]`` into a dict; values are parsed as JSON when possible."""
    out: dict[str, Any] = {}
    for item in pairs or []:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ValueError(f"--option expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


# Generated instances of at least this many entries are kept packed (one bit per
# entry); the instance is the same either way, only its memory differs.
_PACK_FROM_ENTRIES = 1 << 24


def _pack_generated(n: int, alpha: float) -> bool:
    from ..problems import n_patterns

    return n * n_patterns(n, alpha) >= _PACK_FROM_ENTRIES


def _progress_callback(progress, task):
    def cb(epoch: int, info: dict[str, Any]) -> None:
        progress.update(task, completed=epoch, description=f"errors={info.get('errors', '?')}")
        return None

    return cb


def solve_cmd(
    n: int = typer.Option(1001, "--n", help="Number of synapses N (odd avoids ties)."),
    alpha: float = typer.Option(0.6, "--alpha", help="Load alpha = P/N."),
    seed: int = typer.Option(0, "--seed", help="Seed of the instance and of the solver."),
    method: str = typer.Option("stochastic", "--method", help="Solver name (see `stochsyn solvers`)."),
    problem: str = typer.Option("random", "--problem", help="random | teacher-student."),
    instance: Optional[Path] = typer.Option(None, "--instance", help="Load the instance from an .npz instead."),
    max_epochs: Optional[int] = typer.Option(None, "--max-epochs", help="Epoch budget (solver default if unset)."),
    option: Optional[list[str]] = typer.Option(None, "--option", "-o", help="Solver option KEY=VALUE (repeatable)."),
    save: Optional[Path] = typer.Option(None, "--save", help="Write the weights (and the run summary) to this .npz."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON record instead of the summary line."),
    progress: bool = typer.Option(False, "--progress", help="Show a progress bar (stderr)."),
) -> None:
    """Solve one perceptron instance and print a one-line summary."""
    import numpy as np

    from ..problems import Instance, atomic_savez, random_patterns, teacher_student
    from ..solvers import solve

    if instance is not None:
        inst = Instance.load(instance)
    elif problem == "random":
        inst = random_patterns(n, alpha, seed=seed, packed=_pack_generated(n, alpha))
    elif problem in ("teacher-student", "teacher_student"):
        inst = teacher_student(n, alpha, seed=seed, packed=_pack_generated(n, alpha))
    else:
        raise ValueError(f"--problem must be 'random' or 'teacher-student', got {problem!r}")
    opts = parse_options(option)
    if max_epochs is not None:
        opts["max_epochs"] = max_epochs
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn(f"{method} N={inst.n} α={inst.alpha:.3f}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as prog:
            task = prog.add_task("", total=opts.get("max_epochs"))
            res = solve(inst, method=method, seed=seed, callback=_progress_callback(prog, task), **opts)
    else:
        res = solve(inst, method=method, seed=seed, **opts)
    record = {"n": inst.n, "p": inst.p, "alpha": inst.alpha, **res.summary()}
    if save is not None:
        atomic_savez(save, weights=res.weights, summary=np.array(json.dumps(record)))
        record["saved"] = str(save)
    if as_json:
        print_json(record)
    else:
        console.print(
            f"solved={res.solved} errors={res.errors} epochs={res.epochs} seconds={res.seconds:.3f} "
            f"({method}, N={inst.n}, P={inst.p}, alpha={inst.alpha:.4g}, seed={seed})",
            highlight=False,
            soft_wrap=True,
        )


def solvers_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the registered solvers."""
    from rich.table import Table

    from ..solvers import describe

    table_data = describe()
    if as_json:
        print_json(table_data)
        return
    table = Table(title="stochsyn solvers")
    table.add_column("method")
    table.add_column("description")
    for name, summary in table_data.items():
        table.add_row(name, summary)
    console.print(table)


def demo_cmd(
    n: int = typer.Option(1001, "--n", help="Number of synapses N."),
    alphas: str = typer.Option(",".join(map(str, DEMO_ALPHAS)), "--alphas", help="Comma-separated loads."),
    seeds: int = typer.Option(4, "--seeds", help="Instances per load."),
    out: Path = typer.Option(Path("demo-out"), "--out", help="Folder for the PNG and the JSON results."),
) -> None:
    """The main job on a built-in default: stochastic-synapse GD on random instances at several loads.

    Prints a table of success rate and time per load and writes
    OUT/training_errors.png (errors of sign(m) against epoch) and OUT/demo.json.
    """
    import numpy as np
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from ..problems import random_patterns
    from ..solvers import solve
    from ._common import atomic_write_text

    try:
        alpha_list = [float(a) for a in alphas.split(",") if a.strip()]
    except ValueError as exc:
        raise ValueError(f"--alphas must be comma-separated numbers, got {alphas!r}") from exc
    if not alpha_list:
        raise ValueError("--alphas is empty")
    if seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {seeds}")
    console.print(
        f"[bold]stochsyn demo[/]: binary perceptron, N={n}, random ±1 patterns, "
        f"{seeds} instances per load, method 'stochastic' with default options"
    )
    runs: list[dict[str, Any]] = []
    curves: dict[float, list[int]] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as prog:
        task = prog.add_task("solving", total=len(alpha_list) * seeds)
        for alpha in alpha_list:
            for s in range(seeds):
                prog.update(task, description=f"α={alpha:.2f} seed={s}")
                inst = random_patterns(n, alpha, seed=10_000 + s)
                res = solve(inst, method="stochastic", seed=s)
                runs.append({"alpha": alpha, "instance_seed": 10_000 + s, "n": n, **res.summary()})
                if s == 0:
                    curves[alpha] = res.history["errors"]
                prog.advance(task)

    table = Table(title=f"stochastic-synapse GD, N={n}")
    for col in ("alpha", "solved", "success", "median epochs", "median seconds"):
        table.add_column(col, justify="right")
    summary = []
    for alpha in alpha_list:
        rs = [r for r in runs if r["alpha"] == alpha]
        ok = [r for r in rs if r["solved"]]
        med_ep = float(np.median([r["epochs"] for r in ok])) if ok else None
        med_s = float(np.median([r["seconds"] for r in ok])) if ok else None
        summary.append({"alpha": alpha, "solved": len(ok), "runs": len(rs), "median_epochs": med_ep, "median_seconds": med_s})
        table.add_row(
            f"{alpha:.2f}",
            f"{len(ok)}/{len(rs)}",
            f"{len(ok) / len(rs):.0%}",
            "-" if med_ep is None else f"{med_ep:.0f}",
            "-" if med_s is None else f"{med_s:.2f}",
        )
    console.print(table)

    use_agg()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for alpha, errs in curves.items():
        ax.plot(np.arange(1, len(errs) + 1), np.maximum(errs, 0.8), label=f"α={alpha:.2f}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training errors of sign(m)  (0 drawn at 0.8)")
    ax.set_title(f"Stochastic binary synapses, N={n} (first instance per load)")
    ax.legend()
    png = save_figure(fig, out / "training_errors.png")
    atomic_write_text(out / "demo.json", json.dumps({"summary": summary, "runs": runs}, indent=1))
    console.print(f"wrote {png} and {out / 'demo.json'}")


def register(app: typer.Typer) -> None:
    """Add the core commands to the root app."""
    app.command("solve")(solve_cmd)
    app.command("solvers")(solvers_cmd)
    app.command("demo")(demo_cmd)
