"""Summaries of a sweep: success probability with binomial intervals, time to
solution, and α_50, the load at which half of the instances are solved.

Every function here is pure (rows in, tables out) except the ``plot_*`` and
``write_csv`` helpers, which write files atomically.

Cell statistics (one cell = solver variant × problem × N × α):

- success probability p̂ = k/n with a binomial confidence interval, either
  Wilson's score interval (default)
  (p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n),
  or Clopper–Pearson's exact interval [B(α/2; k, n−k+1), B(1−α/2; k+1, n−k)]
  with B the Beta quantile;
- median time to solution: the median wall time of the *solved* trials;
- median epochs of the solved trials.

α_50. Success probability falls with α, but a finite sample need not be
monotone. The curve is first made non-increasing by weighted isotonic
regression (pool-adjacent-violators, weights = trials per cell), then α_50 is
the linear interpolation of that curve at 1/2. When every cell is ≥ 1/2 the
value is censored above the largest α (reported as ``> α_max``), when every
cell is < 1/2 below the smallest (``< α_min``). Its interval comes from
Jeffreys posterior draws p_i ~ Beta(k_i + 1/2, n_i − k_i + 1/2), re-fit, repeat.

Finite-size scaling (:func:`finite_size_fit`). Per solver, the interpolated α_50(N)
are fitted by weighted least squares (weights 1/σ_N², σ_N = the half-width of the
95% α_50 interval / 1.96) with two laws:

    constant:   α_50(N) = α_∞,
    power law:  α_50(N) = α_∞ − a · N^(−ν)   (ν fitted from four sizes on, profiled
                over [0.05, 2]; with three sizes ν = 1/2 is fixed and said so).

The power law is kept only when it lowers χ² by more than the 95% quantile of
χ²(extra parameters) — with the σ_N known this is the likelihood-ratio test — so
that a flat α_50(N) is not extrapolated by an arbitrary curve. The interval on α_∞
(and ν) comes from a parametric bootstrap of the selected law: α_50(N) drawn from
N(estimate, σ_N²), re-fit. Censored α_50 (beyond the measured α range) are left out.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..atomic import atomic_save_figure as save_figure
from ..atomic import atomic_write_text

__all__ = [
    "binomial_interval",
    "isotonic_nonincreasing",
    "Alpha50",
    "alpha_50",
    "alpha_50_interval",
    "cell_table",
    "read_cells_csv",
    "merge_cells",
    "alpha50_table",
    "write_csv",
    "plot_success",
    "plot_time_to_solution",
    "plot_alpha50",
    "finite_size_fit",
    "finite_size_table",
]


def binomial_interval(k: int, n: int, *, level: float = 0.95, method: str = "wilson") -> tuple[float, float]:
    """Confidence interval for a binomial proportion k/n.

    Args:
        k: successes, 0 ≤ k ≤ n.
        n: trials, ≥ 1.
        level: confidence level in (0, 1). Default 0.95.
        method: ``"wilson"`` (score interval, default) or ``"clopper-pearson"`` (exact).
    """
    if isinstance(k, bool) or isinstance(n, bool) or int(k) != k or int(n) != n:
        raise TypeError(f"k and n must be integers, got k={k!r}, n={n!r}")
    k, n = int(k), int(n)
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need n >= 1 and 0 <= k <= n, got k={k}, n={n}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got level={level!r}")
    from scipy import stats

    if method == "wilson":
        z = float(stats.norm.ppf(0.5 + level / 2))
        p = k / n
        denom = 1 + z * z / n
        center = (p + z * z / (2 * n)) / denom
        half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return max(0.0, center - half), min(1.0, center + half)
    if method == "clopper-pearson":
        a = 1 - level
        lo = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
        hi = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
        return lo, hi
    raise ValueError(f"method must be 'wilson' or 'clopper-pearson', got method={method!r}")


def isotonic_nonincreasing(y: Sequence[float] | np.ndarray, w: Sequence[float] | np.ndarray) -> np.ndarray:
    """Weighted least-squares non-increasing fit of ``y`` (pool-adjacent-violators)."""
    y_arr = np.asarray(y, dtype=np.float64)
    w_arr = np.asarray(w, dtype=np.float64)
    if y_arr.shape != w_arr.shape or y_arr.ndim != 1:
        raise ValueError(f"y and w must be 1-D of equal length, got shapes {y_arr.shape} and {w_arr.shape}")
    y, w = y_arr, w_arr
    # blocks of pooled values: (mean, weight, length)
    means: list[float] = []
    weights: list[float] = []
    lengths: list[int] = []
    for yi, wi in zip(y, w):
        means.append(float(yi))
        weights.append(float(wi))
        lengths.append(1)
        while len(means) > 1 and means[-2] < means[-1]:
            wt = weights[-2] + weights[-1]
            m = (means[-2] * weights[-2] + means[-1] * weights[-1]) / wt
            ln = lengths[-2] + lengths[-1]
            del means[-1], weights[-1], lengths[-1]
            means[-1], weights[-1], lengths[-1] = m, wt, ln
    return np.repeat(np.array(means), lengths)


@dataclass(frozen=True)
class Alpha50:
    """α_50 estimate. ``status`` is ``"interpolated"``, ``"above"`` (every cell ≥ 1/2,
    so α_50 > ``value`` = largest α) or ``"below"`` (every cell < 1/2, α_50 < ``value``)."""

    value: float
    status: str

    def __str__(self) -> str:
        if self.status == "above":
            return f"> {self.value:.3f}"
        if self.status == "below":
            return f"< {self.value:.3f}"
        return f"{self.value:.3f}"


def alpha_50(alphas: Sequence[float], solved: Sequence[int], trials: Sequence[int]) -> Alpha50:
    """Load at which the (isotonic) success probability crosses 1/2; see the module docstring.

    Args:
        alphas: loads, strictly increasing.
        solved: solved trials per load.
        trials: trials per load (each ≥ 1).
    """
    a = np.asarray(alphas, dtype=np.float64)
    k = np.asarray(solved, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if a.ndim != 1 or a.size == 0 or k.shape != a.shape or n.shape != a.shape:
        raise ValueError("alphas, solved and trials must be non-empty 1-D sequences of equal length")
    if np.any(np.diff(a) <= 0):
        raise ValueError(f"alphas must be strictly increasing, got {a.tolist()}")
    if np.any(n < 1) or np.any(k < 0) or np.any(k > n):
        raise ValueError("need trials >= 1 and 0 <= solved <= trials in every cell")
    return _alpha_50_curve(a, k / n, n)


def _alpha_50_curve(a: np.ndarray, p: np.ndarray, w: np.ndarray) -> Alpha50:
    f = isotonic_nonincreasing(p, w)
    if f[-1] >= 0.5:
        return Alpha50(float(a[-1]), "above")
    if f[0] < 0.5:
        return Alpha50(float(a[0]), "below")
    # f is non-increasing, f[0] >= 1/2 > f[-1]: the last index with f >= 1/2
    i = int(np.flatnonzero(f >= 0.5)[-1])
    f0, f1 = f[i], f[i + 1]
    if f0 == 0.5:
        # a plateau at exactly 1/2 ends here: take the middle of the plateau
        j = int(np.flatnonzero(f == 0.5)[0])
        return Alpha50(float((a[j] + a[i]) / 2), "interpolated")
    x = a[i] + (f0 - 0.5) / (f0 - f1) * (a[i + 1] - a[i])
    return Alpha50(float(x), "interpolated")


def alpha_50_interval(
    alphas: Sequence[float],
    solved: Sequence[int],
    trials: Sequence[int],
    *,
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Interval for α_50 from Jeffreys posterior draws of the cell probabilities.

    Each replicate draws p_i ~ Beta(k_i + 1/2, n_i − k_i + 1/2) independently per
    cell and recomputes α_50 on that curve (isotonic fit weighted by n_i); the
    interval is the central ``level`` quantile range. Unlike a plug-in bootstrap
    this does not collapse to a point when cells are all-solved or all-failed.
    Censored replicates count at the end of the α range, so a bound equal to the
    smallest / largest α means "at most / at least there".

    Args:
        level: coverage of the interval. Default 0.95.
        n_boot: replicates. Default 1000.
        seed: seed of the draws. Default 0.
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got n_boot={n_boot}")
    alpha_50(alphas, solved, trials)  # validates the inputs
    rng = np.random.default_rng(seed)
    a = np.asarray(alphas, dtype=np.float64)
    k = np.asarray(solved, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    draws = rng.beta(k + 0.5, n - k + 0.5, size=(n_boot, len(n)))
    vals = np.array([_alpha_50_curve(a, d, n).value for d in draws])
    lo, hi = np.quantile(vals, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


# -- tables ----------------------------------------------------------------------------

def _labels(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], str]:
    """Display label per (solver, options): the solver name, plus options when a
    solver appears with several option sets."""
    variants = sorted({(r["solver"], r["options"]) for r in rows})
    per_solver: dict[str, int] = defaultdict(int)
    for s, _ in variants:
        per_solver[s] += 1
    return {(s, o): (s if per_solver[s] == 1 or o == "{}" else f"{s} {o}") for s, o in variants}


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def cell_table(
    rows: Sequence[Mapping[str, Any]], *, level: float = 0.95, method: str = "wilson"
) -> list[dict[str, Any]]:
    """One record per (solver, options, problem, N, α): trials, solved, p̂ with its
    interval, median time to solution and median epochs (solved trials only), and the
    mean fraction of zero weights of the solutions (None when nothing was solved).

    Args:
        rows: trial rows as returned by ``ResultStore.rows()``.
        level: confidence level of the intervals. Default 0.95.
        method: ``"wilson"`` (default) or ``"clopper-pearson"``.
    """
    labels = _labels(rows)
    cells: dict[tuple, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        cells[(r["solver"], r["options"], r["problem"], int(r["n"]), float(r["alpha"]))].append(r)
    out = []
    for (solver, options, problem, n, alpha), rs in sorted(cells.items()):
        k = sum(int(r["solved"]) for r in rs)
        lo, hi = binomial_interval(k, len(rs), level=level, method=method)
        solved_rows = [r for r in rs if int(r["solved"])]
        out.append(
            {
                "label": labels[(solver, options)],
                "solver": solver,
                "options": options,
                "problem": problem,
                "n": n,
                "alpha": alpha,
                "trials": len(rs),
                "solved": k,
                "p_success": k / len(rs),
                "ci_low": lo,
                "ci_high": hi,
                "median_seconds_solved": _median([float(r["seconds"]) for r in solved_rows]),
                "median_epochs_solved": _median([float(r["epochs"]) for r in solved_rows]),
                "median_seconds_all": _median([float(r["seconds"]) for r in rs]),
                "zero_fraction_solved": (float(np.mean([float(r.get("zero_fraction", 0.0)) for r in solved_rows]))
                                         if solved_rows else None),
            }
        )
    return out


_CELL_KEY = ("solver", "options", "problem", "n", "alpha")
_CELL_COLUMNS = ("solver", "options", "problem", "n", "alpha", "trials", "solved", "median_seconds_solved",
                 "median_epochs_solved", "median_seconds_all", "zero_fraction_solved")


_CELL_ORDER = ("label", "solver", "options", "problem", "n", "alpha", "trials", "solved", "p_success", "ci_low",
               "ci_high", "median_seconds_solved", "median_epochs_solved", "median_seconds_all",
               "zero_fraction_solved", "from_table")


def _with_interval(c: dict[str, Any], level: float, method: str) -> dict[str, Any]:
    """The cell with p̂ and its interval, keys in :func:`cell_table`'s order plus ``from_table``."""
    lo, hi = binomial_interval(c["solved"], c["trials"], level=level, method=method)
    c = {**c, "p_success": c["solved"] / c["trials"], "ci_low": lo, "ci_high": hi}
    return {k: c.get(k, False if k == "from_table" else None) for k in _CELL_ORDER}


