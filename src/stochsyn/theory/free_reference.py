"""Large-deviation local entropy at finite y with an unconstrained reference.

Same measure as :mod:`stochsyn.theory.local_entropy`, Z(y, d) = Σ_W̃ N(W̃, d)^y,
but the reference W̃ need not be a solution itself (the "robust ensemble" of
Baldassi et al., PNAS 113, E7655 (2016), arXiv:1605.06444, at fixed distance).
It serves as a check of the y → ∞ functional of
:mod:`stochsyn.theory.dense_limit`, whose leading order does not contain the
reference's constraint: S_I(y) here increases with y towards the same S_∞, and
it bounds the constrained S_I(y) from above.

RS over n → 0 groups (reference + y replicas W). Nothing in the energetic term
involves the reference, so its conjugates vanish (Q̂ = t̂ = 0) and

    G_S = ∫Dz ln Σ_{w̃=±1} Σ_{k=0}^{y} C(y,k) e^{(y−2k)(√q̂0 z + Ŝ w̃) + (y−2k)²(q̂1−q̂0)/2},
    G_E = ∫Dz ln ∫Dw H((κ − √q0 z − √(q1−q0) w)/√(1−q1))^y,
    Φ   = −y Ŝ S − y(y−1) q̂1 q1/2 − y q̂1/2 + y² q̂0 q0/2 + G_S + α G_E,

S_I = ∂Φ/∂y at the saddle (explicit dependence; ∂G_S/∂y is the tilted mixture
average of :meth:`stochsyn.theory.local_entropy._Model.dGS_dy`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import gammaln, logsumexp

from .. import validation as V
from .gaussian import gauss_hermite, log_H
from .local_entropy import DenseLocalEntropy, _Model
from .saddle import SaddlePointError, fixed_point

__all__ = ["FreeReferenceState", "local_entropy_free_reference"]

_TINY = 1e-300  # Q̂ = 0 in _Model's parametrization (g1 = √Q̂ z → 0, t̂/√Q̂ = 0)


@dataclass(frozen=True)
class FreeReferenceState(DenseLocalEntropy):
    """Saddle point at finite y with a free reference: S_I, Φ, Σ = Φ − y S_I, order
    parameters (the fields of :class:`~stochsyn.theory.local_entropy.DenseLocalEntropy`)."""


class _FreeModel:
    def __init__(self, alpha, kappa, y, n_outer, n_inner):
        self.alpha, self.kappa, self.y = alpha, kappa, int(y)
        self.ent = _Model(alpha, kappa, y, n_outer, 4)
        self.z, self.wz = gauss_hermite(n_outer)
        self.xw, self.ww = gauss_hermite(n_inner)
        k = np.arange(self.y + 1)
        self.m = (self.y - 2 * k).astype(float)
        self.logc = gammaln(self.y + 1) - gammaln(k + 1) - gammaln(self.y - k + 1)

    def G_S(self, Sh, qh1, qh0):
        return self.ent.G_S(_TINY, 0.0, Sh, qh1, qh0)

    def G_E(self, q1, q0, y=None):
        y = self.y if y is None else y
        x = (self.kappa - math.sqrt(q0) * self.z[:, None] - math.sqrt(q1 - q0) * self.xw[None, :]) / math.sqrt(1 - q1)
        return float(np.sum(self.wz * logsumexp(y * log_H(x) + np.log(self.ww), axis=1)))

    def phi(self, o, S):
        y = self.y
        return (-y * o["Shat"] * S - 0.5 * y * (y - 1) * o["qhat1"] * o["q1"] - 0.5 * y * o["qhat1"]
                + 0.5 * y * y * o["qhat0"] * o["q0"] + self.G_S(o["Shat"], o["qhat1"], o["qhat0"])
                + self.alpha * self.G_E(o["q1"], o["q0"]))

    def s_i(self, o, S, h=1e-5):
        y = self.y
        trace = -o["Shat"] * S - 0.5 * (2 * y - 1) * o["qhat1"] * o["q1"] - 0.5 * o["qhat1"] + y * o["qhat0"] * o["q0"]
        gs = self.ent.dGS_dy(_TINY, 0.0, o["Shat"], o["qhat1"], o["qhat0"])
        ge = (self.G_E(o["q1"], o["q0"], y + h) - self.G_E(o["q1"], o["q0"], y - h)) / (2 * h)
        return trace + gs + self.alpha * ge


def _fd(f, x, h=1e-6):
    g = np.empty(len(x))
    for i in range(len(x)):
        e = np.zeros(len(x))
        e[i] = h * max(0.01, abs(x[i]))
        g[i] = (f(x + e) - f(x - e)) / (2 * e[i])
    return g


def local_entropy_free_reference(alpha: float, d: float, kappa: float = 0.0, *, y: int = 2,
                                 n_outer: int = 24, n_inner: int = 24, tol: float = 1e-9,
                                 start: dict | None = None) -> FreeReferenceState:
    """S_I(y) of Σ_W̃ N(W̃, d)^y with a free (unconstrained) reference, RS at integer y ≥ 2.

    Map (q1, q0) → (q̂1, q̂0) (energetic gradient) → Ŝ (Brent, overlap S) →
    (q1, q0) (entropic gradient), solved by Powell's hybrid method; gradients
    by central differences of the quadrature functionals.

    Parameters
    ----------
    alpha : load (> 0). d : distance in (0, 1/2). kappa : margin (default 0).
    y : replicas per reference (integer ≥ 2, default 2).
    n_outer, n_inner : Gauss–Hermite nodes of the outer / inner Gaussian variables (defaults 24, 24).
    tol : tolerance on the map's residual (default 1e-9).
    start : optional dict with q1, q0 (e.g. the ``order`` of the previous y).

    Raises :class:`SaddlePointError` if it does not converge.
    """
    alpha = V.real("alpha", alpha, lo=0.0, lo_open=True)
    d = V.real("d", d, lo=0.0, hi=0.5, lo_open=True, hi_open=True)
    kappa = V.real("kappa", kappa)
    y = V.count("y", y, lo=2)
    n_outer = V.count("n_outer", n_outer, lo=4)
    n_inner = V.count("n_inner", n_inner, lo=4)
    S = 1 - 2 * d
    mdl = _FreeModel(alpha, kappa, y, n_outer, n_inner)
    st = {"Sh": math.atanh(min(S, 0.999))}

    def conj(q1, q0):
        g = _fd(lambda v: mdl.G_E(v[0], v[1]), np.array([q1, q0]))
        return 2 * alpha * g[0] / (y * (y - 1)), -2 * alpha * g[1] / y**2

    def solve_sh(qh1, qh0):
        f = lambda sh: (mdl.G_S(sh + 1e-6, qh1, qh0) - mdl.G_S(sh - 1e-6, qh1, qh0)) / (2e-6 * y) - S  # noqa: E731
        lo, hi = st["Sh"] - 0.5, st["Sh"] + 0.5
        while f(lo) > 0:
            lo -= 1.0
        while f(hi) < 0:
            hi += 1.0
        return float(brentq(f, lo, hi, xtol=1e-13))

    def update(v):
        # the entropic map on (q1, q0); a unit step away where it is undefined (as hybr expects)
        q1, q0 = float(v[0]), float(v[1])
        if not (0 < q0 < q1 < 1):
            return v + 1.0
        qh1, qh0 = conj(q1, q0)
        if not (qh0 > 0 and qh1 >= qh0):
            return v + 1.0
        st["Sh"] = sh = solve_sh(qh1, qh0)
        g = _fd(lambda c: mdl.G_S(sh, c[0], c[1]), np.array([qh1, qh0]))
        return np.array([(2 * g[0] - y) / (y * (y - 1)), -2 * g[1] / y**2])

    x0 = np.array([start["q1"], start["q0"]]) if start else np.array([0.5 * (1 + S * S), 0.5 * S * S])
    rep = fixed_point(update, x0, method="hybrid", warmup=0, tol=tol, xtol=1e-12, max_iter=2000,
                      raise_on_failure=False)
    sol_x = rep.x
    if not rep.converged:
        raise SaddlePointError(f"local_entropy_free_reference(alpha={alpha}, d={d}, y={y}): "
                               f"no convergence (residual {rep.residual:.3g})", rep)
    q1, q0 = (float(v) for v in sol_x)
    qh1, qh0 = conj(q1, q0)
    o = {"q1": q1, "q0": q0, "qhat1": qh1, "qhat0": qh0, "Shat": solve_sh(qh1, qh0)}
    phi = mdl.phi(o, S)
    si = mdl.s_i(o, S)
    return FreeReferenceState(alpha, kappa, y, d, si, phi, phi - y * si, o, rep)
