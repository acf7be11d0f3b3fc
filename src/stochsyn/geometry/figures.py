"""Data collection and drawing for the paper-style geometry figures.

Each ``collect_*`` function runs solvers on fresh instances, measures the
solutions, and returns flat records (one dict per plotted number) so that the
same list is written to CSV and plotted. ``plot_*`` functions take those records
and return a matplotlib figure. Theory curves are overlaid only here, and only
when :mod:`stochsyn.theory` provides them (imported lazily; skipped otherwise),
so the measurements never depend on the theory code.

Sources: a solver name from :func:`stochsyn.solvers.available`, or ``"typical"``
for a solution drawn uniformly at random (exact, N ≤ 25 only).
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any, Callable, Sequence

import numpy as np

from .. import validation as V
from ..problems import Instance, random_patterns, teacher_student
from .bp_local_entropy import local_entropy_bp
from .exact import MAX_EXACT_N, local_entropy_exact
from .generalization import generalization_error
from .robustness import flip_robustness
from .sampling import sample_typical_solutions

__all__ = [
    "TYPICAL",
    "solution_for",
    "collect_local_entropy",
    "collect_robustness",
    "collect_generalization",
    "plot_local_entropy",
    "plot_robustness",
    "plot_generalization",
    "records_to_csv",
    "theory_local_entropy",
    "theory_generalization",
]

TYPICAL = "typical"
Progress = Callable[[str], None]


def _check_sources(sources: Sequence[str], n: int) -> list[str]:
    from ..solvers import available

    names = available()
    out = []
    for s in sources:
        if s == TYPICAL:
            if n > MAX_EXACT_N:
                raise ValueError(f"solvers: '{TYPICAL}' (uniform sampling) needs n <= {MAX_EXACT_N}, got n={n}")
        elif s not in names:
            raise ValueError(f"solvers: unknown solver {s!r}; expected one of {names + [TYPICAL]}")
        out.append(s)
    if not out:
        raise ValueError("solvers must name at least one solver")
    return out


def solution_for(
    instance: Instance, source: str, seed: int, solver_options: dict[str, Any] | None = None
) -> tuple[np.ndarray, bool, dict[str, Any]]:
    """Weights from ``source`` (solver name or ``"typical"``): (weights, solved, info)."""
    if source == TYPICAL:
        w = sample_typical_solutions(instance, 1, seed)[0]
        return w, True, {"seconds": 0.0}
    from ..solvers import solve

    res = solve(instance, method=source, seed=seed, **(solver_options or {}))
    return res.weights, bool(res.solved), {"seconds": res.seconds, "errors": res.errors, "epochs": res.epochs}


def _noop(_: str) -> None:
    return None


def collect_local_entropy(
    n: int,
    alpha: float,
    sources: Sequence[str],
    *,
    seeds: Sequence[int] = (0,),
    lambdas: Sequence[float] | None = None,
    n_typical: int = 1,
    bp: bool = True,
    bp_factor: str = "auto",
    solver_options: dict[str, dict[str, Any]] | None = None,
    progress: Progress = _noop,
    on_records: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Local-entropy records for solutions of each source on random-pattern instances.

    Instance s of ``seeds`` is ``random_patterns(n, alpha, s)``; the solver seed is
    ``s`` too. For each solved reference: the BP curve (``kind="bp"``, one
    record per λ) when ``bp``; and, when n ≤ 25, the exact counts (``kind="exact"``,
    one record per distance k with ``count`` and S = ln(count)/N). ``"typical"``
    draws ``n_typical`` uniform solutions per instance (default 1). Unsolved runs
    give one record with ``solved=False``. ``on_records`` receives the records so
    far after each reference (to write results as they come).
    """
    sources = _check_sources(sources, n)
    seeds = V.seed_list(list(seeds), "seeds")
    records: list[dict[str, Any]] = []
    for i, seed_i in enumerate(seeds):
        inst = random_patterns(n, alpha, seed_i)
        for src in sources:
            refs: list[tuple[np.ndarray, bool, int]] = []
            if src == TYPICAL:
                for t, w in enumerate(sample_typical_solutions(inst, n_typical, seed_i)):
                    refs.append((w, True, t))
            else:
                progress(f"instance {i}: solving with {src}")
                w, solved, _ = solution_for(inst, src, seed_i, (solver_options or {}).get(src))
                refs.append((w, solved, 0))
            for w, solved, t in refs:
                base = {"source": src, "instance": seed_i, "draw": t, "n": n, "alpha": inst.alpha, "solved": solved}
                if not solved:
                    records.append({**base, "kind": "unsolved"})
                    continue
                if n <= MAX_EXACT_N:
                    counts = local_entropy_exact(inst, w)
                    for k, c in enumerate(counts):
                        s = math.log(c) / n if c > 0 else -math.inf
                        records.append({**base, "kind": "exact", "k": k, "d": k / n, "count": int(c), "S": s})
                if bp:
                    progress(f"instance {i}: BP around {src} solution")
                    curve = local_entropy_bp(inst, w, lambdas, factor=bp_factor, seed=seed_i)
                    for j in range(curve.lambdas.size):
                        records.append(
                            {
                                **base,
                                "kind": "bp",
                                "lambda": float(curve.lambdas[j]),
                                "d": float(curve.distance[j]),
                                "S": float(curve.entropy[j]),
                                "phi": float(curve.phi[j]),
                                "converged": bool(curve.converged[j]),
                                "valid": bool(curve.valid[j]),
                            }
                        )
                if on_records is not None:
                    on_records(records)
    return records


