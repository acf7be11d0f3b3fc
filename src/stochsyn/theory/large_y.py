"""Free-reference large deviations at finite real y, evaluated so that y can be large (check of the y → ∞ limit).

Same measure and RS functional as :mod:`stochsyn.theory.free_reference`
(Baldassi et al., PRL 115, 128101 (2015); the reference W̃ unconstrained, so
Q̂ = t̂ = 0 and the functional is a 1RSB-like one with Parisi parameter y plus
a field Ŝ on the reference):

    Φ(y) = −y Ŝ S − y(y−1) q̂1 q1/2 − y q̂1/2 + y² q̂0 q0/2 + G_S + α G_E,
    G_S = ∫Dz ln Σ_{w̃=±1} ∫Dη [2cosh(√q̂0 z + √(q̂1−q̂0) η + Ŝ w̃)]^y,
    G_E = ∫Dz ln ∫Dη H((κ − √q0 z − √(q1−q0) η)/√(1−q1))^y,

but written and solved independently of that module and of
:mod:`stochsyn.theory.dense_limit`: real (non-integer) y; the inner η
integrals in the scaled variable u = η/√y, ∫Dη e^{y f} = √(y/2π) ∫du
e^{y(f − u²/2)}, by the trapezoid rule on a uniform u grid summed in log
space (spectrally accurate for these smooth, Gaussian-decaying integrands,
and stable for any y because the exponent is never exponentiated before the
log-sum-exp); saddle-point equations in closed form (tilted averages; checked
against finite differences of G_S, G_E in the tests):

    S  = ⟨⟨w̃ m⟩⟩,   q1 = ⟨⟨m²⟩⟩,   q0 = ⟨⟨m⟩²⟩,         m = tanh(√q̂0 z + √(q̂1−q̂0) η + Ŝ w̃),
    q̂1 = α/(1−q1) ⟨⟨GH(x)²⟩⟩,   q̂0 = α/(1−q1) ⟨⟨GH(x)⟩²⟩,

inner averages ⟨·⟩ under the tilted weights [2cosh]^y Dη (over w̃ and η) and
H(x)^y Dη, outer over z. S_I(y) = ∂Φ/∂y is the explicit derivative at the
saddle (envelope theorem), by a central difference in real y. As y → ∞ the
saddle point approaches the scaled limit of :mod:`stochsyn.theory.dense_limit`
(y(q1 − q0) → δq, y(q̂1 − q̂0) → δ, Ŝ → X, S_I → S_∞); docs/theory.md §7.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import logsumexp

from .. import validation as V
from .free_reference import FreeReferenceState
from .gaussian import GH, gauss_hermite, gauss_legendre, log_2cosh, log_H
from .saddle import SaddlePointError, fixed_point

__all__ = ["LargeYModel", "local_entropy_free_reference_y"]

_SIGNS = np.array([1.0, -1.0])


def _even_rule(n_panel: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z ≥ 0 and weights with Σ w f(z) ≈ ∫Dz f(z) for even f (composite Gauss–Legendre on [0, 9]).

    Panels are graded towards z = 0, where the outer integrand of G_S develops
    a kink of width ~1/y as y grows (the reference's sign flips there).
    """
    x, w = gauss_legendre(n_panel)
    edges = np.concatenate([[0.0, 0.005, 0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0],
                            np.linspace(1.25, 9.0, 32)])
    h = 0.5 * np.diff(edges)
    z = (edges[:-1, None] + h[:, None] * (x[None, :] + 1)).ravel()
    wz = (h[:, None] * w[None, :]).ravel()
    return z, 2.0 * wz * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


