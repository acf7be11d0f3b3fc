"""Fully connected sparse associative memory: finite-N simulation and approximate dynamics.

Recurrent network of N {0,1} neurons, covariance couplings with J_ii = 0 (see
:mod:`.sparse_hopfield`), optional symmetric static synaptic noise, parallel
dynamics σ_i(t+1) = Θ(h_i(t) − θ_t).

Unlike the layered network, the recurrent one carries feedback correlations
from all earlier times, so the Gaussian order-parameter recursion is not exact
(Bollé & Heylen, arXiv:0708.0328, solve the recurrent case with a different
method). :func:`approximate_dynamics` is the Amari–Maginu-type signal-to-noise
approximation that keeps the feedback of one time step only (our derivation,
for {0,1} neurons; Amari & Maginu, Neural Networks 1, 63 (1988)):

    D_{t+1} = α q_{t+1} + χ_{t+1}² D_t + 2 α χ_{t+1} C_{t+1,t},
    C_{t+1,t} ≈ a p1(t+1) p1(t) + (1−a) p0(t+1) p0(t),

where p1, p0 are the firing probabilities of neurons with ξ = 1, 0 and m, q, χ
follow the same Gaussian transfer step as the layered recursion. Synaptic noise
enters as extra static field variance without feedback (an approximation).
Compare it with :func:`simulate_fully_connected` before trusting it.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .layered import Trajectory, _check_loads, simulate_seeds, simulation_setup, transfer_step
from .sparse_hopfield import (
    SynapticNoise,
    Threshold,
    check_dynamics,
    extra_field_variance,
    self_control_variance,
)

__all__ = ["approximate_dynamics", "simulate_fully_connected", "simulate_fully_connected_seeds"]


def approximate_dynamics(
    alpha: float | np.ndarray,
    a: float,
    m0: float | np.ndarray = 1.0,
    *,
    q0: float | np.ndarray | None = None,
    steps: int = 30,
    threshold: Threshold | np.ndarray = "self-control",
    noise: SynapticNoise = SynapticNoise(),
    c: float | None = None,
    sc_variance: str = "field",
) -> Trajectory:
    """One-step-feedback (Amari–Maginu-type) dynamics of the fully connected network.

    Same arguments (``sc_variance`` included, default ``"field"``) and broadcasting as
    :func:`~stochsyn.memory.layered.layered_recursion`; see the module docstring for
    the equations. Approximate, not exact.
    """
    args = check_dynamics(a, steps, threshold, sc_variance, c, m0)
    a, steps, threshold, sc_variance = args.a, args.steps, args.threshold, args.sc_variance
    self_control, cc = args.self_control, args.c
    al0 = _check_loads(alpha)
    th = 0.0 if self_control else np.asarray(threshold, dtype=np.float64)
    m = np.asarray(m0, dtype=np.float64)
    q = np.asarray(a if q0 is None else q0, dtype=np.float64)
    shape = np.broadcast_shapes(al0.shape, m.shape, q.shape, np.shape(th))
    m = np.broadcast_to(m, shape).astype(np.float64)
    q = np.broadcast_to(q, shape).astype(np.float64)
    al = np.broadcast_to(al0, shape)
    p1, p0 = q + (1 - a) * m, q - a * m
    d = al * q
    ms, qs, vs, ths = [m], [q], [], []
    for _ in range(steps):
        v = d + extra_field_variance(noise, al, q)
        theta = cc * np.sqrt(self_control_variance(sc_variance, d, al, q, noise)) if self_control else np.broadcast_to(th, shape)
        m, q, chi = transfer_step(m, q, v, theta, a)
        n1 = q + (1 - a) * m
        n0 = q - a * m
        corr = a * n1 * p1 + (1 - a) * n0 * p0
        d = al * q + chi * chi * d + 2 * al * chi * corr
        p1, p0 = n1, n0
        ms.append(m)
        qs.append(q)
        vs.append(v)
        ths.append(np.array(theta, dtype=np.float64))
    return Trajectory.from_steps(
        ms, qs, vs, ths, a,
        dict(model="fully-connected-approx", alpha=alpha, a=a, m0=m0, q0=q0, steps=steps,
            threshold=threshold if self_control else "fixed", noise=noise.kind, delta=noise.delta, c=cc,
            sc_variance=sc_variance),
    )


def simulate_fully_connected(
    n: int,
    alpha: float,
    a: float,
    m0: float = 1.0,
    *,
    q0: float | None = None,
    steps: int = 30,
    threshold: Threshold = "self-control",
    noise: SynapticNoise = SynapticNoise(),
    c: float | None = None,
    seed: int = 0,
    sc_variance: str = "field",
) -> Trajectory:
    """Finite-N simulation of the fully connected network (parallel update), one realisation.

    Without noise or with additive noise the Hebbian part of the field is computed in
    factorised form, h = ηᵀ(ησ)/(a(1−a)N) − J_ii σ (O(PN) per step), and the additive
    noise is a symmetric N×N Gaussian matrix (zero diagonal) drawn once. Multiplicative
    noise needs the explicit coupling matrix (O(N²P) to build). Self-control uses the
    measured field-noise variance V̂_t = var_i(h_i − η_i^1 m_t), θ_t = c(a)√V̂_t
    (``sc_variance="field"``, default); ``"cross-talk"`` measures it on the Hebbian part
    of the field only, ``"alpha-q"`` uses (P/N)·q_t and ``"alpha-q+synaptic"`` adds the
    N → ∞ synaptic-noise variance to it.
    """
    # uint8 patterns and their float32 η; noise adds N×N matrices (float64 for the
    # explicit multiplicative couplings, float32 for the additive noise)
    n_int = n if isinstance(n, (int, np.integer)) and not isinstance(n, bool) else 0
    n2 = n_int * n_int * (3 * 8 if noise.kind == "multiplicative" else 3 * 4) if noise.active else 0
    run = simulation_setup(n, alpha, a, m0, q0, steps, threshold, c, seed, sc_variance, bytes_per_entry=5,
                           extra_bytes=n2, what="the fully connected simulation")
    a, alpha, steps, threshold, sc_variance, cc = run.a, run.alpha, run.steps, run.threshold, run.sc_variance, run.c
    p, rng, norm, xi, sigma = run.p, run.rng, run.norm, run.xi, run.sigma
    eta = xi.astype(np.float32) - np.float32(a)
    eta1 = xi[0].astype(np.float64) - a
    jfull = None
    delta_mat = None
    if noise.active and noise.kind == "multiplicative":
        jfull = (eta.T @ eta).astype(np.float64) / norm
        np.fill_diagonal(jfull, 0.0)
        d = np.triu(rng.standard_normal((n, n)) * noise.delta, 1)
        jfull *= 1.0 + d + d.T
    else:
        jdiag = (eta.astype(np.float64) ** 2).sum(axis=0) / norm
        if noise.active:
            d = np.triu(rng.standard_normal((n, n)).astype(np.float32) * np.float32(noise.delta / math.sqrt(n)), 1)
            delta_mat = d + d.T
            del d
    ms = [float(eta1 @ sigma / norm)]
    qs = [float(sigma.mean())]
    vs, ths = [], []
    for _ in range(steps):
        s = sigma.astype(np.float32)
        h_hebb = None
        if jfull is not None:
            h = jfull @ sigma.astype(np.float64)
        else:
            h = h_hebb = (eta.T @ (eta @ s)).astype(np.float64) / norm - jdiag * sigma
            if delta_mat is not None:
                h = h + (delta_mat @ s).astype(np.float64)
        m_now = ms[-1]
        v_hat = float(np.var(h - eta1 * m_now))
        if sc_variance == "field":
            v_sc = v_hat
        elif sc_variance == "cross-talk":
            if h_hebb is None:  # multiplicative noise: the Hebbian field needs its own product
                h_hebb = (eta.T @ (eta @ s)).astype(np.float64) / norm - (eta.astype(np.float64) ** 2).sum(axis=0) / norm * sigma
            v_sc = float(np.var(h_hebb - eta1 * m_now))
        else:
            v_sc = float(self_control_variance(sc_variance, 0.0, p / n, float(sigma.mean()), noise))
        theta = cc * math.sqrt(v_sc) if threshold == "self-control" else float(threshold)
        sigma = (h > theta).astype(np.uint8)
        ms.append(float(eta1 @ sigma / norm))
        qs.append(float(sigma.mean()))
        vs.append(v_hat)
        ths.append(theta)
    return Trajectory.from_steps(
        ms, qs, vs, ths, a,
        dict(model="fully-connected-simulation", n=n, p=p, alpha=alpha, a=a, m0=m0, q0=q0, steps=steps,
            threshold=threshold, noise=noise.kind, delta=noise.delta, c=cc, seed=seed, sc_variance=sc_variance),
    )


def simulate_fully_connected_seeds(n: int, alpha: float, a: float, m0: float = 1.0, *, seeds: int = 5, seed: int = 0,
                                   progress: Callable[[int], Any] | None = None, **kwargs: Any) -> Trajectory:
    """``seeds`` realisations of :func:`simulate_fully_connected` (realisation k: seed ``seed*1000 + k``);
    see :func:`~stochsyn.memory.layered.simulate_seeds`."""
    return simulate_seeds(simulate_fully_connected, n, alpha, a, m0, seeds=seeds, seed=seed, progress=progress, **kwargs)
