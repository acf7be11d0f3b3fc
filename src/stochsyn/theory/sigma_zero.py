"""Dense regions that exist: the large-deviation measure at the y* where the external entropy vanishes.

Baldassi et al., PRL 115, 128101 (2015), arXiv:1509.05753 (measure);
docs/theory.md §7b (this construction). In Z(y, d) = Σ_W̃ N(W̃, d)^y the
references that dominate at replica number y have local entropy S_I(y) = ∂Φ/∂y
and number e^{N Σ(y)}, Σ = Φ − y S_I. Σ(y) decreases with y (dΣ/dy = −y dS_I/dy,
S_I increasing), so the y → ∞ values of :mod:`stochsyn.theory.dense_limit`,
where Σ < 0, describe references that do not exist in a typical instance; the
densest regions that do exist sit at the y* with Σ(y*) = 0, and

    S*(d) = S_I(y*(d), d) = Φ(y*, d)/y* = min_y Φ(y, d)/y,

because d(Φ/y)/dy = −Σ/y² changes sign from − to + at y*. Two consequences
used below: S* is insensitive to an error δy in y* (second order), and, by the
envelope theorem (∂Φ/∂S = −y Ŝ, S = 1 − 2d),

    dS*/dd = 2 Ŝ(y*, d)

along any smooth branch of Σ = 0 saddle points: the local entropy of the
existing densest regions stops increasing exactly where the field Ŝ that holds
the replicas at overlap S with their reference reaches 0.

Free reference (the functional of :mod:`stochsyn.theory.large_y`, real y): its
entropic term is even in Ŝ and convex, so the overlap S has the sign of Ŝ and
Ŝ > 0 at every S > 0 — S* is strictly increasing on every branch, and a break-up
can only show as a branch that ends. Reference constrained to be a solution
(the measure of PRL 115, 128101): the reference's own constraints enter the
energetic term only. At the free saddle point the reference violates a fraction
P_viol of the patterns (its stability λ̃ under the tilted measure of its group,
below); to first order in this small violation the constrained functional is

    Φ_c(y) = Φ(y) + α E_{c̃,c} ln P(λ̃ > κ | c̃, c; group tilted by H(x)^y),

with (c̃, c) Gaussian of covariance [[Q, t], [t, q0]], Q = E_z⟨w̃⟩², t =
E_z⟨w̃⟩⟨m⟩ (free-reference averages), λ̃ = c̃ + √(1−Q) ũ, the replicas' common
part ρũ + σ_w w, ρ = (S − t)/√(1−Q), σ_w² = q1 − q0 − ρ², and the group's
weight ∫Dw H((κ − c − ρũ − σ_w w)/√(1−q1))^y. Since Φ/y is stationary at y*,
S*_c = S* + ΔΦ(y*)/y* to the same order. Everything here is replica symmetric
over the groups (RS; the y replicas of a group form a 1RSB-like block with
Parisi parameter y, but no further breaking is computed).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from scipy.optimize import brentq
from scipy.special import logsumexp

from .. import validation as V
from .gaussian import gauss_hermite, log_H, truncated_normal_nodes
from .large_y import _SIGNS, LargeYModel, local_entropy_free_reference_y
from .saddle import SaddlePointError

__all__ = ["SigmaZeroBreakup", "SigmaZeroPoint", "sigma_zero_breakup_alpha", "sigma_zero_curve", "sigma_zero_point",
           "reference_constraint"]


@dataclass(frozen=True)
class SigmaZeroPoint:
    """The Σ = 0 saddle point at one (α, d).

    ``y_star``: the y with Σ(y) = 0; ``local_entropy``: S* = Φ(y*)/y*;
    ``Shat``: Ŝ at y* (dS*/dd = 2Ŝ); ``order``: the free-reference order
    parameters at y*; ``p_viol``: fraction of patterns the reference violates
    there; ``constrained_local_entropy``: S*_c = S* + ΔΦ(y*)/y* (first order in
    the violation); ``Q``, ``t``: the reference's overlaps used for it;
    ``branch``: in a :func:`sigma_zero_curve`, which continued branch (0 from the
    largest d) the point lies on.
    """

    alpha: float
    kappa: float
    d: float
    y_star: float
    local_entropy: float
    Shat: float
    order: dict
    p_viol: float
    constrained_local_entropy: float
    Q: float
    t: float
    evaluations: int = field(default=0, repr=False)
    branch: int = 0

    @property
    def entropy(self) -> float:
        """Alias of ``local_entropy`` (the name the other theory curves use)."""
        return self.local_entropy

    def as_dict(self) -> dict:
        """JSON-friendly summary."""
        return {"alpha": self.alpha, "kappa": self.kappa, "d": self.d, "y_star": self.y_star,
                "local_entropy": self.local_entropy, "Shat": self.Shat, "p_viol": self.p_viol,
                "constrained_local_entropy": self.constrained_local_entropy, "Q": self.Q, "t": self.t,
                "branch": self.branch, "order": dict(self.order)}


def _reference_overlaps(mdl: LargeYModel, o: dict) -> tuple[float, float]:
    """Q = E_z⟨w̃⟩², t = E_z⟨w̃⟩⟨m⟩ under the free-reference group weights (module docstring)."""
    arg, ex, lz, _ = mdl.group_weights(o["Shat"], o["qhat1"], o["qhat0"], mdl.y)
    p = np.exp(ex - lz[:, None, None])
    wt = np.sum(p * _SIGNS[None, :, None], axis=(1, 2))
    mbar = np.sum(p * np.tanh(arg), axis=(1, 2))
    return float(np.sum(mdl.wz * wt * wt)), float(np.sum(mdl.wz * wt * mbar))


def reference_constraint(alpha: float, kappa: float, S: float, y: float, Q: float, t: float, q1: float, q0: float,
                         *, n_outer: int = 48, n_w: int = 81, n_panel: int = 12) -> tuple[float, float]:
    """(P_viol, ΔG) for the reference of a free-reference saddle point (module docstring).

    P_viol = E_{c̃,c} P(λ̃ < κ | c̃, c), ΔG = E_{c̃,c} ln P(λ̃ > κ | c̃, c), both under
    the group's tilt H(x)^y; ΔΦ = α ΔG. Numerator and denominator use the same
    nodes (ũ split at the reference's threshold, each side by the truncated-normal
    rule; w by Gauss–Hermite), so the quadrature error cancels in the ratio.
    """
    zc, wc = gauss_hermite(n_outer)
    xw, ww = gauss_hermite(n_w)
    c_ref = math.sqrt(Q) * zc[:, None]
    c_rep = (t / math.sqrt(Q)) * zc[:, None] + math.sqrt(max(q0 - t * t / Q, 0.0)) * zc[None, :]
    w2 = wc[:, None] * wc[None, :]
    sq = math.sqrt(1.0 - Q)
    tau = np.broadcast_to((kappa - c_ref) / sq, w2.shape)
    rho = (S - t) / sq
    sw = math.sqrt(max(q1 - q0 - rho * rho, 0.0))
    s = math.sqrt(1.0 - q1)
    lw = np.log(ww)

    def side(u, wu, log_mass):
        x = (kappa - c_rep[..., None, None] - rho * u[..., None] - sw * xw) / s
        with np.errstate(divide="ignore"):  # nodes far in the tail have weight exactly 0: log 0 = −inf is right
            lwu = np.log(wu)
        return log_mass + logsumexp(y * log_H(x) + lwu[..., None] + lw, axis=(-2, -1))

    ua, wa = truncated_normal_nodes(tau, n_per_panel=n_panel)       # ũ > τ: the reference satisfies
    ub, wb = truncated_normal_nodes(-tau, n_per_panel=n_panel)      # ũ < τ, as −ũ > −τ
    la = side(ua, wa, log_H(tau))
    lb = side(-ub, wb, log_H(-tau))
    lt = np.logaddexp(la, lb)
    return float(np.sum(w2 * np.exp(lb - lt))), float(np.sum(w2 * (la - lt)))


def _state(alpha, d, y, kappa, start, options, fallback=True):
    return local_entropy_free_reference_y(alpha, d, y, kappa, start=start, fallback=fallback, **options)


class _Branch:
    """Free-reference saddle points at one (α, d) followed in y along one branch.

    A value at a new y is continued from the nearest solved y in steps of at most
    ``max_step``; a solution whose q1 moves by more than ``max_jump`` from its
    start has jumped to another saddle point (at α ≈ 0.76, d = 0.025 a second
    branch with q1 ≈ 0.994 sits next to the dense one) and is refused.
    """

    def __init__(self, alpha, d, kappa, options, max_step=0.75, max_jump=0.02):
        self.alpha, self.d, self.kappa, self.options = alpha, d, kappa, options
        self.max_step, self.max_jump = max_step, max_jump
        self.solved: dict[float, Any] = {}

    def first(self, y, start, fallback=True):
        self.solved[y] = _state(self.alpha, self.d, y, self.kappa, start, self.options, fallback)
        return self.solved[y]

    def at(self, y):
        if y in self.solved:
            return self.solved[y]
        near = min(self.solved, key=lambda v: abs(v - y))
        n = max(1, math.ceil(abs(y - near) / self.max_step))
        for yk in np.linspace(near, y, n + 1)[1:]:
            prev = self.solved[near]
            r = _state(self.alpha, self.d, float(yk), self.kappa, prev.order, self.options, False)
            if abs(r.order["q1"] - prev.order["q1"]) > self.max_jump:
                raise SaddlePointError(f"sigma_zero_point(alpha={self.alpha}, d={self.d}): the saddle point "
                                       f"jumped branch between y = {near:.4g} and {yk:.4g} (q1 "
                                       f"{prev.order['q1']:.4f} -> {r.order['q1']:.4f})", r.report)
            near = float(yk)
            self.solved[near] = r
        self.solved[y] = self.solved[near]
        return self.solved[y]


def sigma_zero_point(alpha: float, d: float, kappa: float = 0.0, *, y_bracket: tuple[float, float] = (3.0, 40.0),
                     y_guess: float | None = None, start: dict | None = None, ytol: float = 1e-3,
                     n_panel: int = 6, du: float | None = 0.04, n_gh: int = 121) -> SigmaZeroPoint:
    """Σ(y*) = 0 saddle point of the free-reference large deviations at distance d, RS.

    Module docstring for the construction. y* by Brent's method on Σ(y) (each
    evaluation a :func:`~stochsyn.theory.large_y.local_entropy_free_reference_y`
    solve, warm-started from the nearest converged y), then S* = Φ/y*, Ŝ, the
    reference's violation fraction and the first-order constrained S*_c.

    Parameters
    ----------
    alpha : load (> 0). d : distance in (0, 1/2). kappa : margin (default 0).
    y_bracket : range searched for y* (default (3, 40)); the search walks from
        the guess in growing steps towards the sign change of Σ, halving the step
        where a probe does not converge.
    y_guess : first y tried (default: ``start["y"]`` or 10).
    start : order parameters of a nearby saddle point (e.g. a previous point's
        ``order``, or {q1, q0 = q1 − δq/y, Shat = X, y} from
        :func:`stochsyn.theory.dense_limit.local_entropy_max`); default the
        y → ∞ solution at this (α, d).
    ytol : tolerance on y* (default 1e-3; S* is second order in it).
    n_panel, du, n_gh : quadrature of the finite-y functional (defaults 6, 0.04,
        121: S_I and Σ agree with n_panel=10, du=0.02 to 1e-7 at α = 0.76, d = 0.03, y = 7).

    Raises :class:`SaddlePointError` when Σ has no sign change that can be reached.
    """
    alpha = V.real("alpha", alpha, lo=0.0, lo_open=True)
    d = V.real("d", d, lo=0.0, hi=0.5, lo_open=True, hi_open=True)
    kappa = V.real("kappa", kappa)
    lo_y, hi_y = (V.real("y_bracket", b, lo=1.0, lo_open=True) for b in y_bracket)
    if not lo_y < hi_y:
        raise ValueError(f"y_bracket={y_bracket!r}: expected low < high")
    ytol = V.real("ytol", ytol, lo=0.0, lo_open=True)
    options = {"n_panel": n_panel, "du": du, "n_gh": n_gh}
    if start is None:
        from .dense_limit import local_entropy_max

        y0 = float(y_guess) if y_guess is not None else 10.0
        lim = local_entropy_max(alpha, d, kappa).order
        start = {"q1": lim["q1"], "q0": lim["q1"] - lim["dq"] / y0, "Shat": lim["X"], "y": y0}
    y0 = float(y_guess if y_guess is not None else start.get("y", 10.0))
    y0 = min(max(y0, lo_y), hi_y)
    branch = _Branch(alpha, d, kappa, options)
    s0 = branch.first(y0, start).external_entropy
    # walk from the guess towards the sign change (Σ decreases with y), in growing steps
    # (small first steps: at α ≈ 0.76, d ≈ 0.015 the branch folds ~0.8 below y*)
    step, ya, sa = 0.05 * y0, y0, s0
    while True:
        yb = min(max(ya + step if sa > 0 else ya - step, lo_y), hi_y)
        if yb == ya:
            raise SaddlePointError(f"sigma_zero_point(alpha={alpha}, d={d}): Σ(y) keeps the sign of "
                                   f"{sa:+.3g} on y_bracket={y_bracket}", None)  # type: ignore[arg-type]
        try:
            sb = branch.at(yb).external_entropy
        except SaddlePointError:
            step *= 0.5
            if step < 1e-3 * y0:
                raise
            continue
        if sa * sb <= 0:
            break
        ya, sa, step = yb, sb, 1.6 * step
    y_star = float(brentq(lambda v: branch.at(v).external_entropy, min(ya, yb), max(ya, yb), xtol=ytol))
    r = branch.at(y_star)
    o = dict(r.order)
    mdl = LargeYModel(alpha, kappa, 1.0 - 2.0 * d, y_star, n_panel=n_panel, du=du, n_gh=n_gh)
    Q, t = _reference_overlaps(mdl, o)
    p_viol, dG = reference_constraint(alpha, kappa, 1.0 - 2.0 * d, y_star, Q, t, o["q1"], o["q0"])
    s_star = r.free_entropy / y_star
    return SigmaZeroPoint(alpha, kappa, d, y_star, s_star, float(o["Shat"]), o, p_viol,
                          s_star + alpha * dG / y_star, Q, t, len(branch.solved))


def _follow_in_d(prev: SigmaZeroPoint, d: float, options: dict, slope: float = 0.0, max_step: float = 5e-4,
                 max_jump: float = 0.01) -> dict:
    """Continue ``prev``'s saddle point to distance ``d`` in small steps, near the Σ = 0 line.

    Along the way y follows the predictor y* + slope·(d − d_prev) (``slope``: dy*/dd
    from the previous two points of the curve), so the path stays close to Σ = 0.

    Returns the order parameters at ``d`` on the same branch; raises
    :class:`SaddlePointError` where the branch ends (no convergence, or q1 jumps by
    more than ``max_jump`` in one step: the continuation fell onto another branch).
    """
    quad = {k: options[k] for k in ("n_panel", "du", "n_gh") if k in options}
    quad = {"n_panel": 6, "du": 0.04, "n_gh": 121} | quad
    o = prev.order
    n = max(1, math.ceil(abs(d - prev.d) / max_step))
    for dk in np.linspace(prev.d, d, n + 1)[1:]:
        yk = max(prev.y_star + slope * (float(dk) - prev.d), 1.0 + 1e-6)
        r = local_entropy_free_reference_y(prev.alpha, float(dk), yk, prev.kappa, start=o, fallback=False, **quad)
        if abs(r.order["q1"] - o["q1"]) > max_jump:
            raise SaddlePointError(f"the Σ = 0 branch of alpha={prev.alpha} ends between d = {prev.d:g} and {d:g} "
                                   f"(q1 {o['q1']:.4f} -> {r.order['q1']:.4f} at d = {dk:.5g})", r.report)  # type: ignore[arg-type]
        o = r.order
    return o


def sigma_zero_curve(alpha: float, d, kappa: float = 0.0, *, progress: Callable[[SigmaZeroPoint | None], Any] | None = None,
                     **options: Any) -> list[SigmaZeroPoint | None]:
    """:func:`sigma_zero_point` along the distances ``d``, continued from the largest down.

    From one distance to the next the saddle point is first followed at fixed y
    in steps of 5e-4 in d (:func:`_follow_in_d`), then y* is found from there. Where
    the followed branch ends, the next point is started afresh (from the y → ∞
    solution) and counts as a new branch: ``SigmaZeroPoint.branch`` numbers them
    0, 1, … from the largest d. Returns one entry per distance in the given
    order, ``None`` where no Σ = 0 saddle point was found.
    """
    ds = [V.real("d", v, lo=0.0, hi=0.5, lo_open=True, hi_open=True) for v in np.atleast_1d(d).tolist()]
    out: dict[float, SigmaZeroPoint | None] = {}
    prev: SigmaZeroPoint | None = None
    before: SigmaZeroPoint | None = None  # the point before prev on the same branch (for dy*/dd)
    branch = 0
    for dv in sorted(ds, reverse=True):
        kw = dict(options)
        if prev is not None:
            slope = (prev.y_star - before.y_star) / (prev.d - before.d) if before is not None else 0.0
            try:
                kw["start"] = _follow_in_d(prev, dv, options, slope)
                kw["y_guess"] = prev.y_star + slope * (dv - prev.d)
            except SaddlePointError:
                branch += 1
                kw.pop("start", None)
                kw["y_guess"] = prev.y_star
                before = prev = None
        try:
            p = dataclasses.replace(sigma_zero_point(alpha, dv, kappa, **kw), branch=branch)
            before, prev = (prev if prev is not None and prev.branch == branch else None), p
            out[dv] = p
        except SaddlePointError:
            out[dv] = None
            if prev is not None:
                branch, prev, before = branch + 1, None, None
        if progress is not None:
            progress(out[dv])
    return [out[dv] for dv in ds]


@dataclass(frozen=True)
class SigmaZeroBreakup:
    """Outcome of :func:`sigma_zero_breakup_alpha`.

    ``bracket``: (largest α whose Σ = 0 curve is intact on ``d_range``, smallest α
    whose curve is not); ``alpha``: its midpoint; ``steps``: per probe (α, intact,
    reason, min Ŝ on the curve, min slope of S*_c); ``curves``: α → list of
    :class:`SigmaZeroPoint` (None where the branch was lost).
    """

    alpha: float
    bracket: tuple[float, float]
    kappa: float
    d_range: tuple[float, float]
    steps: tuple = field(default=())
    curves: dict = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        """JSON-friendly summary (curves as lists of point dicts)."""
        return {"alpha": self.alpha, "bracket": list(self.bracket), "kappa": self.kappa,
                "d_range": list(self.d_range), "steps": [list(s) for s in self.steps],
                "curves": {f"{a:g}": [p.as_dict() if p is not None else None for p in c]
                           for a, c in self.curves.items()}}


def _intact(curve: list[SigmaZeroPoint | None], ds: np.ndarray) -> tuple[bool, str, float, float]:
    """Whether a Σ = 0 curve is one branch with S*_c increasing in d: (intact, reason, min Ŝ, min slope)."""
    if any(p is None for p in curve):
        lost = [float(dv) for p, dv in zip(curve, ds) if p is None]
        return False, f"no Σ = 0 saddle point on the branch at d = {lost[-1]:g}", math.nan, math.nan
    split = [float(dv) for p, dv in zip(curve, ds) if p.branch > 0]  # type: ignore[union-attr]
    if split:
        return (False, f"the branch from large d ends above d = {split[-1]:g}",
                float(min(p.Shat for p in curve)), math.nan)  # type: ignore[union-attr]
    sc = np.array([p.constrained_local_entropy for p in curve])  # type: ignore[union-attr]
    slopes = np.diff(sc) / np.diff(ds)
    min_sh = min(p.Shat for p in curve)  # type: ignore[union-attr]
    if np.any(slopes <= 0):
        i = int(np.argmin(slopes))
        return False, f"S*_c decreases between d = {ds[i]:g} and {ds[i + 1]:g}", float(min_sh), float(slopes[i])
    return True, "", float(min_sh), float(np.min(slopes))


def sigma_zero_breakup_alpha(kappa: float = 0.0, *, bracket: tuple[float, float] = (0.75, 0.78),
                             xtol: float = 2.5e-3, d_range: tuple[float, float] = (0.0125, 0.06), n_grid: int = 20,
                             progress: Callable[[dict], Any] | None = None, **options: Any) -> SigmaZeroBreakup:
    """The load beyond which the Σ = 0 local entropy S*_c(d) stops being one increasing curve.

    For each probed α the curve of :func:`sigma_zero_curve` is computed on
    ``n_grid`` distances of ``d_range`` (continued from the largest d down, the
    first point continued in α from the previous probe's); the curve is intact
    if every distance has a Σ = 0 saddle point on the continued branch and the
    reference-constrained S*_c increases with d (module docstring). Bisection on
    "intact" from ``bracket`` until it is narrower than ``xtol``.

    Parameters
    ----------
    kappa : margin (default 0).
    bracket : (α intact, α broken) to start from (default (0.75, 0.78); both checked).
    xtol : width of the final bracket (default 2.5e-3).
    d_range, n_grid : distances probed (defaults (0.0125, 0.06), 20: a step of 0.0025).
    progress : optional callable(step_dict) after each probe.
    options : passed to :func:`sigma_zero_point` (quadrature, ``ytol``).
    """
    kappa = V.real("kappa", kappa)
    xtol = V.real("xtol", xtol, lo=0.0, lo_open=True)
    lo, hi = (float(b) for b in bracket)
    if not 0 < lo < hi:
        raise ValueError(f"bracket={bracket!r}: expected 0 < low < high")
    d_lo, d_hi = (V.real("d_range", v, lo=0.0, hi=0.5, lo_open=True, hi_open=True) for v in d_range)
    if not d_lo < d_hi:
        raise ValueError(f"d_range={d_range!r}: expected low < high")
    ds = np.linspace(d_lo, d_hi, V.count("n_grid", n_grid, lo=3))
    steps: list[tuple] = []
    curves: dict[float, list] = {}
    anchors: dict[float, SigmaZeroPoint] = {}  # α → its point at the largest d (start of the next probe)

    def probe(a: float) -> bool:
        kw = dict(options)
        if anchors:
            near = anchors[min(anchors, key=lambda v: abs(v - a))]
            kw.update(start=near.order, y_guess=near.y_star)
        curve = sigma_zero_curve(a, ds, kappa, **kw)
        curves[a] = curve
        if curve[-1] is not None:
            anchors[a] = curve[-1]
        ok, why, min_sh, min_slope = _intact(curve, ds)
        steps.append((a, ok, why, min_sh, min_slope))
        if progress is not None:
            progress({"alpha": a, "intact": ok, "reason": why, "min_Shat": min_sh, "min_slope": min_slope})
        return ok

    if not probe(lo):
        raise ValueError(f"bracket={bracket!r}: the Σ = 0 curve is already broken at alpha={lo} ({steps[-1][2]})")
    if probe(hi):
        raise ValueError(f"bracket={bracket!r}: the Σ = 0 curve is still intact at alpha={hi}")
    while hi - lo > xtol:
        mid = 0.5 * (lo + hi)
        if probe(mid):
            lo = mid
        else:
            hi = mid
    return SigmaZeroBreakup(0.5 * (lo + hi), (lo, hi), kappa, (d_lo, d_hi), tuple(steps), curves)
