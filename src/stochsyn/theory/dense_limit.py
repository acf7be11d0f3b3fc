"""Maximal local entropy of dense regions: the y → ∞ limit of the large-deviation measure.

Baldassi, Ingrosso, Lucibello, Saglietti & Zecchina, PRL 115, 128101 (2015),
arXiv:1509.05753; J. Stat. Phys. 164, 217 (2016), arXiv:1511.05634. The finite-y
functional Φ(y) of :mod:`stochsyn.theory.local_entropy` grows like y S_∞ + O(1)
and S_I(y) = ∂Φ/∂y → S_∞, the local entropy of the densest references.

Scaling (derived in docs/theory.md §7). As y → ∞ the y replicas W of a group
become one cloud: q0 = q1 − δq/y (the clouds of different groups coincide to
leading order), the conjugates are q̂1 = q̂0 + δ/y, Ŝ − t̂ = X, and a group's
common fluctuations become large deviations. Writing M for the satellites'
site term and E for the pattern term (Laplace method in the group variables):

    M(a) = max_u [ ln 2cosh(a + √δ u) − u²/2 ],
    E(c) = max_A [ −A²/(2δq) + ln H((κ − c − A)/√(1−q1)) ],

    S_∞(d) = extr_{q1, δq, q̂0, δ, X} { −X S − q̂0 δq/2 − q̂0(1 − q1)/2 − δ q1/2
                                       + ∫Dz M(√q̂0 |z| + X) + α ∫Dz E(√q1 z) },

S = 1 − 2d. The reference of a group is the sign of its cloud's field
(w̃ = sign(z) after a gauge), which is why |z| appears. This is the maximum
over all references; :meth:`DenseLimitModel.center_violation` gives the
fraction of patterns the optimal reference violates — where it is 0 (small d,
including the break-up point) the constrained measure of PRL 115, 128101 has
the same S_∞, elsewhere S_∞ bounds it from above (docs/theory.md §7).
By the envelope theorem dS_∞/dd = 2X.

Saddle-point equations (a* = √q̂0|z| + X + √δ u*, m* = tanh a*, u* = √δ m*;
A*, x* = (κ − √q1 z − A*)/√(1−q1) the maximizer of E):

    S  = ⟨m*⟩,   q1 = ⟨m*²⟩,
    δq = 2G(0) m*(z=0)/√q̂0 + ⟨(1 − m*²)/(1 − δ(1 − m*²))⟩ − (1 − q1),
    q̂0 = α ⟨A*²⟩/δq²,
    δ  = q̂0 + 2α ∂⟨E⟩/∂q1,   ∂⟨E⟩/∂q1 = ⟨GH(x*) (z/√q1 − x*/√(1−q1))⟩/(2√(1−q1)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from typing import Any, Callable

import numpy as np
from scipy.optimize import brentq

from .. import validation as V
from .gaussian import G, GH, dGH, gauss_hermite, gauss_legendre, log_2cosh, log_H
from .saddle import SaddlePointError, SaddleReport, fixed_point

__all__ = ["LIMIT_ORDER", "BreakupResult", "ClusterState", "DenseLimitModel", "binary_entropy", "cluster_onset_alpha", "cluster_state",
           "local_entropy_breakup_alpha", "local_entropy_max", "local_entropy_max_curve", "slope_minimum"]

LIMIT_ORDER = ("q1", "dq", "qhat0", "delta", "X")
_G0 = float(G(0.0))


def binary_entropy(d):
    """H2(d) = −d ln d − (1−d) ln(1−d): the α → 0 local entropy (every configuration a solution)."""
    d = np.asarray(d, dtype=float)
    return -d * np.log(d) - (1 - d) * np.log1p(-d)


def _half_line(n_panel: int, panels: int = 6, reach: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Nodes/weights with Σ w f(z) ≈ ∫Dz f(|z|) = 2∫_0^∞ G(z) f(z) dz (composite Gauss–Legendre).

    The |z| kink at 0 spoils Gauss–Hermite; the neglected tail has weight 2H(10) ≈ 1.5e-23.
    """
    x, w = gauss_legendre(n_panel)
    edges = np.linspace(0.0, reach, panels + 1)
    zs, ws = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        h = 0.5 * (b - a)
        zs.append(a + h * (x + 1))
        ws.append(h * w)
    z = np.concatenate(zs)
    return z, 2.0 * np.concatenate(ws) * G(z)


