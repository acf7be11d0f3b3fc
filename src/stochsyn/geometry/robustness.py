"""Robustness of a solution: training error after flipping weights or perturbing inputs.

Dense-region solutions are expected to be robust (Baldassi et al., PNAS 2016
arXiv:1605.06444; PRL 2018 arXiv:1710.09825): flipping a small fraction f of
their synapses, or adding noise to the inputs, leaves most patterns correctly
classified, whereas an isolated (typical) solution degrades at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..problems import Instance
from .. import validation as V
from ..problems import as_instance

__all__ = ["RobustnessCurve", "flip_robustness", "noise_robustness"]


@dataclass(frozen=True)
class RobustnessCurve:
    """Mean training-error fraction (and its standard error) at each perturbation level.

    Attributes:
        levels: the perturbation levels (flip fractions, or noise amplitudes).
        error: mean over draws of (training errors)/P.
        sem: standard error of that mean over the draws (0 when n_draws = 1).
        n_draws: draws per level.
        kind: ``"flip"`` or ``"noise"``.
        extra: per-level details (e.g. the number of weights actually flipped).
    """

    levels: np.ndarray
    error: np.ndarray
    sem: np.ndarray
    n_draws: int
    kind: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly record."""
        d = {
            "kind": self.kind,
            "n_draws": self.n_draws,
            "levels": self.levels.tolist(),
            "error": self.error.tolist(),
            "sem": self.sem.tolist(),
        }
        d.update({k: np.asarray(v).tolist() for k, v in self.extra.items()})
        return d


def _check_levels(levels: object, name: str, upper: float | None) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(levels, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or (upper is not None and np.any(arr > upper)):
        rng = f"[0, {upper}]" if upper is not None else ">= 0"
        raise ValueError(f"{name} must be finite and in {rng}, got {arr.tolist()}")
    return arr


def flip_robustness(
    instance: Instance,
    weights: np.ndarray,
    fractions: np.ndarray | list[float] = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1),
    seed: int | None = 0,
    n_draws: int = 100,
) -> RobustnessCurve:
    """Training error after flipping a random fraction of the weights.

    For each fraction f, exactly k = round(f·N) distinct synapses chosen uniformly
    at random are flipped (W_i → −W_i), and the fraction of misclassified training
    patterns (stability ≤ 0) is recorded; this is averaged over ``n_draws`` draws.

    Args:
        instance: the training set.
        weights: (N,) ±1 weights (usually a solution).
        fractions: flip fractions in [0, 1] (default 0, 0.005, 0.01, 0.02, 0.05, 0.1).
        seed: seed of ``numpy.random.default_rng`` (default 0).
        n_draws: random draws per fraction (default 100).

    Returns:
        :class:`RobustnessCurve` with ``kind="flip"``; ``extra["n_flipped"]`` holds k.
    """
    as_instance(instance)
    w = V.pm1_vector(weights, instance.n, "weights").astype(np.float64)
    fr = _check_levels(fractions, "fractions", 1.0)
    n_draws = V.count("n_draws", n_draws)
    rng = np.random.default_rng(V.seed(seed))
    a = instance.labels.astype(np.float64)[:, None] * instance.patterns.astype(np.float64)
    base = a @ w
    n = instance.n
    ks = np.rint(fr * n).astype(np.int64)
    means, sems = np.empty(fr.size), np.empty(fr.size)
    for j, k in enumerate(ks):
        errs = np.empty(n_draws)
        for t in range(n_draws):
            idx = rng.choice(n, size=int(k), replace=False) if k > 0 else np.empty(0, dtype=np.int64)
            # flipping W_i changes each stability by −2 a_μi W_i
            stab = base - 2.0 * (a[:, idx] @ w[idx])
            errs[t] = np.count_nonzero(stab <= 0) / instance.p
        means[j] = errs.mean()
        sems[j] = errs.std(ddof=1) / np.sqrt(n_draws) if n_draws > 1 else 0.0
    return RobustnessCurve(fr, means, sems, n_draws, "flip", {"n_flipped": ks})


def noise_robustness(
    instance: Instance,
    weights: np.ndarray,
    noise_levels: np.ndarray | list[float] = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0),
    seed: int | None = 0,
    n_draws: int = 20,
) -> RobustnessCurve:
    """Training error under multiplicative Gaussian input noise.

    Each input entry is perturbed as ξ_i^μ → ξ_i^μ (1 + η z_i^μ) with z i.i.d.
    standard normal and η the noise level, and the fraction of patterns with
    σ^μ Σ_i W_i ξ̃_i^μ ≤ 0 is recorded, averaged over ``n_draws`` noise draws.
    Equivalently the stability gets additive Gaussian noise of variance
    η² Σ_i (ξ_i^μ)², so a solution with larger normalized margins is more robust.

    Args:
        instance: the training set.
        weights: (N,) ±1 weights.
        noise_levels: η values ≥ 0 (default 0, 0.25, 0.5, 1, 1.5, 2).
        seed: seed of ``numpy.random.default_rng`` (default 0).
        n_draws: noise draws per level (default 20).

    Returns:
        :class:`RobustnessCurve` with ``kind="noise"``.
    """
    as_instance(instance)
    w = V.pm1_vector(weights, instance.n, "weights").astype(np.float64)
    eta = _check_levels(noise_levels, "noise_levels", None)
    n_draws = V.count("n_draws", n_draws)
    rng = np.random.default_rng(V.seed(seed))
    x = instance.patterns.astype(np.float64)
    y = instance.labels.astype(np.float64)
    means, sems = np.empty(eta.size), np.empty(eta.size)
    for j, e in enumerate(eta):
        errs = np.empty(n_draws)
        for t in range(n_draws):
            z = rng.standard_normal(x.shape)
            stab = y * ((x * (1.0 + e * z)) @ w)
            errs[t] = np.count_nonzero(stab <= 0) / instance.p
        means[j] = errs.mean()
        sems[j] = errs.std(ddof=1) / np.sqrt(n_draws) if n_draws > 1 else 0.0
    return RobustnessCurve(eta, means, sems, n_draws, "noise")
