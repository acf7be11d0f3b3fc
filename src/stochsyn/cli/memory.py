"""``stochsyn memory …``: sparse associative memory with self-control, and MPN sequence memory."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Optional

import typer

from .. import validation as V
from ._common import atomic_write_text, console, err_console, print_json, save_figure, use_agg
from ._grammar import check_output_dir, json_option, parse_seeds, seeds_option

memory_app = typer.Typer(
    help="Related models: sparse associative memory with synaptic noise and self-control threshold "
    "(Bollé & Heylen), and McCulloch–Pitts-network sequence memory.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``memory`` command group to the root app."""
    app.add_typer(memory_app, name="memory")


def _floats(text: str, name: str) -> list[float]:
    try:
        vals = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(f"--{name} must be a comma-separated list of numbers, got {text!r}") from None
    if not vals:
        raise ValueError(f"--{name} must list at least one number, got {text!r}")
    return vals


def _ints(text: str, name: str) -> list[int]:
    vals = _floats(text, name)
    if any(v != int(v) or v < 1 for v in vals):
        raise ValueError(f"--{name} must be a comma-separated list of positive integers, got {text!r}")
    return [int(v) for v in vals]


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    keys: list[str] = []
    for r in rows:
        keys.extend(k for k in r if k not in keys)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys)
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err_console, transient=True)


_MODEL = typer.Option("layered", help="layered (exact N→∞ recursion) or fully-connected (approximate dynamics).")
_SC_VARIANCE = typer.Option("field", help="Noise the self-control threshold c(a)√V_t follows: field (cross-talk + synaptic), "
                           "cross-talk, alpha-q (α q_t, the diluted network's cross-talk) or alpha-q+synaptic.")
_JSON = json_option()


@memory_app.command("retrieval")
def retrieval(
    a: float = typer.Option(0.05, help="Pattern activity a in (0, 0.5]."),
    alpha: float = typer.Option(0.5, help="Load α = P/N."),
    m0: float = typer.Option(0.8, help="Initial overlap with the pattern (initial activity = a)."),
    threshold: list[str] = typer.Option(["self-control"], help="Threshold(s): 'self-control' or a number; repeat to compare."),
    noise: str = typer.Option("none", help="Synaptic noise: none, additive or multiplicative."),
    delta: float = typer.Option(0.0, help="Synaptic noise strength Δ (0 = none)."),
    model: str = _MODEL,
    sc_variance: str = _SC_VARIANCE,
    steps: int = typer.Option(20, help="Number of time steps / layers."),
    n: int = typer.Option(5000, help="Neurons per layer in the finite-N simulation."),
    seeds: str = seeds_option("5", "simulated realisations (one seed each)"),
    simulate: bool = typer.Option(True, "--simulate/--theory-only", help="Run the finite-N simulation next to the theory."),
    out: Optional[Path] = typer.Option(None, help="Folder for retrieval.csv and retrieval.png."),
    json_out: bool = _JSON,
) -> None:
    """Overlap m_t, activity q_t and information against time: theory next to finite-N simulation."""
    import numpy as np

    from ..memory.fully_connected import approximate_dynamics, simulate_fully_connected
    from ..memory.information import information_per_synapse
    from ..memory.layered import layered_recursion, simulate_layered, simulate_seeds
    from ..memory.sparse_hopfield import SynapticNoise, check_threshold

    check_output_dir(out, "--out")
    V.choice("--model", model, ("layered", "fully-connected"))
    V.real("--m0", m0, lo=0.0, hi=1.0)
    V.count("--steps", steps)
    seed_list = parse_seeds(seeds) if simulate else []
    if simulate:
        V.integer("--n", n, lo=2)
    syn = SynapticNoise.parse(noise, delta)
    theory_fn = layered_recursion if model == "layered" else approximate_dynamics
    sim_fn = simulate_layered if model == "layered" else simulate_fully_connected
    rows: list[dict[str, Any]] = []
    curves = []
    with _progress() as prog:
        task = prog.add_task("simulating", total=len(threshold) * len(seed_list))
        for th_text in threshold:
            th = check_threshold(th_text)
            theo = theory_fn(alpha, a, m0, steps=steps, threshold=th, noise=syn, sc_variance=sc_variance)
            sm = sq = None
            if seed_list:
                sim = simulate_seeds(sim_fn, n, alpha, a, m0, seeds=seed_list, steps=steps, threshold=th, noise=syn,
                                     sc_variance=sc_variance, progress=lambda _k: prog.advance(task))
                sm, sq = sim.m, sim.q
            for t in range(steps + 1):
                row = dict(model=model, threshold=str(th), sc_variance=sc_variance, a=a, alpha=alpha, noise=syn.kind,
                           delta=syn.delta, t=t,
                           m_theory=float(theo.m[t]), q_theory=float(theo.q[t]),
                           i_theory=float(information_per_synapse(alpha, theo.m[t], theo.q[t], a)))
                if sm is not None:
                    k = len(seed_list)
                    se_m = float(sm[:, t].std(ddof=1) / np.sqrt(k)) if k > 1 else float("nan")
                    row.update(n=n, seeds=k, m_sim=float(sm[:, t].mean()), m_sim_se=se_m, q_sim=float(sq[:, t].mean()))
                rows.append(row)
            curves.append((str(th), theo, sm))
            if out is not None:
                _write_csv(out / "retrieval.csv", rows)
    if out is not None:
        use_agg()
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        tt = np.arange(steps + 1)
        for label, theo, sm in curves:
            line, = ax.plot(tt, theo.m, label=f"θ={label} (theory)")
            if sm is not None:
                k = len(seed_list)
                err = sm.std(axis=0, ddof=1) / np.sqrt(k) if k > 1 else None
                ax.errorbar(tt, sm.mean(axis=0), yerr=err, fmt="o", ms=3, color=line.get_color(), label=f"θ={label} (N={n}, {k} runs)")
        ax.set_xlabel("t (layer)" if model == "layered" else "t")
        ax.set_ylabel("overlap m_t")
        ax.set_title(f"{model}, a={a}, α={alpha}, noise={syn.kind} Δ={syn.delta}")
        ax.legend(fontsize=7)
        save_figure(fig, out / "retrieval.png")
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"{model} retrieval, a={a}, α={alpha}, m0={m0}, noise={syn.kind} Δ={syn.delta}")
    cols = ["threshold", "t", "m_theory", "q_theory", "i_theory"] + (["m_sim", "m_sim_se", "q_sim"] if seed_list else [])
    for c in cols:
        table.add_column(c, justify="right", no_wrap=True, min_width=6)
    for r in rows:
        table.add_row(*[f"{r[c]:.4f}" if isinstance(r[c], float) else str(r[c]) for c in cols])
    console.print(table)
    if out is not None:
        console.print(f"wrote {out / 'retrieval.csv'} and {out / 'retrieval.png'}")


