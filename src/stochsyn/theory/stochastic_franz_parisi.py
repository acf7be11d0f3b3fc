"""Local entropy of binary solutions around sign(m*), m* the minimizer of the CLT loss.

A Franz–Parisi construction with the zero-temperature stochastic-synapse
minimizer as reference (module :mod:`~stochsyn.theory.stochastic_measure`):

    V(d) = (1/N) E_ξ ln Σ_W X_κ(W) δ(W · sign(m*) − N p),   p = 1 − 2d,

with X_κ(W) = Π_μ θ(σ^μ W·ξ^μ/√N − κ) and m* the RS β → ∞ minimizer at
polarization q0 = |m*|²/N. Replica-symmetric evaluation (reference replicas
at β → ∞ with q = q0 − χ/β; s → 0 replicas W): order parameters q1 (W–W),
r0 (W with the other reference replicas), δr = β (r1 − r0) (response of the
W–m overlap); conjugates q̂1, ρ̂, Δr̂, x̂. With the reference's field
h_ref = √ĥ z, m*(z) = clip(√ĥ z/A, −1, 1), sign(m*) = sign(z), and

    h  = (ρ̂/√ĥ) z + √(q̂1 − ρ̂²/ĥ) η + Δr̂ m*(z) + x̂ sign(z),
    G_S = ∫Dz Dη ln 2cosh h,
    G_E = ∫Dz Dy ln H( (κ − (r0/√q0) z − (δr/χ)(λ*(z) − √q0 z) − √(q1 − r0²/q0) y) / √(1−q1) ),

    V = −q̂1(1 − q1)/2 − Δr̂ r0 − ρ̂ δr − x̂ p + G_S + α G_E ,

where λ*(z) is the reference's pattern stability (minimizer of
ℓ(λ) + (λ − √q0 z)²/(2χ)); the term (δr/χ)(λ* − √q0 z) is the correlation of W
with the reference's reaction to the pattern. Saddle point:

    q1 = ⟨tanh² h⟩,  r0 = ⟨m* tanh h⟩,  p = ⟨sign(z) tanh h⟩,
    δr = ⟨z tanh h⟩/√ĥ − (ρ̂/ĥ)(1 − q1),
    q̂1 = α ⟨GH²⟩/(1−q1),   ρ̂ = α ⟨GH (λ* − √q0 z)⟩/(χ √(1−q1)),
    Δr̂ = α [ ⟨GH z⟩/(√q0 √(1−q1)) + (r0/q0) ⟨GH'⟩/(1−q1) ].

Limiting case: at x̂ = 0 the W's are unconstrained solutions, V equals the
Gardner entropy and q1, q̂1 equal Gardner's q, q̂; this is the maximum of V(d).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .. import validation as V
from .franz_parisi import LocalEntropyCurve, continuation_grid
from .gardner import gardner_entropy
from .gaussian import dgh_from_gh, gauss_hermite, gauss_legendre, gh_from_log_h, log_2cosh, log_H
from .saddle import SaddlePointError, SaddleReport, fixed_point
from .stochastic_measure import StochasticState, _lambda_star, stochastic_ground_state

__all__ = ["SignReferenceCurve", "sign_reference_local_entropy", "sign_reference_functional"]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def _half_line_nodes(zc: float, n_panel: int, zmax: float = 9.0) -> tuple[np.ndarray, np.ndarray]:
    """Nodes/weights for ∫Dz over z > 0, with panel breaks at zc (the clip kink of m*)."""
    gx, gw = gauss_legendre(n_panel)
    breaks = [0.0]
    if zc < zmax:
        breaks += [zc]
    breaks += list(np.linspace(max(breaks[-1], 0.0), zmax, 5)[1:])
    breaks = sorted(set(breaks))
    zs, ws = [], []
    for a, b in zip(breaks[:-1], breaks[1:]):
        half = 0.5 * (b - a)
        z = a + half * (gx + 1.0)
        zs.append(z)
        ws.append(half * gw * np.exp(-0.5 * z * z - _LOG_SQRT_2PI))
    return np.concatenate(zs), np.concatenate(ws)


class _SignRefModel:
    def __init__(self, ref: StochasticState, kappa: float, n_quad: int, n_panel: int):
        self.alpha, self.kappa, self.ref = ref.alpha, kappa, ref
        self.q0, self.hh, self.A, self.chi = ref.q0, ref.hhat, ref.A, ref.chi
        # Entropic grid: z split at 0 and ±zc (m* kinks, sign jump), η Gauss–Hermite.
        zc = self.A / np.sqrt(self.hh)
        zp, wp = _half_line_nodes(zc, n_panel)
        z = np.concatenate([-zp[::-1], zp])
        wz = np.concatenate([wp[::-1], wp])
        eta, weta = gauss_hermite(n_quad)
        self.sz = z[:, None]
        self.seta = eta[None, :]
        self.sw = wz[:, None] * weta[None, :]
        self.mstar = np.clip(np.sqrt(self.hh) * self.sz / self.A, -1.0, 1.0)
        self.sgn = np.where(self.sz >= 0, 1.0, -1.0)
        # Energetic grid: z, y Gauss–Hermite; λ*(z) of the reference.
        ze, we = gauss_hermite(n_quad)
        s0 = np.sqrt(1.0 - self.q0)
        omega = np.sqrt(self.q0) * ze
        lam = _lambda_star(omega, self.chi, s0)
        self.ez = ze[:, None]
        self.ey = ze[None, :]
        self.ew = we[:, None] * we[None, :]
        self.react = ((lam - omega) / self.chi)[:, None]   # (λ* − √q0 z)/χ

    def _h(self, qh1, rh, drh, xh):
        sD = np.sqrt(max(qh1 - rh * rh / self.hh, 0.0))
        return (rh / np.sqrt(self.hh)) * self.sz + sD * self.seta + drh * self.mstar + xh * self.sgn

    def p_of_xhat(self, qh1, rh, drh, xh) -> float:
        return float(np.sum(self.sw * self.sgn * np.tanh(self._h(qh1, rh, drh, xh))))

    def solve_xhat(self, p, qh1, rh, drh, guess) -> float:
        f = lambda xh: self.p_of_xhat(qh1, rh, drh, xh) - p  # noqa: E731
        lo, hi = guess - 0.5, guess + 0.5
        step = 1.0
        while f(lo) > 0:
            lo -= step
            step *= 2
            if lo < -1e3:
                raise ValueError(f"d={(1 - p) / 2!r}: distance not reachable (xhat < -1e3)")
        step = 1.0
        while f(hi) < 0:
            hi += step
            step *= 2
            if hi > 1e3:
                raise ValueError(f"d={(1 - p) / 2!r}: distance too small for the quadrature (xhat > 1e3)")
        return float(brentq(f, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps))

    def entropic(self, qh1, rh, drh, xh):
        h = self._h(qh1, rh, drh, xh)
        t = np.tanh(h)
        w = self.sw
        gs = float(np.sum(w * log_2cosh(h)))
        q1 = float(np.sum(w * t * t))
        r0 = float(np.sum(w * t * self.mstar))
        p = float(np.sum(w * t * self.sgn))
        dr = float(np.sum(w * t * self.sz)) / np.sqrt(self.hh) - (rh / self.hh) * (1.0 - q1)
        return gs, q1, r0, dr, p

    def energetic(self, q1, r0, dr):
        q0 = self.q0
        b = np.sqrt(max(q1 - r0 * r0 / q0, 0.0))
        s1 = np.sqrt(1.0 - q1)
        A = (r0 / np.sqrt(q0)) * self.ez + dr * self.react + b * self.ey
        x = (self.kappa - A) / s1
        lh = log_H(x)
        g = gh_from_log_h(x, lh)
        w = self.ew
        ge = float(np.sum(w * lh))
        qh1 = self.alpha * float(np.sum(w * g * g)) / (1.0 - q1)
        rh = self.alpha * float(np.sum(w * g * self.react)) / s1
        drh = self.alpha * (float(np.sum(w * g * self.ez)) / (np.sqrt(q0) * s1)
                            + (r0 / q0) * float(np.sum(w * dgh_from_gh(x, g))) / (1.0 - q1))
        return ge, qh1, rh, drh


def sign_reference_functional(model: _SignRefModel, q1, r0, dr, p, qh1, rh, drh, xh) -> float:
    """The RS functional V of the module docstring, not extremized (for stationarity checks)."""
    ge = model.energetic(q1, r0, dr)[0]
    gs = model.entropic(qh1, rh, drh, xh)[0]
    return -0.5 * qh1 * (1.0 - q1) - drh * r0 - rh * dr - xh * p + gs + model.alpha * ge


def _solve(model, p, state, tol, damping, max_iter, fixed_xhat=None):
    st = dict(state)

    def update(v):
        q1, r0, dr = min(float(v[0]), 1.0 - 1e-14), float(v[1]), float(v[2])
        _, qh1, rh, drh = model.energetic(q1, r0, dr)
        if fixed_xhat is None:
            st["xhat"] = model.solve_xhat(p, qh1, rh, drh, st["xhat"])
        else:
            st["xhat"] = fixed_xhat
        _, q1n, r0n, drn, _ = model.entropic(qh1, rh, drh, st["xhat"])
        return np.array([q1n, r0n, drn])

    label = "free" if fixed_xhat is not None else f"d={(1 - p) / 2:.6g}"
    rep = fixed_point(update, [st["q1"], st["r0"], st["dr"]], damping=damping, tol=tol,
                      max_iter=max_iter, name=f"sign_reference_local_entropy(alpha={model.alpha}, {label})")
    q1, r0, dr = (float(v) for v in rep.x)
    ge, qh1, rh, drh = model.energetic(q1, r0, dr)
    xh = st["xhat"] if fixed_xhat is not None else model.solve_xhat(p, qh1, rh, drh, st["xhat"])
    gs, _, _, _, pp = model.entropic(qh1, rh, drh, xh)
    if fixed_xhat is not None:
        p = pp
    ent = -0.5 * qh1 * (1.0 - q1) - drh * r0 - rh * dr - xh * p + gs + model.alpha * ge
    out = {"q1": q1, "r0": r0, "dr": dr, "p": p, "qhat1": qh1, "rhohat": rh, "drhat": drh, "xhat": xh,
           "entropy": ent}
    return out, rep


@dataclass(frozen=True)
class SignReferenceCurve(LocalEntropyCurve):
    """:class:`LocalEntropyCurve` around sign(m*), plus ``free_distance``/``free_entropy``
    (the unconstrained point, x̂ = 0) and ``stochastic_reference`` (the m* state).

    Entries whose distance has no RS solution (x̂ → ∞: no binary solution that
    close to sign(m*)) have ``entropy = -inf`` and ``converged = False``;
    entries whose value changes by more than ``check_tol`` under a finer
    quadrature are reported as NaN with ``converged = False``.
    """

    free_distance: float = float("nan")
    free_entropy: float = float("nan")
    stochastic_reference: StochasticState | None = None


def sign_reference_local_entropy(
    alpha: float,
    q0: float,
    d,
    kappa: float = 0.0,
    *,
    n_quad: int = 61,
    n_panel: int = 24,
    tol: float = 1e-10,
    damping: float = 0.3,
    max_iter: int = 5000,
    max_step: float = 0.3,
    check_tol: float | None = 1e-5,
) -> SignReferenceCurve:
    """Local entropy V(d) of binary solutions (margin κ) at distance d from sign(m*).

    m* is the RS β → ∞ minimizer of the CLT loss at load α and polarization q0
    (:func:`~stochsyn.theory.stochastic_measure.stochastic_ground_state`).
    The saddle point is first solved without the distance constraint (x̂ = 0:
    the typical distance of a typical solution from sign(m*), where V equals
    the Gardner entropy, the maximum of V) and continued from there to each
    requested d. Below the smallest distance at which binary solutions exist
    the RS solution disappears (x̂ → ∞) and V = −∞ is reported.

    Parameters
    ----------
    alpha : load, > 0; q0 : polarization of the reference, in (0, 1).
    d : distance or 1-D array of distances in (0, 1/2).
    kappa : margin of the counted solutions (default 0).
    n_quad : Gauss–Hermite nodes (default 61); n_panel : Gauss–Legendre nodes
        per panel of the z half-lines (default 24).
    tol, damping, max_iter, max_step : as in :func:`~stochsyn.theory.franz_parisi.franz_parisi`
        (defaults 1e-10, 0.3, 5000, 0.3).
    check_tol : each point is re-solved with 1.6× finer quadrature and
        reported as NaN if V moves by more than this (default 1e-5; None skips
        the check).

    ``order`` holds q1, r0, dr, p, qhat1, rhohat, drhat, xhat; ``reference``
    is the Gardner state.
    """
    alpha = V.real("alpha", alpha, lo=0.0, lo_open=True)
    q0 = V.real("q0", q0, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    kappa = V.real("kappa", kappa)
    n_quad = V.count("n_quad", n_quad, lo=8)
    n_panel = V.count("n_panel", n_panel, lo=2)
    dd = np.atleast_1d(np.asarray(d, dtype=float))
    if dd.ndim != 1 or dd.size == 0 or not np.all((dd > 0) & (dd < 0.5)):
        raise ValueError(f"d={d!r}: expected a distance or 1-D array of distances in (0, 0.5)")
    ref = stochastic_ground_state(alpha, q0)
    model = _SignRefModel(ref, kappa, n_quad, n_panel)
    fine = None
    if check_tol is not None:
        fine = _SignRefModel(ref, kappa, int(1.6 * n_quad) | 1, int(1.6 * n_panel))
    gard = gardner_entropy(alpha, kappa)
    free, _ = _solve(model, None, {"q1": gard.q, "r0": 0.0, "dr": 0.0, "xhat": 0.0}, tol, damping,
                     max_iter, fixed_xhat=0.0)
    d_free = 0.5 * (1.0 - free["p"])
    start = {"q1": free["q1"], "r0": free["r0"], "dr": free["dr"], "xhat": 0.0}
    done: dict[float, tuple[dict, SaddleReport | None]] = {}
    state = dict(start)
    going_up = False
    dead = False  # below the smallest reachable distance
    keys = ("q1", "r0", "dr", "p", "qhat1", "rhohat", "drhat", "xhat")
    nan_row = {k: float("nan") for k in keys}
    for dv in continuation_grid(d_free, dd, max_step=max_step):
        if dv >= d_free and not going_up:
            state, going_up, dead = dict(start), True, False
        if dead:
            done[dv] = ({**nan_row, "entropy": -np.inf}, None)
            continue
        try:
            out, rep = _solve(model, 1.0 - 2.0 * dv, state, tol, damping, max_iter)
        except (ValueError, SaddlePointError):
            dead = not going_up
            done[dv] = ({**nan_row, "entropy": -np.inf if not going_up else np.nan}, None)
            continue
        state = {k: out[k] for k in ("q1", "r0", "dr", "xhat")}
        ok = rep.converged
        if fine is not None:
            try:
                chk, _ = _solve(fine, 1.0 - 2.0 * dv, state, tol, damping, max_iter)
                ok = ok and abs(chk["entropy"] - out["entropy"]) <= check_tol
            except (ValueError, SaddlePointError):
                ok = False
            if not ok and not going_up:
                # the finer rule finds no solution this close: treat as beyond the edge
                out = {**nan_row, "entropy": np.nan}
        done[dv] = (out, rep if ok else None)
    rows = [done[float(v)] for v in dd]
    return SignReferenceCurve(
        alpha=alpha, kappa=kappa, d=dd.copy(),
        entropy=np.array([r[0]["entropy"] for r in rows], dtype=float),
        order={k: np.array([r[0][k] for r in rows], dtype=float) for k in keys},
        converged=np.array([r[1] is not None and r[1].converged for r in rows]),
        reference=gard, reports=tuple(r[1] for r in rows if r[1] is not None),
        free_distance=d_free, free_entropy=float(free["entropy"]), stochastic_reference=ref,
    )
