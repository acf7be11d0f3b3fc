"""Sweep grids: solver variants × N × α × seeds, from CLI flags or a TOML file.

A :class:`Grid` is validated when built (unknown solver, unknown solver option,
α ≤ 0, N < 1, a load that gives no pattern, an empty axis: each raises a
ValueError/TypeError naming the argument, the value and what was expected) and
expands into :class:`Trial` objects. A trial is fully described by plain data
(solver name, options, problem, N, α, seed), so it can be shipped to any
worker, local or remote, and reproduced anywhere.

Seeds. A trial with seed ``s`` draws its instance with
``random_patterns(N, α, seed=s)`` (or ``teacher_student``), so every solver sees
the same instances at a given (N, α, s). The solver gets a *different* seed,
:func:`solver_seed` ``(s)``, derived through ``numpy.random.SeedSequence``:
reusing ``s`` itself would make a solver's random draws coincide bit for bit
with the pattern draws (both use ``default_rng(s)``).

TOML format (every key optional except a solver list; CLI flags override)::

    problem = "random"                  # or "teacher"
    n = [1001]                          # list of N, or one integer
    alpha = "0.50:0.75:0.05"            # list, one number, or "start:stop:step" (stop included)
    seeds = 10                          # count (0..9), list, or "start:stop" (stop excluded)
    solvers = ["sbpi", "rbp"]           # names; "all" = every registered solver
    plugins = ["my_package.my_solver"]  # modules (or .py files) that register extra solvers

    [options.sbpi]                      # options for one solver
    max_epochs = 2000

    [[variants]]                        # extra (solver, options) pairs, e.g. two settings of one solver
    solver = "stochastic"
    options = { lr = 0.3 }
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import math
import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .. import validation as V

__all__ = [
    "PROBLEMS",
    "Variant",
    "Trial",
    "Grid",
    "canonical_options",
    "solver_seed",
    "parse_alphas",
    "parse_seeds",
    "parse_ints",
    "load_plugins",
    "grid_from_toml",
    "build_grid",
]

#: Problem generators a trial may name (the ``problem`` field).
PROBLEMS = ("random", "teacher")

# Alphas from "start:stop:step" are rounded (validation.GRID_DECIMALS) so that
# 0.5 + 2*0.05 is stored as 0.6, not 0.6000000000000001: trial keys must be stable.


def canonical_options(options: Mapping[str, Any]) -> str:
    """Canonical JSON of solver options: sorted keys, no spaces (the identity used in trial keys).

    Raises:
        TypeError: if ``options`` is not a mapping of JSON-representable values.
    """
    if not isinstance(options, Mapping):
        raise TypeError(f"options must be a mapping of option name to value, got {options!r}")
    _check_json_value(options, "options")
    return json.dumps(dict(options), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _check_json_value(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where} keys must be strings, got {k!r}")
            _check_json_value(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_json_value(v, f"{where}[{i}]")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} must be finite, got {value!r}")
    elif not (value is None or isinstance(value, (str, int, bool))):
        raise TypeError(
            f"{where} must be a JSON value (number, string, bool, list, table), got {value!r} "
            f"of type {type(value).__name__}"
        )


def solver_seed(seed: int) -> int:
    """Seed handed to the solver for trial seed ``seed``: the first 32-bit word of
    ``numpy.random.SeedSequence([seed, 0x5EED])``. Independent of the instance stream
    ``default_rng(seed)`` yet a pure function of ``seed``."""
    return int(np.random.SeedSequence([int(seed), 0x5EED]).generate_state(1, dtype=np.uint32)[0])


@dataclass(frozen=True)
class Variant:
    """A solver together with one set of options."""

    solver: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def options_json(self) -> str:
        """Canonical JSON of :attr:`options`."""
        return canonical_options(self.options)

    @property
    def label(self) -> str:
        """``solver`` alone when there are no options, else ``solver{options}``."""
        oj = self.options_json
        return self.solver if oj == "{}" else f"{self.solver}{oj}"


@dataclass(frozen=True)
class Trial:
    """One (solver, options, problem, N, α, seed) cell of a sweep."""

    solver: str
    options_json: str
    problem: str
    n: int
    alpha: float
    seed: int

    @property
    def key(self) -> str:
        """Stable identity of the trial: ``solver|options|problem|N|alpha|seed``.

        A rerun skips every trial whose key is already in the result store.
        """
        return f"{self.solver}|{self.options_json}|{self.problem}|{self.n}|{self.alpha!r}|{self.seed}"

    @property
    def short_id(self) -> str:
        """First 16 hex digits of the SHA-256 of :attr:`key` (task names, logs)."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, for shipping to a worker."""
        return {
            "solver": self.solver,
            "options_json": self.options_json,
            "problem": self.problem,
            "n": self.n,
            "alpha": self.alpha,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Trial":
        """Inverse of :meth:`to_dict`."""
        return cls(
            solver=str(d["solver"]),
            options_json=str(d["options_json"]),
            problem=str(d["problem"]),
            n=int(d["n"]),
            alpha=float(d["alpha"]),
            seed=int(d["seed"]),
        )


@dataclass(frozen=True)
class Grid:
    """A validated sweep: every variant × N × α × seed for one problem kind.

    Args:
        variants: (solver, options) pairs; at least one.
        ns: numbers of synapses N, each ≥ 1.
        alphas: loads α, each finite and > 0, with α·N ≥ 1/2 for every N.
        seeds: non-negative integer seeds.
        problem: ``"random"`` (storage problem, default) or ``"teacher"``.
        plugins: modules or ``.py`` files imported (in the driver and in every
            worker) before the solver registry is used, so that they can register
            extra solvers. Default: none.

    Raises:
        ValueError: an empty axis, α ≤ 0, N < 1, a negative seed, duplicate
            values, an unknown problem or solver, or an option the solver does
            not accept.
        TypeError: values of the wrong type.
    """

    variants: tuple[Variant, ...]
    ns: tuple[int, ...]
    alphas: tuple[float, ...]
    seeds: tuple[int, ...]
    problem: str = "random"
    plugins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        from ..problems import n_patterns

        object.__setattr__(self, "variants", tuple(self.variants))
        object.__setattr__(self, "ns", tuple(self.ns))
        object.__setattr__(self, "alphas", tuple(self.alphas))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        object.__setattr__(self, "plugins", tuple(self.plugins))
        if self.problem not in PROBLEMS:
            raise ValueError(f"problem must be one of {list(PROBLEMS)}, got problem={self.problem!r}")
        for name, axis in (("solvers", self.variants), ("n", self.ns), ("alpha", self.alphas), ("seeds", self.seeds)):
            if len(axis) == 0:
                raise ValueError(f"empty grid: {name} has no values; expected at least one")
        for n in self.ns:
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
                raise TypeError(f"n must be integers, got n={n!r}")
            if n < 1:
                raise ValueError(f"n must be >= 1, got n={n}")
        for a in self.alphas:
            if isinstance(a, bool) or not isinstance(a, (int, float, np.integer, np.floating)):
                raise TypeError(f"alpha must be real numbers, got alpha={a!r}")
            if not math.isfinite(a) or a <= 0:
                raise ValueError(f"alpha must be finite and > 0, got alpha={a!r}")
        for s in self.seeds:
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
                raise TypeError(f"seeds must be integers, got seed={s!r}")
            if s < 0:
                raise ValueError(f"seeds must be >= 0, got seed={s}")
        object.__setattr__(self, "ns", tuple(int(n) for n in self.ns))
        object.__setattr__(self, "alphas", tuple(float(a) for a in self.alphas))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        for name, axis in (("n", self.ns), ("alpha", self.alphas), ("seeds", self.seeds)):
            dup = _duplicates(axis)
            if dup:
                raise ValueError(f"{name} lists duplicate values {dup}; expected each value once")
        dup = _duplicates([v.label for v in self.variants])
        if dup:
            raise ValueError(f"solvers list the same solver/options twice: {dup}")
        for n in self.ns:
            for a in self.alphas:
                n_patterns(n, a)  # raises when alpha*n < 1/2
        load_plugins(self.plugins)
        for v in self.variants:
            _check_variant(v)

    @property
    def size(self) -> int:
        """Number of trials."""
        return len(self.variants) * len(self.ns) * len(self.alphas) * len(self.seeds)

    def trials(self) -> list[Trial]:
        """All trials, seed-major: every (variant, N, α) at seed 0 first, then seed 1, …

        Seed-major order means an interrupted sweep already covers the whole
        (solver, N, α) plane with a few seeds.
        """
        return [
            Trial(v.solver, v.options_json, self.problem, n, a, s)
            for s in self.seeds
            for n in self.ns
            for a in self.alphas
            for v in self.variants
        ]

    def describe(self) -> dict[str, Any]:
        """JSON-friendly summary of the grid."""
        return {
            "problem": self.problem,
            "solvers": [v.label for v in self.variants],
            "n": list(self.ns),
            "alpha": list(self.alphas),
            "seeds": list(self.seeds),
            "plugins": list(self.plugins),
            "trials": self.size,
        }


def _duplicates(values: Sequence[Any]) -> list[Any]:
    """Values that occur more than once, sorted (linear time: a sweep may have 10^5 seeds)."""
    from collections import Counter

    return sorted(v for v, k in Counter(values).items() if k > 1)


def _check_variant(v: Variant) -> None:
    from ..solvers.base import check_options, get_solver

    if not isinstance(v.solver, str):
        raise TypeError(f"solver must be a name (str), got {v.solver!r}")
    get_solver(v.solver)  # ValueError naming the registered solvers
    canonical_options(v.options)
    for k in ("seed", "callback"):
        if k in v.options:
            raise ValueError(f"option {k!r} of solver {v.solver!r} is set by the sweep itself")
    try:
        check_options(v.solver, v.options)
    except TypeError as exc:  # a grid file is a value, not a call: report it as ValueError
        raise ValueError(str(exc)) from None


# -- parsing of axis specifications ------------------------------------------------

def parse_alphas(spec: str | float | Sequence[float]) -> list[float]:
    """Loads from ``"0.5,0.6"``, ``"0.50:0.75:0.05"`` (stop included when on the grid),
    a number or a list: the package's one range syntax, :func:`stochsyn.validation.grid`.
    An empty spec gives [] (the grid then reports an empty axis)."""
    if (isinstance(spec, str) and not spec.strip(" ,")) or (isinstance(spec, (list, tuple)) and not spec):
        return []
    return V.grid(spec, "alpha")


def parse_seeds(spec: str | int | Sequence[int]) -> list[int]:
    """Seeds from a count ``10`` (0…9), ``"3:7"`` (3…6), ``"1,5,9"`` or a list
    (:func:`stochsyn.validation.seed_list`). An empty spec gives []."""
    if (isinstance(spec, str) and not spec.strip(" ,")) or (isinstance(spec, (list, tuple)) and not spec):
        return []
    return V.seed_list(spec, "seeds")


def parse_ints(spec: str | int | Sequence[int], name: str = "n") -> list[int]:
    """Integers from ``"101,201"``, one integer or a list (``name`` is used in errors)."""
    if isinstance(spec, bool):
        raise TypeError(f"{name} must be integers, got {spec!r}")
    if isinstance(spec, int):
        return [spec]
    if isinstance(spec, str):
        try:
            return [int(x) for x in spec.replace(" ", "").split(",") if x]
        except ValueError:
            raise ValueError(f"{name} must be integers separated by commas, got {name}={spec!r}") from None
    if isinstance(spec, (list, tuple)):
        for x in spec:
            if isinstance(x, bool) or not isinstance(x, int):
                raise TypeError(f"{name} must be integers, got {x!r} in {name}={list(spec)!r}")
        return list(spec)
    raise TypeError(f"{name} must be integers, got {spec!r}")


def load_plugins(plugins: Iterable[str]) -> None:
    """Import each plugin (a module name, or a path to a ``.py`` file) once.

    A file is imported under a name derived from its absolute path, so loading it
    twice (driver and in-process worker) registers its solvers once.
    """
    for spec in plugins:
        if not isinstance(spec, str) or not spec:
            raise TypeError(f"plugins must be module names or .py paths, got {spec!r}")
        if spec.endswith(".py"):
            path = Path(spec).resolve()
            if not path.is_file():
                raise FileNotFoundError(f"plugin file {spec!r} does not exist")
            name = "stochsyn_plugin_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
            if name in sys.modules:
                continue
            mod_spec = importlib.util.spec_from_file_location(name, path)
            if mod_spec is None or mod_spec.loader is None:
                raise ValueError(f"cannot import plugin file {spec!r}")
            module = importlib.util.module_from_spec(mod_spec)
            sys.modules[name] = module
            try:
                mod_spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
        else:
            try:
                importlib.import_module(spec)
            except ModuleNotFoundError as exc:
                raise ValueError(f"plugin module {spec!r} cannot be imported: {exc}") from None


# -- building grids -------------------------------------------------------------------

def grid_from_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a grid TOML file into the keyword form accepted by :func:`build_grid`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no grid file at {path}")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"grid file {path} is not valid TOML: {exc}") from None
    known = {"problem", "n", "alpha", "seeds", "solvers", "plugins", "options", "variants"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"grid file {path} has unknown keys {unknown}; expected some of {sorted(known)}")
    return data


def build_grid(
    *,
    solvers: Sequence[str] | str | None = None,
    n: Any = None,
    alpha: Any = None,
    seeds: Any = None,
    problem: str | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    variants: Sequence[Mapping[str, Any]] | None = None,
    plugins: Sequence[str] | None = None,
    base: Mapping[str, Any] | None = None,
) -> Grid:
    """A :class:`Grid` from keyword values, each overriding the same key of ``base``
    (e.g. a dict from :func:`grid_from_toml`).

    Args:
        solvers: solver names, a comma-separated string, or ``"all"`` for every
            registered solver. Default: none (then ``variants`` must give some).
        n: N values (see :func:`parse_ints`). Required.
        alpha: loads (see :func:`parse_alphas`). Required.
        seeds: seeds (see :func:`parse_seeds`). Default: 10 (seeds 0…9).
        problem: ``"random"`` (default) or ``"teacher"``.
        options: per-solver options ``{solver: {key: value}}``, merged over ``base``'s.
        variants: extra ``{"solver": name, "options": {...}}`` entries.
        plugins: extra modules/files that register solvers (see :class:`Grid`).
    """
    from ..solvers import available

    cfg: dict[str, Any] = dict(base or {})
    for key, val in (("solvers", solvers), ("n", n), ("alpha", alpha), ("seeds", seeds), ("problem", problem)):
        if val is not None:
            cfg[key] = val
    merged_opts: dict[str, dict[str, Any]] = {}
    for source in (cfg.get("options") or {}, options or {}):
        if not isinstance(source, Mapping):
            raise TypeError(f"options must be a table of solver name to option table, got options={source!r}")
        for solver, opts in source.items():
            if not isinstance(opts, Mapping):
                raise TypeError(f"options for solver {solver!r} must be a table of option values, got {opts!r}")
            merged_opts.setdefault(solver, {}).update(opts)
    plugin_list = list(cfg.get("plugins") or []) + [p for p in (plugins or []) if p not in (cfg.get("plugins") or [])]
    load_plugins(plugin_list)

    if "n" not in cfg:
        raise ValueError("empty grid: no n given; expected at least one N (e.g. --n 1001)")
    if "alpha" not in cfg:
        raise ValueError("empty grid: no alpha given; expected at least one load (e.g. --alpha 0.5:0.75:0.05)")
    names = cfg.get("solvers") or []
    if isinstance(names, str):
        names = [x for x in names.replace(" ", "").split(",") if x]
    if not isinstance(names, (list, tuple)) or not all(isinstance(x, str) for x in names):
        raise TypeError(f"solvers must be a list of names, got solvers={names!r}")
    if "all" in names:
        names = [x for x in names if x != "all"] + [x for x in available() if x not in names]
    for solver in merged_opts:
        if solver not in names:
            raise ValueError(
                f"options given for solver {solver!r}, which is not in the grid's solvers {list(names)}"
            )
    vlist = [Variant(name, merged_opts.get(name, {})) for name in names]
    for entry in list(cfg.get("variants") or []) + list(variants or []):
        if not isinstance(entry, Mapping) or "solver" not in entry:
            raise ValueError(f"each variant must be a table with a 'solver' key, got {entry!r}")
        extra = set(entry) - {"solver", "options"}
        if extra:
            raise ValueError(f"variant {entry!r} has unknown keys {sorted(extra)}; expected 'solver' and 'options'")
        vlist.append(Variant(entry["solver"], dict(entry.get("options") or {})))
    return Grid(
        variants=tuple(vlist),
        ns=tuple(parse_ints(cfg["n"], "n")),
        alphas=tuple(parse_alphas(cfg["alpha"])),
        seeds=tuple(parse_seeds(cfg.get("seeds", 10))),
        problem=str(cfg.get("problem", "random")),
        plugins=tuple(plugin_list),
    )
