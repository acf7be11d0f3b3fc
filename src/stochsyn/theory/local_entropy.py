"""Local entropy of the dense regions of solutions (large deviations, finite y).

Baldassi, Ingrosso, Lucibello, Saglietti & Zecchina, PRL 115, 128101 (2015),
arXiv:1509.05753, and J. Stat. Phys. 164, 217 (2016), arXiv:1511.05634. The
reference solutions W̃ are weighted by the y-th power of their local volume,

    Z(y, d) = Σ_W̃ X(W̃) N(W̃, d)^y,   N(W̃, d) = Σ_W X(W) δ(W·W̃ − N S),   S = 1 − 2d,

Φ(y) = (1/N) E ln Z. The local entropy of the references that dominate Z is
S_I(y) = ∂Φ/∂y and the entropy of those references is Σ(y) = Φ − y S_I. As
y → ∞ the measure concentrates on the references of maximal local entropy.
We solve the RS saddle point at finite integer y ≥ 2 (no scaling ansatz) and
report S_I(y); the y → ∞ limit (the default, ``y=math.inf``) is the separate
functional of :mod:`stochsyn.theory.dense_limit`.

RS ansatz over n → 0 groups, each made of a reference W̃ and y replicas W:
Q = W̃·W̃' (different groups), S (W with its own W̃, fixed), t (W with other
groups' W̃), q1 (W–W same group), q0 (W–W different groups); conjugates
Q̂, Ŝ, t̂, q̂1, q̂0. With (g1, g2) Gaussian of covariance [[Q̂, t̂], [t̂, q̂0]],
Δ̂ = q̂1 − q̂0, a = g2 + (Ŝ − t̂) w̃ and, for integer y, the exact identity
∫Dη (2cosh(a + √Δ̂ η))^y = Σ_k C(y,k) exp((y−2k) a + (y−2k)² Δ̂/2):

    G_S = E_g ln Σ_{w̃=±1} e^{g1 w̃} Σ_k C(y,k) e^{(y−2k) a + (y−2k)² Δ̂/2}.

Stabilities: (c̃, c) Gaussian of covariance [[Q, t], [t, q0]] (shared by all
groups); per group the reference's own part √(1−Q) ũ and the W's common
part ρũ + σ_w w; per replica an independent √(1−q1) v:

    G_E = E_{c̃,c} ln ∫_{ũ>(κ−c̃)/√(1−Q)} Dũ ∫Dw H((κ − c − ρũ − σ_w w)/√(1−q1))^y,
    ρ = (S − t)/√(1−Q),  σ_w² = q1 − q0 − ρ²,

    Φ = −Q̂(1−Q)/2 + y t̂ t − y Ŝ S − y(y−1) q̂1 q1/2 − y q̂1/2 + y² q̂0 q0/2 + G_S + α G_E.

At y = 0 Φ is Gardner's entropy. ũ is integrated with the truncated-normal
composite Gauss–Legendre rule (exact truncation), w and the outer fields by
Gauss–Hermite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import gammaln, logsumexp

from .. import validation as V
from .gardner import GardnerState, gardner_entropy
from .gaussian import gauss_hermite, log_2cosh, log_H, truncated_normal_nodes
from .saddle import fixed_point, SaddlePointError, SaddleReport

__all__ = ["DenseLocalEntropy", "local_entropy_dense", "local_entropy_from_saddle"]

_ORDER = ("Q", "t", "q1", "q0")
_CONJ = ("Qhat", "that", "qhat1", "qhat0")


class _Model:
    """Quadrature tables and functionals for one (α, κ, y)."""

    def __init__(self, alpha: float, kappa: float, y: int, n_outer: int, n_inner: int, n_eta: int = 24, n_panel: int = 8):
        self.n_panel = n_panel
        self.alpha, self.kappa, self.y = alpha, kappa, int(y)
        z, wz = gauss_hermite(n_outer)
        self.z1 = z[:, None]
        self.z2 = z[None, :]
        self.w2 = wz[:, None] * wz[None, :]
        self.xi, self.wi = gauss_hermite(n_inner)
        self.xe, self.we = gauss_hermite(n_eta)
        k = np.arange(self.y + 1)
        self.m = (self.y - 2 * k).astype(float)
        self.logc = gammaln(self.y + 1) - gammaln(k + 1) - gammaln(self.y - k + 1)

    # -- entropic part ---------------------------------------------------
    def _gs_terms(self, Qh, th, Sh, qh1, qh0):
        g1 = np.sqrt(Qh) * self.z1
        g2 = (th / np.sqrt(Qh)) * self.z1 + np.sqrt(max(qh0 - th * th / Qh, 0.0)) * self.z2
        dh = max(qh1 - qh0, 0.0)
        out = []
        for wt in (1.0, -1.0):
            a = g2 + (Sh - th) * wt
            expo = self.logc + self.m * a[..., None] + 0.5 * self.m**2 * dh
            out.append((wt * g1, a, expo))
        return out, dh

    def G_S(self, Qh, th, Sh, qh1, qh0) -> float:
        terms, _ = self._gs_terms(Qh, th, Sh, qh1, qh0)
        parts = [s + logsumexp(e, axis=-1) for s, _, e in terms]
        return float(np.sum(self.w2 * np.logaddexp(parts[0], parts[1])))

    def dGS_dy(self, Qh, th, Sh, qh1, qh0) -> float:
        """Explicit y-derivative of G_S: tilted average of ln 2cosh(a + √Δ̂ η)."""
        terms, dh = self._gs_terms(Qh, th, Sh, qh1, qh0)
        sd = np.sqrt(dh)
        logs, avgs = [], []
        for s, a, e in terms:
            lse = logsumexp(e, axis=-1)
            rho = np.exp(e - lse[..., None])  # weight of the k-th Gaussian component
            eta = self.m[:, None] * sd + self.xe[None, :]  # component means + GH nodes
            L = log_2cosh(a[..., None, None] + sd * eta)
            avgs.append(np.sum(rho * np.tensordot(L, self.we, axes=([-1], [0])), axis=-1))
            logs.append(s + lse)
        p_plus = np.exp(logs[0] - np.logaddexp(logs[0], logs[1]))
        return float(np.sum(self.w2 * (p_plus * avgs[0] + (1 - p_plus) * avgs[1])))

    # -- energetic part ----------------------------------------------------
    def G_E(self, Q, t, q1, q0, S, y=None) -> float:
        """Energetic term with the reference's own stability ũ as a truncated normal.

        ũ ~ N(0, 1−Q) above κ − c̃ (composite Gauss–Legendre, exact truncation);
        the W's common part is ρ ũ + σ_w w with ρ = (S−t)/(1−Q),
        σ_w² = q1 − q0 − (S−t)²/(1−Q), w by Gauss–Hermite.
        """
        y = self.y if y is None else y
        ct = np.sqrt(Q) * self.z1
        c = (t / np.sqrt(Q)) * self.z1 + np.sqrt(max(q0 - t * t / Q, 0.0)) * self.z2
        sq = np.sqrt(1.0 - Q)
        lower = (self.kappa - ct) / sq
        ub, wu = truncated_normal_nodes(np.broadcast_to(lower, self.w2.shape), n_per_panel=self.n_panel)
        rho = (S - t) / sq
        sw = np.sqrt(max(q1 - q0 - rho * rho, 0.0))
        s = np.sqrt(1.0 - q1)
        x = (self.kappa - c[..., None, None] - rho * ub[..., None] - sw * self.xi) / s
        lw = np.log(wu)[..., None] + np.log(self.wi)
        val = log_H(lower) + logsumexp(y * log_H(x) + lw, axis=(-2, -1))
        return float(np.sum(self.w2 * val))


def _phi(model: _Model, o: dict, S: float, Sh: float) -> float:
    y = model.y
    return (-0.5 * o["Qhat"] * (1 - o["Q"]) + y * o["that"] * o["t"] - y * Sh * S
            - 0.5 * y * (y - 1) * o["qhat1"] * o["q1"] - 0.5 * y * o["qhat1"]
            + 0.5 * y * y * o["qhat0"] * o["q0"]
            + model.G_S(o["Qhat"], o["that"], Sh, o["qhat1"], o["qhat0"])
            + model.alpha * model.G_E(o["Q"], o["t"], o["q1"], o["q0"], S))


def _grad(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h * max(0.01, abs(x[i]))
        g[i] = (f(x + e) - f(x - e)) / (2 * e[i])
    return g


def _conj_from_order(model: _Model, o: np.ndarray, S: float) -> np.ndarray:
    """Q̂, t̂, q̂1, q̂0 from ∂Φ/∂(Q, t, q1, q0) = 0 (G_E gradient by central differences)."""
    y, al = model.y, model.alpha
    g = _grad(lambda v: model.G_E(v[0], v[1], v[2], v[3], S), np.asarray(o, float))
    return np.array([-2 * al * g[0], -al * g[1] / y, 2 * al * g[2] / (y * (y - 1)), -2 * al * g[3] / y**2])


def _in_domain(o: np.ndarray, S: float) -> bool:
    """Order parameters (Q, t, q1, q0) for which the Gaussian representation of G_E is real."""
    Q, t, q1, q0 = (float(v) for v in o)
    return bool(0 < Q < 1 and q0 < q1 < 1 and Q * q0 >= t * t
                and (1 - Q) * (q1 - q0) >= (S - t) ** 2 and np.all(np.isfinite(o)))


def _clip_conj(c: np.ndarray) -> tuple[np.ndarray, bool]:
    """Project (Q̂, t̂, q̂1, q̂0) into the domain where the Gaussian fields are real.

    Needs Q̂ > 0, t̂² ≤ Q̂ q̂0 and q̂1 ≥ q̂0. Far from the saddle point the map can
    leave this domain; the projection keeps the iteration going, and a fixed
    point on which it is still active is reported as not converged.
    """
    c = np.array(c, dtype=float)
    clipped = False
    if c[3] <= 0:
        c[3], clipped = 1e-5, True
    if c[0] <= 0:
        c[0], clipped = 1e-5, True
    if c[1] ** 2 > c[0] * c[3]:
        c[1], clipped = np.sign(c[1]) * np.sqrt(c[0] * c[3]) * (1 - 1e-12), True
    if c[2] < c[3]:
        c[2], clipped = c[3], True
    return c, clipped


def _overlap_S(model: _Model, c: np.ndarray, Sh: float, h: float = 1e-6) -> float:
    return (model.G_S(c[0], c[1], Sh + h, c[2], c[3]) - model.G_S(c[0], c[1], Sh - h, c[2], c[3])) / (2 * h * model.y)


def _solve_Shat(model: _Model, c: np.ndarray, S: float, guess: float) -> float:
    """Ŝ such that ∂G_S/∂Ŝ = y S (G_S is convex in Ŝ, so this is monotone)."""
    f = lambda sh: _overlap_S(model, c, sh) - S  # noqa: E731
    lo, hi, step = guess - 0.5, guess + 0.5, 1.0
    while f(lo) > 0:
        lo, step = lo - step, 2 * step
        if step > 1e4:
            raise SaddlePointError("no Ŝ below", None)  # type: ignore[arg-type]
    step = 1.0
    while f(hi) < 0:
        hi, step = hi + step, 2 * step
        if step > 1e4:
            raise SaddlePointError("no Ŝ above", None)  # type: ignore[arg-type]
    return float(brentq(f, lo, hi, xtol=1e-13))


def _order_from_conj(model: _Model, c: np.ndarray, Sh: float) -> np.ndarray:
    """Q, t, q1, q0 from ∂Φ/∂(Q̂, t̂, q̂1, q̂0) = 0 (G_S gradient by central differences)."""
    y = model.y
    g = _grad(lambda v: model.G_S(v[0], v[1], Sh, v[2], v[3]), np.asarray(c, float))
    return np.array([1 - 2 * g[0], -g[1] / y, (2 * g[2] - y) / (y * (y - 1)), -2 * g[3] / y**2])


@dataclass(frozen=True)
class DenseLocalEntropy:
    """RS saddle point of the large-deviation measure at finite y (one distance).

    ``local_entropy``: S_I = ∂Φ/∂y (local entropy of the dominant references);
    ``free_entropy``: Φ(y); ``external_entropy``: Σ = Φ − y S_I (entropy of
    the dominant references); ``order``: Q, t, q1, q0, Qhat, that, qhat1,
    qhat0, Shat; ``report``: :class:`SaddleReport` of the fixed point.
    """

    alpha: float
    kappa: float
    y: int | float
    d: float
    local_entropy: float
    free_entropy: float
    external_entropy: float
    order: dict
    report: SaddleReport | None = field(repr=False, default=None)
    #: y = ∞ beyond the break-up α_U: the value is the plateau of the X = 0 cluster state
    #: (:func:`stochsyn.theory.dense_limit.cluster_state`), and ``branch_local_entropy`` keeps
    #: the X > 0 branch's value (NaN where that branch has no solution).
    plateau: bool = False
    branch_local_entropy: float = math.nan

    @property
    def entropy(self) -> float:
        """Alias of ``local_entropy`` (the name the other theory curves use)."""
        return self.local_entropy

    @property
    def converged(self) -> bool:
        """Whether the fixed-point iteration met its tolerance inside the domain (a plateau
        value comes from the converged cluster state)."""
        return self.plateau or (self.report is not None and self.report.converged)

    def as_dict(self) -> dict:
        """JSON-friendly summary."""
        saddle = None if self.report is None else self.report.as_dict()
        if self.plateau:
            saddle = {"converged": True, "plateau": True, "branch_local_entropy": self.branch_local_entropy}
        return {"alpha": self.alpha, "kappa": self.kappa,
                "y": self.y if math.isfinite(self.y) else "inf", "d": self.d,
                "local_entropy": self.local_entropy, "free_entropy": self.free_entropy,
                "external_entropy": self.external_entropy, "order": dict(self.order),
                "saddle": saddle}


def _initial_guess(ref: GardnerState, S: float) -> np.ndarray:
    """A point inside the domain: Q = q_G, t = q_G S, q1 = S² + (1−S²)/2, q0 mid-range."""
    q = ref.q
    t = q * S
    q1 = S * S + 0.5 * (1 - S * S)
    lo, hi = t * t / q, q1 - (S - t) ** 2 / (1 - q)
    return np.array([q, t, q1, 0.5 * (lo + hi)])


def _fit_start(start: dict, S: float, ref: GardnerState) -> np.ndarray:
    """Use ``start`` (from another d or y) with q0 moved inside the domain for this S.

    The domain (1−Q)(q1−q0) ≥ (S−t)², Q q0 ≥ t² depends on S, so a solution at
    a nearby distance can lie outside it; q0 is then put mid-range, and if the
    range is empty the generic guess is used.
    """
    x = np.array([start[k] for k in _ORDER], dtype=float)
    if _in_domain(x, S):
        return x
    Q, t, q1, _ = x
    lo, hi = t * t / Q, q1 - (S - t) ** 2 / (1 - Q)
    if 0 < Q < 1 and q1 < 1 and lo < hi:
        return np.array([Q, t, q1, 0.5 * (lo + hi)])
    return _initial_guess(ref, S)


def local_entropy_dense(
    alpha: float,
    d: float,
    kappa: float = 0.0,
    *,
    y: int | float = math.inf,
    n_outer: int = 24,
    n_inner: int = 20,
    n_panel: int = 8,
    damping: float = 0.7,
    tol: float = 1e-8,
    max_iter: int = 400,
    start: dict | None = None,
) -> DenseLocalEntropy:
    """Local entropy of the references dominating Z(y, d) = Σ_W̃ X(W̃) N(W̃, d)^y (RS).

    With the default ``y = math.inf`` this is the maximal local entropy S_∞(d)
    of :func:`stochsyn.theory.dense_limit.local_entropy_max` (``start`` is then
    an ``order`` dict of that function; the quadrature/damping options of the
    finite-y solver are ignored). With an integer y ≥ 2 it is the finite-y
    saddle point described below.

    Baldassi et al., PRL 115, 128101 (2015); J. Stat. Phys. 164, 217 (2016).
    Solves the saddle point of the module docstring's Φ at fixed S = 1 − 2d by
    damped iteration on (Q, t, q1, q0) (conjugates from the energetic
    gradient, Ŝ by Brent so that the overlap is S, then the order parameters
    from the entropic gradient; gradients by central differences).
    S_I = ∂Φ/∂y is evaluated explicitly at the saddle (envelope theorem).

    Parameters
    ----------
    alpha : load, in (0, α_c(κ)).
    d : normalized Hamming distance between a reference and its W's, in (0, 1/2).
    kappa : margin of all solutions (default 0).
    y : number of replicas per reference: ``math.inf`` (default, the y → ∞
        limit) or an integer ≥ 2. At α = 0.5, d = 0.05 the finite-y iteration
        converges for y ≤ 5 and not beyond (docs/theory.md §6).
    n_outer : Gauss–Hermite nodes per outer Gaussian variable (default 24).
    n_inner : Gauss–Hermite nodes of the inner Gaussian variables (default 20).
    n_panel : Gauss–Legendre nodes per panel of the truncated variable (default 8).
    damping, tol, max_iter : fixed-point settings (defaults 0.7, 1e-8, 400).
    start : optional dict with Q, t, q1, q0 (e.g. the ``order`` of a nearby
        solution) to start from (default: a guess built from Gardner's q at
        y = 2, and for y > 2 the solution at y − 1, found the same way — the
        generic guess does not converge beyond y = 2).

    Raises :class:`SaddlePointError` if the iteration does not converge.
    """
    if isinstance(y, float) and math.isinf(y) and y > 0:
        from .dense_limit import LIMIT_ORDER, local_entropy_max

        # a finite-y ``order`` (Q, t, …) is no start for the limit's parameters
        usable = start is not None and all(k in start for k in LIMIT_ORDER)
        return local_entropy_max(alpha, d, kappa, start=start if usable else None)
    alpha = V.real("alpha", alpha, lo=0.0, lo_open=True)
    kappa = V.real("kappa", kappa)
    d = V.real("d", d, lo=0.0, hi=0.5, lo_open=True, hi_open=True)
    y = V.count("y", y, lo=2)
    n_outer = V.count("n_outer", n_outer, lo=4)
    n_inner = V.count("n_inner", n_inner, lo=4)
    n_panel = V.count("n_panel", n_panel, lo=2)
    S = 1.0 - 2.0 * d
    ref = gardner_entropy(alpha, kappa)
    model = _Model(alpha, kappa, y, n_outer, n_inner, n_panel=n_panel)
    if start is None and y > 2:
        # The generic guess is only good enough at y = 2: continue in y from there.
        start = local_entropy_dense(alpha, d, kappa, y=y - 1, n_outer=n_outer, n_inner=n_inner,
                                    n_panel=n_panel, damping=damping, tol=tol, max_iter=max_iter).order
    x0 = _initial_guess(ref, S) if start is None else _fit_start(start, S, ref)
    state: dict[str, Any] = {"Sh": 1.0, "c": None, "clipped": False}

    def update(o: np.ndarray) -> np.ndarray:
        if not _in_domain(o, S):
            return np.full(4, np.nan)
        try:
            c, state["clipped"] = _clip_conj(_conj_from_order(model, o, S))
            sh = _solve_Shat(model, c, S, state["Sh"])
        except (ValueError, SaddlePointError):
            return np.full(4, np.nan)
        state["Sh"] = sh
        state["c"] = c
        return _order_from_conj(model, c, sh)

    # As y grows the saddle point approaches the boundary σ_w² = 0 (the W's common part
    # locks onto their reference), where plain damping overshoots: steps stay in the domain.
    rep = fixed_point(update, x0, damping=damping, tol=tol, max_iter=max_iter, domain=lambda x: _in_domain(x, S),
                      name=f"local_entropy_dense(alpha={alpha}, d={d}, y={y})")
    o = rep.x
    c, clipped = _clip_conj(_conj_from_order(model, o, S))
    if clipped:
        # The fixed point sits on the boundary of the real Gaussian representation
        # (M = [[Q̂, t̂], [t̂, q̂0]] not positive): not a genuine saddle point.
        rep = SaddleReport(rep.x, False, rep.iterations, rep.residual, rep.damping, rep.tol, rep.residuals)
    Sh = _solve_Shat(model, c, S, state["Sh"])
    od = dict(zip(_ORDER, map(float, o))) | dict(zip(_CONJ, map(float, c))) | {"Shat": Sh}
    phi = _phi(model, od, S, Sh)
    s_i = local_entropy_from_saddle(model, od, S)
    return DenseLocalEntropy(alpha, kappa, y, d, s_i, phi, phi - y * s_i, od, rep)


def local_entropy_from_saddle(model: _Model, od: dict, S: float, h: float = 1e-5) -> float:
    """S_I = ∂Φ/∂y at fixed order parameters (explicit y-dependence only)."""
    y = model.y
    trace = (od["that"] * od["t"] - od["Shat"] * S - 0.5 * (2 * y - 1) * od["qhat1"] * od["q1"]
             - 0.5 * od["qhat1"] + y * od["qhat0"] * od["q0"])
    gs = model.dGS_dy(od["Qhat"], od["that"], od["Shat"], od["qhat1"], od["qhat0"])
    args = (od["Q"], od["t"], od["q1"], od["q0"], S)
    ge = (model.G_E(*args, y=y + h) - model.G_E(*args, y=y - h)) / (2 * h)
    return trace + gs + model.alpha * ge