def read_cells_csv(path: str | os.PathLike, *, level: float = 0.95, method: str = "wilson") -> list[dict[str, Any]]:
    """Cells of a table written by ``stochsyn report --csv`` (:func:`cell_table` + :func:`write_csv`).

    The counts (trials, solved) and the per-cell medians are read; p̂ and its interval
    are recomputed at ``level`` with ``method``. Each cell is marked ``from_table``: its
    individual trials are not known, so :func:`alpha50_table` cannot pool their times.

    Args:
        path: the CSV file.
        level: confidence level of the recomputed intervals. Default 0.95.
        method: ``"wilson"`` (default) or ``"clopper-pearson"``.

    Raises:
        ValueError: a column is missing, a value does not parse, or solved > trials.
    """
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in _CELL_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} is not a cell table of 'stochsyn report --csv': no column(s) {', '.join(missing)}")
        out = []

        def opt(r: Mapping[str, str], key: str) -> float | None:
            return float(r[key]) if r[key] not in ("", None) else None

        for line, r in enumerate(reader, start=2):
            try:
                c: dict[str, Any] = {"solver": r["solver"], "options": r["options"], "problem": r["problem"],
                                     "n": int(r["n"]), "alpha": float(r["alpha"]), "trials": int(r["trials"]),
                                     "solved": int(r["solved"]),
                                     **{k: opt(r, k) for k in _CELL_COLUMNS[7:]}, "from_table": True,
                                     "label": r.get("label") or r["solver"]}
            except (TypeError, ValueError) as e:
                raise ValueError(f"{path}, line {line}: {e}") from None
            if not 0 <= c["solved"] <= c["trials"] or c["trials"] < 1:
                raise ValueError(f"{path}, line {line}: solved = {c['solved']} of trials = {c['trials']}")
            out.append(_with_interval(c, level, method))
    if not out:
        raise ValueError(f"{path} holds no cells")
    return out


