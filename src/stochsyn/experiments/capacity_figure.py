"""Success of q-state solvers against α, beside the replica-symmetric capacity at their sparsity.

A sweep database holds, per (solver, options, N, α), the success rate and the mean
fraction f of zero weights of the solutions (:func:`stochsyn.experiments.report.cell_table`).
For ternary weights with a fraction f of zeros the RS capacity is α_c(f)
(:func:`stochsyn.theory.ternary_capacity`; α_c(0) = 0.8331 is the binary one), so
each solver can be placed against the bound that applies to the solutions it
finds. :func:`capacity_points` pairs each variant's α_50 with the zero fraction of
its solutions at the cell nearest α_50; :func:`plot_success_and_capacity` draws
(a) success against α with α_c(f̄) marked per variant and (b) the RS curve α_c(f)
with the (f̄, α_50) points.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..atomic import atomic_save_figure as save_figure
from ..theory.ternary import ternary_capacity
from .. import validation as V

__all__ = ["capacity_points", "capacity_curve", "plot_success_and_capacity"]


def capacity_points(cells: Sequence[Mapping[str, Any]], a50: Sequence[Mapping[str, Any]], n: int) -> list[dict[str, Any]]:
    """Per variant at size ``n``: α_50 with its interval and f̄, the mean zero fraction of
    the solutions in the solved cell nearest α_50 (0 for ±1 solvers).

    Args:
        cells: :func:`stochsyn.experiments.report.cell_table` records.
        a50: :func:`stochsyn.experiments.report.alpha50_table` records.
        n: the system size to read.
    """
    out = []
    for r in a50:
        if r["n"] != n:
            continue
        cs = [c for c in cells if c["label"] == r["label"] and c["n"] == n and c["problem"] == r["problem"]
              and c["zero_fraction_solved"] is not None]
        if not cs:
            continue
        target = r["alpha50"] if r["alpha50"] is not None else max(c["alpha"] for c in cs)
        near = min(cs, key=lambda c: abs(c["alpha"] - target))
        out.append({"label": r["label"], "problem": r["problem"], "n": n, "alpha50": r["alpha50"],
                    "alpha50_status": r["alpha50_status"], "alpha50_ci_low": r["alpha50_ci_low"],
                    "alpha50_ci_high": r["alpha50_ci_high"], "zero_fraction": float(near["zero_fraction_solved"]),
                    "zero_fraction_at_alpha": near["alpha"]})
    return out


def capacity_curve(zero_fractions: Sequence[float], *, progress: Callable[[int, int], None] | None = None
                   ) -> np.ndarray:
    """α_c(f) (RS, κ = 0) of ternary weights at each zero fraction f in [0, 1)."""
    fs = [V.real("zero_fraction", f, lo=0.0, hi=1.0, hi_open=True) for f in zero_fractions]
    out = np.empty(len(fs))
    for i, f in enumerate(fs):
        out[i] = ternary_capacity(f)
        if progress is not None:
            progress(i + 1, len(fs))
    return out


def plot_success_and_capacity(
    cells: Sequence[Mapping[str, Any]],
    points: Sequence[Mapping[str, Any]],
    curve_f: Sequence[float],
    curve_alpha: Sequence[float],
    path: str | os.PathLike,
    *,
    n: int,
    point_capacity: Mapping[str, float],
) -> Path:
    """PNG: (a) P(solved) against α at size ``n``, one line per variant, with a dotted line
    at the RS capacity α_c(f̄) of its solutions' zero fraction (``point_capacity[label]``);
    (b) the RS curve α_c(f) with each variant's (f̄, α_50) and its 95% interval."""
    import matplotlib.pyplot as plt

    fig, (ax_s, ax_c) = plt.subplots(1, 2, figsize=(12, 4.6))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    labels = sorted({c["label"] for c in cells if c["n"] == n})
    for k, label in enumerate(labels):
        color = colors[k % len(colors)]
        cs = sorted((c for c in cells if c["label"] == label and c["n"] == n), key=lambda c: c["alpha"])
        a = np.array([c["alpha"] for c in cs])
        p = np.array([c["p_success"] for c in cs])
        err = np.clip(np.array([p - [c["ci_low"] for c in cs], [c["ci_high"] for c in cs] - p]), 0, None)
        pt = next((q for q in points if q["label"] == label), None)
        name = label if pt is None else f"{label} (zeros {pt['zero_fraction']:.2f})"
        ax_s.errorbar(a, p, yerr=err, marker="o", ms=4, capsize=3, color=color, label=name)
        if label in point_capacity:
            ax_s.axvline(point_capacity[label], color=color, ls=":", lw=1.2)
        if pt is not None and pt["alpha50"] is not None:
            ax_c.errorbar([pt["zero_fraction"]], [pt["alpha50"]],
                          yerr=[[pt["alpha50"] - pt["alpha50_ci_low"]], [pt["alpha50_ci_high"] - pt["alpha50"]]],
                          marker="o", ms=6, capsize=3, color=color, ls="none", label=label)
    ax_s.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax_s.set_ylim(-0.03, 1.03)
    ax_s.set_xlabel("α = P/N")
    ax_s.set_ylabel("P(solved)")
    ax_s.set_title(f"(a) N = {n}; dotted: RS capacity α_c at each solver's zero fraction", fontsize=9)
    ax_s.legend(fontsize=7)
    ax_c.plot(curve_f, curve_alpha, color="black", lw=1.5, label="RS capacity α_c(f), ternary")
    ax_c.axhline(curve_alpha[0] if len(curve_alpha) else 0.8331, color="grey", lw=0.8, ls="--")
    ax_c.set_xlabel("fraction of zero weights f")
    ax_c.set_ylabel("α")
    ax_c.set_title(f"(b) α_50 at N = {n} against the RS capacity", fontsize=9)
    ax_c.legend(fontsize=7)
    return save_figure(fig, path)
