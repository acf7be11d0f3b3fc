"""Experiments: sweeps of solver × N × α × seed (local processes or Dask), the SQLite
result store they write to, and the report (tables, α_50, plots) read from it.

>>> from stochsyn.experiments import build_grid, ResultStore, run_sweep, cell_table, alpha50_table
>>> grid = build_grid(solvers=["sbpi"], n=[201], alpha="0.3:0.6:0.1", seeds=5)   # doctest: +SKIP
>>> with ResultStore("runs/demo.db") as store:                                      # doctest: +SKIP
...     run_sweep(grid, store, scheduler="local:2")
...     cells = cell_table(store.rows())

See ``docs/sweeps.md``.
"""

from .grid import Grid, Trial, Variant, build_grid, grid_from_toml, solver_seed
from .report import alpha50_table, alpha_50, binomial_interval, cell_table
from .runner import Outcome, SweepSummary, run_sweep, run_trial
from .store import ResultStore

__all__ = [
    "Grid",
    "Trial",
    "Variant",
    "build_grid",
    "grid_from_toml",
    "solver_seed",
    "ResultStore",
    "run_sweep",
    "run_trial",
    "Outcome",
    "SweepSummary",
    "cell_table",
    "alpha50_table",
    "alpha_50",
    "binomial_interval",
]
