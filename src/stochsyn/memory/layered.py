"""Layered feedforward sparse associative memory: exact N → ∞ recursion and finite-N simulation.

Architecture (Domany, Kinzel & Meir, J. Phys. A 22, 2081 (1989); Bollé & Massolo,
J. Phys. A 33, 2597 (2000); Bollé & Heylen, cond-mat/0605590): layers of N {0,1}
neurons, independent patterns ξ^μ(l) on every layer, couplings from layer l to l+1
J_ij(l) = Σ_μ η_i^μ(l+1) η_j^μ(l) / (a(1−a)N) (+ synaptic noise), and
σ_i(l+1) = Θ(h_i(l+1) − θ_l). Layer index = time t.

Exact recursion for N → ∞ (our derivation, the layered analogue of Domany et al.):
the field on a neuron with pattern bit ξ is Gaussian, mean (ξ − a) m_t, variance
V_t = D_t + V_syn(q_t), where D_t is the cross-talk variance and V_syn the synaptic
noise term (see :func:`~stochsyn.memory.sparse_hopfield.extra_field_variance`).
With x1 = ((1−a)m_t − θ_t)/√V_t, x0 = (−a m_t − θ_t)/√V_t:

    m_{t+1} = Φ(x1) − Φ(x0)
    q_{t+1} = a Φ(x1) + (1−a) Φ(x0)
    χ_{t+1} = [a φ(x1) + (1−a) φ(x0)] / √V_t          (mean slope of the transfer function)
    D_{t+1} = α q_{t+1} + χ_{t+1}² D_t,     D_0 = α q_0.

The χ² D term is the correlation that a non-condensed pattern's residual overlap
carries from one layer to the next (for ±1 neurons it reduces to the classic
Δ²_{l+1} = α + (2/π) e^{−m²/Δ²_l} of Domany et al.). Self-control: θ_t = c(a)√V_t.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from scipy.special import ndtr

from .. import validation as V
from ..resources import require_memory
from .information import mutual_information
from .sparse_hopfield import (
    SynapticNoise,
    Threshold,
    check_alpha,
    check_dynamics,
    cue_state,
    extra_field_variance,
    self_control_variance,
    sparse_patterns,
)

__all__ = ["Trajectory", "layered_recursion", "simulate_layered", "simulate_layered_seeds", "simulate_seeds", "transfer_step"]

_SQRT2PI = math.sqrt(2 * math.pi)


@dataclass
class Trajectory:
    """Order parameters against time t = 0…T (index 0 = initial state).

    ``m`` overlap, ``q`` activity, ``variance`` the total noise variance V_t of the
    field used at step t → t+1 (last entry repeats the previous one), ``theta``
    the threshold used at step t → t+1, ``info`` bits per neuron I(m_t, q_t; a).
    Arrays may carry leading batch dimensions (theory) or a seed dimension.
    """

    m: np.ndarray
    q: np.ndarray
    variance: np.ndarray
    theta: np.ndarray
    info: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_steps(cls, ms: list, qs: list, vs: list, ths: list, a: float, params: dict[str, Any]) -> "Trajectory":
        """Build a trajectory from per-step lists of m_t, q_t (T+1 entries) and V_t, θ_t
        (T entries; the last one is repeated so every array has T+1 entries)."""
        m_arr, q_arr = np.array(ms), np.array(qs)
        return cls(
            m=m_arr, q=q_arr, variance=np.array(vs + vs[-1:]), theta=np.array(ths + ths[-1:]),
            info=np.asarray(mutual_information(m_arr, q_arr, a)), params=params,
        )


def transfer_step(m, q, v, theta, a):
    """One Gaussian transfer step: returns (m', q', χ) for field mean (ξ−a)m, variance v, threshold θ.

    Neurons fire when h > θ. Where v = 0 the step is deterministic.
    """
    s = np.sqrt(np.maximum(v, 0.0))
    safe = np.where(s > 0, s, 1.0)
    x1 = ((1 - a) * m - theta) / safe
    x0 = (-a * m - theta) / safe
    p1 = np.where(s > 0, ndtr(x1), ((1 - a) * m - theta > 0).astype(np.float64))
    p0 = np.where(s > 0, ndtr(x0), ((-a * m - theta) > 0).astype(np.float64))
    # |x| beyond 40 means a Gaussian density that underflows to 0 anyway; clipping avoids overflow warnings.
    x1c, x0c = np.clip(x1, -40, 40), np.clip(x0, -40, 40)
    chi = np.where(s > 0, (a * np.exp(-0.5 * x1c * x1c) + (1 - a) * np.exp(-0.5 * x0c * x0c)) / (_SQRT2PI * safe), 0.0)
    return p1 - p0, a * p1 + (1 - a) * p0, chi


def layered_recursion(
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
    """Exact N → ∞ order-parameter recursion of the layered network (module docstring).

    Parameters
    ----------
    alpha : load P/N (scalar or array, broadcast with ``m0`` and a numeric ``threshold``).
    a : pattern activity in (0, 1/2].
    m0 : initial overlap (default 1: start on the pattern).
    q0 : initial activity (default ``a``).
    steps : number of layers T (default 30).
    threshold : a fixed θ (number or array) or ``"self-control"`` (default).
    noise : synaptic noise (default none).
    c : self-control constant (default c(a) = √(−2 ln a)).
    sc_variance : noise the self-control threshold c√V_t follows (default ``"field"``:
        D_t + V_syn; see :func:`~stochsyn.memory.sparse_hopfield.self_control_variance`).
    """
    args = check_dynamics(a, steps, threshold, sc_variance, c, m0)
    a, steps, threshold, sc_variance = args.a, args.steps, args.threshold, args.sc_variance
    self_control, cc = args.self_control, args.c
    alpha_arr = _check_loads(alpha)
    th = 0.0 if self_control else np.asarray(threshold, dtype=np.float64)
    m = np.asarray(m0, dtype=np.float64)
    q = np.asarray(a if q0 is None else q0, dtype=np.float64)
    shape = np.broadcast_shapes(alpha_arr.shape, m.shape, q.shape, np.shape(th))
    m = np.broadcast_to(m, shape).astype(np.float64)
    q = np.broadcast_to(q, shape).astype(np.float64)
    al = np.broadcast_to(alpha_arr, shape)
    d = al * q
    ms, qs, vs, ths = [m], [q], [], []
    for _ in range(steps):
        v = d + extra_field_variance(noise, al, q)
        theta = cc * np.sqrt(self_control_variance(sc_variance, d, al, q, noise)) if self_control else np.broadcast_to(th, shape)
        m, q, chi = transfer_step(m, q, v, theta, a)
        d = al * q + chi * chi * d
        ms.append(m)
        qs.append(q)
        vs.append(v)
        ths.append(np.array(theta, dtype=np.float64))
    return Trajectory.from_steps(
        ms, qs, vs, ths, a,
        dict(model="layered-theory", alpha=alpha, a=a, m0=m0, q0=q0, steps=steps,
            threshold=threshold if self_control else "fixed", noise=noise.kind, delta=noise.delta, c=cc,
            sc_variance=sc_variance),
    )


def _eta_columns(xi: np.ndarray, cols: np.ndarray, a: float) -> np.ndarray:
    return xi[:, cols].astype(np.float64) - a


def simulate_layered(
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
    """Finite-N simulation of the layered network, one realisation.

    Every layer draws fresh i.i.d. patterns (P = round(αN) of them) and the
    cue on layer 0 has overlap ≈ ``m0`` and activity ≈ ``q0`` with pattern 1.
    The couplings are never stored: the field is h = η(l+1)ᵀ c(l) with the
    residual overlaps c_μ(l) = Σ_j η_j^μ(l) σ_j(l)/(a(1−a)N), which costs O(PN)
    per layer. Synaptic noise is sampled exactly in distribution: the noise
    couplings of layer l are independent of σ(l), so Σ_j δ_ij σ_j is Gaussian with
    variance Δ² Σ_j σ_j / N (additive) or Δ² Σ_j (J^H_ij)² σ_j (multiplicative, J^H
    columns of the active neurons computed explicitly).

    Self-control uses the measured noise variance of the fields, V̂_t = variance
    over i of h_i − η_i^1 m_t (cross-talk + synaptic noise), θ_t = c(a)√V̂_t
    (``sc_variance="field"``, default). ``"cross-talk"`` measures the variance
    without the synaptic-noise part; ``"alpha-q"`` uses (P/N)·q_t of the input
    layer and ``"alpha-q+synaptic"`` adds the N → ∞ synaptic-noise variance to it.
    Same ``seed`` ⇒ identical trajectory.
    """
    # two layers of uint8 patterns, the float32 copy of one, and (multiplicative noise) its η copy
    mult = noise.active and noise.kind == "multiplicative"
    run = simulation_setup(n, alpha, a, m0, q0, steps, threshold, c, seed, sc_variance,
                           bytes_per_entry=2 + 4 + (4 if mult else 0), what="the layered simulation")
    a, alpha, steps, threshold, sc_variance, cc = run.a, run.alpha, run.steps, run.threshold, run.sc_variance, run.c
    p, rng, norm, xi, sigma = run.p, run.rng, run.norm, run.xi, run.sigma
    ms = [float(np.dot(xi[0].astype(np.float64) - a, sigma) / norm)]
    qs = [float(sigma.mean())]
    vs, ths = [], []
    for _ in range(steps):
        active = np.flatnonzero(sigma)
        cvec = _eta_columns(xi, active, a).sum(axis=1) / norm  # residual overlaps, c[0] = m
        xi_next = sparse_patterns(n, p, a, rng)
        xf = xi_next.astype(np.float32)
        h = (cvec.astype(np.float32) @ xf).astype(np.float64) - a * cvec.sum()
        if sc_variance == "cross-talk":
            v_sc = float(np.var(h - (xi_next[0].astype(np.float64) - a) * cvec[0]))
        elif sc_variance != "field":
            v_sc = float(self_control_variance(sc_variance, 0.0, p / n, active.size / n, noise))
        if noise.active:
            if noise.kind == "additive":
                var_syn = np.full(n, noise.delta**2 * active.size / n)
            else:
                jcols = ((xf - np.float32(a)).T @ _eta_columns(xi, active, a).astype(np.float32)).astype(np.float64) / norm
                var_syn = noise.delta**2 * np.einsum("ij,ij->i", jcols, jcols)
            h = h + rng.standard_normal(n) * np.sqrt(var_syn)
        resid = h - (xi_next[0].astype(np.float64) - a) * cvec[0]
        v_hat = float(np.var(resid))
        if sc_variance == "field":
            v_sc = v_hat
        theta = cc * math.sqrt(v_sc) if threshold == "self-control" else float(threshold)
        sigma = (h > theta).astype(np.uint8)
        xi = xi_next
        ms.append(float(np.dot(xi[0].astype(np.float64) - a, sigma) / norm))
        qs.append(float(sigma.mean()))
        vs.append(v_hat)
        ths.append(theta)
    return Trajectory.from_steps(
        ms, qs, vs, ths, a,
        dict(model="layered-simulation", n=n, p=p, alpha=alpha, a=a, m0=m0, q0=q0, steps=steps,
            threshold=threshold, noise=noise.kind, delta=noise.delta, c=cc, seed=seed, sc_variance=sc_variance),
    )


def _check_loads(alpha: object) -> np.ndarray:
    """Loads α (a number or an array of numbers), all finite and > 0."""
    arr = V.real_array(alpha, "alpha")
    if np.any(arr <= 0):
        raise ValueError(f"load alpha must be > 0, got alpha={alpha!r}")
    return arr


@dataclass(frozen=True)
class SimulationSetup:
    """What both finite-N simulations start from: checked arguments, P, the seeded
    generator, the Hebbian normalization a(1−a)N, the first layer's patterns and the cue."""

    a: float
    alpha: float
    steps: int
    threshold: Any
    sc_variance: str
    c: float
    p: int
    rng: np.random.Generator
    norm: float
    xi: np.ndarray
    sigma: np.ndarray


