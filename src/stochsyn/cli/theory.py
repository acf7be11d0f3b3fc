"""``stochsyn theory …``: replica-symmetric curves as tables, JSON or PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from ._grammar import check_output_file

from ._common import console, err_console, print_json, save_figure, use_agg

theory_app = typer.Typer(
    help="Replica-symmetric theory: capacity, teacher–student, Franz–Parisi, local entropy, stochastic synapses.",
    no_args_is_help=True,
)

_GRID_HELP = "list '0.1,0.2' or range 'start:stop:step' (stop included)"


def parse_grid(text: str, name: str) -> list[float]:
    """``'a,b,c'`` or ``'start:stop:step'`` (the package's one range syntax)."""
    from ..resources import require_memory
    from ._grammar import parse_grid as grid

    values = grid(text, name)
    # every point is a saddle-point solve: refuse a grid whose list alone would not fit
    require_memory(40 * len(values), f"{name}={text!r}, a grid of {len(values)} points,")
    return values


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    tab = Table(title=title)
    for c in columns:
        tab.add_column(c, justify="right")
    for r in rows:
        tab.add_row(*[f"{v:.6g}" if isinstance(v, float) else str(v) for v in r])
    console.print(tab)


def _plot(path: Path, curves: list[tuple[str, list[float], list[float]]], xlabel: str, ylabel: str,
          title: str, hline: float | None = 0.0) -> None:
    use_agg()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, x, y in curves:
        ax.plot(x, y, marker=".", label=label)
    if hline is not None:
        ax.axhline(hline, color="gray", lw=0.8, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(curves) > 1:
        ax.legend(fontsize=8)
    save_figure(fig, path)
    err_console.print(f"wrote {path}")


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console, transient=True)


@theory_app.command("capacity")
def capacity_cmd(
    kappa: str = typer.Option("0", "--kappa", help=f"margin(s) κ: {_GRID_HELP}"),
    levels: int = typer.Option(2, "--levels", help="synaptic levels: 2 (binary ±1) or 3 (ternary −1, 0, +1)"),
    zero_fraction: Optional[str] = typer.Option(
        None, "--zero-fraction", help=f"ternary: fraction(s) f of zero weights in [0, 1): {_GRID_HELP}"),
    n_quad: int = typer.Option(201, help="Gauss–Hermite nodes per Gaussian integral"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    plot: Optional[Path] = typer.Option(None, "--plot", help="write α_c(κ) (or α_c(f)) to this PNG"),
) -> None:
    """Krauth–Mézard capacity α_c (RS entropy = 0) of the binary perceptron, or of ternary
    weights with a fraction f of zeros (--levels 3 --zero-fraction f)."""
    check_output_file(plot, "--plot")
    from ..theory.gardner import capacity, gardner_entropy
    from ..theory.stability import gardner_at_line
    from ..theory.ternary import ternary_entropy

    kappas = parse_grid(kappa, "--kappa")
    if levels not in (2, 3):
        raise ValueError(f"--levels must be 2 or 3, got --levels={levels}")
    if levels == 2 and zero_fraction is not None:
        raise ValueError("--zero-fraction needs --levels 3 (binary weights have no zeros)")
    fractions = parse_grid(zero_fraction if zero_fraction is not None else "0.3", "--zero-fraction") \
        if levels == 3 else [None]
    for f in fractions:
        if f is not None and not 0 <= f < 1:
            raise ValueError(f"--zero-fraction values must lie in [0, 1), got {f}")
    rows = []
    with _progress() as prog:
        task = prog.add_task("capacity", total=len(kappas) * len(fractions))
        for f in fractions:
            for k in kappas:
                ac = capacity(k, levels=levels, zero_fraction=f, n_quad=n_quad)
                st = gardner_entropy(ac, k, n_quad=n_quad) if f is None else ternary_entropy(ac, f, k, n_quad=n_quad)
                row = {"levels": levels, "zero_fraction": 0.0 if f is None else f, "kappa": k,
                       "alpha_c": ac, "q": st.q, "qhat": st.qhat}
                if f is None:  # the AT line of the binary problem (theory.stability)
                    row["alpha_at"] = gardner_at_line(k, n_quad=n_quad)
                rows.append(row)
                prog.advance(task)
    if as_json:
        print_json(rows)
    elif levels == 2:
        _table("Binary perceptron capacity (RS, zero entropy) and the AT line (replicon λ_R = 0; RS locally "
               "stable below α_AT)", ["κ", "α_c", "α_AT", "q at α_c", "q̂ at α_c"],
               [[r["kappa"], r["alpha_c"], r["alpha_at"], r["q"], r["qhat"]] for r in rows])
    else:
        _table("Ternary perceptron capacity (RS, zero entropy; weights −1, 0, +1 with a fraction f of zeros)",
               ["f", "κ", "α_c", "q at α_c", "q̂ at α_c"],
               [[r["zero_fraction"], r["kappa"], r["alpha_c"], r["q"], r["qhat"]] for r in rows])
    if plot is not None:
        if levels == 3 and len(fractions) > 1:
            curves = [(f"κ={k:g}", fractions, [r["alpha_c"] for r in rows if r["kappa"] == k]) for k in kappas]
            _plot(plot, curves, "zero fraction f", "α_c", "ternary capacity", None)
        else:
            curves = [("α_c(κ)", kappas, [r["alpha_c"] for r in rows])]
            if levels == 2:
                curves.append(("α_AT(κ), RS unstable above", kappas, [r["alpha_at"] for r in rows]))
            _plot(plot, curves, "κ", "α", "capacity and AT line", None)


@theory_app.command("entropy")
def entropy_cmd(
    alpha: str = typer.Option("0.1:0.8:0.1", "--alpha", help=f"load(s): {_GRID_HELP}"),
    kappa: float = typer.Option(0.0, "--kappa", help="margin κ"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    plot: Optional[Path] = typer.Option(None, "--plot", help="write φ(α) to this PNG"),
) -> None:
    """Gardner RS entropy φ(α) of the solutions, with q, q̂, the typical distance and the
    replicon eigenvalue λ_R (RS locally stable while λ_R > 0)."""
    check_output_file(plot, "--plot")
    from ..theory.gardner import gardner_entropy
    from ..theory.stability import gardner_replicon

    alphas = parse_grid(alpha, "--alpha")
    states = [gardner_entropy(a, kappa) for a in alphas]
    reps = [gardner_replicon(a, kappa) if a > 0 else None for a in alphas]
    if as_json:
        print_json([{**s.as_dict(), "replicon": None if r is None else r.eigenvalue} for s, r in zip(states, reps)])
    else:
        _table(f"Gardner entropy (κ={kappa:g}); λ_R: replicon eigenvalue, RS locally stable while > 0",
               ["α", "φ", "q", "q̂", "d_typ", "λ_R", "iterations"],
               [[s.alpha, s.entropy, s.q, s.qhat, s.typical_distance, 1.0 if r is None else r.eigenvalue,
                 0 if s.report is None else s.report.iterations] for s, r in zip(states, reps)])
    if plot is not None:
        _plot(plot, [("φ", [s.alpha for s in states], [s.entropy for s in states])], "α", "entropy",
              f"Gardner entropy, κ={kappa:g}")


@theory_app.command("teacher-student")
def teacher_student_cmd(
    alpha: str = typer.Option("0.1:1.4:0.1", "--alpha", help=f"load(s): {_GRID_HELP}"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    plot: Optional[Path] = typer.Option(None, "--plot", help="write ε(α) and s(α) to this PNG"),
) -> None:
    """Gibbs learning, binary teacher/student: overlap R, error ε = arccos(R)/π, entropy."""
    check_output_file(plot, "--plot")
    from ..theory.teacher_student import perfect_generalization_threshold, teacher_student_gibbs

    states = [teacher_student_gibbs(a) for a in parse_grid(alpha, "--alpha")]
    ac = perfect_generalization_threshold()
    if as_json:
        print_json({"states": [s.as_dict() for s in states], "perfect_generalization_alpha": ac})
    else:
        _table("Teacher–student Gibbs learning (RS, poorly-generalizing branch)",
               ["α", "R", "ε", "entropy"], [[s.alpha, s.R, s.gen_error, s.entropy] for s in states])
        console.print(f"first-order transition to perfect generalization: α = {ac:.6f}")
    if plot is not None:
        xs = [s.alpha for s in states]
        _plot(plot, [("ε", xs, [s.gen_error for s in states]), ("entropy", xs, [s.entropy for s in states])],
              "α", "", f"teacher–student (transition α={ac:.4f})")


def _distance_grid(d: Optional[str], default: str) -> list[float]:
    return parse_grid(d if d is not None else default, "--d")


@theory_app.command("franz-parisi")
def franz_parisi_cmd(
    alpha: str = typer.Option("0.5", "--alpha", help=f"load(s): {_GRID_HELP}"),
    d: Optional[str] = typer.Option(None, "--d", help=f"distances: {_GRID_HELP} (default 0.002…0.3)"),
    kappa: float = typer.Option(0.0, "--kappa", help="margin κ"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    plot: Optional[Path] = typer.Option(None, "--plot", help="write V(d) to this PNG"),
) -> None:
    """Franz–Parisi local entropy V(d) around typical (equilibrium) solutions."""
    check_output_file(plot, "--plot")
    import numpy as np

    from ..theory.franz_parisi import franz_parisi

    ds = _distance_grid(d, "0.002,0.005,0.01,0.02,0.05,0.1,0.2,0.3")
    alphas = parse_grid(alpha, "--alpha")
    curves = []
    with _progress() as prog:
        task = prog.add_task("franz-parisi", total=len(alphas))
        for a in alphas:
            curves.append(franz_parisi(a, np.array(ds), kappa))
            prog.advance(task)
    _emit_curves(curves, as_json, plot, "Franz–Parisi potential (typical reference)")


def _emit_curves(curves, as_json: bool, plot: Optional[Path], title: str) -> None:
    if as_json:
        print_json([c.as_dict() for c in curves])
    else:
        for c in curves:
            ref = c.reference
            extra = "" if ref is None else f", reference entropy {ref.entropy:.6g} at d={ref.typical_distance:.4g}"
            _table(f"{title}: α={c.alpha:g}, κ={c.kappa:g}{extra}", ["d", "local entropy", "q1", "converged"],
                   [[float(c.d[i]), float(c.entropy[i]), float(c.order["q1"][i]), bool(c.converged[i])]
                    for i in range(len(c.d))])
    if plot is not None:
        _plot(plot, [(f"α={c.alpha:g}", c.d.tolist(), c.entropy.tolist()) for c in curves], "d",
              "local entropy", title)


@theory_app.command("stochastic")
def stochastic_cmd(
    alpha: float = typer.Option(0.5, "--alpha", help="load P/N"),
    q0: str = typer.Option("0.1:0.9:0.1", "--q0", help=f"polarization(s) q0 = Σm²/N: {_GRID_HELP}"),
    d: Optional[str] = typer.Option(None, "--d", help="also compute the local entropy of binary solutions at "
                                    f"these distances from sign(m*): {_GRID_HELP}"),
    typical: bool = typer.Option(False, "--typical", help="with --d: add the Franz–Parisi curve around typical solutions"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
    plot: Optional[Path] = typer.Option(None, "--plot", help="write the curves to this PNG"),
) -> None:
    """Minimizers m* of the stochastic-synapse (CLT) loss at fixed polarization q0 (RS, β → ∞),
    the training error of sign(m*), and (with --d) the local entropy around sign(m*)."""
    check_output_file(plot, "--plot")
    import numpy as np

    from ..theory.stochastic_measure import stochastic_ground_state

    q0s = parse_grid(q0, "--q0")
    states = []
    curves = []
    with _progress() as prog:
        task = prog.add_task("stochastic", total=len(q0s))
        for q in q0s:
            states.append(stochastic_ground_state(alpha, q))
            if d is not None:
                from ..theory.stochastic_franz_parisi import sign_reference_local_entropy

                curves.append(sign_reference_local_entropy(alpha, q, np.array(parse_grid(d, "--d"))))
            prog.advance(task)
    fp = None
    if d is not None and typical:
        from ..theory.franz_parisi import franz_parisi

        fp = franz_parisi(alpha, np.array(parse_grid(d, "--d")))
    if as_json:
        out: dict[str, Any] = {"states": [s.as_dict() for s in states]}
        if curves:
            out["sign_reference"] = [
                {"q0": q, **c.as_dict(), "free_distance": c.free_distance, "free_entropy": c.free_entropy}
                for q, c in zip(q0s, curves)]
        if fp is not None:
            out["typical"] = fp.as_dict()
        print_json(out)
    else:
        _table(f"Stochastic-synapse loss minimizers (RS, β→∞), α={alpha:g}",
               ["q0", "E/N", "E/P", "train err sign(m*)", "train err m*", "Σ|m|/N", "frac |m|=1"],
               [[s.q0, s.energy, s.loss_per_pattern, s.train_error_sign, s.train_error_mean, s.rho,
                 s.frac_polarized] for s in states])
        for q, c in zip(q0s, curves):
            _table(f"Local entropy of solutions around sign(m*), α={alpha:g}, q0={q:g} "
                   f"(max {c.free_entropy:.5g} = Gardner entropy at d={c.free_distance:.4g})",
                   ["d", "local entropy", "q1", "converged"],
                   [[float(c.d[i]), float(c.entropy[i]), float(c.order["q1"][i]), bool(c.converged[i])]
                    for i in range(len(c.d))])
        if fp is not None:
            _emit_curves([fp], False, None, "Franz–Parisi potential (typical reference)")
    if plot is not None:
        if curves:
            lines = [(f"sign(m*), q0={q:g}", c.d.tolist(), c.entropy.tolist()) for q, c in zip(q0s, curves)]
            if fp is not None:
                lines.append(("typical reference", fp.d.tolist(), fp.entropy.tolist()))
            _plot(plot, lines, "d", "local entropy", f"local entropy around sign(m*), α={alpha:g}")
        else:
            xs = [s.q0 for s in states]
            _plot(plot, [("E/P", xs, [s.loss_per_pattern for s in states]),
                         ("train error of sign(m*)", xs, [s.train_error_sign for s in states])],
                  "q0", "", f"stochastic synapses, α={alpha:g}", None)


@theory_app.command("local-entropy")
def local_entropy_cmd(
    alpha: str = typer.Option("0.5", "--alpha", help=f"load(s): {_GRID_HELP}"),
    d: str = typer.Option("0.005:0.1:0.005", "--d", help=f"distances: {_GRID_HELP}"),
    y: str = typer.Option("inf", "--y", help="replicas per reference: 'inf' (the densest regions, "
                          "default), an integer >= 2 (finite-y solver, slow) or 'sigma0' (the y* where the "
                          "external entropy Σ vanishes: the densest regions that exist, free reference "
                          "with the reference's constraint to first order)"),
    kappa: float = typer.Option(0.0, "--kappa", help="margin κ"),
    n_outer: int = typer.Option(16, "--n-outer", help="finite y: Gauss–Hermite nodes per outer Gaussian variable"),
    n_inner: int = typer.Option(14, "--n-inner", help="finite y: Gauss–Hermite nodes of the inner Gaussian variables"),
    n_panel: int = typer.Option(6, "--n-panel", help="finite y: Gauss–Legendre nodes per panel of the truncated variable"),
    breakup: bool = typer.Option(False, "--breakup", help="y = inf: also locate the load α_U beyond which "
                                 "S(d) stops being monotonic (bisection, ~1-2 min); y = sigma0: the same at "
                                 "Σ = 0 on d = 0.01…0.06 (bisection, ~30-60 min)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    plot: Optional[Path] = typer.Option(None, "--plot", help="write S(d) to this PNG"),
) -> None:
    """Large-deviation local entropy S(d) of the references dominating Σ_W̃ X(W̃) N(W̃,d)^y
    (Baldassi et al. 2015), RS; y = inf (default) gives the maximal local entropy of dense
    regions (beyond the break-up, points on the plateau of the X = 0 cluster state are marked
    'plateau'); other non-converged points are listed with NaN."""
    check_output_file(plot, "--plot")
    import math

    from ..theory.dense_limit import binary_entropy, local_entropy_max_curve
    from ..theory.local_entropy import local_entropy_dense
    from ..theory.saddle import SaddlePointError

    yv: float | int
    if y.strip().lower() in ("sigma0", "sigma=0", "star"):
        _local_entropy_sigma0(alpha, d, kappa, breakup, as_json, plot)
        return
    if y.strip().lower() in ("inf", "infinity"):
        yv = math.inf
    else:
        try:
            yv = int(y)
        except ValueError:
            raise ValueError(f"--y={y!r}: expected 'inf', 'sigma0' or an integer >= 2") from None
    finite = math.isfinite(yv)
    ds = sorted(parse_grid(d, "--d"), reverse=not finite)  # y = inf continues from large d down
    alphas = parse_grid(alpha, "--alpha")
    rows: list[dict[str, Any]] = []
    breakup_result = None
    def failed(a: float, dv: float, error: str) -> dict[str, Any]:
        return {"alpha": a, "kappa": kappa, "y": y, "d": dv, "local_entropy": float("nan"),
                "free_entropy": float("nan"), "external_entropy": float("nan"),
                "order": {}, "saddle": {"converged": False, "error": error}}

    with _progress() as prog:
        task = prog.add_task("local-entropy", total=len(alphas) * len(ds))
        for a in alphas:
            if not finite:
                # the library continues the curve and applies the cluster plateau beyond α_U
                curve = local_entropy_max_curve(a, ds, kappa, progress=lambda _d: prog.advance(task))
                rows.extend(r.as_dict() if r is not None else failed(a, dv, "no convergence")
                            for r, dv in zip(curve, ds))
                continue
            start = None
            for dv in ds:
                try:
                    r = local_entropy_dense(a, dv, kappa, y=yv, n_outer=n_outer, n_inner=n_inner,
                                           n_panel=n_panel, start=start)
                    start = r.order
                    rows.append(r.as_dict())
                except SaddlePointError as exc:
                    rows.append(failed(a, dv, str(exc)))
                prog.advance(task)
        if breakup and not finite:
            from ..theory.dense_limit import local_entropy_breakup_alpha

            task2 = prog.add_task("break-up α (bisection)", total=None)
            breakup_result = local_entropy_breakup_alpha(kappa, progress=lambda s: prog.advance(task2))
    rows.sort(key=lambda r: (r["alpha"], r["d"]))
    if as_json:
        print_json(rows if breakup_result is None else {"curves": rows, "breakup": breakup_result.as_dict()})
    else:
        if finite:
            _table(f"Local entropy of dense regions (RS, y={yv}, κ={kappa:g})",
                   ["α", "d", "S_I", "Σ_ext", "Φ", "Q", "converged"],
                   [[r["alpha"], r["d"], r["local_entropy"], r["external_entropy"], r["free_entropy"],
                     r["order"].get("Q", float("nan")), bool(r["saddle"]["converged"])] for r in rows])
        else:
            _table(f"Maximal local entropy of dense regions (RS, y → ∞, κ={kappa:g})",
                   ["α", "d", "S_∞", "H2(d)", "X = ½dS/dd", "q1", "ref. violates", "converged"],
                   [[r["alpha"], round(r["d"], 6), round(r["local_entropy"], 6),
                     round(float(binary_entropy(r["d"])), 6),
                     round(r["order"].get("X", float("nan")), 5), round(r["order"].get("q1", float("nan")), 5),
                     f"{r['order'].get('center_violation', float('nan')):.1e}",
                     "plateau" if r["saddle"].get("plateau") else bool(r["saddle"]["converged"])] for r in rows])
            console.print("plateau: beyond α_U the maximal local entropy stays at the X = 0 cluster state "
                          "(cluster_state) from its d0 until the X > 0 branch exceeds it (docs/theory.md §7)")
            console.print("ref. violates: fraction of patterns the optimal reference (sign of its cloud) "
                          "violates; where it is not ~0, S_∞ is an upper bound for a reference that must be "
                          "a solution (docs/theory.md §7)")
            if breakup_result is not None:
                b = breakup_result
                console.print(f"break-up: α_U = {b.alpha:.4f} (bisection bracket {b.bracket[0]:.5f}–{b.bracket[1]:.5f}; "
                              f"linear extrapolation of min X: {b.alpha_linear:.5f}); min X = {b.min_X:.2e} "
                              f"at d = {b.d_star:.4f} on the last monotonic curve")
    if plot is not None:
        ylab = f"y={y}" if finite else "y=∞"
        curves = [(f"α={a:g}, {ylab}", [r["d"] for r in rows if r["alpha"] == a],
                   [r["local_entropy"] for r in rows if r["alpha"] == a]) for a in alphas]
        _plot(plot, curves, "d", "local entropy", f"dense-region local entropy, {ylab}")


def _local_entropy_sigma0(alpha: str, d: str, kappa: float, breakup: bool, as_json: bool,
                          plot: Optional[Path]) -> None:
    """``local-entropy --y sigma0``: the Σ(y*) = 0 curves and, with --breakup, their break-up α."""
    from ..theory.sigma_zero import sigma_zero_breakup_alpha, sigma_zero_curve

    ds = sorted(parse_grid(d, "--d"))
    alphas = parse_grid(alpha, "--alpha")
    rows: list[dict[str, Any]] = []
    result = None
    with _progress() as prog:
        task = prog.add_task("local-entropy at Σ = 0", total=len(alphas) * len(ds))
        for a in alphas:
            curve = sigma_zero_curve(a, ds, kappa, progress=lambda _p: prog.advance(task))
            rows.extend(p.as_dict() if p is not None else {"alpha": a, "kappa": kappa, "d": dv, "y_star": float("nan"),
                                                           "local_entropy": float("nan"),
                                                           "constrained_local_entropy": float("nan"),
                                                           "Shat": float("nan"), "p_viol": float("nan")}
                        for p, dv in zip(curve, ds))
        if breakup:
            task2 = prog.add_task("break-up α at Σ = 0 (bisection)", total=None)
            result = sigma_zero_breakup_alpha(kappa, progress=lambda s: prog.advance(task2))
    if as_json:
        print_json(rows if result is None else {"curves": rows, "breakup": result.as_dict()})
    else:
        _table(f"Local entropy of the densest existing regions (RS, Σ(y*) = 0, κ={kappa:g})",
               ["α", "d", "y*", "S* (free ref.)", "S*_c (ref. a solution)", "Ŝ = ½dS*/dd", "ref. violates"],
               [[r["alpha"], round(r["d"], 6), round(r["y_star"], 4), round(r["local_entropy"], 6),
                 round(r["constrained_local_entropy"], 6), round(r["Shat"], 5), f"{r['p_viol']:.2e}"] for r in rows])
        console.print("S*_c: first order in the fraction of patterns the free reference violates "
                      "(docs/theory.md §7b); NaN: no Σ = 0 saddle point on the continued branch")
        if result is not None:
            lo, hi = result.bracket
            console.print(f"break-up at Σ = 0: α in ({lo:.4f}, {hi:.4f}) on d = {result.d_range[0]:g}…"
                          f"{result.d_range[1]:g}; " + "; ".join(f"α={s[0]:.4f}: {'intact' if s[1] else s[2]}"
                                                                 for s in result.steps))
    if plot is not None:
        _plot(plot, [(f"α={a:g}, Σ=0, {lab}", [r["d"] for r in rows if r["alpha"] == a],
                      [r[key] for r in rows if r["alpha"] == a]) for a in alphas
                     for lab, key in (("free ref.", "local_entropy"), ("ref. a solution", "constrained_local_entropy"))],
              "d", "local entropy", "densest existing regions, Σ(y*) = 0")


def register(app: typer.Typer) -> None:
    """Add the ``theory`` command group to the root app."""
    app.add_typer(theory_app, name="theory")
