"""Sparsely coded associative memory with {0,1} neurons, synaptic noise and thresholds.

Model (Dominguez & Bollé, PRL 80, 2961 (1998), cond-mat/9801273; Bollé & Heylen,
"Adaptive thresholds for layered neural networks with synaptic noise",
cond-mat/0605590 (2006), and "Adaptive thresholds for neural networks with
synaptic noise", arXiv:0708.0328 (2007)):

* neurons σ_i ∈ {0, 1}; patterns ξ_i^μ ∈ {0, 1}, i.i.d. with P(ξ = 1) = a (activity);
* covariance (Hebbian) couplings  J^H_ij = Σ_μ η_i^μ η_j^μ / (a(1−a) N),  η = ξ − a;
* parallel dynamics  σ_i(t+1) = Θ(h_i(t) − θ_t),  h_i = Σ_j J_ij σ_j;
* order parameters: retrieval overlap m = Σ_i η_i^1 σ_i / (a(1−a) N) (m = 1 at the
  pattern) and activity q = Σ_i σ_i / N (q = a at the pattern).

With these conventions the local field of a neuron in the retrieval of pattern 1
is h_i = η_i^1 m + ω_i with cross-talk noise ω of variance α q in the absence of
feedback (α = P/N).

Synaptic noise (our parametrisation; the papers' exact scaling was not
available to us, see docs/memory.md):

* ``additive``:       J_ij = J^H_ij + δ_ij,           δ_ij ~ N(0, Δ²/N)  → extra field variance Δ² q;
* ``multiplicative``: J_ij = J^H_ij (1 + δ_ij),       δ_ij ~ N(0, Δ²)    → extra field variance ≈ Δ² α q.

Additive noise thus acts like an extra load Δ² (Sompolinsky's static noise),
multiplicative noise multiplies the cross-talk by (1 + Δ²).

Self-control threshold (Dominguez & Bollé 1998): θ_t = c(a) √V_t with V_t the
variance of the noise in the local field at time t and c(a) = √(−2 ln a), chosen
so that the fraction of wrongly active neurons, H(c(a)) ≈ a / (c √(2π)), stays
below the pattern activity. Which noise V_t stands for is a choice
(:data:`SC_VARIANCES`, see :func:`self_control_variance`): the whole field noise
(default), the cross-talk alone, or the extremely diluted network's cross-talk
α q_t, θ_t = c(a)√(α q_t) (the form we recall from the 1998 Letter; the papers'
bodies were not readable here, see docs/memory.md), with or without the
synaptic-noise variance added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Union

import numpy as np

from .. import validation as V

__all__ = [
    "SynapticNoise",
    "Threshold",
    "self_control_c",
    "check_activity",
    "check_alpha",
    "check_threshold",
    "sparse_patterns",
    "cue_state",
    "overlap",
    "activity",
    "hebbian_couplings",
    "noisy_couplings",
    "extra_field_variance",
    "SC_VARIANCES",
    "check_sc_variance",
    "self_control_variance",
]

NoiseKind = Literal["none", "additive", "multiplicative"]
#: A threshold is either a fixed number or the string ``"self-control"``.
Threshold = Union[float, str]


@dataclass(frozen=True)
class SynapticNoise:
    """Static Gaussian synaptic noise of strength ``delta`` (Δ ≥ 0).

    ``kind`` is ``"none"``, ``"additive"`` (J = J^H + δ, Var δ = Δ²/N) or
    ``"multiplicative"`` (J = J^H (1 + δ), Var δ = Δ²). ``delta = 0`` means no noise
    whatever the kind.
    """

    kind: NoiseKind = "none"
    delta: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("none", "additive", "multiplicative"):
            raise ValueError(
                f"noise kind={self.kind!r} is not valid; expected 'none', 'additive' or 'multiplicative'"
            )
        if isinstance(self.delta, bool) or not isinstance(self.delta, (int, float, np.integer, np.floating)):
            raise TypeError(f"noise delta must be a real number, got {self.delta!r}")
        if not math.isfinite(self.delta) or self.delta < 0:
            raise ValueError(f"noise delta must be a finite number >= 0, got delta={self.delta!r}")

    @property
    def active(self) -> bool:
        """True when the noise changes the couplings (kind not 'none' and Δ > 0)."""
        return self.kind != "none" and self.delta > 0

    @classmethod
    def parse(cls, kind: str, delta: float) -> "SynapticNoise":
        """Build from CLI-style arguments; ``delta == 0`` gives no noise."""
        if delta == 0:
            return cls("none", 0.0)
        return cls(kind, float(delta))  # type: ignore[arg-type]


def extra_field_variance(noise: SynapticNoise, alpha: float, q: float | np.ndarray) -> float | np.ndarray:
    """Variance that the synaptic noise adds to a local field, for N → ∞.

    additive: Δ² q (Σ_j δ_ij σ_j with Var δ = Δ²/N); multiplicative: Δ² α q, since
    Σ_j (J^H_ij)² σ_j → α q for the covariance rule; none: 0.
    """
    if not noise.active:
        return 0.0 * np.asarray(q) if isinstance(q, np.ndarray) else 0.0
    if noise.kind == "additive":
        return noise.delta**2 * q
    return noise.delta**2 * alpha * q


#: Noise estimates the self-control threshold θ_t = c(a)√V_t can be built on.
SC_VARIANCES = ("field", "cross-talk", "alpha-q", "alpha-q+synaptic")


def check_sc_variance(kind: object) -> str:
    """Validate the name of a self-control noise estimate (one of :data:`SC_VARIANCES`)."""
    if not isinstance(kind, str) or kind not in SC_VARIANCES:
        raise ValueError(f"sc_variance={kind!r} is not valid; expected one of {', '.join(SC_VARIANCES)}")
    return kind


def self_control_variance(kind: str, crosstalk: float | np.ndarray, alpha: float | np.ndarray,
                          q: float | np.ndarray, noise: SynapticNoise) -> float | np.ndarray:
    """The V_t of the self-control threshold θ_t = c(a)√V_t, for N → ∞.

    ``crosstalk`` is the cross-talk variance D_t of the dynamics (α q_t plus the
    correlations the architecture carries), V_syn(q_t) the synaptic-noise variance
    (:func:`extra_field_variance`):

    * ``"field"``:            D_t + V_syn(q_t), the whole noise in the local field (default);
    * ``"cross-talk"``:       D_t, the noise from the other stored patterns only;
    * ``"alpha-q"``:          α q_t, θ_t = c(a)√(α q_t), the extremely diluted network's form
      (there D_t = α q_t exactly; recalled from Dominguez & Bollé 1998, not verified);
    * ``"alpha-q+synaptic"``: α q_t + V_syn(q_t).
    """
    kind = check_sc_variance(kind)
    if kind == "field":
        return crosstalk + extra_field_variance(noise, alpha, q)
    if kind == "cross-talk":
        return crosstalk
    if kind == "alpha-q":
        return alpha * q
    return alpha * q + extra_field_variance(noise, alpha, q)


def self_control_c(a: float) -> float:
    """c(a) = √(−2 ln a) of the self-control threshold θ_t = c(a)·√V_t (Dominguez & Bollé 1998)."""
    check_activity(a)
    return math.sqrt(-2.0 * math.log(a))


@dataclass(frozen=True)
class DynamicsArgs:
    """The checked arguments shared by the recursions and the simulations of the memory models."""

    a: float
    steps: int
    threshold: "Threshold | np.ndarray"
    self_control: bool
    c: float
    sc_variance: str


def check_dynamics(a: object, steps: object, threshold: object, sc_variance: object, c: object | None,
                   m0: object = 1.0) -> DynamicsArgs:
    """One check for every memory-model dynamics: activity, steps (an integer ≥ 1, bools
    refused), threshold (a number, an array of numbers or 'self-control'), ``sc_variance``,
    the self-control constant ``c`` (default c(a)) and the initial overlap(s) m0 ∈ [0, 1]."""
    a = check_activity(a)
    steps = V.integer("steps", steps, lo=1)
    sc_variance = check_sc_variance(sc_variance)
    if isinstance(threshold, str) or np.ndim(threshold) == 0:
        threshold = check_threshold(threshold)
    else:
        threshold = V.real_array(threshold, "threshold")
    m0_arr = V.real_array(m0, "m0")
    if np.any((m0_arr < 0) | (m0_arr > 1)):
        raise ValueError(f"m0 must lie in [0, 1] (an overlap with the pattern), got m0={m0!r}")
    self_control = isinstance(threshold, str)
    cc = self_control_c(a) if c is None else V.real("c", c, lo=0.0, lo_open=True)
    return DynamicsArgs(a, steps, threshold, self_control, cc, sc_variance)


def check_activity(a: object) -> float:
    """Validate the pattern activity a ∈ (0, 1/2]; returns it as float."""
    if isinstance(a, bool) or not isinstance(a, (int, float, np.integer, np.floating)):
        raise TypeError(f"activity a must be a real number, got {a!r}")
    if not (0.0 < float(a) <= 0.5):
        raise ValueError(f"activity a must lie in (0, 0.5], got a={a!r}")
    return float(a)


def check_alpha(alpha: object) -> float:
    """Validate the load α = P/N > 0; returns it as float."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"load alpha must be a real number, got {alpha!r}")
    if not math.isfinite(float(alpha)) or float(alpha) <= 0:
        raise ValueError(f"load alpha must be a finite number > 0, got alpha={alpha!r}")
    return float(alpha)


