"""Reproduce the bars of the memory area (issue 8) and print what was measured.

1. Layered network: exact N → ∞ recursion against finite-N simulation (N = 5000,
   several seeds): z-scores (sim mean − theory) / standard error per time step.
2. Self-control against the best fixed threshold (exact layered recursion; the fully
   connected network with its approximate dynamics as a second table): storage
   capacity and basin boundaries at a = 0.05 and 0.01, with and without synaptic noise;
   plus a finite-N check of one basin claim.
3. MPN sequence memory against asymmetric Hebb: N = 500, L = 20, recall accuracy
   against the number of stored sequences (capacity curve).
4. MPN generative mode: fit to spike trains sampled from a random teacher MPN.

Run: ``make bench BENCH=memory`` (or ``.venv/bin/python benchmarks/bench_memory.py [--quick] [--only 2]``).
Single-threaded BLAS on purpose: the machine is shared.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from stochsyn.memory.capacity import (  # noqa: E402
    basin_boundary,
    best_fixed_capacity,
    compare_thresholds,
    default_theta_grid,
    max_information,
    stationary_capacity,
    storage_capacity,
)
from stochsyn.memory.fully_connected import approximate_dynamics, simulate_fully_connected_seeds  # noqa: E402
from stochsyn.memory.layered import layered_recursion, simulate_layered_seeds  # noqa: E402
from stochsyn.memory.sequences import (  # noqa: E402
    capacity_curve,
    generative_check,
    random_sequences,
    recall_accuracy,
    train_mpn,
)
from stochsyn.memory.sparse_hopfield import SynapticNoise  # noqa: E402

QUICK = "--quick" in sys.argv


def section(title: str) -> None:
    print("\n" + "=" * len(title) + f"\n{title}\n" + "=" * len(title), flush=True)


def bar_layered() -> None:
    section("1. layered network: N→∞ recursion vs finite-N simulation")
    n, seeds, steps = (2000, 4, 5) if QUICK else (5000, 8, 8)
    cases = [
        (0.05, 0.6, 0.8, "self-control", SynapticNoise()),
        (0.05, 0.6, 0.8, 0.25, SynapticNoise()),
        (0.05, 0.4, 0.8, "self-control", SynapticNoise("additive", 0.5)),
        (0.05, 0.4, 0.8, "self-control", SynapticNoise("multiplicative", 0.5)),
        (0.01, 2.0, 0.8, "self-control", SynapticNoise()),
        (0.05, 0.6, 0.8, "self-control", SynapticNoise("multiplicative", 0.5), "alpha-q+synaptic"),
    ]
    print(f"N={n}, {seeds} seeds per case, {steps} layers; z = (sim mean − theory)/standard error of the mean")
    for a, alpha, m0, th, noise, *rest in cases:
        scv = rest[0] if rest else "field"
        t0 = time.time()
        theo = layered_recursion(alpha, a, m0, steps=steps, threshold=th, noise=noise, sc_variance=scv)
        sim = simulate_layered_seeds(n, alpha, a, m0, seeds=seeds, steps=steps, threshold=th, noise=noise, seed=1,
                                     sc_variance=scv)
        mean_m, se_m = sim.m.mean(0), sim.m.std(0, ddof=1) / np.sqrt(seeds)
        mean_q, se_q = sim.q.mean(0), sim.q.std(0, ddof=1) / np.sqrt(seeds)
        zm = (mean_m - theo.m) / se_m
        zq = (mean_q - theo.q) / se_q
        print(f"\na={a} α={alpha} m0={m0} θ={th} (V_t: {scv}) noise={noise.kind} Δ={noise.delta}  ({time.time() - t0:.0f}s)")
        print("  t    m_theory  m_sim±se          z_m    q_theory  q_sim     z_q    V_theory  V_sim")
        for t in range(steps + 1):
            print(f"  {t:<3d}  {theo.m[t]:.4f}    {mean_m[t]:.4f}±{se_m[t]:.4f}   {zm[t]:+5.2f}   {theo.q[t]:.4f}    "
                  f"{mean_q[t]:.4f}   {zq[t]:+5.2f}   {theo.variance[t]:.4f}    {sim.variance.mean(0)[t]:.4f}")
        print(f"  max|z_m| = {np.max(np.abs(zm)):.2f}, max|z_q| = {np.max(np.abs(zq)):.2f}, "
              f"fraction of |z| < 2: {np.mean(np.abs(np.concatenate([zm, zq])) < 2):.2f}")


VARIANTS = ("field", "cross-talk", "alpha-q", "alpha-q+synaptic")
NOISES = [SynapticNoise(), SynapticNoise("additive", 0.5), SynapticNoise("multiplicative", 0.5)]


def _bar_row(a: float, noise: SynapticNoise, steps: int, model: str) -> dict:
    """Best fixed θ (241-point grid refined on 201 points) and self-control with every V_t estimate."""
    grid = default_theta_grid(a, 241)
    cap_fx, theta_fx = best_fixed_capacity(a, noise=noise, theta_grid=grid, steps=steps, model=model)
    alphas = np.array([0.2, 0.4, 0.6, 0.8]) * cap_fx
    b = np.asarray(basin_boundary(alphas[:, None], a, threshold=grid[None, :], noise=noise, steps=steps, model=model))
    b_fx = np.min(np.where(np.isnan(b), np.inf, b), axis=1)
    row = dict(cap_fx=cap_fx, theta_fx=theta_fx, alphas=alphas, basin_fx=b_fx, cap={}, basin={})
    for v in VARIANTS:
        row["cap"][v] = storage_capacity(a, noise=noise, steps=steps, model=model, sc_variance=v, tol=1e-5)
        row["basin"][v] = np.atleast_1d(basin_boundary(alphas, a, noise=noise, steps=steps, model=model, sc_variance=v))
    return row


def bar_self_control() -> None:
    section("2. self-control vs best fixed threshold (capacity: larger is better; basin m0: smaller is better)")
    print("Self-control θ_t = c(a)√V_t, c(a) = √(−2 ln a), with V_t = field: D_t + V_syn (whole field noise); cross-talk: D_t;\n"
          "alpha-q: α q_t (the extremely diluted network's noise); alpha-q+synaptic: α q_t + V_syn. Best fixed θ: 241-point grid in [0, 1−a)\n"
          "refined on 201 points around its optimum; capacities to relative precision 1e-5. Retrieval: m_T ≥ 0.5 from\n"
          "m0 = 1, q0 = a, after T = 100 steps, or T = 1000 (stationary state). Δ = 0.5 for the noisy rows.\n"
          "'+' marks an SC capacity above the best fixed one.")
    runs = [("layered", 100), ("layered", 1000), ("fully-connected", 100)]
    if QUICK:
        runs = [("layered", 100)]
    basin_rows = {}
    for model, steps in runs:
        print(f"\nmodel {model} ({'exact N→∞ recursion' if model == 'layered' else 'approximate one-step-feedback dynamics'}), "
              f"T = {steps}")
        print("  a     noise            best fixed α_c (θ*)    SC field     SC cross-talk  SC alpha-q   SC alpha-q+syn")
        for a in (0.05, 0.01):
            for noise in NOISES:
                t0 = time.time()
                r = _bar_row(a, noise, steps, model)
                basin_rows[(model, steps, a, noise.kind)] = r
                caps = "  ".join(f"{r['cap'][v]:8.5f}{'+' if r['cap'][v] > r['cap_fx'] else ' '}    " for v in VARIANTS)
                print(f"  {a:<5} {noise.kind + ' ' + str(noise.delta):<16} {r['cap_fx']:8.5f} ({r['theta_fx']:.4f})     {caps}"
                      f"({time.time() - t0:.0f}s)", flush=True)
    print("\ncritical capacity from the stationary equations of the layered network (largest α with a stationary "
          "solution m ≥ 0.5,\nstable or not): SC = θ = c(a)√V (field); envelope = best over every fixed θ, a bound for every rule")
    for a in (0.05, 0.01):
        for noise in NOISES:
            sc = stationary_capacity(a, noise=noise)
            env = stationary_capacity(a, rule="best-fixed", noise=noise)
            print(f"  a={a:<5} {noise.kind + ' ' + str(noise.delta):<18} SC {sc['alpha_c']:.5f} (m={sc['m']:.3f})   "
                  f"envelope {env['alpha_c']:.5f} (θ={env['theta']:.4f}, c=θ/√V={env['k']:.3f}, m={env['m']:.3f})")
    print("\nbasin boundaries m_B (smallest retrieved m0, q0 = a) at α = 0.2, 0.4, 0.6, 0.8 × best-fixed α_c, T = 100;"
          "\nthe fixed θ is re-optimised at each α (grid of 241)")
    for (model, steps, a, kind), r in basin_rows.items():
        if steps != 100:
            continue
        fx = "/".join(f"{x:.3f}" for x in r["basin_fx"])
        sc = "  ".join(f"{v}: " + "/".join(f"{x:.3f}" for x in r["basin"][v]) for v in VARIANTS)
        larger = all(np.all(r["basin"][v] < r["basin_fx"]) for v in VARIANTS)
        print(f"  {model:<15} a={a:<5} {kind:<14} fixed {fx} | {sc} | SC larger everywhere: {larger}")
    print("\n  sensitivity of the capacity comparison to the retrieval criterion m_T ≥ m_ret (layered, no noise, T = 1000)")
    for a in (0.05, 0.01):
        grid = default_theta_grid(a, 241)
        for mr in (0.5, 0.8, 0.9, 0.95):
            fx, th = best_fixed_capacity(a, theta_grid=grid, m_ret=mr, steps=1000)
            sc = {v: storage_capacity(a, m_ret=mr, steps=1000, tol=1e-5, sc_variance=v) for v in ("field", "alpha-q")}
            print(f"  a={a} m_ret={mr}: best fixed {fx:.5f} (θ={th:.4f}), SC field {sc['field']:.5f}, SC alpha-q {sc['alpha-q']:.5f}")
    print("\n  maximal information per synapse i = α I (bits), layered, T = 100, retrieval from m0 = 1")
    for a in (0.05, 0.01):
        grid = default_theta_grid(a, 241)
        for noise in NOISES:
            i_fx, al_fx = max_information(a, threshold=grid, noise=noise)
            k = int(np.argmax(i_fx))
            sc = "  ".join(f"{v} {max_information(a, noise=noise, sc_variance=v)[0]:.4f}" for v in VARIANTS)
            print(f"  a={a} {noise.kind} Δ={noise.delta}: best fixed {i_fx[k]:.4f} (α={al_fx[k]:.3f}, θ={grid[k]:.3f}) | SC {sc}")
    print("\n  for information only (not the papers' rule): α_c of SC (field) against the constant c, layered, no noise, T = 1000")
    for a in (0.05, 0.01):
        c0 = float(np.sqrt(-2 * np.log(a)))
        cs = c0 + np.linspace(-0.5, 0.3, 9)
        caps = [float(storage_capacity(a, steps=1000, tol=1e-4, c=c)) for c in cs]
        print(f"  a={a}, c(a)={c0:.3f}: " + ", ".join(f"c={c:.2f}: {v:.4f}" for c, v in zip(cs, caps)))
    # finite-N check of one basin claim
    a, alpha = 0.05, 0.5
    r = compare_thresholds(a, alphas=np.array([alpha]), theta_grid=default_theta_grid(a, 241))
    m0 = 0.5 * (r.basin_self_control[0] + r.basin_best_fixed[0])
    n, seeds = (2000, 3) if QUICK else (5000, 6)
    print(f"\nfinite-N check (layered, N={n}, {seeds} seeds): a={a}, α={alpha}, start at m0={m0:.3f}, "
          f"between the SC boundary {r.basin_self_control[0]:.3f} and the best fixed one {r.basin_best_fixed[0]:.3f}")
    for th in ("self-control", float(r.theta_best_basin[0])):
        sim = simulate_layered_seeds(n, alpha, a, m0, seeds=seeds, steps=10, threshold=th, seed=7)
        theo = layered_recursion(alpha, a, m0, steps=10, threshold=th)
        print(f"  θ={th}: final m per seed {np.round(sim.m[:, -1], 3).tolist()}, theory {theo.m[-1]:.3f}")
    # fully connected: approximate dynamics against simulation at one point
    n_fc, seeds_fc = (1000, 2) if QUICK else (3000, 4)
    print(f"\nfully connected network, approximate dynamics vs simulation (N={n_fc}, {seeds_fc} seeds), a=0.05, α=0.4, m0=0.8")
    for th in ("self-control", 0.3):
        ap = approximate_dynamics(0.4, 0.05, 0.8, steps=8, threshold=th)
        sim = simulate_fully_connected_seeds(n_fc, 0.4, 0.05, 0.8, seeds=seeds_fc, steps=8, threshold=th, seed=3)
        print(f"  θ={th}: m_t approx {np.round(ap.m, 3).tolist()}")
        print(f"  {' ' * len(str(th))}     m_t sim    {np.round(sim.m.mean(0), 3).tolist()}")


def bar_mpn() -> None:
    n, length = (200, 20) if QUICK else (500, 20)
    section(f"3. MPN sequence memory vs asymmetric Hebb (N={n}, L={length}, deterministic recall from the first frame)")
    counts = [5, 10, 20] if QUICK else [5, 10, 20, 30, 40, 50]
    print("  rule              K    load K(L-1)/N   bits correct   sequences perfect   iterations   train s")
    rows = []
    t_last = [time.time()]

    def show(row):
        dt = time.time() - t_last[0]
        t_last[0] = time.time()
        rows.append(row)
        print(f"  {row['rule']:<16} {row['sequences']:>3}    {row['load']:.3f}           {row['bits_correct']:.4f}         "
              f"{row['sequences_perfect']:.3f}               {row.get('epochs_run', float('nan')):>5.0f}        {dt:.0f}", flush=True)

    capacity_curve(n, length, counts, seeds=1, seed=0, train_kwargs=dict(epochs=400), progress=show)
    print("\n  robustness at K=10 (MPN): corrupted cues and stochastic recall")
    seqs = random_sequences(10, length, n, seed=0)
    mpn = train_mpn(seqs, epochs=400)
    for cue in (0.0, 0.05, 0.1):
        det = recall_accuracy(mpn, seqs, cue_noise=cue, seed=1)
        sto = recall_accuracy(mpn, seqs, cue_noise=cue, stochastic=True, seed=1)
        print(f"  cue noise {cue:.2f}: deterministic bits {det['bits_correct']:.4f}, sampled (τ=1) bits {sto['bits_correct']:.4f}")


def generative() -> None:
    section("4. MPN generative mode on generated spike trains (random teacher MPN, N=40)")
    frames = 1500 if QUICK else 4000
    for seed in (0, 1):
        r = generative_check(40, frames, seed=seed)
        print(f"  seed {seed}: held-out log-lik per unit·frame fitted {r['heldout_ll_fitted']:.4f}, teacher "
              f"{r['heldout_ll_teacher']:.4f}, independent-flip baseline {r['heldout_ll_independent']:.4f}; "
              f"weight corr {r['weight_correlation']:.3f}; rates data/sampled {r['rate_data']:.3f}/{r['rate_sampled']:.3f} "
              f"(per-unit corr {r['rate_correlation']:.3f}); lag-1 cross-corr agreement {r['lag1_correlation']:.3f}")


if __name__ == "__main__":
    t0 = time.time()
    # --only 2 (or 1,2,...) runs the listed sections
    only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else ["1", "2", "3", "4"]
    for key, fn in (("1", bar_layered), ("2", bar_self_control), ("3", bar_mpn), ("4", generative)):
        if key in only:
            fn()
    print(f"\ntotal {time.time() - t0:.0f}s")
