"""Solvers for the binary perceptron, all behind one registry.

>>> from stochsyn.problems import random_patterns
>>> from stochsyn.solvers import solve, available
>>> res = solve(random_patterns(101, 0.3, seed=1), method="stochastic", seed=0)
>>> res.solved
True

Each solver lives in its own module of this package and registers itself with
:func:`register`; every module here is imported on first use of the registry.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Callback, Result, Solver, available, describe, get_solver, register, solve

__all__ = ["Callback", "Result", "Solver", "available", "describe", "get_solver", "register", "solve"]


def _load_all() -> None:
    """Import every solver module of this package so that it registers itself."""
    for mod in pkgutil.iter_modules(__path__):
        if mod.name != "base" and not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