def merge_cells(*tables: Sequence[Mapping[str, Any]], level: float = 0.95,
                method: str = "wilson") -> tuple[list[dict[str, Any]], int]:
    """Join cell tables (from databases and from CSV files) into one.

    Cells with the same (solver, options, problem, N, α) are added: trials and solved
    sum, the zero fraction of the solutions is their solved-weighted mean (exact), and
    a median is kept only when one part holds all the trials it is a median of (it is
    None otherwise: medians of parts do not give the median of the whole). The caller
    must know the parts hold different seeds; a cell table does not record them.

    Returns:
        (cells sorted like :func:`cell_table`, with labels recomputed; the number of
        cells that were added up from several parts).
    """
    groups: dict[tuple, list[Mapping[str, Any]]] = defaultdict(list)
    for table in tables:
        for c in table:
            groups[tuple(c[k] for k in _CELL_KEY)].append(c)
    labels = _labels([{"solver": k[0], "options": k[1]} for k in groups])
    merged, joined = [], 0
    for key, parts in sorted(groups.items()):
        trials = sum(int(c["trials"]) for c in parts)
        solved = sum(int(c["solved"]) for c in parts)
        with_solved = [c for c in parts if int(c["solved"]) > 0]
        single = parts[0] if len(parts) == 1 else None
        # the part that holds every solved trial of the cell, if one does
        holder = single or (with_solved[0] if len(with_solved) == 1 else None)
        zero = (sum(int(c["solved"]) * float(c["zero_fraction_solved"] or 0.0) for c in with_solved) / solved
                if solved else None)
        c = {"label": labels[key[:2]], **dict(zip(_CELL_KEY, key)), "trials": trials, "solved": solved,
             "median_seconds_solved": holder["median_seconds_solved"] if holder else None,
             "median_epochs_solved": holder["median_epochs_solved"] if holder else None,
             "median_seconds_all": single["median_seconds_all"] if single else None,
             "zero_fraction_solved": zero,
             "from_table": len(parts) > 1 or any(bool(p.get("from_table")) for p in parts)}
        joined += len(parts) > 1
        merged.append(_with_interval(c, level, method))
    return merged, joined


