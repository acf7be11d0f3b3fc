"""Storage capacity and basins of attraction: fixed thresholds against self-control.

Definitions used throughout (ours; the papers read them off the same m_t curves):

* retrieval: after ``steps`` time steps (layers) the overlap is at least ``m_ret``
  (default 0.5; the retrieval fixed point and the null state are far apart, so the
  result hardly depends on it);
* storage capacity α_c: the largest load α for which the dynamics started on the
  pattern (m0 = 1, q0 = a) retrieves it, found by bisection in α;
* basin boundary m_B(α): the smallest initial overlap m0 (with q0 = a) that is still
  retrieved, by bisection in m0; the basin is larger when m_B is smaller;
* best fixed threshold: the θ of a grid that maximises α_c (for capacity) or that
  minimises m_B(α) at each α (for basins), i.e. the strongest fixed-threshold baseline.

The macroscopic dynamics is the exact layered recursion (``model="layered"``) or the
approximate fully connected dynamics (``model="fully-connected"``); both are
vectorised, so a whole threshold grid is bisected at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .fully_connected import approximate_dynamics
from .layered import layered_recursion
from .sparse_hopfield import SynapticNoise, Threshold, check_activity, check_sc_variance

__all__ = [
    "final_overlap",
    "storage_capacity",
    "basin_boundary",
    "default_theta_grid",
    "best_fixed_capacity",
    "SelfControlComparison",
    "compare_thresholds",
    "max_information",
    "stationary_states",
    "stationary_capacity",
]

_MODELS: dict[str, Callable[..., Any]] = {"layered": layered_recursion, "fully-connected": approximate_dynamics}


def _model(model: str) -> Callable[..., Any]:
    try:
        return _MODELS[model]
    except KeyError:
        raise ValueError(f"model={model!r} is not valid; expected one of {sorted(_MODELS)}") from None


def final_overlap(alpha, a: float, m0=1.0, *, threshold: Threshold | np.ndarray = "self-control",
                  noise: SynapticNoise = SynapticNoise(), steps: int = 100, model: str = "layered",
                  sc_variance: str = "field", c: float | None = None) -> np.ndarray:
    """m_T after ``steps`` steps from (m0, q0 = a); broadcasts α, m0 and a numeric threshold.

    ``sc_variance`` (default ``"field"``) is the noise estimate of the self-control
    threshold, see :func:`~stochsyn.memory.sparse_hopfield.self_control_variance`;
    ``c`` its constant (default c(a) = √(−2 ln a)).
    """
    return _model(model)(alpha, a, m0, steps=steps, threshold=threshold, noise=noise, sc_variance=sc_variance, c=c).m[-1]


def storage_capacity(a: float, *, threshold: Threshold | np.ndarray = "self-control", noise: SynapticNoise = SynapticNoise(),
                     m_ret: float = 0.5, steps: int = 100, alpha_max: float = 50.0, tol: float = 1e-3,
                     model: str = "layered", sc_variance: str = "field", scan_points: int = 41,
                     c: float | None = None) -> np.ndarray | float:
    """α_c: largest α retrieving from m0 = 1 (bisection to relative precision ``tol``).

    ``threshold`` may be an array of fixed thresholds (one α_c each) or 'self-control'
    (its noise estimate chosen by ``sc_variance``, default ``"field"``, and its constant
    by ``c``, default c(a) = √(−2 ln a)). ``steps``
    (default 100) large enough to reach the stationary state (≈ 1000 near α_c) gives
    the critical capacity of the stationary retrieval state.

    The loads are first scanned on ``scan_points`` (default 41) log-spaced values in
    [1e-4, ``alpha_max``]; the bisection then brackets the upper edge of the largest
    retrieving scan point, so a threshold that fails at small loads (e.g. one blind to
    additive synaptic noise) still gets the upper edge of its retrieval window.
    Returns 0 where no scan point retrieves and ``inf`` where ``alpha_max`` does.
    """
    a = check_activity(a)
    if isinstance(scan_points, bool) or not isinstance(scan_points, (int, np.integer)) or scan_points < 2:
        raise ValueError(f"scan_points must be an integer >= 2, got {scan_points!r}")
    th = threshold if isinstance(threshold, str) else np.asarray(threshold, dtype=np.float64)
    shape = () if isinstance(th, str) else th.shape
    scan = np.geomspace(1e-4, float(alpha_max), int(scan_points))
    scan_b = scan.reshape((-1,) + (1,) * len(shape))

    def retrieved(alpha, thresholds) -> np.ndarray:
        return final_overlap(alpha, a, 1.0, threshold=thresholds, noise=noise, steps=steps, model=model,
                             sc_variance=sc_variance, c=c) >= m_ret

    ok_scan = retrieved(scan_b, th if isinstance(th, str) else th[None, ...])
    ok_scan = np.broadcast_to(ok_scan, (scan.size,) + shape)
    any_ok = ok_scan.any(axis=0)
    last = scan.size - 1 - np.argmax(ok_scan[::-1], axis=0)  # index of the largest retrieving load
    lo = scan[np.minimum(last, scan.size - 2)]
    hi = scan[np.minimum(last + 1, scan.size - 1)]
    while np.any((hi - lo) > tol * hi):
        mid = np.sqrt(lo * hi)
        ok = retrieved(mid, th)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    out = np.where(~any_ok, 0.0, np.where(last == scan.size - 1, np.inf, lo))
    return float(out) if out.ndim == 0 else out


def basin_boundary(alpha, a: float, *, threshold: Threshold | np.ndarray = "self-control", noise: SynapticNoise = SynapticNoise(),
                   m_ret: float = 0.5, steps: int = 100, tol: float = 1e-3, model: str = "layered",
                   sc_variance: str = "field") -> np.ndarray | float:
    """m_B(α): smallest initial overlap (q0 = a) that is retrieved; ``nan`` where m0 = 1 fails.

    Broadcasts ``alpha`` with an array ``threshold``; ``sc_variance`` as in
    :func:`storage_capacity`. Assumes retrieval is monotone in m0.
    """
    a = check_activity(a)
    th = threshold if isinstance(threshold, str) else np.asarray(threshold, dtype=np.float64)
    shape = np.broadcast_shapes(np.shape(alpha), () if isinstance(th, str) else th.shape)
    al = np.broadcast_to(np.asarray(alpha, dtype=np.float64), shape)
    lo = np.zeros(shape)
    hi = np.ones(shape)

    def retrieved(m0: np.ndarray) -> np.ndarray:
        return final_overlap(al, a, m0, threshold=th, noise=noise, steps=steps, model=model,
                             sc_variance=sc_variance) >= m_ret

    ok_one = retrieved(hi)
    ok_zero = retrieved(np.full(shape, 1e-6))
    while np.any(hi - lo > tol):
        mid = 0.5 * (lo + hi)
        ok = retrieved(mid)
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    out = np.where(ok_one, np.where(ok_zero, 0.0, hi), np.nan)
    return float(out) if out.ndim == 0 else out


def default_theta_grid(a: float, points: int = 81) -> np.ndarray:
    """Fixed thresholds to scan: θ ∈ [0, 1 − a) (a neuron with ξ = 1 gets signal (1−a)m)."""
    return np.linspace(0.0, 1.0 - a, points, endpoint=False)


@dataclass
class SelfControlComparison:
    """Capacity and basin boundaries with self-control and with the best fixed threshold."""

    a: float
    noise: SynapticNoise
    model: str
    capacity_self_control: float
    capacity_best_fixed: float
    theta_best_capacity: float
    alphas: np.ndarray
    basin_self_control: np.ndarray
    basin_best_fixed: np.ndarray
    theta_best_basin: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """One row per α of the basin comparison (capacities repeated), for tables/CSV."""
        out = []
        for k, al in enumerate(self.alphas):
            out.append(dict(a=self.a, noise=self.noise.kind, delta=self.noise.delta, model=self.model,
                            sc_variance=self.params.get("sc_variance", "field"), steps=self.params.get("steps"),
                            alpha_c_self_control=self.capacity_self_control, alpha_c_best_fixed=self.capacity_best_fixed,
                            theta_best_capacity=self.theta_best_capacity, alpha=float(al),
                            basin_m0_self_control=float(self.basin_self_control[k]),
                            basin_m0_best_fixed=float(self.basin_best_fixed[k]),
                            theta_best_basin=float(self.theta_best_basin[k])))
        return out


def best_fixed_capacity(a: float, *, noise: SynapticNoise = SynapticNoise(), theta_grid: np.ndarray | None = None,
                        refine_points: int = 201, m_ret: float = 0.5, steps: int = 100, tol: float = 1e-5,
                        model: str = "layered") -> tuple[float, float]:
    """(α_c, θ*) of the fixed threshold with the largest storage capacity.

    Scans ``theta_grid`` (default :func:`default_theta_grid`), then ``refine_points``
    (default 201; 0 = no refinement) evenly spaced thresholds between the grid
    neighbours two steps either side of the best one, so the baseline is the
    strongest fixed threshold to well below the grid spacing. ``tol`` (default 1e-5)
    is the relative precision of each α_c.
    """
    a = check_activity(a)
    grid = default_theta_grid(a) if theta_grid is None else np.asarray(theta_grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 1:
        raise ValueError(f"theta_grid must be a non-empty 1-d array, got shape {grid.shape}")
    if isinstance(refine_points, bool) or not isinstance(refine_points, (int, np.integer)) or refine_points < 0:
        raise ValueError(f"refine_points must be an integer >= 0, got {refine_points!r}")
    kw = dict(noise=noise, m_ret=m_ret, steps=steps, tol=tol, model=model)
    caps = np.atleast_1d(storage_capacity(a, threshold=grid, **kw))
    k = int(np.argmax(caps))
    best_cap, best_theta = float(caps[k]), float(grid[k])
    if refine_points > 1 and grid.size > 1:
        fine = np.linspace(grid[max(k - 2, 0)], grid[min(k + 2, grid.size - 1)], int(refine_points))
        caps_f = np.atleast_1d(storage_capacity(a, threshold=fine, **kw))
        kf = int(np.argmax(caps_f))
        if caps_f[kf] > best_cap:
            best_cap, best_theta = float(caps_f[kf]), float(fine[kf])
    return best_cap, best_theta


def compare_thresholds(a: float, *, noise: SynapticNoise = SynapticNoise(), alphas: np.ndarray | None = None,
                       theta_grid: np.ndarray | None = None, m_ret: float = 0.5, steps: int = 100,
                       model: str = "layered", sc_variance: str = "field", tol: float = 1e-5,
                       refine_points: int = 201) -> SelfControlComparison:
    """Self-control against the best fixed threshold (:func:`best_fixed_capacity`).

    ``theta_grid`` defaults to :func:`default_theta_grid`; the capacity-optimal θ is
    refined on ``refine_points`` (default 201) thresholds around the best grid point,
    and capacities are bisected to relative precision ``tol`` (default 1e-5).
    ``alphas`` (default: 0.2, 0.4, 0.6, 0.8 × the best fixed-threshold capacity) are the
    loads at which basins are compared; there the best fixed θ of the grid is chosen
    separately for each α. A basin boundary of ``nan`` means no retrieval.
    ``sc_variance`` (default ``"field"``) selects the self-control noise estimate.
    """
    a = check_activity(a)
    sc_variance = check_sc_variance(sc_variance)
    grid = default_theta_grid(a) if theta_grid is None else np.asarray(theta_grid, dtype=np.float64)
    cap_sc = storage_capacity(a, threshold="self-control", noise=noise, m_ret=m_ret, steps=steps, model=model,
                              sc_variance=sc_variance, tol=tol)
    cap_fx, theta_fx = best_fixed_capacity(a, noise=noise, theta_grid=grid, refine_points=refine_points, m_ret=m_ret,
                                           steps=steps, tol=tol, model=model)
    if alphas is None:
        alphas = np.array([0.2, 0.4, 0.6, 0.8]) * cap_fx
    alphas = np.asarray(alphas, dtype=np.float64)
    b_sc = np.atleast_1d(basin_boundary(alphas, a, threshold="self-control", noise=noise, m_ret=m_ret, steps=steps, model=model,
                                        sc_variance=sc_variance))
    b_fx = np.asarray(basin_boundary(alphas[:, None], a, threshold=grid[None, :], noise=noise, m_ret=m_ret, steps=steps, model=model))
    filled = np.where(np.isnan(b_fx), np.inf, b_fx)
    kb = np.argmin(filled, axis=1)
    best = filled[np.arange(alphas.size), kb]
    best = np.where(np.isinf(best), np.nan, best)
    return SelfControlComparison(
        a=a, noise=noise, model=model, capacity_self_control=float(cap_sc), capacity_best_fixed=cap_fx,
        theta_best_capacity=theta_fx, alphas=alphas, basin_self_control=b_sc, basin_best_fixed=best,
        theta_best_basin=grid[kb],
        params=dict(m_ret=m_ret, steps=steps, grid_points=int(grid.size), refine_points=int(refine_points), tol=tol,
                    sc_variance=sc_variance),
    )


def stationary_states(a: float, s: np.ndarray, k: np.ndarray, *, noise: SynapticNoise = SynapticNoise()) -> dict[str, np.ndarray]:
    """Fixed points of the layered recursion, parametrised by s = m/√V and k = θ/√V.

    At a fixed point (m, q, D) of :func:`~stochsyn.memory.layered.layered_recursion`
    with V = D + V_syn(q): x1 = (1−a)s − k, x0 = −as − k, m = Φ(x1) − Φ(x0),
    q = aΦ(x1) + (1−a)Φ(x0), χ√V = g = aφ(x1) + (1−a)φ(x0), D = α q/(1 − χ²) and
    V = m²/s², which fixes the load:

    * no noise:        α = (m²/s² − g²)/q;
    * additive:        α = (m²/s² − Δ²q)(1 − g²s²/m²)/q;
    * multiplicative:  α = (m²/s²) / (q [1/(1 − g²s²/m²) + Δ²]).

    Returns arrays (broadcast of ``s`` and ``k``) ``alpha``, ``m``, ``q``, ``theta`` (= k m/s);
    ``alpha`` is ``nan`` where no positive load solves the equations. Stability is not
    checked: these are all stationary solutions, stable or not.
    """
    from scipy.special import ndtr

    a = check_activity(a)
    s = np.asarray(s, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    x1, x0 = (1 - a) * s - k, -a * s - k
    p1, p0 = ndtr(x1), ndtr(x0)
    m, q = p1 - p0, a * p1 + (1 - a) * p0
    g = (a * np.exp(-0.5 * x1 * x1) + (1 - a) * np.exp(-0.5 * x0 * x0)) / np.sqrt(2 * np.pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = m * m / (s * s)
        one_minus_chi2 = 1.0 - g * g / v
        if not noise.active:
            alpha = (v - g * g) / q
        elif noise.kind == "additive":
            alpha = (v - noise.delta**2 * q) * one_minus_chi2 / q
        else:
            alpha = v / (q * (1.0 / one_minus_chi2 + noise.delta**2))
        valid = (m > 0) & (one_minus_chi2 > 0) & (alpha > 0) & np.isfinite(alpha)
        theta = k * m / s
    return dict(alpha=np.where(valid, alpha, np.nan), m=m, q=q, theta=theta)


def stationary_capacity(a: float, *, rule: str = "self-control", noise: SynapticNoise = SynapticNoise(),
                        m_ret: float = 0.5, c: float | None = None) -> dict[str, float]:
    """Critical capacity from the stationary equations of the layered network (no dynamics).

    The largest α at which a stationary solution with m ≥ ``m_ret`` (default 0.5)
    exists (:func:`stationary_states`), stable or not:

    * ``rule="self-control"``: θ = c√V with c = ``c`` (default c(a) = √(−2 ln a)),
      the ``sc_variance="field"`` threshold, i.e. k = c;
    * ``rule="best-fixed"``: any θ, i.e. the envelope over all (s, k). Every stationary
      state of any self-control rule is one of a fixed threshold θ = c√V*, so this
      envelope bounds the stationary capacity of every threshold rule.

    A dense (s, k) grid is polished by Nelder–Mead. Returns ``alpha_c``, and the
    ``m``, ``q``, ``theta``, ``s``, ``k`` of the maximising solution.
    """
    from scipy.optimize import minimize

    from .sparse_hopfield import self_control_c

    a = check_activity(a)
    if rule not in ("self-control", "best-fixed"):
        raise ValueError(f"rule={rule!r} is not valid; expected 'self-control' or 'best-fixed'")
    cc = self_control_c(a) if c is None else float(c)

    def alpha_of(s, k):
        st = stationary_states(a, s, k, noise=noise)
        return np.where(st["m"] >= m_ret, st["alpha"], np.nan), st

    s_grid = np.linspace(0.2, 40.0, 4000)
    if rule == "self-control":
        al, _ = alpha_of(s_grid, cc)
        j = int(np.nanargmax(al))
        x0 = np.array([s_grid[j]])
        fun = lambda x: -float(np.nan_to_num(alpha_of(x[0], cc)[0], nan=0.0))  # noqa: E731
    else:
        k_grid = np.linspace(0.0, 6.0, 1201)
        al, _ = alpha_of(s_grid[:, None], k_grid[None, :])
        i, j = np.unravel_index(int(np.nanargmax(al)), al.shape)
        x0 = np.array([s_grid[i], k_grid[j]])
        fun = lambda x: -float(np.nan_to_num(alpha_of(x[0], x[1])[0], nan=0.0))  # noqa: E731
    res = minimize(fun, x0, method="Nelder-Mead", options=dict(xatol=1e-9, fatol=1e-12, maxiter=4000))
    x = res.x if -res.fun >= -fun(x0) else x0
    s_best = float(x[0])
    k_best = cc if rule == "self-control" else float(x[1])
    al, st = alpha_of(s_best, k_best)
    return dict(alpha_c=float(al), m=float(st["m"]), q=float(st["q"]), theta=float(st["theta"]), s=s_best, k=k_best)


def max_information(a: float, *, threshold: Threshold | np.ndarray = "self-control", noise: SynapticNoise = SynapticNoise(),
                    alphas: np.ndarray | None = None, steps: int = 100, model: str = "layered",
                    sc_variance: str = "field") -> tuple[np.ndarray, np.ndarray]:
    """Largest information per synapse i = α I(m_T, q_T; a) over a grid of loads, retrieval from m0 = 1.

    ``alphas`` defaults to 400 log-spaced loads in [0.01, 20]. Returns (i_max, α at the
    maximum), one entry per threshold (scalars for self-control). This is the figure of
    merit the self-control papers emphasise next to capacity and basins.
    """
    from .information import information_per_synapse

    a = check_activity(a)
    grid = np.geomspace(0.01, 20.0, 400) if alphas is None else np.asarray(alphas, dtype=np.float64)
    th = threshold if isinstance(threshold, str) else np.asarray(threshold, dtype=np.float64)[None, :]
    al = grid[:, None] if not isinstance(th, str) else grid
    tr = _model(model)(al, a, 1.0, steps=steps, threshold=th, noise=noise, sc_variance=sc_variance)
    info = np.asarray(information_per_synapse(al, tr.m[-1], tr.q[-1], a))
    k = np.argmax(info, axis=0)
    if isinstance(th, str):
        return np.float64(info[k]), np.float64(grid[k])
    return info[k, np.arange(info.shape[1])], grid[k]