def simulation_setup(n: int, alpha: float, a: float, m0: float, q0: float | None, steps: int, threshold: Any,
                     c: float | None, seed: int, sc_variance: str, *, bytes_per_entry: float, what: str,
                     extra_bytes: float = 0.0) -> SimulationSetup:
    """Check the arguments of a finite-N simulation (one place for both networks), refuse it
    when its P×N working set (``bytes_per_entry`` per entry plus ``extra_bytes``) does not fit,
    and draw the first patterns and the cue."""
    args = check_dynamics(a, steps, threshold, sc_variance, c, m0)
    if isinstance(args.threshold, np.ndarray):
        raise TypeError("threshold of a simulation must be one number or 'self-control', not an array")
    alpha = check_alpha(alpha)
    n = V.integer("n", n, lo=2)
    seed = V.integer("seed", seed, lo=0)
    p = max(1, int(math.floor(alpha * n + 0.5)))
    require_memory(p * n * bytes_per_entry + extra_bytes, f"{what} (P={p} patterns, N={n} neurons)")
    rng = np.random.default_rng(seed)
    xi = sparse_patterns(n, p, args.a, rng)
    sigma = cue_state(xi[0], m0, args.a, rng, q0)
    return SimulationSetup(args.a, alpha, args.steps, args.threshold, args.sc_variance, args.c, p, rng,
                           args.a * (1 - args.a) * n, xi, sigma)


