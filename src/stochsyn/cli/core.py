"""``stochsyn solve``, ``stochsyn solvers`` and ``stochsyn demo``: the core perceptron workflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from ._common import console, err_console, print_json, save_figure, use_agg
from ._grammar import (
    check_output_dir,
    check_solvers,
    check_output_file,
    json_option,
    option_option,
    parse_grid,
    parse_problem,
    parse_seeds,
    parse_solver_options,
    problem_option,
    seeds_option,
    solver_option,
)

DEMO_ALPHAS = (0.55, 0.6, 0.65, 0.7)


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


def _make_instance(n: int, alpha: float, seed: int, problem: str, instance: Optional[Path],
                   hidden: Optional[int] = None, tree: bool = False):
    from ..problems import Instance, random_patterns, teacher_student

    if hidden is not None:
        from ..committee import CommitteeInstance, committee_patterns, committee_teacher_student

        if instance is not None:
            return CommitteeInstance.load(instance)
        cgen = {"random": committee_patterns, "teacher": committee_teacher_student}[parse_problem(problem)]
        return cgen(n, hidden, alpha, seed=seed, tree=tree)
    if instance is not None:
        return Instance.load(instance)
    gen = {"random": random_patterns, "teacher": teacher_student}[parse_problem(problem)]
    return gen(n, alpha, seed=seed, packed=_pack_generated(n, alpha))


def solve_cmd(
    n: int = typer.Option(1001, "--n", help="Number of synapses N (odd avoids ties)."),
    alpha: float = typer.Option(0.6, "--alpha", help="Load alpha = P/N."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the instance and of the solver."),
    solver: str = solver_option("stochastic"),
    problem: str = problem_option(),
    instance: Optional[Path] = typer.Option(
        None, "--instance", help="Load the instance from an .npz (written by `stochsyn instance`) instead."),
    max_epochs: Optional[int] = typer.Option(None, "--max-epochs", help="Epoch budget (solver default if unset)."),
    option: Optional[list[str]] = option_option(),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the weights (and the run summary) to this .npz."),
    as_json: bool = json_option(),
    progress: bool = typer.Option(False, "--progress", help="Show a progress bar (stderr)."),
    hidden: Optional[int] = typer.Option(
        None, "--hidden", help="Committee machine with this many (odd) hidden units; --alpha is then P/(K·N) "
        "(P/N with --tree). --instance reads a CommitteeInstance file."),
    tree: bool = typer.Option(False, "--tree", help="Committee with disjoint receptive fields of N/K inputs."),
) -> None:
    """Solve one perceptron (or, with --hidden K, committee-machine) instance and print a one-line summary."""
    import numpy as np

    from ..atomic import atomic_savez
    from ..solvers import solve

    check_output_file(out, "--out")
    if tree and hidden is None:
        raise ValueError("--tree needs --hidden K (a committee machine)")
    check_solvers([solver], problem="perceptron" if hidden is None else "committee")  # before the instance is made
    opts = parse_solver_options(option, [solver])[solver]
    if max_epochs is not None:
        opts["max_epochs"] = max_epochs
    inst = _make_instance(n, alpha, seed, problem, instance, hidden, tree)
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn(f"{solver} N={inst.n} α={inst.alpha:.3f}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as prog:
            task = prog.add_task("", total=opts.get("max_epochs"))
            res = solve(inst, method=solver, seed=seed, callback=_progress_callback(prog, task), **opts)
    else:
        res = solve(inst, method=solver, seed=seed, **opts)
    record = {"n": inst.n, "p": inst.p, "alpha": inst.alpha, **res.summary()}
    if hidden is not None:
        record.update(k=inst.k, tree=inst.tree, duplicate_pairs=res.info["duplicate_pairs"])
    if out is not None:
        atomic_savez(out, weights=res.weights, summary=np.array(json.dumps(record)))
        record["saved"] = str(out)
    if as_json:
        print_json(record)
    else:
        console.print(
            f"solved={res.solved} errors={res.errors} epochs={res.epochs} seconds={res.seconds:.3f} "
            + (f"levels={record['levels']} zero_fraction={record['zero_fraction']:.3f} " if "levels" in record else "")
            + (f"duplicate_pairs={record['duplicate_pairs']} K={record['k']} " if hidden is not None else "")
            + f"({solver}, N={inst.n}, P={inst.p}, alpha={inst.alpha:.4g}, seed={seed})",
            highlight=False,
            soft_wrap=True,
        )


def instance_cmd(
    out: Path = typer.Option(..., "--out", help="The .npz file to write (`stochsyn solve --instance` reads it)."),
    n: int = typer.Option(1001, "--n", help="Number of synapses N (odd avoids ties)."),
    alpha: float = typer.Option(0.6, "--alpha", help="Load alpha = P/N."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the instance."),
    problem: str = problem_option(),
    packed: bool = typer.Option(False, "--packed/--dense", help="Store the ±1 patterns as bits (1/8 of int8)."),
    as_json: bool = json_option(),
) -> None:
    """Generate an instance and write it to an .npz (for `solve --instance`, `geometry --instance`)."""
    from ..problems import random_patterns, teacher_student

    check_output_file(out, "--out")
    gen = {"random": random_patterns, "teacher": teacher_student}[parse_problem(problem)]
    inst = gen(n, alpha, seed=seed, packed=packed)
    inst.save(out)
    record = {"out": str(out), "n": inst.n, "p": inst.p, "alpha": inst.alpha, "seed": seed,
              "problem": parse_problem(problem), "storage": inst.storage, "bytes": inst.nbytes}
    if as_json:
        print_json(record)
    else:
        console.print(f"wrote {out}: {inst!r}", highlight=False, soft_wrap=True)


def solvers_cmd(as_json: bool = json_option()) -> None:
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
    alpha: str = typer.Option(",".join(map(str, DEMO_ALPHAS)), "--alpha", help="Loads: '0.55,0.6' or 'start:stop:step'."),
    seeds: str = seeds_option("4", "instances per load (instance seed 10000 + s, solver seed s)"),
    out: Path = typer.Option(Path("demo-out"), "--out", help="Folder for the PNG and the JSON results."),
    as_json: bool = json_option(),
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

    check_output_dir(out, "--out")
    alpha_list = parse_grid(alpha, "--alpha")
    seed_list = parse_seeds(seeds)
    from ..problems import n_patterns

    for a in alpha_list:
        n_patterns(n, a)  # a bad N or load fails before any work
    console.print(
        f"[bold]stochsyn demo[/]: binary perceptron, N={n}, random ±1 patterns, "
        f"{len(seed_list)} instances per load, solver 'stochastic' with default options",
        highlight=False,
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
        task = prog.add_task("solving", total=len(alpha_list) * len(seed_list))
        for a in alpha_list:
            for s in seed_list:
                prog.update(task, description=f"α={a:.2f} seed={s}")
                inst = random_patterns(n, a, seed=10_000 + s)
                res = solve(inst, method="stochastic", seed=s)
                runs.append({"alpha": a, "instance_seed": 10_000 + s, "n": n, **res.summary()})
                if a not in curves:
                    curves[a] = res.history["errors"]
                prog.advance(task)

    table = Table(title=f"stochastic-synapse GD, N={n}")
    for col in ("alpha", "solved", "success", "median epochs", "median seconds"):
        table.add_column(col, justify="right")
    summary = []
    for a in alpha_list:
        rs = [r for r in runs if r["alpha"] == a]
        ok = [r for r in rs if r["solved"]]
        med_ep = float(np.median([r["epochs"] for r in ok])) if ok else None
        med_s = float(np.median([r["seconds"] for r in ok])) if ok else None
        summary.append({"alpha": a, "solved": len(ok), "runs": len(rs), "median_epochs": med_ep, "median_seconds": med_s})
        table.add_row(
            f"{a:.2f}",
            f"{len(ok)}/{len(rs)}",
            f"{len(ok) / len(rs):.0%}",
            "-" if med_ep is None else f"{med_ep:.0f}",
            "-" if med_s is None else f"{med_s:.2f}",
        )
    if not as_json:
        console.print(table)

    use_agg()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for a, errs in curves.items():
        ax.plot(np.arange(1, len(errs) + 1), np.maximum(errs, 0.8), label=f"α={a:.2f}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training errors of sign(m)  (0 drawn at 0.8)")
    ax.set_title(f"Stochastic binary synapses, N={n} (first instance per load)")
    ax.legend()
    png = save_figure(fig, out / "training_errors.png")
    atomic_write_text(out / "demo.json", json.dumps({"summary": summary, "runs": runs}, indent=1))
    if as_json:
        print_json({"summary": summary, "runs": runs, "written": [str(png), str(out / "demo.json")]})
    else:
        console.print(f"wrote {png} and {out / 'demo.json'}")


def register(app: typer.Typer) -> None:
    """Add the core commands to the root app."""
    app.command("solve")(solve_cmd)
    app.command("instance")(instance_cmd)
    app.command("solvers")(solvers_cmd)
    app.command("demo")(demo_cmd)