def collect_robustness(
    n: int,
    alpha: float,
    sources: Sequence[str],
    *,
    seeds: Sequence[int] = (0,),
    fractions: Sequence[float] = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1),
    n_draws: int = 100,
    n_typical: int = 1,
    solver_options: dict[str, dict[str, Any]] | None = None,
    progress: Progress = _noop,
    on_records: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Flip-robustness records (one per source, instance, draw and flip fraction);
    instances and seeds as in :func:`collect_local_entropy`."""
    sources = _check_sources(sources, n)
    seeds = V.seed_list(list(seeds), "seeds")
    records: list[dict[str, Any]] = []
    for i, seed_i in enumerate(seeds):
        inst = random_patterns(n, alpha, seed_i)
        for src in sources:
            if src == TYPICAL:
                refs = [(w, True) for w in sample_typical_solutions(inst, n_typical, seed_i)]
            else:
                progress(f"instance {i}: solving with {src}")
                w, solved, _ = solution_for(inst, src, seed_i, (solver_options or {}).get(src))
                refs = [(w, solved)]
            for t, (w, solved) in enumerate(refs):
                curve = flip_robustness(inst, w, fractions, seed=seed_i, n_draws=n_draws)
                for f, k, e, s in zip(curve.levels, curve.extra["n_flipped"], curve.error, curve.sem):
                    records.append(
                        {
                            "source": src, "instance": seed_i, "draw": t, "n": n, "alpha": inst.alpha,
                            "solved": solved, "fraction": float(f), "n_flipped": int(k),
                            "error": float(e), "sem": float(s), "n_draws": n_draws,
                        }
                    )
            if on_records is not None:
                on_records(records)
    return records


def collect_generalization(
    n: int,
    alphas: Sequence[float],
    sources: Sequence[str],
    *,
    seeds: Sequence[int] = (0,),
    n_test: int = 20_000,
    solver_options: dict[str, dict[str, Any]] | None = None,
    progress: Progress = _noop,
    on_records: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Teacher–student generalization records: instance i at load α is
    ``teacher_student(n, α, s)`` for s in ``seeds``; each source's student is measured on
    ``n_test`` fresh patterns and by arccos(R)/π. ``"typical"`` is a uniform draw
    from the version space, i.e. exact Gibbs learning (n ≤ 25)."""
    sources = _check_sources(sources, n)
    records: list[dict[str, Any]] = []
    seeds = V.seed_list(list(seeds), "seeds")
    for alpha in alphas:
        for i, seed_i in enumerate(seeds):
            inst = teacher_student(n, float(alpha), seed_i)
            for src in sources:
                progress(f"alpha={alpha} instance {i}: {src}")
                w, solved, _ = solution_for(inst, src, seed_i, (solver_options or {}).get(src))
                g = generalization_error(inst, w, n_test=n_test, seed=seed_i)
                records.append(
                    {
                        "source": src, "instance": seed_i, "n": n, "alpha": float(alpha),
                        "solved": solved, "error": g.error, "sem": g.sem, "overlap": g.overlap,
                        "error_overlap": g.error_overlap, "n_test": n_test,
                    }
                )
            if on_records is not None:
                on_records(records)
    return records


def records_to_csv(records: Sequence[dict[str, Any]]) -> str:
    """CSV text of ``records`` with the union of their keys as header (first-seen order)."""
    keys: list[str] = []
    for r in records:
        for k in r:
            if k not in keys:
                keys.append(k)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    for r in records:
        w.writerow(r)
    return buf.getvalue()


# -- theory overlays (optional) ------------------------------------------------