class LargeYModel:
    """Quadrature tables and the finite-y free-reference functional for one (α, κ, S, y).

    ``n_panel``: Gauss–Legendre nodes per panel of the outer entropic rule;
    ``n_gh``: Gauss–Hermite nodes of the outer energetic integral; ``du``:
    spacing of the inner u grid (default min(0.02, 0.15/√y), i.e. ≥ ~7 points
    per standard deviation 1/√y of the tilted inner measure).
    """

    def __init__(self, alpha: float, kappa: float, S: float, y: float, *, n_panel: int = 10,
                 n_gh: int = 121, du: float | None = None):
        self.alpha, self.kappa, self.S, self.y = float(alpha), float(kappa), float(S), float(y)
        self.z, self.wz = _even_rule(n_panel)
        self.ze, self.we = gauss_hermite(n_gh)
        self.du = float(du) if du is not None else min(0.02, 0.15 / math.sqrt(self.y))

    def _u_grid(self, reach: float, y: float) -> tuple[np.ndarray, float]:
        """Uniform grid covering the tilted inner measure: its peak lies within ±reach, width ~1/√y.

        The nodes are the fixed lattice u = k du, so a change of ``reach`` only adds or removes
        nodes in the far tails (weights < e^{-40}): the functional stays a smooth function of the
        order parameters, which the root finder needs.
        """
        half = abs(reach) + 9.0 / math.sqrt(y) + 0.5
        k = math.ceil(half / self.du)
        return self.du * np.arange(-k, k + 1, dtype=float), self.du

    def group_weights(self, Sh: float, qh1: float, qh0: float, y: float):
        """A group's site weights [2cosh(a)]^y Dη over (z, w̃, u): (a, log-weight, log-normalizer per z, ln du-norm).

        a = √q̂0 z + Ŝ w̃ + √δ u; the tilted average over (w̃, u) at each z is
        Σ exp(log-weight − normalizer) · (·).
        """
        sd = math.sqrt(max(y * (qh1 - qh0), 0.0))  # √δ, δ = y(q̂1 − q̂0)
        u, h = self._u_grid(sd, y)
        arg = (math.sqrt(qh0) * self.z[:, None, None] + Sh * _SIGNS[None, :, None] + sd * u[None, None, :])
        ex = y * (log_2cosh(arg) - 0.5 * u * u)
        lz = logsumexp(ex.reshape(self.z.size, -1), axis=1)
        return arg, ex, lz, math.log(h * math.sqrt(y / (2 * math.pi)))

    def entropic(self, Sh: float, qh1: float, qh0: float, y: float | None = None, averages: bool = False):
        """G_S, and with ``averages`` also (S, q1, q0) from the closed-form stationarity conditions."""
        y = self.y if y is None else float(y)
        arg, ex, lz, lnorm = self.group_weights(Sh, qh1, qh0, y)
        gs = float(np.sum(self.wz * (lz + lnorm)))
        if not averages:
            return gs
        p = np.exp(ex - lz[:, None, None])
        m = np.tanh(arg)
        S = float(np.sum(self.wz * np.sum(p * _SIGNS[None, :, None] * m, axis=(1, 2))))
        q1 = float(np.sum(self.wz * np.sum(p * m * m, axis=(1, 2))))
        mbar = np.sum(p * m, axis=(1, 2))
        return gs, S, q1, float(np.sum(self.wz * mbar * mbar))

    def energetic(self, q1: float, q0: float, y: float | None = None, averages: bool = False):
        """G_E, and with ``averages`` also (q̂1, q̂0) from the closed-form stationarity conditions."""
        y = self.y if y is None else float(y)
        sdq = math.sqrt(max(y * (q1 - q0), 0.0))  # √δq, δq = y(q1 − q0)
        s = math.sqrt(1.0 - q1)
        # the tilt pushes the group's shift A = √δq u up by at most a few units of √(1−q1) beyond |c|
        u, h = self._u_grid(4.0 / max(sdq, 0.03) + 1.0, y)
        x = (self.kappa - math.sqrt(q0) * self.ze[:, None] - sdq * u[None, :]) / s
        ex = y * (log_H(x) - 0.5 * u * u)
        lz = logsumexp(ex, axis=1)
        ge = float(np.sum(self.we * (lz + math.log(h * math.sqrt(y / (2 * math.pi))))))
        if not averages:
            return ge
        p = np.exp(ex - lz[:, None])
        g = GH(x)
        qh1 = self.alpha / (1 - q1) * float(np.sum(self.we * np.sum(p * g * g, axis=1)))
        gbar = np.sum(p * g, axis=1)
        return ge, qh1, self.alpha / (1 - q1) * float(np.sum(self.we * gbar * gbar))

    def phi(self, o: dict, y: float | None = None) -> float:
        """Φ(y) at order parameters ``o`` = {Shat, qhat1, qhat0, q1, q0} (module docstring)."""
        y = self.y if y is None else float(y)
        return (-y * o["Shat"] * self.S - 0.5 * y * (y - 1) * o["qhat1"] * o["q1"] - 0.5 * y * o["qhat1"]
                + 0.5 * y * y * o["qhat0"] * o["q0"] + self.entropic(o["Shat"], o["qhat1"], o["qhat0"], y)
                + self.alpha * self.energetic(o["q1"], o["q0"], y))

    def local_entropy(self, o: dict, rel_step: float = 1e-4) -> float:
        """S_I = ∂Φ/∂y at fixed order parameters (central difference in real y)."""
        h = rel_step * self.y
        return (self.phi(o, self.y + h) - self.phi(o, self.y - h)) / (2 * h)

    def solve_Shat(self, qh1: float, qh0: float, guess: float) -> float:
        """Ŝ with ⟨⟨w̃ m⟩⟩ = S (Brent; the overlap increases with Ŝ)."""
        f = lambda sh: self.entropic(sh, qh1, qh0, averages=True)[1] - self.S  # noqa: E731
        lo, hi = max(guess - 0.3, 1e-9), guess + 0.3
        while f(lo) > 0 and lo > 1e-8:
            lo /= 3.0
        while f(hi) < 0:
            hi += 0.5
            if hi > 50:
                raise ValueError("no Shat reaches the overlap S")
        return float(brentq(f, lo, hi, xtol=1e-13))