def check_threshold(threshold: object) -> Threshold:
    """Validate a threshold: a finite float or the string 'self-control'."""
    if isinstance(threshold, str):
        if threshold.replace("_", "-").lower() in ("self-control", "selfcontrol", "sc"):
            return "self-control"
        try:
            threshold = float(threshold)
        except ValueError:
            raise ValueError(
                f"threshold={threshold!r} is not valid; expected a number or 'self-control'"
            ) from None
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)):
        raise TypeError(f"threshold must be a number or 'self-control', got {threshold!r}")
    if not math.isfinite(float(threshold)):
        raise ValueError(f"threshold must be finite, got {threshold!r}")
    return float(threshold)


def sparse_patterns(n: int, p: int, a: float, rng: np.random.Generator) -> np.ndarray:
    """P×N array (uint8) of i.i.d. {0,1} patterns with P(ξ = 1) = a."""
    check_activity(a)
    if n < 1 or p < 1:
        raise ValueError(f"need n >= 1 and p >= 1, got n={n}, p={p}")
    out = np.empty((p, n), dtype=np.uint8)
    rows = max(1, (1 << 22) // n)  # draw in blocks so the float temporaries stay small
    for start in range(0, p, rows):
        stop = min(p, start + rows)
        out[start:stop] = rng.random((stop - start, n), dtype=np.float32) < np.float32(a)
    return out


def cue_state(pattern: np.ndarray, m0: float, a: float, rng: np.random.Generator, q0: float | None = None) -> np.ndarray:
    """A noisy version of ``pattern`` with expected overlap ``m0`` and activity ``q0`` (default a).

    Each neuron fires independently with probability p1 = q0 + (1−a) m0 if ξ = 1 and
    p0 = q0 − a m0 if ξ = 0, which gives E[m] = p1 − p0 = m0 and E[q] = a p1 + (1−a) p0 = q0.
    """
    a = check_activity(a)
    q0 = a if q0 is None else float(q0)
    p1 = q0 + (1 - a) * m0
    p0 = q0 - a * m0
    if not (0 <= p0 <= 1 and 0 <= p1 <= 1):
        raise ValueError(
            f"initial overlap m0={m0!r} and activity q0={q0!r} are incompatible with a={a}: "
            f"they need firing probabilities p1={p1:.3g}, p0={p0:.3g} within [0, 1]"
        )
    u = rng.random(pattern.shape[-1])
    return np.where(pattern.astype(bool), u < p1, u < p0).astype(np.uint8)


def overlap(state: np.ndarray, pattern: np.ndarray, a: float) -> float:
    """m = Σ_i (ξ_i − a) σ_i / (a(1−a) N)."""
    n = state.shape[-1]
    return float(np.dot(pattern.astype(np.float64) - a, state.astype(np.float64)) / (a * (1 - a) * n))


def activity(state: np.ndarray) -> float:
    """q = Σ_i σ_i / N."""
    return float(np.mean(state))


def hebbian_couplings(patterns_post: np.ndarray, patterns_pre: np.ndarray, a: float, *, zero_diagonal: bool = False) -> np.ndarray:
    """Covariance couplings J^H_ij = Σ_μ (ξ_i^μ(post) − a)(ξ_j^μ(pre) − a) / (a(1−a) N).

    For a layered network ``patterns_post`` are the patterns of the receiving layer;
    for a recurrent network pass the same array twice (and ``zero_diagonal=True``).
    Returns a float64 N_post × N_pre matrix.
    """
    n = patterns_pre.shape[1]
    post = patterns_post.astype(np.float64) - a
    pre = patterns_pre.astype(np.float64) - a
    j = post.T @ pre / (a * (1 - a) * n)
    if zero_diagonal:
        np.fill_diagonal(j, 0.0)
    return j


def noisy_couplings(j: np.ndarray, noise: SynapticNoise, rng: np.random.Generator, *, symmetric: bool = False) -> np.ndarray:
    """Add static synaptic noise to a coupling matrix (returns a new array).

    additive: J + δ, δ ~ N(0, Δ²/N); multiplicative: J (1 + δ), δ ~ N(0, Δ²); N is the
    number of presynaptic neurons. ``symmetric=True`` uses δ_ij = δ_ji (recurrent net).
    The diagonal is kept as it was.
    """
    if not noise.active:
        return j.copy()
    n = j.shape[1]
    scale = noise.delta / math.sqrt(n) if noise.kind == "additive" else noise.delta
    d = rng.standard_normal(j.shape) * scale
    if symmetric:
        d = np.triu(d, 1)
        d = d + d.T
    diag = np.diag(j).copy() if j.shape[0] == j.shape[1] else None
    out = j + d if noise.kind == "additive" else j * (1.0 + d)
    if diag is not None:
        np.fill_diagonal(out, diag)
    return out