@memory_app.command("capacity")
def capacity(
    a: str = typer.Option("0.05,0.01", help="Comma-separated pattern activities."),
    noise: str = typer.Option("additive", help="Kind of synaptic noise for the Δ sweep: additive or multiplicative."),
    deltas: str = typer.Option("0,0.5,1.0", help="Comma-separated synaptic noise strengths Δ."),
    model: str = _MODEL,
    sc_variance: str = _SC_VARIANCE,
    theta_points: int = typer.Option(81, help="Number of fixed thresholds scanned in [0, 1−a)."),
    refine_points: int = typer.Option(201, help="Thresholds scanned around the best grid θ to refine it (0 = none)."),
    m_ret: float = typer.Option(0.5, help="Final overlap that counts as retrieval."),
    steps: int = typer.Option(100, help="Time steps before reading the final overlap."),
    out: Optional[Path] = typer.Option(None, help="Folder for capacity.csv and capacity.png."),
    json_out: bool = _JSON,
) -> None:
    """Storage capacity and basins: self-control against the best fixed threshold, against synaptic noise.

    Use ``--steps 1000`` for the capacity of the stationary retrieval state.
    """
    from ..memory.capacity import compare_thresholds, default_theta_grid
    from ..memory.sparse_hopfield import SynapticNoise

    check_output_dir(out, "--out")
    if noise not in ("additive", "multiplicative"):
        raise ValueError(f"--noise must be 'additive' or 'multiplicative', got {noise!r}")
    acts = _floats(a, "a")
    dels = _floats(deltas, "deltas")
    rows: list[dict[str, Any]] = []
    results = []
    with _progress() as prog:
        task = prog.add_task("capacity", total=len(acts) * len(dels))
        for act in acts:
            for d in dels:
                syn = SynapticNoise.parse(noise, d)
                r = compare_thresholds(act, noise=syn, theta_grid=default_theta_grid(act, theta_points), m_ret=m_ret,
                                       steps=steps, model=model, sc_variance=sc_variance, refine_points=refine_points)
                results.append((act, d, r))
                for row in r.rows():
                    row["delta"] = d
                    row["noise"] = noise if d > 0 else "none"
                    rows.append(row)
                if out is not None:
                    _write_csv(out / "capacity.csv", rows)
                prog.advance(task)
    if out is not None:
        use_agg()
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for act in acts:
            ds = [d for (aa, d, _) in results if aa == act]
            sc = [r.capacity_self_control for (aa, _, r) in results if aa == act]
            fx = [r.capacity_best_fixed for (aa, _, r) in results if aa == act]
            line, = ax.plot(ds, sc, "o-", label=f"a={act} self-control")
            ax.plot(ds, fx, "s--", color=line.get_color(), label=f"a={act} best fixed θ")
        ax.set_xlabel(f"synaptic noise Δ ({noise})")
        ax.set_ylabel("storage capacity α_c")
        ax.set_yscale("log")
        ax.set_title(f"{model} network")
        ax.legend(fontsize=7)
        save_figure(fig, out / "capacity.png")
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"{model}: self-control (SC, V_t = {sc_variance}) vs best fixed threshold, {steps} steps; "
                        "basin = smallest retrieved m0 (smaller is better)")
    for c in ("a", "noise", "Δ", "α_c SC", "α_c fixed", "θ*", "α", "basin m0 SC", "basin m0 fixed", "θ*(α)"):
        table.add_column(c, justify="right", no_wrap=True, min_width=6)
    for r in rows:
        table.add_row(f"{r['a']:g}", r["noise"], f"{r['delta']:g}", f"{r['alpha_c_self_control']:.4f}", f"{r['alpha_c_best_fixed']:.4f}",
                      f"{r['theta_best_capacity']:.3f}", f"{r['alpha']:.3f}", f"{r['basin_m0_self_control']:.3f}",
                      f"{r['basin_m0_best_fixed']:.3f}", f"{r['theta_best_basin']:.3f}")
    console.print(table)
    if out is not None:
        console.print(f"wrote {out / 'capacity.csv'} and {out / 'capacity.png'}")


