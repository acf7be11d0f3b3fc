"""Storage problem of the binary perceptron: Gardner's RS entropy and the capacity.

Replica-symmetric free entropy of the solutions W ∈ {±1}^N of P = αN random
patterns with margin κ (Gardner 1988; Gardner & Derrida 1988; Krauth & Mézard
1989):

    φ(q, q̂) = −q̂(1−q)/2 + ∫Dz ln 2cosh(√q̂ z) + α ∫Dz ln H(x(z)),
    x(z) = (κ − √q z)/√(1−q),

extremized at

    q  = ∫Dz tanh²(√q̂ z),
    q̂ = α/(1−q) ∫Dz [G(x)/H(x)]² .

The Krauth–Mézard capacity α_c(κ) is where the extremal φ vanishes
(α_c(0) ≈ 0.8331). Small-α expansion (used in the tests):
φ = ln 2 + α ln H(κ) − α² [G(κ)/H(κ)]⁴ / 4 + O(α³).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .. import validation as V
from .gaussian import GH, gauss_hermite, log_2cosh, log_H
from .saddle import SaddleReport, fixed_point

__all__ = ["GardnerState", "gardner_free_entropy", "gardner_entropy", "capacity"]


@dataclass(frozen=True)
class GardnerState:
    """RS saddle point of the storage problem at load ``alpha`` and margin ``kappa``.

    ``entropy``: φ (log of the number of solutions per synapse);
    ``q``, ``qhat``: overlap and conjugate; ``report``: convergence report.
    """

    alpha: float
    kappa: float
    q: float
    qhat: float
    entropy: float
    report: SaddleReport | None

    @property
    def typical_distance(self) -> float:
        """Normalized Hamming distance between two typical solutions, (1 − q)/2."""
        return 0.5 * (1.0 - self.q)

    def as_dict(self) -> dict:
        """JSON-friendly summary."""
        d: dict[str, object] = {"alpha": self.alpha, "kappa": self.kappa, "q": self.q, "qhat": self.qhat,
                                "entropy": self.entropy}
        if self.report is not None:
            d["saddle"] = self.report.as_dict()
        return d


def gardner_free_entropy(q: float, qhat: float, alpha: float, kappa: float = 0.0,
                         *, n_quad: int = 201) -> float:
    """The RS functional φ(q, q̂) above, not extremized (for stationarity checks).

    ``n_quad`` (default 201): Gauss–Hermite nodes for each ∫Dz.
    """
    z, w = gauss_hermite(n_quad)
    entropic = -0.5 * qhat * (1.0 - q) + float(np.dot(w, log_2cosh(np.sqrt(qhat) * z)))
    x = (kappa - np.sqrt(q) * z) / np.sqrt(1.0 - q)
    return entropic + alpha * float(np.dot(w, log_H(x)))


def _conjugates(q: float, alpha: float, kappa: float, z, w) -> float:
    x = (kappa - np.sqrt(q) * z) / np.sqrt(1.0 - q)
    return alpha / (1.0 - q) * float(np.dot(w, GH(x) ** 2))


def gardner_entropy(
    alpha: float,
    kappa: float = 0.0,
    *,
    n_quad: int = 201,
    tol: float = 1e-13,
    damping: float = 0.5,
    max_iter: int = 20000,
) -> GardnerState:
    """RS entropy and order parameters of the binary perceptron storage problem.

    Solves the saddle-point equations in the module docstring by damped
    fixed-point iteration on q.

    Parameters
    ----------
    alpha : load P/N, >= 0.
    kappa : margin κ (default 0.0).
    n_quad : Gauss–Hermite nodes per Gaussian integral (default 201).
    tol : convergence threshold on |Δq| (default 1e-13).
    damping : weight of the old iterate (default 0.5).
    max_iter : iteration budget (default 20000); non-convergence raises
        :class:`~stochsyn.theory.saddle.SaddlePointError`.
    """
    alpha = V.real("alpha", alpha, lo=0.0)
    kappa = V.real("kappa", kappa)
    n_quad = V.count("n_quad", n_quad, lo=8)
    z, w = gauss_hermite(n_quad)
    if alpha == 0.0:
        return GardnerState(alpha, kappa, 0.0, 0.0, float(np.log(2.0)), None)

    def update(v: np.ndarray) -> np.ndarray:
        q = min(max(v[0], 0.0), 1.0 - 1e-15)
        qhat = _conjugates(q, alpha, kappa, z, w)
        return np.array([float(np.dot(w, np.tanh(np.sqrt(qhat) * z) ** 2))])

    rep = fixed_point(update, [0.0], damping=damping, tol=tol, max_iter=max_iter,
                      name=f"gardner_entropy(alpha={alpha}, kappa={kappa})")
    q = float(rep.x[0])
    qhat = _conjugates(q, alpha, kappa, z, w)
    phi = gardner_free_entropy(q, qhat, alpha, kappa, n_quad=n_quad)
    return GardnerState(alpha, kappa, q, qhat, phi, rep)


def capacity(kappa: float = 0.0, *, levels: int = 2, zero_fraction: float | None = None,
             n_quad: int = 201, xtol: float = 1e-10) -> float:
    """Krauth–Mézard capacity α_c(κ): the load at which the RS entropy vanishes.

    Binary weights by default. ``levels=3`` with ``zero_fraction=f`` gives the capacity
    of ternary weights with a fraction f of zeros (:func:`~stochsyn.theory.ternary.ternary_capacity`;
    f = 0 is the binary problem). Brackets the root of α ↦ φ(α, κ) by geometric steps
    from α = 0.05 and refines it with Brent's method to ``xtol`` (default 1e-10).
    ``n_quad`` (default 201) is passed to the entropy.
    """
    kappa = V.real("kappa", kappa)
    levels = V.integer("levels", levels, lo=2, hi=3)
    if levels == 3:
        if zero_fraction is None:
            raise ValueError("capacity(levels=3) needs zero_fraction, the fraction f of zero weights in [0, 1)")
        from .ternary import ternary_capacity

        return ternary_capacity(zero_fraction, kappa, n_quad=n_quad, xtol=xtol)
    if zero_fraction not in (None, 0, 0.0):
        raise ValueError(f"zero_fraction={zero_fraction!r} needs levels=3 (binary weights have no zeros)")

    def f(a: float) -> float:
        return gardner_entropy(a, kappa, n_quad=n_quad).entropy

    lo = 0.05
    if f(lo) <= 0:
        while f(lo) <= 0:
            lo *= 0.5
            if lo < 1e-8:
                raise ValueError(f"kappa={kappa!r}: capacity below 1e-8, margin too large")
    hi = lo * 1.5
    while f(hi) > 0:
        lo, hi = hi, hi * 1.5
        if hi > 1e4:
            raise ValueError(f"kappa={kappa!r}: no zero of the entropy below alpha=1e4")
    return float(brentq(f, lo, hi, xtol=xtol, rtol=4 * np.finfo(float).eps))
