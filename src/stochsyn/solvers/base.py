"""The solver contract: one :class:`Result` type, one registry, one :func:`solve`.

A solver is a function ``fn(instance, *, seed, **options) -> Result`` registered
under a name with :func:`register`. Every solver documents each option and its
default in its docstring. :func:`solve` looks the method up, runs it, times it
and re-verifies the returned weights with an independent error count, so a
buggy solver can never report a false success.

Callbacks: solvers that iterate accept ``callback=None``; when given, it is
called as ``callback(epoch, info)`` after every epoch (``info`` a dict with at
least ``"errors"``) and may return True to stop early. Progress bars hook here.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..problems import Instance

__all__ = [
    "Result",
    "Solver",
    "Callback",
    "register",
    "register_committee",
    "available",
    "get_solver",
    "describe",
    "solve",
    "solver_options",
    "check_options",
]

Callback = Callable[[int, dict[str, Any]], "bool | None"]


@dataclass
class Result:
    """Outcome of one solver run.

    Attributes:
        weights: (N,) int8 array, the weights returned: ±1, or the solver's levels
            (``info["levels"]``, e.g. −1, 0, +1) for q-state solvers.
        solved: True when ``weights`` classifies every pattern correctly.
        errors: training errors of ``weights`` (ties count as errors).
        epochs: sweeps over the training set (or solver iterations) used.
        seconds: wall-clock time of the run.
        method: registry name of the solver.
        seed: the seed used.
        options: the options the solver was called with (JSON-friendly).
        history: optional per-epoch records, e.g. ``{"loss": [...], "errors": [...]}``.
        info: solver-specific extras (convergence flags, final parameters...).
    """

    weights: np.ndarray
    solved: bool
    errors: int
    epochs: int
    seconds: float = 0.0
    method: str = ""
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-friendly record without the weights and history (q-state runs add their
        ``levels`` and the ``zero_fraction`` of the weights)."""
        rec = {
            "method": self.method,
            "seed": self.seed,
            "solved": bool(self.solved),
            "errors": int(self.errors),
            "epochs": int(self.epochs),
            "seconds": float(self.seconds),
            "options": _jsonable(self.options),
        }
        if "levels" in self.info:
            rec["levels"] = [int(v) for v in self.info["levels"]]
            rec["zero_fraction"] = float(np.mean(np.asarray(self.weights) == 0))
        return rec


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(obj)


#: A registered solver: ``fn(instance, *, seed, callback=None, <explicit keyword options>) -> Result``.
#: (A Callable rather than a Protocol: every solver lists its own keyword options.)
Solver = Callable[..., Result]


@dataclass(frozen=True)
class _Entry:
    name: str
    fn: Solver
    summary: str


# The registries are module-level tables filled by ``@register`` / ``@register_committee``
# at import time of the solver modules; read-only afterwards (no mutable run state here).
# Perceptron and committee-machine solvers share names ("stochastic") but not tables.
_REGISTRY: dict[str, _Entry] = {}
_COMMITTEE: dict[str, _Entry] = {}
_PROBLEMS = ("perceptron", "committee")


def _table(problem: str) -> dict[str, _Entry]:
    if problem not in _PROBLEMS:
        raise ValueError(f"problem must be one of {list(_PROBLEMS)}, got {problem!r}")
    return _REGISTRY if problem == "perceptron" else _COMMITTEE


def register(name: str, summary: str = "", *, problem: str = "perceptron") -> Callable[[Solver], Solver]:
    """Decorator: register ``fn`` as solver ``name`` (lower-case, unique per problem kind)."""
    if not name or name != name.lower() or " " in name:
        raise ValueError(f"solver name must be a non-empty lower-case word, got {name!r}")
    table = _table(problem)

    def deco(fn: Solver) -> Solver:
        if name in table and table[name].fn is not fn:
            raise ValueError(f"solver {name!r} is already registered")
        doc = (fn.__doc__ or "").strip().splitlines()
        table[name] = _Entry(name, fn, summary or (doc[0] if doc else ""))
        return fn

    return deco


def register_committee(name: str, summary: str = "") -> Callable[[Solver], Solver]:
    """Decorator: register a committee-machine solver (:class:`stochsyn.committee.CommitteeInstance`)."""
    return register(name, summary, problem="committee")


def available(problem: str = "perceptron") -> list[str]:
    """Names of the registered solvers of ``problem`` ("perceptron" or "committee"), sorted."""
    from . import _load_all

    table = _table(problem)
    _load_all()
    return sorted(table)