def _scalar(x: Any, names: Sequence[str]) -> float:
    for nm in names:
        if hasattr(x, nm):
            return float(getattr(x, nm))
        if isinstance(x, dict) and nm in x:
            return float(x[nm])
    return float(x)


def _theory_function(name: str) -> Any:
    """``stochsyn.theory.<name>`` or ``stochsyn.theory.<name>.<name>`` (lazily), else None."""
    import importlib

    try:
        th = importlib.import_module("stochsyn.theory")
    except Exception:  # theory package absent
        return None
    fn = getattr(th, name, None)
    if callable(fn):
        return fn
    try:
        mod = importlib.import_module(f"stochsyn.theory.{name}")
    except Exception:
        return None
    fn = getattr(mod, name, None)
    return fn if callable(fn) else None


def _curve_values(fn: Any, alpha: float, d: np.ndarray) -> np.ndarray:
    """Call a theory curve on all of ``d`` at once; on failure point by point (NaN where it fails)."""
    try:
        res = fn(alpha, d)
        vals = np.asarray(getattr(res, "entropy", res), dtype=np.float64)
        if vals.shape == d.shape:
            return vals
    except Exception:
        pass
    out = []
    for dd in d:
        try:
            res = fn(alpha, float(dd))
            out.append(float(np.ravel(np.asarray(getattr(res, "entropy", res), dtype=np.float64))[0]))
        except Exception:
            out.append(np.nan)
    return np.asarray(out, dtype=np.float64)


def theory_local_entropy(alpha: float, d: np.ndarray) -> dict[str, np.ndarray]:
    """Theory curves S(d) at load ``alpha`` from :mod:`stochsyn.theory`, when it provides
    ``franz_parisi(alpha, d)`` (around typical solutions) and ``local_entropy_dense(alpha, d)``
    (dense-region maximum); results may be arrays or objects with an ``entropy`` array.
    Missing functions are left out, failed points are NaN."""
    out: dict[str, np.ndarray] = {}
    d = np.asarray(d, dtype=np.float64)
    for label, name in (("Franz-Parisi (typical)", "franz_parisi"), ("dense regions (max)", "local_entropy_dense")):
        fn = _theory_function(name)
        if fn is not None:
            out[label] = _curve_values(fn, alpha, d)
    return out


def theory_generalization(alphas: Sequence[float]) -> dict[str, np.ndarray] | None:
    """Gibbs-learning ε(α) from ``stochsyn.theory.teacher_student_gibbs``, or None when the
    theory code is not available. Returns ``{"metastable": ε on the poorly-generalizing
    branch (NaN where it fails), "equilibrium": the same but 0 beyond the first-order
    transition α_th (``perfect_generalization_threshold``, Györgyi ≈ 1.245), when known}``."""
    try:
        import stochsyn.theory.teacher_student as ts  # noqa: PLC0415 - optional, lazily
    except Exception:
        return None
    fn = getattr(ts, "teacher_student_gibbs", None)
    if fn is None:
        return None
    vals = []
    for a in alphas:
        try:
            vals.append(_scalar(fn(float(a)), ("gen_error", "error", "epsilon")))
        except Exception:
            vals.append(np.nan)
    meta = np.asarray(vals, dtype=np.float64)
    out = {"metastable": meta}
    thr_fn = getattr(ts, "perfect_generalization_threshold", None)
    if thr_fn is not None:
        try:
            thr = float(thr_fn())
            out["equilibrium"] = np.where(np.asarray(alphas, dtype=np.float64) >= thr, 0.0, meta)
            out["threshold"] = np.array([thr])
        except Exception:
            pass
    return out


# -- plots -----------------------------------------------------------------------


