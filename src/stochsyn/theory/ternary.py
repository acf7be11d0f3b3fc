"""Storage problem of the perceptron with ternary weights w ∈ {−1, 0, +1}: RS entropy and capacity.

Weights with a fixed fraction f of zeros, so that Q = ⟨w²⟩ = 1 − f; a pattern is
stored when the normalized stability σ Σ_i w_i ξ_i / √(NQ) is at least κ. The
replica-symmetric free entropy (the Gardner volume of a discrete prior, as in
Gardner & Derrida 1988 for binary weights; here with a multiplier Q̂ for the
self-overlap) is

    φ = extr_{q, q̂, Q̂} { Q̂Q/2 + q̂q/2 + ∫Dz ln Z(z) + α ∫Dz ln H(x(z)) },
    Z(z) = Σ_w exp(√q̂ z w − (Q̂ + q̂) w²/2) = 1 + 2 e^{−(Q̂+q̂)/2} cosh(√q̂ z),
    x(z) = (κ√Q − √q z)/√(Q − q),

with the stationarity conditions

    ∫Dz ⟨w²⟩_z = Q        (fixes Q̂: the zero fraction),
    q  = ∫Dz ⟨w⟩_z²,
    q̂ = α/(Q − q) ∫Dz [G(x)/H(x)]²,

⟨·⟩_z the average with weights exp(√q̂ z w − (Q̂+q̂) w²/2). Limits that the tests
check: at α = 0, φ = H(f) + (1 − f) ln 2 (the entropy of ternary vectors with a
fraction f of zeros); f → 0 gives the binary problem (α_c(κ=0) = 0.8331); φ falls
with α and the capacity α_c(f) is where it vanishes (Krauth–Mézard criterion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .. import validation as V
from .gardner import gardner_entropy
from .gaussian import GH, gauss_hermite, log_H
from .saddle import SaddleReport, fixed_point

__all__ = ["TernaryState", "ternary_entropy", "ternary_capacity", "ternary_free_entropy"]

# Below this zero fraction the ternary state is the binary one (Q̂ → −∞ numerically).
_BINARY_LIMIT = 1e-12


@dataclass(frozen=True)
class TernaryState:
    """RS saddle point of the ternary storage problem (zero fraction ``zero_fraction``)."""

    alpha: float
    kappa: float
    zero_fraction: float
    q: float
    qhat: float
    Qhat: float
    entropy: float
    report: SaddleReport | None

    def as_dict(self) -> dict:
        """JSON-friendly summary."""
        d: dict[str, object] = {"alpha": self.alpha, "kappa": self.kappa, "zero_fraction": self.zero_fraction,
                                "q": self.q, "qhat": self.qhat, "Qhat": self.Qhat, "entropy": self.entropy}
        if self.report is not None:
            d["saddle"] = self.report.as_dict()
        return d


def _site_averages(qhat: float, Qhat: float, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ln Z, ⟨w⟩, ⟨w²⟩) at the nodes z, computed without overflow."""
    a = 0.5 * (Qhat + qhat)
    y = np.sqrt(qhat) * np.abs(z)
    # Z = 1 + 2 e^{-a} cosh(y) = 1 + e^u with u = y − a + ln(1 + e^{−2y})
    u = y - a + np.log1p(np.exp(-2.0 * y))
    lz = np.logaddexp(0.0, u)
    nz = np.exp(u - lz)                         # ⟨w²⟩ = 2 e^{-a} cosh(y) / Z: the mass on ±1
    mean = nz * np.tanh(np.sqrt(qhat) * z)      # ⟨w⟩ = 2 e^{-a} sinh / Z = ⟨w²⟩ tanh
    return lz, mean, nz


def _solve_Qhat(qhat: float, Q: float, z: np.ndarray, w: np.ndarray) -> float:
    """Q̂ such that ∫Dz ⟨w²⟩ = Q (⟨w²⟩ decreases with Q̂)."""
    def f(Qh: float) -> float:
        return float(np.dot(w, _site_averages(qhat, Qh, z)[2])) - Q

    lo, hi = -1.0, 1.0
    while f(lo) < 0:
        lo *= 2.0
        if lo < -1e4:
            raise ValueError(f"no Qhat reaches <w^2> = {Q} (qhat={qhat})")
    while f(hi) > 0:
        hi *= 2.0
        if hi > 1e4:
            raise ValueError(f"no Qhat reaches <w^2> = {Q} (qhat={qhat})")
    return float(brentq(f, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps))


def _qhat(q: float, Q: float, alpha: float, kappa: float, z: np.ndarray, w: np.ndarray) -> float:
    x = (kappa * math.sqrt(Q) - math.sqrt(q) * z) / math.sqrt(Q - q)
    return alpha / (Q - q) * float(np.dot(w, GH(x) ** 2))


