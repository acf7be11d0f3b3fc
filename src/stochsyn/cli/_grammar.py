"""The one command-line grammar (docs/cli.md): shared options, value syntaxes, output checks.

Every command declares the same concept with the same option, built here:

* ``--n``, ``--alpha``, ``--seed`` (one run) / ``--seeds SPEC`` (several runs);
* ``--solver/-s NAME[,NAME…]`` and ``--option/-o [SOLVER.]KEY=VALUE`` (repeatable);
* ``--problem random|teacher``;
* ``--out PATH`` for what a command writes, checked *before* any work is done;
* ``--json`` for one JSON document on stdout instead of the human summary.

Value syntaxes (one each, parsed by :mod:`stochsyn.validation`): a number list
``0.1,0.2``; a range ``start:stop:step`` (stop included when it lies on the grid);
seeds as a count ``10`` (0…9), a range ``start:stop`` (stop excluded) or a list ``1,5,9``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from .. import validation as V

__all__ = [
    "json_option",
    "seeds_option",
    "solver_option",
    "option_option",
    "problem_option",
    "parse_solver_options",
    "check_solvers",
    "parse_problem",
    "parse_seeds",
    "parse_grid",
    "parse_names",
    "check_output_file",
    "check_output_dir",
    "PROBLEMS",
]

PROBLEMS = ("random", "teacher")
_PROBLEM_ALIASES = {"teacher-student": "teacher", "teacher_student": "teacher"}


def json_option() -> Any:
    return typer.Option(False, "--json", help="Print one JSON document on stdout instead of the summary.")


def seeds_option(default: str, what: str = "runs") -> Any:
    return typer.Option(default, "--seeds",
                        help=f"Seeds of the {what}: a count '10' (0..9), 'start:stop' (stop excluded) or '1,5,9'.")


def solver_option(default: str | None, *, several: bool = False, extra: str = "") -> Any:
    """``--solver/-s``: one name, or (``several``) names comma-separated or the option repeated."""
    if several:
        return typer.Option([default] if default else [], "--solver", "-s",
                            help=f"Solver names, comma-separated or repeated (see `stochsyn solvers`){extra}.")
    return typer.Option(default, "--solver", "-s", help=f"Solver name (see `stochsyn solvers`){extra}.")


def option_option() -> Any:
    return typer.Option(None, "--option", "-o",
                        help="Solver option KEY=VALUE (every solver of the command) or SOLVER.KEY=VALUE; "
                             "VALUE is read as JSON when it parses. Repeatable.")


def problem_option() -> Any:
    return typer.Option("random", "--problem", help="'random' (random labels) or 'teacher' (teacher-student).")


def check_solvers(names: list[str], *, extra: tuple[str, ...] = (), problem: str = "perceptron") -> list[str]:
    """``names`` if each is a registered solver of ``problem`` (or one of ``extra``); ValueError naming --solver."""
    from ..solvers import available

    known = available(problem)
    for name in names:
        if name not in known and name not in extra:
            raise ValueError(f"--solver {name!r}: expected one of {known + list(extra)}")
    return names


def parse_problem(text: str) -> str:
    """``random`` or ``teacher`` (``teacher-student`` is accepted for ``teacher``)."""
    value = _PROBLEM_ALIASES.get(text, text)
    return V.choice("--problem", value, PROBLEMS)


def parse_names(text: str | list[str] | None, name: str) -> list[str]:
    """``'a,b'`` (or the option repeated) → ``['a', 'b']``; at least one name."""
    items = text if isinstance(text, list) else [text or ""]
    vals = [t.strip() for item in items for t in item.split(",") if t.strip()]
    if not vals:
        raise ValueError(f"{name} must list at least one name, got {text!r}")
    return vals


def parse_solver_options(pairs: list[str] | None, solvers: list[str]) -> dict[str, dict[str, Any]]:
    """``["lr=0.05", "sbpi.max_epochs=200"]`` → options per solver of ``solvers``.

    ``KEY=VALUE`` applies to every solver of the command, ``SOLVER.KEY=VALUE`` to that
    one (which must be among ``solvers``). Values are JSON when they parse
    (``3``, ``0.1``, ``true``, ``[1,2]``), else strings.
    """
    out: dict[str, dict[str, Any]] = {s: {} for s in solvers}
    for item in pairs or []:
        lhs, sep, raw = item.partition("=")
        lhs = lhs.strip()
        if not sep or not lhs:
            raise ValueError(f"--option must look like KEY=VALUE or SOLVER.KEY=VALUE, got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        solver, dot, key = lhs.rpartition(".")
        key = key.replace("-", "_")
        if not dot:
            for s in solvers:
                out[s][key] = value
            continue
        if solver not in out:
            raise ValueError(f"--option {item!r} names solver {solver!r}, which this command does not run "
                             f"(it runs {solvers})")
        out[solver][key] = value
    return out


def parse_seeds(text: str, name: str = "--seeds") -> list[int]:
    """Seeds from a count, ``start:stop`` or a comma list (see the module docstring)."""
    return V.seed_list(text, name)


def parse_grid(text: str, name: str) -> list[float]:
    """Numbers from ``0.1,0.2`` or ``start:stop:step`` (see :func:`stochsyn.validation.grid`)."""
    return V.grid(text, name)


def check_output_file(path: Path | None, option: str) -> Path | None:
    """Refuse an output file path that cannot be written, before the command does any work.

    The path must not be a directory, and its parent must be a directory or creatable.
    """
    if path is None:
        return None
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{option} {path} is a directory; give a file name")
    _check_parent(path, option)
    return path


def check_output_dir(path: Path | None, option: str) -> Path | None:
    """Refuse an output folder that exists as a file (or lies under one), before any work."""
    if path is None:
        return None
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{option} {path} exists and is not a directory")
    _check_parent(path, option)
    return path


def _check_parent(path: Path, option: str) -> None:
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(f"{option} {path}: {parent} is a file, not a directory")
            return