class DenseLimitModel:
    """Quadrature tables and the y → ∞ functional for one (α, κ, S).

    ``n_half``: Gauss–Legendre nodes per panel of the half-line rule (6 panels
    on [0, 10]); ``n_gh``: Gauss–Hermite nodes of the energetic integral.
    """

    def __init__(self, alpha: float, kappa: float, S: float, n_half: int = 16, n_gh: int = 101):
        self.alpha, self.kappa, self.S = float(alpha), float(kappa), float(S)
        self.zh, self.wh = _half_line(n_half)
        self.ze, self.we = gauss_hermite(n_gh)

    # -- inner maximizations ------------------------------------------------
    @staticmethod
    def cloud_field(a: np.ndarray, delta: float, iters: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """u* = argmax_u [ln 2cosh(a + √δ u) − u²/2] for a ≥ 0: (u*, tanh(a + √δ u*)).

        The stationarity u = √δ tanh(a + √δ u) is iterated from u = √δ, which
        decreases monotonically to the largest root (the global maximum for
        a ≥ 0 even when δ(1 − m²) > 1 makes the objective non-concave), then
        polished by Newton steps where the objective is concave.
        """
        sd = math.sqrt(max(delta, 0.0))
        u = np.full_like(a, sd)
        for _ in range(iters):
            un = sd * np.tanh(a + sd * u)
            if np.max(np.abs(un - u)) < 1e-15:
                u = un
                break
            u = un
        for _ in range(3):
            th = np.tanh(a + sd * u)
            curv = sd * sd * (1 - th * th) - 1.0
            step = np.where(curv < -1e-3, (sd * th - u) / curv, 0.0)
            u = u - step
        return u, np.tanh(a + sd * u)

    def pattern_field(self, q1: float, dq: float, iters: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """A* = argmax_A [−A²/(2δq) + ln H((κ − √q1 z − A)/√(1−q1))] at the energetic nodes: (A*, x*).

        Strictly concave (ln H is log-concave): safeguarded Newton from A = 0.
        """
        s = math.sqrt(1.0 - q1)
        c = math.sqrt(q1) * self.ze
        A = np.zeros_like(c)
        for _ in range(iters):
            x = (self.kappa - c - A) / s
            g1 = -A / dq + GH(x) / s
            g2 = -1.0 / dq - dGH(x) / (s * s)
            step = g1 / g2
            A = A - step
            if np.max(np.abs(step)) < 1e-14 * (1 + np.max(np.abs(A))):
                break
        return A, (self.kappa - c - A) / s

    # -- functional --------------------------------------------------------------
    def entropic(self, qhat0: float, delta: float, X: float) -> float:
        """∫Dz M(√q̂0 |z| + X)."""
        a = math.sqrt(qhat0) * self.zh + X
        u, _ = self.cloud_field(a, delta)
        return float(np.sum(self.wh * (log_2cosh(a + math.sqrt(delta) * u) - 0.5 * u * u)))

    def energetic(self, q1: float, dq: float) -> float:
        """∫Dz E(√q1 z)."""
        A, x = self.pattern_field(q1, dq)
        return float(np.sum(self.we * (-0.5 * A * A / dq + log_H(x))))

    def value(self, p) -> float:
        """The functional in braces (module docstring) at p = (q1, δq, q̂0, δ, X)."""
        q1, dq, qh0, de, X = (float(v) for v in p)
        return (-X * self.S - 0.5 * qh0 * dq - 0.5 * qh0 * (1 - q1) - 0.5 * de * q1
                + self.entropic(qh0, de, X) + self.alpha * self.energetic(q1, dq))

    # -- saddle-point maps --------------------------------------------------------
    def conjugates(self, q1: float, dq: float) -> tuple[float, float]:
        """(q̂0, δ) from stationarity in δq and q1."""
        A, x = self.pattern_field(q1, dq)
        s = math.sqrt(1.0 - q1)
        qh0 = self.alpha * float(np.sum(self.we * A * A)) / dq / dq
        dE = float(np.sum(self.we * GH(x) * (self.ze / math.sqrt(q1) - x / s))) / (2 * s)
        return qh0, qh0 + 2 * self.alpha * dE

    def overlap(self, qhat0: float, delta: float, X: float) -> float:
        """⟨m*⟩: overlap of the cloud with its reference (increasing in X)."""
        _, m = self.cloud_field(math.sqrt(qhat0) * self.zh + X, delta)
        return float(np.sum(self.wh * m))

    def solve_X(self, qhat0: float, delta: float, guess: float = 1.0) -> float:
        """X ≥ 0 with ⟨m*⟩ = S (Brent); raises ValueError when ⟨m*⟩ > S already at X = 0."""
        f = lambda X: self.overlap(qhat0, delta, X) - self.S  # noqa: E731
        if f(0.0) > 0:
            raise ValueError("cloud overlap exceeds S at X = 0")
        hi = max(guess, 0.1)
        while f(hi) < 0:
            hi *= 2
            if hi > 1e3:
                raise ValueError("no X")
        return float(brentq(f, 0.0, hi, xtol=1e-14, rtol=1e-15))

    def orders(self, qhat0: float, delta: float, X: float) -> tuple[float, float]:
        """(q1, δq) from stationarity in δ and q̂0 (δq after integration by parts in |z|)."""
        sd = math.sqrt(delta)
        u, m = self.cloud_field(math.sqrt(qhat0) * self.zh + X, delta)
        q1 = float(np.sum(self.wh * m * m))
        _, m0 = self.cloud_field(np.array([X]), delta)
        chi = (1 - m * m) / (1 - sd * sd * (1 - m * m))
        dq = 2 * _G0 * float(m0[0]) / math.sqrt(qhat0) + float(np.sum(self.wh * chi)) - (1 - q1)
        return q1, dq

    def center_violation(self, q1: float, dq: float, qhat0: float) -> tuple[float, float]:
        """Fraction of patterns violated by the optimal reference w̃ = sign(cloud field); and δt.

        The reference's response to its cloud is δt = ∂/∂T̂ ∫Dz max_w̃[...] = √(2/(π q̂0)),
        so its stability is λ̃ = z + (δt/δq) A*(c) with z | c ~ N(S c/q1, 1 − S²/q1):
        P(λ̃ < κ) = ∫Dc' H((S c/q1 + (δt/δq) A*(c) − κ)/√(1 − S²/q1)), c = √q1 c'.
        Where this is 0 the reference is itself a solution and the constrained
        measure of PRL 115, 128101 has the same S_∞ (docs/theory.md §7).
        """
        from .gaussian import H

        dt = math.sqrt(2.0 / (math.pi * qhat0))
        A, _ = self.pattern_field(q1, dq)
        c = math.sqrt(q1) * self.ze
        resid = math.sqrt(max(1.0 - self.S**2 / q1, 1e-300))
        p = float(np.sum(self.we * H((self.S * c / q1 + dt / dq * A - self.kappa) / resid)))
        return p, dt

    def residual(self, p) -> np.ndarray:
        """Saddle-point residual in (q1, ln δq, ln q̂0, δ, X) (zero at the saddle point)."""
        q1, dq, qh0, de, X = (float(v) for v in p)
        qh0n, den = self.conjugates(q1, dq)
        Sm = self.overlap(qh0, de, X)
        q1n, dqn = self.orders(qh0, de, X)
        return np.array([q1n - q1, math.log(dqn / dq), math.log(qh0n / qh0), den - de, Sm - self.S])


def _map(model: DenseLimitModel, q1: float, dq: float, Xguess: float):
    """One application of the saddle-point map: (q1, δq) → (q1', δq'), with the conjugates and X.

    Returns (q1', δq', q̂0, δ, X, gap) where gap = ⟨m*⟩ − S at X = 0 when no
    X ≥ 0 fits (X is then set to 0), else 0; None where the map is undefined.
    """
    if not (0 < q1 < 1 and dq > 0 and np.isfinite(dq)):
        return None
    qh0, de = model.conjugates(q1, dq)
    if not (qh0 > 0 and np.isfinite(de)):
        return None
    de = max(de, 0.0)
    try:
        X, gap = model.solve_X(qh0, de, Xguess), 0.0
    except ValueError:
        X, gap = 0.0, model.overlap(qh0, de, 0.0) - model.S
    q1n, dqn = model.orders(qh0, de, X)
    if not (0 < q1n < 1 and dqn > 0 and np.isfinite(dqn)):
        return None
    return q1n, dqn, qh0, de, X, gap


def _fixed_point(model: DenseLimitModel, p0, damping: float, tol: float, max_iter: int) -> SaddleReport:
    """Solve (q1, ln δq) = map(q1, ln δq): Powell's hybrid method, damped iteration as fallback.

    The map is (q1, δq) → (q̂0, δ) → X (Brent, ⟨m*⟩ = S) → (q1, δq). If no
    X ≥ 0 fits (⟨m*⟩ > S already at X = 0), X = 0 is used and the overlap gap
    is part of the residual, so such a point is never reported as converged.
    """
    state = {"X": float(p0[4]) if len(p0) > 4 and np.isfinite(p0[4]) else 1.0}
    residuals: list[float] = []

    def update(v):
        # (q1, ln δq) → its image under the map; NaN where the map is undefined
        q1, ldq = float(v[0]), float(v[1])
        out = _map(model, q1, math.exp(min(ldq, 200.0)), state["X"])
        if out is None:
            return np.full(2, np.nan)
        state["X"] = out[4] if out[4] > 0 else state["X"]
        return np.array([out[0], math.log(out[1])])

    def finish(v, ok_hint: bool):
        out = _map(model, float(v[0]), math.exp(float(v[1])), state["X"])
        if out is None:
            return SaddleReport(np.array([v[0], math.exp(v[1]), np.nan, np.nan, np.nan]), False,
                                len(residuals), np.inf, float(damping), float(tol), tuple(residuals))
        res = max(abs(out[0] - v[0]), abs(math.log(out[1]) - v[1]), abs(out[5]))
        x = np.array([v[0], math.exp(v[1]), out[2], out[3], out[4]])
        return SaddleReport(x, bool(res < tol), len(residuals), float(res), float(damping), float(tol),
                            tuple(residuals))

    v0 = np.array([float(p0[0]), math.log(float(p0[1]))])
    # Powell's hybrid method after 20 damped steps (hybr needs a start inside the map's basin)
    hyb = fixed_point(update, v0, method="hybrid", damping=damping, tol=tol, max_iter=400, warmup=20,
                      raise_on_failure=False)
    residuals.extend(hyb.residuals)
    rep = finish(hyb.x, hyb.converged)
    if rep.converged:
        return rep
    damped = fixed_point(update, v0, method="damped", damping=damping, tol=tol, max_iter=int(max_iter),
                         raise_on_failure=False)
    residuals.extend(damped.residuals)
    return finish(damped.x, False)


def _generic_start(S: float) -> np.ndarray:
    """A start that converges over the range tested (cloud near the α → 0 shell, weak fields)."""
    return np.array([min(0.5 * (1 + S * S), 0.99), 3.0, np.nan, np.nan, math.atanh(min(S, 0.999))])


def local_entropy_max(
    alpha: float,
    d: float,
    kappa: float = 0.0,
    *,
    n_half: int = 16,
    n_gh: int = 101,
    damping: float = 0.5,
    tol: float = 1e-10,
    max_iter: int = 5000,
    start: dict | None = None,
):
    """Maximal (y → ∞) local entropy S_∞(d) of dense regions, RS (one distance).

    Baldassi et al., PRL 115, 128101 (2015); J. Stat. Phys. 164, 217 (2016).
    Solves the saddle point of the module docstring's functional at
    S = 1 − 2d by damped iteration and returns a
    :class:`~stochsyn.theory.local_entropy.DenseLocalEntropy` with ``y = inf``,
    ``local_entropy`` = S_∞(d), ``order`` = {q1, dq, qhat0, delta, X, plus the
    diagnostics dt and center_violation: the fraction of patterns the optimal
    reference violates, see :meth:`DenseLimitModel.center_violation`} and
    ``free_entropy``/``external_entropy`` NaN (they are O(1) corrections in y,
    not computed here).

    Parameters
    ----------
    alpha : load, > 0.
    d : normalized Hamming distance, in (0, 1/2).
    kappa : margin of the satellites' constraints (default 0).
    n_half : Gauss–Legendre nodes per panel of the half-line rule for ∫Dz f(|z|) (default 16).
    n_gh : Gauss–Hermite nodes of the energetic integral (default 101).
    damping : weight of the old iterate (default 0.5).
    tol : tolerance on the residual (max of |Δq1|, |Δ ln δq|, |⟨m*⟩ − S|) (default 1e-10).
    max_iter : iteration budget (default 5000).
    start : optional ``order`` dict of a nearby solution (default: a generic start).

    Raises :class:`SaddlePointError` if the iteration does not converge — in
    particular where no X ≥ 0 fits, i.e. beyond the break-up (S_∞(d) would have
    to decrease with d there; see :func:`local_entropy_breakup_alpha`).
    """
    from .local_entropy import DenseLocalEntropy  # the shared result type

    alpha = V.real("alpha", alpha, lo=0.0, lo_open=True)
    d = V.real("d", d, lo=0.0, hi=0.5, lo_open=True, hi_open=True)
    kappa = V.real("kappa", kappa)
    n_half = V.count("n_half", n_half, lo=4)
    n_gh = V.count("n_gh", n_gh, lo=8)
    damping = V.real("damping", damping, lo=0.0, hi=1.0, hi_open=True)
    tol = V.real("tol", tol, lo=0.0, lo_open=True)
    max_iter = V.count("max_iter", max_iter)
    S = 1.0 - 2.0 * d
    model = DenseLimitModel(alpha, kappa, S, n_half=n_half, n_gh=n_gh)
    p0 = _generic_start(S) if start is None else np.array([start[k] for k in LIMIT_ORDER], dtype=float)
    rep = _fixed_point(model, p0, damping, tol, max_iter)
    if not rep.converged:
        raise SaddlePointError(
            f"local_entropy_max(alpha={alpha}, d={d}): no convergence after {rep.iterations} iterations "
            f"(residual {rep.residual:.3g}, tol {tol:.3g})", rep)
    od = dict(zip(LIMIT_ORDER, map(float, rep.x)))
    od["center_violation"], od["dt"] = model.center_violation(od["q1"], od["dq"], od["qhat0"])
    return DenseLocalEntropy(alpha, kappa, math.inf, d, model.value(rep.x), math.nan, math.nan, od, rep)


def local_entropy_max_curve(alpha: float, d, kappa: float = 0.0, *, plateau: bool = True,
                            progress: Callable[[float], Any] | None = None, **options: Any) -> list:
    """S_∞ at each distance of ``d`` (continued from one point to the next, largest d first).

    Returns one entry per distance, in the order given: a ``DenseLocalEntropy``
    or ``None`` where the saddle point does not converge (e.g. in the gap
    beyond the break-up). ``options`` are passed to :func:`local_entropy_max`.

    With ``plateau`` (default), beyond the break-up α_U the maximal local entropy is
    max(X > 0 branch, φ0) for d ≥ d0, where φ0 is the X = 0 cluster state of
    :func:`cluster_state` at its distance d0 (docs/theory.md §7): entries with d ≥ d0
    whose branch did not converge or lies below φ0 take the plateau value
    (``plateau=True``, the branch value kept in ``branch_local_entropy``). Below α_U
    nothing changes. ``progress(d)`` is called after each distance.
    """
    from .local_entropy import DenseLocalEntropy

    ds = np.atleast_1d(np.asarray(d, dtype=float))
    order = np.argsort(-ds)
    out: list = [None] * ds.size
    start = None
    for i in order:
        try:
            r = local_entropy_max(alpha, float(ds[i]), kappa, start=start, **options)
        except SaddlePointError:
            try:  # a generic start sometimes succeeds where the continuation overshoots
                r = local_entropy_max(alpha, float(ds[i]), kappa, **options)
            except SaddlePointError:
                r = None
        if progress is not None:
            progress(float(ds[i]))
        if r is None:
            continue
        out[i] = r
        start = r.order
    if not plateau:
        return out
    try:
        state = cluster_state(alpha, kappa)
    except SaddlePointError:
        return out  # below α_U: the X > 0 branch is the whole curve
    for i, dv in enumerate(ds):
        r = out[i]
        if dv < state.d0 or (r is not None and r.converged and r.local_entropy >= state.entropy):
            continue
        out[i] = DenseLocalEntropy(
            float(alpha), float(kappa), math.inf, float(dv), state.entropy, math.nan, math.nan,
            dict(state.order, d0=state.d0), None, plateau=True,
            branch_local_entropy=math.nan if r is None else r.local_entropy,
        )
    return out


@dataclass(frozen=True)
class BreakupResult:
    """Outcome of :func:`local_entropy_breakup_alpha`.

    ``alpha``: midpoint of the final bracket; ``bracket``: (largest α with a
    monotonic curve, smallest α without); ``d_star``: distance of the minimum
    of X = ½ dS_∞/dd on the last monotonic curve; ``min_X``: that minimum;
    ``steps``: list of (α, monotonic, min X or NaN) per bisection step;
    ``alpha_linear``: the zero of the straight line through the two monotonic
    probes closest to the bracket's lower end, (α, min X) — min X(α) is close to
    linear there, and this estimate does not depend on whether a probe just
    below α_U failed for numerical reasons (X ≈ 0 makes the solver fragile).
    """

    alpha: float
    bracket: tuple[float, float]
    d_star: float
    min_X: float
    kappa: float
    steps: tuple = field(default=())
    alpha_linear: float = math.nan

    def as_dict(self) -> dict:
        """JSON-friendly summary."""
        return {"alpha": self.alpha, "bracket": list(self.bracket), "alpha_linear": self.alpha_linear,
                "d_star": self.d_star, "min_X": self.min_X, "kappa": self.kappa,
                "steps": [list(s) for s in self.steps]}


def slope_minimum(alpha: float, kappa: float = 0.0, *, d_range: tuple[float, float] = (0.005, 0.06),
                  n_grid: int = 23, **options) -> tuple[bool, float, float]:
    """Whether S_∞(d) is monotonic on ``d_range`` and the minimum of X = ½ dS_∞/dd there.

    Scans ``n_grid`` distances (default 23) from the largest down, continuing the
    saddle point; if every point converges with X > 0 the minimum is refined by
    a bounded scalar minimization around the grid minimum. Returns
    (monotonic, min X, d at the minimum); (False, NaN, NaN) when some distance
    has no saddle point with X ≥ 0 (the curve is broken there).
    """
    from scipy.optimize import minimize_scalar

    ds = np.linspace(d_range[0], d_range[1], int(n_grid))
    curve = local_entropy_max_curve(alpha, ds, kappa, plateau=False, **options)
    if any(r is None for r in curve):
        return False, math.nan, math.nan
    xs = np.array([r.order["X"] for r in curve])
    i = int(np.argmin(xs))
    lo, hi = ds[max(i - 1, 0)], ds[min(i + 1, ds.size - 1)]
    starts = {"s": curve[i].order}

    def f(dv):
        try:
            r = local_entropy_max(alpha, float(dv), kappa, start=starts["s"], **options)
        except SaddlePointError:
            return -1.0  # no X >= 0 here: the curve breaks inside the bracket
        starts["s"] = r.order
        return r.order["X"]

    if lo < hi:
        m = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-5})
        if m.fun < xs[i]:
            return bool(m.fun > 0), float(m.fun), float(m.x)
    return bool(xs[i] > 0), float(xs[i]), float(ds[i])