def local_entropy_free_reference_y(alpha: float, d: float, y: float, kappa: float = 0.0, *,
                                   n_panel: int = 10, n_gh: int = 121, du: float | None = None,
                                   tol: float = 1e-9, start: dict | None = None,
                                   fallback: bool = True) -> FreeReferenceState:
    """S_I(y) of Σ_W̃ N(W̃, d)^y with a free reference, RS, at real y ≥ 1 (large y allowed).

    Baldassi et al., PRL 115, 128101 (2015) (measure); functional and
    equations in the module docstring. Solves the map (q1, ln y(q1−q0), Ŝ) →
    (q̂1, q̂0) → (q1, ln y(q1−q0), overlap) with the overlap held at S by
    Powell's hybrid method from ``start``; if that fails (and ``fallback``), by
    15 damped steps and the hybrid method on the map with Ŝ solved by Brent at
    every step, polished by the joint root.

    Parameters
    ----------
    alpha : load (> 0). d : distance in (0, 1/2). y : replicas per reference, real ≥ 1.
    kappa : margin of the replicas' constraints (default 0).
    n_panel : Gauss–Legendre nodes per panel of the outer entropic rule (default 10).
    n_gh : Gauss–Hermite nodes of the outer energetic integral (default 121).
    du : spacing of the inner u grid (default min(0.02, 0.15/√y)).
    tol : tolerance on the map's residual (default 1e-9).
    start : optional dict with q1, q0 (at any y: y(q1 − q0) is kept) and Shat,
        e.g. a previous result's ``order`` or {q1, q0 = q1 − δq/y, Shat = X} from
        :func:`stochsyn.theory.dense_limit.local_entropy_max`.
    fallback : when the joint root from ``start`` fails, retry with the slower map
        that solves for Ŝ by Brent at every step (default True; False fails fast,
        for continuations that take smaller steps instead).

    Returns a :class:`~stochsyn.theory.free_reference.FreeReferenceState`
    (``order`` also holds dq = y(q1 − q0) and delta = y(q̂1 − q̂0)). Raises
    :class:`SaddlePointError` if it does not converge.
    """
    alpha = V.real("alpha", alpha, lo=0.0, lo_open=True)
    d = V.real("d", d, lo=0.0, hi=0.5, lo_open=True, hi_open=True)
    y = V.real("y", y, lo=1.0, lo_open=True)
    kappa = V.real("kappa", kappa)
    n_panel = V.count("n_panel", n_panel, lo=2)
    n_gh = V.count("n_gh", n_gh, lo=8)
    if du is not None:
        du = V.real("du", du, lo=0.0, lo_open=True)
    tol = V.real("tol", tol, lo=0.0, lo_open=True)
    S = 1.0 - 2.0 * d
    mdl = LargeYModel(alpha, kappa, S, y, n_panel=n_panel, n_gh=n_gh, du=du)
    if start is not None:
        q1s, sy = float(start["q1"]), start.get("y", None)
        gap = float(start["q1"]) - float(start["q0"])
        dqs = gap * (float(sy) if sy is not None else y)
        sh0 = float(start.get("Shat", math.atanh(min(S, 0.999))))
    else:
        q1s, dqs, sh0 = 0.5 * (1 + S * S), 0.5 * (1 - S * S) * y, math.atanh(min(S, 0.999))

    undefined, undefined2 = np.array([1.0, 1.0, 1.0]), np.array([1.0, 1.0])  # "map undefined here" (a unit step away)

    def joint(v):
        # Ŝ is an unknown of the root beside (q1, ln δq): a nested Brent solve for the
        # overlap at every step costs ~15× more (measured at α = 0.76, d = 0.03, y = 7).
        # Its residual has the sign of a descent step (the overlap grows with Ŝ).
        q1, ldq, sh = float(v[0]), float(v[1]), float(v[2])
        q0 = q1 - math.exp(min(ldq, 50.0)) / y
        if not (0 < q0 < q1 < 1) or not sh > 0:
            return undefined
        _, qh1, qh0 = mdl.energetic(q1, q0, averages=True)
        _, s_n, q1n, q0n = mdl.entropic(sh, qh1, qh0, averages=True)
        if not q1n > q0n:
            return undefined
        return np.array([q1n - q1, math.log(y * (q1n - q0n)) - ldq, S - s_n])

    st = {"Sh": sh0}

    def nested(v):
        # the robust map: Ŝ by Brent at every step (the overlap is always S)
        q1, ldq = float(v[0]), float(v[1])
        q0 = q1 - math.exp(min(ldq, 50.0)) / y
        if not (0 < q0 < q1 < 1):
            return undefined2
        _, qh1, qh0 = mdl.energetic(q1, q0, averages=True)
        try:
            st["Sh"] = sh = mdl.solve_Shat(qh1, qh0, st["Sh"])
        except ValueError:
            return undefined2
        _, _, q1n, q0n = mdl.entropic(sh, qh1, qh0, averages=True)
        if not q1n > q0n:
            return undefined2
        return np.array([q1n - q1, math.log(y * (q1n - q0n)) - ldq])

    def solve(F, v, budget, warm):
        for _ in range(warm):  # half steps toward the basin, stopping where the map is undefined
            r = F(v)
            if r is undefined or r is undefined2:
                break
            v = v + 0.5 * r
        return fixed_point(lambda w: w + F(w), v, method="hybrid", warmup=0, damping=0.5, tol=tol, xtol=1e-12,
                           max_iter=budget, raise_on_failure=False)

    # a joint root that converges does so in ~20 evaluations from a nearby start; no damped
    # warm-up there: near α ≈ 0.76 it can drift to a second saddle point (q1 ≈ 0.99)
    rep = solve(joint, np.array([q1s, math.log(dqs), sh0]), 200, 0)
    if not rep.converged and fallback:  # far starts (e.g. from the y → ∞ limit): the nested map, then polish jointly
        rep2 = solve(nested, np.array([q1s, math.log(dqs)]), 300, 15)
        if rep2.converged:
            rep = solve(joint, np.array([rep2.x[0], rep2.x[1], st["Sh"]]), 200, 0)
    if not rep.converged:
        raise SaddlePointError(f"local_entropy_free_reference_y(alpha={alpha}, d={d}, y={y}): "
                               f"no convergence (residual {rep.residual:.3g})", rep)
    q1, sh = float(rep.x[0]), float(rep.x[2])
    q0 = q1 - math.exp(float(rep.x[1])) / y
    _, qh1, qh0 = mdl.energetic(q1, q0, averages=True)
    o = {"q1": q1, "q0": q0, "qhat1": qh1, "qhat0": qh0, "Shat": sh}
    phi = mdl.phi(o)
    si = mdl.local_entropy(o)
    o.update(dq=y * (q1 - q0), delta=y * (qh1 - qh0), y=y)
    return FreeReferenceState(alpha, kappa, y, d, si, phi, phi - y * si, o, rep)
