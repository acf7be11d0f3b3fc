"""Damped fixed-point iteration for replica saddle-point equations.

Every saddle point in :mod:`stochsyn.theory` is written as ``x = F(x)`` for a
vector of order parameters and solved by the damped iteration

    x_{t+1} = (1 - damping) * F(x_t) + damping * x_t ,

stopping when ``max |F(x_t) - x_t| < tol``. The report says whether it
converged, after how many iterations, and with which final residual, so that
callers (and tests) can check convergence rather than trust it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["SaddleReport", "SaddlePointError", "fixed_point"]


class SaddlePointError(RuntimeError):
    """A saddle-point iteration did not converge (carries the :class:`SaddleReport`)."""

    def __init__(self, message: str, report: "SaddleReport"):
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class SaddleReport:
    """Outcome of :func:`fixed_point`.

    ``x``: final order parameters; ``converged``: residual below ``tol``;
    ``iterations``: number of evaluations of F; ``residual``: final
    ``max |F(x) - x|``; ``damping``/``tol``: settings used;
    ``residuals``: residual after each iteration (for diagnostics).
    """

    x: np.ndarray
    converged: bool
    iterations: int
    residual: float
    damping: float
    tol: float
    residuals: tuple[float, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict:
        """JSON-friendly summary (without the residual history)."""
        return {
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "residual": float(self.residual),
            "damping": float(self.damping),
            "tol": float(self.tol),
        }


def fixed_point(
    update: Callable[[np.ndarray], np.ndarray],
    x0,
    *,
    damping: float = 0.5,
    tol: float = 1e-12,
    max_iter: int = 20000,
    raise_on_failure: bool = True,
    name: str = "saddle point",
) -> SaddleReport:
    """Solve ``x = update(x)`` by damped iteration from ``x0``.

    Parameters
    ----------
    update : callable mapping an array of shape ``x0.shape`` to the same shape.
    x0 : initial order parameters.
    damping : weight of the old iterate, in [0, 1) (default 0.5).
    tol : stop when ``max |update(x) - x| < tol`` (default 1e-12).
    max_iter : iteration budget (default 20000).
    raise_on_failure : raise :class:`SaddlePointError` if not converged or if
        ``update`` returns a non-finite value (default True); otherwise return
        the report with ``converged=False``.
    name : label used in error messages.
    """
    if not (0.0 <= damping < 1.0):
        raise ValueError(f"damping={damping!r}: expected a number in [0, 1)")
    if not (tol > 0):
        raise ValueError(f"tol={tol!r}: expected a positive number")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter={max_iter!r}: expected a positive integer")
    x = np.array(x0, dtype=float, copy=True)
    residuals: list[float] = []
    res = np.inf
    ok = False
    it = 0
    for it in range(1, int(max_iter) + 1):
        fx = np.asarray(update(x), dtype=float)
        if not np.all(np.isfinite(fx)):
            break
        res = float(np.max(np.abs(fx - x)))
        residuals.append(res)
        x = (1.0 - damping) * fx + damping * x
        if res < tol:
            ok = True
            break
    report = SaddleReport(x, ok, it, res, float(damping), float(tol), tuple(residuals))
    if not ok and raise_on_failure:
        raise SaddlePointError(
            f"{name}: no convergence after {it} iterations (residual {res:.3g}, tol {tol:.3g}, "
            f"damping {damping}); try a larger damping or max_iter",
            report,
        )
    return report