def local_entropy_breakup_alpha(kappa: float = 0.0, *, bracket: tuple[float, float] = (0.70, 0.80),
                                xtol: float = 1e-3, d_range: tuple[float, float] = (0.005, 0.06),
                                n_grid: int = 23, progress=None, **options) -> BreakupResult:
    """The load α_U beyond which the maximal local entropy S_∞(d) stops being monotonic in d.

    dS_∞/dd = 2X (envelope theorem), and the y → ∞ saddle point needs X ≥ 0
    (the reference is the sign of its cloud's field). Below α_U, X(d) > 0 on
    the whole curve; at α_U its minimum (near d ≈ 0.02 at κ = 0) touches 0 and
    beyond it the curve breaks into a small-d branch and a large-d branch with
    a gap between them, the small-d branch reaching higher S_∞ than the start of
    the large-d one. Found by bisection on "monotonic on ``d_range``"
    (:func:`slope_minimum`).

    Parameters
    ----------
    kappa : margin (default 0).
    bracket : (α monotonic, α not monotonic) to start from (default (0.70, 0.80); checked).
    xtol : bisection stops when the bracket is narrower (default 1e-3).
    d_range, n_grid : distances scanned for the minimum of X (defaults (0.005, 0.06), 23).
    progress : optional callable(step_dict) called after each bisection step.
    options : passed to :func:`local_entropy_max` (quadrature, tolerances).
    """
    kappa = V.real("kappa", kappa)
    xtol = V.real("xtol", xtol, lo=0.0, lo_open=True)
    lo, hi = (float(b) for b in bracket)
    if not 0 < lo < hi:
        raise ValueError(f"bracket={bracket!r}: expected 0 < low < high")
    steps = []

    def probe(a):
        ok, mx, dstar = slope_minimum(a, kappa, d_range=d_range, n_grid=n_grid, **options)
        steps.append((a, ok, mx))
        if progress is not None:
            progress({"alpha": a, "monotonic": ok, "min_X": mx, "d_star": dstar})
        return ok, mx, dstar

    ok_lo, mx_lo, d_lo = probe(lo)
    if not ok_lo:
        raise ValueError(f"bracket={bracket!r}: S_inf(d) is already not monotonic at alpha={lo}")
    ok_hi, _, _ = probe(hi)
    if ok_hi:
        raise ValueError(f"bracket={bracket!r}: S_inf(d) is still monotonic at alpha={hi}")
    while hi - lo > xtol:
        mid = 0.5 * (lo + hi)
        ok, mx, dstar = probe(mid)
        if ok:
            lo, mx_lo, d_lo = mid, mx, dstar
        else:
            hi = mid
    mono = sorted((a, mx) for a, ok, mx in steps if ok)
    lin = math.nan
    if len(mono) >= 2:
        (a1, x1), (a2, x2) = mono[-2], mono[-1]
        if x1 > x2 > 0:
            lin = a2 + x2 * (a2 - a1) / (x1 - x2)
    return BreakupResult(0.5 * (lo + hi), (lo, hi), d_lo, mx_lo, kappa, tuple(steps), lin)