def describe(problem: str = "perceptron") -> dict[str, str]:
    """Mapping solver name → one-line summary."""
    available(problem)
    table = _table(problem)
    return {k: table[k].summary for k in sorted(table)}


def get_solver(method: str, problem: str = "perceptron") -> Solver:
    """The solver function registered as ``method``; ValueError naming the choices otherwise."""
    names = available(problem)
    table = _table(problem)
    if method not in table:
        what = "solver" if problem == "perceptron" else "committee-machine solver"
        raise ValueError(f"unknown {what} method={method!r}; expected one of {names}")
    return table[method].fn


def solver_options(method: str, problem: str = "perceptron") -> dict[str, Any]:
    """The options of solver ``method`` and their defaults, read off its signature.

    These are its keyword-only parameters other than ``seed`` and ``callback``.
    """
    fn = get_solver(method, problem)
    return {
        name: p.default
        for name, p in inspect.signature(fn).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("seed", "callback")
    }


def check_options(method: str, options: dict[str, Any] | Any, problem: str = "perceptron") -> None:
    """Raise TypeError naming the options that solver ``method`` does not take.

    The message lists the accepted options; a solver may map renamed options to a hint
    in a ``renamed_options`` attribute, which is appended for the names it knows.
    """
    accepted = solver_options(method, problem)
    unknown = sorted(set(options) - set(accepted) - {"callback"})
    if not unknown:
        return
    renamed = getattr(get_solver(method, problem), "renamed_options", {})
    hints = [f"{k!r} is now {renamed[k]}" for k in unknown if k in renamed]
    raise TypeError(
        f"unknown option(s) for method {method!r}: {unknown}; expected some of {sorted(accepted)}"
        + (f" ({'; '.join(hints)})" if hints else "")
    )


def solve(instance: Any, method: str = "stochastic", seed: int | None = 0, **options: Any) -> Result:
    """Run solver ``method`` on ``instance`` and return a verified :class:`Result`.

    ``instance`` is a perceptron :class:`~stochsyn.problems.Instance` or a
    :class:`~stochsyn.committee.CommitteeInstance`; each kind has its own registry
    (``available("committee")``), and a committee result carries (K, N) ±1 weights
    re-checked by :meth:`CommitteeInstance.errors` (``info["duplicate_pairs"]``: pairs of
    hidden units with overlap |W_k·W_l|/N > 0.9).

    The weights (±1, or the levels the solver declares in ``info["levels"]``) are
    re-checked with :meth:`stochsyn.problems.Instance.errors` (exact integer
    arithmetic for ±1 patterns and integer weights, dense or packed; a stability
    exactly 0 is an error); ``errors`` and ``solved`` in the
    returned result always come from that check. ``seconds`` is the wall time of
    the whole call.

    Args:
        instance: the problem.
        method: a name from :func:`available` (default ``"stochastic"``, the paper's method).
        seed: seed for the solver's randomness; the same seed gives the same result.
        **options: solver options, documented in each solver's docstring.
    """
    from ..committee import CommitteeInstance

    committee = isinstance(instance, CommitteeInstance)
    if not committee and not isinstance(instance, Instance):
        raise TypeError("instance must be a stochsyn.problems.Instance or a stochsyn.committee.CommitteeInstance, "
                        f"got {type(instance).__name__}")
    problem = "committee" if committee else "perceptron"
    fn = get_solver(method, problem)
    check_options(method, options, problem)
    t0 = time.perf_counter()
    res = fn(instance, seed=seed, **options)
    seconds = time.perf_counter() - t0
    w = np.asarray(res.weights)
    levels = (-1, 1) if committee else res.info.get("levels", (-1, 1))
    shape = (instance.k, instance.n) if committee else (instance.n,)
    if w.shape != shape or not np.all(np.isin(w, levels)):
        raise RuntimeError(f"{'committee ' if committee else ''}solver {method!r} returned weights that are not a "
                           f"{shape} array of its levels {list(levels)}")
    res.weights = w.astype(np.int8, copy=False)
    res.errors = instance.errors(res.weights)
    res.solved = res.errors == 0
    res.seconds = seconds
    res.method = method
    res.seed = seed
    res.options = dict(options)
    res.options.pop("callback", None)
    if committee:
        res.info["duplicate_pairs"] = instance.duplicate_pairs(res.weights)
    return res
