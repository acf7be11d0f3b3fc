"""The one saddle-point solver of :mod:`stochsyn.theory`, and its report.

Every saddle point in :mod:`stochsyn.theory` is written as ``x = F(x)`` for a
vector of order parameters and solved by :func:`fixed_point`, with one of two
methods:

* ``"damped"`` (default): x_{t+1} = (1 − damping) F(x_t) + damping x_t, stopping
  when max |F(x_t) − x_t| < tol. With ``domain`` (a predicate on x) a step that
  would leave the domain, or land where F is undefined, is halved (up to 30 times):
  saddle points near a boundary of the order-parameter space need that.
* ``"hybrid"``: Powell's hybrid method (``scipy.optimize.root``) on F(x) − x, after
  ``warmup`` damped steps (hybr needs a start inside the map's basin), checked by
  the same residual.

The :class:`SaddleReport` says whether it converged, after how many iterations,
and with which final residual, so that callers (and tests) can check convergence
rather than trust it.
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
    method: str = "damped",
    domain: Callable[[np.ndarray], bool] | None = None,
    warmup: int = 20,
    xtol: float = 1e-13,
) -> SaddleReport:
    """Solve ``x = update(x)`` from ``x0`` (see the module docstring for the methods).

    Parameters
    ----------
    update : callable mapping an array of shape ``x0.shape`` to the same shape.
    x0 : initial order parameters.
    damping : weight of the old iterate, in [0, 1) (default 0.5).
    tol : stop when ``max |update(x) - x| < tol`` (default 1e-12).
    max_iter : iteration budget (default 20000; for "hybrid", the function evaluations of
        the root finder).
    raise_on_failure : raise :class:`SaddlePointError` if not converged or if
        ``update`` returns a non-finite value (default True); otherwise return
        the report with ``converged=False``.
    name : label used in error messages.
    method : "damped" (default) or "hybrid".
    domain : "damped" only: predicate on x; steps leaving it are halved (default None).
    warmup : "hybrid" only: damped steps before the root finder (default 20).
    xtol : "hybrid" only: the root finder's relative step tolerance (default 1e-13).
    """
    if not (0.0 <= damping < 1.0):
        raise ValueError(f"damping={damping!r}: expected a number in [0, 1)")
    if not (tol > 0):
        raise ValueError(f"tol={tol!r}: expected a positive number")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter={max_iter!r}: expected a positive integer")
    if method == "damped":
        report = _damped(update, x0, damping, tol, int(max_iter), domain)
    elif method == "hybrid":
        report = _hybrid(update, x0, damping, tol, int(max_iter), int(warmup), xtol)
    else:
        raise ValueError(f"method={method!r}: expected 'damped' or 'hybrid'")
    if not report.converged and raise_on_failure:
        raise SaddlePointError(
            f"{name}: no convergence after {report.iterations} iterations (residual {report.residual:.3g}, "
            f"tol {tol:.3g}, damping {damping}); try a larger damping or max_iter",
            report,
        )
    return report


def _damped(update, x0, damping: float, tol: float, max_iter: int, domain) -> SaddleReport:
    x = np.array(x0, dtype=float, copy=True)
    residuals: list[float] = []
    res, ok, it = np.inf, False, 0
    fx = np.asarray(update(x), dtype=float)
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` (iterations made) is reported after the loop
        if not np.all(np.isfinite(fx)):
            break
        res = float(np.max(np.abs(fx - x)))
        residuals.append(res)
        if domain is None:
            x = (1.0 - damping) * fx + damping * x
            if res < tol:
                ok = True
                break
            fx = np.asarray(update(x), dtype=float)
            continue
        if res < tol:
            ok = True
            break
        step = (1.0 - damping) * (fx - x)
        for _ in range(30):
            xn = x + step
            if domain(xn):
                fn = np.asarray(update(xn), dtype=float)
                if np.all(np.isfinite(fn)):
                    break
            step = 0.5 * step
        else:
            break
        x, fx = xn, fn
    return SaddleReport(x, ok, it, res, float(damping), float(tol), tuple(residuals))


def _hybrid(update, x0, damping: float, tol: float, max_iter: int, warmup: int, xtol: float) -> SaddleReport:
    from scipy.optimize import root

    v = np.array(x0, dtype=float, copy=True)
    residuals: list[float] = []

    def gap(w):
        r = np.asarray(update(w), dtype=float) - w
        return r if np.all(np.isfinite(r)) else np.full_like(w, 1e3)

    for _ in range(min(warmup, max_iter)):
        r = gap(v)
        residuals.append(float(np.max(np.abs(r))))
        if residuals[-1] >= 1e3:
            break
        v = v + (1.0 - damping) * r
    sol = root(gap, v, method="hybr", options={"xtol": xtol, "maxfev": max_iter})
    x = np.asarray(sol.x, dtype=float)
    fx = np.asarray(update(x), dtype=float)
    res = float(np.max(np.abs(fx - x))) if np.all(np.isfinite(fx)) else np.inf
    residuals.append(res)
    return SaddleReport(x, bool(res < tol), len(residuals) + int(sol.nfev), res, float(damping), float(tol),
                        tuple(residuals))
