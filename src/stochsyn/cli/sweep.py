"""``stochsyn sweep`` (solver × N × α × seed grids into SQLite) and ``stochsyn report``."""

from __future__ import annotations

from contextlib import nullcontext as _nullcontext
from pathlib import Path
from typing import Any, Optional

import typer

from ._common import console, err_console, print_json
from ._grammar import option_option, parse_problem, parse_solver_options

__all__ = ["register"]


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def _compact(value: Any, keep: int = 6) -> str:
    """A long list as its first and last values and its length (a dry run of 100,000 seeds)."""
    if isinstance(value, list) and len(value) > 2 * keep:
        head = ", ".join(map(str, value[:keep]))
        tail = ", ".join(map(str, value[-keep:]))
        return f"[{head}, …, {tail}] ({len(value)} values)"
    return str(value)


def _fmt_seconds(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.3g}"


def _load_rows(dbs: list[Path]) -> tuple[list[dict[str, Any]], list[Any], int]:
    """Rows of every database (a trial key stored in several is kept once), their
    failures, and how many duplicate keys were dropped."""
    from ..experiments.store import ResultStore

    rows: dict[str, dict[str, Any]] = {}
    failures: list[Any] = []
    dropped = 0
    for db in dbs:
        with ResultStore(db, create=False) as store:
            for r in store.rows():
                if r["key"] in rows:
                    dropped += 1
                else:
                    rows[r["key"]] = r
            failures += store.failures()
    return list(rows.values()), failures, dropped


