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

Run: ``make bench BENCH=memory`` (or ``.venv/bin/python benchmarks/bench_memory.py [--quick]``).
Single-threaded BLAS on purpose: the machine is shared.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from stochsyn.memory.capacity import compare_thresholds, default_theta_grid, max_information, storage_capacity  # noqa: E402
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
    ]
    print(f"N={n}, {seeds} seeds per case, {steps} layers; z = (sim mean − theory)/standard error of the mean")
    for a, alpha, m0, th, noise in cases:
        t0 = time.time()
        theo = layered_recursion(alpha, a, m0, steps=steps, threshold=th, noise=noise)
        sim = simulate_layered_seeds(n, alpha, a, m0, seeds=seeds, steps=steps, threshold=th, noise=noise, seed=1)
        mean_m, se_m = sim.m.mean(0), sim.m.std(0, ddof=1) / np.sqrt(seeds)
        mean_q, se_q = sim.q.mean(0), sim.q.std(0, ddof=1) / np.sqrt(seeds)
        zm = (mean_m - theo.m) / se_m
        zq = (mean_q - theo.q) / se_q
        print(f"\na={a} α={alpha} m0={m0} θ={th} noise={noise.kind} Δ={noise.delta}  ({time.time() - t0:.0f}s)")
        print("  t    m_theory  m_sim±se          z_m    q_theory  q_sim     z_q    V_theory  V_sim")
        for t in range(steps + 1):
            print(f"  {t:<3d}  {theo.m[t]:.4f}    {mean_m[t]:.4f}±{se_m[t]:.4f}   {zm[t]:+5.2f}   {theo.q[t]:.4f}    "
                  f"{mean_q[t]:.4f}   {zq[t]:+5.2f}   {theo.variance[t]:.4f}    {sim.variance.mean(0)[t]:.4f}")
        print(f"  max|z_m| = {np.max(np.abs(zm)):.2f}, max|z_q| = {np.max(np.abs(zq)):.2f}, "
              f"fraction of |z| < 2: {np.mean(np.abs(np.concatenate([zm, zq])) < 2):.2f}")


def bar_self_control() -> None:
    section("2. self-control vs best fixed threshold (capacity: larger is better; basin m0: smaller is better)")
    noises = [SynapticNoise(), SynapticNoise("additive", 0.5), SynapticNoise("multiplicative", 0.5)]
    for model in ("layered", "fully-connected"):
        print(f"\nmodel: {model} ({'exact N→∞ recursion' if model == 'layered' else 'approximate one-step-feedback dynamics'}), "
              "retrieval = m_T ≥ 0.5 after 100 steps, fixed θ scanned on 241 points in [0, 1−a)")
        print("  a     noise            α_c SC    α_c best fixed (θ*)    |  α      basin m0 SC   basin m0 best fixed (θ*)")
        for a in (0.05, 0.01):
            for noise in noises:
                r = compare_thresholds(a, noise=noise, theta_grid=default_theta_grid(a, 241), model=model)
                for k, al in enumerate(r.alphas):
                    head = (f"  {a:<5} {noise.kind + ' ' + str(noise.delta):<16} {r.capacity_self_control:7.4f}   "
                            f"{r.capacity_best_fixed:7.4f} ({r.theta_best_capacity:.3f})     " if k == 0 else " " * 57)
                    print(f"{head}|  {al:.3f}  {r.basin_self_control[k]:.3f}         "
                          f"{r.basin_best_fixed[k]:.3f} ({r.theta_best_basin[k]:.3f})")
    print("\n  sensitivity of the capacity comparison to the retrieval criterion m_T ≥ m_ret (layered, no noise)")
    for a in (0.05, 0.01):
        grid = default_theta_grid(a, 241)
        for mr in (0.5, 0.8, 0.9, 0.95):
            sc = storage_capacity(a, m_ret=mr)
            fx = np.asarray(storage_capacity(a, threshold=grid, m_ret=mr))
            print(f"  a={a} m_ret={mr}: α_c SC {sc:.4f}, best fixed {fx.max():.4f} (θ={grid[int(np.argmax(fx))]:.3f})")
    print("\n  maximal information per synapse i = α I (bits), layered, retrieval from m0 = 1")
    for a in (0.05, 0.01):
        grid = default_theta_grid(a, 241)
        for noise in noises:
            i_sc, al_sc = max_information(a, noise=noise)
            i_fx, al_fx = max_information(a, threshold=grid, noise=noise)
            k = int(np.argmax(i_fx))
            print(f"  a={a} {noise.kind} Δ={noise.delta}: SC {i_sc:.4f} (α={al_sc:.3f}), best fixed {i_fx[k]:.4f} "
                  f"(α={al_fx[k]:.3f}, θ={grid[k]:.3f})")
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
    bar_layered()
    bar_self_control()
    bar_mpn()
    generative()
    print(f"\ntotal {time.time() - t0:.0f}s")