def _sources(records: Sequence[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for r in records:
        if r["source"] not in seen:
            seen.append(r["source"])
    return seen


def plot_local_entropy(records: Sequence[dict[str, Any]], *, alpha: float, n: int, theory: bool = True) -> Any:
    """S(d) against d: BP curves (lines) and, for small N, exact ln(mean count)/N (markers)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    dmax = 0.0
    for ci, src in enumerate(_sources(records)):
        col = colors[ci % len(colors)]
        bp = [r for r in records if r["source"] == src and r.get("kind") == "bp" and r.get("valid")]
        keys = sorted({(r["instance"], r["draw"]) for r in bp})
        for j, key in enumerate(keys):
            pts = sorted((r["d"], r["S"]) for r in bp if (r["instance"], r["draw"]) == key)
            x, y = np.array(pts).T
            ax.plot(x, y, "-", color=col, alpha=0.6, lw=1, label=f"{src} (BP)" if j == 0 else None)
            dmax = max(dmax, float(x.max()))
        ex = [r for r in records if r["source"] == src and r.get("kind") == "exact"]
        if ex:
            refs = {(r["instance"], r["draw"]) for r in ex}
            mean = np.zeros(n + 1)
            for r in ex:
                mean[r["k"]] += r["count"] / len(refs)
            k = np.flatnonzero(mean > 0)
            ax.plot(k / n, np.log(mean[k]) / n, "o", color=col, ms=4, label=f"{src} (exact, ln mean count / N)")
    if dmax == 0.0:
        dmax = 0.5
    # 8 points up to d = 0.2 (below the typical distance, where the continuation is
    # reliable): each replica saddle point costs seconds, a failed vector call minutes
    d = np.linspace(0.0, min(0.2, dmax * 1.05), 9)[1:]
    if theory:
        for label, s in theory_local_entropy(alpha, d).items():
            if np.any(np.isfinite(s)):
                ax.plot(d, s, "--", color="k" if "dense" in label else "gray", label=f"theory: {label}")
    x = np.linspace(1e-4, 0.5, 200)
    ax.plot(x, -(x * np.log(x) + (1 - x) * np.log(1 - x)), ":", color="0.6", lw=1, label="all configurations")
    ax.set_xlim(0, min(0.5, dmax * 1.05))
    shown = [
        r["S"] for r in records
        if (r.get("kind") == "exact" or (r.get("kind") == "bp" and r.get("valid")))
        and np.isfinite(r["S"]) and r["d"] <= dmax * 1.05
    ]
    lo = min([0.0] + [v for v in shown if v < 0])
    ax.set_ylim(bottom=lo - 0.01, top=max(0.05, 1.15 * max([0.0] + shown)))
    ax.set_xlabel("distance d")
    ax.set_ylabel("local entropy S(d)")
    ax.set_title(f"Local entropy around solutions, N={n}, α={alpha:g}")
    ax.legend(fontsize=7)
    return fig


def plot_robustness(records: Sequence[dict[str, Any]], *, alpha: float, n: int) -> Any:
    """Mean training error against flip fraction per source (solved references only)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for src in _sources(records):
        rs = [r for r in records if r["source"] == src and r["solved"]]
        if not rs:
            continue
        fr = sorted({r["fraction"] for r in rs})
        m = [np.mean([r["error"] for r in rs if r["fraction"] == f]) for f in fr]
        s = [np.std([r["error"] for r in rs if r["fraction"] == f]) / np.sqrt(max(1, sum(r["fraction"] == f for r in rs))) for f in fr]
        ax.errorbar(fr, m, yerr=s, marker="o", ms=4, capsize=2, label=src)
    ax.set_xlabel("fraction of flipped weights")
    ax.set_ylabel("training error")
    ax.set_title(f"Flip robustness, N={n}, α={alpha:g}")
    ax.legend(fontsize=8)
    return fig


def plot_generalization(records: Sequence[dict[str, Any]], *, n: int, theory: bool = True) -> Any:
    """Test error against α per source (students that solved their training set only),
    with the Gibbs-learning theory when available."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    alphas = sorted({r["alpha"] for r in records})
    for src in _sources(records):
        rs = [r for r in records if r["source"] == src and r["solved"]]
        if not rs:
            continue
        al = sorted({r["alpha"] for r in rs})
        m = [np.mean([r["error"] for r in rs if r["alpha"] == a]) for a in al]
        s = [np.std([r["error"] for r in rs if r["alpha"] == a]) / np.sqrt(sum(r["alpha"] == a for r in rs)) for a in al]
        ax.errorbar(al, m, yerr=s, marker="o", ms=4, capsize=2, label=src)
    if theory and alphas:
        grid = np.unique(np.concatenate([np.linspace(0.05, max(alphas) * 1.05, 30), alphas]))
        th = theory_generalization(grid)
        if th is not None:
            if "equilibrium" in th:
                ax.plot(grid, th["equilibrium"], "k--", label="Gibbs learning, equilibrium (RS theory)")
                ax.plot(grid, th["metastable"], ":", color="0.5", label="Gibbs, poorly-generalizing branch")
            elif np.any(np.isfinite(th["metastable"])):
                ax.plot(grid, th["metastable"], "k--", label="Gibbs learning (RS theory)")
    ax.set_xlabel("α = P/N")
    ax.set_ylabel("generalization error ε")
    ax.set_title(f"Teacher–student generalization, N={n}")
    ax.legend(fontsize=8)
    return fig