def _render(
    dbs: list[Path],
    *,
    cells_csv: tuple[Path, ...] = (),
    csv: Optional[Path],
    alpha50_csv: Optional[Path],
    plots: Optional[Path],
    json_out: bool,
    level: float,
    method: str,
    show_cells: bool = True,
) -> None:
    from rich.table import Table

    from ..experiments.report import (
        alpha50_table,
        cell_table,
        finite_size_table,
        merge_cells,
        plot_alpha50,
        plot_success,
        plot_time_to_solution,
        read_cells_csv,
        to_json,
        write_csv,
    )

    rows, failures, dropped = _load_rows(dbs)
    if not rows and not cells_csv:
        raise ValueError(f"result database {', '.join(map(str, dbs))} holds no finished trials yet")
    cells = cell_table(rows, level=level, method=method) if rows else []
    joined = 0
    if cells_csv:
        cells, joined = merge_cells(cells, *(read_cells_csv(p, level=level, method=method) for p in cells_csv),
                                    level=level, method=method)
    a50 = alpha50_table(cells, rows)
    fss = finite_size_table(a50)
    written = []
    if csv is not None:
        written.append(write_csv(cells, csv))
    if alpha50_csv is not None:
        written.append(write_csv(a50, alpha50_csv))
    if plots is not None:
        from ._common import use_agg

        use_agg()
        if plots.exists() and not plots.is_dir():
            raise NotADirectoryError(f"--plots {plots} exists and is not a directory")
        written.append(plot_success(cells, plots / "success_vs_alpha.png", level=level))
        written.append(plot_time_to_solution(cells, plots / "time_to_solution.png"))
        written.append(plot_alpha50(a50, plots / "alpha50.png", fss))
    if json_out:
        import json

        print_json({**json.loads(to_json(cells, a50, fss)), "failures": len(failures),
                    "written": [str(p) for p in written]})
        return
    pct = int(round(level * 100))
    if show_cells:
        t = Table(title=f"success probability ({method} {pct}% interval) — "
                        + ", ".join(map(str, [*dbs, *cells_csv])))
        # q-state solvers: the mean fraction of zero weights of the solutions
        zeros = any((c["zero_fraction_solved"] or 0.0) > 0 for c in cells)
        for col in ("solver", "problem", "N", "α", "solved/trials", "P(solved)", f"{pct}% interval",
                    "median s (solved)", "median epochs") + (("zeros (solved)",) if zeros else ()):
            t.add_column(col, justify="left" if col in ("solver", "problem") else "right")
        for c in cells:
            t.add_row(
                c["label"], c["problem"], str(c["n"]), f"{c['alpha']:.4g}", f"{c['solved']}/{c['trials']}",
                _fmt(c["p_success"], 2), f"[{c['ci_low']:.2f}, {c['ci_high']:.2f}]",
                _fmt_seconds(c["median_seconds_solved"]), _fmt(c["median_epochs_solved"], 0),
                *((_fmt(c["zero_fraction_solved"], 3),) if zeros else ()),
            )
        console.print(t)
    t = Table(title="α_50 (isotonic fit, linear interpolation at P(solved) = 1/2; 95% interval from Jeffreys draws)")
    for col in ("solver", "problem", "N", "α_50", "95% interval", "α range", "solved/trials", "median s to solution"):
        t.add_column(col, justify="left" if col in ("solver", "problem") else "right")
    for r in a50:
        t.add_row(
            r["label"], r["problem"], str(r["n"]), r["alpha50_text"],
            f"[{r['alpha50_ci_low']:.3f}, {r['alpha50_ci_high']:.3f}]",
            f"{r['alpha_min']:.3g}–{r['alpha_max']:.3g}", f"{r['solved']}/{r['trials']}",
            _fmt_seconds(r["median_seconds_solved"]),
        )
    console.print(t)
    if fss:
        t = Table(title="finite-size scaling of α_50: a constant, or α_∞ − a N^(−ν) when it fits better "
                        "(likelihood-ratio test at 95%); 95% bootstrap intervals")
        for col in ("solver", "problem", "sizes", "law", "α_∞", "95% interval", "a", "ν", "ν 95%", "χ²/dof"):
            t.add_column(col, justify="left" if col in ("solver", "problem", "law") else "right")
        for f in fss:
            nu = "—" if f["nu"] is None else f"{f['nu']:.2f}"
            nu_ci = "—" if f["nu_ci"] is None else f"[{f['nu_ci'][0]:.2f}, {f['nu_ci'][1]:.2f}]"
            t.add_row(f["label"], f["problem"], ",".join(map(str, f["sizes"])), f["model"], f"{f['alpha_inf']:.4f}",
                      f"[{f['alpha_inf_ci'][0]:.4f}, {f['alpha_inf_ci'][1]:.4f}]", f"{f['a']:.3g}",
                      nu, nu_ci, f"{f['chi2']:.2f}/{f['dof']}")
        console.print(t)
    codes: dict[str, set[str]] = {}
    for r in rows:
        if r.get("solver_code"):
            codes.setdefault(r["solver"], set()).add(r["solver_code"])
    for name, versions in sorted(codes.items()):
        if len(versions) > 1:
            err_console.print(f"[yellow]rows of solver {name!r} come from {len(versions)} versions of its source "
                              "file (column solver_code): its code changed during the sweep.[/yellow]")
    if dropped:
        err_console.print(f"[yellow]{dropped} trial(s) stored in more than one database were counted once."
                          "[/yellow]")
    if joined:
        err_console.print(f"[yellow]{joined} cell(s) were added up from several sources (--cells): their counts "
                          "are summed, so the sources must hold different seeds; medians of such cells are "
                          "shown only where one source holds all their solved trials.[/yellow]")
    if failures:
        err_console.print(f"[yellow]{len(failures)} solver failure(s) recorded in {', '.join(map(str, dbs))} "
                          "(table 'failures'); those trials are retried by a rerun.[/yellow]")
    for p in written:
        err_console.print(f"wrote {p}")