def alpha50_table(
    cells: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]] | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One record per (solver, options, problem, N): α_50 (with its status and a 95%
    posterior interval), the α range and trials it rests on, and the median time to
    solution over every solved trial of that group (from ``rows`` when given, else
    the median of the per-α medians).

    Args:
        cells: output of :func:`cell_table`.
        rows: the trial rows, for the pooled median time to solution. Default None.
            Groups with a cell marked ``from_table`` (read from a CSV, or merged) use the
            median of the per-α medians instead.
        n_boot: replicates for the interval. Default 1000.
        seed: seed of the interval draws. Default 0.
    """
    groups: dict[tuple, list[Mapping[str, Any]]] = defaultdict(list)
    for c in cells:
        groups[(c["label"], c["solver"], c["options"], c["problem"], c["n"])].append(c)
    pooled: dict[tuple, list[float]] = defaultdict(list)
    for r in rows or []:
        if int(r["solved"]):
            pooled[(r["solver"], r["options"], r["problem"], int(r["n"]))].append(float(r["seconds"]))
    out = []
    for (label, solver, options, problem, n), cs in sorted(groups.items()):
        cs = sorted(cs, key=lambda c: c["alpha"])
        a = [c["alpha"] for c in cs]
        k = [c["solved"] for c in cs]
        t = [c["trials"] for c in cs]
        est = alpha_50(a, k, t)
        lo, hi = alpha_50_interval(a, k, t, n_boot=n_boot, seed=seed)
        if rows is not None and not any(c.get("from_table") for c in cs):
            tts = _median(pooled.get((solver, options, problem, n), []))
        else:
            tts = _median([c["median_seconds_solved"] for c in cs if c["median_seconds_solved"] is not None])
        out.append(
            {
                "label": label,
                "solver": solver,
                "options": options,
                "problem": problem,
                "n": n,
                "alpha50": est.value,
                "alpha50_status": est.status,
                "alpha50_text": str(est),
                "alpha50_ci_low": lo,
                "alpha50_ci_high": hi,
                "alpha_min": a[0],
                "alpha_max": a[-1],
                "trials": int(sum(t)),
                "solved": int(sum(k)),
                "median_seconds_solved": tts,
            }
        )
    return out


_NU_GRID = np.round(np.arange(0.05, 2.0001, 0.01), 4)
_NU_FIXED = 0.5


def _wls_line(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """Weighted least squares y ≈ c0 − c1 x; returns (c0, c1, χ²)."""
    a = np.column_stack([np.ones_like(x), -x]) * np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(a, y * np.sqrt(w), rcond=None)
    resid = y - (coef[0] - coef[1] * x)
    return float(coef[0]), float(coef[1]), float(np.sum(w * resid * resid))


def _fit_law(ns: np.ndarray, y: np.ndarray, w: np.ndarray, free_nu: bool) -> tuple[float, float, float, float]:
    """(α_∞, a, ν, χ²) of α_50 = α_∞ − a N^(−ν); ν profiled over the grid when free."""
    best = None
    for nu in (_NU_GRID if free_nu else [_NU_FIXED]):
        c0, c1, chi2 = _wls_line(ns ** (-nu), y, w)
        if best is None or chi2 < best[3]:
            best = (c0, c1, float(nu), chi2)
    assert best is not None
    return best


def finite_size_fit(
    ns: Sequence[int],
    alpha50: Sequence[float],
    ci_low: Sequence[float],
    ci_high: Sequence[float],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit α_50(N) by a constant or by α_∞ − a N^(−ν) (see the module docstring).

    Args:
        ns: sizes N (at least 3 distinct).
        alpha50: α_50 at each N (interpolated values only).
        ci_low, ci_high: their 95% intervals.
        n_boot: bootstrap replicates. Default 1000.
        seed: seed of the bootstrap. Default 0.

    Returns:
        dict with ``model`` ("constant" or "power law"), ``alpha_inf`` and its 95%
        ``alpha_inf_ci``, ``a`` and ``nu`` (0 and None for the constant), ``nu_ci``,
        ``nu_fitted``, ``chi2``/``dof`` of the selected law, ``chi2_constant`` and
        ``chi2_power`` of both, ``points`` and ``law`` (the selected law as text).
    """
    from scipy import stats

    n_arr = np.asarray(ns, dtype=np.float64)
    y = np.asarray(alpha50, dtype=np.float64)
    lo = np.asarray(ci_low, dtype=np.float64)
    hi = np.asarray(ci_high, dtype=np.float64)
    if not (n_arr.shape == y.shape == lo.shape == hi.shape) or n_arr.ndim != 1:
        raise ValueError("ns, alpha50, ci_low and ci_high must be 1-D of equal length")
    k = len(set(n_arr.tolist()))
    if k < 3:
        raise ValueError(f"a finite-size fit needs at least 3 distinct sizes, got N={sorted(set(n_arr.tolist()))}")
    sigma = np.maximum((hi - lo) / (2 * 1.96), 1e-4)
    w = 1.0 / sigma**2
    free_nu = k >= 4

    def constant(yy: np.ndarray) -> tuple[float, float]:
        c = float(np.sum(w * yy) / np.sum(w))
        return c, float(np.sum(w * (yy - c) ** 2))

    c0, chi0 = constant(y)
    a_inf, a, nu, chi1 = _fit_law(n_arr, y, w, free_nu)
    extra = 2 if free_nu else 1
    power = chi0 - chi1 > float(stats.chi2.ppf(0.95, extra))
    rng = np.random.default_rng(seed)
    draws = [rng.normal(y, sigma) for _ in range(n_boot)]
    if power:
        boots = np.array([_fit_law(n_arr, d, w, free_nu) for d in draws])
        ci = np.quantile(boots[:, 0], [0.025, 0.975])
        nu_ci = np.quantile(boots[:, 2], [0.025, 0.975]) if free_nu else None
        sign = "-" if a >= 0 else "+"
        law = f"alpha_50(N) = {a_inf:.4f} {sign} {abs(a):.3g} * N^(-{nu:.2f})" + ("" if free_nu else " (nu fixed)")
        chi2, dof = chi1, len(y) - (1 + extra)
        nu_out: float | None = nu
    else:
        ci = np.quantile([constant(d)[0] for d in draws], [0.025, 0.975])
        a_inf, a, nu_out, nu_ci = c0, 0.0, None, None
        law = f"alpha_50(N) = {c0:.4f} (no N-dependence resolved: the power law lowers chi2 by {chi0 - chi1:.2f})"
        chi2, dof = chi0, len(y) - 1
    return {
        "model": "power law" if power else "constant",
        "alpha_inf": float(a_inf),
        "alpha_inf_ci": (float(ci[0]), float(ci[1])),
        "a": float(a),
        "nu": nu_out,
        "nu_ci": None if nu_ci is None else (float(nu_ci[0]), float(nu_ci[1])),
        "nu_fitted": bool(power and free_nu),
        "chi2": float(chi2),
        "dof": int(dof),
        "chi2_constant": float(chi0),
        "chi2_power": float(chi1),
        "points": len(y),
        "law": law,
    }