@dataclass(frozen=True)
class ClusterState:
    """Outcome of :func:`cluster_state`: a saddle point of the y → ∞ functional with X = 0.

    ``entropy``: its value φ0 (internal entropy of the cluster); ``S0``: overlap
    ⟨m*⟩ of the members with the sign of the cluster's field, ``d0`` = (1 − S0)/2;
    ``order``: q1, dq, qhat0, delta (X = 0); ``report``: the solver's report.
    """

    alpha: float
    kappa: float
    entropy: float
    S0: float
    d0: float
    order: dict
    report: SaddleReport | None = field(repr=False, default=None)

    def as_dict(self) -> dict:
        """JSON-friendly summary."""
        return {"alpha": self.alpha, "kappa": self.kappa, "entropy": self.entropy, "S0": self.S0,
                "d0": self.d0, "order": dict(self.order)}


def cluster_state(alpha: float, kappa: float = 0.0, *, start: dict | None = None, n_half: int = 16,
                  n_gh: int = 101, tol: float = 1e-10) -> ClusterState:
    """The X = 0 saddle point of the y → ∞ functional: a cluster whose reference feels no pull.

    At X = 0 the functional of the module docstring no longer involves S:

        φ0 = extr_{q1, δq, q̂0, δ} { −q̂0 δq/2 − q̂0(1−q1)/2 − δ q1/2 + ∫Dz M(√q̂0 z) + α ∫Dz E(√q1 z) },

    the Parisi-parameter → ∞ limit of the 1RSB functional of the binary
    perceptron (no reference): the internal entropy of the largest clusters.
    Non-trivial solutions (δq > 0) exist only for α ≥ α_U: they are the points
    where X(d) = ½ dS_∞/dd vanishes, S0 = ⟨m*⟩ the overlap there; two of them
    above α_U (the ends of the interval where the X > 0 branches have no
    saddle point), merging at α_U (docs/theory.md §7). With X = 0 the
    reference's orientation costs nothing at order y, so any overlap
    S ≤ S0 is reached at the same φ0 (flip the reference on a random fraction of
    sites): the maximal local entropy is at least φ0 at every d ≥ d0, and
    S_∞(d) is non-decreasing in d.

    Parameters
    ----------
    alpha : load (> 0). kappa : margin (default 0).
    start : dict with q1 and dq (default: q1 = 0.94, dq = 1.3 — the small-d end at κ = 0,
        α ≈ 0.76; start from a point of the large-d branch to get the other solution).
    n_half, n_gh : quadrature as in :func:`local_entropy_max` (defaults 16, 101).
    tol : tolerance on the residual of the map (default 1e-10).

    Raises :class:`SaddlePointError` when the solver finds no non-trivial
    solution (in particular below α_U) or lands on the trivial one (δq → 0).
    """
    alpha = V.real("alpha", alpha, lo=0.0, lo_open=True)
    kappa = V.real("kappa", kappa)
    n_half = V.count("n_half", n_half, lo=4)
    n_gh = V.count("n_gh", n_gh, lo=8)
    tol = V.real("tol", tol, lo=0.0, lo_open=True)
    model = DenseLimitModel(alpha, kappa, 0.0, n_half=n_half, n_gh=n_gh)
    q1s, dqs = (0.94, 1.3) if start is None else (float(start["q1"]), float(start["dq"]))

    def update(v):
        # the X = 0 map on (q1, ln δq); a unit step away where it is undefined (as hybr expects)
        q1, ldq = float(v[0]), float(v[1])
        if not (0 < q1 < 1) or ldq > 50:
            return v + 1.0
        qh0, de = model.conjugates(q1, math.exp(ldq))
        if not (qh0 > 0 and np.isfinite(de)):
            return v + 1.0
        q1n, dqn = model.orders(qh0, max(de, 0.0), 0.0)
        if not (0 < q1n < 1 and dqn > 0):
            return v + 1.0
        return np.array([q1n, math.log(dqn)])

    hyb = fixed_point(update, np.array([q1s, math.log(dqs)]), method="hybrid", warmup=0, tol=tol,
                      max_iter=2000, raise_on_failure=False)
    res = hyb.residual
    q1, dq = float(hyb.x[0]), math.exp(float(hyb.x[1]))
    ok = res < tol and dq > 1e-6
    rep = SaddleReport(np.array([q1, dq]), bool(ok), hyb.iterations, res, 0.0, float(tol))
    if not ok:
        raise SaddlePointError(f"cluster_state(alpha={alpha}): no non-trivial X = 0 saddle point found "
                               f"(residual {res:.3g}, dq {dq:.3g})", rep)
    qh0, de = model.conjugates(q1, dq)
    S0 = model.overlap(qh0, de, 0.0)
    phi0 = model.value([q1, dq, qh0, de, 0.0])
    return ClusterState(alpha, kappa, float(phi0), float(S0), float(0.5 * (1 - S0)),
                        {"q1": q1, "dq": dq, "qhat0": float(qh0), "delta": float(de), "X": 0.0}, rep)