def register(app: typer.Typer) -> None:
    """Add ``sweep`` and ``report`` to the root app."""

    @app.command("sweep")
    def sweep(
        db: Path = typer.Argument(..., help="SQLite result file (created; a rerun resumes it)."),
        config: Optional[Path] = typer.Option(None, "--config", "-c", help="Grid TOML file; flags below override it."),
        solver: list[str] = typer.Option(
            [], "--solver", "-s", help="Solver name (repeat, or comma-separated); 'all' = every registered solver."
        ),
        n: Optional[str] = typer.Option(None, "--n", help="N values, e.g. '1001' or '201,401,1001'."),
        alpha: Optional[str] = typer.Option(
            None, "--alpha", "-a", help="Loads: '0.5,0.6' or 'start:stop:step' (stop included), e.g. 0.50:0.75:0.05."
        ),
        seeds: Optional[str] = typer.Option(
            None, "--seeds", help="Seeds: a count ('10' = 0..9), 'start:stop' or '1,5,9'. Default 10."
        ),
        problem: Optional[str] = typer.Option(None, "--problem", help="'random' (default) or 'teacher'."),
        option: Optional[list[str]] = option_option(),
        plugin: list[str] = typer.Option(
            [], "--plugin", help="Module or .py file that registers extra solvers (imported in every worker)."
        ),
        scheduler: Optional[str] = typer.Option(
            None, "--scheduler",
            help="Where trials run: local processes (default), 'serial', 'local:K' (Dask LocalCluster, "
                 "K workers) or 'tcp://HOST:PORT' (existing Dask scheduler).",
        ),
        workers: Optional[int] = typer.Option(None, "--workers", "-j", help="Local pool size. Default: available cores."),
        plots: Optional[Path] = typer.Option(None, "--plots", help="After the sweep, write the report's PNG plots here."),
        csv: Optional[Path] = typer.Option(None, "--csv", help="After the sweep, export the success table as CSV."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Validate the grid, print it and the trials left; run nothing."),
        json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    ) -> None:
        """Run a grid of solvers × N × α × seeds; one SQLite row per finished trial.

        Trials run in worker processes (or on Dask), each rebuilding its instance from
        (N, α, seed); the driver commits every result as it arrives, so an interrupted
        sweep keeps its finished trials and the same command resumes it.
        """
        from ..experiments.grid import build_grid, grid_from_toml, load_plugins
        from ..experiments.runner import parse_scheduler, run_sweep
        from ..experiments.store import ResultStore
        from ..solvers import available

        parse_scheduler(scheduler)
        base = grid_from_toml(config) if config is not None else None
        names: list[str] = [x for s in solver for x in s.replace(" ", "").split(",") if x]
        load_plugins(list(plugin) + (list(base.plugins) if base is not None else []))
        if names:
            targets = available() if "all" in names else names
        else:
            targets = sorted({v.solver for v in base.variants}) if base is not None else []
        opts = {k: v for k, v in parse_solver_options(option, targets).items() if v}
        grid = build_grid(
            solvers=names or None, n=n, alpha=alpha, seeds=seeds,
            problem=parse_problem(problem) if problem is not None else None,
            options=opts, plugins=plugin, base=base,
        )
        if dry_run:
            done = set()
            if db.is_file():
                with ResultStore(db, create=False) as store:
                    done = store.finished_keys()
            left = sum(t.key not in done for t in grid.trials())
            desc = {**grid.describe(), "trials_left": left}
            if json_out:
                print_json(desc)
            else:
                for k, v in desc.items():
                    console.print(f"{k}: {_compact(v)}", highlight=False, markup=False, soft_wrap=True)
            return

        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        progress = Progress(
            TextColumn("[bold]sweep[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("solved {task.fields[solved]}  failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[last]}", style="dim"),
            console=err_console,
            transient=False,
        )
        import time

        # Without a terminal (nohup, CI logs) a live bar cannot redraw: log one line per trial.
        live = err_console.is_terminal
        state: dict[str, Any] = {"task": None, "solved": 0, "failed": 0, "done": 0, "total": 0,
                                 "t0": time.monotonic()}

        def on_start(pending: int, skipped: int) -> None:
            if skipped:
                err_console.print(f"resuming {db}: {skipped} finished trials skipped, {pending} to run")
            state["total"] = pending
            state["t0"] = time.monotonic()
            if live:
                state["task"] = progress.add_task("sweep", total=pending, solved=0, failed=0, last="")

        def on_result(out: Any) -> None:
            if out.row is not None:
                state["solved"] += int(out.row["solved"])
                last = f"{out.trial.solver} N={out.trial.n} α={out.trial.alpha:g} seed={out.trial.seed}"
            else:
                state["failed"] += 1
                last = f"FAILED {out.trial.solver} seed={out.trial.seed}: {out.error}"[:80]
            state["done"] += 1
            if live:
                progress.update(state["task"], advance=1, solved=state["solved"], failed=state["failed"], last=last)
            else:
                elapsed = time.monotonic() - state["t0"]
                eta = elapsed / state["done"] * (state["total"] - state["done"])
                solved = "solved" if out.row is not None and out.row["solved"] else "unsolved"
                err_console.print(
                    f"[{state['done']}/{state['total']}] {last} {solved if out.row is not None else ''} "
                    f"| solved {state['solved']} failed {state['failed']} | elapsed {elapsed:.0f} s, ETA {eta:.0f} s",
                    highlight=False, soft_wrap=True,
                )

        import signal

        def _terminate(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        # `kill PID` (SIGTERM) takes the same clean path as Ctrl-C: workers are stopped,
        # finished trials are already committed.
        previous = signal.signal(signal.SIGTERM, _terminate)
        with ResultStore(db) as store:
            try:
                with progress if live else _nullcontext():
                    summary = run_sweep(grid, store, scheduler=scheduler, workers=workers,
                                        on_start=on_start, on_result=on_result)
            except KeyboardInterrupt:
                err_console.print(
                    f"interrupted: {store.count()} finished trials are stored in {db}; "
                    "rerun the same command to resume"
                )
                raise typer.Exit(130) from None
            finally:
                signal.signal(signal.SIGTERM, previous)
        if json_out:
            print_json({**summary.__dict__, "db": str(db)})
        else:
            err_console.print(
                f"{summary.completed} trials run ({summary.solved} solved, {summary.failed} failed), "
                f"{summary.skipped} skipped as already finished, {summary.seconds:.1f} s; results in {db}"
            )
        if plots is not None or csv is not None:
            _render([db], csv=csv, alpha50_csv=None, plots=plots, json_out=False, level=0.95, method="wilson",
                    show_cells=False)

    @app.command("report")
    def report(
        dbs: Optional[list[Path]] = typer.Argument(
            None, help="SQLite result file(s) written by 'stochsyn sweep'; several are read as one (a trial "
                       "stored twice counts once).", metavar="DB..."),
        cells: Optional[list[Path]] = typer.Option(
            None, "--cells", help="Also read a cell table written earlier by --csv (repeatable): studies whose "
                                  "databases are elsewhere. Cells present in several sources are added up."),
        csv: Optional[Path] = typer.Option(None, "--csv", help="Export the per-(solver, N, α) table as CSV."),
        alpha50_csv: Optional[Path] = typer.Option(None, "--alpha50-csv", help="Export the α_50 table as CSV."),
        plots: Optional[Path] = typer.Option(
            None, "--plots", help="Folder for success_vs_alpha.png, time_to_solution.png, alpha50.png."
        ),
        level: float = typer.Option(0.95, "--level", help="Confidence level of the binomial intervals."),
        method: str = typer.Option("wilson", "--interval", help="'wilson' (default) or 'clopper-pearson'."),
        json_out: bool = typer.Option(False, "--json", help="Print both tables as JSON on stdout."),
    ) -> None:
        """Success probability vs α with binomial intervals, median time to solution, α_50."""
        if not 0 < level < 1:
            raise ValueError(f"--level must be in (0, 1), got {level}")
        if method not in ("wilson", "clopper-pearson"):
            raise ValueError(f"--interval must be 'wilson' or 'clopper-pearson', got {method!r}")
        if not dbs and not cells:
            raise ValueError("report needs a result database (DB) or a cell table (--cells)")
        _render(list(dbs or []), cells_csv=tuple(cells or ()), csv=csv, alpha50_csv=alpha50_csv, plots=plots,
                json_out=json_out, level=level, method=method)
