"""Local stability of the replica-symmetric saddle point: the replicon (de Almeida–Thouless) eigenvalue.

Gardner storage problem of the binary perceptron (section 1 of docs/theory.md). Around
the RS saddle point, fluctuations of the overlaps δQ_ab in the replicon sector (the
directions orthogonal to the RS manifold, Σ_b δQ_ab = 0) decouple. The replicated free
entropy is a sum of an entropic term G_S(Q̂) and α times an energetic term G_E(Q), and
its Hessian in the replicon sector couples the two blocks

    γ_S = ∫Dz (⟨W²⟩_z − ⟨W⟩_z²)² = ∫Dz (1 − tanh²(√q̂ z))²,
    γ_E = ∫Dz (∂²_h ln H((κ − h)/√(1 − q)))²|_{h = √q z} = (1 − q)⁻² ∫Dz GH'(x)²,
    x = (κ − √q z)/√(1 − q),  GH'(x) = GH(x)(GH(x) − x),

so that RS is locally stable while the replicon eigenvalue

    λ_R = 1 − α γ_S γ_E

is positive (Gardner & Derrida, J. Phys. A 21, 271 (1988); the same structure as
β² ∫Dz sech⁴ < 1 for the SK model). The AT line α_AT(κ) is the zero of λ_R in α.
At κ = 0 it lies at α_AT = 1.0146 (Gardner & Derrida quote 1.015), beyond the capacity α_c = 0.8331: the RS solution
is locally stable over the whole SAT phase, and what ends it is the vanishing of its
entropy. (The RS saddle point exists beyond α_c with a negative entropy; λ_R is
evaluated there too.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .. import validation as V
from .gardner import capacity, gardner_entropy
from .gaussian import dGH, gauss_hermite

__all__ = ["Replicon", "gardner_replicon", "gardner_at_line"]


@dataclass(frozen=True)
class Replicon:
    """Replicon eigenvalue of the RS saddle point at (α, κ) and its two factors."""

    alpha: float
    kappa: float
    q: float
    qhat: float
    gamma_entropic: float
    gamma_energetic: float
    eigenvalue: float

    @property
    def stable(self) -> bool:
        """True while λ_R = 1 − α γ_S γ_E > 0 (RS locally stable)."""
        return self.eigenvalue > 0

    def as_dict(self) -> dict:
        """JSON-friendly summary."""
        return {"alpha": self.alpha, "kappa": self.kappa, "q": self.q, "qhat": self.qhat,
                "gamma_entropic": self.gamma_entropic, "gamma_energetic": self.gamma_energetic,
                "eigenvalue": self.eigenvalue, "stable": self.stable}


def gardner_replicon(alpha: float, kappa: float = 0.0, *, n_quad: int = 201) -> Replicon:
    """λ_R = 1 − α γ_S γ_E at the RS saddle point of the Gardner problem (module docstring).

    Args:
        alpha: load α > 0 (beyond α_c the RS saddle point still exists, with φ < 0).
        kappa: margin κ.
        n_quad: Gauss–Hermite nodes per Gaussian integral.
    """
    alpha = V.real("alpha", alpha, lo=0.0, lo_open=True)
    kappa = V.real("kappa", kappa)
    st = gardner_entropy(alpha, kappa, n_quad=n_quad)
    z, w = gauss_hermite(n_quad)
    gs = float(np.dot(w, (1.0 - np.tanh(np.sqrt(st.qhat) * z) ** 2) ** 2))
    x = (kappa - np.sqrt(st.q) * z) / np.sqrt(1.0 - st.q)
    ge = float(np.dot(w, dGH(x) ** 2)) / (1.0 - st.q) ** 2
    return Replicon(alpha, kappa, st.q, st.qhat, gs, ge, 1.0 - alpha * gs * ge)


def gardner_at_line(kappa: float = 0.0, *, n_quad: int = 201, xtol: float = 1e-10) -> float:
    """α_AT(κ): the load where the replicon eigenvalue of the Gardner RS solution vanishes.

    Bracketed by stepping up from α_c(κ)/2 by 5% until λ_R < 0, then Brent's method.
    """
    kappa = V.real("kappa", kappa)

    def lam(a: float) -> float:
        return gardner_replicon(a, kappa, n_quad=n_quad).eigenvalue

    lo = 0.5 * capacity(kappa, n_quad=n_quad)
    while lam(lo) <= 0:
        lo *= 0.5
        if lo < 1e-8:
            raise ValueError(f"kappa={kappa!r}: RS unstable at every load above 1e-8")
    hi = lo * 1.05
    while lam(hi) > 0:
        lo, hi = hi, hi * 1.05
        if hi > 1e3:
            raise ValueError(f"kappa={kappa!r}: RS stable up to alpha=1e3")
    return float(brentq(lam, lo, hi, xtol=xtol))