def cluster_onset_alpha(kappa: float = 0.0, *, bracket: tuple[float, float] = (0.70, 0.80), xtol: float = 1e-6,
                        start: dict | None = None, **options) -> tuple[float, ClusterState]:
    """α_U as the load where non-trivial X = 0 saddle points (:func:`cluster_state`) appear.

    An independent route to the break-up α of :func:`local_entropy_breakup_alpha`:
    min_d X(d) reaches 0 exactly where the X = 0 equations (which do not involve
    d) first acquire a solution — a fold, below which there is none. Bisection
    on existence, continuing the solution downwards from the bracket's upper end
    (where it must exist; ``start`` as in :func:`cluster_state`); seconds instead
    of minutes, and no scan in d.

    Parameters
    ----------
    kappa : margin (default 0).
    bracket : (α without, α with a non-trivial X = 0 saddle point) (default (0.70, 0.80); checked).
    xtol : width of the final bracket (default 1e-6).
    start : start of the solver at the upper end (default: that of :func:`cluster_state`).
    options : quadrature/tolerance keywords of :func:`cluster_state`.

    Returns (α_U, the cluster state at the smallest α where it was found; its
    ``d0`` is the distance d* where the slope of S_∞ first vanishes).
    """
    kappa = V.real("kappa", kappa)
    xtol = V.real("xtol", xtol, lo=0.0, lo_open=True)
    lo, hi = (float(b) for b in bracket)
    if not 0 < lo < hi:
        raise ValueError(f"bracket={bracket!r}: expected 0 < low < high")
    try:
        state = cluster_state(hi, kappa, start=start, **options)
    except SaddlePointError as exc:
        raise ValueError(f"bracket={bracket!r}: no non-trivial X = 0 saddle point at alpha={hi}") from exc
    try:
        cluster_state(lo, kappa, start=state.order, **options)
    except SaddlePointError:
        pass
    else:
        raise ValueError(f"bracket={bracket!r}: a non-trivial X = 0 saddle point exists already at alpha={lo}")
    while hi - lo > xtol:
        mid = 0.5 * (lo + hi)
        try:
            state = cluster_state(mid, kappa, start=state.order, **options)
            hi = mid
        except SaddlePointError:
            lo = mid
    return 0.5 * (lo + hi), state