def finite_size_table(a50: Sequence[Mapping[str, Any]], *, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """One finite-size fit per (solver variant, problem) with ≥ 3 interpolated α_50 values.

    Args:
        a50: output of :func:`alpha50_table`.
    """
    groups: dict[tuple, list[Mapping[str, Any]]] = defaultdict(list)
    for r in a50:
        if r["alpha50_status"] == "interpolated":
            groups[(r["label"], r["problem"])].append(r)
    out = []
    for (label, problem), rs in sorted(groups.items()):
        rs = sorted(rs, key=lambda r: r["n"])
        if len({r["n"] for r in rs}) < 3:
            continue
        fit = finite_size_fit([r["n"] for r in rs], [r["alpha50"] for r in rs],
                              [r["alpha50_ci_low"] for r in rs], [r["alpha50_ci_high"] for r in rs],
                              n_boot=n_boot, seed=seed)
        out.append({"label": label, "problem": problem, "sizes": [r["n"] for r in rs], **fit})
    return out


def write_csv(records: Sequence[Mapping[str, Any]], path: str | os.PathLike) -> Path:
    """Write ``records`` (dicts with the same keys) as CSV, atomically."""
    if not records:
        raise ValueError("nothing to write: the table is empty")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(records[0].keys()), lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return atomic_write_text(path, buf.getvalue())


# -- plots ----------------------------------------------------------------------------

def _by_n(cells: Sequence[Mapping[str, Any]]) -> dict[tuple[str, int], dict[str, list[Mapping[str, Any]]]]:
    panels: dict[tuple[str, int], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for c in cells:
        panels[(c["problem"], c["n"])][c["label"]].append(c)
    return panels


def _figure(n_panels: int):
    import matplotlib.pyplot as plt

    cols = min(3, n_panels)
    rows = math.ceil(n_panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.9 * rows), squeeze=False)
    for ax in axes.ravel()[n_panels:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def plot_success(cells: Sequence[Mapping[str, Any]], path: str | os.PathLike, *, level: float = 0.95) -> Path:
    """PNG: success probability vs α, one panel per (problem, N), one line per solver,
    with the binomial intervals of :func:`cell_table` as error bars."""
    panels = _by_n(cells)
    fig, axes = _figure(len(panels))
    for ax, ((problem, n), lines) in zip(axes, sorted(panels.items())):
        for label, cs in sorted(lines.items()):
            cs = sorted(cs, key=lambda c: c["alpha"])
            a = np.array([c["alpha"] for c in cs])
            p = np.array([c["p_success"] for c in cs])
            err = np.array([[pi - c["ci_low"] for pi, c in zip(p, cs)], [c["ci_high"] - pi for pi, c in zip(p, cs)]])
            ax.errorbar(a, p, yerr=np.clip(err, 0, None), marker="o", ms=4, capsize=3, label=label)
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("α = P/N")
        ax.set_ylabel("P(solved)")
        ax.set_title(f"{problem} patterns, N = {n} ({int(level * 100)}% intervals)")
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_time_to_solution(cells: Sequence[Mapping[str, Any]], path: str | os.PathLike) -> Path:
    """PNG: median wall time of the solved trials vs α (log scale), per (problem, N)."""
    panels = _by_n(cells)
    fig, axes = _figure(len(panels))
    for ax, ((problem, n), lines) in zip(axes, sorted(panels.items())):
        for label, cs in sorted(lines.items()):
            pts = sorted((c["alpha"], c["median_seconds_solved"]) for c in cs if c["median_seconds_solved"] is not None)
            if pts:
                ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", ms=4, label=label)
        ax.set_yscale("log")
        ax.set_xlabel("α = P/N")
        ax.set_ylabel("median time to solution (s)")
        ax.set_title(f"{problem} patterns, N = {n}")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_alpha50(table: Sequence[Mapping[str, Any]], path: str | os.PathLike,
                 fits: Sequence[Mapping[str, Any]] = ()) -> Path:
    """PNG: α_50 per solver against N with its 95% interval (Jeffreys draws); censored values
    are drawn as open triangles pointing the way of the bound. ``fits`` (from
    :func:`finite_size_table`) add the fitted law as a dashed curve and α_∞ at the right edge."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    lines: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for r in table:
        lines[(r["label"], r["problem"])].append(r)
    for (label, problem), rs in sorted(lines.items()):
        rs = sorted(rs, key=lambda r: r["n"])
        ns = np.array([r["n"] for r in rs], dtype=float)
        v = np.array([r["alpha50"] for r in rs])
        err = np.array([v - [r["alpha50_ci_low"] for r in rs], [r["alpha50_ci_high"] for r in rs] - v])
        name = label if problem == "random" else f"{label} ({problem})"
        line = ax.errorbar(ns, v, yerr=np.clip(err, 0, None), marker="o", capsize=3, label=name)
        for r, x, y in zip(rs, ns, v):
            if r["alpha50_status"] != "interpolated":
                ax.plot(x, y, marker="^" if r["alpha50_status"] == "above" else "v", ms=10,
                        mfc="none", color=line[0].get_color())
        for f in fits:
            if (f["label"], f["problem"]) == (label, problem):
                grid = np.geomspace(min(ns), 30 * max(ns), 200)
                curve = f["alpha_inf"] - (f["a"] * grid ** (-f["nu"]) if f["nu"] is not None else 0.0 * grid)
                ax.plot(grid, curve, ls="--", lw=1, color=line[0].get_color())
                lo_, hi_ = f["alpha_inf_ci"]
                ax.errorbar([30 * max(ns)], [f["alpha_inf"]], yerr=[[f["alpha_inf"] - lo_], [hi_ - f["alpha_inf"]]],
                            marker="*", ms=9, capsize=3, color=line[0].get_color())
    ax.set_xscale("log")
    ax.set_xlabel("N")
    ax.set_ylabel("α_50")
    ax.set_title("load where half of the instances are solved")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def to_json(cells: Sequence[Mapping[str, Any]], a50: Sequence[Mapping[str, Any]],
            fss: Sequence[Mapping[str, Any]] = ()) -> str:
    """The tables (cells, α_50 and the finite-size fits) as one JSON document."""
    return json.dumps({"cells": list(cells), "alpha50": list(a50), "finite_size": list(fss)}, indent=1)
