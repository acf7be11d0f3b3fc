"""Franz–Parisi potential of the binary perceptron around typical solutions.

Local entropy of the solutions W at normalized Hamming distance d from a
reference W̃ drawn from the uniform (equilibrium) measure on the solutions
(Franz & Parisi 1995; Huang & Kabashima, PRE 90, 052813, 2014, arXiv:1408.1784):

    V(d) = (1/N) E_ξ Σ_{W̃} X(W̃)/Z · ln Σ_W X(W) δ(W·W̃ − N p),   p = 1 − 2d,

with X(W) = Π_μ θ(σ^μ W·ξ^μ/√N − κ). Replica-symmetric evaluation (n → 0
reference replicas with overlap q0, s → 0 constrained replicas): order
parameters q1 (among the W's), p (W with its own reference, fixed), t (W
with the other reference replicas); conjugates q̂1, x̂, t̂. The reference
state (q0, q̂0) is Gardner's saddle point. With
Δ̂ = q̂1 − t̂²/q̂0, h = (t̂/√q̂0) z + √Δ̂ y + (x̂ − t̂) w̃ and
P(w̃|z) = (1 + w̃ tanh(√q̂0 z))/2:

    G_S = ∫Dz Σ_w̃ P(w̃|z) ∫Dy ln 2cosh h,

and with u* = (κ − √q0 z)/√(1−q0), u drawn from Du restricted to u > u*,
a_z = t/√q0, a_u = (p − t)/√(1−q0), a_y = √(q1 − a_z² − a_u²),
A = a_z z + a_u u + a_y y, x = (κ − A)/√(1−q1):

    G_E = ∫Dz ∫Du θ(u − u*)/H(u*) ∫Dy ln H(x),

    V = −q̂1(1−q1)/2 + t̂ t − x̂ p + G_S + α G_E .

Saddle-point equations (derivations in docs/theory.md):

    q1 = E_S[tanh² h],   p = E_S[w̃ tanh h],
    t  = −E_S[tanh h (z/√q̂0 − w̃)] + (t̂/q̂0)(1 − q1),
    q̂1 = α/(1−q1) E_E[GH(x)²],
    t̂ = −α { E_E[GH(x)(z/√q0 − u/√(1−q0))]/√(1−q1)
              + (t/q0 − (p−t)/(1−q0)) E_E[GH'(x)]/(1−q1) }.

Limiting case: at the typical distance d0 = (1 − q0)/2 the unconstrained
point q1 = t = p = q0, q̂1 = t̂ = x̂ = q̂0 solves the equations and V = the
Gardner entropy. For d → 0, V < 0 for every α > 0: typical solutions are
isolated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from .. import validation as V
from .gardner import GardnerState, gardner_entropy
from .gaussian import dgh_from_gh, gauss_hermite, gh_from_log_h, log_2cosh, log_H, truncated_normal_nodes
from .saddle import SaddlePointError, SaddleReport, fixed_point

__all__ = ["LocalEntropyCurve", "franz_parisi", "franz_parisi_functional", "continuation_grid"]


@dataclass(frozen=True)
class LocalEntropyCurve:
    """Local entropy as a function of the distance d (one entry per requested d).

    ``d``: distances (as requested, in the requested order); ``entropy``: local
    entropy per synapse; ``order``: dict of arrays of the saddle-point order
    parameters; ``converged``: per-d convergence flags; ``reports``: per-d
    :class:`SaddleReport` of the converged points (in order); ``reference``: the reference state (Gardner for the
    Franz–Parisi potential); ``alpha``, ``kappa``: control parameters.
    """

    alpha: float
    kappa: float
    d: np.ndarray
    entropy: np.ndarray
    order: dict[str, np.ndarray]
    converged: np.ndarray
    reference: GardnerState | None = None
    reports: tuple[SaddleReport, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict:
        """JSON-friendly summary."""
        return {
            "alpha": self.alpha,
            "kappa": self.kappa,
            "d": self.d.tolist(),
            "entropy": self.entropy.tolist(),
            "order": {k: v.tolist() for k, v in self.order.items()},
            "converged": self.converged.tolist(),
            "reference": None if self.reference is None else self.reference.as_dict(),
        }


def continuation_grid(start: float, targets: np.ndarray, *, max_step: float = 0.2) -> list[float]:
    """Distances visited when continuing a solution from ``start`` to every target.

    Steps are geometric in d (relative change ``max_step``, default 0.2) on
    each side of ``start``, and include every target; the returned list first
    goes down from ``start`` then restarts from ``start`` and goes up.
    """
    below = np.sort(targets[targets < start])[::-1]
    above = np.sort(targets[targets >= start])
    path: list[float] = []
    cur = start
    for tgt in below:
        while cur * (1 - max_step) > tgt:
            cur = cur * (1 - max_step)
            path.append(cur)
        cur = float(tgt)
        path.append(cur)
    cur = start
    for tgt in above:
        while cur * (1 + max_step) < tgt:
            cur = cur * (1 + max_step)
            path.append(cur)
        cur = float(tgt)
        path.append(cur)
    return path


class _FPModel:
    """Quadrature tables and the saddle-point map for one (α, κ) reference state."""

    def __init__(self, ref: GardnerState, n_quad: int, n_panel: int):
        self.alpha = ref.alpha
        self.kappa = ref.kappa
        self.q0 = ref.q
        self.qh0 = ref.qhat
        z, wz = gauss_hermite(n_quad)
        y, wy = gauss_hermite(n_quad)
        # Entropic grid: z (axis 0), y (axis 1), w̃ = ±1 (axis 2).
        self.sz = z[:, None, None]
        self.sy = y[None, :, None]
        wt = np.array([1.0, -1.0])[None, None, :]
        self.sw = wt
        m0 = np.tanh(np.sqrt(self.qh0) * z)[:, None, None]
        self.sweight = wz[:, None, None] * wy[None, :, None] * 0.5 * (1.0 + wt * m0)
        # Energetic grid: z (axis 0), u | u > u*(z) (axis 1), y (axis 2).
        ustar = (self.kappa - np.sqrt(self.q0) * z) / np.sqrt(1.0 - self.q0)
        u, wu = truncated_normal_nodes(ustar, n_per_panel=n_panel)
        self.ez = z[:, None, None]
        self.eu = u[:, :, None]
        self.ey = y[None, None, :]
        self.eweight = wz[:, None, None] * wu[:, :, None] * wy[None, None, :]

    # -- entropic part -------------------------------------------------------
    def _h(self, qh1: float, th: float, xh: float) -> np.ndarray:
        dh = max(qh1 - th * th / self.qh0, 0.0)
        return (th / np.sqrt(self.qh0)) * self.sz + np.sqrt(dh) * self.sy + (xh - th) * self.sw

    def p_of_xhat(self, qh1: float, th: float, xh: float) -> float:
        h = self._h(qh1, th, xh)
        return float(np.sum(self.sweight * self.sw * np.tanh(h)))

    def solve_xhat(self, p: float, qh1: float, th: float, guess: float) -> float:
        f = lambda xh: self.p_of_xhat(qh1, th, xh) - p  # noqa: E731
        lo, hi = guess - 0.5, guess + 0.5
        flo, fhi = f(lo), f(hi)
        step = 1.0
        while flo > 0:
            lo -= step
            step *= 2
            flo = f(lo)
        step = 1.0
        while fhi < 0:
            hi += step
            step *= 2
            fhi = f(hi)
            if hi > 1e3:
                raise ValueError(f"d={(1 - p) / 2!r}: distance too small for the quadrature (xhat > 1e3)")
        return float(brentq(f, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps))

    def entropic(self, qh1: float, th: float, xh: float) -> tuple[float, float, float]:
        """(G_S, q1, t) at the given conjugates."""
        h = self._h(qh1, th, xh)
        th_ = np.tanh(h)
        gs = float(np.sum(self.sweight * log_2cosh(h)))
        q1 = float(np.sum(self.sweight * th_ * th_))
        t = -float(np.sum(self.sweight * th_ * (self.sz / np.sqrt(self.qh0) - self.sw)))
        t += (th / self.qh0) * (1.0 - q1)
        return gs, q1, t

    # -- energetic part ------------------------------------------------------
    def energetic(self, q1: float, t: float, p: float) -> tuple[float, float, float]:
        """(G_E, q̂1, t̂) at the given order parameters."""
        q0 = self.q0
        az = t / np.sqrt(q0)
        au = (p - t) / np.sqrt(1.0 - q0)
        ay = np.sqrt(max(q1 - az * az - au * au, 0.0))
        A = az * self.ez + au * self.eu + ay * self.ey
        s1 = np.sqrt(1.0 - q1)
        x = (self.kappa - A) / s1
        lh = log_H(x)
        g = gh_from_log_h(x, lh)
        w = self.eweight
        ge = float(np.sum(w * lh))
        wg = w * g
        qh1 = self.alpha / (1.0 - q1) * float(np.sum(wg * g))
        dge_dt = (float(np.sum(np.sum(wg, axis=(1, 2)) * self.ez[:, 0, 0])) / np.sqrt(q0)
                  - float(np.sum(wg * self.eu)) / np.sqrt(1.0 - q0)) / s1
        dge_dt += (t / q0 - (p - t) / (1.0 - q0)) * float(np.sum(w * dgh_from_gh(x, g))) / (1.0 - q1)
        return ge, qh1, -self.alpha * dge_dt


def franz_parisi_functional(
    alpha: float, kappa: float, q1: float, t: float, p: float, qhat1: float, that: float,
    xhat: float, *, n_quad: int = 41, n_panel: int = 8,
) -> float:
    """The RS functional V(q1, t, p, q̂1, t̂, x̂) of the module docstring, not extremized.

    The reference state is Gardner's saddle point at (alpha, kappa). Used to
    check stationarity of the solutions by finite differences.
    """
    model = _FPModel(gardner_entropy(alpha, kappa), n_quad, n_panel)
    ge, _, _ = model.energetic(q1, t, p)
    gs, _, _ = model.entropic(qhat1, that, xhat)
    return -0.5 * qhat1 * (1.0 - q1) + that * t - xhat * p + gs + alpha * ge


def franz_parisi(
    alpha: float,
    d,
    kappa: float = 0.0,
    *,
    n_quad: int = 41,
    n_panel: int = 8,
    tol: float = 1e-10,
    damping: float = 0.3,
    max_iter: int = 5000,
    max_step: float = 0.3,
    check_tol: float | None = 1e-6,
) -> LocalEntropyCurve:
    """Franz–Parisi local entropy V(d) around equilibrium solutions (RS).

    Solves the saddle point of the module docstring at each requested
    distance, by continuation from the typical distance d0 = (1 − q0)/2 where
    the solution is known exactly (steps of relative size ``max_step``).

    Parameters
    ----------
    alpha : load, in (0, α_c(κ)).
    d : distance or 1-D array of distances, each in (0, 1/2).
    kappa : margin of both reference and constrained solutions (default 0).
    n_quad : Gauss–Hermite nodes for each Gaussian variable (default 41).
    n_panel : Gauss–Legendre nodes per panel of the truncated variable (default 8).
    tol, damping, max_iter : fixed-point settings (defaults 1e-10, 0.3, 5000).
    max_step : relative step of the continuation in d (default 0.3).
    check_tol : each point is re-solved with a 1.5× finer quadrature (starting
        from the converged state) and reported as NaN with ``converged=False``
        if V moves by more than this (default 1e-6; None skips the check, which
        halves the cost). Very small d at large α is where this triggers.

    Returns a :class:`LocalEntropyCurve` with ``order`` keys q1, t, p, qhat1,
    that, xhat. A point that does not converge, or fails the quadrature check,
    has ``entropy = NaN`` and ``converged = False``.
    """
    alpha = V.real("alpha", alpha, lo=0.0, lo_open=True)
    kappa = V.real("kappa", kappa)
    n_quad = V.count("n_quad", n_quad, lo=8)
    n_panel = V.count("n_panel", n_panel, lo=2)
    dd = np.atleast_1d(np.asarray(d, dtype=float))
    if dd.ndim != 1 or dd.size == 0 or not np.all((dd > 0) & (dd < 0.5)):
        raise ValueError(f"d={d!r}: expected a distance or 1-D array of distances in (0, 0.5)")
    ref = gardner_entropy(alpha, kappa)
    if ref.entropy < 0:
        # the reference is a typical solution, and above α_c there are none (RS entropy < 0)
        from .gardner import capacity

        raise ValueError(
            f"alpha={alpha!r} is above the capacity alpha_c(kappa={kappa:g}) = {capacity(kappa):.4f}: "
            f"the Gardner entropy is {ref.entropy:.4f} < 0, so there are no typical solutions to expand around"
        )
    model = _FPModel(ref, n_quad, n_panel)
    d0 = ref.typical_distance
    fine = None
    if check_tol is not None:
        fine = _FPModel(ref, int(1.5 * n_quad) | 1, int(1.5 * n_panel))
    results = _continue(model, d0, dd, tol, damping, max_iter, max_step, fine, check_tol)
    return _collect(alpha, kappa, dd, results, ref)


def _solve_at(model: _FPModel, p: float, state: dict, tol: float, damping: float,
              max_iter: int) -> tuple[dict, SaddleReport]:
    st = dict(state)

    def update(v: np.ndarray) -> np.ndarray:
        q1, t = float(v[0]), float(v[1])
        q1 = min(q1, 1.0 - 1e-14)
        _, qh1, th = model.energetic(q1, t, p)
        st["xhat"] = model.solve_xhat(p, qh1, th, st["xhat"])
        _, q1n, tn = model.entropic(qh1, th, st["xhat"])
        return np.array([q1n, tn])

    rep = fixed_point(update, [st["q1"], st["t"]], damping=damping, tol=tol, max_iter=max_iter,
                      name=f"franz_parisi(alpha={model.alpha}, d={(1 - p) / 2:.6g})")
    q1, t = float(rep.x[0]), float(rep.x[1])
    ge, qh1, th = model.energetic(q1, t, p)
    xh = model.solve_xhat(p, qh1, th, st["xhat"])
    gs, _, _ = model.entropic(qh1, th, xh)
    ent = -0.5 * qh1 * (1.0 - q1) + th * t - xh * p + gs + model.alpha * ge
    out = {"q1": q1, "t": t, "p": p, "qhat1": qh1, "that": th, "xhat": xh, "entropy": ent}
    return out, rep


def _continue(model: _FPModel, d0: float, targets: np.ndarray, tol: float, damping: float,
              max_iter: int, max_step: float, fine: _FPModel | None = None,
              check_tol: float | None = None) -> dict[float, tuple[dict, SaddleReport | None]]:
    q0, qh0 = model.q0, model.qh0
    start = {"q1": q0, "t": q0, "xhat": qh0}
    done: dict[float, tuple[dict, SaddleReport | None]] = {}
    state = dict(start)
    going_up = False
    nan_row = {k: float("nan") for k in ("q1", "t", "p", "qhat1", "that", "xhat", "entropy")}
    for dv in continuation_grid(d0, targets, max_step=max_step):
        if dv >= d0 and not going_up:
            state, going_up = dict(start), True
        try:
            out, rep = _solve_at(model, 1.0 - 2.0 * dv, state, tol, damping, max_iter)
        except (ValueError, SaddlePointError):
            done[dv] = (dict(nan_row), None)
            continue
        state = {"q1": out["q1"], "t": out["t"], "xhat": out["xhat"]}
        if fine is not None:
            try:
                chk, _ = _solve_at(fine, 1.0 - 2.0 * dv, state, tol, damping, max_iter)
                ok = abs(chk["entropy"] - out["entropy"]) <= check_tol
            except (ValueError, SaddlePointError):
                ok = False
            if not ok:
                done[dv] = ({**out, "entropy": float("nan")}, None)
                continue
        done[dv] = (out, rep)
    return done


def _collect(alpha, kappa, dd, results, ref) -> LocalEntropyCurve:
    keys = ("q1", "t", "p", "qhat1", "that", "xhat")
    rows = [results[float(v)] for v in dd]
    order = {k: np.array([r[0][k] for r in rows], dtype=float) for k in keys}
    return LocalEntropyCurve(
        alpha=alpha,
        kappa=kappa,
        d=dd.copy(),
        entropy=np.array([r[0]["entropy"] for r in rows], dtype=float),
        order=order,
        converged=np.array([r[1] is not None and r[1].converged for r in rows]),
        reference=ref,
        reports=tuple(r[1] for r in rows if r[1] is not None),
    )