def realisation_seeds(seeds: int | Sequence[int], seed: int = 0) -> list[int]:
    """The seeds of the realisations: ``seeds`` itself when it is a sequence of seeds, else
    ``seed * 1000 + k`` for k < ``seeds`` (a count; so any single run can be reproduced)."""
    if isinstance(seeds, (list, tuple, np.ndarray)):
        return V.seed_list(list(seeds), "seeds")
    k = V.count("seeds", seeds)
    base = V.integer("seed", seed, lo=0)
    return [base * 1000 + i for i in range(k)]


def simulate_seeds(simulate: Callable[..., Trajectory], n: int, alpha: float, a: float, m0: float = 1.0, *,
                   seeds: int | Sequence[int] = 5, seed: int = 0, progress: Callable[[int], Any] | None = None,
                   **kwargs: Any) -> Trajectory:
    """Run a one-realisation simulation ``simulate(n, alpha, a, m0, seed=…, **kwargs)`` once per seed.

    ``seeds`` is a list of realisation seeds, or a count (realisation k then uses seed
    ``seed * 1000 + k``; :func:`realisation_seeds`). Arrays of the result have shape
    (realisations, T+1). ``progress`` is an optional callable(k) invoked after each realisation.
    """
    seed_values = realisation_seeds(seeds, seed)
    runs = []
    for k, s in enumerate(seed_values):
        runs.append(simulate(n, alpha, a, m0, seed=s, **kwargs))
        if progress is not None:
            progress(k)
    params = dict(runs[0].params)
    params.update(seeds=seed_values)
    return Trajectory(
        m=np.stack([r.m for r in runs]), q=np.stack([r.q for r in runs]), variance=np.stack([r.variance for r in runs]),
        theta=np.stack([r.theta for r in runs]), info=np.stack([r.info for r in runs]), params=params,
    )


def simulate_layered_seeds(n: int, alpha: float, a: float, m0: float = 1.0, *, seeds: int | Sequence[int] = 5,
                           seed: int = 0,
                           progress: Callable[[int], Any] | None = None, **kwargs: Any) -> Trajectory:
    """:func:`simulate_layered` for ``seeds`` realisations (realisation k: seed ``seed*1000 + k``); see :func:`simulate_seeds`."""
    return simulate_seeds(simulate_layered, n, alpha, a, m0, seeds=seeds, seed=seed, progress=progress, **kwargs)