def ternary_free_entropy(q: float, qhat: float, Qhat: float, alpha: float, kappa: float, zero_fraction: float,
                         *, n_quad: int = 201) -> float:
    """The RS functional φ(q, q̂, Q̂) of the module docstring, not extremized (for stationarity checks)."""
    Q = 1.0 - zero_fraction
    z, w = gauss_hermite(n_quad)
    lz = _site_averages(qhat, Qhat, z)[0]
    x = (kappa * math.sqrt(Q) - math.sqrt(q) * z) / math.sqrt(Q - q)
    return 0.5 * Qhat * Q + 0.5 * qhat * q + float(np.dot(w, lz)) + alpha * float(np.dot(w, log_H(x)))


def ternary_entropy(alpha: float, zero_fraction: float, kappa: float = 0.0, *, n_quad: int = 201,
                    tol: float = 1e-13, damping: float = 0.5, max_iter: int = 20000) -> TernaryState:
    """RS entropy of ternary solutions with a fraction ``zero_fraction`` of zeros (module docstring).

    Parameters
    ----------
    alpha : load P/N, >= 0.
    zero_fraction : f in [0, 1); f = 0 is the binary problem (:func:`~stochsyn.theory.gardner_entropy`).
    kappa : margin κ on the normalized stability (default 0).
    n_quad, tol, damping, max_iter : quadrature nodes and fixed-point settings (the damped
        iteration is on q; Q̂ is solved at every step so that ⟨w²⟩ = 1 − f).
    """
    alpha = V.real("alpha", alpha, lo=0.0)
    f = V.real("zero_fraction", zero_fraction, lo=0.0, hi=1.0, hi_open=True)
    kappa = V.real("kappa", kappa)
    n_quad = V.count("n_quad", n_quad, lo=8)
    if f < _BINARY_LIMIT:
        g = gardner_entropy(alpha, kappa, n_quad=n_quad, tol=tol, damping=damping, max_iter=max_iter)
        return TernaryState(alpha, kappa, 0.0, g.q, g.qhat, -math.inf, g.entropy, g.report)
    Q = 1.0 - f
    z, w = gauss_hermite(n_quad)
    if alpha == 0.0:
        Qhat = _solve_Qhat(0.0, Q, z, w)
        phi = ternary_free_entropy(0.0, 0.0, Qhat, 0.0, kappa, f, n_quad=n_quad)
        return TernaryState(alpha, kappa, f, 0.0, 0.0, Qhat, phi, None)
    state = {"Qhat": 0.0}

    def update(v: np.ndarray) -> np.ndarray:
        q = min(max(float(v[0]), 0.0), Q * (1 - 1e-15))
        qh = _qhat(q, Q, alpha, kappa, z, w)
        state["Qhat"] = Qh = _solve_Qhat(qh, Q, z, w)
        mean = _site_averages(qh, Qh, z)[1]
        return np.array([float(np.dot(w, mean * mean))])

    rep = fixed_point(update, [0.0], damping=damping, tol=tol, max_iter=max_iter,
                      name=f"ternary_entropy(alpha={alpha}, zero_fraction={f}, kappa={kappa})")
    q = float(rep.x[0])
    qh = _qhat(q, Q, alpha, kappa, z, w)
    Qh = _solve_Qhat(qh, Q, z, w)
    phi = ternary_free_entropy(q, qh, Qh, alpha, kappa, f, n_quad=n_quad)
    return TernaryState(alpha, kappa, f, q, qh, Qh, phi, rep)


def ternary_capacity(zero_fraction: float, kappa: float = 0.0, *, n_quad: int = 201, xtol: float = 1e-10) -> float:
    """α_c(f): the load at which the RS entropy of ternary solutions with zero fraction f vanishes."""
    f = V.real("zero_fraction", zero_fraction, lo=0.0, hi=1.0, hi_open=True)
    kappa = V.real("kappa", kappa)

    def phi(a: float) -> float:
        return ternary_entropy(a, f, kappa, n_quad=n_quad).entropy

    lo = 0.05
    while phi(lo) <= 0:
        lo *= 0.5
        if lo < 1e-8:
            raise ValueError(f"kappa={kappa!r}, zero_fraction={f!r}: capacity below 1e-8")
    # small steps: far beyond α_c the q → Q branch can jump to an unphysical solution with
    # φ > 0, so the root is bracketed at the first sign change, not at a distant one
    hi = lo * 1.05
    while phi(hi) > 0:
        lo, hi = hi, hi * 1.05
        if hi > 1e4:
            raise ValueError(f"kappa={kappa!r}, zero_fraction={f!r}: no zero of the entropy below alpha=1e4")
    return float(brentq(phi, lo, hi, xtol=xtol, rtol=4 * np.finfo(float).eps))