def _recall_rows(label: str, total: int, csv_path: Optional[Path], run: Any) -> list[dict[str, Any]]:
    """Run ``run(on_row)`` under a progress bar; every row is kept and the CSV rewritten as it arrives."""
    rows: list[dict[str, Any]] = []
    with _progress() as prog:
        task = prog.add_task(label, total=total)

        def on_row(row: dict[str, Any]) -> None:
            rows.append(row)
            prog.advance(task)
            if csv_path is not None:
                _write_csv(csv_path, rows)

        run(on_row)
    return rows


def _plot_recall(rows: list[dict[str, Any]], metric: str, path: Path, *, xlabel: str, ylabel: str, title: str,
                 target: Optional[float] = None) -> None:
    """Mean of ``metric`` against load, one line per rule (MPN and asymmetric Hebb)."""
    use_agg()
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 4))
    for rule in ("mpn", "asymmetric-hebb"):
        sel = [r for r in rows if r["rule"] == rule]
        loads = sorted({r["load"] for r in sel})
        ax.plot(loads, [np.mean([r[metric] for r in sel if r["load"] == L]) for L in loads], "o-", label=rule)
    if target is not None:
        ax.axhline(target, color="gray", lw=0.8, ls=":")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    save_figure(fig, path)


def _print_rows(title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """A right-aligned table of ``columns`` (name, format spec; "" = str, None values left blank)."""
    from rich.table import Table

    table = Table(title=title)
    for c, _ in columns:
        table.add_column(c, justify="right", no_wrap=True, min_width=6)
    for r in rows:
        table.add_row(*["" if r[c] is None else format(r[c], f) if f else str(r[c]) for c, f in columns])
    console.print(table)


_RECALL_COLUMNS = [("rule", ""), ("sequences", ""), ("load", ".3f"), ("seed", "")]


@memory_app.command("sequences")
def sequences(
    n: int = typer.Option(500, help="Number of binary units."),
    length: int = typer.Option(20, help="Frames per sequence."),
    counts: str = typer.Option("5,10,20,30,40", help="Comma-separated numbers of stored sequences."),
    seeds: str = seeds_option("1", "data sets per count (one seed each)"),
    cue_noise: float = typer.Option(0.0, help="Fraction of cue bits flipped."),
    epochs: int = typer.Option(300, help="Maximum training iterations (L-BFGS) of the MPN."),
    l2: float = typer.Option(1e-6, help="Weight decay of the MPN likelihood."),
    out: Optional[Path] = typer.Option(None, help="Folder for sequences.csv and sequences.png."),
    json_out: bool = _JSON,
) -> None:
    """MPN sequence memory against the asymmetric-Hebb rule: recall accuracy against load."""
    from ..memory.sequences import capacity_curve

    check_output_dir(out, "--out")
    ks = _ints(counts, "counts")
    seed_list = parse_seeds(seeds)
    rows = _recall_rows("sequences", 2 * len(ks) * len(seed_list), out and out / "sequences.csv",
                        lambda on_row: capacity_curve(n, length, ks, seeds=seed_list, cue_noise=cue_noise,
                                                      train_kwargs=dict(epochs=epochs, l2=l2), progress=on_row))
    if out is not None:
        _plot_recall(rows, "bits_correct", out / "sequences.png", xlabel="load K(L−1)/N (stored transitions per unit)",
                     ylabel="fraction of bits recalled correctly", title=f"N={n}, L={length}, cue noise={cue_noise}",
                     target=0.99)
    if json_out:
        print_json(rows)
        return
    _print_rows(f"sequence recall, N={n}, L={length}, cue noise {cue_noise}", rows,
                _RECALL_COLUMNS + [("bits_correct", ".4f"), ("sequences_perfect", ".3f")])
    if out is not None:
        console.print(f"wrote {out / 'sequences.csv'} and {out / 'sequences.png'}")


@memory_app.command("jump-sequences")
def jump_sequences(
    n: int = typer.Option(50, help="Number of binary units."),
    length: int = typer.Option(10, help="Frames per sequence."),
    counts: str = typer.Option("1,2,4,8", help="Comma-separated numbers of stored sequences."),
    flips: Optional[int] = typer.Option(5, help="Units that change per frame transition (0 = i.i.d. random frames)."),
    seeds: str = seeds_option("2", "data sets per count (one seed each)"),
    epochs: int = typer.Option(2000, help="Gradient-ascent passes of the local rule."),
    out: Optional[Path] = typer.Option(None, help="Folder for jump_sequences.csv and jump_sequences.png."),
    json_out: bool = _JSON,
) -> None:
    """Continuous-time MPN (exact jump process) against asymmetric Hebb: frames recalled in order against load."""
    from ..memory.mpn_continuous import sequence_capacity

    check_output_dir(out, "--out")
    ks = _ints(counts, "counts")
    seed_list = parse_seeds(seeds)
    rows = _recall_rows("jump sequences", 2 * len(ks) * len(seed_list), out and out / "jump_sequences.csv",
                        lambda on_row: sequence_capacity(n, length, ks, flips=flips or None, seeds=seed_list,
                                                         epochs=epochs, progress=on_row))
    if out is not None:
        _plot_recall(rows, "frames_reached", out / "jump_sequences.png", xlabel="load K(L−1)/N",
                     ylabel="fraction of frames reached in order",
                     title=f"continuous-time recall, N={n}, L={length}, flips={flips or 'random frames'}")
    if json_out:
        print_json(rows)
        return
    _print_rows(f"continuous-time sequence recall, N={n}, L={length}, flips per transition {flips or 'random'}", rows,
                _RECALL_COLUMNS + [("frames_reached", ".3f"), ("sequences_perfect", ".3f"), ("hebb_gain", "g")])
    if out is not None:
        console.print(f"wrote {out / 'jump_sequences.csv'} and {out / 'jump_sequences.png'}")


@memory_app.command("jump-couplings")
def jump_couplings(
    n: int = typer.Option(10, help="Units of the ground-truth network."),
    jumps: str = typer.Option("1000,10000,100000", help="Comma-separated numbers of observed flips."),
    seed: int = typer.Option(0, min=0, help="Seed of the ground truth and of its spike train."),
    epochs: int = typer.Option(2000, help="Gradient-ascent passes of the local rule."),
    json_out: bool = _JSON,
) -> None:
    """Fit a continuous-time MPN to exact spike trains of a known network: coupling error against observed flips."""
    from ..memory.mpn_continuous import coupling_recovery

    rows = coupling_recovery(n, _ints(jumps, "jumps"), seed=seed, epochs=epochs)
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"coupling recovery, N={n} (relative error ‖W_fit − W‖/‖W‖ off the diagonal)")
    for c in ("jumps", "relative_error", "correlation", "bias_rmse", "epochs"):
        table.add_column(c, justify="right", no_wrap=True, min_width=6)
    for r in rows:
        table.add_row(str(r["jumps"]), f"{r['relative_error']:.4f}", f"{r['correlation']:.4f}", f"{r['bias_rmse']:.4f}",
                      str(r["epochs"]))
    console.print(table)


@memory_app.command("generative")
def generative(
    n: int = typer.Option(40, help="Number of units of the teacher and fitted MPN."),
    frames: int = typer.Option(4000, help="Training frames (as many held-out frames are generated)."),
    seed: int = typer.Option(0, min=0, help="Seed of the teacher and of the samples."),
    epochs: int = typer.Option(500, help="Maximum L-BFGS iterations."),
    json_out: bool = _JSON,
) -> None:
    """MPN as a generative model of spike trains: fit to a random teacher's samples, compare statistics."""
    from ..memory.sequences import generative_check

    r = generative_check(n, frames, seed=seed, epochs=epochs)
    if json_out:
        print_json(r)
        return
    from rich.table import Table

    table = Table(title=f"MPN generative check, N={n}, {frames} training frames")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for k, v in r.items():
        table.add_row(k, f"{v:.4f}")
    console.print(table)
