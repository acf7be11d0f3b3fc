"""The central-limit (CLT) loss of a perceptron with stochastic binary synapses.

Synapses W_i ∈ {±1} are independent with P(W_i = ±1) = (1 ± m_i)/2. For pattern
ξ^μ with label σ^μ the pre-activation Σ_i W_i ξ_i^μ has mean μ^μ = Σ_i m_i ξ_i^μ and
variance v^μ = Σ_i (1 − m_i²)(ξ_i^μ)². By the central limit theorem the network
classifies μ correctly with probability Φ(u^μ), u^μ = σ^μ μ^μ / √v^μ
(Baldassi et al., PRL 120, 268103 (2018), arXiv:1710.09825).

Generalized here with an inverse temperature β and a margin κ:

    u^μ = β (σ^μ μ^μ / √v^μ − κ),        E(m) = − Σ_μ log Φ(u^μ),

    ∂E/∂m_i = − Σ_μ g(u^μ) β [ σ^μ ξ_i^μ / √v^μ + σ^μ μ^μ m_i (ξ_i^μ)² / (v^μ)^{3/2} ],

with g(u) = φ(u)/Φ(u) (inverse Mills ratio). β = 1, κ = 0 is the paper's loss.

Numerics: log Φ uses ``scipy.special.log_ndtr`` (never log(ndtr)); g is
exp(−u²/2 − log Φ(u))/√(2π), finite for any finite u. When every synapse is
polarized (Σ(1 − m²) → 0) the variance is floored at ``var_floor`` per unit of
squared pattern norm, so the loss degenerates smoothly into an error count
instead of dividing by zero.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr

__all__ = [
    "log_phi",
    "gaussian_hazard",
    "clt_loss",
    "clt_loss_grad",
    "clt_loss_grad_folded",
    "clt_coefficients",
    "DEFAULT_VAR_FLOOR",
]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)

#: Variance floor per unit of squared pattern norm (as if each synapse kept variance 1e-8).
DEFAULT_VAR_FLOOR = 1e-8


def log_phi(u: np.ndarray) -> np.ndarray:
    """log Φ(u), Φ the standard Gaussian CDF, accurate for large negative u."""
    return log_ndtr(u)


def gaussian_hazard(u: np.ndarray, log_phi_u: np.ndarray | None = None) -> np.ndarray:
    """g(u) = φ(u)/Φ(u) = exp(−u²/2 − log Φ(u))/√(2π); g(u) ≈ −u for u → −∞, → 0 for u → +∞.

    ``log_phi_u`` may pass a precomputed log Φ(u) to avoid evaluating it twice.
    """
    u = np.asarray(u)
    lp = log_ndtr(u) if log_phi_u is None else log_phi_u
    return np.exp(-0.5 * u * u - lp - _LOG_SQRT_2PI)


def clt_loss_grad_folded(
    xs: np.ndarray,
    x2: np.ndarray | None,
    m: np.ndarray,
    mean: np.ndarray,
    *,
    beta: float = 1.0,
    margin: float = 0.0,
    var_floor: float = DEFAULT_VAR_FLOOR,
) -> tuple[float, np.ndarray]:
    """Loss and ∂E/∂m on a block of patterns with the labels folded in (the solver's kernel).

    Args:
        xs: (B, N) matrix X_μi = σ^μ ξ_i^μ (float32 or float64).
        x2: (B, N) matrix (ξ_i^μ)², or None for ±1 patterns (then ξ² = 1 and the
            variance v = Σ_i (1 − m_i²) is the same for every pattern).
        m: (N,) float64 synapse means.
        mean: (B,) float64 folded means σ^μ μ^μ = (xs @ m), passed in because the
            caller usually gets them from a product it needs anyway.
        beta, margin, var_floor: as in :func:`clt_loss`.

    Returns:
        (loss, grad) with grad = ∂E/∂m as float64 (N,).
    """
    dt = xs.dtype
    q = 1.0 - m * m
    if x2 is None:
        var = np.full(mean.shape[0], max(float(q.sum()), 0.0) + var_floor * xs.shape[1])
    else:
        var = (x2 @ q.astype(dt)).astype(np.float64) + var_floor * x2.sum(axis=1, dtype=np.float64)
    loss, a, b = clt_coefficients(mean, var, beta=beta, margin=margin)
    grad = -(xs.T @ a.astype(dt)).astype(np.float64)
    if x2 is None:
        grad -= m * b.sum()
    else:
        grad -= m * (x2.T @ b.astype(dt)).astype(np.float64)
    return loss, grad


def clt_coefficients(
    mean: np.ndarray, var: np.ndarray, *, beta: float = 1.0, margin: float = 0.0
) -> tuple[float, np.ndarray, np.ndarray]:
    """Per-pattern pieces of the CLT loss gradient.

    With u = β(mean/√var − κ) and g = φ(u)/Φ(u), returns
    (E, a, b) where E = −Σ log Φ(u), a = g β/√v and b = g β mean/v^{3/2}, so that

        ∂E/∂m_i = − Σ_μ a_μ X_μi − m_i Σ_μ b_μ (ξ_i^μ)².

    Any way of computing the two transposed products can then finish the gradient.
    """
    sd = np.sqrt(var)
    u = beta * (mean / sd - margin)
    lp = log_ndtr(u)
    g = gaussian_hazard(u, lp)
    return float(-lp.sum()), g * (beta / sd), g * beta * mean / (var * sd)


def _folded(patterns: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(patterns, dtype=np.float64)
    return x * np.asarray(labels, dtype=np.float64)[:, None], x * x


def clt_loss(
    m: np.ndarray,
    patterns: np.ndarray,
    labels: np.ndarray,
    *,
    beta: float = 1.0,
    margin: float = 0.0,
    var_floor: float = DEFAULT_VAR_FLOOR,
) -> float:
    """E(m) = − Σ_μ log Φ(β(σ^μ μ^μ/√v^μ − κ)) in float64 (reference implementation).

    Args:
        m: (N,) synapse means in [−1, 1].
        patterns: (P, N) patterns ξ.
        labels: (P,) labels σ ∈ {±1}.
        beta: inverse temperature β > 0 (default 1).
        margin: margin κ on the normalized stability (default 0).
        var_floor: variance floor per unit squared pattern norm (default 1e-8).
    """
    xs, x2 = _folded(patterns, labels)
    m = np.asarray(m, dtype=np.float64)
    var = x2 @ (1.0 - m * m) + var_floor * x2.sum(axis=1)
    u = beta * ((xs @ m) / np.sqrt(var) - margin)
    return float(-np.sum(log_ndtr(u)))


def clt_loss_grad(
    m: np.ndarray,
    patterns: np.ndarray,
    labels: np.ndarray,
    *,
    beta: float = 1.0,
    margin: float = 0.0,
    var_floor: float = DEFAULT_VAR_FLOOR,
) -> tuple[float, np.ndarray]:
    """Loss E(m) and its analytic gradient ∂E/∂m in float64 (see the module docstring).

    Uses the same kernel as the solver (:func:`clt_loss_grad_folded`), with the
    general (real-pattern) variance.

    Returns:
        (loss, grad) with grad of shape (N,).
    """
    xs, x2 = _folded(patterns, labels)
    m = np.asarray(m, dtype=np.float64)
    return clt_loss_grad_folded(xs, x2, m, xs @ m, beta=beta, margin=margin, var_floor=var_floor)
